// Drift from profiles against the exact offline report on the same rows: the same tests chosen, the same verdicts,
// and statistics within stated tolerances (TOLERANCE: KS D within 0.01, normalised Wasserstein within 2% relative,
// Jensen–Shannon within 0.01; chi-square and z, over exact counts, equal). Measured, the gaps are smaller still:
// D within 0.0025, Wasserstein within 1.2%, Jensen–Shannon within 0.0013.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packagePath } from '../../paths.js';
import { mulberry32 } from '../../random.js';
import { computeReferenceProfile } from '../../registry/profile/compute-profile.js';
import type { ReferenceProfile } from '../../registry/profile/types.js';
import { driftReport, type DriftColumn, type DriftOptions, type DriftReport } from '../drift/report.js';
import { readColumns } from '../table/read-columns.js';
import { layoutFromReference, mergeProfiles, ProfileAccumulator, type ProfileLayout, type WindowProfile } from './profile.js';
import { driftBetweenWindows, driftFromProfiles, referenceFallbacks } from './profile-drift.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-profile-drift-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Tolerance {
  ks: number;
  /** Relative to the exact statistic, or to `wassersteinFloor` when that is larger. */
  wasserstein: number;
  wassersteinFloor: number;
  js: number;
}
const TOLERANCE: Tolerance = { ks: 0.01, wasserstein: 0.02, wassersteinFloor: 0.01, js: 0.01 };
/** A reference without a sketch: its CDF is known at 20 points only. */
const FALLBACK_TOLERANCE: Tolerance = { ks: 0.05, wasserstein: 0.1, wassersteinFloor: 0.3, js: 0.05 };

type Columns = Record<string, (number | string | null)[]>;

function toDriftColumns(cols: Columns): DriftColumn[] {
  return Object.entries(cols).map(([name, values]) =>
    typeof values.find((v) => v !== null) === 'string'
      ? { name, strings: values.map((v) => (v === null ? null : String(v))) }
      : { name, numbers: Float64Array.from(values, (v) => (v === null ? Number.NaN : (v as number))) },
  );
}

let files = 0;
async function referenceOf(cols: Columns): Promise<ReferenceProfile> {
  const names = Object.keys(cols);
  const n = (cols[names[0] as string] as unknown[]).length;
  const lines = [names.join(',')];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => String((cols[c] as unknown[])[i] ?? '')).join(','));
  const path = join(dir, `ref-${files++}.csv`);
  writeFileSync(path, lines.join('\n'));
  return computeReferenceProfile(path);
}

function windowOf(layout: ProfileLayout, cols: Columns): WindowProfile {
  const acc = new ProfileAccumulator(layout);
  const columns = layout.features.map((f) => cols[f.name] as unknown[]);
  const n = (columns[0] as unknown[]).length;
  const row = new Array<unknown>(columns.length);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < columns.length; c++) row[c] = (columns[c] as unknown[])[i];
    acc.addRow(row);
  }
  return JSON.parse(JSON.stringify(acc.snapshot())) as WindowProfile;
}

/** Asserts the two reports agree: shape, tests, verdicts, and statistics within the tolerances above. */
function assertAgrees(live: DriftReport, exact: DriftReport, what: string, tolerance = TOLERANCE): void {
  assert.deepEqual(Object.keys(live).sort(), Object.keys(exact).sort());
  assert.equal(live.features.length, exact.features.length);
  live.features.forEach((f, i) => {
    const e = exact.features[i];
    assert.ok(e);
    const at = `${what}, ${f.name}`;
    assert.deepEqual(Object.keys(f).sort(), Object.keys(e).sort(), at);
    assert.deepEqual([f.name, f.type, f.test, f.threshold, f.reference_rows, f.current_rows], [e.name, e.type, e.test, e.threshold, e.reference_rows, e.current_rows], at);
    switch (f.test) {
      case 'ks':
        assert.ok(Math.abs(f.statistic - e.statistic) <= tolerance.ks, `${at}: D ${f.statistic} vs ${e.statistic}`);
        break;
      case 'wasserstein':
        assert.ok(Math.abs(f.statistic - e.statistic) <= tolerance.wasserstein * Math.max(e.statistic, tolerance.wassersteinFloor), `${at}: W ${f.statistic} vs ${e.statistic}`);
        break;
      case 'jensenshannon':
        assert.ok(Math.abs(f.statistic - e.statistic) <= tolerance.js, `${at}: JS ${f.statistic} vs ${e.statistic}`);
        break;
      case 'chisquare':
      case 'z':
        assert.ok(Math.abs(f.statistic - e.statistic) <= 1e-9 * Math.max(1, Math.abs(e.statistic)) || f.statistic === e.statistic, `${at}: ${f.statistic} vs ${e.statistic}`);
        break;
      case 'psi':
        break;
    }
    assert.equal(f.drifted, e.drifted, `${at}: verdict (${f.test} ${f.statistic} p ${f.p_value} vs ${e.statistic} p ${e.p_value})`);
  });
  assert.equal(live.dataset_drift, exact.dataset_drift, what);
  assert.equal(live.drift_share, exact.drift_share, what);
}

function compare(reference: ReferenceProfile, refCols: Columns, curCols: Columns, what: string, options: DriftOptions = {}): DriftReport {
  const live = driftFromProfiles(reference, windowOf(layoutFromReference(reference), curCols), options);
  const exact = driftReport(toDriftColumns(refCols), toDriftColumns(curCols), options);
  assertAgrees(live, exact, what);
  return live;
}

test('weather reference: profile drift agrees with the exact report on samples and shifted copies', async () => {
  const path = packagePath('examples', 'weather', 'v1', 'reference.csv');
  const reference = await computeReferenceProfile(path);
  const table = await readColumns(path);
  const refCols: Columns = Object.fromEntries(table.columns.map((c) => [c.name, Array.from(c.numbers as Float64Array)]));
  const n = table.rows;
  const rand = mulberry32(11);
  const variants: [string, number, (name: string, v: number) => number][] = [
    ['sample of 400', 400, (_, v) => v],
    ['sample of 2000', 2000, (_, v) => v],
    ['warmer by 1.5 degrees', n, (name, v) => (name.startsWith('temp') ? Math.round((v + 1.5) * 10) / 10 : v)],
    ['windier by 30%', n, (name, v) => (name === 'wind' ? Math.round(v * 13) / 10 : v)],
    ['wetter', 1000, (name, v) => (name === 'precipitation' ? Math.round(v * 15) / 10 : name === 'rain_tomorrow' && rand() < 0.2 ? 1 : v)],
  ];
  let drifted = 0;
  for (const [what, size, change] of variants) {
    const rowsIdx = Array.from({ length: size }, (_, i) => (size === n ? i : Math.floor(rand() * n)));
    const cur: Columns = Object.fromEntries(Object.entries(refCols).map(([name, values]) => [name, rowsIdx.map((i) => change(name, values[i] as number))]));
    const live = compare(reference, refCols, cur, what);
    assert.ok(live.features.every((f) => f.test === (f.name === 'rain_tomorrow' ? 'z' : 'ks')), 'KS and z below 1,000 reference rows');
    drifted += live.drifted_features;
  }
  assert.ok(drifted >= 4, `the shifted copies drift (${drifted} features)`);
});

function normals(seed: number, n: number, mean: number, sd: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => Math.round((mean + sd * Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand())) * 1e4) / 1e4);
}

function labels(seed: number, n: number, alphabet: string[], bias: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => alphabet[Math.min(alphabet.length - 1, Math.floor(rand() ** (1 + bias) * alphabet.length))] as string);
}

/** Normal features (around 0, and far from 0 with a narrow spread), one categorical and one binary. */
function synthetic(seed: number, n: number, shift: number): Columns {
  return {
    centred: normals(seed, n, shift, 1),
    narrow: normals(seed + 1, n, 1000 + 5 * shift, 5),
    skewed: normals(seed + 2, n, 0, 1).map((v) => Math.round(Math.exp(v + shift) * 1e4) / 1e4),
    colour: labels(seed + 3, n, ['red', 'green', 'blue', 'amber', 'violet'], 2 * shift),
    member: labels(seed + 4, n, ['no', 'yes'], 2 * shift),
  };
}

test('synthetic normals, KS regime (reference of 1,000 rows): same tests and verdicts, with and without a mean shift', async () => {
  const refCols = synthetic(20, 1000, 0);
  const reference = await referenceOf(refCols);
  const none = compare(reference, refCols, synthetic(30, 800, 0), 'KS, unshifted');
  assert.deepEqual(none.features.map((f) => f.test), ['ks', 'ks', 'ks', 'chisquare', 'z']);
  assert.equal(none.drifted_features, 0);
  const shifted = compare(reference, refCols, synthetic(40, 3000, 0.5), 'KS, shifted by half a sd');
  assert.equal(shifted.drifted_features, 5);
});

test('synthetic normals, distance regime (reference of 20,000 rows): same tests and verdicts, with and without a mean shift', async () => {
  const refCols = synthetic(50, 20000, 0);
  const reference = await referenceOf(refCols);
  const none = compare(reference, refCols, synthetic(60, 10000, 0), 'distances, unshifted');
  assert.deepEqual(none.features.map((f) => f.test), ['wasserstein', 'wasserstein', 'wasserstein', 'jensenshannon', 'jensenshannon']);
  assert.equal(none.drifted_features, 0);
  const shifted = compare(reference, refCols, synthetic(70, 10000, 0.5), 'distances, shifted by half a sd');
  assert.equal(shifted.drifted_features, 5);
  // Jensen-Shannon over Sturges bins for numbers, read off the sketches, when asked for.
  const js: DriftOptions = { tests: { centred: 'jensenshannon', narrow: 'jensenshannon', skewed: 'jensenshannon' } };
  compare(reference, refCols, synthetic(80, 10000, 0), 'JS on numbers, unshifted', js);
  compare(reference, refCols, synthetic(90, 10000, 0.5), 'JS on numbers, shifted', js);
  // PSI over the reference deciles is not PSI over Sturges bins (on the skewed feature, shifted: 0.25 against
  // 0.10), but the verdicts agree where neither is near the threshold.
  const psi: DriftOptions = { tests: { centred: 'psi', narrow: 'psi', colour: 'psi' } };
  compare(reference, refCols, synthetic(100, 10000, 0), 'PSI, unshifted', psi);
  compare(reference, refCols, synthetic(110, 10000, 0.5), 'PSI, shifted', psi);
});

test('a reference stored without monitoring data still gives the same verdicts, from its histogram and quantiles', async () => {
  const refCols = synthetic(120, 20000, 0);
  const reference = await referenceOf(refCols);
  const old: ReferenceProfile = JSON.parse(JSON.stringify(reference));
  for (const f of old.features) if (f.type === 'numerical') delete f.monitoring;
  for (const [what, shift, seed] of [['unshifted', 0, 130], ['shifted', 0.5, 140]] as const) {
    const cur = synthetic(seed, 10000, shift);
    const live = driftFromProfiles(old, windowOf(layoutFromReference(old), cur));
    assertAgrees(live, driftReport(toDriftColumns(refCols), toDriftColumns(cur)), `fallback, ${what}`, FALLBACK_TOLERANCE);
  }
  assert.deepEqual(referenceFallbacks(old).map((f) => f.feature), ['centred', 'narrow', 'skewed']);
  assert.deepEqual(referenceFallbacks(reference), []);
  const small = synthetic(150, 1000, 0);
  const oldSmall: ReferenceProfile = JSON.parse(JSON.stringify(await referenceOf(small)));
  for (const f of oldSmall.features) if (f.type === 'numerical') delete f.monitoring;
  const cur = synthetic(160, 2000, 0.5);
  assertAgrees(driftFromProfiles(oldSmall, windowOf(layoutFromReference(oldSmall), cur)), driftReport(toDriftColumns(small), toDriftColumns(cur)), 'fallback, KS regime', FALLBACK_TOLERANCE);
});

test('a categorical reference with more than 100 categories compares its tail as one "other" bucket', async () => {
  const zipf = (seed: number, n: number, shift: number): string[] => {
    const rand = mulberry32(seed);
    return Array.from({ length: n }, () => `k${Math.floor(150 * rand() ** (3 + shift))}`);
  };
  const refCols: Columns = { k: zipf(260, 20000, 0) };
  const reference = await referenceOf(refCols);
  assert.ok(reference.features[0]?.type === 'categorical' && reference.features[0].otherCount > 0);
  for (const [what, shift, seed] of [['same distribution', 0, 270], ['shifted', 2, 280]] as const) {
    const cur: Columns = { k: zipf(seed, 10000, shift) };
    compare(reference, refCols, cur, `long tail, ${what}`);
  }
});

test('driftBetweenWindows compares a window with an earlier one as the exact report compares their rows', async () => {
  const reference = await referenceOf(synthetic(170, 5000, 0));
  const layout = layoutFromReference(reference);
  const earlierCols = synthetic(180, 6000, 0);
  // The earlier window arrives from two replicas.
  const half = (cols: Columns, from: number, to: number): Columns => Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, v.slice(from, to)]));
  const earlier = mergeProfiles(windowOf(layout, half(earlierCols, 0, 2500)), windowOf(layout, half(earlierCols, 2500, 6000)));
  for (const [what, shift, seed] of [['same distribution', 0, 190], ['shifted', 0.5, 200]] as const) {
    const curCols = synthetic(seed, 4000, shift);
    const live = driftBetweenWindows(earlier, windowOf(layout, curCols), { layout });
    assertAgrees(live, driftReport(toDriftColumns(earlierCols), toDriftColumns(curCols)), `between windows, ${what}`);
  }
});

test('refuses a window without a reference feature, one folded with another layout, and a side with no values', async () => {
  const refCols = synthetic(210, 300, 0);
  const reference = await referenceOf(refCols);
  const layout = layoutFromReference(reference);
  const window = windowOf(layout, synthetic(220, 100, 0));
  assert.throws(() => driftFromProfiles(reference, { ...window, features: window.features.slice(1) }), /column "centred" is in the reference profile but missing/);
  const otherLayout = layoutFromReference(reference, [], { rangeTolerance: 0.5 });
  assert.throws(() => driftFromProfiles(reference, windowOf(otherLayout, synthetic(230, 100, 0))), /another layout/);
  assert.equal(driftFromProfiles(reference, windowOf(otherLayout, synthetic(230, 100, 0)), { layout: otherLayout }).features.length, 5);
  const empty = windowOf(layout, { ...synthetic(240, 50, 0), centred: new Array(50).fill(null) });
  assert.throws(() => driftFromProfiles(reference, empty), /column "centred" has no values in the current profile/);
  assert.throws(() => driftFromProfiles(reference, window, { tests: { centred: 'magic' as never } }), /unknown drift test/);
  assert.throws(() => driftBetweenWindows(window, windowOf(otherLayout, synthetic(250, 100, 0))), /different layouts/);
});
