import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorDatatype } from '../../registry/signature.js';
import type { Tensor, TensorData } from '../../runtime/types.js';
import { concatTensors, splitTensor, tensorLayoutProblem } from './tensor-batch.js';

/** Element i of a tensor of each datatype, in the array type that datatype travels in. */
const KINDS: Record<TensorDatatype, (values: number[]) => TensorData> = {
  BOOL: (v) => Uint8Array.from(v, (x) => x % 2),
  UINT8: (v) => Uint8Array.from(v),
  UINT16: (v) => Uint16Array.from(v),
  UINT32: (v) => Uint32Array.from(v),
  UINT64: (v) => BigUint64Array.from(v, (x) => BigInt(x) + 2n ** 40n),
  INT8: (v) => Int8Array.from(v, (x) => -x),
  INT16: (v) => Int16Array.from(v, (x) => -x),
  INT32: (v) => Int32Array.from(v, (x) => -x * 1000),
  INT64: (v) => BigInt64Array.from(v, (x) => -(BigInt(x) + 2n ** 40n)),
  FP16: (v) => Uint16Array.from(v, (x) => 0x3c00 + x),
  BF16: (v) => Uint16Array.from(v, (x) => 0x3f80 + x),
  FP32: (v) => Float32Array.from(v, (x) => x + 0.5),
  FP64: (v) => Float64Array.from(v, (x) => x / 3),
  BYTES: (v) => v.map((x) => `s${x}`),
};

function tensor(datatype: TensorDatatype, shape: number[], first: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { datatype, shape, data: KINDS[datatype](Array.from({ length: n }, (_, i) => first + i)) };
}

describe('concatTensors and splitTensor', () => {
  for (const datatype of Object.keys(KINDS) as TensorDatatype[]) {
    it(`round-trips ${datatype} along the first dimension`, () => {
      const parts = [tensor(datatype, [1, 2, 3], 0), tensor(datatype, [3, 2, 3], 6), tensor(datatype, [0, 2, 3], 24), tensor(datatype, [2, 2, 3], 24)];
      const merged = concatTensors(parts);
      assert.equal(merged.datatype, datatype);
      assert.deepEqual(merged.shape, [6, 2, 3]);
      assert.deepEqual(merged.data, tensor(datatype, [6, 2, 3], 0).data);
      assert.equal(merged.data.constructor, parts[0]!.data.constructor);

      const pieces = splitTensor(merged, [1, 3, 0, 2]);
      assert.equal(pieces.length, 4);
      for (let i = 0; i < parts.length; i++) {
        assert.deepEqual(pieces[i]!.shape, parts[i]!.shape);
        assert.deepEqual(pieces[i]!.data, parts[i]!.data);
        assert.equal(pieces[i]!.datatype, datatype);
      }
      if (!Array.isArray(merged.data)) {
        // numeric pieces are views on the batch's buffer
        assert.equal((pieces[1]!.data as Exclude<TensorData, string[]>).buffer, merged.data.buffer);
      }
    });
  }

  it('handles 1-D tensors (one element per row)', () => {
    const merged = concatTensors([tensor('INT32', [2], 0), tensor('INT32', [1], 2)]);
    assert.deepEqual(merged.shape, [3]);
    assert.deepEqual([...(merged.data as Int32Array)], [0, -1000, -2000]);
    assert.deepEqual(
      splitTensor(merged, [2, 1]).map((t) => [...(t.data as Int32Array)]),
      [[0, -1000], [-2000]],
    );
  });

  it('returns a single part and a single piece without copying', () => {
    const t = tensor('FP32', [2, 2], 0);
    assert.equal(concatTensors([t]), t);
    assert.equal(splitTensor(t, [2])[0], t);
  });

  it('accepts a Buffer for UINT8 (a Uint8Array subclass) and produces a plain Uint8Array', () => {
    const merged = concatTensors([
      { datatype: 'UINT8', shape: [1, 2], data: Buffer.from([1, 2]) },
      { datatype: 'UINT8', shape: [1, 2], data: new Uint8Array([3, 4]) },
    ]);
    assert.equal(merged.data.constructor, Uint8Array);
    assert.deepEqual([...(merged.data as Uint8Array)], [1, 2, 3, 4]);
  });

  it('refuses parts that do not fit together', () => {
    assert.throws(() => concatTensors([]), RangeError);
    assert.throws(() => concatTensors([tensor('FP32', [1, 2], 0), tensor('FP64', [1, 2], 0)]), /FP64/);
    assert.throws(() => concatTensors([tensor('FP32', [1, 2], 0), tensor('FP32', [1, 3], 0)]), /dimension 0/);
    assert.throws(() => concatTensors([tensor('FP32', [1, 2], 0), tensor('FP32', [1, 2, 1], 0)]), /dimension 0/);
    // a typed array of another kind would be converted silently by TypedArray.set
    assert.throws(() => concatTensors([tensor('INT32', [1, 2], 0), { datatype: 'INT32', shape: [1, 2], data: new Float32Array([0.5, 1.5]) }]), /Int32Array/);
    assert.throws(() => concatTensors([tensor('FP32', [1, 2], 0), { datatype: 'FP32', shape: [1, 2], data: new Float32Array(3) }]), /3 elements/);
    assert.throws(() => concatTensors([tensor('BYTES', [1], 0), { datatype: 'BYTES', shape: [1], data: new Uint8Array(1) }]), /string array/);
  });

  it('refuses row counts that do not add up to the first dimension', () => {
    const t = tensor('FP32', [3, 2], 0);
    assert.throws(() => splitTensor(t, [1, 1]), /add up to 2/);
    assert.throws(() => splitTensor(t, [4, -1]), /non-negative/);
    assert.throws(() => splitTensor({ datatype: 'FP32', shape: [], data: new Float32Array(1) }, [1]), /scalar/);
  });

  it('tensorLayoutProblem names what is wrong', () => {
    assert.equal(tensorLayoutProblem(tensor('BOOL', [2, 2], 0)), null);
    assert.match(tensorLayoutProblem({ datatype: 'FP32', shape: [], data: new Float32Array(1) })!, /scalar/);
    assert.match(tensorLayoutProblem({ datatype: 'FP32', shape: [1.5], data: new Float32Array(1) })!, /non-negative integers/);
    assert.match(tensorLayoutProblem({ datatype: 'INT64', shape: [1], data: new Int32Array(1) })!, /BigInt64Array/);
  });
});
