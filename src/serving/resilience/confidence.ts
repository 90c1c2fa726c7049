// The confidence of each row of a prediction: its top class probability, which spec.resilience.review
// compares with confidenceBelow to queue uncertain predictions for a human decision.
import type { Tensor, TensorMap } from '../../runtime/types.js';

/** How far a row of a probability output may sum from 1 (FP32 softmax and predict_proba sum within ~1e-6). */
const SUM_TOLERANCE = 1e-3;
/** How far outside [0, 1] a probability may stray by rounding. */
const RANGE_TOLERANCE = 1e-6;

// What a candidate output must look like. None: the caller named it, taken as it is. Range: found by its
// name, every value must be a probability. Distribution: found by its values, two or more columns of
// probabilities with every row summing to 1.
const NONE = 0;
const RANGE = 1;
const DISTRIBUTION = 2;
type Check = typeof NONE | typeof RANGE | typeof DISTRIBUTION;

/**
 * Per row, the highest probability of the probability output: `outputName` when given, else the first
 * output whose name contains "prob" (any case) and holds probabilities, else the first FP32/FP64 output of
 * two or more columns whose every row sums to 1. Null when there is no such output (a label-only model, a
 * regression), or when it does not have `rows` rows. A one-column output is P(positive) of a binary model:
 * its confidence is max(p, 1 − p). A row with NaN or an infinity has confidence 0, so it counts as uncertain.
 */
export function topConfidence(outputs: TensorMap, rows: number, outputName?: string): number[] | null {
  if (outputName !== undefined) {
    const t = Object.hasOwn(outputs, outputName) ? outputs[outputName] : undefined;
    return t === undefined ? null : rowMaxima(t, rows, NONE);
  }
  for (const name in outputs) {
    if (!Object.hasOwn(outputs, name) || !/prob/i.test(name)) continue;
    const r = rowMaxima(outputs[name] as Tensor, rows, RANGE);
    if (r !== null) return r;
  }
  for (const name in outputs) {
    if (!Object.hasOwn(outputs, name)) continue;
    const r = rowMaxima(outputs[name] as Tensor, rows, DISTRIBUTION);
    if (r !== null) return r;
  }
  return null;
}

function rowMaxima(t: Tensor, rows: number, check: Check): number[] | null {
  if (t.datatype !== 'FP32' && t.datatype !== 'FP64') return null;
  const data = t.data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return null;
  const shape = t.shape;
  if (!Number.isInteger(rows) || rows < 0 || shape.length === 0 || shape[0] !== rows) return null;
  let width = 1;
  for (let d = 1; d < shape.length; d++) width *= shape[d]!;
  if (width === 0 || data.length !== rows * width) return null;
  if (width === 1 && check === DISTRIBUTION) return null;
  const out = new Array<number>(rows);
  const lo = -RANGE_TOLERANCE;
  const hi = 1 + RANGE_TOLERANCE;
  for (let r = 0; r < rows; r++) {
    const start = r * width;
    let max = -Infinity;
    let sum = 0;
    let finite = true;
    let inRange = true;
    for (let i = start; i < start + width; i++) {
      const x = data[i]!;
      // x - x is 0 only for finite x.
      if (x - x !== 0) finite = false;
      if (x < lo || x > hi) inRange = false;
      if (x > max) max = x;
      sum += x;
    }
    if (!finite) {
      if (check === DISTRIBUTION) return null;
      out[r] = 0;
      continue;
    }
    if (check !== NONE && !inRange) return null;
    if (check === DISTRIBUTION && Math.abs(sum - 1) > SUM_TOLERANCE) return null;
    out[r] = width === 1 ? (max >= 0.5 ? max : 1 - max) : max;
  }
  return out;
}
