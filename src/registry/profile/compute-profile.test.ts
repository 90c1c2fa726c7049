import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { packagePath } from '../../paths.js';
import { computeReferenceProfile } from './compute-profile.js';
import type { CategoricalFeatureProfile, FeatureProfile, NumericalFeatureProfile, ReferenceProfile } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function feature(p: ReferenceProfile, name: string): FeatureProfile {
  const f = p.features.find((x) => x.name === name);
  assert.ok(f, `no feature ${name}`);
  return f;
}

function numerical(p: ReferenceProfile, name: string): NumericalFeatureProfile {
  const f = feature(p, name);
  assert.equal(f.type, 'numerical', `${name} should be numerical`);
  return f as NumericalFeatureProfile;
}

function categorical(p: ReferenceProfile, name: string): CategoricalFeatureProfile {
  const f = feature(p, name);
  assert.equal(f.type, 'categorical', `${name} should be categorical`);
  return f as CategoricalFeatureProfile;
}

function close(actual: number | null, expected: number, what: string, tol = 1e-9): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function rejectsWith(code: string, ...patterns: RegExp[]): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ModelgateError, `expected a ModelgateError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

// A small table whose statistics were computed with numpy 2.4 from the same values:
//   x.mean(), x.std(ddof=1), np.quantile(x, QS) (default method 'linear'), np.histogram(x, bins=10).
const CSV = [
  'id,age,income,city,member',
  '1,23,50000,Paris,true',
  '2,35,NA,Berlin,false',
  '3,,72000.5,Paris,true',
  '4,51,61000,Rome,',
  '5,42,NaN,Paris,false',
  '6,29,48000,null,true',
  '7,35,55500,Berlin,true',
].join('\n');

const JSONL = [
  '{"id":1,"age":23,"income":50000,"city":"Paris","member":true}',
  '{"id":2,"age":35,"income":null,"city":"Berlin","member":false}',
  '',
  '{"id":3,"income":72000.5,"city":"Paris","member":true}',
  '{"id":4,"age":51,"income":61000,"city":"Rome","member":null}',
  '{"id":5,"age":42,"city":"Paris","member":false}',
  '{"id":6,"age":29,"income":48000,"city":null,"member":true}',
  '{"id":7,"age":"35","income":55500,"city":"Berlin","member":true}',
].join('\n');

const AGE = {
  mean: 35.833333333333336,
  std: 9.806460455570434,
  quantiles: [23.3, 24.5, 26.0, 30.5, 35.0, 40.25, 46.5, 48.75, 50.550000000000004],
  edges: [23.0, 25.8, 28.6, 31.4, 34.2, 37.0, 39.8, 42.599999999999994, 45.4, 48.2, 51.0],
  counts: [1, 0, 1, 0, 2, 0, 1, 0, 0, 1],
};
const INCOME = {
  mean: 57300.1,
  std: 9654.205044953209,
  quantiles: [48080.0, 48400.0, 48800.0, 50000.0, 55500.0, 61000.0, 67600.3, 69800.4, 71560.48],
  edges: [48000.0, 50400.05, 52800.1, 55200.15, 57600.2, 60000.25, 62400.3, 64800.350000000006, 67200.4, 69600.45, 72000.5],
  counts: [2, 0, 0, 1, 0, 1, 0, 0, 0, 1],
};

function checkSmallTable(p: ReferenceProfile): void {
  assert.equal(p.schemaVersion, 1);
  assert.equal(p.rows, 7);
  assert.deepEqual(
    p.features.map((f) => [f.name, f.type]),
    [
      ['id', 'numerical'],
      ['age', 'numerical'],
      ['income', 'numerical'],
      ['city', 'categorical'],
      ['member', 'categorical'],
    ],
  );
  for (const [name, ref, nulls] of [['age', AGE, 1], ['income', INCOME, 2]] as const) {
    const f = numerical(p, name);
    assert.equal(f.count, 7 - nulls);
    assert.equal(f.nulls, nulls);
    close(f.mean, ref.mean, `${name} mean`);
    close(f.std, ref.std, `${name} std`);
    assert.equal(f.min, ref.edges[0]);
    assert.equal(f.max, ref.edges[10]);
    assert.deepEqual(f.quantiles.map((q) => q.q), [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]);
    f.quantiles.forEach((q, i) => close(q.value, ref.quantiles[i] as number, `${name} q${q.q}`));
    f.histogram.edges.forEach((e, i) => close(e, ref.edges[i] as number, `${name} edge ${i}`));
    assert.deepEqual(f.histogram.counts, ref.counts);
  }
  assert.equal(numerical(p, 'age').distinct, 5);
  const city = categorical(p, 'city');
  assert.deepEqual(city.categories, [
    { value: 'Paris', count: 3 },
    { value: 'Berlin', count: 2 },
    { value: 'Rome', count: 1 },
  ]);
  assert.equal(city.nulls, 1);
  assert.equal(city.distinct, 3);
  assert.equal(city.otherCount, 0);
  const member = categorical(p, 'member');
  assert.deepEqual(member.categories, [
    { value: 'true', count: 4 },
    { value: 'false', count: 2 },
  ]);
  assert.equal(member.nulls, 1);
}

describe('computeReferenceProfile', () => {
  it('profiles a CSV file to numpy-matching statistics', async () => {
    const p = await computeReferenceProfile(file('small.csv', CSV));
    checkSmallTable(p);
    assert.equal(p.source.format, 'csv');
    assert.match(p.source.sha256, /^[0-9a-f]{64}$/);
    assert.equal(p.source.bytes, Buffer.byteLength(CSV));
    assert.equal(p.label, undefined);
    // JSON-serialisable as promised: a round trip changes nothing.
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
  });

  it('profiles the same table as JSONL identically (missing keys are nulls, numeric strings are numbers)', async () => {
    const p = await computeReferenceProfile(file('small.jsonl', JSONL));
    checkSmallTable(p);
    assert.equal(p.source.format, 'jsonl');
  });

  it('profiles the chosen features in the given order, and the label apart', async () => {
    const p = await computeReferenceProfile(file('order.csv', CSV), { features: ['income', 'city'], numericFeatures: ['income'], label: 'member' });
    assert.deepEqual(p.features.map((f) => f.name), ['income', 'city']);
    assert.equal(p.label?.name, 'member');
    assert.equal(p.label?.type, 'categorical');
    const all = await computeReferenceProfile(file('nolabel.csv', CSV), { label: 'member' });
    assert.deepEqual(all.features.map((f) => f.name), ['id', 'age', 'income', 'city']);
  });

  it('calls an all-null column categorical unless it is declared numeric', async () => {
    const p = await computeReferenceProfile(file('empty-col.csv', 'x,y\n1,\n2,NA\n'));
    assert.deepEqual(categorical(p, 'y'), { type: 'categorical', name: 'y', count: 0, nulls: 2, distinct: 0, categories: [], otherCount: 0 });
    const q = await computeReferenceProfile(file('empty-col2.csv', 'x,y\n1,\n2,NA\n'), { numericFeatures: ['y'] });
    const y = numerical(q, 'y');
    assert.equal(y.count, 0);
    assert.equal(y.mean, null);
    assert.equal(y.std, null);
    assert.deepEqual(y.quantiles, []);
    const x = numerical(q, 'x');
    assert.equal(x.std, Math.SQRT1_2);
  });

  it('adds the monitoring data of numerical columns: decile bins with exact counts and a sketch centred on the median', async () => {
    const lines = ['x,c'];
    for (let i = 0; i < 1000; i++) lines.push(`${((i * 7919) % 1000) / 10 - 20},5`);
    const p = await computeReferenceProfile(file('monitoring.csv', lines.join('\n')));
    const x = numerical(p, 'x');
    const m = x.monitoring;
    assert.ok(m, 'numerical columns carry monitoring data');
    const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 10 - 20);
    assert.equal(m.bins.edges[0], x.min);
    assert.equal(m.bins.edges[m.bins.edges.length - 1], x.max);
    assert.equal(m.bins.edges.length, 11);
    // numpy: np.quantile(x, 0.1) over -20, -19.9, ..., 79.9 is -10.01.
    close(m.bins.edges[1] as number, -10.01, 'first decile');
    m.bins.edges.slice(1).forEach((e, i) => assert.ok(e > (m.bins.edges[i] as number), 'ascending edges'));
    m.bins.counts.forEach((c, i) => {
      const lo = m.bins.edges[i] as number;
      const hi = m.bins.edges[i + 1] as number;
      const last = i === m.bins.counts.length - 1;
      assert.equal(c, values.filter((v) => v >= lo && (v < hi || (last && v === hi))).length, `bin ${i}`);
    });
    assert.equal(m.sketch.count, 1000);
    assert.equal(m.sketch.shift, x.quantiles.find((q) => q.q === 0.5)?.value);
    assert.equal(m.sketch.min, x.min);
    // A constant column keeps one closed bin [v, v].
    assert.deepEqual(numerical(p, 'c').monitoring?.bins, { edges: [5, 5], counts: [1000] });
    // Columns with no values have none.
    const empty = await computeReferenceProfile(file('monitoring-empty.csv', 'x,y\n1,\n2,NA\n'), { numericFeatures: ['y'] });
    assert.equal(numerical(empty, 'y').monitoring, undefined);
  });

  it('gives a constant column unit-wide bins around its value, as numpy does', async () => {
    const p = await computeReferenceProfile(file('const.csv', 'c\n5\n5\n5\n'));
    const c = numerical(p, 'c');
    assert.equal(c.std, 0);
    assert.equal(c.distinct, 1);
    assert.equal(c.histogram.edges[0], 4.5);
    assert.equal(c.histogram.edges[10], 5.5);
    // np.histogram([5, 5, 5], bins=10) puts them in the sixth bin, [5.0, 5.1).
    assert.deepEqual(c.histogram.counts, [0, 0, 0, 0, 0, 3, 0, 0, 0, 0]);
  });

  it('keeps the 100 most frequent categories and counts the rest as other', async () => {
    // Category k (k = 0..149) appears 150 − k times, so the top 100 are c0..c99.
    const lines = ['cat'];
    for (let k = 0; k < 150; k++) for (let i = 0; i < 150 - k; i++) lines.push(`c${k}`);
    const p = await computeReferenceProfile(file('many.csv', lines.join('\n')));
    const cat = categorical(p, 'cat');
    assert.equal(cat.distinct, 150);
    assert.equal(cat.categories.length, 100);
    assert.deepEqual(cat.categories[0], { value: 'c0', count: 150 });
    assert.deepEqual(cat.categories[99], { value: 'c99', count: 51 });
    // Σ_{k=100}^{149} (150 − k) = Σ_{m=1}^{50} m = 1275.
    assert.equal(cat.otherCount, 1275);
    assert.equal(cat.count, p.rows);
  });

  it('breaks ties between equally frequent categories by value', async () => {
    const p = await computeReferenceProfile(file('ties.csv', 'c\nb\na\nc\nb\na\n'));
    assert.deepEqual(categorical(p, 'c').categories.map((x) => x.value), ['a', 'b', 'c']);
  });

  it('treats booleans and mixed columns as categorical', async () => {
    const p = await computeReferenceProfile(file('mixed.jsonl', '{"b":true,"m":1}\n{"b":false,"m":"x"}\n{"b":true,"m":1}\n'));
    assert.deepEqual(categorical(p, 'b').categories, [
      { value: 'true', count: 2 },
      { value: 'false', count: 1 },
    ]);
    assert.deepEqual(categorical(p, 'm').categories, [
      { value: '1', count: 2 },
      { value: 'x', count: 1 },
    ]);
  });

  it('rejects a file without rows with MG_ERR_REFERENCE_EMPTY', async () => {
    await assert.rejects(computeReferenceProfile(file('header-only.csv', 'a,b\n')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no rows \(only a header\)/));
    await assert.rejects(computeReferenceProfile(file('nothing.csv', '')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no rows/));
    await assert.rejects(computeReferenceProfile(file('blank.jsonl', '\n\n')), rejectsWith('MG_ERR_REFERENCE_EMPTY', /no rows/));
  });

  it('names every missing column and lists the present ones (MG_ERR_REFERENCE_MISSING_COLUMN)', async () => {
    const p = file('missing.csv', CSV);
    await assert.rejects(
      computeReferenceProfile(p, { features: ['age', 'height', 'weight'] }),
      rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /"height", "weight"/, /columns are: "id", "age", "income", "city", "member"/),
    );
    await assert.rejects(computeReferenceProfile(p, { label: 'target' }), rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /"target"/));
    await assert.rejects(computeReferenceProfile(p, { numericFeatures: ['score'] }), rejectsWith('MG_ERR_REFERENCE_MISSING_COLUMN', /"score"/));
  });

  it('names the column, row and value when a numeric feature holds text (MG_ERR_REFERENCE_NON_NUMERIC)', async () => {
    const p = file('text.csv', 'a,b\n1,2\n3,"x\ny"\n4,five\n');
    await assert.rejects(computeReferenceProfile(p, { numericFeatures: ['b'] }), (e) => {
      rejectsWith('MG_ERR_REFERENCE_NON_NUMERIC', /Column "b"/, /row 2 \(line 3\)/, /"x\\ny"/)(e);
      assert.deepEqual((e as ModelgateError).details, { column: 'b', row: 2, line: 3, value: 'x\ny' });
      return true;
    });
    const j = file('bool.jsonl', '{"a":1}\n{"a":true}\n');
    await assert.rejects(computeReferenceProfile(j, { numericFeatures: ['a'] }), rejectsWith('MG_ERR_REFERENCE_NON_NUMERIC', /row 2 \(line 2\) holds true/));
    // Not numbers either: hex, infinities, thousands separators.
    for (const bad of ['0x1F', 'Infinity', '1,000']) {
      await assert.rejects(
        computeReferenceProfile(file('bad.csv', `a\n1\n"${bad}"\n`), { numericFeatures: ['a'] }),
        rejectsWith('MG_ERR_REFERENCE_NON_NUMERIC'),
        bad,
      );
    }
  });

  it('passes the format and read errors through', async () => {
    await assert.rejects(computeReferenceProfile(join(dir, 'x.xlsx')), rejectsWith('MG_ERR_REFERENCE_UNSUPPORTED_FORMAT'));
    await assert.rejects(computeReferenceProfile(file('ragged2.csv', 'a,b\n1,2\n3\n')), rejectsWith('MG_ERR_REFERENCE_UNREADABLE', /line 3/));
  });

  it('profiles the Seattle weather data set', async () => {
    const p = await computeReferenceProfile(packagePath('node_modules', 'vega-datasets', 'data', 'seattle-weather.csv'), {
      features: ['precipitation', 'temp_max', 'temp_min', 'wind'],
      numericFeatures: ['precipitation', 'temp_max', 'temp_min', 'wind'],
      label: 'weather',
    });
    assert.equal(p.rows, 1461);
    assert.deepEqual(p.features.map((f) => f.name), ['precipitation', 'temp_max', 'temp_min', 'wind']);
    // Reference values from numpy 2.4 over the same file (csv.DictReader, float()).
    const tmax = numerical(p, 'temp_max');
    assert.equal(tmax.nulls, 0);
    assert.equal(tmax.min, -1.6);
    assert.equal(tmax.max, 35.6);
    close(tmax.mean, 16.43908281998631, 'temp_max mean');
    close(tmax.std, 7.349758097360177, 'temp_max std');
    const precipitation = numerical(p, 'precipitation');
    assert.equal(precipitation.quantiles.find((q) => q.q === 0.5)?.value, 0);
    assert.equal(precipitation.distinct, 111);
    close(precipitation.mean, 3.02943189596167, 'precipitation mean');
    assert.equal(p.label?.type, 'categorical');
    assert.deepEqual((p.label as CategoricalFeatureProfile).categories, [
      { value: 'rain', count: 641 },
      { value: 'sun', count: 640 },
      { value: 'fog', count: 101 },
      { value: 'drizzle', count: 53 },
      { value: 'snow', count: 26 },
    ]);
    for (const f of p.features) assert.equal((f as NumericalFeatureProfile).histogram.counts.reduce((s, c) => s + c, 0), 1461);
  });
});
