// Tensors crossing the worker boundary: shape checks against a signature, conversion of what predict()
// returns into the declared typed arrays, and zero inputs for warmup.
// Runs in the model's worker as well as in the gateway.
import type { Dim, TensorSpec } from '../../registry/signature.js';
import type { Tensor, TensorData, TensorMap } from '../types.js';
import { JS_DATATYPES, isJsDatatype, show } from './js-signature.js';

/** Sizes given to named dimensions so far in one request, and the tensor that gave each. */
export type DimBindings = Map<string, { size: number; by: string }>;

export type TensorProblemKind = 'datatype' | 'shape' | 'length' | 'value';

/** A tensor that does not fit its spec. `kind` lets the gateway pick the error code for inputs. */
export class TensorProblem extends Error {
  readonly kind: TensorProblemKind;
  constructor(kind: TensorProblemKind, message: string) {
    super(message);
    this.name = 'TensorProblem';
    this.kind = kind;
  }
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly Dim[] | null): string {
  return shape === null ? '(any rank)' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

function specDims(spec: TensorSpec): Dim[] {
  // Only js-normalised signatures reach here, and those always have a shape.
  return spec.shape ?? [];
}

/**
 * Checks concrete sizes against the spec's dimensions and records the sizes of named ones, so that every
 * tensor using a name (inputs and outputs alike) agrees on its size within one request.
 */
export function checkShape(what: string, spec: TensorSpec, shape: unknown, dims: DimBindings): number[] {
  if (!Array.isArray(shape)) throw new TensorProblem('shape', `${what} has shape ${show(shape)}, not an array of sizes`);
  const want = specDims(spec);
  const got: number[] = [];
  for (const d of shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new TensorProblem('shape', `${what} has a dimension ${show(d)} in its shape; sizes are integers ≥ 0`);
    }
    got.push(d);
  }
  if (got.length !== want.length) {
    throw new TensorProblem('shape', `${what} has shape ${formatShape(got)}, but the signature says ${formatShape(want)} (rank ${want.length})`);
  }
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i] as number;
    if (typeof w === 'number' && w !== g) {
      throw new TensorProblem('shape', `${what} has shape ${formatShape(got)}, but the signature says ${formatShape(want)}: dimension ${i} must be ${w}`);
    }
    if (typeof w === 'string') {
      const bound = dims.get(w);
      if (bound === undefined) dims.set(w, { size: g, by: what });
      else if (bound.size !== g) {
        throw new TensorProblem(
          'shape',
          `${what} has shape ${formatShape(got)}, but dimension ${i} ("${w}") is ${bound.size} in ${bound.by === what ? 'another dimension of it' : bound.by}`,
        );
      }
    }
  }
  return got;
}

const INT_RANGES = {
  BOOL: [0, 1],
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
} as const;

function isNumericView(x: unknown): x is ArrayLike<number | bigint> {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

function dataName(x: unknown): string {
  if (isNumericView(x)) return `a ${x.constructor.name}`;
  return show(x);
}

function wantedArrayName(datatype: keyof typeof JS_DATATYPES): string {
  return JS_DATATYPES[datatype].array?.name ?? 'string[]';
}

/**
 * Converts the data predict() returned into the declared datatype's array: a fresh array in every case, so
 * the caller may transfer its buffer without detaching an array the module still holds.
 */
function convertData(what: string, spec: TensorSpec, data: unknown, count: number): TensorData {
  const datatype = spec.datatype;
  if (!isJsDatatype(datatype)) throw new TensorProblem('datatype', `${what}: datatype ${show(datatype)} is not supported by js models`);
  if (!Array.isArray(data) && !isNumericView(data)) {
    throw new TensorProblem('value', `${what} has data ${dataName(data)}; data is a flat array or typed array, row-major`);
  }
  const src = data as ArrayLike<unknown>;
  if (src.length !== count) {
    throw new TensorProblem('length', `${what} has ${src.length} values, but its shape needs ${count}`);
  }
  const bad = (i: number, v: unknown, need: string): TensorProblem =>
    new TensorProblem('value', `${what} element ${i} is ${Array.isArray(v) ? 'an array (data must be flat, row-major)' : show(v)}, not ${need}`);

  if (datatype === 'BYTES') {
    const out = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const v = src[i];
      if (typeof v !== 'string') throw bad(i, v, 'a string');
      out[i] = v;
    }
    return out;
  }
  const Ctor = JS_DATATYPES[datatype].array;
  if (Ctor === null) throw new TensorProblem('datatype', `${what}: no array type for ${datatype}`);
  if (data instanceof Ctor && datatype !== 'BOOL') return data.slice();

  if (datatype === 'INT64' || datatype === 'UINT64') {
    const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
    const need = datatype === 'INT64' ? 'a 64-bit signed integer' : 'a 64-bit unsigned integer';
    for (let i = 0; i < count; i++) {
      const v = src[i];
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
      else throw bad(i, v, need);
      if ((datatype === 'INT64' ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b)) !== b) throw bad(i, v, need);
      out[i] = b;
    }
    return out;
  }
  if (datatype === 'FP32' || datatype === 'FP64') {
    const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = src[i];
      if (typeof v === 'number') out[i] = v;
      else if (typeof v === 'bigint') out[i] = Number(v);
      else throw bad(i, v, 'a number');
    }
    return out;
  }
  const [min, max] = INT_RANGES[datatype];
  const out = new Ctor(count) as Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array;
  const need = datatype === 'BOOL' ? 'a boolean (or 0/1)' : `a ${datatype} integer (${min} to ${max})`;
  for (let i = 0; i < count; i++) {
    const v = src[i];
    let n: number;
    if (datatype === 'BOOL' && typeof v === 'boolean') n = v ? 1 : 0;
    else if (typeof v === 'number' && Number.isInteger(v)) n = v;
    else if (typeof v === 'bigint' && v >= BigInt(min) && v <= BigInt(max)) n = Number(v);
    else throw bad(i, v, need);
    if (n < min || n > max) throw bad(i, v, need);
    out[i] = n;
  }
  return out;
}

/**
 * Turns one output predict() returned ({ shape, data, datatype? }, data possibly a plain array) into a
 * Tensor of the declared datatype, checking it against the spec and the request's named dimensions.
 */
export function convertOutput(what: string, spec: TensorSpec, value: unknown, dims: DimBindings): Tensor {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isNumericView(value)) {
    throw new TensorProblem('value', `${what} is ${dataName(value)}; return { shape, data } for it`);
  }
  const v = value as { datatype?: unknown; shape?: unknown; data?: unknown };
  if (v.datatype !== undefined && v.datatype !== spec.datatype) {
    throw new TensorProblem('datatype', `${what} has datatype ${show(v.datatype)}, but the signature says ${spec.datatype}`);
  }
  const shape = checkShape(what, spec, v.shape, dims);
  const data = convertData(what, spec, v.data, elementCount(shape));
  return { datatype: spec.datatype as Tensor['datatype'], shape, data };
}

/**
 * Checks a tensor that should already be in the runtime layout (an input from the serving layer, or an
 * output the worker converted) without converting anything.
 */
export function verifyTensor(what: string, spec: TensorSpec, value: unknown, dims: DimBindings): Tensor {
  if (typeof value !== 'object' || value === null) throw new TensorProblem('value', `${what} is ${show(value)}, not a tensor`);
  const t = value as { datatype?: unknown; shape?: unknown; data?: unknown };
  if (t.datatype !== spec.datatype) {
    throw new TensorProblem('datatype', `${what} has datatype ${show(t.datatype)}, but the signature says ${spec.datatype}`);
  }
  const datatype = spec.datatype;
  if (!isJsDatatype(datatype)) throw new TensorProblem('datatype', `${what}: datatype ${show(datatype)} is not supported by js models`);
  const shape = checkShape(what, spec, t.shape, dims);
  const Ctor = JS_DATATYPES[datatype].array;
  const data = t.data;
  if (Ctor === null ? !Array.isArray(data) : !(data instanceof Ctor)) {
    throw new TensorProblem('datatype', `${what} has data ${dataName(data)}; ${datatype} data is a ${wantedArrayName(datatype)}`);
  }
  const arr = data as TensorData;
  const count = elementCount(shape);
  if (arr.length !== count) throw new TensorProblem('length', `${what} has ${arr.length} values, but its shape ${formatShape(shape)} needs ${count}`);
  if (Ctor === null) {
    for (let i = 0; i < count; i++) {
      if (typeof arr[i] !== 'string') throw new TensorProblem('value', `${what} element ${i} is ${show(arr[i])}, not a string`);
    }
  }
  return { datatype, shape, data: arr };
}

/** A tensor of zeros (empty strings for BYTES) in the spec's shape, with every dimension that may vary set to 1. */
export function zeroTensor(spec: TensorSpec): Tensor {
  const datatype = spec.datatype;
  if (!isJsDatatype(datatype)) throw new TensorProblem('datatype', `input "${spec.name}": datatype ${show(datatype)} is not supported by js models`);
  const shape = specDims(spec).map((d) => (typeof d === 'number' ? d : 1));
  const count = elementCount(shape);
  const Ctor = JS_DATATYPES[datatype].array;
  return { datatype, shape, data: Ctor === null ? new Array<string>(count).fill('') : new Ctor(count) };
}

/**
 * Copies tensors so that their buffers can be transferred: a copy never aliases a buffer someone else holds,
 * and it covers only the view, where cloning a view would clone its whole underlying buffer.
 */
export function copyForTransfer(map: TensorMap): { tensors: TensorMap; transfer: ArrayBuffer[] } {
  const tensors: TensorMap = {};
  const transfer: ArrayBuffer[] = [];
  for (const [name, t] of Object.entries(map)) {
    const data = Array.isArray(t.data) ? [...t.data] : t.data.slice();
    if (!Array.isArray(data)) transfer.push(data.buffer as ArrayBuffer);
    tensors[name] = { datatype: t.datatype, shape: [...t.shape], data };
  }
  return { tensors, transfer };
}

/** The buffers of tensors this side created itself (see convertOutput), ready to transfer. */
export function transferListOf(map: TensorMap): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(map)) {
    if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer);
  }
  return [...seen];
}
