import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { compareOutputs, labelDistributionDivergence } from './shadow-compare.js';

const tensor = (datatype: Tensor['datatype'], shape: number[], data: Tensor['data']): Tensor => ({ datatype, shape, data });

const classifier = (labels: bigint[], p1: number[]): TensorMap => ({
  label: tensor('INT64', [labels.length], BigInt64Array.from(labels)),
  probabilities: tensor('FP32', [labels.length, 2], Float32Array.from(p1.flatMap((p) => [1 - p, p]))),
});

const regressor = (values: number[], datatype: 'FP32' | 'FP64' = 'FP32'): TensorMap => ({
  variable: tensor(datatype, [values.length, 1], datatype === 'FP32' ? Float32Array.from(values) : Float64Array.from(values)),
});

test('a classifier agrees when every row has the same label, whatever the probabilities', () => {
  assert.deepEqual(compareOutputs(classifier([1n, 0n], [0.9, 0.2]), classifier([1n, 0n], [0.6, 0.4]), { tolerance: 0 }),
    { agree: true, kind: 'label', primaryLabel: '1', shadowLabel: '1', maxAbsDiff: null });
  assert.deepEqual(compareOutputs(classifier([1n, 0n], [0.9, 0.2]), classifier([1n, 1n], [0.9, 0.6]), { tolerance: 1 }),
    { agree: false, kind: 'label', primaryLabel: '1', shadowLabel: '1', maxAbsDiff: null });
  assert.deepEqual(compareOutputs(classifier([0n], [0.1]), classifier([1n], [0.9]), { tolerance: 1 }),
    { agree: false, kind: 'label', primaryLabel: '0', shadowLabel: '1', maxAbsDiff: null });
});

test('string labels, and labels of different datatypes, compare as text', () => {
  const strings = (labels: string[]): TensorMap => ({ label: tensor('BYTES', [labels.length], labels) });
  assert.equal(compareOutputs(strings(['sun', 'rain']), strings(['sun', 'rain']), { tolerance: 0 }).agree, true);
  assert.deepEqual(compareOutputs(strings(['sun']), strings(['fog']), { tolerance: 0 }),
    { agree: false, kind: 'label', primaryLabel: 'sun', shadowLabel: 'fog', maxAbsDiff: null });
  const int32: TensorMap = { label: tensor('INT32', [2], Int32Array.from([7, 3])) };
  assert.equal(compareOutputs(classifier([7n, 3n], [0, 0]), int32, { tolerance: 0 }).agree, true);
  assert.equal(compareOutputs(int32, strings(['7', '3']), { tolerance: 0 }).agree, true);
  assert.equal(compareOutputs(int32, strings(['7', '4']), { tolerance: 0 }).agree, false);
});

test('labelOutput picks the label output, and a missing or reshaped one is a disagreement', () => {
  const a: TensorMap = { score: tensor('FP32', [1], Float32Array.from([0.5])), cls: tensor('INT64', [1], BigInt64Array.from([2n])) };
  const b: TensorMap = { score: tensor('FP32', [1], Float32Array.from([0.4])), cls: tensor('INT64', [1], BigInt64Array.from([2n])) };
  assert.equal(compareOutputs(a, b, { tolerance: 0, labelOutput: 'cls' }).agree, true);
  assert.deepEqual(compareOutputs(a, b, { tolerance: 0, labelOutput: 'nope' }),
    { agree: false, kind: 'label', primaryLabel: null, shadowLabel: null, maxAbsDiff: null });
  assert.deepEqual(compareOutputs(a, { score: b.score! }, { tolerance: 0 }),
    { agree: false, kind: 'label', primaryLabel: '2', shadowLabel: null, maxAbsDiff: null });
  const reshaped: TensorMap = { cls: tensor('INT64', [1, 1], BigInt64Array.from([2n])) };
  assert.equal(compareOutputs(a, reshaped, { tolerance: 0 }).agree, false);
  const moreRows: TensorMap = { cls: tensor('INT64', [2], BigInt64Array.from([2n, 2n])) };
  assert.equal(compareOutputs(a, moreRows, { tolerance: 0 }).agree, false);
});

test('BOOL outputs are labels too', () => {
  const bool = (v: number): TensorMap => ({ is_fraud: tensor('BOOL', [1], Uint8Array.from([v])) });
  assert.deepEqual(compareOutputs(bool(1), bool(1), { tolerance: 0 }), { agree: true, kind: 'label', primaryLabel: '1', shadowLabel: '1', maxAbsDiff: null });
  assert.equal(compareOutputs(bool(1), bool(0), { tolerance: 0 }).agree, false);
});

test('a regressor agrees when the first float output is within tolerance element-wise', () => {
  const r = compareOutputs(regressor([1.5, 2.25]), regressor([1.5, 2.5]), { tolerance: 0.25 });
  assert.deepEqual(r, { agree: true, kind: 'numeric', primaryLabel: null, shadowLabel: null, maxAbsDiff: 0.25 });
  assert.equal(compareOutputs(regressor([1.5, 2.25]), regressor([1.5, 2.5]), { tolerance: 0.2 }).agree, false);
  // FP32 primary against an FP64 shadow is compared by value.
  const mixed = compareOutputs(regressor([0.5]), regressor([0.75], 'FP64'), { tolerance: 0.3 });
  assert.equal(mixed.maxAbsDiff, 0.25);
  assert.equal(mixed.agree, true);
  assert.deepEqual(compareOutputs(regressor([]), regressor([]), { tolerance: 0 }).maxAbsDiff, 0);
});

test('NaN agrees only with NaN, and infinities only with themselves', () => {
  assert.equal(compareOutputs(regressor([NaN]), regressor([NaN]), { tolerance: 0 }).agree, true);
  assert.equal(compareOutputs(regressor([NaN]), regressor([1]), { tolerance: 1e9 }).maxAbsDiff, Infinity);
  assert.equal(compareOutputs(regressor([1]), regressor([NaN]), { tolerance: 1e9 }).agree, false);
  assert.equal(compareOutputs(regressor([Infinity]), regressor([Infinity]), { tolerance: 0 }).agree, true);
  assert.equal(compareOutputs(regressor([Infinity]), regressor([-Infinity]), { tolerance: 1e9 }).agree, false);
});

test('missing float outputs or a shape mismatch are disagreements', () => {
  const none = { agree: false, kind: 'numeric', primaryLabel: null, shadowLabel: null, maxAbsDiff: null };
  assert.deepEqual(compareOutputs(regressor([1]), {}, { tolerance: 1 }), none);
  assert.deepEqual(compareOutputs({}, {}, { tolerance: 1 }), none);
  assert.deepEqual(compareOutputs(regressor([1, 2]), regressor([1]), { tolerance: 1 }), none);
  const transposed: TensorMap = { variable: tensor('FP32', [1, 2], Float32Array.from([1, 2])) };
  assert.deepEqual(compareOutputs(regressor([1, 2]), transposed, { tolerance: 1 }), none);
  const wrongType: TensorMap = { variable: tensor('BYTES', [1, 1], ['1']) };
  assert.deepEqual(compareOutputs(regressor([1]), wrongType, { tolerance: 1 }), none);
});

// Expected values from python3 with scipy 1.17.1:
//   from scipy.spatial.distance import jensenshannon
//   jensenshannon([90, 10], [60, 40])                    # labels in sorted order, 0 for a missing label
test('labelDistributionDivergence is the Jensen–Shannon distance of scipy (natural log)', () => {
  const cases: [Record<string, number>, Record<string, number>, number][] = [
    [{ 0: 50, 1: 50 }, { 0: 50, 1: 50 }, 0],
    [{ 0: 90, 1: 10 }, { 0: 60, 1: 40 }, 0.25157071454852614],
    [{ a: 1 }, { b: 1 }, 0.8325546111576977], // sqrt(ln 2), the maximum
    [{ cat: 120, dog: 30, bird: 50 }, { cat: 100, dog: 60, fish: 40 }, 0.4134929401228637],
    [{ 0: 9000, 1: 1000 }, { 0: 9, 1: 1 }, 0],
    [{ 0: 999, 1: 1 }, { 0: 1, 1: 999 }, 0.8277921994363762],
  ];
  for (const [a, b, expected] of cases) {
    const d = labelDistributionDivergence(a, b);
    assert.ok(Math.abs(d - expected) < 1e-12, `${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${d}, scipy ${expected}`);
    assert.ok(Math.abs(labelDistributionDivergence(b, a) - d) < 1e-15, 'symmetric');
  }
});

test('labelDistributionDivergence is NaN without counts and rejects negative counts', () => {
  assert.ok(Number.isNaN(labelDistributionDivergence({}, { a: 1 })));
  assert.ok(Number.isNaN(labelDistributionDivergence({ a: 0 }, { a: 1 })));
  assert.equal(labelDistributionDivergence({ a: 3, b: 0 }, { a: 5 }), 0);
  assert.throws(() => labelDistributionDivergence({ a: -1, b: 2 }, { a: 1 }), /a\["a"\] must be a finite number ≥ 0, got -1/);
  assert.throws(() => labelDistributionDivergence({ a: 1 }, { b: NaN }), /b\["b"\]/);
});
