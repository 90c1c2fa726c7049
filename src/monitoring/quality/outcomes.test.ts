// Outcome aggregation by hand: counts, sums and means per (version, arm, name), rates against prediction
// counts, zero rows for arms without an outcome, and input validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateOutcomes } from './outcomes.js';
import type { OutcomeFeedback } from './outcomes.js';
import { assertJsonSafe } from './test-fixtures.js';

const feedback: OutcomeFeedback[] = [
  { version: 2, arm: 'canary', events: [{ name: 'purchase', value: 30 }, { name: 'click' }, { name: 'click' }] },
  { version: 1, arm: 'stable', events: [{ name: 'purchase', value: 10 }] },
  { version: 1, arm: 'stable', events: [{ name: 'purchase' }, { name: 'click' }] },
  { version: 1, arm: 'stable', events: [{ name: 'purchase', value: 20 }] },
  { version: 1, arm: 'stable', events: [] },
];

test('per (version, arm, name): count, records, sum and mean of values, and rates per prediction', () => {
  const out = aggregateOutcomes(feedback, [
    { version: 1, arm: 'stable', predictions: 60 },
    { version: 1, arm: 'stable', predictions: 40 }, // a second replica: counts add up
    { version: 2, arm: 'canary', predictions: 10 },
  ]);
  assert.deepEqual(out, [
    { version: 1, arm: 'stable', name: 'click', count: 1, records: 1, valued: 0, sum: 0, mean_value: null, predictions: 100, rate: 0.01, record_rate: 0.01 },
    { version: 1, arm: 'stable', name: 'purchase', count: 3, records: 3, valued: 2, sum: 30, mean_value: 15, predictions: 100, rate: 0.03, record_rate: 0.03 },
    { version: 2, arm: 'canary', name: 'click', count: 2, records: 1, valued: 0, sum: 0, mean_value: null, predictions: 10, rate: 0.2, record_rate: 0.1 },
    { version: 2, arm: 'canary', name: 'purchase', count: 1, records: 1, valued: 1, sum: 30, mean_value: 30, predictions: 10, rate: 0.1, record_rate: 0.1 },
  ]);
  assertJsonSafe(out);
});

test('an arm with predictions but no outcome gets zero rows (rate 0), and opts.names adds names never seen', () => {
  const out = aggregateOutcomes(
    [{ version: 1, arm: 'stable', events: [{ name: 'purchase', value: 5 }] }],
    [
      { version: 1, arm: 'stable', predictions: 4 },
      { version: 2, arm: 'canary', predictions: 5 },
    ],
    { names: ['refund'] },
  );
  assert.deepEqual(out.map((r) => [r.version, r.arm, r.name, r.count, r.rate, r.mean_value]), [
    [1, 'stable', 'purchase', 1, 0.25, 5],
    [1, 'stable', 'refund', 0, 0, null],
    [2, 'canary', 'purchase', 0, 0, null],
    [2, 'canary', 'refund', 0, 0, null],
  ]);
});

test('without a prediction count, or with 0 predictions, the rates are null rather than Infinity', () => {
  const out = aggregateOutcomes(
    [
      { version: 1, arm: 'stable', events: [{ name: 'purchase' }] },
      { version: 2, arm: 'canary', events: [{ name: 'purchase' }] },
    ],
    [{ version: 2, arm: 'canary', predictions: 0 }],
  );
  assert.deepEqual(out.map((r) => [r.arm, r.predictions, r.rate, r.record_rate]), [
    ['stable', null, null, null],
    ['canary', 0, null, null],
  ]);
  assertJsonSafe(out);
  assert.deepEqual(aggregateOutcomes([]), []);
});

test('bad events, groups and prediction counts are refused with where they are', () => {
  assert.throws(() => aggregateOutcomes([{ version: 1, arm: 's', events: [{ name: '' }] }]), /feedback\[0\].events\[0\]: an outcome name/);
  assert.throws(
    () => aggregateOutcomes([{ version: 1, arm: 's', events: [{ name: 'x', value: Number.NaN }] }]),
    /feedback\[0\].events\[0\]: value must be a finite number/,
  );
  assert.throws(() => aggregateOutcomes([{ version: 1.5, arm: 's', events: [] }]), /feedback\[0\]: version must be an integer/);
  assert.throws(() => aggregateOutcomes([{ version: 1, arm: '', events: [] }]), /arm must be a non-empty string/);
  assert.throws(() => aggregateOutcomes([], [{ version: 1, arm: 's', predictions: -1 }]), /predictions\[0\]: predictions must be a whole number/);
  assert.throws(() => aggregateOutcomes([], [], { names: [''] }), /opts.names/);
  assert.throws(
    () => aggregateOutcomes([{ version: 1, arm: 's', events: [{ name: 'x', value: Number.MAX_VALUE }, { name: 'x', value: Number.MAX_VALUE }] }]),
    /add up beyond a finite number/,
  );
});
