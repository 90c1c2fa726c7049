import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeModel, encodeModel, int64ToNumber, ModelProto, OnnxAttributeType, OnnxDataType, tensorValueInfo } from './onnx-proto.js';

describe('onnx-proto', () => {
  it('writes the field numbers of onnx.proto3', () => {
    // Tag bytes are (field << 3) | wire type: ir_version = 1 (varint), graph = 7 and opset_import = 8
    // (length-delimited), metadata_props = 14.
    assert.deepEqual([...encodeModel({ ir_version: 8 })], [0x08, 0x08]);
    assert.deepEqual([...encodeModel({ graph: {} })], [0x3a, 0x00]);
    assert.deepEqual([...encodeModel({ opset_import: [{ version: 17 }] })], [0x42, 0x02, 0x10, 0x11]);
    assert.deepEqual([...encodeModel({ metadata_props: [{ key: 'k', value: 'v' }] })], [0x72, 0x06, 0x0a, 0x01, 0x6b, 0x12, 0x01, 0x76]);
    // graph.input = 11, value_info.type = 2, type.tensor_type = 1, shape = 2, dim = 1, dim_param = 2.
    const bytes = encodeModel({ graph: { input: [tensorValueInfo('x', OnnxDataType.FLOAT, ['n'])] } });
    assert.deepEqual([...bytes], [
      0x3a, 0x12, 0x5a, 0x10, // graph, input
      0x0a, 0x01, 0x78, 0x12, 0x0b, // name "x", type
      0x0a, 0x09, 0x08, 0x01, // tensor_type, elem_type FLOAT
      0x12, 0x05, 0x0a, 0x03, 0x12, 0x01, 0x6e, // shape, dim, dim_param "n"
    ]);
  });

  it('round-trips a model through encodeModel and decodeModel', () => {
    const bytes = encodeModel({
      ir_version: 9,
      opset_import: [{ domain: '', version: 19 }, { domain: 'ai.onnx.ml', version: 3 }],
      producer_name: 'modelgate-test',
      model_version: 2,
      graph: {
        name: 'g',
        node: [{ op_type: 'Mul', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'note', type: OnnxAttributeType.STRING, s: new TextEncoder().encode('hi') }] }],
        initializer: [{ name: 'w', data_type: OnnxDataType.FLOAT, dims: [2], raw_data: new Uint8Array(new Float32Array([1, 2]).buffer) }],
        input: [tensorValueInfo('x', OnnxDataType.FLOAT, ['batch', 2])],
        output: [tensorValueInfo('y', OnnxDataType.FLOAT, ['batch', 2])],
      },
    });
    const obj = ModelProto.toObject(decodeModel(bytes), { longs: Number }) as {
      ir_version: number;
      model_version: number;
      opset_import: { domain?: string; version: number }[];
      graph: { initializer: { dims: number[]; raw_data: Uint8Array }[]; input: { type: { tensor_type: { shape: { dim: object[] } } } }[] };
    };
    assert.equal(obj.ir_version, 9);
    assert.equal(obj.model_version, 2);
    assert.deepEqual(obj.opset_import.map((o) => o.version), [19, 3]);
    assert.deepEqual(obj.graph.initializer[0]?.dims, [2]);
    assert.deepEqual([...new Float32Array(new Uint8Array(obj.graph.initializer[0]?.raw_data ?? []).buffer)], [1, 2]);
    assert.deepEqual(obj.graph.input[0]?.type.tensor_type.shape.dim, [{ dim_param: 'batch' }, { dim_value: 2 }]);
  });

  it('converts int64 values to numbers', () => {
    const decoded = decodeModel(encodeModel({ ir_version: 10, model_version: '9007199254740991' })) as unknown as { ir_version: unknown; model_version: unknown };
    assert.equal(int64ToNumber(decoded.ir_version), 10);
    assert.equal(int64ToNumber(decoded.model_version), Number.MAX_SAFE_INTEGER);
    assert.equal(int64ToNumber(7), 7);
  });

  it('writes a model onnxruntime-node loads and runs (Add, opset 17, IR 8)', async () => {
    const ort = await import('onnxruntime-node');
    const bytes = encodeModel({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      producer_name: 'modelgate-test',
      graph: {
        name: 'add',
        node: [
          { op_type: 'Add', input: ['a', 'b'], output: ['sum'] },
          { op_type: 'Identity', input: ['sum'], output: ['same'] },
        ],
        input: [tensorValueInfo('a', OnnxDataType.FLOAT, ['batch', 3]), tensorValueInfo('b', OnnxDataType.FLOAT, [1, 3])],
        output: [tensorValueInfo('sum', OnnxDataType.FLOAT, ['batch', 3]), tensorValueInfo('same', OnnxDataType.FLOAT, ['batch', 3])],
      },
    });
    const session = await ort.InferenceSession.create(Buffer.from(bytes));
    try {
      assert.deepEqual(session.inputNames, ['a', 'b']);
      assert.deepEqual(session.outputNames, ['sum', 'same']);
      const out = await session.run({
        a: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
        b: new ort.Tensor('float32', Float32Array.from([10, 20, 30]), [1, 3]),
      });
      assert.deepEqual(out.sum?.dims, [2, 3]);
      assert.deepEqual([...(out.same?.data as Float32Array)], [11, 22, 33, 14, 25, 36]);
    } finally {
      await session.release();
    }
  });
});
