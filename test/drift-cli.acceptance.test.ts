// Acceptance: `modelgate drift compare` on generated CSV and JSONL files, through the real binary.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { mulberry32 } from '../src/random.js';
import { runCli } from './cli-helpers.js';
import { tempHome } from './helpers.js';

/** rows of (x: numeric, wind: numeric, city: category, rain: binary); `shift` moves x and changes the cities. */
function table(n: number, seed: number, shift: boolean): { x: number; wind: number; city: string; rain: number }[] {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const cities = shift ? ['seattle', 'seattle', 'portland', 'tacoma', 'tacoma', 'tacoma'] : ['seattle', 'seattle', 'seattle', 'portland', 'tacoma'];
  return Array.from({ length: n }, () => ({ x: 10 + 2 * normal() + (shift ? 1.5 : 0), wind: 3 + normal(), city: cities[Math.floor(rand() * cities.length)]!, rain: rand() < 0.4 ? 1 : 0 }));
}

const csv = (rows: ReturnType<typeof table>) => ['x,wind,city,rain', ...rows.map((r) => `${r.x.toFixed(4)},${r.wind.toFixed(4)},${r.city},${r.rain}`)].join('\n') + '\n';

describe('modelgate drift compare', () => {
  const home = tempHome('mg-drift-');
  after(() => home.cleanup());
  const file = (name: string, text: string) => {
    const p = join(home.home, name);
    writeFileSync(p, text);
    return p;
  };

  it('chooses KS, chi-square and Z for a reference of at most 1000 rows, and finds the drift that is there', () => {
    const ref = file('ref-small.csv', csv(table(800, 1, false)));
    const cur = file('cur-small.csv', csv(table(800, 2, true)));
    const r = runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', cur, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json();
    const by = Object.fromEntries(report.features.map((f: { name: string }) => [f.name, f]));
    assert.deepEqual([by.x.test, by.wind.test, by.city.test, by.rain.test], ['ks', 'ks', 'chisquare', 'z']);
    assert.deepEqual([by.x.type, by.city.type, by.rain.type], ['numerical', 'categorical', 'binary']);
    assert.equal(by.x.drifted, true, JSON.stringify(by.x));
    assert.equal(by.city.drifted, true, JSON.stringify(by.city));
    assert.equal(by.wind.drifted, false, JSON.stringify(by.wind));
    assert.equal(by.rain.drifted, false, JSON.stringify(by.rain));
    for (const f of report.features) {
      assert.equal(typeof f.statistic, 'number');
      assert.equal(typeof f.threshold, 'number');
      assert.equal(typeof f.p_value, 'number', `${f.name} has a p-value`);
    }
    assert.equal(report.drift_share, 0.5);
    assert.equal(report.dataset_drift, true, 'half the columns drifted: dataset drift');
  });

  it('chooses normalised Wasserstein and Jensen–Shannon above 1000 rows, reads JSONL, and honours overrides', () => {
    const rows = table(3000, 3, false);
    const ref = file('ref.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const cur = file('cur.jsonl', table(3000, 4, true).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', cur, '--json', '--test', 'wind=psi', '--threshold', 'x=5']);
    assert.equal(r.code, 0, r.stderr);
    const by = Object.fromEntries(r.json().features.map((f: { name: string }) => [f.name, f]));
    assert.equal(by.x.test, 'wasserstein');
    assert.equal(by.x.threshold, 5);
    assert.equal(by.x.drifted, false, 'a threshold of 5 standard deviations tolerates the shift');
    assert.equal(by.city.test, 'jensenshannon');
    assert.equal(by.city.drifted, true);
    assert.equal(by.wind.test, 'psi');
    assert.equal(by.x.p_value, undefined, 'distances have no p-value');
  });

  it('prints a table for people, exits 1 with --fail-on-drift, and refuses what it cannot compare', () => {
    const ref = file('ref2.csv', csv(table(600, 5, false)));
    const cur = file('cur2.csv', csv(table(600, 6, true)));
    const human = runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', cur]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /COLUMN\s+TYPE\s+TEST/);
    assert.match(human.stdout, /DATASET DRIFT/);
    assert.equal(runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', cur, '--fail-on-drift']).code, 1);
    const noCity = file('no-city.csv', 'x,wind,rain\n1,2,0\n2,3,1\n');
    const missing = runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', noCity]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error MG_ERR_REFERENCE_MISSING_COLUMN: .*city/);
    const bad = runCli(home.home, ['drift', 'compare', '--reference', ref, '--current', cur, '--test', 'x=student']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MG_ERR_CLI_USAGE/);
    const absent = runCli(home.home, ['drift', 'compare', '--reference', join(home.home, 'nope.csv'), '--current', cur]);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /MG_ERR_REFERENCE_UNREADABLE/);
  });
});
