import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pino } from 'pino';
import { openStore, type Store } from '../store/database.js';
import { PredictionLog, type PayloadRow, type RecordRow } from './prediction-log.js';
import { decodeRecords, encodeRecords } from './prediction-log-protocol.js';
import { PredictionLogThread } from './prediction-log-thread.js';

const silent = pino({ level: 'silent' });
const record = (i: number): RecordRow => ({ request_id: `r${i}`, row: 0, deployment: 'd', version: 1, arm: 'stable', at: new Date(0).toISOString(), prediction: '1', score: 0.5, slice: '{}', subject: null });
const payload = (i: number): PayloadRow => ({ request_id: `r${i}`, deployment: 'd', version: 1, arm: 'stable', at: new Date(0).toISOString(), status: 200, latency_ms: 1, subject: null, input: '{}', output: null, error: null });

for (const writerThread of [true, false]) describe(`prediction log writer (${writerThread ? 'writer thread' : 'on the event loop'})`, () => {
  let home: string;
  let store: Store;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'mg-plog-'));
    store = await openStore({ home });
  });
  after(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('writes records and payloads in batches, and a repeated request id keeps its first record', async () => {
    const log = new PredictionLog(store, { maxQueuedRecords: 10_000, maxQueuedPayloads: 100, batchSize: 7, logger: silent, writerThread });
    for (let i = 0; i < 50; i++) log.addRecord(record(i));
    log.addRecord({ ...record(3), prediction: '0' });
    for (let i = 0; i < 5; i++) log.addPayload(payload(i));
    await log.flush();
    const s = log.status();
    assert.equal(s.writtenRecords, 51);
    assert.equal(s.queuedRecords, 0);
    assert.equal(s.writtenPayloads, 5);
    const rows = await store.db.selectFrom('prediction_records').select(['request_id', 'prediction']).execute();
    assert.equal(rows.length, 50);
    assert.equal(rows.find((r) => r.request_id === 'r3')?.prediction, '1');
    assert.equal(log.writer, writerThread ? 'thread' : 'event-loop');
    await log.close();
  });

  it('writes a full batch without waiting for the next flush, and a flush waits for one in flight and writes what came after', async () => {
    await store.db.deleteFrom('prediction_records').execute();
    const log = new PredictionLog(store, { maxQueuedRecords: 10_000, maxQueuedPayloads: 100, batchSize: 10, logger: silent, writerThread });
    for (let i = 0; i < 9; i++) log.addRecord(record(200 + i));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(log.status().writtenRecords, 0, 'under a batch, records wait for the flush');
    log.addRecord(record(209));
    // The tenth record started a write of the batch (no flush() called); the thread may still be starting.
    for (let waited = 0; log.status().writtenRecords < 10 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal(log.status().writtenRecords, 10, 'the tenth record started a write of the batch');
    // A flush in flight is past the records (writing a payload) when one more record arrives: flush() writes it.
    log.addPayload(payload(300));
    const inFlight = log.flush();
    log.addRecord(record(300));
    await log.flush();
    await inFlight;
    assert.equal(log.status().writtenRecords, 11);
    assert.equal(log.status().queuedRecords, 0);
    const n = await store.db.selectFrom('prediction_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 11);
  });

  it('sheds payloads first when its queue is full, and counts every join record it loses', async () => {
    const lost: number[] = [];
    const log = new PredictionLog(store, { maxQueuedRecords: 100, maxQueuedPayloads: 3, logger: silent, maxAttempts: 2, onLost: (n) => lost.push(n), writerThread });
    for (let i = 0; i < 10; i++) log.addPayload(payload(100 + i));
    assert.equal(log.status().shedPayloads, 7);
    for (let i = 0; i < 105; i++) log.addRecord(record(1000 + i));
    assert.equal(log.status().lostRecords, 5, 'beyond the queue bound, each record is counted as lost');
    assert.deepEqual(lost, [1, 1, 1, 1, 1]);
    // The store fails: the batch is retried once, then given up and counted exactly.
    await sql`ALTER TABLE prediction_records RENAME TO prediction_records_away`.execute(store.db);
    try {
      await log.flush();
      assert.equal(log.status().queuedRecords, 100, 'a failed write keeps the records for the next flush');
      assert.equal(log.status().lostRecords, 5);
      await log.flush();
      assert.equal(log.status().lostRecords, 105);
      assert.equal(lost.at(-1), 100);
      assert.match(log.status().lastError ?? '', /prediction_records/);
    } finally {
      await sql`ALTER TABLE prediction_records_away RENAME TO prediction_records`.execute(store.db);
    }
    log.addRecord(record(5000));
    await log.flush();
    assert.equal(log.status().writtenRecords, 1, 'writing resumes once the store is back');
  });
});

describe('the writer thread', () => {
  it('carries a batch across as it was: runs of repeated fields, nulls, and ids with any characters', () => {
    const rows: RecordRow[] = [
      record(1),
      { ...record(2), score: null, subject: 'a' },
      { ...record(3), subject: 'a', request_id: 'client "id"\u0000\u001f\n é ✓' },
      { ...record(4), deployment: 'other', version: 2, arm: 'canary', at: new Date(5).toISOString(), prediction: '"yes"', slice: '{"region":"north"}' },
      { ...record(5), row: 3 },
    ];
    assert.deepEqual(decodeRecords(encodeRecords(rows)), rows);
    assert.deepEqual(decodeRecords(encodeRecords([])), []);
    assert.throws(() => decodeRecords(JSON.stringify({ ...JSON.parse(encodeRecords(rows)), count: 6 })), /6 records has 5 values/);
  });

  it('that cannot open the database says so, and is not used again', async () => {
    const t = new PredictionLogThread(join(tmpdir(), 'mg-no-such-dir', 'modelgate.db'), silent);
    assert.equal(t.usable, true);
    await assert.rejects(t.write('prediction_records', [record(1)]), /could not open/);
    assert.equal(t.usable, false);
    await t.close();
  });
});
