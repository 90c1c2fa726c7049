import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import { mulberry32 } from '../../random.js';
import { QuantileSketch, type SketchData } from './sketch.js';

function normals(seed: number, n: number, mean: number, sd: number): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  return out;
}

function sketchOf(values: ArrayLike<number>, options = {}): QuantileSketch {
  const s = new QuantileSketch(options);
  for (let i = 0; i < values.length; i++) s.add(values[i] as number);
  return s;
}

/** Every value of a JSON tree is finite, and the tree survives a JSON round trip unchanged. */
function assertPlainJson(data: unknown): void {
  assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
  const walk = (v: unknown): void => {
    if (typeof v === 'number') assert.ok(Number.isFinite(v), `non-finite number ${v}`);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(data);
}

const LEVELS = [0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

test('quantiles are within the 1% relative accuracy of the exact lower quantile, for positive, negative, zero and mixed values', () => {
  const cases: [string, Float64Array][] = [
    ['lognormal', normals(1, 20000, 0, 2).map(Math.exp)],
    ['negative', normals(2, 20000, -50, 10).map((v) => Math.min(v, -1e-3))],
    ['mixed with zeros', normals(3, 20000, 0, 5).map((v, i) => (i % 7 === 0 ? 0 : v))],
    ['wide', normals(4, 20000, 0, 1).map((v) => Math.sign(v) * 10 ** (3 * v))],
  ];
  for (const [name, values] of cases) {
    const s = sketchOf(values);
    const sorted = Float64Array.from(values).sort();
    for (const q of LEVELS) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))] as number;
      const got = s.quantile(q);
      assert.ok(Math.abs(got - exact) <= 0.01 * Math.abs(exact) + 1e-300, `${name} q${q}: ${got} vs ${exact}`);
    }
    assert.equal(s.count, values.length);
    assert.equal(s.min, sorted[0]);
    assert.equal(s.max, sorted[sorted.length - 1]);
  }
});

test('a shifted sketch is accurate relative to the distance from its shift, so a narrow feature far from 0 keeps its resolution', () => {
  const values = normals(5, 20000, 1013, 10);
  const sorted = Float64Array.from(values).sort();
  const shifted = sketchOf(values, { shift: 1013 });
  const plain = sketchOf(values);
  let worstShifted = 0;
  let worstPlain = 0;
  for (const q of LEVELS) {
    const exact = sorted[Math.floor(q * (sorted.length - 1))] as number;
    assert.ok(Math.abs(shifted.quantile(q) - exact) <= 0.01 * Math.abs(exact - 1013) + 1e-9, `q${q}`);
    worstShifted = Math.max(worstShifted, Math.abs(shifted.quantile(q) - exact));
    worstPlain = Math.max(worstPlain, Math.abs(plain.quantile(q) - exact));
  }
  assert.ok(worstShifted < 1 && worstPlain > 5, `worst error ${worstShifted} shifted, ${worstPlain} plain`);
});

test('bucket keys are those of @datadog/sketches-js, so sketches are DDSketch-compatible', () => {
  const reference = new DDSketch({ relativeAccuracy: 0.01 });
  const ours = new QuantileSketch();
  const rand = mulberry32(6);
  for (let i = 0; i < 100000; i++) {
    const v = rand() * 10 ** Math.floor(rand() * 40 - 20);
    if (v > 0) assert.equal(ours.key(v), reference.mapping.key(v), `key of ${v}`);
  }
});

test('merging serialised sketches of two or three parts gives the sketch of the whole, bucket for bucket', () => {
  const values = normals(7, 30000, 2, 3).map((v, i) => (i % 11 === 0 ? 0 : v));
  const whole = sketchOf(values, { shift: 1.5 }).toJSON();
  for (const cuts of [[12345], [5000, 20000]]) {
    const bounds = [0, ...cuts, values.length];
    const parts: SketchData[] = [];
    for (let p = 0; p + 1 < bounds.length; p++) parts.push(sketchOf(values.subarray(bounds[p], bounds[p + 1]), { shift: 1.5 }).toJSON());
    const wire = parts.map((p) => JSON.parse(JSON.stringify(p)) as SketchData);
    const merged = wire.slice(1).reduce((acc, p) => acc.merge(QuantileSketch.fromJSON(p)), QuantileSketch.fromJSON(wire[0] as SketchData));
    assert.deepEqual(merged.toJSON(), whole);
    // In either order.
    const reversed = wire.slice(0, -1).reduceRight((acc, p) => acc.merge(QuantileSketch.fromJSON(p)), QuantileSketch.fromJSON(wire[wire.length - 1] as SketchData));
    assert.deepEqual(reversed.toJSON(), whole);
  }
});

test('keeps the negative store when merging (the library 2.1.1 drops it)', () => {
  const a = sketchOf([-5, -4, -3, 1]);
  const b = sketchOf([-2, -1, 2, 3]);
  const merged = a.merge(b);
  assert.equal(merged.count, 8);
  assert.ok(Math.abs(merged.quantile(0) + 5) < 0.05);
  assert.ok(Math.abs(merged.quantile(0.58) + 1) < 0.01);
  assert.ok(Math.abs(merged.quantile(0.5) + 2) < 0.02);
  assert.deepEqual(merged.toJSON(), sketchOf([-5, -4, -3, 1, -2, -1, 2, 3]).toJSON());
});

test('the bucket count stays bounded by collapsing the lowest magnitudes, and merges stay exact when it does', () => {
  const values = Float64Array.from({ length: 4000 }, (_, i) => 1.05 ** (i - 2000));
  const limit = 100;
  const whole = sketchOf(values, { binLimit: limit });
  const data = whole.toJSON();
  const span = data.positive.counts.reduce((n, c) => n + (c < 0 ? -c : 1), 0);
  assert.ok(span <= limit, `span ${span}`);
  assert.equal(data.count, 4000);
  // The top of the distribution keeps its accuracy.
  assert.ok(Math.abs(whole.quantile(0.99) / (values[Math.floor(0.99 * 3999)] as number) - 1) <= 0.01);
  const shuffled = Float64Array.from(values);
  const rand = mulberry32(8);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
  }
  const a = sketchOf(shuffled.subarray(0, 1500), { binLimit: limit });
  const b = sketchOf(shuffled.subarray(1500), { binLimit: limit });
  assert.deepEqual(a.merge(b).toJSON(), data);
});

test('the CDF interpolates within buckets and stays within a bucket of the empirical CDF', () => {
  const values = normals(9, 20000, 10, 3);
  const sorted = Float64Array.from(values).sort();
  const s = sketchOf(values, { shift: 10 });
  let last = 0;
  for (let x = 0; x <= 20; x += 0.25) {
    let below = 0;
    while (below < sorted.length && (sorted[below] as number) <= x) below++;
    const f = s.cdf(x);
    assert.ok(f >= last, 'monotone');
    last = f;
    assert.ok(Math.abs(f - below / sorted.length) < 0.003, `cdf(${x}) ${f} vs ${below / sorted.length}`);
  }
  assert.equal(s.cdf((sorted[0] as number) - 1e-9), 0);
  assert.equal(s.cdf(sorted[sorted.length - 1] as number), 1);
});

test('serialises to compact plain JSON and reads it back', () => {
  const s = sketchOf(normals(10, 5000, 0, 1).map((v, i) => (i % 5 === 0 ? 0 : v)));
  const data = s.toJSON();
  assertPlainJson(data);
  assert.deepEqual(QuantileSketch.fromJSON(data).toJSON(), data);
  for (const q of LEVELS) assert.equal(QuantileSketch.fromJSON(data).quantile(q), s.quantile(q));
  const empty = new QuantileSketch().toJSON();
  assertPlainJson(empty);
  assert.equal(empty.min, null);
  assert.equal(QuantileSketch.fromJSON(empty).count, 0);
  assert.ok(Number.isNaN(new QuantileSketch().quantile(0.5)));
});

test('refuses non-finite values, mismatched merges and malformed JSON with a message', () => {
  const s = new QuantileSketch();
  assert.throws(() => s.add(Number.NaN), /cannot add NaN/);
  assert.throws(() => s.add(Number.POSITIVE_INFINITY), /cannot add Infinity/);
  assert.equal(s.count, 0);
  assert.throws(() => s.merge(new QuantileSketch({ shift: 1 })), /cannot merge/);
  assert.throws(() => s.merge(new QuantileSketch({ relativeAccuracy: 0.02 })), /cannot merge/);
  const data = sketchOf([1, 2, 3]).toJSON();
  assert.throws(() => QuantileSketch.fromJSON({ ...data, count: 4 }), /count 4 does not match/);
  assert.throws(() => QuantileSketch.fromJSON({ ...data, min: null }), /min and max/);
  assert.throws(() => QuantileSketch.fromJSON({ ...data, positive: { offset: 0.5, counts: [] } }), /positive store/);
  assert.throws(() => new QuantileSketch({ relativeAccuracy: 1 }), /relativeAccuracy/);
});
