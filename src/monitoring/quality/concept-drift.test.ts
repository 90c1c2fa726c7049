// Concept drift checks: a worsening beyond the threshold is flagged and one within it is not, in both
// directions, with per-metric thresholds, missing current values and option validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conceptDrift, DEFAULT_LOWER_IS_BETTER } from './concept-drift.js';
import { classificationMetrics } from './labelled-metrics.js';
import { assertJsonSafe, binaryRecords } from './test-fixtures.js';

test('a drop beyond the default 0.05 is degraded; a drop within it, or of exactly 0.05, is not', () => {
  const reference = { accuracy: 0.9, f1: 0.8, roc_auc: 0.88 };
  const result = conceptDrift({ accuracy: 0.84, f1: 0.75, roc_auc: 0.86 }, reference);
  assert.equal(result.degraded, true);
  assert.deepEqual(
    result.checks.map((c) => [c.metric, c.degraded, c.threshold, c.direction]),
    [
      ['accuracy', true, 0.05, 'higher-is-better'],
      ['f1', false, 0.05, 'higher-is-better'], // 0.8 − 0.75 = 0.05000000000000004 in doubles: still within
      ['roc_auc', false, 0.05, 'higher-is-better'],
    ],
  );
  assert.ok(Math.abs((result.checks[0]!.delta as number) + 0.06) < 1e-15);
  const within = conceptDrift({ accuracy: 0.86, f1: 0.8, roc_auc: 0.95 }, reference);
  assert.equal(within.degraded, false);
  assertJsonSafe(result);
});

test('for mae, rmse, ece and log_loss a rise is the worsening; an improvement is never degraded', () => {
  const reference = { mae: 1.0, ece: 0.02, rmse: 2, log_loss: 0.3 };
  const result = conceptDrift({ mae: 1.2, ece: 0.06, rmse: 1.0, log_loss: 0.36 }, reference, { perMetric: { mae: 0.1 } });
  assert.deepEqual(
    result.checks.map((c) => [c.metric, c.direction, c.degraded, c.threshold]),
    [
      ['mae', 'lower-is-better', true, 0.1],
      ['ece', 'lower-is-better', false, 0.05],
      ['rmse', 'lower-is-better', false, 0.05], // fell by 1: better
      ['log_loss', 'lower-is-better', true, 0.05],
    ],
  );
  assert.equal(conceptDrift({ accuracy: 0.99 }, { accuracy: 0.5 }).degraded, false);
  assert.deepEqual(DEFAULT_LOWER_IS_BETTER, ['mae', 'rmse', 'ece', 'log_loss']);
});

test('maxDrop, perMetric and lowerIsBetter change the thresholds and directions', () => {
  const strict = conceptDrift({ accuracy: 0.88 }, { accuracy: 0.9 }, { maxDrop: 0.01 });
  assert.deepEqual([strict.degraded, strict.checks[0]!.threshold], [true, 0.01]);
  const loose = conceptDrift({ accuracy: 0.7 }, { accuracy: 0.9 }, { maxDrop: 0.01, perMetric: { accuracy: 0.25 } });
  assert.equal(loose.degraded, false);
  // Replacing the list: mae is now read as higher-is-better, so its rise is an improvement.
  const replaced = conceptDrift({ mae: 3, brier: 0.3 }, { mae: 1, brier: 0.2 }, { lowerIsBetter: ['brier'] });
  assert.deepEqual(replaced.checks.map((c) => [c.metric, c.direction, c.degraded]), [
    ['mae', 'higher-is-better', false],
    ['brier', 'lower-is-better', true],
  ]);
});

test('a metric without a current value is reported as not degraded; one only in current is ignored', () => {
  const result = conceptDrift({ accuracy: null, extra: 0.1 }, { accuracy: 0.9, recall: 0.7 });
  assert.equal(result.degraded, false);
  assert.deepEqual(result.checks, [
    { metric: 'accuracy', direction: 'higher-is-better', reference: 0.9, current: null, delta: null, degraded: false, threshold: 0.05 },
    { metric: 'recall', direction: 'higher-is-better', reference: 0.7, current: null, delta: null, degraded: false, threshold: 0.05 },
  ]);
  assertJsonSafe(result);
});

test('non-finite values and negative thresholds are refused', () => {
  assert.throws(() => conceptDrift({ accuracy: Number.NaN }, { accuracy: 0.9 }), /current accuracy must be a finite number or null/);
  assert.throws(() => conceptDrift({}, { accuracy: Number.POSITIVE_INFINITY }), /reference accuracy must be a finite number/);
  assert.throws(() => conceptDrift({}, {}, { maxDrop: -0.1 }), /maxDrop must be a finite number >= 0/);
  assert.throws(() => conceptDrift({}, {}, { perMetric: { f1: Number.NaN } }), /perMetric.f1 must be/);
});

test('labelled metrics of a worse batch against the reference batch: accuracy and f1 degrade', () => {
  const pick = (m: ReturnType<typeof classificationMetrics>) => ({ accuracy: m.accuracy, f1: m.f1, ece: m.ece });
  const reference = pick(classificationMetrics(binaryRecords(), { positive: 1 }));
  // Turn the first 12 right answers wrong: accuracy falls by 12/60 = 0.2.
  let flipped = 0;
  const worse = binaryRecords().map((r) => (r.prediction === r.label && flipped++ < 12 ? { ...r, prediction: 1 - (r.label as number) } : r));
  const result = conceptDrift(pick(classificationMetrics(worse, { positive: 1 })), reference as Record<string, number>);
  assert.equal(result.degraded, true);
  assert.equal(result.checks.find((c) => c.metric === 'accuracy')?.degraded, true);
  assert.ok(Math.abs((result.checks[0]!.delta as number) + 0.2) < 1e-12);
  assert.equal(result.checks.find((c) => c.metric === 'ece')?.delta, 0); // scores unchanged
  // The same batch against itself is not degraded.
  assert.equal(conceptDrift(reference, reference as Record<string, number>).degraded, false);
});
