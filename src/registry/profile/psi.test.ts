import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { computeReferenceProfile } from './compute-profile.js';
import { PSI_EPSILON, comparePsi, psi, psiOf } from './psi.js';
import type { CategoricalFeatureProfile, NumericalFeatureProfile, ReferenceProfile } from './types.js';
import { mulberry32 as rng } from '../../random.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** n draws from N(mean, sd²) by Box–Muller. */
function normal(seed: number, n: number, mean = 0, sd = 1): number[] {
  const u = rng(seed);
  const out: number[] = [];
  while (out.length < n) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const theta = 2 * Math.PI * u();
    out.push(mean + sd * r * Math.cos(theta), mean + sd * r * Math.sin(theta));
  }
  return out.slice(0, n);
}

let files = 0;
async function profileOf(columns: Record<string, (number | string)[]>): Promise<ReferenceProfile> {
  const names = Object.keys(columns);
  const n = (columns[names[0] as string] as unknown[]).length;
  const lines = [names.join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => String((columns[c] as unknown[])[i])).join(','));
  const p = join(dir, `t${files++}.csv`);
  writeFileSync(p, lines.join('\n'));
  return computeReferenceProfile(p);
}

async function numericalOf(values: number[]): Promise<NumericalFeatureProfile> {
  return (await profileOf({ x: values })).features[0] as NumericalFeatureProfile;
}

async function categoricalOf(values: string[]): Promise<CategoricalFeatureProfile> {
  return (await profileOf({ c: values })).features[0] as CategoricalFeatureProfile;
}

/** PSI straight from raw samples, binned on the expected profile's edges with the outer bins open. */
function rawPsi(expected: number[], actual: number[], edges: number[]): number {
  const bins = edges.length - 1;
  const binOf = (v: number): number => {
    let j = 0;
    while (j < bins - 1 && v >= (edges[j + 1] as number)) j++;
    return j;
  };
  const share = (values: number[]): number[] => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of values) {
      const j = binOf(v);
      counts[j] = (counts[j] as number) + 1;
    }
    return counts.map((c) => c / values.length);
  };
  return psiOf(share(expected), share(actual));
}

describe('psi', () => {
  it('is 0 for identical profiles', async () => {
    const num = await numericalOf(normal(1, 2000));
    assert.deepEqual(psi(num, num), { psi: 0, bins: 10 });
    const cat = await categoricalOf(['a', 'b', 'b', 'c']);
    assert.deepEqual(psi(cat, cat), { psi: 0, bins: 3 });
  });

  it('is above 0.25 for N(0,1) against N(1,1)', async () => {
    const value = psi(await numericalOf(normal(2, 5000)), await numericalOf(normal(3, 5000, 1))).psi;
    // The exact PSI of two normals one standard deviation apart is 1; the ten bins see a little less.
    assert.ok(value > 0.25, `psi ${value}`);
  });

  it('is below 0.1 for two samples of the same distribution', async () => {
    const value = psi(await numericalOf(normal(4, 5000)), await numericalOf(normal(5, 5000))).psi;
    assert.ok(value < 0.1, `psi ${value}`);
  });

  it('from profiles stays within 0.05 of the PSI of the raw data on the same bins', async () => {
    const expectedRaw = normal(6, 5000);
    const expected = await numericalOf(expectedRaw);
    for (const [seed, mean, sd] of [
      [7, 0, 1],
      [8, 0.3, 1],
      [9, 0.5, 1.3],
      [10, 1, 1],
      [11, -0.2, 0.6],
      [12, 0, 0.5],
      [13, 0, 2],
    ] as const) {
      const actualRaw = normal(seed, 5000, mean, sd);
      const actual = await numericalOf(actualRaw);
      const fromRaw = rawPsi(expectedRaw, actualRaw, expected.histogram.edges);
      const fromProfiles = psi(expected, actual).psi;
      assert.ok(Math.abs(fromProfiles - fromRaw) < 0.05, `N(${mean}, ${sd}²): profiles ${fromProfiles}, raw ${fromRaw}`);
      // Uniform-within-bin interpolation is as close for pure shifts, but not when the spread changes.
      if (sd === 1) {
        const linear = psi(expected, actual, { interpolation: 'linear' }).psi;
        assert.ok(Math.abs(linear - fromRaw) < 0.05, `linear N(${mean}, 1): profiles ${linear}, raw ${fromRaw}`);
      }
    }
  });

  it('interpolates the actual histogram as scipy does', () => {
    const synthetic = (edges: number[], counts: number[]): NumericalFeatureProfile => {
      const count = counts.reduce((s, c) => s + c, 0);
      const min = edges[0] as number;
      const max = edges[edges.length - 1] as number;
      return { type: 'numerical', name: 'x', count, nulls: 0, distinct: count, mean: 0, std: 1, min, max, quantiles: [], histogram: { edges, counts } };
    };
    const expected = synthetic([-1, 0.5, 1.7, 2.2, 3.9, 4.4, 5.0, 6.3, 7.7, 8.1, 12], [5, 10, 10, 10, 10, 10, 10, 10, 10, 15]);
    const actual = synthetic([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 3, 7, 12, 20, 25, 15, 9, 5, 3]);
    // Produced with scipy 1.17: PchipInterpolator (or np.interp) over (actual edges, cumulative counts),
    // 0 below the first edge and n above the last, differenced on the expected edges with open outer
    // bins, then Σ (a − e)·ln(a / e) with both floored at 1e-4.
    assert.ok(Math.abs(psi(expected, actual).psi - 0.7997096582561624) < 1e-12);
    assert.ok(Math.abs(psi(expected, actual, { interpolation: 'linear' }).psi - 0.7281364282833249) < 1e-12);
  });

  it('bins a constant actual column as a point mass', async () => {
    const expected = await numericalOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const actual = await numericalOf([4.5, 4.5, 4.5]);
    // All of the actual mass lands in expected bin [4.5, 5.4); every other bin is an empty bin at ε.
    const e = 0.1;
    const eps = PSI_EPSILON;
    const want = 9 * (eps - e) * Math.log(eps / e) + (1 - e) * Math.log(1 / e);
    assert.ok(Math.abs(psi(expected, actual).psi - want) < 1e-12);
  });

  it('compares categories over their union, empty bins at ε', async () => {
    const e = await categoricalOf(['a', 'a', 'b', 'b']);
    const a = await categoricalOf(['a', 'b', 'b', 'c']);
    // Bins a, b, c: expected 0.5, 0.5, 0 (→ ε); actual 0.25, 0.5, 0.25.
    const want = (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.25 - PSI_EPSILON) * Math.log(0.25 / PSI_EPSILON);
    const got = psi(e, a);
    assert.equal(got.bins, 3);
    assert.ok(Math.abs(got.psi - want) < 1e-12, `${got.psi} vs ${want}`);
  });

  it('lumps a category into "other" on both sides when one side does not know its count', async () => {
    // 120 categories on the expected side: c100..c119 fall outside its top 100.
    const many: string[] = [];
    for (let k = 0; k < 120; k++) for (let i = 0; i < (k < 100 ? 3 : 1); i++) many.push(`c${k}`);
    const expected = await categoricalOf(many);
    assert.equal(expected.otherCount, 20);
    // The actual side has 100 distinct values, so its list is complete: c0..c98 and c119 once each.
    // c119 is only in the expected side's "other", so both sides must count it as "other"; c99, absent
    // from the complete actual list, is a known 0 there.
    const actual = await categoricalOf([...Array.from({ length: 99 }, (_, k) => `c${k}`), 'c119']);
    assert.equal(actual.otherCount, 0);
    const got = psi(expected, actual);
    assert.equal(got.bins, 101);
    const term = (a: number, e: number): number => (Math.max(a, PSI_EPSILON) - e) * Math.log(Math.max(a, PSI_EPSILON) / e);
    const want = 99 * term(1 / 100, 3 / 320) + term(0, 3 / 320) + term(1 / 100, 20 / 320);
    assert.ok(Math.abs(got.psi - want) < 1e-12, `${got.psi} vs ${want}`);
  });

  it('throws a plain Error when the types differ', async () => {
    const num = await numericalOf([1, 2, 3]);
    const cat = await categoricalOf(['a']);
    assert.throws(() => psi(num, cat), (e) => e instanceof Error && e.constructor === Error && /numerical.*categorical/.test(e.message));
  });
});

describe('comparePsi', () => {
  it('reports each feature of either profile, and the label', async () => {
    const n = 400;
    const a = await profileOf({
      same: normal(20, n),
      shifted: normal(21, n),
      retyped: normal(22, n),
      gone: normal(23, n),
      y: Array.from({ length: n }, (_, i) => (i % 2 ? 'yes' : 'no')),
    });
    const b = await profileOf({
      same: normal(20, n),
      shifted: normal(24, n, 2),
      retyped: Array.from({ length: n }, (_, i) => `k${i % 3}`),
      added: normal(25, n),
      y: Array.from({ length: n }, (_, i) => (i % 4 ? 'yes' : 'no')),
    });
    a.label = a.features.pop();
    b.label = b.features.pop();
    const result = comparePsi(a, b);
    assert.deepEqual(
      result.map(({ name, role, status }) => [name, role, status]),
      [
        ['same', 'feature', 'compared'],
        ['shifted', 'feature', 'compared'],
        ['retyped', 'feature', 'type_changed'],
        ['gone', 'feature', 'only_in_a'],
        ['added', 'feature', 'only_in_b'],
        ['y', 'label', 'compared'],
      ],
    );
    assert.equal(result[0]?.psi, 0);
    assert.ok((result[1]?.psi ?? 0) > 0.25);
    assert.equal(result[2]?.psi, undefined);
    // Label 50/50 against 25/75.
    const want = (0.75 - 0.5) * Math.log(0.75 / 0.5) + (0.25 - 0.5) * Math.log(0.25 / 0.5);
    assert.ok(Math.abs((result[5]?.psi ?? 0) - want) < 1e-12);
  });

  it('marks a feature with only nulls on one side as no_data', async () => {
    const a = await profileOf({ x: ['a', 'b'] });
    const b = await profileOf({ x: ['NA', 'NA'] });
    assert.deepEqual(comparePsi(a, b), [{ name: 'x', role: 'feature', status: 'no_data' }]);
  });
});
