import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Signature, TensorDatatype } from '../../registry/signature.js';
import type { TensorMap } from '../../runtime/types.js';
import { decodeInferRequest, encodeInferResponse } from './v2.js';
import { EXAMPLE, spec, throwsCode } from './test-support.js';

const req = (inputs: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ inputs, ...extra });
const features = (data: unknown, shape: unknown = [1, 4], datatype: unknown = 'FP32'): Record<string, unknown> =>
  ({ name: 'features', shape, datatype, data });

describe('decodeInferRequest: the example signature', () => {
  it('decodes a batch of 2 into a Float32Array [2,4] with batchSize 2', () => {
    const d = decodeInferRequest(req([features([0, 25.5, 12, 3.25, 1.5, 20, 10, 4], [2, 4])], { id: 'r1' }), EXAMPLE);
    assert.equal(d.id, 'r1');
    assert.equal(d.batchSize, 2);
    assert.equal(d.outputs, undefined);
    assert.equal(d.parameters, undefined);
    const t = d.inputs.features!;
    assert.equal(t.datatype, 'FP32');
    assert.deepEqual(t.shape, [2, 4]);
    assert.ok(t.data instanceof Float32Array);
    assert.deepEqual(Array.from(t.data), [0, 25.5, 12, 3.25, 1.5, 20, 10, 4]);
    assert.deepEqual(Object.keys(d.inputs), ['features']);
  });

  it('rounds to float32 and keeps -0', () => {
    const d = decodeInferRequest(req([features([0.1, -0, 3.4028234663852886e38, 1e-50])]), EXAMPLE);
    const data = d.inputs.features!.data as Float32Array;
    assert.equal(data[0], Math.fround(0.1));
    assert.ok(Object.is(data[1], -0));
    assert.equal(data[2], 3.4028234663852886e38);
    assert.equal(data[3], 0);
  });

  it('selects outputs, in request order, and treats [] as all of them', () => {
    const d = decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: [{ name: 'probabilities' }, { name: 'label', parameters: { binary_data: false } }] }), EXAMPLE);
    assert.deepEqual(d.outputs, ['probabilities', 'label']);
    assert.equal(decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: [] }), EXAMPLE).outputs, undefined);
  });

  it('passes parameters through and treats null optional fields as absent', () => {
    const d = decodeInferRequest(req([features([1, 2, 3, 4])], { parameters: { content_type: 'np', priority: 2, trace: true } }), EXAMPLE);
    assert.deepEqual(d.parameters, { content_type: 'np', priority: 2, trace: true });
    const n = decodeInferRequest(req([{ ...features([1, 2, 3, 4]), parameters: null }], { id: null, parameters: null, outputs: null }), EXAMPLE);
    assert.equal(n.id, undefined);
    assert.equal(n.parameters, undefined);
    assert.equal(n.outputs, undefined);
  });

  it('ignores unknown extra fields', () => {
    const d = decodeInferRequest(req([{ ...features([1, 2, 3, 4]), extra: 1 }], { model_name: 'weather' }), EXAMPLE);
    assert.deepEqual(d.inputs.features!.shape, [1, 4]);
  });
});

describe('decodeInferRequest: malformed requests', () => {
  const M = 'MG_ERR_INFER_MALFORMED_REQUEST';
  it('rejects a body that is not an object', () => {
    for (const body of [null, undefined, 1, 'x', true, [], [features([1, 2, 3, 4])]]) throwsCode(() => decodeInferRequest(body, EXAMPLE), M, /JSON object/);
  });
  it('rejects inputs that are not a non-empty array', () => {
    for (const inputs of [undefined, null, {}, 'features', 1, []]) throwsCode(() => decodeInferRequest({ inputs }, EXAMPLE), M, /"inputs" must be a non-empty array/);
  });
  it('rejects an input that is not an object, or lacks name, shape, datatype or data', () => {
    throwsCode(() => decodeInferRequest(req([1]), EXAMPLE), M, /inputs\[0\] must be an object/);
    throwsCode(() => decodeInferRequest(req([null]), EXAMPLE), M, /inputs\[0\] must be an object/);
    throwsCode(() => decodeInferRequest(req([{ shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }]), EXAMPLE), M, /"name" string/);
    throwsCode(() => decodeInferRequest(req([{ ...features([1, 2, 3, 4]), name: 7 }]), EXAMPLE), M, /"name" string/);
    throwsCode(() => decodeInferRequest(req([{ name: 'features', datatype: 'FP32', data: [1, 2, 3, 4] }]), EXAMPLE), M, /input "features": "shape" must be an array/);
    throwsCode(() => decodeInferRequest(req([{ name: 'features', shape: [1, 4], data: [1, 2, 3, 4] }]), EXAMPLE), M, /input "features": "datatype" must be a string/);
    throwsCode(() => decodeInferRequest(req([{ name: 'features', shape: [1, 4], datatype: 'FP32' }]), EXAMPLE), M, /input "features": "data" must be an array/);
    throwsCode(() => decodeInferRequest(req([features('1,2,3,4')]), EXAMPLE), M, /"data" must be an array/);
  });
  it('rejects shapes that are not arrays of non-negative safe integers', () => {
    for (const shape of [[1, -4], [1, 4.5], [1, '4'], [1, null], [2 ** 53, 4], [1, NaN], [1, Infinity], 'batch', {}]) {
      throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4], shape)]), EXAMPLE), M, /"shape" must be an array of non-negative integers/);
    }
  });
  it('names the binary data extension when data is absent for it', () => {
    throwsCode(() => decodeInferRequest(req([{ name: 'features', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }]), EXAMPLE), M, /binary tensor data extension/);
  });
  it('rejects a duplicate input', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4]), features([1, 2, 3, 4])]), EXAMPLE), M, /input "features": given more than once/);
  });
  it('rejects a non-string id and malformed parameters', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { id: 42 }), EXAMPLE), M, /"id" must be a string/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { parameters: [] }), EXAMPLE), M, /"parameters" must be an object/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { parameters: { headers: { a: 1 } } }), EXAMPLE), M, /parameter "headers" is an object/);
    throwsCode(() => decodeInferRequest(req([{ ...features([1, 2, 3, 4]), parameters: 'x' }]), EXAMPLE), M, /input "features": "parameters" must be an object/);
  });
  it('rejects outputs that are not an array of {name} objects, or name one twice', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: 'label' }), EXAMPLE), M, /"outputs" must be an array/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: ['label'] }), EXAMPLE), M, /outputs\[0\] must be an object/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: [{ name: 'label' }, { name: 'label' }] }), EXAMPLE), M, /output "label": asked for more than once/);
  });
  it('turns a throwing getter or Proxy into a ModelgateError', () => {
    const hostile = { get inputs(): unknown { throw new Error('boom'); } };
    throwsCode(() => decodeInferRequest(hostile, EXAMPLE), M);
    const proxy = new Proxy([], { get() { throw new TypeError('trap'); } });
    throwsCode(() => decodeInferRequest({ inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: proxy }] }, EXAMPLE), M);
  });
});

describe('decodeInferRequest: names', () => {
  it('rejects an unknown input, listing the model\'s inputs', () => {
    throwsCode(() => decodeInferRequest(req([{ ...features([1, 2, 3, 4]), name: 'x' }]), EXAMPLE), 'MG_ERR_INFER_UNKNOWN_INPUT', /no input "x"; its inputs are "features"/);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(100_000)]) {
      const e = throwsCode(() => decodeInferRequest(req([{ ...features([1, 2, 3, 4]), name }]), EXAMPLE), 'MG_ERR_INFER_UNKNOWN_INPUT');
      assert.ok(e.message.length < 300, 'a long name is cut short in the message');
    }
  });
  it('rejects a missing input, naming it', () => {
    const sig: Signature = { inputs: [spec('a', 'FP32', [1]), spec('b', 'INT32', [1]), spec('c', 'BOOL', [1])], outputs: [] };
    throwsCode(() => decodeInferRequest(req([{ name: 'b', shape: [1], datatype: 'INT32', data: [1] }]), sig), 'MG_ERR_INFER_MISSING_INPUT', /lacks inputs "a", "c"/);
  });
  it('rejects an unknown output', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: [{ name: 'score' }] }), EXAMPLE), 'MG_ERR_INFER_UNKNOWN_OUTPUT', /no output "score"; its outputs are "label", "probabilities"/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4])], { outputs: [{ name: '__proto__' }] }), EXAMPLE), 'MG_ERR_INFER_UNKNOWN_OUTPUT');
  });
  it('decodes an input named __proto__ as an own property', () => {
    const sig: Signature = { inputs: [spec('__proto__', 'INT32', [2])], outputs: [] };
    const d = decodeInferRequest(JSON.parse('{"inputs":[{"name":"__proto__","shape":[2],"datatype":"INT32","data":[1,2]}]}'), sig);
    assert.ok(Object.hasOwn(d.inputs, '__proto__'));
    assert.equal(Object.getPrototypeOf(d.inputs), Object.prototype);
    assert.deepEqual(Array.from(d.inputs['__proto__']!.data as Int32Array), [1, 2]);
  });
});

describe('decodeInferRequest: datatypes', () => {
  it('rejects a different datatype with the exact message', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4], [1, 4], 'INT64')]), EXAMPLE), 'MG_ERR_INFER_DATATYPE_MISMATCH', 'input "features": expected FP32, got INT64');
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4], [1, 4], 'fp32')]), EXAMPLE), 'MG_ERR_INFER_DATATYPE_MISMATCH', 'input "features": expected FP32, got fp32');
  });
  it('rejects FP16 and BF16, in the request or the signature', () => {
    for (const dt of ['FP16', 'BF16']) {
      throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4], [1, 4], dt)]), EXAMPLE), 'MG_ERR_INFER_UNSUPPORTED_DATATYPE', new RegExp(`${dt} cannot be sent as JSON`));
      const sig: Signature = { inputs: [spec('h', dt as TensorDatatype, [2])], outputs: [] };
      throwsCode(() => decodeInferRequest(req([{ name: 'h', shape: [2], datatype: 'FP32', data: [1, 2] }]), sig), 'MG_ERR_INFER_UNSUPPORTED_DATATYPE');
    }
  });
  it('rejects inputs the signature does not describe as tensors', () => {
    const sig: Signature = { inputs: [spec('s', null, null, 'sequence')], outputs: [] };
    throwsCode(() => decodeInferRequest(req([{ name: 's', shape: [1], datatype: 'FP32', data: [1] }]), sig), 'MG_ERR_INFER_UNSUPPORTED_DATATYPE');
  });
});

describe('decodeInferRequest: shapes', () => {
  const S = 'MG_ERR_INFER_SHAPE_MISMATCH';
  it('rejects a different rank or a fixed dimension that does not fit', () => {
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4], [4])]), EXAMPLE), S, /expected shape \[batch,4\] \(2 dimensions\), got \[4\]/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4, 5], [1, 5])]), EXAMPLE), S, /expected shape \[batch,4\], got \[1,5\] \(dimension 1 must be 4\)/);
  });
  it('accepts any size for symbolic and unknown dimensions, and any shape for an unknown rank', () => {
    const sig: Signature = { inputs: [spec('x', 'INT32', [null, 'n', 2]), spec('y', 'INT32', null)], outputs: [] };
    const d = decodeInferRequest(req([
      { name: 'x', shape: [3, 1, 2], datatype: 'INT32', data: [1, 2, 3, 4, 5, 6] },
      { name: 'y', shape: [1, 1, 1, 2], datatype: 'INT32', data: [7, 8] },
    ]), sig);
    assert.deepEqual(d.inputs.x!.shape, [3, 1, 2]);
    assert.deepEqual(d.inputs.y!.shape, [1, 1, 1, 2]);
    assert.equal(d.batchSize, undefined, 'an input of unknown rank is not batchable');
  });
  it('holds one symbolic name to one size across inputs and within an input', () => {
    const sig: Signature = { inputs: [spec('a', 'FP32', ['batch', 2]), spec('b', 'FP32', ['batch'])], outputs: [] };
    const ok = decodeInferRequest(req([{ name: 'a', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [2], datatype: 'FP32', data: [5, 6] }]), sig);
    assert.equal(ok.batchSize, 2);
    throwsCode(() => decodeInferRequest(req([{ name: 'a', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }, { name: 'b', shape: [3], datatype: 'FP32', data: [5, 6, 7] }]), sig),
      S, /input "b": dimension 0 is "batch", which is 2 in input "a", but 3 here/);
    const square: Signature = { inputs: [spec('m', 'FP64', ['n', 'n'])], outputs: [] };
    decodeInferRequest(req([{ name: 'm', shape: [2, 2], datatype: 'FP64', data: [1, 2, 3, 4] }]), square);
    throwsCode(() => decodeInferRequest(req([{ name: 'm', shape: [2, 3], datatype: 'FP64', data: [1, 2, 3, 4, 5, 6] }]), square), S, /earlier dimension of this input/);
  });
  it('treats negative signature sizes as unknown', () => {
    const sig: Signature = { inputs: [spec('x', 'INT8', [-1, 2])], outputs: [] };
    const d = decodeInferRequest(req([{ name: 'x', shape: [3, 2], datatype: 'INT8', data: [1, 2, 3, 4, 5, 6] }]), sig);
    assert.equal(d.batchSize, 3);
  });
});

describe('decodeInferRequest: batchSize', () => {
  it('is the shared first dimension when every input starts with a symbolic or unknown one', () => {
    const sig: Signature = { inputs: [spec('a', 'FP32', ['batch', 2]), spec('b', 'INT64', [null])], outputs: [] };
    const d = decodeInferRequest(req([{ name: 'b', shape: [3], datatype: 'INT64', data: [1, 2, 3] }, { name: 'a', shape: [3, 2], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }]), sig);
    assert.equal(d.batchSize, 3);
    assert.deepEqual(Object.keys(d.inputs), ['a', 'b'], 'inputs come in signature order');
    const e = decodeInferRequest(req([{ name: 'a', shape: [3, 2], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }, { name: 'b', shape: [2], datatype: 'INT64', data: [1, 2] }]), sig);
    assert.equal(e.batchSize, undefined, 'different first dimensions');
  });
  it('is undefined when a first dimension is fixed or the input is a scalar', () => {
    const fixed: Signature = { inputs: [spec('a', 'FP32', [1, 2])], outputs: [] };
    assert.equal(decodeInferRequest(req([{ name: 'a', shape: [1, 2], datatype: 'FP32', data: [1, 2] }]), fixed).batchSize, undefined);
    const scalar: Signature = { inputs: [spec('a', 'FP32', ['batch']), spec('t', 'FP32', [])], outputs: [] };
    assert.equal(decodeInferRequest(req([{ name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] }, { name: 't', shape: [], datatype: 'FP32', data: [0.5] }]), scalar).batchSize, undefined);
  });
});

describe('decodeInferRequest: data layout', () => {
  const sig: Signature = { inputs: [spec('x', 'INT32', [2, 3, 2])], outputs: [] };
  const flat = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const nested = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]];
  it('decodes flat and nested data to the same tensor', () => {
    const a = decodeInferRequest(req([{ name: 'x', shape: [2, 3, 2], datatype: 'INT32', data: flat }]), sig);
    const b = decodeInferRequest(req([{ name: 'x', shape: [2, 3, 2], datatype: 'INT32', data: nested }]), sig);
    assert.deepEqual(a.inputs, b.inputs);
    assert.deepEqual(Array.from(b.inputs.x!.data as Int32Array), flat);
  });
  it('rejects a count that is not the product of the shape', () => {
    throwsCode(() => decodeInferRequest(req([{ name: 'x', shape: [2, 3, 2], datatype: 'INT32', data: flat.slice(1) }]), sig), 'MG_ERR_INFER_DATA_LENGTH', /shape \[2,3,2\] holds 12 elements, but "data" has 11/);
    throwsCode(() => decodeInferRequest(req([features([1, 2, 3, 4, 5])]), EXAMPLE), 'MG_ERR_INFER_DATA_LENGTH');
  });
  it('rejects nesting that does not follow the shape exactly', () => {
    const L = 'MG_ERR_INFER_DATA_LENGTH';
    const x = (data: unknown): unknown => decodeInferRequest(req([{ name: 'x', shape: [2, 3, 2], datatype: 'INT32', data }]), sig);
    throwsCode(() => x([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11]]]), L, /data\[1\]\[2\] should be an array of 2, got an array of 1/);
    throwsCode(() => x([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10]]]), L, /data\[1\] should be an array of 3/);
    throwsCode(() => x([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]), L, /data\[0\] should be an array of 3, got an array of 6/);
    throwsCode(() => x([[[1, 2], [3, 4], [5, 6]], 7]), L, /data\[1\] should be an array of 3, got 7/);
    throwsCode(() => x([[[1, [2]], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]), L, /element 1 is an array, but the data is nested deeper/);
    throwsCode(() => decodeInferRequest(req([features([[1, 2, 3, 4]], [4])]), { inputs: [spec('features', 'FP32', [4])], outputs: [] }), L);
    throwsCode(() => decodeInferRequest(req([features([[1], [2], [3], [4]], [4])]), { inputs: [spec('features', 'FP32', [4])], outputs: [] }), L, /element 0 is an array/);
  });
  it('survives 100,000 levels of nesting without recursion', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    throwsCode(() => decodeInferRequest(req([features(deep as unknown[])]), EXAMPLE), 'MG_ERR_INFER_DATA_LENGTH');
    throwsCode(() => decodeInferRequest(req([features([deep, 2, 3, 4])]), EXAMPLE), 'MG_ERR_INFER_DATA_LENGTH');
    // …and decodes it when the shape really is that deep.
    const anyShape: Signature = { inputs: [spec('x', 'FP64', null)], outputs: [] };
    const d = decodeInferRequest(req([{ name: 'x', shape: new Array(100_001).fill(1), datatype: 'FP64', data: deep }]), anyShape);
    assert.deepEqual(Array.from(d.inputs.x!.data as Float64Array), [1]);
    const e = throwsCode(() => decodeInferRequest(req([{ name: 'x', shape: new Array(100_002).fill(1), datatype: 'FP64', data: deep }]), anyShape), 'MG_ERR_INFER_DATA_LENGTH', /data\[0\]\[0\].*…\(100001 levels\) should be an array of 1, got 1/);
    assert.ok(e.message.length < 400);
  });
  it('handles scalars and empty tensors', () => {
    const s: Signature = { inputs: [spec('t', 'FP64', []), spec('e', 'FP32', ['n', 3]), spec('z', 'FP32', [2, 0])], outputs: [] };
    const d = decodeInferRequest(req([
      { name: 't', shape: [], datatype: 'FP64', data: [2.5] },
      { name: 'e', shape: [0, 3], datatype: 'FP32', data: [] },
      { name: 'z', shape: [2, 0], datatype: 'FP32', data: [[], []] },
    ]), s);
    assert.deepEqual(Array.from(d.inputs.t!.data as Float64Array), [2.5]);
    assert.equal(d.inputs.e!.data.length, 0);
    assert.equal(d.inputs.z!.data.length, 0);
    throwsCode(() => decodeInferRequest(req([{ name: 't', shape: [], datatype: 'FP64', data: [] }, { name: 'e', shape: [0, 3], datatype: 'FP32', data: [] }, { name: 'z', shape: [2, 0], datatype: 'FP32', data: [] }]), s), 'MG_ERR_INFER_DATA_LENGTH');
  });
  it('rejects a shape with more elements than any array can hold before allocating', () => {
    const anyShape: Signature = { inputs: [spec('x', 'FP64', null)], outputs: [] };
    throwsCode(() => decodeInferRequest(req([{ name: 'x', shape: [2 ** 40, 2 ** 40], datatype: 'FP64', data: [1] }]), anyShape), 'MG_ERR_INFER_DATA_LENGTH', /more elements than any request can carry/);
    throwsCode(() => decodeInferRequest(req([{ name: 'x', shape: [2 ** 30, 1, 2], datatype: 'FP64', data: [[[1, 2]]] }]), anyShape), 'MG_ERR_INFER_DATA_LENGTH');
    const d = decodeInferRequest(req([{ name: 'x', shape: new Array(40).fill(2 ** 52).concat([0]), datatype: 'FP64', data: [] }]), anyShape);
    assert.equal(d.inputs.x!.data.length, 0, 'a zero dimension empties the tensor even after the product overflowed');
  });
});

describe('decodeInferRequest: values', () => {
  const one = (datatype: TensorDatatype, data: unknown[], shape: number[] = [data.length]): TensorMap =>
    decodeInferRequest(req([{ name: 'x', shape, datatype, data }]), { inputs: [spec('x', datatype, [null])], outputs: [] }).inputs;
  const bad = (datatype: TensorDatatype, data: unknown[], index: number, message?: RegExp): void => {
    const e = throwsCode(() => one(datatype, data), 'MG_ERR_INFER_INVALID_VALUE', message ?? new RegExp(`input "x": element ${index} is`));
    assert.equal(e.details?.index, index);
    assert.equal(e.details?.input, 'x');
    assert.equal(e.status, 400);
  };

  it('rejects non-numbers and non-finite numbers in float tensors', () => {
    bad('FP32', [1, '2'], 1, /element 1 is "2", expected a finite number within the FP32 range/);
    bad('FP32', [1, 2, null], 2);
    bad('FP32', [true], 0);
    bad('FP32', [{}], 0);
    bad('FP32', [NaN], 0);
    bad('FP32', [Infinity], 0);
    bad('FP32', [0, 1e39], 1, /element 1 is 1e\+39/);
    bad('FP32', [-3.5e38], 0);
    bad('FP64', [1, -Infinity], 1);
    bad('FP64', ['1e400'], 0);
    bad('FP64', [undefined], 0);
    bad('FP64', [1n], 0, /element 0 is 1n/);
  });
  it('rejects non-integers and out-of-range integers', () => {
    bad('INT8', [127, 128], 1, /element 1 is 128, expected an integer from -128 to 127/);
    bad('INT8', [-129], 0);
    bad('INT16', [32768], 0);
    bad('INT32', [2147483648], 0);
    bad('INT32', [1.5], 0);
    bad('INT32', ['1'], 0);
    bad('UINT8', [256], 0);
    bad('UINT8', [-1], 0);
    bad('UINT16', [65536], 0);
    bad('UINT32', [4294967296], 0);
    bad('UINT32', [NaN], 0);
    bad('INT64', [2 ** 53], 0, /JSON number up to ±9007199254740991, beyond that a decimal string/);
    bad('INT64', [1.5], 0);
    bad('INT64', ['9223372036854775808'], 0);
    bad('INT64', ['-9223372036854775809'], 0);
    for (const s of ['1e3', ' 1', '+1', '01', '0x10', '', '-', '1.0', '1'.repeat(1_000_000)]) bad('INT64', [s], 0);
    bad('INT64', [true], 0);
    bad('UINT64', [-1], 0);
    bad('UINT64', ['-1'], 0);
    bad('UINT64', ['18446744073709551616'], 0);
    bad('UINT64', [2 ** 53], 0);
  });
  it('accepts only true and false in BOOL tensors, and only strings in BYTES tensors', () => {
    bad('BOOL', [true, 1], 1, /element 1 is 1, expected true or false/);
    bad('BOOL', ['true'], 0);
    bad('BOOL', [null], 0);
    bad('BYTES', ['a', 1], 1, /expected a string/);
    bad('BYTES', [null], 0);
  });
  it('cuts long values short in messages', () => {
    const e = throwsCode(() => one('FP32', ['x'.repeat(1_000_000)]), 'MG_ERR_INFER_INVALID_VALUE', /a 1000000-character string/);
    assert.ok(e.message.length < 300);
  });
  it('names the flat index of a bad element in nested data', () => {
    const sig: Signature = { inputs: [spec('x', 'INT32', [2, 2])], outputs: [] };
    const e = throwsCode(() => decodeInferRequest(req([{ name: 'x', shape: [2, 2], datatype: 'INT32', data: [[1, 2], [3, 'four']] }]), sig), 'MG_ERR_INFER_INVALID_VALUE', /element 3 is "four"/);
    assert.equal(e.details?.index, 3);
  });
  it('accepts the limits of every integer type, and 64-bit ones as decimal strings', () => {
    assert.deepEqual(Array.from(one('INT8', [-128, 127, -0]).x!.data as Int8Array), [-128, 127, 0]);
    assert.deepEqual(Array.from(one('UINT32', [0, 4294967295]).x!.data as Uint32Array), [0, 4294967295]);
    assert.deepEqual(Array.from(one('INT64', ['-9223372036854775808', '9223372036854775807', -9007199254740991, '0', '-0']).x!.data as BigInt64Array),
      [-(2n ** 63n), 2n ** 63n - 1n, -9007199254740991n, 0n, 0n]);
    assert.deepEqual(Array.from(one('UINT64', ['18446744073709551615', 9007199254740991]).x!.data as BigUint64Array), [2n ** 64n - 1n, 9007199254740991n]);
  });
});

describe('V2 round trips for every datatype', () => {
  const cases: { datatype: TensorDatatype; ctor: unknown; data: unknown[]; back?: unknown[] }[] = [
    { datatype: 'FP32', ctor: Float32Array, data: [0, -0.5, 1.25, -3.4028234663852886e38, 2 ** -149] },
    { datatype: 'FP64', ctor: Float64Array, data: [0.1, -1e300, 5e-324, 1.7976931348623157e308] },
    { datatype: 'INT8', ctor: Int8Array, data: [-128, 0, 127] },
    { datatype: 'INT16', ctor: Int16Array, data: [-32768, 1, 32767] },
    { datatype: 'INT32', ctor: Int32Array, data: [-2147483648, 2, 2147483647] },
    { datatype: 'INT64', ctor: BigInt64Array, data: ['-9223372036854775808', -9007199254740991, 3, '9007199254740992', '9223372036854775807'],
      back: ['-9223372036854775808', -9007199254740991, 3, '9007199254740992', '9223372036854775807'] },
    { datatype: 'UINT8', ctor: Uint8Array, data: [0, 255] },
    { datatype: 'UINT16', ctor: Uint16Array, data: [0, 65535] },
    { datatype: 'UINT32', ctor: Uint32Array, data: [0, 4294967295] },
    { datatype: 'UINT64', ctor: BigUint64Array, data: ['0', 9007199254740991, '18446744073709551615'], back: [0, 9007199254740991, '18446744073709551615'] },
    { datatype: 'BOOL', ctor: Uint8Array, data: [true, false, true] },
    { datatype: 'BYTES', ctor: Array, data: ['', 'héllo', '\u{1F600}', '{"a":1}'] },
  ];
  for (const c of cases) {
    it(c.datatype, () => {
      const sig: Signature = { inputs: [spec('x', c.datatype, ['batch'])], outputs: [spec('x', c.datatype, ['batch'])] };
      const d = decodeInferRequest({ id: 'rt', inputs: [{ name: 'x', shape: [c.data.length], datatype: c.datatype, data: c.data }] }, sig);
      assert.ok(d.inputs.x!.data instanceof (c.ctor as new () => unknown));
      if (c.datatype === 'BOOL') assert.deepEqual(Array.from(d.inputs.x!.data as Uint8Array), [1, 0, 1]);
      const res = encodeInferResponse({ modelName: 'm', modelVersion: '3', id: d.id!, outputs: d.inputs });
      const wire = JSON.parse(JSON.stringify(res));
      assert.deepEqual(wire, { model_name: 'm', model_version: '3', id: 'rt', outputs: [{ name: 'x', shape: [c.data.length], datatype: c.datatype, data: c.back ?? c.data }] });
      // and what went out decodes to the same tensor again
      assert.deepEqual(decodeInferRequest({ inputs: wire.outputs }, sig).inputs, d.inputs);
    });
  }
});

describe('encodeInferResponse', () => {
  it('encodes the example outputs in the order given, with flat data', () => {
    const res = encodeInferResponse({
      modelName: 'weather', modelVersion: '2', id: 'abc',
      outputs: {
        probabilities: { datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.75, 0.25, 0.5, 0.5]) },
        label: { datatype: 'INT64', shape: [2], data: new BigInt64Array([0n, 1n]) },
      },
      parameters: { note: 'x' },
    });
    assert.deepEqual(res, {
      model_name: 'weather', model_version: '2', id: 'abc', parameters: { note: 'x' },
      outputs: [
        { name: 'probabilities', shape: [2, 2], datatype: 'FP32', data: [0.75, 0.25, 0.5, 0.5] },
        { name: 'label', shape: [2], datatype: 'INT64', data: [0, 1] },
      ],
    });
    assert.deepEqual(Object.keys(res), ['model_name', 'model_version', 'id', 'parameters', 'outputs']);
    assert.ok(!('parameters' in encodeInferResponse({ modelName: 'w', modelVersion: '1', id: 'i', outputs: {} })));
  });
  it('writes 64-bit integers beyond 2^53 as decimal strings, element by element', () => {
    const res = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'i', outputs: {
      a: { datatype: 'INT64', shape: [3], data: new BigInt64Array([2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 63n)]) },
      b: { datatype: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    } });
    assert.deepEqual(res.outputs[0]!.data, ['9007199254740992', -9007199254740991, '-9223372036854775808']);
    assert.deepEqual(res.outputs[1]!.data, ['18446744073709551615']);
  });
  it('writes BOOL as booleans and FP16/BF16 bit patterns as numbers', () => {
    const res = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'i', outputs: {
      b: { datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 2]) },
      h: { datatype: 'FP16', shape: [5], data: new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00, 0x3555]) },
      f: { datatype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0xc0a0]) },
    } });
    assert.deepEqual(res.outputs[0]!.data, [true, false, true]);
    assert.deepEqual(res.outputs[1]!.data, [1, -2, 2 ** -24, Infinity, 0.333251953125]);
    assert.deepEqual(res.outputs[2]!.data, [1, -5]);
  });
  it('returns plain arrays that JSON.stringify writes as arrays', () => {
    const res = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'i', outputs: { x: { datatype: 'UINT8', shape: [2], data: new Uint8Array([1, 2]) } } });
    assert.ok(Array.isArray(res.outputs[0]!.data));
    assert.equal(JSON.stringify(res.outputs[0]!.data), '[1,2]');
  });
});
