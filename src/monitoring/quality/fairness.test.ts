// Fairness edge cases checked by hand: a hand-sized Fairlearn example, groups missing a class (where this
// module departs from Fairlearn's 0 for 0/0), no selection at all, no groups, and records without the attribute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fairness } from './fairness.js';
import type { LabelledRecord } from './labelled-metrics.js';
import { assertJsonSafe } from './test-fixtures.js';

function rows(spec: [string | undefined, number, number][]): LabelledRecord[] {
  return spec.map(([group, prediction, label]): LabelledRecord => ({ prediction, label, slice: group === undefined ? {} : { sex: group } }));
}

test('selection rates, demographic parity difference and ratio, and equalized odds on a hand-sized example', () => {
  // f: predictions 1,1,0,0 on labels 1,0,1,0 → selection 1/2, TPR 1/2, FPR 1/2
  // m: predictions 1,1,1,0 on labels 1,1,0,0 → selection 3/4, TPR 1,   FPR 1/2
  const report = fairness(
    rows([['f', 1, 1], ['f', 1, 0], ['f', 0, 1], ['f', 0, 0], ['m', 1, 1], ['m', 1, 1], ['m', 1, 0], ['m', 0, 0]]),
    'sex',
    { positive: 1 },
  );
  assert.deepEqual(report, {
    attribute: 'sex',
    count: 8,
    missing: 0,
    groups: [
      { value: 'f', count: 4, selection_rate: 0.5, true_positive_rate: 0.5, false_positive_rate: 0.5 },
      { value: 'm', count: 4, selection_rate: 0.75, true_positive_rate: 1, false_positive_rate: 0.5 },
    ],
    demographic_parity_difference: 0.25,
    demographic_parity_ratio: 0.5 / 0.75,
    true_positive_rate_difference: 0.5,
    false_positive_rate_difference: 0,
    equalized_odds_difference: 0.5,
  });
  assertJsonSafe(report);
});

test('a group with no actual positive has TPR null and is left out of the TPR difference, not read as TPR 0', () => {
  const report = fairness(
    rows([['a', 1, 1], ['a', 0, 0], ['b', 1, 1], ['b', 1, 0], ['c', 1, 0], ['c', 0, 0]]),
    'sex',
    { positive: 1 },
  );
  assert.deepEqual(report.groups.map((g) => [g.value, g.true_positive_rate, g.false_positive_rate]), [
    ['a', 1, 0],
    ['b', 1, 1],
    ['c', null, 0.5],
  ]);
  assert.equal(report.true_positive_rate_difference, 0); // Fairlearn's 0 for c would make it 1
  assert.equal(report.false_positive_rate_difference, 1);
  assert.equal(report.equalized_odds_difference, 1);
  assertJsonSafe(report);
});

test('with no positive label at all equalized odds is null; with no selection the parity ratio is 1 (0/0, at parity)', () => {
  const noPositives = fairness(rows([['a', 1, 0], ['b', 0, 0]]), 'sex', { positive: 1 });
  assert.equal(noPositives.true_positive_rate_difference, null);
  assert.equal(noPositives.false_positive_rate_difference, 1);
  assert.equal(noPositives.equalized_odds_difference, null);
  const noSelection = fairness(rows([['a', 0, 1], ['b', 0, 0], ['b', 0, 1]]), 'sex', { positive: 1 });
  assert.equal(noSelection.demographic_parity_difference, 0);
  assert.equal(noSelection.demographic_parity_ratio, 1);
  const oneSelects = fairness(rows([['a', 1, 1], ['b', 0, 0]]), 'sex', { positive: 1 });
  assert.equal(oneSelects.demographic_parity_ratio, 0);
  assertJsonSafe([noPositives, noSelection, oneSelects]);
});

test('no groups: nulls; records without the attribute are counted as missing and belong to no group', () => {
  assert.deepEqual(fairness([], 'sex', { positive: 1 }), {
    attribute: 'sex',
    count: 0,
    missing: 0,
    groups: [],
    demographic_parity_difference: null,
    demographic_parity_ratio: null,
    true_positive_rate_difference: null,
    false_positive_rate_difference: null,
    equalized_odds_difference: null,
  });
  const report = fairness(rows([[undefined, 1, 1], ['a', 1, 1], [undefined, 0, 0]]), 'sex', { positive: true });
  assert.deepEqual([report.count, report.missing, report.groups.length, report.groups[0]?.count], [3, 2, 1, 1]);
  // One group: parity difference 0 and ratio 1, as Fairlearn's MetricFrame gives; no negative, so no equalized odds.
  assert.deepEqual([report.demographic_parity_difference, report.demographic_parity_ratio, report.equalized_odds_difference], [0, 1, null]);
});

test('labels and the positive class compare as labelKey does: "yes" is not true, 1 is', () => {
  const rs: LabelledRecord[] = [
    { prediction: 'yes', label: true, slice: { sex: 'f' } },
    { prediction: 1, label: '1', slice: { sex: 'f' } },
    { prediction: false, label: 0, slice: { sex: 'f' } },
  ];
  const [f] = fairness(rs, 'sex', { positive: true }).groups;
  assert.deepEqual(f, { value: 'f', count: 3, selection_rate: 1 / 3, true_positive_rate: 0.5, false_positive_rate: 0 });
});
