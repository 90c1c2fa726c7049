// The statistics behind the canary judge: a two-proportion z-test, Mann-Whitney U, the Hodges-Lehmann shift
// with its distribution-free interval, and Pearson's chi-square goodness of fit. Pure functions, checked against scipy.
import { mulberry32 } from '../../random.js';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';

/** Direction of the alternative hypothesis; each test below says which sample 'greater' refers to. */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface TwoProportionZTestResult {
  /** (p2 - p1) / pooled standard error: positive when the second group has the higher rate. */
  z: number;
  pValue: number;
  p1: number;
  p2: number;
  pooled: number;
}

export interface MannWhitneyOptions {
  /** 'greater': x tends to be larger than y (scipy's convention). Default 'two-sided'. */
  alternative?: Alternative;
  /** Subtract 0.5 from |U - mean| before standardising. Default true, as scipy and R. */
  continuity?: boolean;
}

export interface MannWhitneyResult {
  /** U of x: the number of pairs with x > y, ties counting one half. */
  u1: number;
  /** U of y, n1 * n2 - u1. */
  u2: number;
  pValue: number;
  /** The standardised U the p-value came from: u1 for 'greater', u2 for 'less', max(u1, u2) for 'two-sided'. */
  z: number;
}

export interface HodgesLehmannResult {
  /** Median of all differences experiment_j - control_i. */
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  /** 'exact': R's exact interval (both samples under 50, no ties); 'asymptotic': the normal approximation. */
  method: 'exact' | 'asymptotic';
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

const standardNormalSf = (z: number): number => normalCdf(-z, 0, 1);

function pValueFromZ(z: number, alternative: Alternative): number {
  switch (alternative) {
    case 'greater':
      return standardNormalSf(z);
    case 'less':
      return normalCdf(z, 0, 1);
    case 'two-sided':
      return Math.min(1, 2 * standardNormalSf(Math.abs(z)));
  }
}

function checkAlternative(alternative: string): asserts alternative is Alternative {
  if (alternative !== 'two-sided' && alternative !== 'greater' && alternative !== 'less') {
    throw new Error(`alternative must be 'two-sided', 'greater' or 'less', got ${JSON.stringify(alternative)}`);
  }
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new Error(`confidence must be a number in (0, 1), got ${confidence}`);
}

/** Sorted copy with every value checked, so a NaN never slips into a rank or a difference. */
function sortedFinite(values: ArrayLike<number>, label: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new Error(`${label}[${i}] is ${v}; every value must be a finite number`);
    out[i] = v;
  }
  return out.sort();
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  return sum / values.length;
}

/** Quantile of an ascending array by linear interpolation between order statistics (numpy's default, R type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const below = Math.floor(h);
  const lo = sorted[below] as number;
  if (below + 1 >= sorted.length) return lo;
  return lo + (h - below) * ((sorted[below + 1] as number) - lo);
}

/** Median of an ascending array; the mean of the middle two for an even count. */
export function medianSorted(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function median(values: ArrayLike<number>): number {
  return medianSorted(Float64Array.from(values).sort());
}

/**
 * Pooled two-proportion z-test: the formula of statsmodels' proportions_ztest(count, nobs) with the sign turned
 * so that 'greater' means group 2 has the higher rate (pass stable first, canary second).
 * With an empty group or a pooled rate of 0 or 1 no difference is measurable: z = 0, pValue = 1.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number, alternative: Alternative = 'two-sided'): TwoProportionZTestResult {
  checkAlternative(alternative);
  for (const [name, x, n] of [['1', x1, n1], ['2', x2, n2]] as const) {
    if (!(Number.isFinite(n) && n >= 0 && Number.isFinite(x) && x >= 0 && x <= n)) {
      throw new Error(`group ${name}: need 0 <= successes <= trials, got ${x} of ${n}`);
    }
  }
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const pooled = n1 + n2 > 0 ? (x1 + x2) / (n1 + n2) : 0;
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1, p1, p2, pooled };
  const variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (!(variance > 0)) return { z: 0, pValue: 1, p1, p2, pooled };
  const z = (p2 - p1) / Math.sqrt(variance);
  return { z, pValue: pValueFromZ(z, alternative), p1, p2, pooled };
}

interface RankSummary {
  /** Sum of the average ranks of the first sample in the combined sample. */
  rankSumA: number;
  /** Σ(t³ - t) over tie groups of the combined sample. */
  combinedTies: number;
  /** Σ(t³ - t) over tie groups inside each sample on its own (what the interval's variance sees). */
  withinTies: number;
}

/** One merge of two ascending arrays gives every rank quantity the tests need, without sorting the union. */
function summariseRanks(a: Float64Array, b: Float64Array): RankSummary {
  let i = 0;
  let j = 0;
  let consumed = 0;
  let rankSumA = 0;
  let combinedTies = 0;
  let withinTies = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    let ca = 0;
    let cb = 0;
    while (i < a.length && a[i] === v) { i++; ca++; }
    while (j < b.length && b[j] === v) { j++; cb++; }
    const t = ca + cb;
    rankSumA += ca * (consumed + (t + 1) / 2);
    combinedTies += t * t * t - t;
    withinTies += ca * ca * ca - ca + cb * cb * cb - cb;
    consumed += t;
  }
  return { rankSumA, combinedTies, withinTies };
}

/**
 * Mann-Whitney U test with the normal approximation, tie correction and (by default) continuity correction:
 * the same numbers as scipy.stats.mannwhitneyu(x, y, method='asymptotic'). Sorts each sample once and merges,
 * so 50k-element samples cost milliseconds. When every value is tied the variance is zero: z = 0, pValue = 1.
 */
export function mannWhitneyU(x: ArrayLike<number>, y: ArrayLike<number>, options: MannWhitneyOptions = {}): MannWhitneyResult {
  const alternative = options.alternative ?? 'two-sided';
  const continuity = options.continuity ?? true;
  checkAlternative(alternative);
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new Error(`Mann-Whitney U needs values in both samples, got ${n1} and ${n2}`);
  const ranks = summariseRanks(sortedFinite(x, 'x'), sortedFinite(y, 'y'));
  const u1 = ranks.rankSumA - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ranks.combinedTies / (n * (n - 1))));
  if (!(sigma > 0)) return { u1, u2, pValue: 1, z: 0 };
  // scipy turns every alternative into an upper tail (of U1, of U2, or of the larger one, doubled).
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  let numerator = u - (n1 * n2) / 2;
  if (continuity) numerator -= 0.5;
  const z = numerator / sigma;
  const p = standardNormalSf(z) * (alternative === 'two-sided' ? 2 : 1);
  return { u1, u2, pValue: Math.min(1, Math.max(0, p)), z };
}

/**
 * Counts of the Mann-Whitney statistic U (pairs x > y) over all C(n+m, n) arrangements without ties.
 * The largest of the n+m values is either an x (above all m y's, adding m) or a y (adding nothing), so
 * count(n, m, u) = count(n-1, m, u-m) + count(n, m-1, u). Only used below 50×50, where this is ~1.5M additions.
 */
function wilcoxonCounts(n: number, m: number): Float64Array {
  let previous: Float64Array[] = Array.from({ length: m + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= n; i++) {
    const current: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= m; j++) {
      const out = new Float64Array(i * j + 1);
      const withoutX = previous[j] as Float64Array;
      const withoutY = current[j - 1] as Float64Array;
      for (let u = 0; u < withoutY.length; u++) out[u] = withoutY[u] as number;
      for (let u = 0; u < withoutX.length; u++) out[u + j] = (out[u + j] as number) + (withoutX[u] as number);
      current.push(out);
    }
    previous = current;
  }
  return previous[m] as Float64Array;
}

/** R's qwilcox(p, n, m) for p <= 0.5: the smallest q with P(U <= q) >= p, with R's 10·ε of slack. */
function wilcoxonQuantile(p: number, n: number, m: number): number {
  const counts = wilcoxonCounts(n, m);
  let total = 0;
  for (const c of counts) total += c;
  const target = p - 10 * Number.EPSILON;
  let cumulative = 0;
  for (let q = 0; q < counts.length; q++) {
    cumulative += (counts[q] as number) / total;
    if (cumulative >= target) return q;
  }
  return counts.length - 1;
}

/** Deterministic pivots: the answer never depends on them, but a fixed seed keeps the running time repeatable. */
function pivotSource(): () => number {
  return mulberry32(0x9e3779b9);
}

/**
 * The k-th smallest (1-based) of the n·m differences x[j] - y[i], for x and y ascending, without forming them.
 * Think of the matrix D[j][c] = x[j] - y[m-1-c]: every row and every column ascends. Each row keeps a window
 * [lo, hi) of columns that may still hold the answer, as in Monahan's algorithm for the Hodges-Lehmann
 * estimator (ACM TOMS 616). A value is ranked against the whole matrix with a staircase walk in O(n + m), since
 * the count below it can only shrink from one row to the next. Each round samples the remaining candidates,
 * takes two sample values that bracket the answer's expected place (Floyd-Rivest), ranks both and closes the
 * windows on them: about a dozenfold fewer candidates per round, a handful of rounds for 50k × 50k. Pivots are
 * candidates and always leave the windows, so every round shrinks them even when the bracket misses. Once at
 * most 2(n + m) remain they are sorted directly.
 */
function kthDifferenceSorted(x: Float64Array, y: Float64Array, k: number): number {
  const n = x.length;
  const m = y.length;
  const yDesc = y.slice().reverse();
  const lo = new Int32Array(n);
  const hi = new Int32Array(n).fill(m);
  const lessLow = new Int32Array(n);
  const atMostLow = new Int32Array(n);
  const lessHigh = new Int32Array(n);
  const atMostHigh = new Int32Array(n);
  const random = pivotSource();
  const directLimit = 2 * (n + m);

  // Fills, per row, how many entries are < p and <= p; returns both totals.
  const rank = (p: number, less: Int32Array, atMost: Int32Array): [number, number] => {
    let totalLess = 0;
    let totalAtMost = 0;
    let cLess = m;
    let cAtMost = m;
    for (let j = 0; j < n; j++) {
      const xj = x[j] as number;
      while (cLess > 0 && xj - (yDesc[cLess - 1] as number) >= p) cLess--;
      while (cAtMost > 0 && xj - (yDesc[cAtMost - 1] as number) > p) cAtMost--;
      less[j] = cLess;
      atMost[j] = cAtMost;
      totalLess += cLess;
      totalAtMost += cAtMost;
    }
    return [totalLess, totalAtMost];
  };
  const closeAbove = (bound: Int32Array): void => {
    for (let j = 0; j < n; j++) if ((bound[j] as number) < (hi[j] as number)) hi[j] = bound[j] as number;
  };
  const closeBelow = (bound: Int32Array): void => {
    for (let j = 0; j < n; j++) if ((bound[j] as number) > (lo[j] as number)) lo[j] = bound[j] as number;
  };

  for (;;) {
    let candidates = 0;
    let below = 0;
    for (let j = 0; j < n; j++) {
      candidates += (hi[j] as number) - (lo[j] as number);
      below += lo[j] as number;
    }
    if (candidates <= directLimit) {
      const pool = new Float64Array(candidates);
      let p = 0;
      for (let j = 0; j < n; j++) {
        const xj = x[j] as number;
        for (let c = lo[j] as number; c < (hi[j] as number); c++) pool[p++] = xj - (yDesc[c] as number);
      }
      pool.sort();
      return pool[k - below - 1] as number;
    }

    const size = 1024;
    const picks = new Float64Array(size);
    for (let i = 0; i < size; i++) picks[i] = Math.floor(random() * candidates);
    picks.sort();
    const drawn = new Float64Array(size);
    let row = 0;
    let rowStart = 0;
    for (let i = 0; i < size; i++) {
      const r = picks[i] as number;
      while (r >= rowStart + (hi[row] as number) - (lo[row] as number)) {
        rowStart += (hi[row] as number) - (lo[row] as number);
        row++;
      }
      drawn[i] = (x[row] as number) - (yDesc[(lo[row] as number) + r - rowStart] as number);
    }
    drawn.sort();
    const q = (k - below) / candidates;
    const gap = 2.5 * Math.sqrt(size * q * (1 - q)) + 1;
    const low = drawn[Math.max(0, Math.floor(q * size - gap))] as number;
    const high = drawn[Math.min(size - 1, Math.floor(q * size + gap))] as number;

    const [lessThanLow, atMostLowCount] = rank(low, lessLow, atMostLow);
    if (k <= lessThanLow) {
      closeAbove(lessLow);
      continue;
    }
    if (k <= atMostLowCount) return low;
    const [lessThanHigh, atMostHighCount] = rank(high, lessHigh, atMostHigh);
    if (k <= lessThanHigh) {
      closeBelow(atMostLow);
      closeAbove(lessHigh);
    } else if (k <= atMostHighCount) {
      return high;
    } else {
      closeBelow(atMostHigh);
    }
  }
}

/** The k-th smallest (1-based) of all differences experiment_j - control_i, in O((n + m) log(n·m)). */
export function pairwiseDifferenceOrderStatistic(control: ArrayLike<number>, experiment: ArrayLike<number>, k: number): number {
  const total = control.length * experiment.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= total)) throw new Error(`k must be an integer in [1, ${total}], got ${k}`);
  return kthDifferenceSorted(sortedFinite(experiment, 'experiment'), sortedFinite(control, 'control'), k);
}

/**
 * Hodges-Lehmann shift of experiment over control (the median of all n·m differences experiment_j - control_i)
 * with the distribution-free confidence interval of R's wilcox.test(experiment, control, conf.int = TRUE), which
 * Kayenta's Mann-Whitney classifier (kayenta-mannwhitney, MannWhitney.scala and Wilcox.scala) ports:
 *
 * - Both samples under 50 and no ties: R's exact interval. q = qwilcox(α/2, n, m) (at least 1) from the exact
 *   null distribution of U; the bounds are the q-th smallest and the q-th largest difference.
 * - Otherwise R solves, for the shift d, (W(d) - nm/2 ∓ 0.5) / σ = ±z(1-α/2), where W(d) counts the pairs with
 *   experiment_j - d > control_i (ties one half) and σ carries the tie correction. W(d) is a step function that
 *   jumps only at the differences, so the root its solver converges on is a difference itself: the k-th
 *   smallest with k = ceil(nm/2 - 0.5 - zσ) for the lower bound and ceil(nm/2 + 0.5 + zσ) for the upper, both
 *   clamped to [1, nm]. Between jumps no cross-sample ties exist, so σ counts only the ties inside each sample.
 *   We pick those order statistics exactly instead of root-finding; R (uniroot, tol 1e-4) and Kayenta land
 *   within their solver tolerance of the same values.
 *
 * The estimate is always the median of the differences (R's exact-case estimate). R's asymptotic estimate is
 * whatever point its solver stops at inside the flat middle step, which Kayenta's own suite could not tie out.
 */
export function hodgesLehmann(control: ArrayLike<number>, experiment: ArrayLike<number>, confidence = 0.95): HodgesLehmannResult {
  checkConfidence(confidence);
  const m = control.length;
  const n = experiment.length;
  if (n === 0 || m === 0) throw new Error(`Hodges-Lehmann needs values in both samples, got ${m} control and ${n} experiment`);
  const y = sortedFinite(control, 'control');
  const x = sortedFinite(experiment, 'experiment');
  const total = n * m;
  const alpha = 1 - confidence;
  const ranks = summariseRanks(x, y);

  if (n < 50 && m < 50 && ranks.combinedTies === 0) {
    const diffs = new Float64Array(total);
    let p = 0;
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) diffs[p++] = (x[j] as number) - (y[i] as number);
    diffs.sort();
    const q = Math.max(1, wilcoxonQuantile(alpha / 2, n, m));
    return { estimate: medianSorted(diffs), lower: diffs[q - 1] as number, upper: diffs[total - q] as number, confidence, method: 'exact' };
  }

  const kth = (k: number): number => kthDifferenceSorted(x, y, k);
  const estimate = total % 2 === 1 ? kth((total + 1) / 2) : (kth(total / 2) + kth(total / 2 + 1)) / 2;
  const sigma = Math.sqrt(((n * m) / 12) * (n + m + 1 - ranks.withinTies / ((n + m) * (n + m - 1))));
  const z = normalQuantile(1 - alpha / 2, 0, 1);
  const clamp = (k: number): number => Math.min(total, Math.max(1, k));
  const lower = kth(clamp(Math.ceil(total / 2 - 0.5 - z * sigma)));
  const upper = kth(clamp(Math.ceil(total / 2 + 0.5 + z * sigma)));
  return { estimate, lower, upper, confidence, method: 'asymptotic' };
}

/**
 * Upper tail of the chi-square distribution for whole degrees of freedom, by the closed form
 * Q(k/2, x/2) = Q(a0, x/2) + Σ (x/2)^a e^(-x/2) / Γ(a + 1), a = a0 .. k/2 - 1, with Q(1/2, z) = erfc(√z) and
 * Q(1, z) = e^(-z). Every term is positive, so the tail keeps full relative precision down to 1e-300; 1 - cdf
 * (all that the stdlib chi-square package offers) is exactly 0 below 1e-16, and sample-ratio p-values that
 * small are the evidence worth printing. Terms are summed in log space so large statistics do not underflow
 * early. O(df).
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new Error(`degrees of freedom must be a positive integer, got ${df}`);
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  const z = x / 2;
  const logZ = Math.log(z);
  const odd = df % 2 === 1;
  let base = odd ? 2 * standardNormalSf(Math.sqrt(x)) : 0;
  let a = odd ? 0.5 : 0;
  let logTerm = odd ? 0.5 * logZ - z - Math.log(Math.sqrt(Math.PI) / 2) : -z;
  let maxLog = Number.NEGATIVE_INFINITY;
  let scaled = 0;
  for (; a <= df / 2 - 1; a++) {
    if (logTerm > maxLog) {
      scaled = scaled * Math.exp(maxLog - logTerm) + 1;
      maxLog = logTerm;
    } else {
      scaled += Math.exp(logTerm - maxLog);
    }
    logTerm += logZ - Math.log(a + 1);
  }
  if (scaled > 0) base += Math.exp(maxLog + Math.log(scaled));
  return Math.min(1, Math.max(0, base));
}

/**
 * Pearson's chi-square goodness of fit of observed counts to expected shares of their total:
 * scipy.stats.chisquare(observed, f_exp = shares * sum(observed)). Shares must be positive and sum to 1.
 * With no observations at all nothing can mismatch: statistic 0, pValue 1.
 */
export function chiSquareGoodnessOfFit(observed: ArrayLike<number>, expectedShares: ArrayLike<number>): ChiSquareResult {
  const k = observed.length;
  if (k < 2) throw new Error(`chi-square goodness of fit needs at least 2 categories, got ${k}`);
  if (expectedShares.length !== k) throw new Error(`got ${k} observed counts but ${expectedShares.length} expected shares`);
  let total = 0;
  let shareSum = 0;
  for (let i = 0; i < k; i++) {
    const o = observed[i] as number;
    const s = expectedShares[i] as number;
    if (!(Number.isFinite(o) && o >= 0)) throw new Error(`observed[${i}] must be a finite count >= 0, got ${o}`);
    if (!(Number.isFinite(s) && s > 0)) throw new Error(`expectedShares[${i}] must be a share > 0, got ${s}`);
    total += o;
    shareSum += s;
  }
  if (Math.abs(shareSum - 1) > 1e-8) throw new Error(`expected shares must sum to 1, got ${shareSum}`);
  const df = k - 1;
  if (total === 0) return { statistic: 0, df, pValue: 1 };
  let statistic = 0;
  for (let i = 0; i < k; i++) {
    const e = (expectedShares[i] as number) * total;
    const d = (observed[i] as number) - e;
    statistic += (d * d) / e;
  }
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}
