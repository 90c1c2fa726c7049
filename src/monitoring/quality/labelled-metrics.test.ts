// The edge cases of the labelled metrics, checked by hand: empty input, zero divisions, label normalisation,
// scores outside [0, 1], ties and bin edges, and that every output survives JSON unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibration,
  classificationMetrics,
  labelDistribution,
  labelKey,
  regressionMetrics,
  rocAuc,
  sliceMetrics,
} from './labelled-metrics.js';
import type { LabelledRecord } from './labelled-metrics.js';
import { assertJsonSafe, binaryRecords } from './test-fixtures.js';

const records = (rows: [LabelledRecord['prediction'], LabelledRecord['label'], number?][]): LabelledRecord[] =>
  rows.map(([prediction, label, score]) => ({ prediction, label, score }));

test('empty input gives count 0 and null metrics, never NaN', () => {
  const c = classificationMetrics([], { positive: 1 });
  assert.deepEqual(c, {
    count: 0,
    accuracy: null,
    precision: null,
    recall: null,
    f1: null,
    roc_auc: null,
    ece: null,
    positive_rate: null,
    label_positive_rate: null,
    scored: 0,
    classes: 0,
    macro_precision: null,
    macro_recall: null,
    macro_f1: null,
    confusion: { tp: 0, fp: 0, fn: 0, tn: 0 },
  });
  assert.deepEqual(regressionMetrics([]), { count: 0, mae: null, rmse: null, mean_error: null });
  assert.equal(rocAuc([], []), null);
  const cal = calibration([], [], 4);
  assert.equal(cal.ece, null);
  assert.deepEqual(cal.bins.map((b) => [b.count, b.mean_score, b.positive_rate]), [[0, null, null], [0, null, null], [0, null, null], [0, null, null]]);
  assert.deepEqual(sliceMetrics([], ['region'], 'regression'), [{ slice: {}, metrics: { count: 0, mae: null, rmse: null, mean_error: null } }]);
  for (const out of [c, cal, labelDistribution([])]) assertJsonSafe(out);
});

test('precision is 0 with no predicted positive, recall 0 with no actual positive, as sklearn zero_division="warn"', () => {
  const noPredictedPositive = classificationMetrics(records([[0, 1], [0, 0], [0, 1]]), { positive: 1 });
  assert.equal(noPredictedPositive.precision, 0);
  assert.equal(noPredictedPositive.recall, 0);
  assert.equal(noPredictedPositive.f1, 0);
  assert.equal(noPredictedPositive.positive_rate, 0);
  const noActualPositive = classificationMetrics(records([[1, 0], [0, 0]]), { positive: 1 });
  assert.equal(noActualPositive.recall, 0);
  assert.equal(noActualPositive.precision, 0);
  // All negative and all right: nothing to divide for the positive class, still 0, while accuracy is 1.
  const allNegative = classificationMetrics(records([[0, 0], [0, 0]]), { positive: 1 });
  assert.deepEqual([allNegative.accuracy, allNegative.precision, allNegative.recall, allNegative.f1], [1, 0, 0, 0]);
  // Macro over the one class seen: it scores 1.
  assert.deepEqual([allNegative.classes, allNegative.macro_precision, allNegative.macro_f1], [1, 1, 1]);
  assertJsonSafe(allNegative);
});

test('labels compare by canonical string: 1, 1.0, "1" and true are one class; "true" and "1.0" are not', () => {
  assert.equal(labelKey(1), '1');
  assert.equal(labelKey(1.0), '1');
  assert.equal(labelKey(-0), '0');
  assert.equal(labelKey(true), '1');
  assert.equal(labelKey(false), '0');
  assert.equal(labelKey('true'), 'true');
  assert.equal(labelKey('1.0'), '1.0');
  assert.throws(() => labelKey(Number.NaN), /finite number/);
  const m = classificationMetrics(records([[1, '1'], [true, 1], ['1', true], [0, false], ['true', true], [1, '1.0']]), { positive: true });
  assert.equal(m.accuracy, 4 / 6);
  assert.deepEqual(m.confusion, { tp: 3, fp: 1, fn: 1, tn: 1 });
  assert.equal(m.classes, 4); // '1', '0', 'true', '1.0'
});

test('the reference records give the same metrics with labels and predictions spelt as numbers, strings or booleans', () => {
  const spell = [(v: number) => v, (v: number) => String(v), (v: number) => v === 1];
  const mixed = binaryRecords().map((r, i) => ({
    ...r,
    label: spell[i % 3]!(r.label as number),
    prediction: spell[(i + 1) % 3]!(r.prediction as number),
  }));
  assert.deepEqual(classificationMetrics(mixed, { positive: '1' }), classificationMetrics(binaryRecords(), { positive: 1 }));
  assert.deepEqual(labelDistribution(mixed), { 0: 39, 1: 21 });
});

test('a label that is neither string, finite number nor boolean is refused with its record index', () => {
  const bad = [{ prediction: 1, label: 1 }, { prediction: 1, label: null as unknown as number }];
  assert.throws(() => classificationMetrics(bad, { positive: 1 }), /record 1: the label must be/);
  assert.throws(() => labelDistribution(bad), /record 1: the label/);
});

test('scores outside [0, 1] are refused, not clamped; unscored records leave roc_auc and ece to the others', () => {
  assert.throws(() => classificationMetrics(records([[1, 1, 1.2]]), { positive: 1 }), /record 0: .*must be in \[0, 1\], got 1.2/);
  assert.throws(() => classificationMetrics(records([[1, 1, -0.1]]), { positive: 1 }), /must be in \[0, 1\]/);
  assert.throws(() => classificationMetrics(records([[1, 1, Number.NaN]]), { positive: 1 }), /must be in \[0, 1\], got NaN/);
  assert.throws(() => calibration([0.5, 3], [true, false]), /score 1: .*\[0, 1\]/);
  const partly = classificationMetrics(records([[1, 1, 0.9], [0, 0, 0.2], [1, 0], [0, 1]]), { positive: 1 });
  assert.deepEqual([partly.count, partly.scored, partly.roc_auc, partly.accuracy], [4, 2, 1, 0.5]);
  const unscored = classificationMetrics(records([[1, 1], [0, 0]]), { positive: 1 });
  assert.deepEqual([unscored.scored, unscored.roc_auc, unscored.ece], [0, null, null]);
  // null scores (from JSON) are absent scores.
  assert.equal(classificationMetrics([{ prediction: 1, label: 1, score: null }], { positive: 1 }).scored, 0);
});

test('rocAuc counts ties as half, is null with one class, and needs only ordered scores', () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75); // sklearn's docstring example
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.9], [false, true, false, true]), 0.75);
  assert.equal(rocAuc([0.3, 0.3, 0.3, 0.3], [true, false, true, false]), 0.5);
  assert.equal(rocAuc([0.1, 0.2, 0.3], [false, false, true]), 1);
  assert.equal(rocAuc([0.1, 0.2, 0.3], [true, true, false]), 0);
  assert.equal(rocAuc([0.1, 0.2], [true, true]), null);
  assert.equal(rocAuc([0.1, 0.2], [false, false]), null);
  assert.equal(rocAuc([-3, 12.5, Number.POSITIVE_INFINITY], [false, true, true]), 1); // logits rank as well
  assert.throws(() => rocAuc([0.1, Number.NaN], [true, false]), /score 1 is not a number/);
  assert.throws(() => rocAuc([0.1], [true, false]), /1 scores but 2 labels/);
  // A scored set of one class: AUC undefined, calibration still measured.
  const oneClass = classificationMetrics(records([[1, 1, 0.9], [1, 1, 0.7]]), { positive: 1 });
  assert.equal(oneClass.roc_auc, null);
  assert.equal(oneClass.ece, Math.abs(1 - 0.7) * 0.5 + Math.abs(1 - 0.9) * 0.5);
});

test('calibration bins are right-closed as numpy.searchsorted puts them, with 0 in the first bin', () => {
  const scores = [0, 0.1, 0.10000000000000002, 0.5, 0.55, 1];
  const { bins, ece } = calibration(scores, [false, false, true, true, false, true], 10);
  assert.deepEqual(bins.map((b) => b.count), [2, 1, 0, 0, 1, 1, 0, 0, 0, 1]);
  assert.deepEqual(bins[0], { lower: 0, upper: 0.1, count: 2, mean_score: 0.05, positive_rate: 0 });
  assert.deepEqual([bins[3]!.mean_score, bins[3]!.positive_rate], [null, null]);
  // (2/6)|0 − 0.05| + (1/6)|1 − 0.1…| + (1/6)|1 − 0.5| + (1/6)|0 − 0.55| + (1/6)|1 − 1|
  const expected = 0.05 * (2 / 6) + (1 - 0.10000000000000002) / 6 + 0.5 / 6 + 0.55 / 6;
  assert.ok(Math.abs((ece as number) - expected) < 1e-15, `ece ${ece}`);
  assert.deepEqual(calibration([1], [true], 1).bins, [{ lower: 0, upper: 1, count: 1, mean_score: 1, positive_rate: 1 }]);
  assert.throws(() => calibration([0.5], [true], 0), /bins must be a positive integer/);
  assert.throws(() => calibration([0.5], [true, false]), /1 scores but 2 labels/);
  assertJsonSafe(calibration(scores, [false, false, true, true, false, true], 7));
});

test('classificationMetrics uses opts.bins for ece', () => {
  const rs = records([[1, 1, 0.6], [0, 0, 0.4]]);
  assert.equal(classificationMetrics(rs, { positive: 1, bins: 1 }).ece, 0); // one bin: mean 0.5, half positive
  assert.equal(classificationMetrics(rs, { positive: 1 }).ece, 0.4);
});

test('regressionMetrics reads numeric strings, refuses anything else, and signs the bias prediction − label', () => {
  const m = regressionMetrics([
    { prediction: 3, label: 1 },
    { prediction: '0', label: ' 2 ' },
    { prediction: 5, label: 5 },
    { prediction: 12, label: '10' },
  ]);
  assert.deepEqual(m, { count: 4, mae: 6 / 4, rmse: Math.sqrt(12 / 4), mean_error: 2 / 4 });
  assert.throws(() => regressionMetrics([{ prediction: 'high', label: 1 }]), /record 0: a regression prediction must be a finite number, got "high"/);
  assert.throws(() => regressionMetrics([{ prediction: 1, label: '' }]), /regression label/);
  assert.throws(() => regressionMetrics([{ prediction: true, label: 1 }]), /regression prediction/);
  assert.throws(() => regressionMetrics([{ prediction: Number.POSITIVE_INFINITY, label: 1 }]), /finite number/);
});

test('sliceMetrics: one entry per value of each key (no cross-product); a record without the key is in the overall entry only', () => {
  const rs: LabelledRecord[] = [
    { prediction: 2, label: 1, slice: { region: 'eu', device: 'mobile' } },
    { prediction: 4, label: 4, slice: { region: 'us', device: 'mobile' } },
    { prediction: 9, label: 6, slice: { region: 'eu' } },
    { prediction: 0, label: 0 },
  ];
  const out = sliceMetrics(rs, ['region', 'device'], 'regression');
  assert.deepEqual(out.map((s) => [s.slice, s.metrics.count, s.metrics.mae]), [
    [{}, 4, 1],
    [{ region: 'eu' }, 2, 2],
    [{ region: 'us' }, 1, 0],
    [{ device: 'mobile' }, 2, 0.5],
  ]);
  // A slice key that is only inherited (toString) is not an attribute of the record.
  assert.deepEqual(sliceMetrics(rs, ['toString'], 'regression').length, 1);
  assert.throws(() => sliceMetrics(rs, ['region', 'region'], 'regression'), /slice keys repeat/);
  assert.throws(() => sliceMetrics(rs, ['region'], 'classification', {} as never), /need opts.positive/);
  assert.throws(() => sliceMetrics(rs, ['region'], 'ranking' as never), /unknown task "ranking"/);
  assertJsonSafe(sliceMetrics(binaryRecords(), ['region', 'device', 'group'], 'classification', { positive: 1 }));
});

test('labelDistribution counts canonical labels, or predictions, and keeps a "__proto__" label as a count', () => {
  const rs = records([[1, 'b'], [0, 'a'], [1, 'b'], [1, '__proto__']]);
  const counts = labelDistribution(rs);
  assert.deepEqual(Object.entries(counts), [['__proto__', 1], ['a', 1], ['b', 2]]);
  assert.deepEqual(labelDistribution(rs, 'prediction'), { 0: 1, 1: 3 });
  assert.deepEqual(labelDistribution(records([[0, 1], [0, '1'], [0, true], [0, 0]])), { 0: 1, 1: 3 });
});
