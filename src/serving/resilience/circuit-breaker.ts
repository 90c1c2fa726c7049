// A circuit breaker per model version, and the registry that keeps one per `model@version` built from
// spec.resilience.circuitBreaker. Pure state machines: the caller passes the time, so tests need no clock.
//
// States and transitions:
// - closed: every request goes through. Outcomes are counted in a rolling window of `buckets` buckets over
//   `windowMs`. The circuit opens when `consecutiveFailures` failures come in a row, or when the window holds
//   at least `minRequests` outcomes and their error rate is at least `errorRate`.
// - open: allow() refuses for `openForMs`, then the circuit is half-open (decided lazily, on the next call).
// - half-open: allow() admits probes, at most `halfOpenProbes` in the whole half-open episode (so up to that
//   many may be in flight at once). When `halfOpenProbes` probes have succeeded the circuit closes with an
//   empty window; the first failed probe reopens it for another `openForMs`. Probes that never report back
//   (the caller lost them) cannot wedge it: once every probe slot is taken and none has reported for
//   `openForMs`, the episode counts as failed and the circuit reopens.
// Outcomes reported while open, or in half-open with no probe in flight, are ones admitted before the circuit
// opened; they are ignored. The caller reports exactly one success() or failure() per allow() that said true.
import { parseDuration } from '../../rollout/duration.js';
import type { ResilienceSpec } from './resilience-spec.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why the circuit changed state. */
export type BreakerReason =
  | 'consecutive-failures'
  | 'error-rate'
  | 'probe-failed'
  | 'probe-timeout'
  | 'open-elapsed'
  | 'probes-succeeded';

export interface BreakerStateChange {
  from: BreakerState;
  to: BreakerState;
  reason: BreakerReason;
  /** The `now` of the call that made the change. */
  at: number;
}

export interface BreakerOptions {
  windowMs: number;
  /** Buckets the window is divided into (default 10): the window moves on by windowMs / buckets at a time. */
  buckets?: number;
  minRequests: number;
  /** In (0, 1]. */
  errorRate: number;
  consecutiveFailures: number;
  openForMs: number;
  halfOpenProbes: number;
  onStateChange?: (change: BreakerStateChange) => void;
}

export interface BreakerSnapshot {
  state: BreakerState;
  /** When the circuit entered this state (the caller's clock). */
  since: number;
  /** While open: when probes will be let through. */
  openUntil: number | undefined;
  consecutiveFailures: number;
  windowRequests: number;
  windowFailures: number;
  /** windowFailures / windowRequests, 0 for an empty window. */
  errorRate: number;
  probesInFlight: number;
  probeSuccesses: number;
  /** Times the circuit has opened since it was created. */
  opened: number;
  lastReason: BreakerReason | undefined;
}

const STATE_CLOSED = 0;
const STATE_OPEN = 1;
const STATE_HALF_OPEN = 2;
const STATE_NAMES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

export class CircuitBreaker {
  readonly options: Readonly<Required<Omit<BreakerOptions, 'onStateChange'>>>;
  private readonly onStateChange: ((change: BreakerStateChange) => void) | undefined;
  private readonly bucketMs: number;
  private readonly requests: Float64Array;
  private readonly failures: Float64Array;
  /** Index (time / bucketMs) of the newest bucket; -Infinity before the first outcome. */
  private head = -Infinity;
  private windowRequests = 0;
  private windowFailures = 0;
  private consecutive = 0;
  private current = STATE_CLOSED;
  private since = 0;
  private openUntil = 0;
  private probesAdmitted = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  /** The last time a probe was admitted or reported, for the lost-probe timeout. */
  private probeActivity = 0;
  private opened = 0;
  private lastReason: BreakerReason | undefined;
  private lastNow = 0;

  constructor(options: BreakerOptions) {
    const buckets = options.buckets ?? 10;
    const check = (name: string, v: number, ok: boolean, want: string) => {
      if (!ok) throw new RangeError(`CircuitBreaker: ${name} must be ${want}, got ${v}`);
    };
    check('windowMs', options.windowMs, options.windowMs > 0 && Number.isFinite(options.windowMs), 'a finite number > 0');
    check('buckets', buckets, Number.isInteger(buckets) && buckets >= 1, 'an integer ≥ 1');
    check('minRequests', options.minRequests, options.minRequests >= 1, 'at least 1');
    check('consecutiveFailures', options.consecutiveFailures, options.consecutiveFailures >= 1, 'at least 1');
    check('openForMs', options.openForMs, options.openForMs >= 0 && Number.isFinite(options.openForMs), 'a finite number ≥ 0');
    check('halfOpenProbes', options.halfOpenProbes, Number.isInteger(options.halfOpenProbes) && options.halfOpenProbes >= 1, 'an integer ≥ 1');
    check('errorRate', options.errorRate, options.errorRate > 0 && options.errorRate <= 1, 'in (0, 1]');
    this.options = Object.freeze({
      windowMs: options.windowMs,
      buckets,
      minRequests: options.minRequests,
      errorRate: options.errorRate,
      consecutiveFailures: options.consecutiveFailures,
      openForMs: options.openForMs,
      halfOpenProbes: options.halfOpenProbes,
    });
    this.onStateChange = options.onStateChange;
    this.bucketMs = options.windowMs / buckets;
    this.requests = new Float64Array(buckets);
    this.failures = new Float64Array(buckets);
  }

  /**
   * Whether to send a request to the version now. True while closed; false while open; in half-open, true
   * for at most `halfOpenProbes` probes per episode, each of which must then be reported.
   */
  allow(now: number): boolean {
    this.lastNow = now;
    const s = this.current === STATE_OPEN ? this.resolveOpen(now) : this.current;
    if (s === STATE_CLOSED) return true;
    if (s === STATE_OPEN) return false;
    if (this.probesAdmitted < this.options.halfOpenProbes) {
      this.probesAdmitted++;
      this.probesInFlight++;
      this.probeActivity = now;
      return true;
    }
    if (this.probesInFlight > 0 && now - this.probeActivity >= this.options.openForMs) {
      this.open(now, 'probe-timeout');
    }
    return false;
  }

  /** The request admitted by allow() succeeded. */
  success(now: number): void {
    this.lastNow = now;
    const s = this.current === STATE_OPEN ? this.resolveOpen(now) : this.current;
    if (s === STATE_CLOSED) {
      this.consecutive = 0;
      this.record(now, false);
      this.checkErrorRate(now);
    } else if (s === STATE_HALF_OPEN && this.probesInFlight > 0) {
      this.probesInFlight--;
      this.probeActivity = now;
      if (++this.probeSuccesses >= this.options.halfOpenProbes) this.close(now);
    }
  }

  /** The request admitted by allow() failed (after its own retries, if the caller counts those as one). */
  failure(now: number): void {
    this.lastNow = now;
    const s = this.current === STATE_OPEN ? this.resolveOpen(now) : this.current;
    if (s === STATE_CLOSED) {
      this.consecutive++;
      this.record(now, true);
      if (this.consecutive >= this.options.consecutiveFailures) this.open(now, 'consecutive-failures');
      else this.checkErrorRate(now);
    } else if (s === STATE_HALF_OPEN && this.probesInFlight > 0) {
      this.probesInFlight--;
      this.open(now, 'probe-failed');
    }
  }

  /** The state at `now` (an open circuit whose time is up is half-open). */
  state(now: number): BreakerState {
    this.lastNow = now;
    return STATE_NAMES[this.current === STATE_OPEN ? this.resolveOpen(now) : this.current]!;
  }

  /** For status pages: the state and counts at `now` (default: the time of the last call). */
  snapshot(now: number = this.lastNow): BreakerSnapshot {
    const state = this.state(now);
    if (this.current === STATE_CLOSED) this.advance(now);
    return {
      state,
      since: this.since,
      openUntil: this.current === STATE_OPEN ? this.openUntil : undefined,
      consecutiveFailures: this.consecutive,
      windowRequests: this.windowRequests,
      windowFailures: this.windowFailures,
      errorRate: this.windowRequests === 0 ? 0 : this.windowFailures / this.windowRequests,
      probesInFlight: this.probesInFlight,
      probeSuccesses: this.probeSuccesses,
      opened: this.opened,
      lastReason: this.lastReason,
    };
  }

  private resolveOpen(now: number): number {
    if (now < this.openUntil) return STATE_OPEN;
    this.transition(STATE_HALF_OPEN, now, 'open-elapsed');
    this.probesAdmitted = 0;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.probeActivity = now;
    return STATE_HALF_OPEN;
  }

  private checkErrorRate(now: number): void {
    const n = this.windowRequests;
    // A division, not failures ≥ rate × n: 3 / 10 is exactly the double 0.3, while 0.3 × 10 is 3.0000000000000004.
    if (n >= this.options.minRequests && this.windowFailures / n >= this.options.errorRate) this.open(now, 'error-rate');
  }

  private open(now: number, reason: BreakerReason): void {
    this.openUntil = now + this.options.openForMs;
    this.opened++;
    this.resetCounts();
    this.transition(STATE_OPEN, now, reason);
  }

  private close(now: number): void {
    this.resetCounts();
    this.transition(STATE_CLOSED, now, 'probes-succeeded');
  }

  private resetCounts(): void {
    this.consecutive = 0;
    this.requests.fill(0);
    this.failures.fill(0);
    this.windowRequests = 0;
    this.windowFailures = 0;
    this.head = -Infinity;
    this.probesAdmitted = 0;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
  }

  private transition(to: number, now: number, reason: BreakerReason): void {
    const from = this.current;
    this.current = to;
    this.since = now;
    this.lastReason = reason;
    this.onStateChange?.({ from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, reason, at: now });
  }

  private record(now: number, failed: boolean): void {
    const i = this.advance(now);
    this.requests[i]!++;
    this.windowRequests++;
    if (failed) {
      this.failures[i]!++;
      this.windowFailures++;
    }
  }

  /** Moves the window to `now`, emptying the buckets it leaves behind; returns the slot of now's bucket. */
  private advance(now: number): number {
    const n = this.options.buckets;
    const idx = Math.floor(now / this.bucketMs);
    const head = this.head;
    // A clock that steps back (Date.now() adjusted) keeps counting in the newest bucket.
    if (idx <= head) return ((head % n) + n) % n;
    if (idx - head >= n) {
      this.requests.fill(0);
      this.failures.fill(0);
      this.windowRequests = 0;
      this.windowFailures = 0;
    } else {
      for (let k = head + 1; k <= idx; k++) {
        const slot = ((k % n) + n) % n;
        this.windowRequests -= this.requests[slot]!;
        this.windowFailures -= this.failures[slot]!;
        this.requests[slot] = 0;
        this.failures[slot] = 0;
      }
    }
    this.head = idx;
    return ((idx % n) + n) % n;
  }
}

export type CircuitBreakerSpec = ResilienceSpec['circuitBreaker'];

/** The breaker options a spec section describes (durations parsed); throws on a duration the schema let through unparsed. */
export function breakerOptions(spec: CircuitBreakerSpec): Omit<BreakerOptions, 'onStateChange'> {
  return {
    windowMs: durationMs(spec.window, 'spec.resilience.circuitBreaker.window'),
    minRequests: spec.minRequests,
    errorRate: spec.errorRate,
    consecutiveFailures: spec.consecutiveFailures,
    openForMs: durationMs(spec.openFor, 'spec.resilience.circuitBreaker.openFor'),
    halfOpenProbes: spec.halfOpenProbes,
  };
}

function durationMs(d: string | number, field: string): number {
  const ms = parseDuration(d);
  if (ms === undefined) throw new Error(`${field}: "${d}" is not a duration; write e.g. 500ms, 30s, 5m.`);
  return ms;
}

/** The registry key of a model version. */
export function breakerKey(model: string, version: string | number): string {
  return `${model}@${version}`;
}

interface Entry {
  spec: CircuitBreakerSpec;
  fingerprint: string;
  breaker: CircuitBreaker;
}

/**
 * One breaker per key (`model@version`, see breakerKey), built from the spec section the caller passes and
 * re-created, with fresh state, when that section's settings change. Passing the same spec object again costs
 * one Map lookup and one comparison; an equal spec in a new object (a deployment re-applied unchanged) keeps
 * the breaker and its state. Two deployments that serve one version with different breaker settings would
 * reset each other's breaker on every call: give those a key of their own (e.g. `${deployment}/${model}@${version}`).
 */
export class Breakers {
  private readonly entries = new Map<string, Entry>();
  private readonly onStateChange: ((key: string, change: BreakerStateChange) => void) | undefined;
  private readonly buckets: number | undefined;

  constructor(options: { onStateChange?: (key: string, change: BreakerStateChange) => void; buckets?: number } = {}) {
    this.onStateChange = options.onStateChange;
    this.buckets = options.buckets;
  }

  /** The breaker for `key` under `spec`; undefined when the spec disables the breaker (any breaker kept for the key is dropped). */
  get(key: string, spec: CircuitBreakerSpec): CircuitBreaker | undefined {
    const e = this.entries.get(key);
    if (e !== undefined && e.spec === spec) return e.breaker;
    if (!spec.enabled) {
      if (e !== undefined) this.entries.delete(key);
      return undefined;
    }
    const options = breakerOptions(spec);
    const fingerprint = `${options.windowMs}|${options.minRequests}|${options.errorRate}|${options.consecutiveFailures}|${options.openForMs}|${options.halfOpenProbes}`;
    if (e !== undefined && e.fingerprint === fingerprint) {
      e.spec = spec;
      return e.breaker;
    }
    const listener = this.onStateChange;
    const breaker = new CircuitBreaker({
      ...options,
      ...(this.buckets !== undefined ? { buckets: this.buckets } : {}),
      ...(listener !== undefined ? { onStateChange: (change: BreakerStateChange) => listener(key, change) } : {}),
    });
    this.entries.set(key, { spec, fingerprint, breaker });
    return breaker;
  }

  /** The breaker kept for `key`, whatever its settings, without creating one. */
  peek(key: string): CircuitBreaker | undefined {
    return this.entries.get(key)?.breaker;
  }

  /** Forgets a key (a version no longer served). */
  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Forgets every key `keep` says no to; returns how many were dropped. */
  retain(keep: (key: string) => boolean): number {
    let dropped = 0;
    for (const key of this.entries.keys()) {
      if (!keep(key)) {
        this.entries.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every breaker's snapshot at `now`, by key. */
  snapshot(now: number): Record<string, BreakerSnapshot> {
    const out: Record<string, BreakerSnapshot> = {};
    for (const [key, e] of this.entries) {
      Object.defineProperty(out, key, { value: e.breaker.snapshot(now), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}
