// Sticky weighted assignment: a bucket (0..9999, from bucketOf or randomBucket) → the arm whose slice of
// the cumulative weight table holds it. Weights are compiled once per policy; pickArm is a short scan.
//
// Why a ramp never sends a user back: arm i owns the buckets [upper[i-1], upper[i]), the cumulative
// weights in basis points. Moving weight between two ADJACENT arms moves only the one boundary between
// them, so every bucket that changes arm goes from the shrinking arm to the growing one. Deployments
// therefore list the stable arm first and the canary right after it: raising the canary from 10 % to
// 50 % moves the boundary from 9000 to 5000, buckets 5000..8999 go stable → canary, and no canary user
// returns to stable. (Moving weight between arms that are not adjacent shifts the arms in between too,
// which reshuffles their users; keep ramped pairs adjacent.)
import { BUCKETS } from './sticky-hash.js';
import { TrafficPolicyError } from './policy-error.js';

export interface ArmWeight {
  name: string;
  /** Percent of the traffic that no targeting rule took, 0–100. Resolution is one basis point (0.01). */
  weight: number;
}

export interface WeightTable {
  /** The arms that take traffic (weight that rounds to at least one basis point), in policy order. */
  readonly arms: readonly string[];
  /** upper[i] = the exclusive end of arms[i]'s buckets; strictly increasing, and the last is 10 000. */
  readonly upper: Int32Array;
}

/** The tolerance on the sum of the weights: enough for 33.33 + 33.33 + 33.34 in floating point, or thirds written as 33.333. */
const SUM_TOLERANCE = 0.001;

/** Validates the arms' weights and builds the cumulative table. Throws TrafficPolicyError. */
export function compileWeights(arms: readonly ArmWeight[]): WeightTable {
  if (!Array.isArray(arms) || arms.length === 0) {
    throw new TrafficPolicyError('the traffic policy must list at least one arm with a weight', 'arms');
  }
  const seen = new Set<string>();
  let sum = 0;
  for (let i = 0; i < arms.length; i++) {
    const arm = arms[i] as ArmWeight;
    if (typeof arm?.name !== 'string' || arm.name === '') {
      throw new TrafficPolicyError(`arms[${i}].name must be a non-empty string`, `arms[${i}].name`);
    }
    if (seen.has(arm.name)) throw new TrafficPolicyError(`arm "${arm.name}" is listed twice`, `arms[${i}].name`);
    seen.add(arm.name);
    const w = arm.weight;
    if (typeof w !== 'number' || !Number.isFinite(w)) {
      throw new TrafficPolicyError(`arm "${arm.name}": weight must be a number of percent (0–100), got ${String(w)}`, `arms[${i}].weight`);
    }
    if (w < 0 || w > 100) {
      throw new TrafficPolicyError(`arm "${arm.name}": weight ${w} is outside 0–100 percent`, `arms[${i}].weight`);
    }
    sum += w;
  }
  // The epsilon keeps the tolerance inclusive after floating-point addition (33.333 × 3 sums to 99.99900000000001).
  if (Math.abs(sum - 100) > SUM_TOLERANCE + 1e-9) {
    const list = arms.map((a) => `${a.name} ${a.weight}`).join(' + ');
    throw new TrafficPolicyError(`the arm weights must sum to 100 percent, got ${list} = ${+sum.toFixed(6)}`, 'arms');
  }
  // Rounding the running total rather than each weight keeps the table summing to exactly 10 000 and
  // each boundary within half a basis point of its true place (33.333 ×3 → 3333, 3334, 3333).
  const names: string[] = [];
  const bounds: number[] = [];
  let cumulative = 0;
  let previous = 0;
  for (const arm of arms) {
    cumulative += arm.weight;
    const bound = Math.min(BUCKETS, Math.round(cumulative * (BUCKETS / 100)));
    if (bound > previous) {
      names.push(arm.name);
      bounds.push(bound);
      previous = bound;
    }
  }
  // |sum - 100| ≤ 0.001 means the final total is within 0.1 bp of 10 000, so it rounded there; this
  // only guards against floating-point surprises.
  bounds[bounds.length - 1] = BUCKETS;
  return { arms: names, upper: Int32Array.from(bounds) };
}

/** The arm that owns `bucket` (an integer 0..9999). An arm of weight 0 is not in the table, so it never gets traffic. */
export function pickArm(table: WeightTable, bucket: number): string {
  const upper = table.upper;
  const last = upper.length - 1;
  for (let i = 0; i < last; i++) {
    if (bucket < (upper[i] as number)) return table.arms[i] as string;
  }
  // Also where an out-of-range bucket lands, rather than returning no arm on the hot path.
  return table.arms[last] as string;
}

/** A bucket for a request without a routing key: such requests are spread by weight but not sticky. */
export function randomBucket(): number {
  return Math.floor(Math.random() * BUCKETS);
}
