// Behaviour of the canary judge: verdicts for healthy, erroring, slow, starved and mis-split canaries, model
// metrics, scoring, and the errors a nonsensical config or input raises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_JUDGE_CONFIG, judgeCanary, resolveJudgeConfig, type ArmObservation, type JudgeInput, type MetricResult, type ModelMetricObservation } from './judge.js';

/** Latency-shaped values from the minstd generator: deterministic, right-skewed, no ties. */
function latencies(seed: number, n: number, base = 80, spread = 40): Float64Array {
  let state = seed;
  const next = (): number => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
  return Float64Array.from({ length: n }, () => {
    const u = next();
    const v = next();
    return base + spread * u + 3 * spread * v * v * v;
  });
}

function arm(version: number, requests: number, errors: number, latenciesMs: ArrayLike<number>): ArmObservation {
  return { version, requests, errors, latenciesMs };
}

function healthy(overrides: Partial<JudgeInput> = {}): JudgeInput {
  return {
    stable: arm(1, 9000, 45, latencies(1, 2000)),
    canary: arm(2, 1000, 5, latencies(2, 1000)),
    expectedCanaryShare: 0.1,
    ...overrides,
  };
}

function metric(result: { metrics: MetricResult[] }, name: string): MetricResult {
  const found = result.metrics.find((m) => m.name === name);
  assert.ok(found, `no metric ${name} in ${result.metrics.map((m) => m.name).join(', ')}`);
  return found;
}

const agreement = (overrides: Partial<ModelMetricObservation> = {}): ModelMetricObservation => ({
  name: 'shadow_agreement',
  stable: null,
  canary: 0.99,
  samples: 800,
  min: 0.97,
  direction: 'higher-is-better',
  ...overrides,
});

test('a healthy canary passes with score 100 and every metric Pass', () => {
  const r = judgeCanary(healthy({ modelMetrics: [agreement()] }));
  assert.equal(r.verdict, 'pass', r.reason);
  assert.equal(r.score, 100);
  assert.deepEqual(r.metrics.map((m) => [m.name, m.classification]), [
    ['error_rate', 'Pass'],
    ['latency', 'Pass'],
    ['sample_ratio', 'Pass'],
    ['shadow_agreement', 'Pass'],
  ]);
  assert.match(r.reason, /^score 100 reaches 95: 3 of 3 metrics pass$/);
  const latency = metric(r, 'latency');
  for (const key of ['stableP50Ms', 'stableP95Ms', 'canaryP50Ms', 'canaryP95Ms', 'estimate', 'lower', 'upper', 'pValue', 'effectSize']) {
    assert.equal(typeof latency.evidence[key], 'number', key);
  }
  assert.ok((latency.evidence.lower as number) <= 0 && 0 <= (latency.evidence.upper as number));
  assert.deepEqual(latency.samples, { stable: 2000, canary: 1000 });
});

test('a canary with 30% errors fails on the critical error_rate metric and says so', () => {
  const r = judgeCanary(healthy({ canary: arm(2, 1000, 300, latencies(2, 1000)) }));
  assert.equal(r.verdict, 'fail');
  const errorRate = metric(r, 'error_rate');
  assert.equal(errorRate.classification, 'High');
  assert.equal(errorRate.critical, true);
  assert.equal(errorRate.evidence.canaryRate, 0.3);
  assert.equal(errorRate.evidence.stableRate, 0.005);
  assert.ok((errorRate.evidence.pValue as number) < 1e-100);
  assert.match(errorRate.reason, /^canary error rate 30\.0% exceeds 5\.0% \(p(=|<)[0-9.e-]+\)$/);
  assert.match(r.reason, /^critical metric error_rate failed: canary error rate 30\.0% exceeds 5\.0%/);
});

test('an error rate under the absolute limit is still High when the one-sided test finds it above stable', () => {
  const r = judgeCanary(healthy({ canary: arm(2, 1000, 30, latencies(2, 1000)) }));
  const errorRate = metric(r, 'error_rate');
  assert.equal(errorRate.classification, 'High');
  assert.match(errorRate.reason, /3\.0% is significantly above stable 0\.5%/);
  assert.equal(r.verdict, 'fail');
});

test('a canary with fewer errors than stable passes the one-sided error test', () => {
  const r = judgeCanary(healthy({ stable: arm(1, 9000, 400, latencies(1, 2000)), canary: arm(2, 1000, 0, latencies(2, 1000)) }));
  assert.equal(metric(r, 'error_rate').classification, 'Pass');
});

test('a 3x slower canary is classified latency High, and fails outright when latency is critical', () => {
  const slow = arm(2, 1000, 5, latencies(2, 1000).map((v) => 3 * v));
  const lenient = judgeCanary(healthy({ canary: slow }));
  const latency = metric(lenient, 'latency');
  assert.equal(latency.classification, 'High');
  assert.equal(latency.critical, false);
  assert.ok((latency.evidence.effectSize as number) > 2.9);
  assert.ok((latency.evidence.lower as number) > 0);
  assert.match(latency.reason, /^canary latency is higher: median/);
  // Non-critical, so the score decides: 1 of 2 scored metrics pass (sample_ratio is a flag, not scored).
  assert.equal(lenient.verdict, 'fail');
  assert.match(lenient.reason, /^score 50 is below 75: 1 of 2 metrics pass; latency High/);

  const strict = judgeCanary(healthy({ canary: slow }), { latency: { critical: true } });
  assert.equal(strict.verdict, 'fail');
  assert.match(strict.reason, /^critical metric latency failed: canary latency is higher/);
});

test('a significant but small latency shift passes, as the effect size stays within allowedIncrease', () => {
  const slightlySlower = arm(2, 1000, 5, latencies(2, 1000).map((v) => v * 1.08));
  const r = judgeCanary(healthy({ canary: slightlySlower }));
  const latency = metric(r, 'latency');
  assert.ok((latency.evidence.lower as number) > 0, 'the shift itself is significant');
  assert.equal(latency.classification, 'Pass');
  assert.equal(r.verdict, 'pass');
});

test('a much faster canary is Low only when the latency direction watches decreases', () => {
  const fast = arm(2, 1000, 5, latencies(2, 1000).map((v) => v / 2));
  assert.equal(metric(judgeCanary(healthy({ canary: fast })), 'latency').classification, 'Pass');
  const either = judgeCanary(healthy({ canary: fast }), { latency: { direction: 'either' } });
  assert.equal(metric(either, 'latency').classification, 'Low');
  const slow = arm(2, 1000, 5, latencies(2, 1000).map((v) => v * 3));
  assert.equal(metric(judgeCanary(healthy({ canary: slow }), { latency: { direction: 'decrease' } }), 'latency').classification, 'Pass');
});

test('too few requests and latencies give nodata, so the caller waits', () => {
  const r = judgeCanary(healthy({ canary: arm(2, 20, 0, latencies(2, 20)) }));
  assert.equal(r.verdict, 'nodata');
  assert.equal(metric(r, 'error_rate').classification, 'NoData');
  assert.equal(metric(r, 'latency').classification, 'NoData');
  assert.match(r.reason, /^not enough data yet: error_rate needs 50 requests per arm \(stable 9000, canary 20\); latency needs 50 samples per arm \(stable 2000, canary 20\)$/);
});

test('non-finite latencies are dropped before counting samples', () => {
  const values = Array.from(latencies(2, 60));
  values.push(Number.NaN, Number.POSITIVE_INFINITY);
  const r = judgeCanary(healthy({ canary: arm(2, 1000, 5, values) }));
  assert.deepEqual(metric(r, 'latency').samples, { stable: 2000, canary: 60 });
  assert.equal(metric(r, 'latency').evidence.droppedNonFinite, 2);
  const starved = judgeCanary(healthy({ canary: arm(2, 1000, 5, [Number.NaN, ...latencies(2, 49)]) }));
  assert.equal(metric(starved, 'latency').classification, 'NoData');
});

test('a critical failure wins over missing data', () => {
  const r = judgeCanary(healthy({ canary: arm(2, 1000, 5, latencies(2, 10)), modelMetrics: [agreement({ canary: 0.5, critical: true })] }));
  assert.equal(r.verdict, 'fail');
  assert.match(r.reason, /^critical metric shadow_agreement failed/);
});

test('sample ratio mismatch is flagged at 10% configured vs 30% observed, but is never critical', () => {
  const r = judgeCanary(healthy({ stable: arm(1, 7000, 35, latencies(1, 2000)), canary: arm(2, 3000, 15, latencies(2, 1000)) }));
  const srm = metric(r, 'sample_ratio');
  assert.equal(srm.classification, 'High');
  assert.equal(srm.critical, false);
  assert.deepEqual(srm.evidence.observed, [7000, 3000]);
  assert.deepEqual(srm.evidence.expected, [9000, 1000]);
  assert.ok((srm.evidence.statistic as number) > 4000);
  assert.ok((srm.evidence.pValue as number) < 0.001);
  assert.match(srm.reason, /^sample ratio mismatch: canary received 30\.0% of traffic, configured 10\.0%/);
  // It is a flag, not a score: requests of sticky users are not independent, so it never fails a canary.
  assert.equal(r.verdict, 'pass');
  assert.equal(r.score, 100);
  assert.match(r.reason, /; flagged: sample ratio mismatch: canary received 30\.0%/);
});

test('sample ratio is skipped when no share is configured or SRM is disabled', () => {
  assert.equal(judgeCanary(healthy({ expectedCanaryShare: undefined })).metrics.some((m) => m.name === 'sample_ratio'), false);
  assert.equal(judgeCanary(healthy(), { srm: { enabled: false } }).metrics.some((m) => m.name === 'sample_ratio'), false);
});

test('a model metric breaking its minimum fails the canary when it is critical', () => {
  const r = judgeCanary(healthy({ modelMetrics: [agreement({ canary: 0.9, critical: true })] }));
  assert.equal(metric(r, 'shadow_agreement').classification, 'Low');
  assert.equal(r.verdict, 'fail');
  assert.equal(r.reason, 'critical metric shadow_agreement failed: shadow_agreement 0.9 is below the minimum 0.97');
  assert.equal(r.score, 200 / 3);
});

test('a non-critical model metric breaking its bound only lowers the score', () => {
  const r = judgeCanary(healthy({ modelMetrics: [agreement({ canary: 0.9 })] }));
  assert.equal(r.score, 200 / 3);
  assert.equal(r.verdict, 'fail');
  assert.match(r.reason, /^score 66\.7 is below 75: 2 of 3 metrics pass; shadow_agreement Low/);
  const marginal = judgeCanary(healthy({ modelMetrics: [agreement({ canary: 0.9 })] }), { score: { pass: 95, marginal: 60 } });
  assert.equal(marginal.verdict, 'marginal');
  assert.match(marginal.reason, /^score 66\.7 is marginal \(pass needs 95\): 2 of 3 metrics pass; shadow_agreement Low/);
});

test('model metrics are judged by max, and by degradation against stable in their bad direction', () => {
  const r = judgeCanary(healthy({
    modelMetrics: [
      { name: 'drift_score', stable: null, canary: 0.31, samples: 500, max: 0.2, direction: 'lower-is-better' },
      { name: 'accuracy', stable: 0.91, canary: 0.88, samples: 400, maxDegradation: 0.02, direction: 'higher-is-better' },
      { name: 'latency_cost', stable: 10, canary: 10.5, samples: 400, maxDegradation: 1, direction: 'lower-is-better' },
      { name: 'outcome:conversion', stable: 0.05, canary: 0.06, samples: 400, maxDegradation: 0, direction: 'higher-is-better' },
      { name: 'labelled_accuracy', stable: null, canary: 0.8, samples: 400, maxDegradation: 0.01, direction: 'higher-is-better' },
      { name: 'accuracy_delta', stable: null, canary: -0.2, samples: 10, min: -0.01, direction: 'higher-is-better' },
    ],
  }));
  assert.equal(metric(r, 'drift_score').classification, 'High');
  assert.equal(metric(r, 'accuracy').classification, 'Low');
  assert.match(metric(r, 'accuracy').reason, /accuracy 0\.88 is 0\.03 worse than stable 0\.91 \(allowed 0\.02\)/);
  assert.equal(metric(r, 'latency_cost').classification, 'Pass');
  assert.equal(metric(r, 'outcome:conversion').classification, 'Pass');
  assert.equal(metric(r, 'labelled_accuracy').classification, 'NoData');
  assert.equal(metric(r, 'accuracy_delta').classification, 'NoData');
  // NoData metrics stay out of the score, and so does the sample-ratio flag: 4 of 6 with data pass.
  assert.equal(r.score, (100 * 4) / 6);
});

test('partial config sections are merged over the defaults, which stay frozen', () => {
  const c = resolveJudgeConfig({ latency: { critical: true }, score: { pass: 90 } });
  assert.equal(c.latency.critical, true);
  assert.equal(c.latency.confidence, 0.98);
  assert.equal(c.latency.tolerance, 0.25);
  assert.deepEqual(c.score, { pass: 90, marginal: 75 });
  assert.ok(Object.isFrozen(DEFAULT_JUDGE_CONFIG) && Object.isFrozen(DEFAULT_JUDGE_CONFIG.latency));
  assert.equal(DEFAULT_JUDGE_CONFIG.latency.critical, false);
  assert.equal(resolveJudgeConfig({ latency: { tolerance: undefined, confidence: 0.9 } }).latency.tolerance, 0.25);
});

test('nonsensical config is rejected with a message that names the field', () => {
  const cases: [Parameters<typeof resolveJudgeConfig>[0], RegExp][] = [
    [{ errorRate: { alpha: 0 } }, /errorRate\.alpha must be a number in \(0, 1\), got 0/],
    [{ errorRate: { alpha: 1.5 } }, /errorRate\.alpha/],
    [{ errorRate: { maxAbsolute: -0.1 } }, /errorRate\.maxAbsolute must be a rate in \[0, 1\]/],
    [{ latency: { confidence: 1 } }, /latency\.confidence/],
    [{ latency: { allowedIncrease: 0.9 } }, /latency\.allowedIncrease must be a ratio >= 1/],
    [{ latency: { allowedDecrease: 1.2 } }, /latency\.allowedDecrease/],
    [{ latency: { direction: 'up' as 'increase' } }, /latency\.direction must be 'increase', 'decrease' or 'either', got "up"/],
    [{ srm: { alpha: Number.NaN } }, /srm\.alpha must be a number in \(0, 1\), got NaN/],
    [{ score: { pass: 70 } }, /score\.marginal must be a score in \[0, score\.pass = 70\]/],
    [{ minSamples: 0 }, /minSamples must be an integer >= 1/],
    [{ errorRate: { critical: 'yes' as unknown as boolean } }, /errorRate\.critical must be true or false/],
  ];
  for (const [config, message] of cases) assert.throws(() => judgeCanary(healthy(), config), message);
});

test('nonsensical input is rejected with a message that names the field', () => {
  assert.throws(() => judgeCanary(healthy({ canary: arm(2, 10, 11, []) })), /canary\.errors \(11\) exceeds canary\.requests \(10\)/);
  assert.throws(() => judgeCanary(healthy({ stable: arm(1, -1, 0, []) })), /stable\.requests must be a whole number >= 0/);
  assert.throws(() => judgeCanary(healthy({ expectedCanaryShare: 1 })), /expectedCanaryShare must be a share in \(0, 1\)/);
  assert.throws(() => judgeCanary(healthy({ modelMetrics: [agreement(), agreement()] })), /"shadow_agreement" is given twice/);
  assert.throws(() => judgeCanary(healthy({ modelMetrics: [agreement({ name: 'latency' })] })), /clashes with a built-in metric/);
  assert.throws(() => judgeCanary(healthy({ modelMetrics: [agreement({ canary: Number.NaN })] })), /canary must be a finite number/);
  assert.throws(() => judgeCanary(healthy({ modelMetrics: [agreement({ min: undefined })] })), /nothing to judge it by/);
});

test('skipLatency leaves latency out: it neither blocks the verdict nor counts in the score', () => {
  const slow = arm(2, 1000, 5, latencies(2, 1000).map((v) => 3 * v));
  const r = judgeCanary(healthy({ canary: slow, skipLatency: true }), { latency: { critical: true } });
  assert.equal(r.metrics.some((m) => m.name === 'latency'), false);
  assert.equal(r.verdict, 'pass', r.reason);
  const starved = judgeCanary(healthy({ canary: arm(2, 1000, 5, []), skipLatency: true }));
  assert.equal(starved.verdict, 'pass', 'no latency samples is no reason to wait when latency is not judged');
});

test('an informational model metric is reported but neither scored nor able to fail the canary', () => {
  const r = judgeCanary(healthy({ modelMetrics: [agreement({ canary: 0.5, informational: true })] }));
  assert.equal(metric(r, 'shadow_agreement').classification, 'Low');
  assert.equal(metric(r, 'shadow_agreement').evidence.informational, true);
  assert.equal(r.verdict, 'pass');
  assert.equal(r.score, 100);
  assert.match(r.reason, /flagged: shadow_agreement 0\.5 is below the minimum 0\.97/);
});
