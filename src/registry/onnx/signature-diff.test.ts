import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dim, Signature, TensorDatatype, TensorSpec } from '../signature.js';
import { diffSignatures, formatShape } from './signature-diff.js';

const ONNX_NAMES: Record<TensorDatatype, string> = {
  BOOL: 'bool', UINT8: 'uint8', UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64', INT8: 'int8', INT16: 'int16',
  INT32: 'int32', INT64: 'int64', FP16: 'float16', BF16: 'bfloat16', FP32: 'float', FP64: 'double', BYTES: 'string',
};

function tensor(name: string, datatype: TensorDatatype, shape: Dim[] | null): TensorSpec {
  return { name, kind: 'tensor', datatype, shape, onnxType: `tensor(${ONNX_NAMES[datatype]})` };
}

const base: Signature = {
  inputs: [tensor('features', 'FP32', ['batch', 4]), tensor('mask', 'BOOL', ['batch', 4])],
  outputs: [tensor('score', 'FP32', ['batch', 1])],
};

function withInput(name: string, spec: TensorSpec | null): Signature {
  const inputs = base.inputs.flatMap((s) => (s.name === name ? (spec ? [spec] : []) : [s]));
  return { ...base, inputs };
}
function withOutput(name: string, spec: TensorSpec | null): Signature {
  const outputs = base.outputs.flatMap((s) => (s.name === name ? (spec ? [spec] : []) : [s]));
  return { ...base, outputs };
}

describe('formatShape', () => {
  it('writes fixed, symbolic and unknown dimensions', () => {
    assert.equal(formatShape(['batch', 3, null, 224]), '[batch,3,?,224]');
    assert.equal(formatShape([]), '[]');
    assert.equal(formatShape(null), 'unknown');
  });
});

describe('diffSignatures', () => {
  it('finds nothing between equal signatures', () => {
    assert.deepEqual(diffSignatures(base, structuredClone(base)), []);
  });

  it('ignores a changed doc string', () => {
    assert.deepEqual(diffSignatures(base, withInput('features', { ...tensor('features', 'FP32', ['batch', 4]), docString: 'new' })), []);
  });

  it('a removed input or output is breaking', () => {
    assert.deepEqual(diffSignatures(base, withInput('mask', null)), [
      { side: 'input', name: 'mask', change: 'removed', details: ['input tensor(bool) [batch,4] removed'], breaking: true },
    ]);
    assert.deepEqual(diffSignatures(base, withOutput('score', null)), [
      { side: 'output', name: 'score', change: 'removed', details: ['output tensor(float) [batch,1] removed'], breaking: true },
    ]);
  });

  it('an added input is breaking, an added output is not', () => {
    const b: Signature = { inputs: [...base.inputs, tensor('country', 'BYTES', ['batch'])], outputs: [...base.outputs, tensor('label', 'INT64', ['batch'])] };
    assert.deepEqual(diffSignatures(base, b), [
      { side: 'input', name: 'country', change: 'added', details: ['input tensor(string) [batch] added'], breaking: true },
      { side: 'output', name: 'label', change: 'added', details: ['output tensor(int64) [batch] added'], breaking: false },
    ]);
  });

  it('a datatype change is breaking on either side', () => {
    assert.deepEqual(diffSignatures(base, withInput('features', tensor('features', 'FP64', ['batch', 4]))), [
      { side: 'input', name: 'features', change: 'changed', details: ['datatype FP32 → FP64'], breaking: true },
    ]);
    assert.deepEqual(diffSignatures(base, withOutput('score', tensor('score', 'FP16', ['batch', 1]))), [
      { side: 'output', name: 'score', change: 'changed', details: ['datatype FP32 → FP16'], breaking: true },
    ]);
  });

  it('an ONNX type V2 cannot name is still compared', () => {
    const a = withInput('features', { name: 'features', kind: 'tensor', datatype: null, shape: [2], onnxType: 'tensor(complex64)' });
    const b = withInput('features', { name: 'features', kind: 'tensor', datatype: null, shape: [2], onnxType: 'tensor(complex128)' });
    assert.deepEqual(diffSignatures(a, b)[0]?.details, ['type tensor(complex64) → tensor(complex128)']);
    assert.equal(diffSignatures(a, b)[0]?.breaking, true);
  });

  it('a kind change is breaking', () => {
    const seq: TensorSpec = { name: 'score', kind: 'sequence', datatype: null, shape: null, onnxType: 'seq(map(int64,tensor(float)))' };
    assert.deepEqual(diffSignatures(base, withOutput('score', seq)), [
      {
        side: 'output',
        name: 'score',
        change: 'changed',
        details: ['kind tensor → sequence', 'type tensor(float) → seq(map(int64,tensor(float)))', 'shape [batch,1] → unknown'],
        breaking: true,
      },
    ]);
  });

  it('a changed fixed input dimension is breaking', () => {
    assert.deepEqual(diffSignatures(base, withInput('features', tensor('features', 'FP32', ['batch', 5]))), [
      { side: 'input', name: 'features', change: 'changed', details: ['shape [batch,4] → [batch,5]'], breaking: true },
    ]);
  });

  it('an input dimension that becomes symbolic or unknown is not breaking (the input accepts more)', () => {
    for (const dim of ['n_features', null]) {
      const [change] = diffSignatures(base, withInput('features', tensor('features', 'FP32', ['batch', dim])));
      assert.equal(change?.breaking, false, String(dim));
      assert.deepEqual(change?.details, [`shape [batch,4] → [batch,${dim ?? '?'}]`]);
    }
    assert.equal(diffSignatures(base, withInput('features', tensor('features', 'FP32', null)))[0]?.breaking, false, 'rank becomes unknown');
    assert.equal(diffSignatures(base, withInput('features', tensor('features', 'FP32', ['n', 4])))[0]?.breaking, false, 'symbolic renamed');
  });

  it('an input dimension that becomes fixed is breaking (the input accepts less)', () => {
    assert.equal(diffSignatures(base, withInput('features', tensor('features', 'FP32', [32, 4])))[0]?.breaking, true);
    const unknownRank = withInput('features', tensor('features', 'FP32', null));
    assert.equal(diffSignatures(unknownRank, base)[0]?.breaking, true);
  });

  it('an input rank change is breaking and named', () => {
    assert.deepEqual(diffSignatures(base, withInput('features', tensor('features', 'FP32', ['batch', 4, 1]))), [
      { side: 'input', name: 'features', change: 'changed', details: ['rank 2 → 3', 'shape [batch,4] → [batch,4,1]'], breaking: true },
    ]);
  });

  it('any output shape change is breaking, even one that only loosens it', () => {
    for (const shape of [['batch', 2], ['batch', null], ['n', 1], ['batch'], null] as (Dim[] | null)[]) {
      const [change] = diffSignatures(base, withOutput('score', tensor('score', 'FP32', shape)));
      assert.equal(change?.breaking, true, formatShape(shape));
    }
  });

  it('reports several changes in order: inputs first, then outputs', () => {
    const b: Signature = {
      inputs: [tensor('features', 'FP64', ['batch', 8]), tensor('extra', 'INT64', ['batch'])],
      outputs: [tensor('score', 'FP32', ['batch', 1]), tensor('label', 'INT64', ['batch'])],
    };
    assert.deepEqual(
      diffSignatures(base, b).map((c) => [c.side, c.name, c.change, c.details, c.breaking]),
      [
        ['input', 'features', 'changed', ['datatype FP32 → FP64', 'shape [batch,4] → [batch,8]'], true],
        ['input', 'mask', 'removed', ['input tensor(bool) [batch,4] removed'], true],
        ['input', 'extra', 'added', ['input tensor(int64) [batch] added'], true],
        ['output', 'label', 'added', ['output tensor(int64) [batch] added'], false],
      ],
    );
  });
});
