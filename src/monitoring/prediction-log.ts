// The prediction log's writer: join records (one per answered row, never dropped silently) and sampled,
// already-redacted payloads, queued in memory by the recorder and written in batches every flush.
//
// When the store falls behind, payloads are shed first (counted); join records wait in their queue and are
// retried on the next flush. Only when that queue is full, or a batch has failed `maxAttempts` times, are
// records given up, and then exactly how many is counted, logged as an alert and reported by status().
import type { Logger } from 'pino';
import type { Store } from '../store/database.js';
import { PAYLOAD_FIELDS, RECORD_FIELDS, type PayloadRow, type RecordRow } from './prediction-log-protocol.js';
import { PredictionLogThread } from './prediction-log-thread.js';

export type { PayloadRow, RecordRow } from './prediction-log-protocol.js';

export interface PredictionLogStatus {
  queuedRecords: number;
  queuedPayloads: number;
  writtenRecords: number;
  writtenPayloads: number;
  /** Join records given up (queue full or repeated write failures): labels for them can no longer be joined. */
  lostRecords: number;
  /** Sampled payloads dropped because the store fell behind. */
  shedPayloads: number;
  lastError: string | null;
}

export interface PredictionLogOptions {
  maxQueuedRecords: number;
  maxQueuedPayloads: number;
  /** Rows per INSERT: bounded so one statement stays within SQLite's and PostgreSQL's parameter limits. */
  batchSize?: number;
  maxAttempts?: number;
  logger: Logger;
  /** Called with the count each time join records are lost: the alert hook. */
  onLost?: (count: number, reason: string) => void;
  /** On SQLite, write from a thread of its own (prediction-log-thread.ts); default true. */
  writerThread?: boolean;
}

const RECORD_COLUMNS = 10;
const PAYLOAD_COLUMNS = 11;

export class PredictionLog {
  /**
   * Join records waiting, in batches of at most `batch`: the last one takes new records, the first is the next
   * written. A flush hands a whole batch over and drops it once written, so nothing is copied or shifted per record.
   */
  private batches: RecordRow[][] = [[]];
  private queued = 0;
  private payloads: PayloadRow[] = [];
  private attempts = 0;
  private readonly s: PredictionLogStatus = { queuedRecords: 0, queuedPayloads: 0, writtenRecords: 0, writtenPayloads: 0, lostRecords: 0, shedPayloads: 0, lastError: null };
  private flushing: Promise<void> | undefined;
  private readonly writeRows: ((table: 'prediction_records' | 'prediction_payloads', rows: (RecordRow | PayloadRow)[]) => Promise<void>) | undefined;
  private readonly batch: number;
  private readonly thread: PredictionLogThread | undefined;
  /** Set while writes fail: the queue then waits for the periodic flush, not one per added record. */
  private failing = false;

  constructor(private readonly store: Store, private readonly options: PredictionLogOptions) {
    this.writeRows = store.sqlite ? sqliteWriter(store) : undefined;
    this.batch = Math.min(options.batchSize ?? 500, Math.floor(30_000 / RECORD_COLUMNS));
    // An in-memory database has no file a second connection could open.
    const file = store.sqlite && !store.sqlite.memory ? store.sqlite.name : undefined;
    this.thread = file !== undefined && options.writerThread !== false ? new PredictionLogThread(file, options.logger) : undefined;
  }

  /** Where records are written from: the SQLite writer thread, the event loop (SQLite), or PostgreSQL. */
  get writer(): 'thread' | 'event-loop' | 'postgres' {
    return this.thread?.usable === true ? 'thread' : this.writeRows ? 'event-loop' : 'postgres';
  }

  /** Waits for a flush in flight and ends the writer thread; what is still queued stays unwritten. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.thread?.close();
  }

  addRecord(row: RecordRow): void {
    if (this.queued >= this.options.maxQueuedRecords) {
      this.lose(1, `the join-record queue is full (${this.options.maxQueuedRecords}); the store is not keeping up`);
      return;
    }
    let open = this.batches[this.batches.length - 1]!;
    if (open.length >= this.batch) this.batches.push((open = []));
    open.push(row);
    this.queued++;
    // A full batch is written now rather than at the next flush, so at ten thousand requests a second the
    // writes come as twenty small turns spread over the second rather than one burst of them, and records
    // are gone before a young-generation collection would copy them towards the old generation.
    if (open.length >= this.batch && this.flushing === undefined && !this.failing) void this.flush();
  }

  addPayload(row: PayloadRow): void {
    if (this.payloads.length >= this.options.maxQueuedPayloads) {
      this.s.shedPayloads++;
      return;
    }
    this.payloads.push(row);
  }

  status(): PredictionLogStatus {
    return { ...this.s, queuedRecords: this.queued, queuedPayloads: this.payloads.length };
  }

  /** Writes everything queued before the call (after any write already in flight). */
  async flush(): Promise<void> {
    // A flush in flight may have passed what was queued since it began: wait for it, then write again.
    while (this.flushing) await this.flushing;
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private lose(count: number, reason: string): void {
    this.s.lostRecords += count;
    this.options.logger.error({ alert: 'monitoring.join_records_lost', lost: count, lostTotal: this.s.lostRecords, reason }, `monitoring alert: ${count} prediction join record(s) lost; labels for them cannot be joined`);
    this.options.onLost?.(count, reason);
  }

  /** Removes the first batch, once written or given up. */
  private drop(): void {
    this.queued -= this.batches.shift()!.length;
  }

  private async doFlush(): Promise<void> {
    const db = this.store.db;
    // Join records first: they are what a late label needs.
    while (this.queued > 0) {
      // The open batch is closed first, so records added while it is written go to the next one.
      if (this.batches.length === 1) this.batches.push([]);
      const rows = this.batches[0]!;
      try {
        // A request id seen twice (a client reusing x-request-id) keeps its first record.
        if (this.thread?.usable) await this.thread.write('prediction_records', rows);
        else if (this.writeRows) await this.writeRows('prediction_records', rows);
        else await db.insertInto('prediction_records').values(rows).onConflict((oc) => oc.columns(['request_id', 'row']).doNothing()).execute();
        this.drop();
        this.s.writtenRecords += rows.length;
        this.attempts = 0;
        this.failing = false;
      } catch (err) {
        this.s.lastError = (err as Error).message;
        this.failing = true;
        if (++this.attempts >= (this.options.maxAttempts ?? 5)) {
          this.drop();
          this.attempts = 0;
          this.lose(rows.length, `writing them failed ${this.options.maxAttempts ?? 5} times: ${(err as Error).message}`);
        } else {
          this.options.logger.warn({ err, queued: this.queued }, 'writing prediction records failed; retrying on the next flush');
        }
        return;
      }
    }
    while (this.payloads.length > 0) {
      const rows = this.payloads.splice(0, Math.min(this.options.batchSize ?? 500, Math.floor(30_000 / PAYLOAD_COLUMNS)));
      try {
        if (this.thread?.usable) await this.thread.write('prediction_payloads', rows);
        else if (this.writeRows) await this.writeRows('prediction_payloads', rows);
        else await db.insertInto('prediction_payloads').values(rows).onConflict((oc) => oc.column('request_id').doNothing()).execute();
        this.s.writtenPayloads += rows.length;
      } catch (err) {
        // Payloads are the part that may be shed: a failed batch is counted, not retried.
        this.s.shedPayloads += rows.length;
        this.s.lastError = (err as Error).message;
        this.options.logger.warn({ err, shed: rows.length }, 'writing sampled prediction payloads failed; they are dropped');
        return;
      }
    }
  }
}

/**
 * On SQLite without the writer thread (or once it failed): one prepared INSERT per table, run per row inside
 * one transaction, under Kysely's connection lock.
 * Measured on the example model: Kysely's multi-row INSERT cost ~30 µs a record on the event loop (compiling a
 * 5,000-parameter statement each batch), the prepared statement ~3 µs.
 */
function sqliteWriter(store: Store): (table: 'prediction_records' | 'prediction_payloads', rows: (RecordRow | PayloadRow)[]) => Promise<void> {
  const sqlite = store.sqlite!;
  const prepare = (table: string, fields: readonly string[], conflict: string) => sqlite.prepare(`INSERT INTO ${table} (${fields.map((f) => `"${f}"`).join(', ')}) VALUES (${fields.map(() => '?').join(', ')}) ON CONFLICT (${conflict}) DO NOTHING`);
  const rec = prepare('prediction_records', RECORD_FIELDS, '"request_id", "row"');
  const pay = prepare('prediction_payloads', PAYLOAD_FIELDS, '"request_id"');
  // Positional arguments, in the field lists' order: no array per row.
  const records = sqlite.transaction((rows: RecordRow[]) => {
    for (const r of rows) rec.run(r.request_id, r.row, r.deployment, r.version, r.arm, r.at, r.prediction, r.score ?? null, r.slice, r.subject ?? null);
  });
  const payloads = sqlite.transaction((rows: PayloadRow[]) => {
    for (const r of rows) pay.run(r.request_id, r.deployment, r.version ?? null, r.arm ?? null, r.at, r.status, r.latency_ms, r.subject ?? null, r.input, r.output ?? null, r.error ?? null);
  });
  return (table, rows) =>
    store.db.connection().execute(async () => {
      if (table === 'prediction_records') records(rows as RecordRow[]);
      else payloads(rows as PayloadRow[]);
    });
}
