import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorSpec } from '../../registry/signature.js';
import { JsSignatureError, normaliseJsSignature, sameJsSignature } from './js-signature.js';
import { checkShape, convertOutput, copyForTransfer, TensorProblem, verifyTensor, zeroTensor, type DimBindings } from './js-tensors.js';

const spec = (datatype: string, shape: unknown): unknown => ({ name: 't', datatype, shape });
const sig = (inputs: unknown[], outputs: unknown[] = [spec('FP32', [-1])]): unknown => ({ inputs, outputs });

describe('normaliseJsSignature', () => {
  it('turns a declared signature into the project Signature: tensor kind, ONNX type names, named batch dimension', () => {
    const s = normaliseJsSignature({
      inputs: [
        { name: 'features', datatype: 'FP32', shape: [-1, 4], docString: 'rows of features' },
        { name: 'tokens', datatype: 'BYTES', shape: ['n', -1] },
        { name: 'flags', datatype: 'BOOL', shape: [] },
      ],
      outputs: [{ name: 'label', datatype: 'INT64', shape: [-1, null] }],
    });
    assert.deepEqual(s, {
      inputs: [
        { name: 'features', kind: 'tensor', datatype: 'FP32', shape: ['batch', 4], onnxType: 'tensor(float)', docString: 'rows of features' },
        { name: 'tokens', kind: 'tensor', datatype: 'BYTES', shape: ['n', null], onnxType: 'tensor(string)' },
        { name: 'flags', kind: 'tensor', datatype: 'BOOL', shape: [], onnxType: 'tensor(bool)' },
      ],
      outputs: [{ name: 'label', kind: 'tensor', datatype: 'INT64', shape: ['batch', null], onnxType: 'tensor(int64)' }],
    });
  });

  it('accepts its own output again unchanged', () => {
    const once = normaliseJsSignature(sig([spec('UINT16', [-1, 3])], [spec('FP64', [-1])]));
    assert.deepEqual(normaliseJsSignature(once), once);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 42, /signature is 42, not an object/],
    ['an unknown top-level field', { inputs: [spec('FP32', [1])], outputs: [spec('FP32', [1])], extra: 1 }, /unknown field "extra"/],
    ['no inputs', { outputs: [spec('FP32', [1])] }, /signature\.inputs is undefined; it must be a non-empty array/],
    ['empty inputs', sig([]), /signature\.inputs is an array; it must be a non-empty array/],
    ['empty outputs', sig([spec('FP32', [1])], []), /signature\.outputs is an array; it must be a non-empty array/],
    ['an unknown datatype', sig([spec('FLOAT', [1])]), /datatype is "FLOAT", not a datatype; use one of BOOL, .*FP32/],
    ['FP16', sig([spec('FP16', [1])]), /FP16 is not supported for js models/],
    ['a shape that is not an array', sig([spec('FP32', 4)]), /shape is 4, not an array/],
    ['a negative dimension', sig([spec('FP32', [-2])]), /shape\[0\] is -2; a dimension is/],
    ['a fractional dimension', sig([spec('FP32', [1.5])]), /shape\[0\] is 1\.5/],
    ['an empty dimension name', sig([spec('FP32', [''])]), /shape\[0\] is ""/],
    ['duplicate names', sig([spec('FP32', [1]), spec('FP32', [2])]), /names "t" twice/],
    ['a nameless tensor', sig([{ datatype: 'FP32', shape: [1] }]), /inputs\[0\]\.name is undefined/],
    ['a misspelt field', sig([{ name: 'x', dtype: 'FP32', shape: [1] }]), /unknown field "dtype"/],
    ['a non-tensor kind', sig([{ name: 'x', datatype: 'FP32', shape: [1], kind: 'map' }]), /kind is "map"; js models have tensors only/],
    ['a contradicting onnxType', sig([{ name: 'x', datatype: 'FP32', shape: [1], onnxType: 'tensor(double)' }]), /onnxType is "tensor\(double\)" but datatype FP32 is tensor\(float\)/],
  ];
  for (const [what, declared, message] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => normaliseJsSignature(declared), (e: unknown) => e instanceof JsSignatureError && message.test(e.message));
    });
  }

  it('compares signatures by tensors, not order or docs', () => {
    const a = normaliseJsSignature(sig([{ ...(spec('FP32', [-1]) as object), name: 'a' }, { ...(spec('INT32', [2]) as object), name: 'b' }]));
    const b = normaliseJsSignature(sig([{ ...(spec('INT32', [2]) as object), name: 'b', docString: 'x' }, { ...(spec('FP32', [-1]) as object), name: 'a' }]));
    assert.ok(sameJsSignature(a, b));
    const c = normaliseJsSignature(sig([{ ...(spec('FP32', [-1, 1]) as object), name: 'a' }, { ...(spec('INT32', [2]) as object), name: 'b' }]));
    assert.ok(!sameJsSignature(a, c));
  });
});

const out = (datatype: string, shape: (number | string | null)[]): TensorSpec => ({ name: 'o', kind: 'tensor', datatype: datatype as TensorSpec['datatype'], shape, onnxType: '' });

describe('js tensors', () => {
  it('binds named dimensions across tensors and reports the tensor that fixed them', () => {
    const dims: DimBindings = new Map();
    checkShape('input "x"', out('FP32', ['batch', 4]), [3, 4], dims);
    assert.throws(() => checkShape('output "y"', out('FP32', ['batch']), [1], dims), /output "y" has shape \[1\], but dimension 0 \("batch"\) is 3 in input "x"/);
    assert.throws(() => checkShape('output "y"', out('FP32', ['batch', 2]), [3, 3], dims), /dimension 1 must be 2/);
    assert.throws(() => checkShape('output "y"', out('FP32', [null]), [3, 1], dims), /rank 1/);
    assert.deepEqual(checkShape('output "y"', out('FP32', [null, 'batch']), [7, 3], dims), [7, 3]);
  });

  it('converts plain arrays to the declared typed arrays, checking every value', () => {
    const dims: DimBindings = new Map();
    assert.deepEqual(convertOutput('o', out('INT64', [2]), { shape: [2], data: [1, 2n] }, dims).data, new BigInt64Array([1n, 2n]));
    assert.deepEqual(convertOutput('o', out('UINT8', [2]), { shape: [2], data: new Float64Array([0, 255]) }, dims).data, new Uint8Array([0, 255]));
    assert.deepEqual(convertOutput('o', out('BOOL', [3]), { shape: [3], data: [true, 0, 1] }, dims).data, new Uint8Array([1, 0, 1]));
    assert.deepEqual(convertOutput('o', out('FP32', [1]), { datatype: 'FP32', shape: [1], data: [0.5] }, dims).data, new Float32Array([0.5]));
    assert.deepEqual(convertOutput('o', out('BYTES', [1]), { shape: [1], data: ['a'] }, dims).data, ['a']);
    const problem = (t: string, v: unknown, re: RegExp) =>
      assert.throws(() => convertOutput('o', out(t, [1]), { shape: [1], data: [v] }, new Map()), (e: unknown) => e instanceof TensorProblem && re.test(e.message));
    problem('INT64', 1.5, /element 0 is 1\.5, not a 64-bit signed integer/);
    problem('UINT8', 256, /element 0 is 256, not a UINT8 integer \(0 to 255\)/);
    problem('INT32', '3', /element 0 is "3", not a INT32 integer/);
    problem('BOOL', 2, /not a boolean/);
    problem('FP32', [1], /element 0 is an array \(data must be flat/);
    problem('BYTES', 1, /not a string/);
    assert.throws(() => convertOutput('o', out('FP32', [2]), { shape: [2], data: [1] }, new Map()), /has 1 values, but its shape needs 2/);
    assert.throws(() => convertOutput('o', out('FP32', [1]), { shape: [1], data: [1], datatype: 'FP64' }, new Map()), /datatype "FP64", but the signature says FP32/);
    assert.throws(() => convertOutput('o', out('FP32', [1]), [1], new Map()), /return \{ shape, data \}/);
  });

  it('copies typed arrays of the right class, so transferring them never detaches the module\'s own', () => {
    const kept = new Float32Array([1, 2]);
    const t = convertOutput('o', out('FP32', [2]), { shape: [2], data: kept }, new Map());
    assert.notEqual(t.data, kept);
    assert.deepEqual(t.data, kept);
  });

  it('verifies runtime-layout tensors without converting', () => {
    const spec1 = out('FP32', ['batch', 2]);
    assert.throws(() => verifyTensor('input "x"', spec1, { datatype: 'FP32', shape: [1, 2], data: new Float64Array(2) }, new Map()), (e: unknown) => e instanceof TensorProblem && e.kind === 'datatype');
    assert.throws(() => verifyTensor('input "x"', spec1, { datatype: 'FP32', shape: [1, 2], data: new Float32Array(3) }, new Map()), (e: unknown) => e instanceof TensorProblem && e.kind === 'length');
    assert.throws(() => verifyTensor('input "x"', spec1, { datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }, new Map()), (e: unknown) => e instanceof TensorProblem && e.kind === 'shape');
  });

  it('makes zeros with dynamic dimensions set to 1', () => {
    assert.deepEqual(zeroTensor(out('FP32', ['batch', 4])), { datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) });
    assert.deepEqual(zeroTensor(out('BYTES', [null, 2])), { datatype: 'BYTES', shape: [1, 2], data: ['', ''] });
  });

  it('copies views for transfer without the rest of their buffer', () => {
    const big = new Float32Array(1000);
    const view = big.subarray(10, 14);
    const { tensors, transfer } = copyForTransfer({ x: { datatype: 'FP32', shape: [4], data: view } });
    assert.equal(transfer.length, 1);
    assert.equal(transfer[0]?.byteLength, 16);
    assert.notEqual((tensors.x?.data as Float32Array).buffer, big.buffer);
  });
});
