// The signature a js model declares, checked and turned into the project's Signature.
// This file runs in the model's worker as well as in the gateway, so it imports nothing with side effects.
import type { Dim, Signature, TensorDatatype, TensorSpec } from '../../registry/signature.js';

/** The datatypes a js model can use. FP16 and BF16 are left out: JavaScript (Node 20) has no typed array for them. */
export type JsDatatype = Exclude<TensorDatatype, 'FP16' | 'BF16'>;

export type NumericArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

interface DatatypeInfo {
  /** ONNX's element type name, so js and onnx signatures print and diff alike. */
  onnx: string;
  /** null for BYTES, which is carried as string[]. */
  array: NumericArrayConstructor | null;
}

export const JS_DATATYPES: Readonly<Record<JsDatatype, DatatypeInfo>> = {
  BOOL: { onnx: 'bool', array: Uint8Array },
  UINT8: { onnx: 'uint8', array: Uint8Array },
  UINT16: { onnx: 'uint16', array: Uint16Array },
  UINT32: { onnx: 'uint32', array: Uint32Array },
  UINT64: { onnx: 'uint64', array: BigUint64Array },
  INT8: { onnx: 'int8', array: Int8Array },
  INT16: { onnx: 'int16', array: Int16Array },
  INT32: { onnx: 'int32', array: Int32Array },
  INT64: { onnx: 'int64', array: BigInt64Array },
  FP32: { onnx: 'float', array: Float32Array },
  FP64: { onnx: 'double', array: Float64Array },
  BYTES: { onnx: 'string', array: null },
};

export function isJsDatatype(x: unknown): x is JsDatatype {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(JS_DATATYPES, x);
}

/** The name a -1 in the first dimension gets: by convention that dimension is the batch. */
export const BATCH_DIM = 'batch';

/** A declared signature that breaks the module contract; the message names the offending field. */
export class JsSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsSignatureError';
  }
}

const SPEC_KEYS = new Set(['name', 'datatype', 'shape', 'kind', 'onnxType', 'docString']);
const SIGNATURE_KEYS = new Set(['inputs', 'outputs']);

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A short, safe rendering of a value the module gave, for error messages. */
export function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean' || x === undefined || x === null) return String(x);
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}

function normaliseDim(where: string, d: unknown, index: number): Dim {
  if (d === -1) return index === 0 ? BATCH_DIM : null;
  if (d === null) return null;
  if (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) return d;
  if (typeof d === 'string' && d.trim() !== '' && d.trim() === d) return d;
  throw new JsSignatureError(
    `${where}[${index}] is ${show(d)}; a dimension is a size (an integer ≥ 0), -1 or null for any size, or a name such as "batch"`,
  );
}

function normaliseSpec(where: string, raw: unknown): TensorSpec {
  if (!isPlainObject(raw)) throw new JsSignatureError(`${where} is ${show(raw)}, not an object { name, datatype, shape }`);
  for (const key of Object.keys(raw)) {
    // Unknown keys are refused rather than dropped: a misspelt field (dtype, dims) would otherwise vanish silently.
    if (!SPEC_KEYS.has(key)) throw new JsSignatureError(`${where} has an unknown field ${show(key)}; the fields are name, datatype, shape and docString`);
  }
  const { name, datatype, shape, kind, onnxType, docString } = raw;
  if (typeof name !== 'string' || name === '') throw new JsSignatureError(`${where}.name is ${show(name)}, not a non-empty string`);
  const at = `${where} (${JSON.stringify(name)})`;
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new JsSignatureError(`${at}.datatype ${datatype} is not supported for js models (JavaScript has no typed array for it); use FP32`);
  }
  if (!isJsDatatype(datatype)) {
    throw new JsSignatureError(`${at}.datatype is ${show(datatype)}, not a datatype; use one of ${Object.keys(JS_DATATYPES).join(', ')}`);
  }
  if (kind !== undefined && kind !== 'tensor') throw new JsSignatureError(`${at}.kind is ${show(kind)}; js models have tensors only`);
  if (!Array.isArray(shape)) throw new JsSignatureError(`${at}.shape is ${show(shape)}, not an array of dimensions such as [-1, 4]`);
  const dims = shape.map((d, i) => normaliseDim(`${at}.shape`, d, i));
  const expectedOnnxType = `tensor(${JS_DATATYPES[datatype].onnx})`;
  if (onnxType !== undefined && onnxType !== expectedOnnxType) {
    throw new JsSignatureError(`${at}.onnxType is ${show(onnxType)} but datatype ${datatype} is ${expectedOnnxType}; leave onnxType out`);
  }
  if (docString !== undefined && typeof docString !== 'string') throw new JsSignatureError(`${at}.docString is ${show(docString)}, not a string`);
  const spec: TensorSpec = { name, kind: 'tensor', datatype, shape: dims, onnxType: expectedOnnxType };
  if (docString) spec.docString = docString;
  return spec;
}

function normaliseSide(side: 'inputs' | 'outputs', raw: unknown): TensorSpec[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new JsSignatureError(`signature.${side} is ${show(raw)}; it must be a non-empty array of { name, datatype, shape }`);
  }
  const specs = raw.map((r, i) => normaliseSpec(`signature.${side}[${i}]`, r));
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new JsSignatureError(`signature.${side} names ${JSON.stringify(s.name)} twice; names must be unique`);
    seen.add(s.name);
  }
  return specs;
}

/**
 * Checks a declared signature against the module contract and returns it as a Signature.
 * Idempotent: a Signature this returned is accepted again unchanged, which lets the gateway re-check what
 * the worker reports without trusting it.
 * @throws JsSignatureError naming the offending field.
 */
export function normaliseJsSignature(declared: unknown): Signature {
  if (!isPlainObject(declared)) throw new JsSignatureError(`signature is ${show(declared)}, not an object { inputs, outputs }`);
  for (const key of Object.keys(declared)) {
    if (!SIGNATURE_KEYS.has(key)) throw new JsSignatureError(`signature has an unknown field ${show(key)}; the fields are inputs and outputs`);
  }
  return { inputs: normaliseSide('inputs', declared.inputs), outputs: normaliseSide('outputs', declared.outputs) };
}

/** True when both describe the same tensors (names, datatypes, shapes), whatever their order and docs. */
export function sameJsSignature(a: Signature, b: Signature): boolean {
  const key = (specs: TensorSpec[]) =>
    specs
      .map((s) => JSON.stringify([s.name, s.datatype, s.shape]))
      .sort()
      .join('\n');
  return key(a.inputs) === key(b.inputs) && key(a.outputs) === key(b.outputs);
}
