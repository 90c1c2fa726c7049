import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { breakerKey, breakerOptions, Breakers, CircuitBreaker, type BreakerOptions, type BreakerStateChange, type CircuitBreakerSpec } from './circuit-breaker.js';

const BASE: BreakerOptions = { windowMs: 10_000, minRequests: 10, errorRate: 0.5, consecutiveFailures: 5, openForMs: 30_000, halfOpenProbes: 3 };

function breaker(overrides: Partial<BreakerOptions> = {}): { b: CircuitBreaker; changes: BreakerStateChange[] } {
  const changes: BreakerStateChange[] = [];
  const b = new CircuitBreaker({ ...BASE, ...overrides, onStateChange: (c) => changes.push(c) });
  return { b, changes };
}

/** Sends one request at `now` and reports its outcome, as the data plane would; returns whether it was sent. */
function call(b: CircuitBreaker, now: number, ok: boolean): boolean {
  if (!b.allow(now)) return false;
  if (ok) b.success(now);
  else b.failure(now);
  return true;
}

/** A breaker opened by consecutive failures at t = 0, so it is half-open from t = openForMs. */
function opened(overrides: Partial<BreakerOptions> = {}) {
  const r = breaker({ consecutiveFailures: 1, ...overrides });
  call(r.b, 0, false);
  assert.equal(r.b.state(0), 'open');
  return r;
}

describe('CircuitBreaker: closed', () => {
  it('lets every request through while requests succeed', () => {
    const { b, changes } = breaker();
    for (let t = 0; t < 1000; t++) assert.equal(call(b, t, true), true);
    assert.equal(b.state(1000), 'closed');
    assert.deepEqual(changes, []);
    assert.equal(b.snapshot(999).windowRequests, 1000);
  });

  it('opens on the consecutiveFailures-th failure in a row, and says why', () => {
    const { b, changes } = breaker({ minRequests: 1000 });
    for (let i = 0; i < 4; i++) call(b, 100 + i, false);
    assert.equal(b.state(104), 'closed', 'four failures in a row are one short of five');
    call(b, 105, false);
    assert.equal(b.state(105), 'open');
    assert.deepEqual(changes, [{ from: 'closed', to: 'open', reason: 'consecutive-failures', at: 105 }]);
    assert.equal(b.allow(106), false);
  });

  it('a success breaks a run of failures', () => {
    const { b } = breaker({ minRequests: 1000 });
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 4; i++) call(b, round * 10 + i, false);
      call(b, round * 10 + 5, true);
    }
    assert.equal(b.state(200), 'closed');
    assert.equal(b.snapshot(200).consecutiveFailures, 0);
    assert.equal(b.snapshot(200).windowFailures, 40);
  });

  it('opens when the window holds minRequests outcomes at errorRate or worse, not before minRequests', () => {
    const { b, changes } = breaker({ minRequests: 10, errorRate: 0.5, consecutiveFailures: 100 });
    // F S F S …: the rate is ≥ 0.5 from the first outcome on, but only the tenth makes minRequests.
    for (let i = 0; i < 9; i++) call(b, i, i % 2 === 1);
    assert.equal(b.state(9), 'closed');
    assert.equal(b.snapshot(9).windowRequests, 9);
    call(b, 9, true);
    assert.equal(b.state(9), 'open');
    assert.equal(changes[0]!.reason, 'error-rate');
  });

  it('compares the error rate exactly: 3 failures in 10 trip errorRate 0.3 (0.3 × 10 is not 3 in floating point)', () => {
    const { b } = breaker({ minRequests: 10, errorRate: 0.3, consecutiveFailures: 100 });
    const pattern = [false, true, true, false, true, true, false, true, true, true];
    for (let i = 0; i < 9; i++) call(b, i, pattern[i]!);
    assert.equal(b.state(9), 'closed');
    call(b, 9, pattern[9]!);
    assert.equal(b.state(9), 'open');
  });

  it('stays closed below the error rate, however many requests', () => {
    const { b } = breaker({ minRequests: 10, errorRate: 0.5, consecutiveFailures: 100 });
    for (let i = 0; i < 10_000; i++) call(b, i, i % 3 !== 0); // a third fail
    assert.equal(b.state(10_000), 'closed');
  });

  it('forgets outcomes once their bucket leaves the window (10 buckets of 1 s over 10 s)', () => {
    const { b } = breaker({ minRequests: 4, errorRate: 0.5, consecutiveFailures: 100 });
    for (let i = 0; i < 3; i++) call(b, 500, false); // bucket 0: [0, 1000)
    // At 9999 the window still holds bucket 0.
    assert.equal(b.snapshot(9_999).windowRequests, 3);
    // At 10 000 bucket 10 begins and bucket 0 leaves.
    const s = b.snapshot(10_000);
    assert.equal(s.windowRequests, 0);
    assert.equal(s.windowFailures, 0);
    call(b, 10_000, false);
    assert.equal(b.state(10_000), 'closed', 'one failure in the window, of minRequests 4');
  });

  it('counts failures still in the window towards the rate', () => {
    const { b } = breaker({ minRequests: 4, errorRate: 0.5, consecutiveFailures: 100 });
    for (let i = 0; i < 3; i++) call(b, 500, false);
    call(b, 9_999, false);
    assert.equal(b.state(9_999), 'open');
  });

  it('empties the whole window after a long quiet spell', () => {
    const { b } = breaker({ consecutiveFailures: 100 });
    for (let i = 0; i < 50; i++) call(b, i, i % 5 !== 0);
    assert.equal(b.state(50), 'closed', 'a fifth failed: below the error rate');
    assert.equal(b.snapshot(10).windowRequests, 50);
    assert.equal(b.snapshot(1e9).windowRequests, 0);
  });

  it('keeps counting, without harm, when the clock steps back', () => {
    const { b } = breaker({ minRequests: 3, consecutiveFailures: 100 });
    call(b, 50_000, true);
    call(b, 40_000, false);
    call(b, 45_000, false);
    assert.equal(b.state(50_000), 'open', 'all three counted in the newest bucket: 2 of 3 failed');
  });
});

describe('CircuitBreaker: open and half-open', () => {
  it('refuses for openForMs, then is half-open', () => {
    const { b, changes } = opened();
    assert.equal(b.allow(29_999), false);
    assert.equal(b.snapshot(29_999).openUntil, 30_000);
    assert.equal(b.state(30_000), 'half-open');
    assert.deepEqual(changes.at(-1), { from: 'open', to: 'half-open', reason: 'open-elapsed', at: 30_000 });
  });

  it('admits at most halfOpenProbes probes in an episode, however many are in flight', () => {
    const { b } = opened({ halfOpenProbes: 3 });
    assert.deepEqual([b.allow(30_000), b.allow(30_001), b.allow(30_002), b.allow(30_003), b.allow(30_004)], [true, true, true, false, false]);
    assert.equal(b.snapshot(30_004).probesInFlight, 3);
  });

  it('closes after halfOpenProbes successful probes, with an empty window', () => {
    const { b, changes } = opened({ halfOpenProbes: 3 });
    for (let i = 0; i < 3; i++) assert.equal(b.allow(30_000 + i), true);
    b.success(30_010);
    b.success(30_011);
    assert.equal(b.state(30_011), 'half-open');
    b.success(30_012);
    assert.equal(b.state(30_012), 'closed');
    assert.deepEqual(changes.at(-1), { from: 'half-open', to: 'closed', reason: 'probes-succeeded', at: 30_012 });
    const s = b.snapshot(30_012);
    assert.equal(s.windowRequests, 0);
    assert.equal(s.consecutiveFailures, 0);
    assert.equal(b.allow(30_013), true);
  });

  it('probes one after another also close it (each success frees nothing: the episode has halfOpenProbes slots)', () => {
    const { b } = opened({ halfOpenProbes: 2 });
    assert.equal(call(b, 30_000, true), true);
    assert.equal(b.state(30_000), 'half-open');
    assert.equal(call(b, 30_001, true), true);
    assert.equal(b.state(30_001), 'closed');
  });

  it('a failed probe reopens it for another openForMs, counted from the failure', () => {
    const { b, changes } = opened({ halfOpenProbes: 3 });
    assert.equal(call(b, 30_000, true), true);
    assert.equal(b.allow(30_500), true);
    b.failure(31_000);
    assert.equal(b.state(31_000), 'open');
    assert.equal(changes.at(-1)!.reason, 'probe-failed');
    assert.equal(b.snapshot(31_000).openUntil, 61_000);
    assert.equal(b.allow(60_999), false);
    assert.equal(b.state(61_000), 'half-open');
    assert.equal(b.snapshot(61_000).probeSuccesses, 0, 'a new episode starts from nothing');
    assert.equal(b.snapshot(61_000).opened, 2);
  });

  it('reopens when every probe slot is taken and no probe has reported for openForMs (lost probes cannot wedge it)', () => {
    const { b, changes } = opened({ halfOpenProbes: 2 });
    b.allow(30_000);
    b.allow(30_001);
    assert.equal(b.allow(60_000), false);
    assert.equal(b.state(60_000), 'half-open', 'not yet: 29 999 ms since the last probe');
    assert.equal(b.allow(60_001), false);
    assert.equal(b.state(60_001), 'open');
    assert.equal(changes.at(-1)!.reason, 'probe-timeout');
  });

  it('ignores outcomes of requests admitted before it opened', () => {
    const { b, changes } = breaker({ consecutiveFailures: 2, halfOpenProbes: 1 });
    // Three requests in flight; two fail and open the circuit; the third reports while open.
    b.allow(0);
    b.allow(0);
    b.allow(0);
    b.failure(1);
    b.failure(2);
    assert.equal(b.state(2), 'open');
    b.success(3);
    b.failure(4);
    assert.equal(b.snapshot(4).openUntil, 30_002, 'a late failure does not extend the open time');
    // Half-open with no probe in flight: a late report is not taken for a probe's.
    assert.equal(b.state(30_002), 'half-open');
    b.success(30_003);
    b.failure(30_004);
    assert.equal(b.state(30_004), 'half-open');
    assert.equal(changes.length, 2);
    assert.equal(call(b, 30_005, true), true);
    assert.equal(b.state(30_005), 'closed');
  });

  it('reports every transition once, in order, through a full cycle', () => {
    const { b, changes } = opened({ halfOpenProbes: 1 });
    call(b, 30_000, false);
    call(b, 60_000, true);
    assert.deepEqual(changes.map((c) => `${c.from}>${c.to}:${c.reason}`), [
      'closed>open:consecutive-failures',
      'open>half-open:open-elapsed',
      'half-open>open:probe-failed',
      'open>half-open:open-elapsed',
      'half-open>closed:probes-succeeded',
    ]);
  });

  it('openForMs 0 half-opens at once', () => {
    const { b, changes } = breaker({ consecutiveFailures: 1, openForMs: 0 });
    call(b, 0, false);
    assert.equal(changes[0]!.to, 'open');
    assert.equal(b.allow(0), true);
    assert.equal(b.state(0), 'half-open');
  });
});

describe('CircuitBreaker: options', () => {
  it('refuses settings that cannot work, naming the setting', () => {
    assert.throws(() => new CircuitBreaker({ ...BASE, windowMs: 0 }), /windowMs must be a finite number > 0, got 0/);
    assert.throws(() => new CircuitBreaker({ ...BASE, errorRate: 0 }), /errorRate must be in \(0, 1\]/);
    assert.throws(() => new CircuitBreaker({ ...BASE, errorRate: 1.5 }), /errorRate/);
    assert.throws(() => new CircuitBreaker({ ...BASE, halfOpenProbes: 0 }), /halfOpenProbes must be an integer ≥ 1/);
    assert.throws(() => new CircuitBreaker({ ...BASE, buckets: 2.5 }), /buckets must be an integer ≥ 1/);
    assert.throws(() => new CircuitBreaker({ ...BASE, openForMs: -1 }), /openForMs/);
    assert.throws(() => new CircuitBreaker({ ...BASE, consecutiveFailures: 0 }), /consecutiveFailures/);
    assert.throws(() => new CircuitBreaker({ ...BASE, minRequests: 0 }), /minRequests/);
  });

  it('allow, success and failure on a closed breaker change nothing but counts (no transition, no event)', () => {
    const { b, changes } = breaker({ buckets: 1, windowMs: 1000 });
    for (let i = 0; i < 100; i++) call(b, i, true);
    assert.equal(b.snapshot(99).windowRequests, 100);
    assert.equal(changes.length, 0);
  });
});

const SPEC: CircuitBreakerSpec = { enabled: true, window: '30s', minRequests: 20, errorRate: 0.5, consecutiveFailures: 5, openFor: '1m', halfOpenProbes: 3 };

describe('Breakers', () => {
  it('builds breakers from the spec, durations parsed', () => {
    assert.deepEqual(breakerOptions(SPEC), { windowMs: 30_000, minRequests: 20, errorRate: 0.5, consecutiveFailures: 5, openForMs: 60_000, halfOpenProbes: 3 });
    assert.deepEqual(breakerOptions({ ...SPEC, window: 1500, openFor: '1m30s' }).windowMs, 1500);
    assert.equal(breakerOptions({ ...SPEC, openFor: '1m30s' }).openForMs, 90_000);
    assert.throws(() => breakerOptions({ ...SPEC, openFor: 'soon' }), /spec\.resilience\.circuitBreaker\.openFor: "soon" is not a duration/);
  });

  it('keys breakers by model@version and keeps one per key', () => {
    const reg = new Breakers();
    const a = reg.get(breakerKey('weather', 3), SPEC)!;
    assert.equal(breakerKey('weather', 3), 'weather@3');
    assert.equal(reg.get('weather@3', SPEC), a);
    assert.notEqual(reg.get('weather@4', SPEC), a);
    assert.equal(reg.size, 2);
    assert.deepEqual([...reg.keys()], ['weather@3', 'weather@4']);
  });

  it('keeps the breaker and its state for an equal spec in a new object (a deployment re-applied unchanged)', () => {
    const reg = new Breakers();
    const a = reg.get('m@1', SPEC)!;
    for (let i = 0; i < 5; i++) call(a, i, false);
    assert.equal(a.state(5), 'open');
    const again = reg.get('m@1', { ...SPEC })!;
    assert.equal(again, a);
    assert.equal(again.state(6), 'open');
  });

  it('re-creates the breaker, with fresh state, when its settings change', () => {
    const reg = new Breakers();
    const a = reg.get('m@1', SPEC)!;
    for (let i = 0; i < 5; i++) call(a, i, false);
    const b = reg.get('m@1', { ...SPEC, consecutiveFailures: 10 })!;
    assert.notEqual(b, a);
    assert.equal(b.state(6), 'closed');
    assert.equal(b.options.consecutiveFailures, 10);
    // A changed duration spelled differently but meaning the same is no change.
    assert.equal(reg.get('m@1', { ...SPEC, consecutiveFailures: 10, window: '30000ms' }), b);
  });

  it('answers undefined for a disabled breaker and drops the one it kept', () => {
    const reg = new Breakers();
    reg.get('m@1', SPEC);
    assert.equal(reg.get('m@1', { ...SPEC, enabled: false }), undefined);
    assert.equal(reg.peek('m@1'), undefined);
    assert.equal(reg.size, 0);
  });

  it('reports state changes with the key, and snapshots every breaker', () => {
    const seen: string[] = [];
    const reg = new Breakers({ onStateChange: (key, c) => seen.push(`${key}:${c.to}`) });
    const a = reg.get('m@1', SPEC)!;
    reg.get('m@2', SPEC);
    for (let i = 0; i < 5; i++) call(a, i, false);
    assert.deepEqual(seen, ['m@1:open']);
    const snap = reg.snapshot(10);
    assert.deepEqual(Object.keys(snap), ['m@1', 'm@2']);
    assert.equal(snap['m@1']!.state, 'open');
    assert.equal(snap['m@2']!.state, 'closed');
  });

  it('forgets keys by name or by predicate', () => {
    const reg = new Breakers();
    for (const v of [1, 2, 3]) reg.get(`m@${v}`, SPEC);
    assert.equal(reg.delete('m@1'), true);
    assert.equal(reg.delete('m@1'), false);
    assert.equal(reg.retain((k) => k === 'm@3'), 1);
    assert.deepEqual([...reg.keys()], ['m@3']);
  });
});
