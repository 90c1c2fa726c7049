import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mulberry32 } from '../../random.js';
import { computeReferenceProfile } from '../../registry/profile/compute-profile.js';
import type { NumericalFeatureProfile, ReferenceProfile } from '../../registry/profile/types.js';
import {
  layoutFromReference,
  mergeProfiles,
  ProfileAccumulator,
  type CategoricalLayoutFeature,
  type CategoricalWindowFeature,
  type NumericalLayoutFeature,
  type NumericalWindowFeature,
  type WindowProfile,
} from './profile.js';
import { QuantileSketch } from './sketch.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The reference profile of a CSV written from the rows, as registration computes it. */
async function referenceOf(header: string[], rows: unknown[][], name = 'ref.csv'): Promise<ReferenceProfile> {
  const path = join(dir, name);
  writeFileSync(path, [header.join(','), ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))).join(','))].join('\n'));
  return computeReferenceProfile(path);
}

const CITIES = ['Paris', 'Berlin', 'Rome', 'Madrid'];

/** Rows of [amount, temperature, city, flag]: a lognormal, a normal and two categoricals. */
function rows(seed: number, n: number, cities = CITIES): unknown[][] {
  const rand = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => [Math.round(Math.exp(3 + normal()) * 100) / 100, Math.round((12 + 6 * normal()) * 10) / 10, cities[Math.floor(rand() ** 1.5 * cities.length)], rand() < 0.3 ? 'yes' : 'no']);
}

const HEADER = ['amount', 'temperature', 'city', 'flag'];

test('layoutFromReference takes decile bins, the median as sketch centre, range bounds and the reference categories', async () => {
  const ref = await referenceOf(HEADER, rows(1, 2000));
  const layout = layoutFromReference(ref, [], { rangeTolerance: 0.1 });
  assert.deepEqual(layout.features.map((f) => [f.name, f.kind]), [
    ['amount', 'numerical'],
    ['temperature', 'numerical'],
    ['city', 'categorical'],
    ['flag', 'categorical'],
  ]);
  const temp = layout.features[1] as NumericalLayoutFeature;
  const profile = ref.features[1] as NumericalFeatureProfile;
  assert.equal(temp.bins, 'deciles');
  assert.deepEqual(temp.edges, profile.monitoring?.bins.edges);
  assert.equal(temp.edges.length, 11);
  assert.equal(temp.edges[0], profile.min);
  assert.equal(temp.edges[10], profile.max);
  assert.equal(temp.sketch.shift, profile.quantiles.find((q) => q.q === 0.5)?.value);
  const range = (profile.max as number) - (profile.min as number);
  assert.equal(temp.low, (profile.min as number) - 0.1 * range);
  assert.equal(temp.high, (profile.max as number) + 0.1 * range);
  const city = layout.features[2] as CategoricalLayoutFeature;
  assert.deepEqual(city.categories, ['Paris', 'Berlin', 'Rome', 'Madrid']);
  // Keys are stable and say what changed.
  const again = layoutFromReference(ref, [], { rangeTolerance: 0.1 });
  assert.equal(again.id, layout.id);
  const other = layoutFromReference(ref);
  assert.notEqual(other.id, layout.id);
  assert.equal(other.features[2]?.key, layout.features[2]?.key);
  assert.notEqual(other.features[1]?.key, layout.features[1]?.key);
});

test('an older reference profile without monitoring data falls back to its histogram edges and median', async () => {
  const ref = await referenceOf(HEADER, rows(2, 500), 'old.csv');
  const old: ReferenceProfile = JSON.parse(JSON.stringify(ref));
  for (const f of old.features) if (f.type === 'numerical') delete f.monitoring;
  const temp = layoutFromReference(old).features[1] as NumericalLayoutFeature;
  const profile = old.features[1] as NumericalFeatureProfile;
  assert.equal(temp.bins, 'histogram');
  assert.deepEqual(temp.edges, profile.histogram.edges);
  assert.equal(temp.sketch.shift, profile.quantiles.find((q) => q.q === 0.5)?.value);
});

test('extra features have no reference unless one is the reference label; clashes and bad types are refused', async () => {
  const path = join(dir, 'label.csv');
  writeFileSync(path, 'x,y\n1,a\n2,b\n3,a\n');
  const ref = await computeReferenceProfile(path, { label: 'y' });
  const layout = layoutFromReference(ref, [
    { name: 'y', type: 'categorical' },
    { name: 'score', type: 'numerical' },
    { name: 'class', type: 'categorical' },
  ]);
  assert.deepEqual(layout.features.map((f) => [f.name, f.reference]), [
    ['x', true],
    ['y', true],
    ['score', false],
    ['class', false],
  ]);
  assert.deepEqual((layout.features[1] as CategoricalLayoutFeature).categories, ['a', 'b']);
  assert.deepEqual((layout.features[2] as NumericalLayoutFeature).edges, []);
  assert.throws(() => layoutFromReference(ref, [{ name: 'x', type: 'numerical' }]), /already a feature/);
  assert.throws(() => layoutFromReference(ref, [{ name: 'y', type: 'numerical' }]), /profiles that label as categorical/);
  assert.throws(() => layoutFromReference(ref, [], { rangeTolerance: -1 }), /rangeTolerance/);
});

/** Exact statistics of what a numerical feature saw, by plain loops. */
function exactNumbers(values: number[]): { n: number; mean: number; variance: number; min: number; max: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance, min: Math.min(...values), max: Math.max(...values) };
}

test('the accumulator counts, moments, bins, range and categories match exact computation', async () => {
  const ref = await referenceOf(HEADER, rows(3, 2000));
  const layout = layoutFromReference(ref, [], { newCategories: 2 });
  const acc = new ProfileAccumulator(layout);
  const data = rows(4, 3000, [...CITIES, 'Oslo', 'Lima', 'Kyiv']);
  // Nulls, NaN, numeric strings and values of the wrong kind.
  data[0] = [null, Number.NaN, null, undefined];
  data[1] = ['12.5', 'warm', 7, true];
  data[2] = [Number.POSITIVE_INFINITY, { t: 1 }, Number.NaN, 'yes'];
  data[3] = [1e9, -300, 'Paris', 'no'];
  for (const r of data) acc.addRow(r);
  const window = acc.snapshot();
  assert.equal(window.rows, 3000);
  assert.equal(window.layout, layout.id);
  assert.deepEqual(JSON.parse(JSON.stringify(window)), window);

  const amount = window.features[0] as NumericalWindowFeature;
  const amounts = data.map((r) => (typeof r[0] === 'string' ? Number(r[0]) : r[0])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const e = exactNumbers(amounts);
  assert.equal(amount.count, e.n);
  assert.equal(amount.nulls, 1);
  assert.equal(amount.nans, 1);
  assert.equal(amount.invalid, 0);
  assert.equal(amount.min, e.min);
  assert.equal(amount.max, e.max);
  assert.ok(Math.abs((amount.mean as number) - e.mean) <= 1e-9 * Math.abs(e.mean));
  assert.ok(Math.abs(amount.m2 / (amount.count - 1) - e.variance) <= 1e-9 * e.variance);
  const spec = layout.features[0] as NumericalLayoutFeature;
  const edges = spec.edges;
  const expectedBins = new Array<number>(edges.length + 1).fill(0);
  for (const v of amounts) {
    let bin = edges.filter((x) => x <= v).length;
    if (v === edges[edges.length - 1]) bin = edges.length - 1;
    expectedBins[bin] = (expectedBins[bin] as number) + 1;
  }
  assert.deepEqual(amount.bins, expectedBins);
  assert.equal(amount.outOfRange, amounts.filter((v) => v < (spec.low as number) || v > (spec.high as number)).length);
  assert.ok(amount.outOfRange >= 1, 'the 1e9 is out of range');
  assert.equal(amount.sketch.count, e.n);

  const temp = window.features[1] as NumericalWindowFeature;
  assert.equal(temp.nans, 1);
  assert.equal(temp.invalid, 2);
  assert.equal(temp.min, -300);

  const city = window.features[2] as CategoricalWindowFeature;
  const cities = data.map((r) => r[2]).filter((v) => v !== null && v !== undefined && !(typeof v === 'number' && Number.isNaN(v))).map(String);
  assert.equal(city.count, cities.length);
  assert.equal(city.nulls, 2);
  assert.deepEqual(city.counts, CITIES.map((c) => cities.filter((x) => x === c).length));
  const unseen = cities.filter((c) => !CITIES.includes(c));
  assert.equal(city.unseen, unseen.length);
  // Two new categories are named (the first two to arrive: "7", then one of the new cities), the rest are other.
  assert.equal(city.added.length, 2);
  assert.equal(city.added.reduce((s, c) => s + c.count, 0) + city.other, unseen.length);
  assert.ok(city.added.some((c) => c.value === '7'));
  const flag = window.features[3] as CategoricalWindowFeature;
  assert.equal(flag.nulls, 1);
  assert.deepEqual(flag.added, [{ value: 'true', count: 1 }]);
});

/** Compares two windows: moments to 1e-9, everything else exactly. */
function assertSameWindow(actual: WindowProfile, expected: WindowProfile): void {
  const strip = (w: WindowProfile): WindowProfile => ({ ...w, features: w.features.map((f) => (f.kind === 'numerical' ? { ...f, mean: null, m2: 0 } : f)) });
  assert.deepEqual(strip(actual), strip(expected));
  actual.features.forEach((f, i) => {
    const g = expected.features[i];
    if (f.kind !== 'numerical' || g?.kind !== 'numerical') return;
    assert.ok(Math.abs((f.mean as number) - (g.mean as number)) <= 1e-9 * Math.max(1, Math.abs(g.mean as number)), `${f.name} mean ${f.mean} vs ${g.mean}`);
    assert.ok(Math.abs(f.m2 - g.m2) <= 1e-9 * Math.max(1, g.m2), `${f.name} m2 ${f.m2} vs ${g.m2}`);
  });
}

test('folding a dataset in two or three parts and merging the serialised windows equals folding it whole', async () => {
  const ref = await referenceOf(HEADER, rows(5, 1500));
  const layout = layoutFromReference(ref);
  const data = rows(6, 9000, [...CITIES, 'Oslo']);
  data[10] = [null, Number.NaN, null, 'maybe'];
  const fold = (part: unknown[][]): WindowProfile => {
    const acc = new ProfileAccumulator(layout);
    for (const r of part) acc.addRow(r);
    return JSON.parse(JSON.stringify(acc.snapshot())) as WindowProfile;
  };
  const whole = fold(data);
  for (const cuts of [[4321], [1000, 7000]]) {
    const bounds = [0, ...cuts, data.length];
    const parts = bounds.slice(1).map((end, p) => fold(data.slice(bounds[p], end)));
    assertSameWindow(parts.reduce((a, b) => mergeProfiles(a, b)), whole);
    // Merging is order-free.
    assertSameWindow(parts.reduceRight((a, b) => mergeProfiles(a, b)), whole);
    // Sketches are bucket-equal, read back or not.
    const merged = parts.reduce((a, b) => mergeProfiles(a, b));
    const sketch = (w: WindowProfile) => QuantileSketch.fromJSON((w.features[1] as NumericalWindowFeature).sketch).toJSON();
    assert.deepEqual(sketch(merged), sketch(whole));
  }
  // An empty window is the identity.
  assertSameWindow(mergeProfiles(fold([]), whole), whole);
});

test('merging keeps the most frequent new categories when the two name more than the limit', async () => {
  const ref = await referenceOf(['c'], [['a'], ['b']], 'few.csv');
  const layout = layoutFromReference(ref, [], { newCategories: 2 });
  const a = new ProfileAccumulator(layout);
  const b = new ProfileAccumulator(layout);
  for (const v of ['x', 'x', 'x', 'y', 'a']) a.addRow([v]);
  // b names z and w; its two y arrive after the limit and are other.
  for (const v of ['z', 'z', 'w', 'y', 'y']) b.addRow([v]);
  const merged = mergeProfiles(a.snapshot(), b.snapshot()).features[0] as CategoricalWindowFeature;
  assert.deepEqual(merged.added, [
    { value: 'x', count: 3 },
    { value: 'z', count: 2 },
  ]);
  assert.equal(merged.other, 4);
  assert.equal(merged.unseen, 9);
  assert.deepEqual(merged.counts, [1, 0]);
});

test('refuses rows of the wrong length, unknown features and merges across layouts', async () => {
  const ref = await referenceOf(HEADER, rows(7, 100), 'small.csv');
  const layout = layoutFromReference(ref);
  const acc = new ProfileAccumulator(layout);
  assert.throws(() => acc.addRow([1, 2, 'Paris']), /needs 4 values/);
  assert.throws(() => acc.add(4, 1), /no feature 4/);
  acc.add(0, 5);
  acc.addColumn(2, ['Paris', 'Rome']);
  acc.countRows(2);
  assert.equal(acc.rows, 2);
  assert.equal((acc.snapshot().features[2] as CategoricalWindowFeature).count, 2);
  const other = new ProfileAccumulator(layoutFromReference(ref, [], { rangeTolerance: 0 }));
  assert.throws(() => mergeProfiles(acc.snapshot(), other.snapshot()), /different layouts/);
  acc.reset();
  assert.equal(acc.rows, 0);
  assert.equal((acc.snapshot().features[0] as NumericalWindowFeature).count, 0);
  assert.equal((acc.snapshot().features[0] as NumericalWindowFeature).mean, null);
});
