// Merging request tensors into one batch along the first dimension, and cutting the batch's outputs
// back into per-request pieces. Row-major layout makes both a matter of contiguous ranges.
import type { TensorDatatype } from '../../registry/signature.js';
import type { Tensor, TensorData } from '../../runtime/types.js';

type NumericData = Exclude<TensorData, string[]>;
type NumericConstructor = new (length: number) => NumericData;

/**
 * The array type each datatype travels in (see TensorData). FP16 and BF16 are raw 16-bit patterns, so
 * they are copied as Uint16Array without conversion.
 */
const ARRAY_TYPE: Record<Exclude<TensorDatatype, 'BYTES'>, NumericConstructor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

function product(dims: readonly number[], from = 0): number {
  let n = 1;
  for (let i = from; i < dims.length; i++) n *= dims[i]!;
  return n;
}

/**
 * Why `t` cannot take part in a batch, or null when it can: it must have a first dimension, concrete
 * non-negative integer dimensions, the array type of its datatype (TypedArray.set would otherwise convert
 * values silently, e.g. floats into an Int32Array) and exactly as many elements as its shape says.
 */
export function tensorLayoutProblem(t: Tensor): string | null {
  if (t.shape.length === 0) return 'it is a scalar (no first dimension)';
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) return `its shape [${t.shape.join(',')}] is not a list of non-negative integers`;
  }
  if (t.datatype === 'BYTES') {
    if (!Array.isArray(t.data)) return 'BYTES data is not a string array';
  } else {
    const type = ARRAY_TYPE[t.datatype];
    if (type === undefined) return `unknown datatype ${String(t.datatype)}`;
    if (!(t.data instanceof type)) return `${t.datatype} data is not a ${type.name}`;
  }
  const expected = product(t.shape);
  if (t.data.length !== expected) return `it holds ${t.data.length} elements but its shape [${t.shape.join(',')}] needs ${expected}`;
  return null;
}

function assertLayout(t: Tensor, what: string): void {
  const problem = tensorLayoutProblem(t);
  if (problem !== null) throw new RangeError(`${what}: ${problem}`);
}

/**
 * Concatenates tensors along the first dimension. All parts must share the datatype and every dimension
 * after the first. A single part is returned as is (no copy); otherwise the result owns one new array.
 * Throws RangeError when the parts do not fit together.
 */
export function concatTensors(parts: Tensor[]): Tensor {
  const first = parts[0];
  if (first === undefined) throw new RangeError('concatTensors needs at least one tensor');
  assertLayout(first, 'part 0');
  if (parts.length === 1) return first;
  const tail = first.shape.slice(1);
  let rows = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (i > 0) assertLayout(p, `part ${i}`);
    if (p.datatype !== first.datatype) throw new RangeError(`part ${i} is ${p.datatype}, part 0 is ${first.datatype}`);
    if (p.shape.length !== first.shape.length || p.shape.some((d, k) => k > 0 && d !== first.shape[k])) {
      throw new RangeError(`part ${i} has shape [${p.shape.join(',')}], which does not continue [${first.shape.join(',')}] along dimension 0`);
    }
    rows += p.shape[0]!;
  }
  const shape = [rows, ...tail];
  const length = rows * product(tail);
  if (first.datatype === 'BYTES') {
    const data = new Array<string>(length);
    let at = 0;
    for (const p of parts) {
      for (const s of p.data as string[]) data[at++] = s;
    }
    return { datatype: first.datatype, shape, data };
  }
  const data = new ARRAY_TYPE[first.datatype](length);
  // set() accepts a same-kind typed array; the union type cannot express that pairing.
  const target = data as unknown as { set(source: ArrayLike<unknown>, offset: number): void };
  let at = 0;
  for (const p of parts) {
    target.set(p.data, at);
    at += p.data.length;
  }
  return { datatype: first.datatype, shape, data };
}

/**
 * Cuts `t` along the first dimension into pieces of `rows[i]` rows each; `rows` must add up to
 * `t.shape[0]`. Numeric pieces are subarray views of `t.data`, not copies: they share its buffer, so a
 * piece keeps the whole batch's buffer alive as long as it is referenced, and writing into one writes into
 * `t`. Callers treat results as read-only and drop them once serialised, which is why views are safe and
 * avoid a second copy of every output. BYTES pieces are new arrays (of the same strings).
 */
export function splitTensor(t: Tensor, rows: number[]): Tensor[] {
  assertLayout(t, 'tensor');
  let total = 0;
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0) throw new RangeError(`row count ${r} is not a non-negative integer`);
    total += r;
  }
  if (total !== t.shape[0]) throw new RangeError(`row counts add up to ${total}, but the tensor's first dimension is ${t.shape[0]}`);
  if (rows.length === 1) return [t];
  const tail = t.shape.slice(1);
  const rowSize = product(tail);
  const out: Tensor[] = [];
  let start = 0;
  for (const r of rows) {
    const end = start + r * rowSize;
    const data: TensorData = Array.isArray(t.data) ? t.data.slice(start, end) : t.data.subarray(start, end);
    out.push({ datatype: t.datatype, shape: [r, ...tail], data });
    start = end;
  }
  return out;
}
