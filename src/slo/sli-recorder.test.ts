import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { openStore, type Store } from '../store/database.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';
import { SLI_BUCKET_MS, SliRecorder } from './sli-recorder.js';

describe('SLI counters', () => {
  let home: string;
  let store: Store;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'mg-sli-'));
    store = await openStore({ home });
  });
  after(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });

  const rows = (deployment: string) => store.db.selectFrom('sli_counters').selectAll().where('deployment', '=', deployment).orderBy('bucket').execute();

  it('a flush called while another is writing still writes every answer given before it', async () => {
    const now = Date.UTC(2026, 11, 1, 10, 0, 10);
    const r = new SliRecorder(store, { flushMs: 1000, logger: pino({ level: 'silent' }), now: () => now });
    r.answer('overlap', 200, 1);
    const first = r.flush();
    r.answer('overlap', 200, 1);
    r.answer('overlap', 200, 1, 'switch');
    await r.flush();
    await first;
    const [row] = await rows('overlap');
    assert.equal(row!.total, 3);
    assert.equal(row!.degraded, 1);
    assert.equal(row!.switched, 1);
  });

  it('counts answers per minute (4xx left out, 5xx as errors, latency cumulative by bucket) and rolls over', async () => {
    let now = Date.UTC(2026, 11, 1, 9, 0, 10);
    const r = new SliRecorder(store, { flushMs: 1000, logger: pino({ level: 'silent' }), now: () => now });
    r.answer('w', 200, 1);
    r.answer('w', 200, 1000);
    r.answer('w', 503, 3);
    r.answer('w', 404, 2);
    await r.flush();
    // The same minute again: the running total replaces the row, it is not added twice.
    r.answer('w', 200, 1);
    await r.flush();
    now += SLI_BUCKET_MS;
    r.answer('w', 500, 1);
    await r.flush();
    const got = await rows('w');
    assert.equal(got.length, 2);
    assert.equal(got[0]!.bucket, '2026-12-01T09:00:00.000Z');
    assert.deepEqual([got[0]!.total, got[0]!.errors, got[0]!.degraded], [4, 1, 0]);
    assert.deepEqual([got[1]!.total, got[1]!.errors], [1, 1]);
    const cumulative = JSON.parse(got[0]!.latency) as number[];
    assert.equal(cumulative.length, DURATION_BUCKETS.length);
    const at = (seconds: number) => cumulative[DURATION_BUCKETS.indexOf(seconds)];
    assert.equal(at(0.001), 2, 'two answers of 1 ms at or under the 1 ms bound');
    assert.equal(at(0.005), 3);
    const second = DURATION_BUCKETS.findIndex((b) => b >= 1);
    assert.equal(cumulative[second], 4, 'the 1 s answer is counted from the first bound of a second on');
    assert.equal(cumulative[second - 1], 3, 'and not below it');
  });

  it('keeps a minute whose write failed and writes it on a later flush', async () => {
    const now = Date.UTC(2026, 11, 1, 10, 0, 0);
    const r = new SliRecorder(store, { flushMs: 1000, logger: pino({ level: 'silent' }), now: () => now });
    r.answer('v', 200, 1);
    await sql`ALTER TABLE sli_counters RENAME TO sli_counters_away`.execute(store.db);
    try {
      await r.flush();
    } finally {
      await sql`ALTER TABLE sli_counters_away RENAME TO sli_counters`.execute(store.db);
    }
    assert.equal((await rows('v')).length, 0);
    await r.flush();
    assert.equal((await rows('v'))[0]?.total, 1);
  });

  it('adds up replicas: each writes its own row for the minute', async () => {
    const now = Date.UTC(2026, 11, 1, 11, 0, 0);
    const a = new SliRecorder(store, { flushMs: 1000, logger: pino({ level: 'silent' }), now: () => now });
    const b = new SliRecorder(store, { flushMs: 1000, logger: pino({ level: 'silent' }), now: () => now });
    a.answer('x', 200, 1);
    b.answer('x', 500, 1);
    b.answer('x', 200, 1);
    await Promise.all([a.flush(), b.flush()]);
    const got = await rows('x');
    assert.equal(got.length, 2);
    assert.equal(got.reduce((n, g) => n + g.total, 0), 3);
    assert.equal(got.reduce((n, g) => n + g.errors, 0), 1);
  });
});
