// The canary judge, after Kayenta's NetflixACAJudge: classifies error rate, latency, sample ratio and model-quality
// metrics of the canary against the stable arm, scores them and returns a verdict with one sentence of reason.
import {
  chiSquareGoodnessOfFit,
  hodgesLehmann,
  mannWhitneyU,
  mean,
  quantileSorted,
  twoProportionZTest,
} from './statistics.js';

export interface ArmObservation {
  version: number;
  requests: number;
  errors: number;
  latenciesMs: ArrayLike<number>;
}

/** A model-quality metric supplied by another subsystem (shadow agreement, drift, labelled accuracy, business outcome). */
export interface ModelMetricObservation {
  name: string; // e.g. 'shadow_agreement', 'drift_score', 'accuracy_delta', 'outcome:conversion'
  stable: number | null; // value for the stable arm, when comparable per arm
  canary: number; // value for the canary
  samples: number; // evidence size behind the canary value
  /** Evidence size behind the stable value; only reported, in MetricResult.samples.stable (0 when absent). */
  stableSamples?: number;
  /** Pass when canary >= min / <= max (absolute), and (when stable is given) canary - stable within maxDegradation in the bad direction. */
  min?: number;
  max?: number;
  maxDegradation?: number;
  direction: 'higher-is-better' | 'lower-is-better';
  critical?: boolean;
  /** Evidence only: reported with the other metrics, but neither scored nor able to fail the canary. */
  informational?: boolean;
}

export interface JudgeInput {
  stable: ArmObservation;
  canary: ArmObservation;
  /** configured canary share of (stable+canary) traffic, 0..1, for SRM; omit to skip SRM */
  expectedCanaryShare?: number;
  modelMetrics?: ModelMetricObservation[];
  /** Leave latency out of the judgement (its evidence is not comparable, e.g. mirrored requests); it then neither blocks nor scores. */
  skipLatency?: boolean;
}

export interface JudgeConfig {
  minSamples: number; // default 50: per arm, per metric; below it the metric is NoData
  errorRate: { maxAbsolute: number; alpha: number; critical: boolean }; // defaults 0.05, 0.01, true
  latency: {
    confidence: number;
    allowedIncrease: number;
    allowedDecrease: number;
    critical: boolean;
    direction: 'increase' | 'decrease' | 'either';
    /**
     * Kayenta's MannWhitneyClassifier tolerance: High needs the interval's lower bound above tolerance × |estimate|
     * (Low: upper bound below -tolerance × |estimate|), not merely above 0. Default 0.25, the value
     * NetflixACAJudge passes; 0 gives the plain "interval excludes 0" rule.
     */
    tolerance?: number;
  }; // defaults 0.98, 1.25, 0.8, false, 'increase' (effect-size tolerance as ratio of canary/stable, like Kayenta's effectSize thresholds)
  srm: { alpha: number; enabled: boolean }; // defaults 0.001, true
  score: { pass: number; marginal: number }; // defaults 95, 75 (Kayenta's defaults)
}

/** What judgeCanary accepts: any section may be given in part; the rest comes from DEFAULT_JUDGE_CONFIG. */
export type JudgeConfigOverrides = {
  [K in keyof JudgeConfig]?: JudgeConfig[K] extends object ? Partial<JudgeConfig[K]> : JudgeConfig[K];
};

export type Classification = 'Pass' | 'High' | 'Low' | 'NoData';

export interface MetricResult {
  name: string;
  classification: Classification;
  critical: boolean;
  reason: string;
  samples: { stable: number; canary: number };
  evidence: Record<string, number | string | boolean | null | number[]>;
}

export type Verdict = 'pass' | 'marginal' | 'fail' | 'nodata';

export interface JudgeResult {
  verdict: Verdict;
  score: number | null;
  reason: string;
  metrics: MetricResult[];
}

type ResolvedJudgeConfig = JudgeConfig & { latency: Required<JudgeConfig['latency']> };

export const DEFAULT_JUDGE_CONFIG: JudgeConfig = Object.freeze({
  minSamples: 50,
  errorRate: Object.freeze({ maxAbsolute: 0.05, alpha: 0.01, critical: true }),
  latency: Object.freeze({
    confidence: 0.98,
    allowedIncrease: 1.25,
    allowedDecrease: 0.8,
    critical: false,
    direction: 'increase' as const,
    tolerance: 0.25,
  }),
  srm: Object.freeze({ alpha: 0.001, enabled: true }),
  score: Object.freeze({ pass: 95, marginal: 75 }),
});

const ERROR_RATE = 'error_rate';
const LATENCY = 'latency';
const SAMPLE_RATIO = 'sample_ratio';

function fail(message: string): never {
  throw new Error(message);
}

/** JSON for strings and objects, but NaN and Infinity as themselves rather than null. */
const show = (value: unknown): string => (typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value));

function requireNumber(value: unknown, path: string, ok: (v: number) => boolean, rule: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) fail(`judge config: ${path} must be ${rule}, got ${show(value)}`);
}

function requireBoolean(value: unknown, path: string): void {
  if (typeof value !== 'boolean') fail(`judge config: ${path} must be true or false, got ${show(value)}`);
}

const inOpenUnit = (v: number): boolean => v > 0 && v < 1;

/** Spread-merge that lets an explicit `undefined` fall back to the default instead of erasing it. */
function merged<T extends object>(defaults: T, overrides: Partial<T> | undefined): T {
  const out = { ...defaults };
  for (const [key, value] of Object.entries(overrides ?? {})) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}

/** Merges overrides over the defaults section by section, checks every field and returns a frozen config. */
export function resolveJudgeConfig(overrides: JudgeConfigOverrides = {}): JudgeConfig {
  const d = DEFAULT_JUDGE_CONFIG;
  const c: ResolvedJudgeConfig = {
    minSamples: overrides.minSamples ?? d.minSamples,
    errorRate: merged(d.errorRate, overrides.errorRate),
    latency: merged<Required<JudgeConfig['latency']>>(d.latency as Required<JudgeConfig['latency']>, overrides.latency),
    srm: merged(d.srm, overrides.srm),
    score: merged(d.score, overrides.score),
  };
  requireNumber(c.minSamples, 'minSamples', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  requireNumber(c.errorRate.maxAbsolute, 'errorRate.maxAbsolute', (v) => v >= 0 && v <= 1, 'a rate in [0, 1]');
  requireNumber(c.errorRate.alpha, 'errorRate.alpha', inOpenUnit, 'a number in (0, 1)');
  requireBoolean(c.errorRate.critical, 'errorRate.critical');
  requireNumber(c.latency.confidence, 'latency.confidence', inOpenUnit, 'a number in (0, 1)');
  requireNumber(c.latency.allowedIncrease, 'latency.allowedIncrease', (v) => Number.isFinite(v) && v >= 1, 'a ratio >= 1');
  requireNumber(c.latency.allowedDecrease, 'latency.allowedDecrease', (v) => v > 0 && v <= 1, 'a ratio in (0, 1]');
  requireNumber(c.latency.tolerance, 'latency.tolerance', (v) => Number.isFinite(v) && v >= 0, 'a number >= 0');
  requireBoolean(c.latency.critical, 'latency.critical');
  if (!['increase', 'decrease', 'either'].includes(c.latency.direction)) {
    fail(`judge config: latency.direction must be 'increase', 'decrease' or 'either', got ${JSON.stringify(c.latency.direction)}`);
  }
  requireNumber(c.srm.alpha, 'srm.alpha', inOpenUnit, 'a number in (0, 1)');
  requireBoolean(c.srm.enabled, 'srm.enabled');
  requireNumber(c.score.pass, 'score.pass', (v) => v >= 0 && v <= 100, 'a score in [0, 100]');
  requireNumber(c.score.marginal, 'score.marginal', (v) => v >= 0 && v <= c.score.pass, `a score in [0, score.pass = ${c.score.pass}]`);
  return Object.freeze({
    minSamples: c.minSamples,
    errorRate: Object.freeze(c.errorRate),
    latency: Object.freeze(c.latency),
    srm: Object.freeze(c.srm),
    score: Object.freeze(c.score),
  });
}

function checkArm(arm: ArmObservation, label: string): void {
  const count = (v: unknown, field: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`judge input: ${label}.${field} must be a whole number >= 0, got ${JSON.stringify(v)}`);
  };
  count(arm.requests, 'requests');
  count(arm.errors, 'errors');
  if (arm.errors > arm.requests) fail(`judge input: ${label}.errors (${arm.errors}) exceeds ${label}.requests (${arm.requests})`);
  if (arm.latenciesMs == null || typeof arm.latenciesMs.length !== 'number') fail(`judge input: ${label}.latenciesMs must be an array of numbers`);
}

function checkModelMetric(m: ModelMetricObservation, seen: Set<string>): void {
  const where = `judge input: model metric ${JSON.stringify(m.name)}`;
  if (typeof m.name !== 'string' || m.name === '') fail('judge input: every model metric needs a non-empty name');
  if (seen.has(m.name)) fail(`${where} is given twice (or clashes with a built-in metric)`);
  seen.add(m.name);
  if (m.direction !== 'higher-is-better' && m.direction !== 'lower-is-better') {
    fail(`${where}: direction must be 'higher-is-better' or 'lower-is-better', got ${JSON.stringify(m.direction)}`);
  }
  if (typeof m.canary !== 'number' || !Number.isFinite(m.canary)) fail(`${where}: canary must be a finite number, got ${m.canary}`);
  if (m.stable !== null && (typeof m.stable !== 'number' || !Number.isFinite(m.stable))) fail(`${where}: stable must be a finite number or null, got ${m.stable}`);
  if (typeof m.samples !== 'number' || !(m.samples >= 0)) fail(`${where}: samples must be a number >= 0, got ${m.samples}`);
  for (const key of ['min', 'max', 'maxDegradation'] as const) {
    const v = m[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) fail(`${where}: ${key} must be a finite number, got ${v}`);
  }
  if (m.maxDegradation !== undefined && m.maxDegradation < 0) fail(`${where}: maxDegradation must be >= 0, got ${m.maxDegradation}`);
  if (m.min !== undefined && m.max !== undefined && m.min > m.max) fail(`${where}: min (${m.min}) is above max (${m.max})`);
  if (m.min === undefined && m.max === undefined && m.maxDegradation === undefined) fail(`${where} has no min, max or maxDegradation: nothing to judge it by`);
}

function checkInput(input: JudgeInput): void {
  checkArm(input.stable, 'stable');
  checkArm(input.canary, 'canary');
  const share = input.expectedCanaryShare;
  if (share !== undefined && !(typeof share === 'number' && share > 0 && share < 1)) {
    fail(`judge input: expectedCanaryShare must be a share in (0, 1), got ${JSON.stringify(share)}`);
  }
  const seen = new Set([ERROR_RATE, LATENCY, SAMPLE_RATIO]);
  for (const m of input.modelMetrics ?? []) checkModelMetric(m, seen);
}

/** Three significant digits, without exponent noise for the magnitudes latencies and metrics take. */
function num(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function pct(rate: number): string {
  const p = rate * 100;
  if (p === 0) return '0%';
  return `${p >= 1 ? p.toFixed(1) : String(Number(p.toPrecision(2)))}%`;
}

function pText(p: number): string {
  if (p === 0) return 'p<1e-300';
  if (p >= 0.001) return `p=${Number(p.toPrecision(2))}`;
  return `p=${p.toExponential(1).replace('.0e', 'e')}`;
}

function noData(name: string, critical: boolean, reason: string, samples: MetricResult['samples'], evidence: MetricResult['evidence'] = {}): MetricResult {
  return { name, classification: 'NoData', critical, reason, samples, evidence };
}

function judgeErrorRate(stable: ArmObservation, canary: ArmObservation, config: JudgeConfig): MetricResult {
  const { maxAbsolute, alpha, critical } = config.errorRate;
  const samples = { stable: stable.requests, canary: canary.requests };
  if (stable.requests < config.minSamples || canary.requests < config.minSamples) {
    return noData(ERROR_RATE, critical, `error_rate needs ${config.minSamples} requests per arm (stable ${stable.requests}, canary ${canary.requests})`, samples);
  }
  const test = twoProportionZTest(stable.errors, stable.requests, canary.errors, canary.requests, 'greater');
  const evidence = { stableRate: test.p1, canaryRate: test.p2, z: test.z, pValue: test.pValue, maxAbsolute, alpha };
  const p = pText(test.pValue);
  if (test.p2 > maxAbsolute) {
    return { name: ERROR_RATE, classification: 'High', critical, reason: `canary error rate ${pct(test.p2)} exceeds ${pct(maxAbsolute)} (${p})`, samples, evidence };
  }
  if (test.pValue < alpha) {
    const reason = `canary error rate ${pct(test.p2)} is significantly above stable ${pct(test.p1)} (${p}, alpha ${alpha})`;
    return { name: ERROR_RATE, classification: 'High', critical, reason, samples, evidence };
  }
  return { name: ERROR_RATE, classification: 'Pass', critical, reason: `canary error rate ${pct(test.p2)} vs stable ${pct(test.p1)} (${p})`, samples, evidence };
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

/**
 * Kayenta's MannWhitneyClassifier: High when the Hodges-Lehmann interval of canary - stable lies above
 * tolerance × |estimate| and the effect size (ratio of means, canary / stable, 1 when the stable mean is 0)
 * reaches allowedIncrease; Low symmetrically. A significant but small shift passes, as in Kayenta.
 */
function judgeLatency(stable: ArmObservation, canary: ArmObservation, config: ResolvedJudgeConfig): MetricResult {
  const { confidence, allowedIncrease, allowedDecrease, critical, direction, tolerance } = config.latency;
  // Kayenta drops NaNs before classifying; a latency that is not a number was not measured.
  const s = finiteSorted(stable.latenciesMs);
  const c = finiteSorted(canary.latenciesMs);
  const samples = { stable: s.length, canary: c.length };
  const dropped = stable.latenciesMs.length - s.length + canary.latenciesMs.length - c.length;
  if (s.length < config.minSamples || c.length < config.minSamples) {
    return noData(LATENCY, critical, `latency needs ${config.minSamples} samples per arm (stable ${s.length}, canary ${c.length})`, samples, { droppedNonFinite: dropped });
  }
  const mw = mannWhitneyU(c, s, { alternative: 'two-sided' });
  const hl = hodgesLehmann(s, c, confidence);
  const stableMean = mean(s);
  const canaryMean = mean(c);
  const effectSize = stableMean === 0 ? 1 : canaryMean / stableMean;
  const bound = tolerance * Math.abs(hl.estimate);
  const high = direction !== 'decrease' && hl.lower > bound && effectSize >= allowedIncrease;
  const low = direction !== 'increase' && hl.upper < -bound && effectSize <= allowedDecrease;
  const evidence = {
    stableP50Ms: quantileSorted(s, 0.5),
    stableP95Ms: quantileSorted(s, 0.95),
    canaryP50Ms: quantileSorted(c, 0.5),
    canaryP95Ms: quantileSorted(c, 0.95),
    stableMeanMs: stableMean,
    canaryMeanMs: canaryMean,
    estimate: hl.estimate,
    lower: hl.lower,
    upper: hl.upper,
    confidence,
    method: hl.method,
    pValue: mw.pValue,
    effectSize,
    allowedIncrease,
    allowedDecrease,
    droppedNonFinite: dropped,
  };
  const shift = `shift ${hl.estimate >= 0 ? '+' : ''}${num(hl.estimate)} ms (${num(confidence * 100)}% CI ${num(hl.lower)} to ${num(hl.upper)})`;
  const medians = `median ${num(evidence.canaryP50Ms)} ms vs stable ${num(evidence.stableP50Ms)} ms`;
  const ratio = `mean ratio ${num(effectSize)}x`;
  let classification: Classification = 'Pass';
  let reason: string;
  if (high) {
    classification = 'High';
    reason = `canary latency is higher: ${medians}, ${shift}, ${ratio} is beyond the allowed ${num(allowedIncrease)}x`;
  } else if (low) {
    classification = 'Low';
    reason = `canary latency is lower: ${medians}, ${shift}, ${ratio} is beyond the allowed ${num(allowedDecrease)}x`;
  } else {
    reason = `canary latency within tolerance: ${medians}, ${shift}, ${ratio} (${pText(mw.pValue)})`;
  }
  return { name: LATENCY, classification, critical, reason, samples, evidence };
}

function judgeSampleRatio(stable: ArmObservation, canary: ArmObservation, share: number, config: JudgeConfig): MetricResult {
  const samples = { stable: stable.requests, canary: canary.requests };
  const total = stable.requests + canary.requests;
  // An empty arm is the worst mismatch of all, so only the total gates this metric.
  if (total < config.minSamples) {
    return noData(SAMPLE_RATIO, false, `sample_ratio needs ${config.minSamples} requests in total (got ${total})`, samples);
  }
  const observed = [stable.requests, canary.requests];
  const shares = [1 - share, share];
  const chi = chiSquareGoodnessOfFit(observed, shares);
  const evidence = {
    observed,
    expected: shares.map((s) => s * total),
    expectedCanaryShare: share,
    observedCanaryShare: canary.requests / total,
    statistic: chi.statistic,
    pValue: chi.pValue,
    alpha: config.srm.alpha,
  };
  const split = `canary received ${pct(canary.requests / total)} of traffic, configured ${pct(share)}`;
  if (chi.pValue < config.srm.alpha) {
    return { name: SAMPLE_RATIO, classification: 'High', critical: false, reason: `sample ratio mismatch: ${split} (${pText(chi.pValue)})`, samples, evidence };
  }
  return { name: SAMPLE_RATIO, classification: 'Pass', critical: false, reason: `${split} (${pText(chi.pValue)})`, samples, evidence };
}

function judgeModelMetric(m: ModelMetricObservation, config: JudgeConfig): MetricResult {
  const critical = m.critical ?? false;
  const samples = { stable: m.stableSamples ?? 0, canary: m.samples };
  const delta = m.stable === null ? null : m.canary - m.stable;
  const evidence = {
    stable: m.stable,
    canary: m.canary,
    delta,
    min: m.min ?? null,
    max: m.max ?? null,
    maxDegradation: m.maxDegradation ?? null,
    direction: m.direction,
    ...(m.informational ? { informational: true } : {}),
  };
  if (m.samples < config.minSamples) return noData(m.name, critical, `${m.name} needs ${config.minSamples} samples (got ${m.samples})`, samples, evidence);
  const result = (classification: Classification, reason: string): MetricResult => ({ name: m.name, classification, critical, reason, samples, evidence });
  if (m.min !== undefined && m.canary < m.min) return result('Low', `${m.name} ${num(m.canary)} is below the minimum ${num(m.min)}`);
  if (m.max !== undefined && m.canary > m.max) return result('High', `${m.name} ${num(m.canary)} is above the maximum ${num(m.max)}`);
  if (m.maxDegradation !== undefined && m.stable !== null) {
    const higherIsBetter = m.direction === 'higher-is-better';
    const degradation = higherIsBetter ? m.stable - m.canary : m.canary - m.stable;
    if (degradation > m.maxDegradation) {
      const reason = `${m.name} ${num(m.canary)} is ${num(degradation)} worse than stable ${num(m.stable)} (allowed ${num(m.maxDegradation)})`;
      return result(higherIsBetter ? 'Low' : 'High', reason);
    }
  } else if (m.min === undefined && m.max === undefined) {
    return noData(m.name, critical, `${m.name} is judged only against stable, and there is no stable value`, samples, evidence);
  }
  const against = m.stable === null ? '' : ` (stable ${num(m.stable)})`;
  return result('Pass', `${m.name} ${num(m.canary)} is within its bounds${against}`);
}

function scoreVerdict(metrics: MetricResult[], config: JudgeConfig): Omit<JudgeResult, 'metrics'> {
  // Sample-ratio mismatch is a flag, not a score: per-request counts are not independent when users are
  // sticky (a few heavy users move them), so a flagged SRM is reported in the reason but never fails a canary.
  // Informational model metrics are evidence in the same way.
  const unscored = (m: MetricResult) => m.name === SAMPLE_RATIO || m.evidence.informational === true;
  const flags = metrics.filter((m) => unscored(m) && m.classification !== 'Pass' && m.classification !== 'NoData');
  const flagNote = flags.length > 0 ? `; flagged: ${flags.map((m) => m.reason).join('; ')}` : '';
  const verdict = scoreOf(metrics.filter((m) => !unscored(m)), config);
  return verdict.verdict === 'nodata' ? verdict : { ...verdict, reason: verdict.reason + flagNote };
}

function scoreOf(metrics: MetricResult[], config: JudgeConfig): Omit<JudgeResult, 'metrics'> {
  const withData = metrics.filter((m) => m.classification !== 'NoData');
  const passing = withData.filter((m) => m.classification === 'Pass');
  const score = withData.length === 0 ? null : (100 * passing.length) / withData.length;
  const broken = withData.filter((m) => m.classification !== 'Pass');
  const critical = broken.filter((m) => m.critical);
  const first = critical[0];
  if (first !== undefined) {
    const names = critical.map((m) => m.name).join(', ');
    return { verdict: 'fail', score, reason: `critical ${critical.length === 1 ? 'metric' : 'metrics'} ${names} failed: ${first.reason}` };
  }
  const missing = metrics.filter((m) => (m.name === ERROR_RATE || m.name === LATENCY) && m.classification === 'NoData');
  if (missing.length > 0 || score === null) {
    const why = missing.length > 0 ? missing.map((m) => m.reason).join('; ') : 'no metric has data';
    return { verdict: 'nodata', score, reason: `not enough data yet: ${why}` };
  }
  const tally = `${passing.length} of ${withData.length} metrics pass`;
  const notPassing = broken.map((m) => `${m.name} ${m.classification} (${m.reason})`).join('; ');
  if (score >= config.score.pass) {
    return { verdict: 'pass', score, reason: `score ${num(score)} reaches ${config.score.pass}: ${tally}${notPassing ? `; ${notPassing}` : ''}` };
  }
  if (score >= config.score.marginal) {
    return { verdict: 'marginal', score, reason: `score ${num(score)} is marginal (pass needs ${config.score.pass}): ${tally}; ${notPassing}` };
  }
  return { verdict: 'fail', score, reason: `score ${num(score)} is below ${config.score.marginal}: ${tally}; ${notPassing}` };
}

/**
 * Judges the canary against the stable arm. Score, as Kayenta's: 100 × metrics that pass / metrics with data.
 * A critical metric classified High or Low fails the canary outright; missing error-rate or latency data means
 * "wait" (nodata); otherwise the score decides. Throws a plain Error on a nonsensical config or input.
 */
export function judgeCanary(input: JudgeInput, config: JudgeConfigOverrides = {}): JudgeResult {
  const resolved = resolveJudgeConfig(config) as ResolvedJudgeConfig;
  checkInput(input);
  const metrics: MetricResult[] = [judgeErrorRate(input.stable, input.canary, resolved)];
  if (!input.skipLatency) metrics.push(judgeLatency(input.stable, input.canary, resolved));
  if (input.expectedCanaryShare !== undefined && resolved.srm.enabled) {
    metrics.push(judgeSampleRatio(input.stable, input.canary, input.expectedCanaryShare, resolved));
  }
  for (const m of input.modelMetrics ?? []) metrics.push(judgeModelMetric(m, resolved));
  return { ...scoreVerdict(metrics, resolved), metrics };
}
