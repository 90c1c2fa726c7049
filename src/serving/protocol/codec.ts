// Element-level conversion between JSON values and the typed-array tensor layout, shared by the V1 and V2
// codecs. This is the per-element hot loop of every prediction, so each datatype has its own tight loop
// that writes straight into a preallocated typed array, and a failing element is reported as an index
// rather than thrown from inside the loop: the caller knows how to name it (flat index, or row and feature).
import type { TensorDatatype } from '../../registry/signature.js';
import type { Tensor, TensorData } from '../../runtime/types.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { ErrorCode } from '../../errors/codes.js';

/** The datatypes that can travel as JSON values: all but FP16 and BF16, which have no JSON form. */
export type JsonDatatype = Exclude<TensorDatatype, 'FP16' | 'BF16'>;

const JSON_DATATYPES: ReadonlySet<string> = new Set<JsonDatatype>([
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64', 'BYTES',
]);

export function isJsonDatatype(d: string | null): d is JsonDatatype {
  return d !== null && JSON_DATATYPES.has(d);
}

export function isNumericDatatype(d: TensorDatatype | null): d is Exclude<JsonDatatype, 'BOOL' | 'BYTES'> {
  return d !== null && d !== 'BOOL' && d !== 'BYTES' && d !== 'FP16' && d !== 'BF16';
}

export function allocate(datatype: JsonDatatype, n: number): TensorData {
  switch (datatype) {
    case 'FP32': return new Float32Array(n);
    case 'FP64': return new Float64Array(n);
    case 'INT8': return new Int8Array(n);
    case 'INT16': return new Int16Array(n);
    case 'INT32': return new Int32Array(n);
    case 'INT64': return new BigInt64Array(n);
    case 'UINT8': return new Uint8Array(n);
    case 'UINT16': return new Uint16Array(n);
    case 'UINT32': return new Uint32Array(n);
    case 'UINT64': return new BigUint64Array(n);
    case 'BOOL': return new Uint8Array(n);
    case 'BYTES': return new Array<string>(n);
  }
}

type SmallIntArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 2147483647],
  UINT8: [0, 255], UINT16: [0, 65535], UINT32: [0, 4294967295],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
// Canonical decimal only (no "+", leading zeros, spaces or exponents), and bounded in length before
// BigInt() sees it, so a megabyte of digits costs nothing.
const INT64_DECIMAL = /^-?(?:0|[1-9][0-9]{0,18})$/;
const UINT64_DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/;

/**
 * Converts `count` JSON values from `src[0..count)` into `dst[at..at+count)`.
 * Returns -1 when all fit, else the index in `src` of the first value that does not (dst is then partly written).
 */
export function fillValues(datatype: JsonDatatype, src: readonly unknown[], count: number, dst: TensorData, at: number): number {
  switch (datatype) {
    case 'FP32': return fillFp32(src, count, dst as Float32Array, at);
    case 'FP64': return fillFp64(src, count, dst as Float64Array, at);
    case 'INT64': return fillInt64(src, count, dst as BigInt64Array, at);
    case 'UINT64': return fillUint64(src, count, dst as BigUint64Array, at);
    case 'BOOL': return fillBool(src, count, dst as Uint8Array, at);
    case 'BYTES': return fillBytes(src, count, dst as string[], at);
    default: {
      const [min, max] = INT_RANGE[datatype] as readonly [number, number];
      return fillSmallInt(src, count, dst as SmallIntArray, at, min, max);
    }
  }
}

function fillFp32(src: readonly unknown[], count: number, dst: Float32Array, at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v !== 'number') return i;
    const f = Math.fround(v);
    // x - x is 0 exactly for finite x; this also rejects finite doubles that round to ±Infinity in FP32.
    if (f - f !== 0) return i;
    dst[at + i] = f;
  }
  return -1;
}

function fillFp64(src: readonly unknown[], count: number, dst: Float64Array, at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v !== 'number' || v - v !== 0) return i;
    dst[at + i] = v;
  }
  return -1;
}

function fillSmallInt(src: readonly unknown[], count: number, dst: SmallIntArray, at: number, min: number, max: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return i;
    dst[at + i] = v;
  }
  return -1;
}

function fillInt64(src: readonly unknown[], count: number, dst: BigInt64Array, at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v === 'number') {
      // Beyond 2^53 JSON.parse has already rounded the number, so the value the client meant is lost.
      if (!Number.isSafeInteger(v)) return i;
      dst[at + i] = BigInt(v);
    } else if (typeof v === 'string') {
      if (v.length > 20 || !INT64_DECIMAL.test(v)) return i;
      const b = BigInt(v);
      if (b < INT64_MIN || b > INT64_MAX) return i;
      dst[at + i] = b;
    } else {
      return i;
    }
  }
  return -1;
}

function fillUint64(src: readonly unknown[], count: number, dst: BigUint64Array, at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v) || v < 0) return i;
      dst[at + i] = BigInt(v);
    } else if (typeof v === 'string') {
      if (v.length > 20 || !UINT64_DECIMAL.test(v)) return i;
      const b = BigInt(v);
      if (b > UINT64_MAX) return i;
      dst[at + i] = b;
    } else {
      return i;
    }
  }
  return -1;
}

function fillBool(src: readonly unknown[], count: number, dst: Uint8Array, at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (v === true) dst[at + i] = 1;
    else if (v === false) dst[at + i] = 0;
    else return i;
  }
  return -1;
}

function fillBytes(src: readonly unknown[], count: number, dst: string[], at: number): number {
  for (let i = 0; i < count; i++) {
    const v = src[i];
    if (typeof v !== 'string') return i;
    dst[at + i] = v;
  }
  return -1;
}

/** What a value of `datatype` must be, for error messages. */
export function expectedValue(datatype: JsonDatatype): string {
  switch (datatype) {
    case 'FP32': return 'a finite number within the FP32 range (±3.4028234663852886e38)';
    case 'FP64': return 'a finite number';
    case 'INT64': return 'an integer from -9223372036854775808 to 9223372036854775807 (a JSON number up to ±9007199254740991, beyond that a decimal string)';
    case 'UINT64': return 'an integer from 0 to 18446744073709551615 (a JSON number up to 9007199254740991, beyond that a decimal string)';
    case 'BOOL': return 'true or false';
    case 'BYTES': return 'a string';
    default: {
      const [min, max] = INT_RANGE[datatype] as readonly [number, number];
      return `an integer from ${min} to ${max}`;
    }
  }
}

/** A short, safe rendering of any value for an error message: never recurses, never echoes a long string. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': return v.length > 40 ? `a ${v.length}-character string ${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v);
    case 'number': case 'boolean': case 'undefined': return String(v);
    case 'bigint': { const s = String(v); return s.length > 40 ? `a ${s.length}-digit bigint` : `${s}n`; }
    case 'object': return 'an object';
    default: return `a ${typeof v}`;
  }
}

/** A name from a request, quoted and cut short so a hostile one cannot flood a message or a log line. */
export function quote(s: string): string {
  return JSON.stringify(clip(s));
}

/** The same cut for names that go into error details. */
export function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

export function infer(code: ErrorCode, message: string, details?: Record<string, unknown>): ModelgateError {
  return new ModelgateError(code, message, details);
}

/**
 * The error for a value that did not fit, given the value itself. An array where an element belongs is a
 * nesting problem (the data is deeper than the shape), reported as such rather than as a bad element.
 */
export function valueError(where: string, datatype: JsonDatatype, value: unknown, details: Record<string, unknown>): ModelgateError {
  if (Array.isArray(value)) {
    return infer('MG_ERR_INFER_DATA_LENGTH', `${where} is an array, but the data is nested deeper than the shape allows; expected ${expectedValue(datatype)}`, details);
  }
  return infer('MG_ERR_INFER_INVALID_VALUE', `${where} is ${describeValue(value)}, expected ${expectedValue(datatype)}`, details);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own property even for "__proto__", whose plain assignment would replace the prototype instead. */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// ---- Encoding: tensors to JSON arrays -------------------------------------------------------------

const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A tensor's elements as a flat JSON-ready array. 64-bit integers become numbers when they are safe
 * integers and decimal strings when they are not (per element), so no value is silently rounded;
 * BOOL becomes true/false; FP16/BF16 bit patterns (Uint16Array, as onnxruntime returns them) become numbers.
 */
export function toJsonArray(t: Tensor): unknown[] {
  const data = t.data;
  if (Array.isArray(data)) return data;
  const n = data.length;
  // push() keeps the array packed: filling a preallocated (holey) one is quicker here, but makes the
  // JSON.stringify that always follows slower by more. Array.from() on a typed array is several times slower.
  const out: unknown[] = [];
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) {
      const b = data[i] as bigint;
      out.push(b >= MIN_SAFE_BIG && b <= MAX_SAFE_BIG ? Number(b) : b.toString());
    }
  } else if (t.datatype === 'BOOL') {
    for (let i = 0; i < n; i++) out.push(data[i] !== 0);
  } else if (data instanceof Uint16Array && t.datatype === 'FP16') {
    for (let i = 0; i < n; i++) out.push(halfToNumber(data[i] as number));
  } else if (data instanceof Uint16Array && t.datatype === 'BF16') {
    for (let i = 0; i < n; i++) out.push(bfloat16ToNumber(data[i] as number));
  } else {
    for (let i = 0; i < n; i++) out.push(data[i]);
  }
  return out;
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const bf16View = new DataView(new ArrayBuffer(4));
function bfloat16ToNumber(b: number): number {
  bf16View.setUint32(0, b << 16);
  return bf16View.getFloat32(0);
}
