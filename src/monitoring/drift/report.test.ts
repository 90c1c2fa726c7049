// Checks the drift report's choices (type inference, default test at the 1,000-row boundary, thresholds,
// overrides, the dataset verdict) on deterministic columns; the statistics themselves are checked against scipy
// in statistics.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTest, driftReport, inferColumnType, type DriftColumn } from './report.js';
import { ks2samp, normalisedWasserstein } from './statistics.js';

/** Deterministic values in [0, 1) (minstd), so reports never depend on Math.random. */
function uniform(seed: number, count: number): Float64Array {
  let state = seed;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    state = (state * 48271) % 2147483647;
    out[i] = state / 2147483647;
  }
  return out;
}

const numeric = (name: string, seed: number, n: number, shift = 0): DriftColumn => ({ name, numbers: uniform(seed, n).map((v) => v + shift) });
const labels = (name: string, seed: number, n: number, alphabet: string[], bias = 0): DriftColumn => ({
  name,
  strings: Array.from(uniform(seed, n), (v) => alphabet[Math.min(alphabet.length - 1, Math.floor((v + bias) * alphabet.length))] as string),
});

test('inferColumnType: labels are categorical, numbers numerical, two distinct values binary, a declared type wins', () => {
  assert.equal(inferColumnType({ name: 'c', strings: ['a', 'b', null, 'c'] }), 'categorical');
  assert.equal(inferColumnType({ name: 'b', strings: ['yes', 'no', null, 'yes'] }), 'binary');
  assert.equal(inferColumnType({ name: 'n', numbers: Float64Array.of(1, 2, 3, Number.NaN) }), 'numerical');
  assert.equal(inferColumnType({ name: 'f', numbers: Float64Array.of(0, 1, 1, Number.NaN, 0) }), 'binary');
  assert.equal(inferColumnType({ name: 'x', type: 'categorical', numbers: Float64Array.of(1, 2, 3) }), 'categorical');
  assert.throws(() => inferColumnType({ name: 'empty' }), /column "empty" has neither numbers nor strings/);
});

test('chooseTest follows Evidently: small-sample tests up to 1,000 reference rows, distances from 1,001', () => {
  assert.equal(chooseTest('numerical', 1000, 6), 'ks');
  assert.equal(chooseTest('numerical', 1001, 6), 'wasserstein');
  assert.equal(chooseTest('numerical', 1000, 5), 'chisquare');
  assert.equal(chooseTest('numerical', 1000, 3), 'chisquare');
  assert.equal(chooseTest('numerical', 1000, 2), 'z');
  assert.equal(chooseTest('numerical', 1001, 5), 'jensenshannon');
  assert.equal(chooseTest('categorical', 1000, 3), 'chisquare');
  assert.equal(chooseTest('categorical', 1001, 3), 'jensenshannon');
  assert.equal(chooseTest('binary', 1000, 2), 'z');
  assert.equal(chooseTest('binary', 1001, 2), 'jensenshannon');
});

test('driftReport picks KS at 1,000 reference rows and normalised Wasserstein at 1,001, with the scipy numbers', () => {
  for (const [rows, test, threshold] of [[1000, 'ks', 0.05], [1001, 'wasserstein', 0.1]] as const) {
    const ref = numeric('x', 1, rows);
    const cur = numeric('x', 2, 800, 0.3);
    const [feature] = driftReport([ref], [cur]).features;
    assert.equal(feature?.test, test);
    assert.equal(feature?.threshold, threshold);
    assert.equal(feature?.reference_rows, rows);
    assert.equal(feature?.drifted, true);
    if (test === 'ks') {
      const expected = ks2samp(ref.numbers as Float64Array, cur.numbers as Float64Array);
      assert.equal(feature?.statistic, expected.statistic);
      assert.equal(feature?.p_value, expected.pValue);
    } else {
      assert.equal(feature?.p_value, undefined);
      assert.ok(Math.abs((feature?.statistic as number) - normalisedWasserstein(ref.numbers as Float64Array, cur.numbers as Float64Array)) < 1e-12);
    }
  }
});

test('driftReport tests categorical and binary columns with chi-square and z up to 1,000 rows, Jensen-Shannon above', () => {
  const small = driftReport(
    [labels('colour', 3, 1000, ['red', 'green', 'blue']), labels('flag', 4, 1000, ['no', 'yes'])],
    [labels('colour', 5, 500, ['red', 'green', 'blue']), labels('flag', 6, 500, ['no', 'yes'])],
  );
  assert.deepEqual(small.features.map((f) => [f.name, f.type, f.test, f.drifted]), [
    ['colour', 'categorical', 'chisquare', false],
    ['flag', 'binary', 'z', false],
  ]);
  const large = driftReport(
    [labels('colour', 3, 1001, ['red', 'green', 'blue']), labels('flag', 4, 1001, ['no', 'yes'])],
    [labels('colour', 5, 500, ['red', 'green', 'blue'], 0.4), labels('flag', 6, 500, ['no', 'yes'], 0.4)],
  );
  assert.deepEqual(large.features.map((f) => [f.test, f.drifted]), [['jensenshannon', true], ['jensenshannon', true]]);
});

test('driftReport: numbers with 3 to 5 distinct values get chi-square, with 2 the z-test', () => {
  const few = (name: string, seed: number, k: number): DriftColumn => ({ name, numbers: uniform(seed, 300).map((v) => Math.floor(v * k)) });
  const report = driftReport([few('five', 1, 5), few('three', 2, 3), few('two', 3, 2)], [few('five', 4, 5), few('three', 5, 3), few('two', 6, 2)]);
  assert.deepEqual(report.features.map((f) => [f.name, f.type, f.test]), [
    ['five', 'numerical', 'chisquare'],
    ['three', 'numerical', 'chisquare'],
    ['two', 'binary', 'z'],
  ]);
});

test('driftReport drops missing values before testing and counts only the rows with a value', () => {
  const ref = numeric('x', 1, 200);
  const withGaps = Float64Array.from(ref.numbers as Float64Array);
  for (let i = 0; i < withGaps.length; i += 10) withGaps[i] = Number.NaN;
  const [feature] = driftReport([{ name: 'x', numbers: withGaps }], [numeric('x', 2, 150)]).features;
  assert.equal(feature?.reference_rows, 180);
  assert.equal(feature?.current_rows, 150);
  const [labelled] = driftReport([{ name: 's', strings: ['a', null, 'b', 'c', null] }], [{ name: 's', strings: ['a', 'b', 'c'] }]).features;
  assert.equal(labelled?.reference_rows, 3);
  assert.equal(labelled?.p_value, 1);
});

test('driftReport applies per-feature threshold, test and type overrides', () => {
  const ref = [numeric('x', 1, 1000), numeric('y', 2, 1000)];
  const cur = [numeric('x', 3, 1000, 0.02), numeric('y', 4, 1000, 0.02)];
  const base = driftReport(ref, cur);
  const x = base.features[0]!;
  assert.equal(x.test, 'ks');
  const flipped = driftReport(ref, cur, { thresholds: { x: (x.p_value as number) * (x.drifted ? 0.5 : 2) } }).features[0]!;
  assert.equal(flipped.drifted, !x.drifted);
  const overridden = driftReport(ref, cur, { tests: { x: 'psi', y: 'jensenshannon' }, thresholds: { y: 0.001 } });
  assert.deepEqual(overridden.features.map((f) => [f.test, f.threshold, f.p_value]), [['psi', 0.1, undefined], ['jensenshannon', 0.001, undefined]]);
  assert.equal(overridden.features[1]?.drifted, (overridden.features[1]?.statistic as number) >= 0.001);
  const typed = driftReport(ref, cur, { types: { x: 'categorical' } }).features[0]!;
  assert.deepEqual([typed.type, typed.test], ['categorical', 'chisquare']);
});

test('dataset_drift is true at exactly the share threshold: 2 of 4 features drifted with the default 0.5', () => {
  const ref = [numeric('a', 1, 500), numeric('b', 2, 500), numeric('c', 3, 500), numeric('d', 4, 500)];
  const cur = [numeric('a', 5, 500, 0.5), numeric('b', 6, 500, 0.5), numeric('c', 7, 500), numeric('d', 8, 500)];
  const report = driftReport(ref, cur);
  assert.deepEqual(report.features.map((f) => f.drifted), [true, true, false, false]);
  assert.equal(report.drifted_features, 2);
  assert.equal(report.drift_share, 0.5);
  assert.equal(report.dataset_drift, true);
  assert.deepEqual(report.options, { share_threshold: 0.5 });
  const stricter = driftReport(ref, cur, { shareThreshold: 0.75 });
  assert.equal(stricter.dataset_drift, false);
});

test('driftReport names a reference column missing from the current data, and rejects bad options', () => {
  assert.throws(() => driftReport([numeric('age', 1, 10), numeric('income', 2, 10)], [numeric('age', 3, 10)]), /column "income" is in the reference data but missing from the current data/);
  assert.throws(() => driftReport([numeric('x', 1, 10)], [numeric('x', 2, 10)], { shareThreshold: 0 }), /shareThreshold/);
  assert.throws(() => driftReport([numeric('x', 1, 10)], [numeric('x', 2, 10)], { tests: { x: 'anova' as never } }), /unknown drift test/);
  assert.throws(() => driftReport([labels('s', 1, 10, ['a', 'b', 'c'])], [labels('s', 2, 10, ['a', 'b', 'c'])], { tests: { s: 'ks' } }), /needs numbers/);
  assert.throws(() => driftReport([{ name: 'x', numbers: Float64Array.of(Number.NaN) }], [numeric('x', 2, 10)]), /no values in the reference/);
});
