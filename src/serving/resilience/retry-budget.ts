// The retry budget (after Finagle's): every request deposits `ratio` of a retry, every second of the window
// deposits `minPerSecond` retries, deposits expire after the window (10 s), and a retry spends one. So during
// an outage retries add at most ratio × requests + minPerSecond × seconds, instead of multiplying the load.
// Also the jittered backoff between attempts. The caller passes the time, so tests need no clock.
import type { ResilienceSpec } from './resilience-spec.js';

export interface RetryBudgetOptions {
  /** Share of the requests that may be retried, in [0, 1]. */
  ratio: number;
  /** Retries credited per second whatever the traffic (≥ 0, fractions allowed: 0.5 is one every 2 s). */
  minPerSecond: number;
  /** How long a deposit can be spent (default 10 s). */
  windowMs?: number;
  /** Buckets the window is divided into (default 10): deposits expire a bucket at a time. */
  buckets?: number;
}

export interface RetryBudgetStats {
  requests: number;
  retries: number;
  refused: number;
}

// Deposits are counted in millionths of a retry, as integers (exact in a double up to 2^53), so ten deposits
// of 0.1 make exactly one retry. Each deposit is rounded down, so rounding never adds a retry.
const SCALE = 1_000_000;

/**
 * Spending is oldest deposit first, so the budget lasts as long as it can. Every retry granted spends a
 * whole retry of deposits; hence, from creation on, retries ≤ ratio × requests + minPerSecond × (seconds begun).
 */
export class RetryBudget {
  readonly options: Readonly<Required<RetryBudgetOptions>>;
  private readonly bucketMs: number;
  private readonly deposit: number;
  private readonly floor: number;
  private readonly tokens: Float64Array;
  private head = -Infinity;
  private available = 0;
  private requests = 0;
  private retries = 0;
  private refused = 0;

  constructor(options: RetryBudgetOptions) {
    const windowMs = options.windowMs ?? 10_000;
    const buckets = options.buckets ?? 10;
    if (!(options.ratio >= 0 && options.ratio <= 1)) throw new RangeError(`RetryBudget: ratio must be in [0, 1], got ${options.ratio}`);
    if (!(options.minPerSecond >= 0 && Number.isFinite(options.minPerSecond))) throw new RangeError(`RetryBudget: minPerSecond must be a finite number ≥ 0, got ${options.minPerSecond}`);
    if (!(windowMs > 0 && Number.isFinite(windowMs))) throw new RangeError(`RetryBudget: windowMs must be a finite number > 0, got ${windowMs}`);
    if (!(Number.isInteger(buckets) && buckets >= 1)) throw new RangeError(`RetryBudget: buckets must be an integer ≥ 1, got ${buckets}`);
    this.options = Object.freeze({ ratio: options.ratio, minPerSecond: options.minPerSecond, windowMs, buckets });
    this.bucketMs = windowMs / buckets;
    this.deposit = Math.floor(options.ratio * SCALE);
    this.floor = Math.floor(((options.minPerSecond * this.bucketMs) / 1000) * SCALE);
    this.tokens = new Float64Array(buckets);
  }

  /** Deposits for one request. Call it once per request the caller receives, not per attempt. */
  recordRequest(now: number): void {
    const slot = this.advance(now);
    this.tokens[slot]! += this.deposit;
    this.available += this.deposit;
    this.requests++;
  }

  /** Spends one retry if the budget holds one; false means: do not retry. */
  tryRetry(now: number): boolean {
    this.advance(now);
    if (this.available < SCALE) {
      this.refused++;
      return false;
    }
    const n = this.options.buckets;
    let due = SCALE;
    // The oldest bucket is the one after the newest in the ring.
    for (let k = 1; k <= n && due > 0; k++) {
      const slot = (((this.head + k) % n) + n) % n;
      const t = this.tokens[slot]!;
      if (t === 0) continue;
      const take = t < due ? t : due;
      this.tokens[slot] = t - take;
      due -= take;
    }
    this.available -= SCALE;
    this.retries++;
    return true;
  }

  /** Retries that could be granted at `now` (a fraction when a part of one is saved up). */
  balance(now: number): number {
    this.advance(now);
    return this.available / SCALE;
  }

  /** Counts since creation. */
  stats(): RetryBudgetStats {
    return { requests: this.requests, retries: this.retries, refused: this.refused };
  }

  /** Moves to now's bucket: buckets that fall out of the window lose their deposits, and each new one gets the per-second credit. */
  private advance(now: number): number {
    const n = this.options.buckets;
    const idx = Math.floor(now / this.bucketMs);
    const head = this.head;
    if (head === -Infinity) {
      // Only seconds since creation are credited: none before the first call.
      this.head = idx;
      const slot = ((idx % n) + n) % n;
      this.tokens[slot] = this.floor;
      this.available = this.floor;
      return slot;
    }
    // A clock that steps back (Date.now() adjusted) keeps using the newest bucket.
    if (idx <= head) return ((head % n) + n) % n;
    if (idx - head >= n) {
      this.tokens.fill(this.floor);
      this.available = this.floor * n;
    } else {
      for (let k = head + 1; k <= idx; k++) {
        const slot = ((k % n) + n) % n;
        this.available += this.floor - this.tokens[slot]!;
        this.tokens[slot] = this.floor;
      }
    }
    this.head = idx;
    return ((idx % n) + n) % n;
  }
}

export type RetrySpec = ResilienceSpec['retries'];

/** The budget spec.resilience.retries describes. */
export function retryBudgetFor(spec: RetrySpec): RetryBudget {
  return new RetryBudget({ ratio: spec.budgetRatio, minPerSecond: spec.minPerSecond });
}

/**
 * Milliseconds to wait before retry number `attempt` (1 for the first retry): "full jitter", uniform in
 * [0, min(maxMs, baseMs × 2^(attempt−1))), so clients that failed together do not retry together.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = attempt > 1 ? Math.min(attempt - 1, 1023) : 0;
  const cap = Math.min(maxMs, baseMs * 2 ** exp);
  return cap > 0 ? random() * cap : 0;
}
