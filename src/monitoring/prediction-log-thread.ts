// On SQLite, the prediction log is written by a thread of its own, with its own connection to the store's
// file (WAL mode lets it write while the event loop reads). A join record cost the event loop ~5 µs to insert
// (three B-trees: the table, its key and the deployment/time index), and a batch of 500 held the loop ~2.5 ms,
// which requests arriving meanwhile waited out; handing a batch over as one string costs the loop ~1.4 µs a
// record (measured in isolation, 50,000 records). SQLite still has one writer at a time: a gateway write that
// meets the thread's transaction waits for it under busy_timeout, as it would for a CLI beside the server.
//
// The thread starts on the first write and is held (ref'd) only while a batch is in flight, so it never keeps
// a process alive on its own but never loses a batch being written at exit either. When it cannot start or
// open the file, or dies, `usable` turns false and the log writes on the event loop as before.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { encodeRecords, type LogThreadReply, type LogThreadRequest, type PayloadRow, type RecordRow } from './prediction-log-protocol.js';

const WORKER_URL = new URL('./prediction-log-worker.js', import.meta.url);
type Waiter = { resolve: () => void; reject: (e: Error) => void };

export class PredictionLogThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private broken: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly filename: string, private readonly logger: Logger) {}

  /** False once the thread failed or closed: the caller writes on the event loop instead. */
  get usable(): boolean {
    return this.broken === undefined && this.closing === undefined;
  }

  /** Resolves when the thread has committed the batch; rejects with its error (the batch is then not written). */
  write(table: 'prediction_records' | 'prediction_payloads', rows: readonly (RecordRow | PayloadRow)[]): Promise<void> {
    const w = this.start();
    const id = this.nextId++;
    const message: LogThreadRequest = table === 'prediction_records' ? { id, table, columns: encodeRecords(rows as RecordRow[]) } : { id, table, rows: rows as PayloadRow[] };
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) w.ref();
      w.postMessage(message);
    });
  }

  /** Lets the thread finish what it was given, closes its connection and ends it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const w = this.worker;
      if (w === undefined || this.broken !== undefined) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      const id = this.nextId++;
      const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
      w.ref();
      w.postMessage({ id, table: 'close' } satisfies LogThreadRequest);
      await done.catch(() => undefined);
      await exited;
    })();
    return this.closing;
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(WORKER_URL, { workerData: { filename: this.filename } });
    w.unref();
    w.on('message', (r: LogThreadReply) => {
      const waiter = this.waiting.get(r.id);
      if (waiter === undefined) return;
      this.waiting.delete(r.id);
      if (this.waiting.size === 0 && this.closing === undefined) w.unref();
      if (r.ok) waiter.resolve();
      else {
        if (r.fatal) this.fail(r.error);
        waiter.reject(new Error(r.error));
      }
    });
    w.on('error', (err) => this.fail(err.message));
    w.on('exit', (code) => {
      if (this.closing === undefined) this.fail(`the writer thread exited with code ${code}`);
      this.rejectAll(new Error(this.broken ?? 'the writer thread has closed'));
    });
    this.worker = w;
    return w;
  }

  private fail(reason: string): void {
    if (this.broken !== undefined) return;
    this.broken = reason;
    this.logger.warn({ reason }, 'prediction log: the SQLite writer thread failed; writing on the event loop from now on');
    this.rejectAll(new Error(reason));
    void this.worker?.terminate();
  }

  private rejectAll(err: Error): void {
    for (const [, w] of this.waiting) w.reject(err);
    this.waiting.clear();
  }
}
