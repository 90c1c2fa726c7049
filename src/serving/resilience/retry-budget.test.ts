import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../random.js';
import { backoffMs, RetryBudget, retryBudgetFor } from './retry-budget.js';

/** Retries granted in a row at `now`, up to `max`. */
function drain(b: RetryBudget, now: number, max = 1_000_000): number {
  let n = 0;
  while (n < max && b.tryRetry(now)) n++;
  return n;
}

describe('RetryBudget', () => {
  it('grants minPerSecond retries each second with no traffic at all', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 2 });
    assert.equal(drain(b, 0), 2);
    assert.equal(drain(b, 999), 0);
    assert.equal(drain(b, 1000), 2);
  });

  it('credits the seconds that passed unseen, up to the window, but none before it was created', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 1 });
    assert.equal(drain(b, 5_000), 1, 'created at 5 s: one second begun');
    assert.equal(drain(b, 8_500), 3, 'seconds 6, 7 and 8 began since');
    assert.equal(drain(b, 1_000_000), 10, 'after a long quiet spell: the window of 10 s');
    assert.equal(b.balance(1_000_999), 0);
    assert.equal(b.balance(1_001_000), 1, 'then one more each second');
    assert.equal(b.balance(1_009_000), 9);
    assert.equal(b.balance(1_020_000), 10);
  });

  it('allows fractional minPerSecond: 0.5 is one retry every two seconds', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 0.5 });
    const granted = [];
    for (let s = 0; s < 6; s++) granted.push(drain(b, s * 1000));
    assert.deepEqual(granted, [0, 1, 0, 1, 0, 1]);
  });

  it('grants ratio × requests: 100 requests at ratio 0.1 make exactly 10 retries (no float drift)', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) b.recordRequest(0);
    assert.equal(b.balance(0), 10);
    assert.equal(drain(b, 0), 10);
    assert.equal(b.balance(0), 0);
  });

  it('ten deposits of 0.1 make one retry, nine do not', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0 });
    for (let i = 0; i < 9; i++) b.recordRequest(0);
    assert.equal(b.tryRetry(0), false);
    b.recordRequest(0);
    assert.equal(b.tryRetry(0), true);
  });

  it('deposits expire when their bucket leaves the 10 s window', () => {
    const b = new RetryBudget({ ratio: 0.1, minPerSecond: 0 });
    for (let i = 0; i < 100; i++) b.recordRequest(500);
    assert.equal(b.balance(9_999), 10);
    assert.equal(b.balance(10_000), 0);
  });

  it('spends the oldest deposits first, so the newest last longest', () => {
    const b = new RetryBudget({ ratio: 1, minPerSecond: 0 });
    for (let i = 0; i < 5; i++) b.recordRequest(0);
    for (let i = 0; i < 5; i++) b.recordRequest(5_000);
    assert.equal(drain(b, 5_000, 5), 5);
    // Had the 5 s deposits been spent, nothing would be left after the 0 s bucket expired.
    assert.equal(b.balance(10_000), 5);
  });

  it('ratio 0 and minPerSecond 0 never retry', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 0 });
    for (let t = 0; t < 100_000; t += 100) {
      b.recordRequest(t);
      assert.equal(b.tryRetry(t), false);
    }
    assert.deepEqual(b.stats(), { requests: 1000, retries: 0, refused: 1000 });
  });

  it('a clock that steps back gets no credit for it', () => {
    const b = new RetryBudget({ ratio: 0, minPerSecond: 1 });
    assert.equal(drain(b, 10_000), 1);
    assert.equal(drain(b, 3_000), 0);
    assert.equal(drain(b, 10_500), 0);
    assert.equal(drain(b, 11_000), 1);
  });

  for (const [label, ratio, minPerSecond, rate] of [
    ['steady 200 req/s, ratio 0.1, 1/s', 0.1, 1, () => 200],
    ['low traffic 2 req/s, ratio 0.1, 1/s', 0.1, 1, () => 2],
    ['bursts (0 or 2000 req/s), ratio 0.2, 5/s', 0.2, 5, (s: number) => (s % 7 < 2 ? 2000 : 0)],
    ['ramping traffic, ratio 0.05, 0.5/s', 0.05, 0.5, (s: number) => 10 * s],
  ] as const) {
    it(`under 100% failures, retries stay ≤ ratio × requests + minPerSecond × seconds, and use the budget (${label})`, () => {
      const b = new RetryBudget({ ratio, minPerSecond });
      const rand = mulberry32(7);
      const seconds = 95;
      const maxAttempts = 3;
      let requests = 0;
      let retries = 0;
      for (let s = 0; s < seconds; s++) {
        const n = rate(s);
        for (let i = 0; i < n; i++) {
          const now = s * 1000 + rand() * 1000;
          b.recordRequest(now);
          requests++;
          // Every attempt fails; each failure asks for a retry until maxAttempts or the budget says no.
          for (let attempt = 1; attempt < maxAttempts && b.tryRetry(now); attempt++) retries++;
        }
      }
      const bound = ratio * requests + minPerSecond * seconds;
      assert.ok(retries <= bound, `${retries} retries for ${requests} requests over ${seconds} s: bound ${bound}`);
      // Demand (2 retries a request) exceeds the budget, so nearly all of it is spent; only the part of a retry
      // left in each bucket and deposits that expire unspent are lost.
      assert.ok(retries >= Math.floor(bound * 0.9) - 10, `${retries} retries used of a budget of ${bound}`);
      assert.equal(b.stats().retries, retries);
      assert.equal(b.stats().requests, requests);
    });
  }

  it('refuses settings outside the schema, naming them', () => {
    assert.throws(() => new RetryBudget({ ratio: 1.5, minPerSecond: 1 }), /ratio must be in \[0, 1\]/);
    assert.throws(() => new RetryBudget({ ratio: 0.1, minPerSecond: -1 }), /minPerSecond/);
    assert.throws(() => new RetryBudget({ ratio: 0.1, minPerSecond: 1, windowMs: 0 }), /windowMs/);
    assert.throws(() => new RetryBudget({ ratio: 0.1, minPerSecond: 1, buckets: 0 }), /buckets/);
  });

  it('is built from spec.resilience.retries', () => {
    const b = retryBudgetFor({ maxAttempts: 3, backoffMs: 25, maxBackoffMs: 250, budgetRatio: 0.2, minPerSecond: 3 });
    assert.deepEqual(b.options, { ratio: 0.2, minPerSecond: 3, windowMs: 10_000, buckets: 10 });
  });
});

describe('backoffMs', () => {
  it('is uniform below min(maxMs, baseMs × 2^(attempt−1)): the cap doubles per attempt up to maxMs', () => {
    const top = () => 1 - Number.EPSILON;
    const caps = [1, 2, 3, 4, 5, 6].map((a) => Math.round(backoffMs(a, 25, 250, top)));
    assert.deepEqual(caps, [25, 50, 100, 200, 250, 250]);
    assert.equal(backoffMs(3, 25, 250, () => 0.5), 50);
    assert.equal(backoffMs(3, 25, 250, () => 0), 0);
  });

  it('stays within [0, cap) with the real random source', () => {
    for (let i = 0; i < 1000; i++) {
      const ms = backoffMs(4, 10, 1000);
      assert.ok(ms >= 0 && ms < 80, String(ms));
    }
  });

  it('treats attempt 0 or less as the first retry, and copes with huge attempts and zero bases', () => {
    assert.equal(backoffMs(0, 25, 250, () => 0.5), 12.5);
    assert.equal(backoffMs(-3, 25, 250, () => 0.5), 12.5);
    assert.equal(backoffMs(10_000, 25, 250, () => 0.5), 125);
    assert.equal(backoffMs(3, 0, 250, () => 0.5), 0);
    assert.equal(backoffMs(3, 25, 0, () => 0.5), 0);
  });
});
