import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signature } from '../../registry/signature.js';
import { decodeV1Instances, encodeV1Response } from './v1.js';
import { EXAMPLE, EXAMPLE_FEATURES, spec, throwsCode } from './test-support.js';

const F = EXAMPLE_FEATURES;
const row = (p: unknown, tmax: unknown, tmin: unknown, wind: unknown): Record<string, unknown> => ({ precipitation: p, temp_max: tmax, temp_min: tmin, wind });

describe('decodeV1Instances', () => {
  it('builds [rows, features] from objects keyed by feature name, in feature order', () => {
    const { inputs, rows } = decodeV1Instances({ instances: [row(0, 25.5, 12, 3.25), { wind: 4, temp_min: 10, temp_max: 20, precipitation: 1.5 }] }, F, EXAMPLE);
    assert.equal(rows, 2);
    const t = inputs.features!;
    assert.equal(t.datatype, 'FP32');
    assert.deepEqual(t.shape, [2, 4]);
    assert.ok(t.data instanceof Float32Array);
    assert.deepEqual(Array.from(t.data), [0, 25.5, 12, 3.25, 1.5, 20, 10, 4]);
  });

  it('takes arrays in feature order, also mixed with objects', () => {
    const a = decodeV1Instances({ instances: [[0, 25.5, 12, 3.25], row(1.5, 20, 10, 4)] }, F, EXAMPLE);
    const b = decodeV1Instances({ instances: [row(0, 25.5, 12, 3.25), [1.5, 20, 10, 4]] }, F, EXAMPLE);
    assert.deepEqual(a, b);
  });

  it('uses the input\'s datatype, including 64-bit integers as decimal strings', () => {
    const sig: Signature = { inputs: [spec('x', 'INT64', [null, 2])], outputs: [] };
    const { inputs } = decodeV1Instances({ instances: [{ a: 1, b: '9223372036854775807' }] }, ['a', 'b'], sig);
    assert.deepEqual(Array.from(inputs.x!.data as BigInt64Array), [1n, 2n ** 63n - 1n]);
  });

  it('rejects malformed bodies and instances', () => {
    const M = 'MG_ERR_INFER_MALFORMED_REQUEST';
    for (const body of [null, 1, 'x', [], [row(1, 2, 3, 4)]]) throwsCode(() => decodeV1Instances(body, F, EXAMPLE), M, /V1 predict request is a JSON object/);
    for (const instances of [undefined, null, {}, [], 'x']) throwsCode(() => decodeV1Instances({ instances }, F, EXAMPLE), M, /"instances" must be a non-empty array/);
    throwsCode(() => decodeV1Instances({ instances: [row(1, 2, 3, 4), 5] }, F, EXAMPLE), M, /instance 1 is 5; an instance is an object keyed by feature name or an array of 4 values/);
    throwsCode(() => decodeV1Instances({ instances: [null] }, F, EXAMPLE), M);
  });

  it('requires every feature and rejects unknown keys, naming them', () => {
    throwsCode(() => decodeV1Instances({ instances: [row(1, 2, 3, 4), { precipitation: 1, temp_max: 2, temp_min: 3 }] }, F, EXAMPLE), 'MG_ERR_INFER_MISSING_INPUT', /instance 1 lacks feature "wind"/);
    throwsCode(() => decodeV1Instances({ instances: [{ ...row(1, 2, 3, 4), month: 5, extra: 1 }] }, F, EXAMPLE), 'MG_ERR_INFER_UNKNOWN_INPUT', /instance 0 has unknown features "month", "extra"/);
    throwsCode(() => decodeV1Instances({ instances: [JSON.parse('{"precipitation":1,"temp_max":2,"temp_min":3,"wind":4,"__proto__":{"x":1}}')] }, F, EXAMPLE), 'MG_ERR_INFER_UNKNOWN_INPUT', /"__proto__"/);
    throwsCode(() => decodeV1Instances({ instances: [{ precipitation: 1, temp_max: 2, temp_min: 3, constructor: 4 }] }, F, EXAMPLE), 'MG_ERR_INFER_MISSING_INPUT', /lacks feature "wind"/);
  });

  it('does not take inherited properties for features named like Object.prototype members', () => {
    const sig: Signature = { inputs: [spec('x', 'FP64', ['batch', 2])], outputs: [] };
    throwsCode(() => decodeV1Instances({ instances: [{ constructor: 1 }] }, ['constructor', 'toString'], sig), 'MG_ERR_INFER_MISSING_INPUT', /lacks feature "toString"/);
    const { inputs } = decodeV1Instances({ instances: [{ constructor: 1, toString: 2 }] }, ['constructor', 'toString'], sig);
    assert.deepEqual(Array.from(inputs.x!.data as Float64Array), [1, 2]);
    const proto: Signature = { inputs: [spec('x', 'FP64', ['batch', 1])], outputs: [] };
    throwsCode(() => decodeV1Instances({ instances: [{}] }, ['__proto__'], proto), 'MG_ERR_INFER_MISSING_INPUT');
    assert.deepEqual(Array.from(decodeV1Instances({ instances: [JSON.parse('{"__proto__": 7}')] }, ['__proto__'], proto).inputs.x!.data as Float64Array), [7]);
  });

  it('rejects rows of the wrong length and bad values, naming instance and feature', () => {
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3]] }, F, EXAMPLE), 'MG_ERR_INFER_DATA_LENGTH', /instance 0 has 3 values, expected 4/);
    const e = throwsCode(() => decodeV1Instances({ instances: [row(1, 2, 3, 4), row(1, '2', 3, 4)] }, F, EXAMPLE), 'MG_ERR_INFER_INVALID_VALUE', /instance 1, feature "temp_max": value is "2", expected a finite number/);
    assert.deepEqual(e.details, { instance: 1, feature: 'temp_max', index: 5 });
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 1e39]] }, F, EXAMPLE), 'MG_ERR_INFER_INVALID_VALUE', /feature "wind"/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, [4]]] }, F, EXAMPLE), 'MG_ERR_INFER_DATA_LENGTH');
    throwsCode(() => decodeV1Instances({ instances: [row(null, 2, 3, 4)] }, F, EXAMPLE), 'MG_ERR_INFER_INVALID_VALUE');
  });

  it('holds a fixed row count', () => {
    const sig: Signature = { inputs: [spec('x', 'FP32', [1, 4])], outputs: [] };
    decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, sig);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4], [1, 2, 3, 4]] }, F, sig), 'MG_ERR_INFER_SHAPE_MISMATCH', /exactly 1 row, got 2 instances/);
  });

  it('refuses models that do not have one 2-D numeric input fitting the features', () => {
    const U = 'MG_ERR_INFER_V1_UNSUPPORTED';
    const two: Signature = { inputs: [spec('a', 'FP32', ['batch', 4]), spec('b', 'FP32', ['batch', 4])], outputs: [] };
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, two), U, /this model has 2 inputs/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'FP32', ['batch'])], outputs: [] }), U, /shape \[batch\]/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'FP32', null)], outputs: [] }), U);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'FP32', ['batch', 5])], outputs: [] }), U, /4 features are recorded/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'BYTES', ['batch', 4])], outputs: [] }), U, /not a numeric tensor/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'BOOL', ['batch', 4])], outputs: [] }), U);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', null, null, 'map')], outputs: [] }), U);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, [], EXAMPLE), U, /no recorded feature order/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, ['a', 'b', 'a', 'c'], EXAMPLE), U, /names a feature twice/);
    throwsCode(() => decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'FP16', ['batch', 4])], outputs: [] }), 'MG_ERR_INFER_UNSUPPORTED_DATATYPE');
    // a symbolic or unknown second dimension takes any feature count
    decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'FP64', ['batch', 'f'])], outputs: [] });
    decodeV1Instances({ instances: [[1, 2, 3, 4]] }, F, { inputs: [spec('x', 'UINT8', [null, null])], outputs: [] });
  });

  it('follows a changed feature list for the same signature', () => {
    const sig: Signature = { inputs: [spec('x', 'FP64', ['batch', null])], outputs: [] };
    assert.deepEqual(decodeV1Instances({ instances: [{ a: 1, b: 2 }] }, ['a', 'b'], sig).inputs.x!.shape, [1, 2]);
    assert.deepEqual(decodeV1Instances({ instances: [{ c: 1 }] }, ['c'], sig).inputs.x!.shape, [1, 1]);
  });
});

describe('encodeV1Response', () => {
  it('gives a scalar per row for a single [batch] output', () => {
    const out = encodeV1Response({ label: { datatype: 'INT64', shape: [3], data: new BigInt64Array([1n, 0n, 2n ** 60n]) } }, 3);
    assert.deepEqual(out, { predictions: [1, 0, '1152921504606846976'] });
  });
  it('gives an array per row for a single [batch, k] output, and a scalar for [batch, 1]', () => {
    assert.deepEqual(encodeV1Response({ p: { datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.75, 0.25, 0.5, 0.5]) } }, 2), { predictions: [[0.75, 0.25], [0.5, 0.5]] });
    assert.deepEqual(encodeV1Response({ p: { datatype: 'FP64', shape: [2, 1], data: new Float64Array([0.1, 0.2]) } }, 2), { predictions: [0.1, 0.2] });
  });
  it('nests rows of higher-rank outputs as their remaining dimensions', () => {
    const data = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(encodeV1Response({ m: { datatype: 'INT32', shape: [2, 3, 2], data } }, 2), { predictions: [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]] });
  });
  it('gives an object per row with several outputs (the example model)', () => {
    const out = encodeV1Response({
      label: { datatype: 'INT64', shape: [2], data: new BigInt64Array([0n, 1n]) },
      probabilities: { datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.75, 0.25, 0.25, 0.75]) },
      rain: { datatype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) },
    }, 2);
    assert.deepEqual(out, { predictions: [
      { label: 0, probabilities: [0.75, 0.25], rain: false },
      { label: 1, probabilities: [0.25, 0.75], rain: true },
    ] });
  });
  it('reports an output without one row per instance as a runtime failure', () => {
    throwsCode(() => encodeV1Response({ p: { datatype: 'FP32', shape: [3], data: new Float32Array(3) } }, 2), 'MG_ERR_INFER_RUNTIME_FAILED', /output "p" has shape \[3\]/);
    throwsCode(() => encodeV1Response({ p: { datatype: 'FP32', shape: [], data: new Float32Array(1) } }, 1), 'MG_ERR_INFER_RUNTIME_FAILED');
  });
  it('round-trips the example model through V1', () => {
    const { inputs, rows } = decodeV1Instances({ instances: [row(0, 25.5, 12, 3.25)] }, F, EXAMPLE);
    assert.equal(rows, 1);
    assert.deepEqual(inputs.features!.shape, [1, 4]);
    assert.deepEqual(encodeV1Response({ label: { datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) } }, rows), { predictions: [1] });
  });
});
