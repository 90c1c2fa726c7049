import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../random.js';
import { compileWeights, pickArm, randomBucket } from './assign.js';
import { TrafficPolicyError } from './policy-error.js';
import { bucketOf, BUCKETS } from './sticky-hash.js';

function keys(count: number, seed: number): string[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => `user-${Math.floor(random() * 2 ** 32).toString(36)}`);
}

function rejects(fn: () => unknown, message: RegExp, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TrafficPolicyError, String(e));
    assert.match(e.message, message);
    assert.equal(e.field, field);
    return true;
  });
}

test('compileWeights builds cumulative basis points in policy order', () => {
  assert.deepEqual(compileWeights([{ name: 'stable', weight: 90 }, { name: 'canary', weight: 10 }]),
    { arms: ['stable', 'canary'], upper: Int32Array.from([9000, 10000]) });
  assert.deepEqual(compileWeights([{ name: 'a', weight: 12.34 }, { name: 'b', weight: 87.66 }]).upper, Int32Array.from([1234, 10000]));
  assert.deepEqual(compileWeights([{ name: 'only', weight: 100 }]), { arms: ['only'], upper: Int32Array.from([10000]) });
});

test('compileWeights tolerates floating-point sums within 0.001 and rounds the running total, not each weight', () => {
  assert.deepEqual(compileWeights([{ name: 'a', weight: 33.333 }, { name: 'b', weight: 33.333 }, { name: 'c', weight: 33.333 }]).upper,
    Int32Array.from([3333, 6667, 10000]));
  assert.deepEqual(compileWeights([{ name: 'a', weight: 0.1 }, { name: 'b', weight: 0.2 }, { name: 'c', weight: 99.7 }]).upper,
    Int32Array.from([10, 30, 10000]));
  assert.deepEqual(compileWeights([{ name: 'a', weight: 50.0005 }, { name: 'b', weight: 50 }]).upper, Int32Array.from([5000, 10000]));
});

test('compileWeights leaves an arm of weight 0 out of the table, wherever it is listed', () => {
  const table = compileWeights([{ name: 'off', weight: 0 }, { name: 'stable', weight: 80 }, { name: 'mid', weight: 0 }, { name: 'canary', weight: 20 }, { name: 'tail', weight: 0 }]);
  assert.deepEqual(table, { arms: ['stable', 'canary'], upper: Int32Array.from([8000, 10000]) });
  for (let b = 0; b < BUCKETS; b++) assert.ok(!['off', 'mid', 'tail'].includes(pickArm(table, b)));
});

test('compileWeights rejects weights that do not sum to 100, negative, above 100 or not numbers', () => {
  rejects(() => compileWeights([{ name: 'stable', weight: 90 }, { name: 'canary', weight: 5 }]), /must sum to 100 percent, got stable 90 \+ canary 5 = 95/, 'arms');
  rejects(() => compileWeights([{ name: 'stable', weight: 60 }, { name: 'canary', weight: 40.01 }]), /= 100\.01$/, 'arms');
  rejects(() => compileWeights([{ name: 'stable', weight: 110 }, { name: 'canary', weight: -10 }]), /arm "stable": weight 110 is outside 0–100/, 'arms[0].weight');
  rejects(() => compileWeights([{ name: 'stable', weight: 100 }, { name: 'canary', weight: -0.5 }]), /arm "canary": weight -0.5 is outside 0–100/, 'arms[1].weight');
  rejects(() => compileWeights([{ name: 'stable', weight: NaN }]), /arm "stable": weight must be a number/, 'arms[0].weight');
  rejects(() => compileWeights([{ name: 'stable', weight: '100' as unknown as number }]), /weight must be a number/, 'arms[0].weight');
  rejects(() => compileWeights([{ name: 'stable', weight: 0 }]), /must sum to 100/, 'arms');
  rejects(() => compileWeights([]), /at least one arm/, 'arms');
  rejects(() => compileWeights([{ name: 'a', weight: 50 }, { name: 'a', weight: 50 }]), /arm "a" is listed twice/, 'arms[1].name');
  rejects(() => compileWeights([{ name: '', weight: 100 }]), /arms\[0\]\.name must be a non-empty string/, 'arms[0].name');
});

test('pickArm gives each arm exactly the buckets of its cumulative range', () => {
  const table = compileWeights([{ name: 'stable', weight: 90 }, { name: 'canary', weight: 10 }]);
  assert.equal(pickArm(table, 0), 'stable');
  assert.equal(pickArm(table, 8999), 'stable');
  assert.equal(pickArm(table, 9000), 'canary');
  assert.equal(pickArm(table, 9999), 'canary');
  let canary = 0;
  for (let b = 0; b < BUCKETS; b++) if (pickArm(table, b) === 'canary') canary++;
  assert.equal(canary, 1000);
});

test('over 100 000 random keys each arm gets its weight within 1 percentage point', () => {
  const sample = keys(100_000, 1);
  for (const arms of [
    [{ name: 'stable', weight: 90 }, { name: 'canary', weight: 10 }],
    [{ name: 'stable', weight: 70 }, { name: 'b', weight: 20 }, { name: 'c', weight: 9.5 }, { name: 'd', weight: 0.5 }],
    [{ name: 'a', weight: 33.33 }, { name: 'b', weight: 33.33 }, { name: 'c', weight: 33.34 }],
  ]) {
    const table = compileWeights(arms);
    const counts = new Map<string, number>();
    for (const key of sample) {
      const arm = pickArm(table, bucketOf('weather', key));
      counts.set(arm, (counts.get(arm) ?? 0) + 1);
    }
    for (const { name, weight } of arms) {
      const share = (100 * (counts.get(name) ?? 0)) / sample.length;
      assert.ok(Math.abs(share - weight) <= 1, `${name}: ${share.toFixed(2)} % observed for weight ${weight} %`);
    }
  }
});

test('assignment is sticky: the same key gets the same arm every time and from a recompiled table', () => {
  const arms = [{ name: 'stable', weight: 50 }, { name: 'canary', weight: 50 }];
  const first = compileWeights(arms);
  const again = compileWeights(arms.map((a) => ({ ...a })));
  for (const key of keys(5000, 2)) {
    const arm = pickArm(first, bucketOf('weather', key));
    assert.equal(pickArm(first, bucketOf('weather', key)), arm);
    assert.equal(pickArm(again, bucketOf('weather', key)), arm);
  }
});

test('ramping the canary (stable listed first) only ever moves keys from stable to canary', () => {
  const ramp = [0, 1, 5, 10, 25, 50, 75, 100];
  const sample = keys(20_000, 3);
  let previous = sample.map(() => 'stable');
  for (const canary of ramp) {
    const table = compileWeights([{ name: 'stable', weight: 100 - canary }, { name: 'canary', weight: canary }]);
    const now = sample.map((key) => pickArm(table, bucketOf('weather', key)));
    now.forEach((arm, i) => assert.ok(!(previous[i] === 'canary' && arm === 'stable'), `${sample[i]} went back to stable at ${canary} %`));
    previous = now;
  }
  // And exhaustively over the buckets for the 10 → 50 step.
  const at10 = compileWeights([{ name: 'stable', weight: 90 }, { name: 'canary', weight: 10 }]);
  const at50 = compileWeights([{ name: 'stable', weight: 50 }, { name: 'canary', weight: 50 }]);
  let moved = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const before = pickArm(at10, b);
    const after = pickArm(at50, b);
    assert.ok(!(before === 'canary' && after === 'stable'), `bucket ${b}`);
    if (before !== after) moved++;
  }
  assert.equal(moved, 4000);
});

test('ramping a canary listed after a third arm moves users of that arm too, which is why ramped arms stay adjacent', () => {
  const before = compileWeights([{ name: 'stable', weight: 80 }, { name: 'other', weight: 10 }, { name: 'canary', weight: 10 }]);
  const after = compileWeights([{ name: 'stable', weight: 70 }, { name: 'other', weight: 10 }, { name: 'canary', weight: 20 }]);
  const moves = new Map<string, number>();
  for (let b = 0; b < BUCKETS; b++) {
    const move = `${pickArm(before, b)}→${pickArm(after, b)}`;
    moves.set(move, (moves.get(move) ?? 0) + 1);
  }
  assert.equal(moves.get('stable→other'), 1000);
  assert.equal(moves.get('other→canary'), 1000);
});

test('randomBucket returns integers in 0..9999', () => {
  for (let i = 0; i < 10_000; i++) {
    const b = randomBucket();
    assert.ok(Number.isInteger(b) && b >= 0 && b < BUCKETS, String(b));
  }
});
