import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppContext } from '../context.js';
import { DIALECTS } from '../../test/helpers.js';
import { ArmStatsRecorder, readArmWindow } from './arm-stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('per-arm statistics on a real store', () => {
  let ctx: AppContext;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ ctx, cleanup } = await DIALECTS[0]!.open());
  });
  after(async () => cleanup?.());

  const recorder = (latencySamples = 100) => new ArmStatsRecorder(ctx.store, { flushMs: 60_000, latencySamples, retentionMs: 7 * 86_400_000, logger: ctx.logger });
  const rowsOf = (deployment: string) => ctx.store.db.selectFrom('arm_stats').selectAll().where('deployment', '=', deployment).orderBy('id').execute();

  it('record() counts every request and every failure exactly; failures add no latency', async () => {
    const r = recorder(50);
    for (let i = 0; i < 1234; i++) r.record('exact', 'stable', 'stable', 1, i % 7 === 0, 10 + (i % 5));
    await r.flush();
    const rows = await rowsOf('exact');
    assert.equal(rows.length, 1);
    const failures = Math.ceil(1234 / 7);
    assert.equal(rows[0]!.requests, 1234);
    assert.equal(rows[0]!.errors, failures);
    assert.equal(rows[0]!.shadow, null);
    assert.equal(rows[0]!.replica, r.replica);
    const latencies = JSON.parse(rows[0]!.latencies) as number[];
    assert.equal(latencies.length, 50, 'the sample is bounded by latencySamples');
    assert.ok(latencies.every((v) => v >= 10 && v <= 14));
  });

  it('keeps every latency while fewer than latencySamples were seen, rounded to microseconds', async () => {
    const r = recorder(100);
    for (const v of [1.23456, 2, 3.0004]) r.record('few', 'stable', 'stable', 1, false, v);
    r.record('few', 'stable', 'stable', 1, true, 999);
    await r.flush();
    const [row] = await rowsOf('few');
    assert.deepEqual(JSON.parse(row!.latencies), [1.235, 2, 3]);
    assert.equal(row!.requests, 4);
    assert.equal(row!.errors, 1);
  });

  it('samples latencies uniformly over everything recorded (a reservoir, not the first or last values)', async () => {
    const r = recorder(1000);
    const n = 20_000;
    for (let i = 0; i < n; i++) r.record('uniform', 'stable', 'stable', 1, false, i);
    await r.flush();
    const sample = JSON.parse((await rowsOf('uniform'))[0]!.latencies) as number[];
    assert.equal(sample.length, 1000);
    assert.equal(new Set(sample).size, 1000, 'no value is sampled twice');
    // Uniform over 0..n-1: mean n/2 with a standard error of about n/sqrt(12 * 1000) ≈ 183; quarters hold ~250 each (sd ≈ 14).
    const mean = sample.reduce((s, v) => s + v, 0) / sample.length;
    assert.ok(Math.abs(mean - n / 2) < 1500, `sample mean ${mean} is near ${n / 2}`);
    for (let q = 0; q < 4; q++) {
      const inQuarter = sample.filter((v) => v >= (q * n) / 4 && v < ((q + 1) * n) / 4).length;
      assert.ok(inQuarter > 150 && inQuarter < 350, `quarter ${q} holds ${inQuarter} of 1000`);
    }
  });

  it('recordShadow counts pairs, agreements, errors, labels, latency differences and the largest difference', async () => {
    const r = recorder(100);
    const outcomes = [
      { failed: false, latencyMs: 12, primaryLatencyMs: 10, agree: true, primaryLabel: 'rain', shadowLabel: 'rain', absDiff: 0.01 },
      { failed: false, latencyMs: 15, primaryLatencyMs: 10, agree: false, primaryLabel: 'rain', shadowLabel: 'dry', absDiff: 0.4 },
      { failed: false, latencyMs: 9, primaryLatencyMs: 10, agree: true, primaryLabel: 'dry', shadowLabel: 'dry', absDiff: null },
      { failed: true, latencyMs: 100, primaryLatencyMs: 10 },
      { failed: true, latencyMs: 100, primaryLatencyMs: 10, agree: true, primaryLabel: 'rain', shadowLabel: 'rain' },
      { failed: false, latencyMs: 10, primaryLatencyMs: 10, agree: true, primaryLabel: null, shadowLabel: null },
    ];
    for (const o of outcomes) r.recordShadow('mirror', 'candidate-shadow', 2, o);
    await r.flush();
    const rows = await rowsOf('mirror');
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.role, 'shadow');
    assert.equal(row.arm, 'candidate-shadow');
    assert.equal(row.version, 2);
    assert.equal(row.requests, 6, 'every mirrored request is counted');
    assert.equal(row.errors, 2);
    assert.deepEqual(JSON.parse(row.latencies), [12, 15, 9, 10], 'failed mirrors add no latency');
    assert.deepEqual(JSON.parse(row.shadow!), {
      pairs: 4,
      agree: 3,
      errors: 2,
      latencyDiffMs: 2 + 5 - 1 + 0,
      primaryLabels: { rain: 2, dry: 1 },
      shadowLabels: { rain: 1, dry: 2 },
      maxAbsDiff: 0.4,
      primaryLatenciesMs: [10, 10, 10, 10],
    });
  });

  it('flush writes one row per (deployment, arm, version) and starts again empty', async () => {
    const r = recorder(10);
    r.record('split', 'stable', 'stable', 1, false, 5);
    r.record('split', 'stable', 'stable', 1, false, 6);
    r.record('split', 'canary', 'canary', 2, true, 7);
    r.record('split', 'stable', 'stable', 3, false, 8);
    r.record('split-other', 'stable', 'stable', 1, false, 9);
    r.recordShadow('split', 'candidate-shadow', 2, { failed: false, latencyMs: 4, primaryLatencyMs: 3, agree: true });
    await r.flush();
    const rows = await rowsOf('split');
    assert.deepEqual(rows.map((x) => [x.arm, x.role, x.version, x.requests, x.errors]).sort(), [
      ['canary', 'canary', 2, 1, 1],
      ['candidate-shadow', 'shadow', 2, 1, 0],
      ['stable', 'stable', 1, 2, 0],
      ['stable', 'stable', 3, 1, 0],
    ]);
    assert.equal((await rowsOf('split-other')).length, 1);
    assert.equal(new Set(rows.map((x) => x.at)).size, 1, 'one flush, one time');
    await r.flush();
    assert.equal((await rowsOf('split')).length, 4, 'a flush with nothing recorded writes nothing');
    r.record('split', 'stable', 'stable', 1, false, 5);
    await r.flush();
    const again = await rowsOf('split');
    assert.equal(again.length, 5);
    assert.equal(again.at(-1)!.requests, 1, 'counts start again from zero after a flush');
  });

  it('concurrent flush() calls write each observation once', async () => {
    const r = recorder(10);
    for (let i = 0; i < 10; i++) r.record('once', 'stable', 'stable', 1, false, 1);
    await Promise.all([r.flush(), r.flush(), r.flush()]);
    const rows = await rowsOf('once');
    assert.equal(rows.reduce((s, x) => s + x.requests, 0), 10);
  });

  it('a flush while another is writing cuts the interval at once: what came after is its own, later row', async () => {
    const r = recorder(10);
    for (let i = 0; i < 3; i++) r.record('cut', 'stable', 'stable', 1, false, 1);
    const first = r.flush();
    // Answers given while the first write is in flight, then a cut (as a traffic change makes).
    for (let i = 0; i < 4; i++) r.record('cut', 'stable', 'stable', 1, false, 1);
    const second = r.flush();
    r.record('cut', 'stable', 'stable', 1, false, 1);
    await Promise.all([first, second]);
    const rows = await rowsOf('cut');
    assert.deepEqual(rows.map((x) => x.requests), [3, 4], 'one row per interval, in order; the answer after the cut waits for the next');
    assert.ok(rows[0]!.at <= rows[1]!.at, `${rows[0]!.at} <= ${rows[1]!.at}`);
    await r.flush();
    assert.deepEqual((await rowsOf('cut')).map((x) => x.requests), [3, 4, 1]);
  });

  it('readArmWindow adds up the rows of two replicas per role and version', async () => {
    const a = recorder(100);
    const b = recorder(100);
    assert.notEqual(a.replica, b.replica);
    for (let i = 0; i < 30; i++) a.record('replicas', 'stable', 'stable', 1, i < 3, 10);
    for (let i = 0; i < 20; i++) b.record('replicas', 'stable', 'stable', 1, i < 1, 20);
    for (let i = 0; i < 5; i++) a.record('replicas', 'canary', 'canary', 2, false, 30);
    for (let i = 0; i < 7; i++) b.record('replicas', 'canary', 'canary', 2, i < 2, 40);
    a.recordShadow('replicas', 'candidate-shadow', 3, { failed: false, latencyMs: 5, primaryLatencyMs: 4, agree: true, primaryLabel: 'x', shadowLabel: 'x', absDiff: 0.1 });
    b.recordShadow('replicas', 'candidate-shadow', 3, { failed: false, latencyMs: 6, primaryLatencyMs: 4, agree: false, primaryLabel: 'x', shadowLabel: 'y', absDiff: 0.3 });
    b.recordShadow('replicas', 'candidate-shadow', 3, { failed: true, latencyMs: 6, primaryLatencyMs: 4 });
    const from = new Date(Date.now() - 1000);
    await Promise.all([a.flush(), b.flush()]);
    const windows = await readArmWindow(ctx.store, 'replicas', from, new Date(Date.now() + 1000));
    const byKey = new Map(windows.map((w) => [`${w.role}@${w.version}`, w]));
    assert.equal(windows.length, 3);
    const stable = byKey.get('stable@1')!;
    assert.equal(stable.requests, 50);
    assert.equal(stable.errors, 4);
    assert.deepEqual([...stable.latenciesMs].sort((x, y) => x - y), [...Array<number>(27).fill(10), ...Array<number>(19).fill(20)]);
    assert.equal(stable.shadow, null);
    const canary = byKey.get('canary@2')!;
    assert.equal(canary.requests, 12);
    assert.equal(canary.errors, 2);
    assert.equal(canary.latenciesMs.length, 10);
    const shadow = byKey.get('shadow@3')!;
    assert.equal(shadow.requests, 3);
    assert.equal(shadow.errors, 1);
    assert.deepEqual({ ...shadow.shadow!, primaryLatenciesMs: [] }, { pairs: 2, agree: 1, errors: 1, latencyDiffMs: 3, primaryLabels: { x: 2 }, shadowLabels: { x: 1, y: 1 }, maxAbsDiff: 0.3, primaryLatenciesMs: [] });
    assert.deepEqual(shadow.shadow!.primaryLatenciesMs, [4, 4]);
  });

  it('readArmWindow counts rows with from < at <= to only', async () => {
    const r = recorder(10);
    r.record('window', 'stable', 'stable', 1, false, 1);
    await r.flush();
    await sleep(5);
    r.record('window', 'stable', 'stable', 1, false, 2);
    r.record('window', 'stable', 'stable', 1, false, 2);
    await r.flush();
    await sleep(5);
    r.record('window', 'stable', 'stable', 1, false, 3);
    r.record('window', 'stable', 'stable', 1, false, 3);
    r.record('window', 'stable', 'stable', 1, false, 3);
    r.record('window', 'stable', 'stable', 1, false, 3);
    await r.flush();
    const ats = (await rowsOf('window')).map((x) => new Date(x.at));
    assert.equal(ats.length, 3);
    assert.ok(ats[0]! < ats[1]! && ats[1]! < ats[2]!, 'three flushes at three times');
    const requests = async (from: Date, to: Date) => (await readArmWindow(ctx.store, 'window', from, to)).reduce((s, w) => s + w.requests, 0);
    assert.equal(await requests(ats[0]!, ats[1]!), 2, 'from is exclusive, to inclusive');
    assert.equal(await requests(new Date(ats[0]!.getTime() - 1), ats[0]!), 1);
    assert.equal(await requests(ats[0]!, ats[2]!), 6);
    assert.equal(await requests(new Date(ats[0]!.getTime() - 1), ats[2]!), 7);
    assert.equal(await requests(ats[2]!, new Date(ats[2]!.getTime() + 60_000)), 0);
    assert.deepEqual(await readArmWindow(ctx.store, 'no-such-deployment', new Date(0), new Date()), []);
  });

  it('stop() flushes what is still in memory', async () => {
    const r = recorder(10);
    r.start();
    r.record('stopping', 'stable', 'stable', 1, false, 1);
    await r.stop();
    assert.equal((await rowsOf('stopping'))[0]?.requests, 1);
  });
});
