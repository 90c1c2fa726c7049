import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { topConfidence } from './confidence.js';

const fp32 = (shape: number[], data: number[]): Tensor => ({ datatype: 'FP32', shape, data: new Float32Array(data) });
const fp64 = (shape: number[], data: number[]): Tensor => ({ datatype: 'FP64', shape, data: new Float64Array(data) });
const label = (values: number[]): Tensor => ({ datatype: 'INT64', shape: [values.length], data: new BigInt64Array(values.map(BigInt)) });

describe('topConfidence', () => {
  it('reads the weather model: the larger of the two class probabilities, per row', () => {
    const outputs: TensorMap = { label: label([1, 0, 1]), probabilities: fp32([3, 2], [0.25, 0.75, 0.875, 0.125, 0.5, 0.5]) };
    assert.deepEqual(topConfidence(outputs, 3), [0.75, 0.875, 0.5]);
  });

  it('prefers an output named for probabilities (any case) over an earlier distribution', () => {
    const outputs: TensorMap = {
      scores: fp32([1, 2], [0.5, 0.5]),
      Class_PROB: fp32([1, 3], [0.125, 0.625, 0.25]),
    };
    assert.deepEqual(topConfidence(outputs, 1), [0.625]);
  });

  it('without such a name, takes the first float output whose rows each sum to 1', () => {
    const outputs: TensorMap = {
      label: label([2, 0]),
      logits: fp32([2, 3], [2, -1, 0.5, 1, 3, 0]),
      softmax: fp64([2, 3], [0.1, 0.2, 0.7, 0.6, 0.3, 0.1]),
    };
    assert.deepEqual(topConfidence(outputs, 2), [0.7, 0.6]);
  });

  it('skips a "prob" output that does not hold probabilities (logits misnamed) and looks on', () => {
    const outputs: TensorMap = { prob_logits: fp32([1, 2], [3.5, -2]), p: fp32([1, 2], [0.25, 0.75]) };
    assert.deepEqual(topConfidence(outputs, 1), [0.75]);
  });

  it('is null for a label-only model and for a regression', () => {
    assert.equal(topConfidence({ label: label([1, 0]) }, 2), null);
    assert.equal(topConfidence({ variable: fp32([2, 1], [1, 1]) }, 2), null, 'one column of ones is not a distribution');
    assert.equal(topConfidence({ predicted: fp32([2, 2], [3, 4, 0.5, 0.25]) }, 2), null);
    assert.equal(topConfidence({}, 1), null);
  });

  it('reads a one-column probability as P(positive) of a binary model: max(p, 1 − p)', () => {
    assert.deepEqual(topConfidence({ probability: fp32([3], [0.875, 0.25, 0.5]) }, 3), [0.875, 0.75, 0.5]);
    assert.deepEqual(topConfidence({ probability: fp32([2, 1], [0.125, 1]) }, 2), [0.875, 1]);
  });

  it('uses the output it is told to, and is null when that one is missing or not a float tensor', () => {
    const outputs: TensorMap = { probabilities: fp32([1, 2], [0.25, 0.75]), other: fp32([1, 2], [0.875, 0.125]), label: label([1]) };
    assert.deepEqual(topConfidence(outputs, 1, 'other'), [0.875]);
    assert.equal(topConfidence(outputs, 1, 'missing'), null);
    assert.equal(topConfidence(outputs, 1, 'label'), null);
    assert.equal(topConfidence(outputs, 1, 'toString'), null, 'an inherited name is not an output');
  });

  it('is null when the output does not have one row per request row', () => {
    const outputs: TensorMap = { probabilities: fp32([2, 2], [0.25, 0.75, 0.5, 0.5]) };
    assert.equal(topConfidence(outputs, 3), null);
    assert.equal(topConfidence({ probabilities: { datatype: 'FP32', shape: [2, 2], data: new Float32Array(3) } }, 2), null);
  });

  it('gives a row with NaN confidence 0, so it counts as uncertain', () => {
    const outputs: TensorMap = { probabilities: fp32([2, 2], [NaN, 0.5, 0.25, 0.75]) };
    assert.deepEqual(topConfidence(outputs, 2), [0, 0.75]);
  });

  it('tolerates float rounding in row sums but not a real shortfall', () => {
    assert.deepEqual(topConfidence({ s: fp32([1, 3], [0.3333, 0.3333, 0.3334]) }, 1)!.map((x) => Math.round(x * 1e4) / 1e4), [0.3334]);
    assert.equal(topConfidence({ s: fp32([1, 3], [0.3, 0.3, 0.3]) }, 1), null);
  });

  it('answers an empty list for zero rows', () => {
    assert.deepEqual(topConfidence({ probabilities: fp32([0, 2], []) }, 0), []);
  });
});
