// How good a model's predictions were once their late labels arrive: classification and regression metrics,
// ROC AUC, calibration, per-slice metrics and label counts, with scikit-learn's definitions. Pure and JSON-safe:
// a value that is undefined on the data (a rate over nothing) is null, never NaN or Infinity.
//
// Decisions that sklearn leaves to warnings or errors:
// - Labels compare by a canonical string (labelKey): numbers as String(n), so 1, 1.0 and "1" are one class;
//   booleans as "1"/"0", so true matches 1 and "1" as in Python (True == 1); strings exactly as given, so
//   "true", "1.0" and " 1" are classes of their own.
// - Empty input: count 0 and every metric null.
// - Precision with no predicted positive, recall with no actual positive, a per-class score in the macro
//   average with nothing to divide by: 0, which is what sklearn returns under its default zero_division="warn".
// - Scores are the probability of the positive class and must lie in [0, 1]: one outside (a logit, a
//   percentage) throws, as sklearn's calibration_curve does, rather than being clamped into a wrong ECE.
//   Records without a score are left out of roc_auc and ece only; `scored` says how many had one.

export type Task = 'classification' | 'regression';

/** A class label or regression value as it arrives from feedback (JSON may carry booleans). */
export type LabelValue = string | number | boolean;

export interface LabelledRecord {
  /** Predicted label (classification) or value (regression). */
  prediction: LabelValue;
  /** Ground truth. */
  label: LabelValue;
  /** The classifier's probability of the positive class, in [0, 1], when known; null is the same as absent. */
  score?: number | null | undefined;
  /** Slice attributes (input fields or headers), as strings. */
  slice?: Readonly<Record<string, string>> | undefined;
}

export interface ClassificationOptions {
  /** The positive class, compared through labelKey (1, "1" and true are the same class). */
  positive: LabelValue;
  /** Calibration bins for ece; default 10. */
  bins?: number;
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * Metrics of the positive class (one against the rest when there are more than two classes), plus macro
 * averages over every class seen in labels or predictions (sklearn's average='macro' over unique_labels). The
 * macro fields are always present, so the shape does not change with the data; on two classes they are the
 * mean of both classes' scores.
 */
export interface ClassificationMetrics {
  count: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  /** Over the records with a score; null when none has one or the scored records hold a single class. */
  roc_auc: number | null;
  /** Expected calibration error over the records with a score (see calibration); null when none has one. */
  ece: number | null;
  /** Share predicted positive. */
  positive_rate: number | null;
  /** Share labelled positive. */
  label_positive_rate: number | null;
  /** Records with a score: the base of roc_auc and ece. */
  scored: number;
  /** Distinct classes in labels and predictions together. */
  classes: number;
  macro_precision: number | null;
  macro_recall: number | null;
  macro_f1: number | null;
  /** Of the positive class; counts add up across batches, so a caller can pool them. */
  confusion: ConfusionCounts;
}

export interface RegressionMetrics {
  count: number;
  mae: number | null;
  rmse: number | null;
  /** Mean of prediction − label: positive when the model over-predicts. */
  mean_error: number | null;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean score in the bin (sklearn's prob_pred); null when the bin is empty. */
  mean_score: number | null;
  /** Share of positives in the bin (sklearn's prob_true); null when the bin is empty. */
  positive_rate: number | null;
}

export interface Calibration {
  /** Σ over non-empty bins of (n_b / N)·|positive_rate_b − mean_score_b|; null when there are no scores. */
  ece: number | null;
  /** Every bin, empty ones included, so that charts keep a fixed shape. */
  bins: CalibrationBin[];
}

export interface SliceMetrics<M> {
  /** {} for the overall entry, else one attribute and its value. */
  slice: Record<string, string>;
  metrics: M;
}

/** The canonical string a label is compared by; see the module comment. */
export function labelKey(value: LabelValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new Error(`a label must be a string, a finite number or a boolean, got ${String(value)}`);
}

function keyAt(value: LabelValue, field: 'label' | 'prediction', index: number): string {
  try {
    return labelKey(value);
  } catch {
    throw new Error(`record ${index}: the ${field} must be a string, a finite number or a boolean, got ${String(value)}`);
  }
}

function checkScore(score: number, where: string): void {
  if (!(typeof score === 'number' && score >= 0 && score <= 1)) {
    throw new Error(`${where}: a score is the probability of the positive class and must be in [0, 1], got ${String(score)}`);
  }
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * ROC AUC with tied scores counted as half (sklearn's roc_auc_score, which moves ties together along the curve;
 * equal to the Mann–Whitney U over n₁·n₀). Scores only need to be ordered, so any non-NaN number will do. Null
 * when either class is absent, where sklearn raises.
 */
export function rocAuc(scores: ArrayLike<number>, positives: ArrayLike<boolean>): number | null {
  const n = scores.length;
  if (positives.length !== n) throw new Error(`got ${n} scores but ${positives.length} labels`);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (typeof scores[i] !== 'number' || Number.isNaN(scores[i])) throw new Error(`score ${i} is not a number: ${String(scores[i])}`);
    order[i] = i;
  }
  order.sort((a, b) => (scores[a] as number) - (scores[b] as number));
  // Twice the U statistic, in integers: each positive beats the negatives below its tie group and half-beats
  // the negatives inside it.
  let twiceU = 0;
  let negativesBelow = 0;
  let totalPositives = 0;
  for (let start = 0; start < n; ) {
    const value = scores[order[start] as number] as number;
    let end = start;
    let pos = 0;
    while (end < n && scores[order[end] as number] === value) {
      if (positives[order[end] as number]) pos++;
      end++;
    }
    const neg = end - start - pos;
    twiceU += 2 * pos * negativesBelow + pos * neg;
    negativesBelow += neg;
    totalPositives += pos;
    start = end;
  }
  if (totalPositives === 0 || negativesBelow === 0) return null;
  return twiceU / (2 * totalPositives * negativesBelow);
}

/**
 * Positive-class reliability on uniform bins over [0, 1], as sklearn's calibration_curve(strategy='uniform'):
 * bin b holds the scores in (b/B, (b+1)/B], the first bin also holds 0 (numpy.searchsorted on the inner
 * edges). Edges are b/B, correctly rounded; numpy's linspace gives b·(1/B), which differs by one ulp at some
 * edges and so could place a score within one ulp of an edge differently. ECE = Σ (n_b/N)·|acc_b − conf_b|
 * with acc_b the share of positives and conf_b the mean score in bin b.
 */
export function calibration(scores: ArrayLike<number>, positives: ArrayLike<boolean>, bins = 10): Calibration {
  const n = scores.length;
  if (positives.length !== n) throw new Error(`got ${n} scores but ${positives.length} labels`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`bins must be a positive integer, got ${bins}`);
  const sums = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    checkScore(s, `score ${i}`);
    // How many inner edges (k/bins, k = 1..bins−1) lie strictly below s.
    let lo = 0;
    let hi = bins - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((mid + 1) / bins < s) lo = mid + 1;
      else hi = mid;
    }
    sums[lo]! += s;
    counts[lo]! += 1;
    if (positives[i]) hits[lo]! += 1;
  }
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const c = counts[b] as number;
    const meanScore = c === 0 ? null : (sums[b] as number) / c;
    const positiveRate = c === 0 ? null : (hits[b] as number) / c;
    if (meanScore !== null && positiveRate !== null) ece += Math.abs(positiveRate - meanScore) * (c / n);
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: c, mean_score: meanScore, positive_rate: positiveRate });
  }
  return { ece: n === 0 ? null : ece, bins: out };
}

/** Classification metrics of `records`; see ClassificationMetrics and the module comment for the edge cases. */
export function classificationMetrics(records: readonly LabelledRecord[], opts: ClassificationOptions): ClassificationMetrics {
  const positive = labelKey(opts.positive);
  const bins = opts.bins ?? 10;
  if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`opts.bins must be a positive integer, got ${bins}`);
  const n = records.length;
  const confusion: ConfusionCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  // Per class: [labelled, predicted, both].
  const perClass = new Map<string, [number, number, number]>();
  const bump = (key: string, slot: 0 | 1 | 2): void => {
    let c = perClass.get(key);
    if (!c) perClass.set(key, (c = [0, 0, 0]));
    c[slot]++;
  };
  let correct = 0;
  const scores: number[] = [];
  const scoredPositives: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const r = records[i] as LabelledRecord;
    const label = keyAt(r.label, 'label', i);
    const prediction = keyAt(r.prediction, 'prediction', i);
    bump(label, 0);
    bump(prediction, 1);
    if (label === prediction) {
      correct++;
      bump(label, 2);
    }
    const isPositive = label === positive;
    const predictedPositive = prediction === positive;
    if (isPositive) confusion[predictedPositive ? 'tp' : 'fn']++;
    else confusion[predictedPositive ? 'fp' : 'tn']++;
    if (r.score != null) {
      checkScore(r.score, `record ${i}`);
      scores.push(r.score);
      scoredPositives.push(isPositive);
    }
  }
  const { tp, fp, fn } = confusion;
  let macroP = 0;
  let macroR = 0;
  let macroF = 0;
  // In sorted class order, as sklearn averages them.
  for (const [, [labelled, predicted, both]] of [...perClass].sort(([a], [b]) => byCodeUnits(a, b))) {
    macroP += ratio(both, predicted);
    macroR += ratio(both, labelled);
    macroF += ratio(2 * both, predicted + labelled);
  }
  const k = perClass.size;
  const some = n > 0;
  return {
    count: n,
    accuracy: some ? correct / n : null,
    precision: some ? ratio(tp, tp + fp) : null,
    recall: some ? ratio(tp, tp + fn) : null,
    // sklearn's form since 1.3; equal to 2PR/(P+R) whenever that is defined.
    f1: some ? ratio(2 * tp, 2 * tp + fp + fn) : null,
    roc_auc: scores.length > 0 ? rocAuc(scores, scoredPositives) : null,
    ece: scores.length > 0 ? calibration(scores, scoredPositives, bins).ece : null,
    positive_rate: some ? (tp + fp) / n : null,
    label_positive_rate: some ? (tp + fn) / n : null,
    scored: scores.length,
    classes: k,
    macro_precision: some ? macroP / k : null,
    macro_recall: some ? macroR / k : null,
    macro_f1: some ? macroF / k : null,
    confusion,
  };
}

/** A regression value: a finite number, or a string that Number() reads as one (feedback often sends "3.5"). */
function numberAt(value: LabelValue, field: 'label' | 'prediction', index: number): number {
  const x = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(x)) throw new Error(`record ${index}: a regression ${field} must be a finite number, got ${JSON.stringify(value)}`);
  return x;
}

/** MAE, RMSE and the mean error (bias, prediction − label) of `records`; nulls on empty input. */
export function regressionMetrics(records: readonly LabelledRecord[]): RegressionMetrics {
  const n = records.length;
  let abs = 0;
  let sq = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i] as LabelledRecord;
    const e = numberAt(r.prediction, 'prediction', i) - numberAt(r.label, 'label', i);
    abs += Math.abs(e);
    sq += e * e;
    sum += e;
  }
  if (n === 0) return { count: 0, mae: null, rmse: null, mean_error: null };
  return { count: n, mae: abs / n, rmse: Math.sqrt(sq / n), mean_error: sum / n };
}

/**
 * The overall metrics first (slice {}), then one entry per observed value of each key, keys in the order given
 * and values in code-unit order; a cross-product of keys is not formed. A record without a key (or with a
 * non-string value for it) is in none of that key's slices but still in the overall entry and the other keys'.
 */
export function sliceMetrics(
  records: readonly LabelledRecord[],
  sliceKeys: readonly string[],
  task: 'classification',
  opts: ClassificationOptions,
): SliceMetrics<ClassificationMetrics>[];
export function sliceMetrics(
  records: readonly LabelledRecord[],
  sliceKeys: readonly string[],
  task: 'regression',
  opts?: Record<string, never>,
): SliceMetrics<RegressionMetrics>[];
export function sliceMetrics(
  records: readonly LabelledRecord[],
  sliceKeys: readonly string[],
  task: Task,
  opts?: ClassificationOptions | Record<string, never>,
): SliceMetrics<ClassificationMetrics | RegressionMetrics>[];
export function sliceMetrics(
  records: readonly LabelledRecord[],
  sliceKeys: readonly string[],
  task: Task,
  opts?: ClassificationOptions | Record<string, never>,
): SliceMetrics<ClassificationMetrics | RegressionMetrics>[] {
  let metricsOf: (rs: readonly LabelledRecord[]) => ClassificationMetrics | RegressionMetrics;
  if (task === 'classification') {
    const classification = opts as ClassificationOptions | undefined;
    if (classification?.positive === undefined) throw new Error('classification slices need opts.positive, the positive class');
    metricsOf = (rs) => classificationMetrics(rs, classification);
  } else if (task === 'regression') {
    metricsOf = regressionMetrics;
  } else {
    throw new Error(`unknown task ${JSON.stringify(task)}; use classification or regression`);
  }
  if (new Set(sliceKeys).size !== sliceKeys.length) throw new Error(`slice keys repeat: ${sliceKeys.join(', ')}`);
  const out: SliceMetrics<ClassificationMetrics | RegressionMetrics>[] = [{ slice: {}, metrics: metricsOf(records) }];
  for (const key of sliceKeys) {
    for (const [value, members] of groupBySlice(records, key).groups) out.push({ slice: { [key]: value }, metrics: metricsOf(members) });
  }
  return out;
}

/** Records grouped by their value of one slice attribute, values in code-unit order, and how many lack it. */
export function groupBySlice(records: readonly LabelledRecord[], key: string): { groups: [string, LabelledRecord[]][]; missing: number } {
  const groups = new Map<string, LabelledRecord[]>();
  let missing = 0;
  for (const r of records) {
    const value = r.slice && Object.hasOwn(r.slice, key) ? r.slice[key] : undefined;
    if (typeof value !== 'string') {
      missing++;
      continue;
    }
    let members = groups.get(value);
    if (!members) groups.set(value, (members = []));
    members.push(r);
  }
  return { groups: [...groups].sort(([a], [b]) => byCodeUnits(a, b)), missing };
}

/**
 * Counts per canonical label (labelKey), for label drift against a reference label profile with the drift
 * tests (chiSquareDrift takes this record as it is). `field: 'prediction'` counts predicted labels instead.
 */
export function labelDistribution(records: readonly LabelledRecord[], field: 'label' | 'prediction' = 'label'): Record<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const key = keyAt((records[i] as LabelledRecord)[field], field, i);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // fromEntries defines own properties, so a label such as "__proto__" is counted like any other.
  return Object.fromEntries([...counts].sort(([a], [b]) => byCodeUnits(a, b)));
}
