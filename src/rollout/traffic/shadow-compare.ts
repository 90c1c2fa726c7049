// Shadow comparison: whether the shadow arm's answer agrees with the primary's for the same request, and
// how far apart two arms' label distributions are. Decides nothing itself; analysis aggregates the results.
import type { TensorDatatype } from '../../registry/signature.js';
import type { Tensor, TensorMap } from '../../runtime/types.js';

export interface ShadowComparison {
  agree: boolean;
  kind: 'label' | 'numeric';
  primaryLabel: string | null;
  shadowLabel: string | null;
  maxAbsDiff: number | null;
}

export interface CompareOptions {
  /** Largest |primary − shadow| of a float output that still counts as agreement. */
  tolerance: number;
  /** The output holding the predicted label; by default the first output with a discrete datatype. */
  labelOutput?: string;
}

// BOOL counts as a label: a binary classifier may answer true/false.
const DISCRETE: ReadonlySet<TensorDatatype> = new Set<TensorDatatype>([
  'BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BYTES',
]);
// FP16/BF16 data holds raw bit patterns, which cannot be subtracted.
const FLOAT: ReadonlySet<TensorDatatype> = new Set<TensorDatatype>(['FP32', 'FP64']);

/**
 * Compares the primary's and the shadow's outputs. A classifier (an output with a discrete datatype, or
 * `labelOutput`) agrees when every label is equal, compared as text when the datatypes differ (INT64 7 vs
 * BYTES "7"); otherwise the first FP32/FP64 output agrees when every element is within `tolerance`
 * (NaN equals only NaN). A missing output or a different shape is a disagreement.
 */
export function compareOutputs(primary: TensorMap, shadow: TensorMap, options: CompareOptions): ShadowComparison {
  const labelName = options.labelOutput ?? firstOutput(primary, DISCRETE);
  if (labelName !== undefined) return compareLabels(own(primary, labelName), own(shadow, labelName));
  const floatName = firstOutput(primary, FLOAT);
  const p = floatName === undefined ? undefined : own(primary, floatName);
  const s = floatName === undefined ? undefined : own(shadow, floatName);
  if (p === undefined || s === undefined || !FLOAT.has(s.datatype) || !sameShape(p, s)) {
    return { agree: false, kind: 'numeric', primaryLabel: null, shadowLabel: null, maxAbsDiff: null };
  }
  const maxAbsDiff = maxDifference(p.data as Float32Array | Float64Array, s.data as Float32Array | Float64Array);
  return { agree: maxAbsDiff <= options.tolerance, kind: 'numeric', primaryLabel: null, shadowLabel: null, maxAbsDiff };
}

function compareLabels(p: Tensor | undefined, s: Tensor | undefined): ShadowComparison {
  const primaryLabel = firstLabel(p);
  const shadowLabel = firstLabel(s);
  let agree = p !== undefined && s !== undefined && sameShape(p, s);
  if (agree) {
    const a = (p as Tensor).data;
    const b = (s as Tensor).data;
    // Same datatype: the elements are of one JS type and === is exact (also for bigint). Otherwise the
    // text form makes 7, 7n and "7" equal, which is what a relabelled output means.
    const sameType = (p as Tensor).datatype === (s as Tensor).datatype;
    for (let i = 0; i < a.length; i++) {
      if (sameType ? a[i] !== b[i] : String(a[i]) !== String(b[i])) {
        agree = false;
        break;
      }
    }
  }
  return { agree, kind: 'label', primaryLabel, shadowLabel, maxAbsDiff: null };
}

function maxDifference(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x === y) continue;
    let d = Math.abs(x - y);
    if (d !== d) {
      // NaN: both NaN agree; one NaN, or opposite infinities, is as far apart as it gets.
      if (x !== x && y !== y) continue;
      d = Infinity;
    }
    if (d > max) max = d;
  }
  return max;
}

function firstOutput(outputs: TensorMap, datatypes: ReadonlySet<TensorDatatype>): string | undefined {
  for (const name in outputs) {
    if (Object.hasOwn(outputs, name) && datatypes.has((outputs[name] as Tensor).datatype)) return name;
  }
  return undefined;
}

function own(outputs: TensorMap, name: string): Tensor | undefined {
  return Object.hasOwn(outputs, name) ? outputs[name] : undefined;
}

function firstLabel(t: Tensor | undefined): string | null {
  return t === undefined || t.data.length === 0 ? null : String(t.data[0]);
}

function sameShape(a: Tensor, b: Tensor): boolean {
  if (a.shape.length !== b.shape.length || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  return true;
}

/**
 * The Jensen–Shannon distance between two label-count distributions: the square root of the JS
 * divergence with natural logarithms, as scipy.spatial.distance.jensenshannon(p, q) computes it.
 * 0 for identical shares (whatever the totals), up to sqrt(ln 2) ≈ 0.8326 for disjoint labels. A label
 * missing on one side counts 0 there. NaN when either side has no counts: there is nothing to compare.
 */
export function labelDistributionDivergence(a: Record<string, number>, b: Record<string, number>): number {
  const totalA = total(a, 'a');
  const totalB = total(b, 'b');
  if (totalA === 0 || totalB === 0) return NaN;
  let js = 0;
  for (const label in a) {
    if (!Object.hasOwn(a, label)) continue;
    const p = (a[label] as number) / totalA;
    const q = (Object.hasOwn(b, label) ? (b[label] as number) : 0) / totalB;
    js += halfTerms(p, q);
  }
  for (const label in b) {
    if (!Object.hasOwn(b, label) || Object.hasOwn(a, label)) continue;
    js += halfTerms(0, (b[label] as number) / totalB);
  }
  // Rounding can leave −1e-17 for identical distributions.
  return Math.sqrt(Math.max(0, js / 2));
}

/** p·ln(p/m) + q·ln(q/m) with m = (p+q)/2, taking 0·ln 0 = 0 (scipy's rel_entr). */
function halfTerms(p: number, q: number): number {
  const m = (p + q) / 2;
  return (p > 0 ? p * Math.log(p / m) : 0) + (q > 0 ? q * Math.log(q / m) : 0);
}

function total(counts: Record<string, number>, side: string): number {
  let sum = 0;
  for (const label in counts) {
    if (!Object.hasOwn(counts, label)) continue;
    const n = counts[label];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new RangeError(`label count ${side}[${JSON.stringify(label)}] must be a finite number ≥ 0, got ${String(n)}`);
    }
    sum += n;
  }
  return sum;
}
