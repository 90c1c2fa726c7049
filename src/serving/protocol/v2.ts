// The Open Inference Protocol (KServe V2) REST codec: a parsed JSON inference request → validated input
// tensors, and output tensors → the inference response body.
//
// Decisions where the protocol leaves a choice (spec: "the server can decide to coerce each element to
// the required type or return an error"):
// - No coercion: every element must already be of its datatype's JSON type. A mismatch is an error
//   naming the input and the element's flat (row-major) index.
// - INT64/UINT64 elements are JSON numbers that are safe integers (|v| ≤ 2^53−1; anything larger was
//   already rounded by JSON.parse, so it is rejected rather than silently changed), or canonical decimal
//   strings ("-9223372036854775808") for the full 64-bit range. In responses they are numbers when safe,
//   else decimal strings, element by element.
// - FP32 values that would round to ±Infinity in 32 bits (e.g. 1e39) are rejected; underflow to 0 is
//   ordinary rounding and accepted. -0 is kept for floats; integers store it as 0.
// - `data` is either flat (exactly product(shape) scalars) or nested exactly as the shape: an array of
//   shape[0] arrays of shape[1] … Any other nesting is MG_ERR_INFER_DATA_LENGTH.
// - `null` for an optional field (id, parameters, outputs, an input's or output's parameters) means
//   absent, since pydantic-based clients write it. Unknown extra fields are ignored.
// - `parameters` objects must hold only string, number or boolean values, as the spec defines them.
//   Input and output parameters are validated but not used (the binary data extension is not supported).
// - `outputs: []` means all outputs, as in Triton; naming an output twice is malformed.
// - FP16/BF16 inputs cannot be written as JSON numbers portably: MG_ERR_INFER_UNSUPPORTED_DATATYPE.
import type { Signature, TensorDatatype, TensorSpec } from '../../registry/signature.js';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { formatShape } from '../../registry/onnx/signature-diff.js';
import {
  allocate, clip, describeValue, fillValues, infer, isJsonDatatype, isRecord, quote, setOwn, toJsonArray, valueError,
  type JsonDatatype,
} from './codec.js';

export interface DecodedRequest {
  id: string | undefined;
  inputs: TensorMap;
  /** The outputs asked for, in request order; undefined for all of them. */
  outputs: string[] | undefined;
  parameters: Record<string, unknown> | undefined;
  /**
   * The size of the first dimension when every signature input's first dimension is symbolic or unknown
   * and the request gives all inputs the same first dimension; else undefined (not batchable).
   */
  batchSize: number | undefined;
}

export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: TensorDatatype;
  data: unknown[];
}

export interface InferResponseBody {
  model_name: string;
  model_version?: string;
  id: string;
  parameters?: Record<string, unknown>;
  outputs: ResponseOutput[];
}

// ---- The signature, prepared once --------------------------------------------------------------

interface CompiledInput {
  name: string;
  index: number;
  /** Null when the model input cannot be sent as JSON; `unsupported` says why. */
  datatype: JsonDatatype | null;
  unsupported: string;
  /** Per dimension: the fixed size, or -1 for any size. Null when the rank is unknown. */
  fixed: number[] | null;
  /** Per dimension: the slot of its symbolic name, or -1. */
  slots: number[] | null;
  symbols: (string | null)[] | null;
  expectedShape: string;
}

interface CompiledSignature {
  inputs: CompiledInput[];
  byName: Map<string, CompiledInput>;
  outputs: Set<string>;
  symbolCount: number;
  /** Every input has a known rank ≥ 1 and a first dimension that is not fixed. */
  batchable: boolean;
  inputList: string;
  outputList: string;
}

// Signatures are immutable once read from an artifact, so the prepared form can be kept per object.
const compiledCache = new WeakMap<Signature, CompiledSignature>();

function compile(signature: Signature): CompiledSignature {
  let c = compiledCache.get(signature);
  if (c !== undefined) return c;
  const symbolSlots = new Map<string, number>();
  let batchable = signature.inputs.length > 0;
  const inputs = signature.inputs.map((spec, index): CompiledInput => {
    const shape = spec.shape;
    let fixed: number[] | null = null;
    let slots: number[] | null = null;
    let symbols: (string | null)[] | null = null;
    if (shape !== null) {
      fixed = [];
      slots = [];
      symbols = [];
      for (const d of shape) {
        // ONNX writes -1 for an unknown size in some exporters; treat any negative size as unknown.
        fixed.push(typeof d === 'number' && d >= 0 ? d : -1);
        if (typeof d === 'string') {
          let slot = symbolSlots.get(d);
          if (slot === undefined) symbolSlots.set(d, (slot = symbolSlots.size));
          slots.push(slot);
          symbols.push(d);
        } else {
          slots.push(-1);
          symbols.push(null);
        }
      }
    }
    if (fixed === null || fixed.length === 0 || (fixed[0] as number) >= 0) batchable = false;
    const { datatype, unsupported } = jsonDatatypeOf(spec);
    return { name: spec.name, index, datatype, unsupported, fixed, slots, symbols, expectedShape: formatShape(shape) };
  });
  c = {
    inputs,
    byName: new Map(inputs.map((i) => [i.name, i])),
    outputs: new Set(signature.outputs.map((o) => o.name)),
    symbolCount: symbolSlots.size,
    batchable,
    inputList: listNames(signature.inputs.map((i) => i.name)),
    outputList: listNames(signature.outputs.map((o) => o.name)),
  };
  compiledCache.set(signature, c);
  return c;
}

function jsonDatatypeOf(spec: TensorSpec): { datatype: JsonDatatype | null; unsupported: string } {
  if (spec.kind !== 'tensor' || spec.datatype === null) {
    return { datatype: null, unsupported: `the model's input ${quote(spec.name)} is a ${spec.onnxType}, which cannot be sent as JSON` };
  }
  if (!isJsonDatatype(spec.datatype)) {
    return { datatype: null, unsupported: `the model's input ${quote(spec.name)} is ${spec.datatype}, which has no JSON form (it needs the binary data extension, which is not supported)` };
  }
  return { datatype: spec.datatype, unsupported: '' };
}

function listNames(names: string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, 20).map(quote).join(', ');
  return names.length > 20 ? `${shown} and ${names.length - 20} more` : shown;
}

// ---- Decoding ------------------------------------------------------------------------------------

function malformed(message: string, details?: Record<string, unknown>): ModelgateError {
  return infer('MG_ERR_INFER_MALFORMED_REQUEST', message, details);
}

/**
 * Validates a parsed V2 inference request against the model's signature and converts its inputs to
 * tensors. Throws only ModelgateError (MG_ERR_INFER_*, status 400), whatever `body` is.
 */
export function decodeInferRequest(body: unknown, signature: Signature): DecodedRequest {
  const c = compile(signature);
  try {
    return decode(body, c);
  } catch (e) {
    if (e instanceof ModelgateError) throw e;
    // Only a non-JSON body (a getter or Proxy that throws) or an allocation failure can get here; the
    // caller is promised a ModelgateError either way.
    throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'The inference request could not be read as an Open Inference Protocol request.', undefined, { cause: e });
  }
}

interface RawInput {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

function decode(body: unknown, c: CompiledSignature): DecodedRequest {
  if (!isRecord(body)) {
    throw malformed(`The inference request must be a JSON object {"inputs": [...]}, got ${describeValue(body)}.`);
  }
  const rawId = body.id;
  if (rawId != null && typeof rawId !== 'string') throw malformed(`"id" must be a string, got ${describeValue(rawId)}.`, { field: 'id' });
  const id = rawId ?? undefined;
  const parameters = checkParameters(body.parameters, '"parameters"');
  const rawInputs = body.inputs;
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) {
    throw malformed(`"inputs" must be a non-empty array of tensors {"name", "shape", "datatype", "data"}, got ${describeValue(rawInputs)}.`, { field: 'inputs' });
  }
  const outputs = decodeOutputs(body.outputs, c);

  // First every input's structure and name, so a missing input is reported before any data is converted.
  const byIndex: (RawInput | undefined)[] = new Array<RawInput | undefined>(c.inputs.length);
  for (let i = 0; i < rawInputs.length; i++) {
    const raw = readInput(rawInputs[i], i);
    const ci = c.byName.get(raw.name);
    if (ci === undefined) {
      throw infer('MG_ERR_INFER_UNKNOWN_INPUT', `The model has no input ${quote(raw.name)}; its inputs are ${c.inputList}.`, { input: clip(raw.name) });
    }
    if (byIndex[ci.index] !== undefined) throw malformed(`input ${quote(raw.name)}: given more than once`, { input: clip(raw.name) });
    byIndex[ci.index] = raw;
  }
  if (rawInputs.length !== c.inputs.length) {
    const missing = c.inputs.filter((ci) => byIndex[ci.index] === undefined).map((ci) => ci.name);
    throw infer('MG_ERR_INFER_MISSING_INPUT', `The request lacks input${missing.length > 1 ? 's' : ''} ${listNames(missing)}; the model's inputs are ${c.inputList}.`, { missing });
  }

  const bound = c.symbolCount > 0 ? new Array<number>(c.symbolCount).fill(-1) : undefined;
  const boundBy = c.symbolCount > 0 ? new Array<string>(c.symbolCount) : undefined;
  // Datatypes and shapes of all inputs before any data, so a shape conflict between inputs is reported
  // as such rather than as the data of the first one not fitting.
  for (let k = 0; k < c.inputs.length; k++) {
    const ci = c.inputs[k] as CompiledInput;
    const raw = byIndex[k] as RawInput;
    checkDatatype(ci, raw.datatype);
    checkShape(ci, raw.shape, bound, boundBy);
  }
  const inputs: TensorMap = {};
  let batchable = c.batchable;
  let batchSize: number | undefined;
  for (let k = 0; k < c.inputs.length; k++) {
    const ci = c.inputs[k] as CompiledInput;
    const raw = byIndex[k] as RawInput;
    setOwn(inputs, ci.name, decodeData(ci.name, ci.datatype as JsonDatatype, raw.shape, raw.data));
    if (batchable) {
      // The signature fixed the rank at ≥ 1, and checkShape held the request to it.
      const first = raw.shape[0] as number;
      if (k === 0) batchSize = first;
      else if (first !== batchSize) {
        batchable = false;
        batchSize = undefined;
      }
    }
  }
  return { id, inputs, outputs, parameters, batchSize };
}

function readInput(v: unknown, i: number): RawInput {
  const where = `inputs[${i}]`;
  if (!isRecord(v)) throw malformed(`${where} must be an object {"name", "shape", "datatype", "data"}, got ${describeValue(v)}.`);
  const name = v.name;
  if (typeof name !== 'string') throw malformed(`${where} has no "name" string (got ${describeValue(name)}).`);
  // Only error messages use the label: building it (JSON.stringify of the name) on every request was ~0.2 µs,
  // 40% of decoding a one-row request for the example model.
  const label = () => `input ${quote(name)}:`;
  const datatype = v.datatype;
  if (typeof datatype !== 'string') throw malformed(`${label()} "datatype" must be a string, got ${describeValue(datatype)}`, { input: clip(name) });
  const shape = v.shape;
  if (!Array.isArray(shape)) throw malformed(`${label()} "shape" must be an array of non-negative integers, got ${describeValue(shape)}`, { input: clip(name) });
  const dims = new Array<number>(shape.length);
  for (let d = 0; d < shape.length; d++) {
    const n: unknown = shape[d];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw malformed(`${label()} "shape" must be an array of non-negative integers; dimension ${d} is ${describeValue(n)}`, { input: clip(name), dimension: d });
    }
    dims[d] = n + 0; // -0 → 0
  }
  if (v.parameters != null) checkParameters(v.parameters, `${label()} "parameters"`);
  const data = v.data;
  if (!Array.isArray(data)) {
    const binary = isRecord(v.parameters) && v.parameters.binary_data_size !== undefined;
    throw malformed(binary
      ? `${label()} the binary tensor data extension is not supported; send "data" as a JSON array`
      : `${label()} "data" must be an array, got ${describeValue(data)}`, { input: clip(name) });
  }
  return { name, datatype, shape: dims, data };
}

function checkParameters(p: unknown, where: string): Record<string, unknown> | undefined {
  if (p == null) return undefined;
  if (!isRecord(p)) throw malformed(`${where} must be an object of string, number or boolean values, got ${describeValue(p)}.`);
  for (const key in p) {
    if (!Object.hasOwn(p, key)) continue;
    const v = p[key];
    const t = typeof v;
    if (t !== 'string' && t !== 'boolean' && !(t === 'number' && (v as number) - (v as number) === 0)) {
      throw malformed(`${where}: parameter ${quote(key)} is ${describeValue(v)}; a parameter value is a string, a finite number or a boolean.`, { parameter: clip(key) });
    }
  }
  return p;
}

function decodeOutputs(o: unknown, c: CompiledSignature): string[] | undefined {
  if (o == null) return undefined;
  if (!Array.isArray(o)) throw malformed(`"outputs" must be an array of {"name"} objects, got ${describeValue(o)}.`, { field: 'outputs' });
  if (o.length === 0) return undefined;
  const names: string[] = [];
  for (let i = 0; i < o.length; i++) {
    const r: unknown = o[i];
    if (!isRecord(r) || typeof r.name !== 'string') throw malformed(`outputs[${i}] must be an object with a "name" string, got ${describeValue(r)}.`);
    const name = r.name;
    checkParameters(r.parameters, `output ${quote(name)}: "parameters"`);
    if (!c.outputs.has(name)) throw infer('MG_ERR_INFER_UNKNOWN_OUTPUT', `The model has no output ${quote(name)}; its outputs are ${c.outputList}.`, { output: clip(name) });
    if (names.includes(name)) throw malformed(`output ${quote(name)}: asked for more than once`, { output: clip(name) });
    names.push(name);
  }
  return names;
}

function checkDatatype(ci: CompiledInput, got: string): void {
  if (got === 'FP16' || got === 'BF16') {
    throw infer('MG_ERR_INFER_UNSUPPORTED_DATATYPE', `input ${quote(ci.name)}: ${got} cannot be sent as JSON (it needs the binary data extension, which is not supported)${ci.datatype ? `; the model takes ${ci.datatype}` : ''}`, { input: ci.name, datatype: got });
  }
  if (ci.datatype === null) throw infer('MG_ERR_INFER_UNSUPPORTED_DATATYPE', `input ${quote(ci.name)}: ${ci.unsupported}`, { input: ci.name });
  if (got !== ci.datatype) {
    throw infer('MG_ERR_INFER_DATATYPE_MISMATCH', `input ${quote(ci.name)}: expected ${ci.datatype}, got ${got.length > 16 ? quote(got) : got}`, { input: ci.name, expected: ci.datatype, got: got.slice(0, 64) });
  }
}

function checkShape(ci: CompiledInput, shape: number[], bound: number[] | undefined, boundBy: string[] | undefined): void {
  const { fixed, slots, symbols } = ci;
  if (fixed === null || slots === null || symbols === null) return;
  if (shape.length !== fixed.length) {
    throw infer('MG_ERR_INFER_SHAPE_MISMATCH', `input ${quote(ci.name)}: expected shape ${ci.expectedShape} (${fixed.length} dimension${fixed.length === 1 ? '' : 's'}), got ${shapeText(shape)}`, { input: ci.name, expected: ci.expectedShape, got: shapeText(shape) });
  }
  for (let d = 0; d < fixed.length; d++) {
    const size = shape[d] as number;
    const f = fixed[d] as number;
    if (f >= 0 && size !== f) {
      throw infer('MG_ERR_INFER_SHAPE_MISMATCH', `input ${quote(ci.name)}: expected shape ${ci.expectedShape}, got ${shapeText(shape)} (dimension ${d} must be ${f})`, { input: ci.name, expected: ci.expectedShape, got: shapeText(shape), dimension: d });
    }
    const slot = slots[d] as number;
    if (slot >= 0 && bound !== undefined && boundBy !== undefined) {
      const b = bound[slot] as number;
      if (b < 0) {
        bound[slot] = size;
        boundBy[slot] = ci.name;
      } else if (b !== size) {
        const sym = symbols[d] as string;
        const other = boundBy[slot] as string;
        throw infer('MG_ERR_INFER_SHAPE_MISMATCH',
          `input ${quote(ci.name)}: dimension ${d} is "${sym}", which is ${b} in ${other === ci.name ? 'an earlier dimension of this input' : `input ${quote(other)}`}, but ${size} here; every "${sym}" must have the same size`,
          { input: ci.name, dimension: d, symbol: sym, expected: b, got: size });
      }
    }
  }
}

function shapeText(shape: readonly number[]): string {
  if (shape.length > 16) return `[${shape.slice(0, 16).join(',')},…] (${shape.length} dimensions)`;
  return `[${shape.join(',')}]`;
}

// No JS array can be longer, so a larger product can never be matched by the data.
const MAX_ELEMENTS = 2 ** 32 - 1;

function decodeData(name: string, datatype: JsonDatatype, shape: number[], raw: unknown[]): Tensor {
  const rank = shape.length;
  let count = 1;
  let empty = false;
  for (let d = 0; d < rank; d++) {
    const size = shape[d] as number;
    if (size === 0) empty = true;
    count *= size;
  }
  // Checked apart from the product, which may have overflowed to Infinity (and Infinity × 0 is NaN).
  if (empty) count = 0;
  else if (count > MAX_ELEMENTS) {
    throw infer('MG_ERR_INFER_DATA_LENGTH', `input ${quote(name)}: shape ${shapeText(shape)} describes more elements than any request can carry`, { input: name });
  }
  if (rank >= 2 && raw.length > 0 && Array.isArray(raw[0])) {
    // Nested: the structure is validated completely before allocating, so a shape that claims more than
    // the data holds never allocates.
    const rows = leafRows(name, raw, shape);
    const width = shape[rank - 1] as number;
    const data = allocate(datatype, count);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as unknown[];
      const bad = fillValues(datatype, row, width, data, r * width);
      if (bad >= 0) throw elementError(name, datatype, row[bad], r * width + bad);
    }
    return { datatype, shape, data };
  }
  if (raw.length !== count) {
    throw infer('MG_ERR_INFER_DATA_LENGTH', `input ${quote(name)}: shape ${shapeText(shape)} holds ${count} element${count === 1 ? '' : 's'}, but "data" has ${raw.length}`, { input: name, expected: count, got: raw.length });
  }
  const data = allocate(datatype, count);
  const bad = fillValues(datatype, raw, count, data, 0);
  if (bad >= 0) throw elementError(name, datatype, raw[bad], bad);
  return { datatype, shape, data };
}

function elementError(name: string, datatype: JsonDatatype, value: unknown, index: number): ModelgateError {
  return valueError(`input ${quote(name)}: element ${index}`, datatype, value, { input: name, index });
}

/**
 * The innermost arrays of nested data, in row-major order, after checking that level d is an array of
 * exactly shape[d] entries everywhere. Walks level by level, so depth costs no stack.
 */
function leafRows(name: string, data: unknown[], shape: number[]): unknown[][] {
  const rank = shape.length;
  if (data.length !== shape[0]) throw nestingError(name, shape, 0, 0, data);
  let level: unknown[] = data;
  for (let d = 1; d < rank; d++) {
    const len = shape[d] as number;
    const next: unknown[] = d === rank - 1 ? level : [];
    for (let k = 0; k < level.length; k++) {
      const a = level[k];
      if (!Array.isArray(a) || a.length !== len) throw nestingError(name, shape, d, k, a);
      if (d < rank - 1) for (let j = 0; j < len; j++) next.push(a[j]);
    }
    level = next;
  }
  return level as unknown[][];
}

function nestingError(name: string, shape: number[], depth: number, k: number, got: unknown): ModelgateError {
  // Recover the path of the k-th array at this depth from the row-major position. Depth can be as large
  // as the request's rank, so this stays linear and only the first indices are written out.
  const path = new Array<number>(depth);
  for (let d = depth - 1; d >= 0; d--) {
    const len = shape[d] as number;
    path[d] = k % len;
    k = Math.floor(k / len);
  }
  const shown = path.slice(0, 16).map((p) => `[${p}]`).join('');
  const at = `data${shown}${depth > 16 ? `…(${depth} levels)` : ''}`;
  const want = shape[depth] as number;
  const gotText = Array.isArray(got) ? `an array of ${got.length}` : describeValue(got);
  return infer('MG_ERR_INFER_DATA_LENGTH',
    `input ${quote(name)}: nested data must follow shape ${shapeText(shape)} (or be flat): ${at} should be an array of ${want}, got ${gotText}`,
    { input: name, path: at });
}

// ---- Encoding ------------------------------------------------------------------------------------

/**
 * The V2 inference response for `outputs`, in their key order, with flat `data`. 64-bit integers are JSON
 * numbers when safe and decimal strings otherwise; BOOL is true/false; NaN/Infinity in float outputs
 * become null when serialised, as JSON has no such numbers.
 */
export function encodeInferResponse(args: {
  modelName: string;
  modelVersion: string;
  id: string;
  outputs: TensorMap;
  parameters?: Record<string, unknown>;
}): InferResponseBody {
  const outputs: ResponseOutput[] = [];
  const names = Object.keys(args.outputs);
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const t = args.outputs[name] as Tensor;
    outputs.push({ name, shape: t.shape.slice(), datatype: t.datatype, data: toJsonArray(t) });
  }
  if (args.parameters === undefined) return { model_name: args.modelName, model_version: args.modelVersion, id: args.id, outputs };
  return { model_name: args.modelName, model_version: args.modelVersion, id: args.id, parameters: args.parameters, outputs };
}
