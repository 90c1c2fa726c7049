// What the gateway and the prediction log's writer thread say to each other. A batch of join records travels
// as one JSON text of columns, the repetitive ones (deployment, version, arm, time, prediction, slice,
// subject) run-length coded: the structured clone copies each string on its own (~1.3 µs a record on this
// machine for objects or plain columns), while the one string of a batch is copied whole, and short.
import type { Insertable } from 'kysely';
import type { PredictionPayloadsTable, PredictionRecordsTable } from '../store/tables.js';

export type RecordRow = Insertable<PredictionRecordsTable>;
export type PayloadRow = Insertable<PredictionPayloadsTable>;

/** The columns of each table, in the order both writers bind them. */
export const RECORD_FIELDS = ['request_id', 'row', 'deployment', 'version', 'arm', 'at', 'prediction', 'score', 'slice', 'subject'] as const;
export const PAYLOAD_FIELDS = ['request_id', 'deployment', 'version', 'arm', 'at', 'status', 'latency_ms', 'subject', 'input', 'output', 'error'] as const;

/** Values with their run lengths: [v0, n0, v1, n1, ...]. */
type Runs<T> = (T | number)[];

export interface RecordColumns {
  count: number;
  request_id: string[];
  row: number[];
  score: (number | null)[];
  deployment: Runs<string>;
  version: Runs<number>;
  arm: Runs<string>;
  at: Runs<string>;
  prediction: Runs<string>;
  slice: Runs<string>;
  subject: Runs<string | null>;
}

export type LogThreadRequest =
  /** `columns`: RecordColumns as JSON (encodeRecords). */
  | { id: number; table: 'prediction_records'; columns: string }
  | { id: number; table: 'prediction_payloads'; rows: PayloadRow[] }
  | { id: number; table: 'close' };

export type LogThreadReply = { id: number; ok: true } | { id: number; ok: false; error: string; fatal: boolean };

/** Run-length coding of one column, a value at a time. */
class RunCoder<T> {
  readonly out: Runs<T> = [];
  private last: T | undefined;
  private n = 0;

  add(v: T): void {
    if (this.n > 0 && v === this.last) {
      this.n++;
      return;
    }
    if (this.n > 0) this.out.push(this.last as T, this.n);
    this.last = v;
    this.n = 1;
  }

  done(): Runs<T> {
    if (this.n > 0) this.out.push(this.last as T, this.n);
    this.n = 0;
    return this.out;
  }
}

/** One pass over the batch: the per-record columns, and a run per change of each repetitive field. */
export function encodeRecords(rows: readonly RecordRow[]): string {
  const n = rows.length;
  const request_id = new Array<string>(n);
  const row = new Array<number>(n);
  const score = new Array<number | null>(n);
  const dep = new RunCoder<string>(), ver = new RunCoder<number>(), arm = new RunCoder<string>(), at = new RunCoder<string>();
  const pred = new RunCoder<string>(), slice = new RunCoder<string>(), subj = new RunCoder<string | null>();
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    request_id[i] = r.request_id;
    row[i] = r.row;
    score[i] = r.score ?? null;
    dep.add(r.deployment);
    ver.add(r.version);
    arm.add(r.arm);
    at.add(r.at);
    pred.add(r.prediction);
    slice.add(r.slice);
    subj.add(r.subject ?? null);
  }
  const c: RecordColumns = { count: n, request_id, row, score, deployment: dep.done(), version: ver.done(), arm: arm.done(), at: at.done(), prediction: pred.done(), slice: slice.done(), subject: subj.done() };
  return JSON.stringify(c);
}

/** The records of an encodeRecords text, in order; throws when the runs do not add up to the count. */
export function decodeRecords(text: string): RecordRow[] {
  const c = JSON.parse(text) as RecordColumns;
  const rows: RecordRow[] = new Array(c.count);
  for (let i = 0; i < c.count; i++) rows[i] = { request_id: c.request_id[i]!, row: c.row[i]!, score: c.score[i] ?? null, deployment: '', version: 0, arm: '', at: '', prediction: '', slice: '', subject: null };
  const expand = <K extends 'deployment' | 'version' | 'arm' | 'at' | 'prediction' | 'slice' | 'subject'>(key: K, rs: Runs<RecordRow[K]>) => {
    let i = 0;
    for (let k = 0; k < rs.length; k += 2) {
      const v = rs[k] as RecordRow[K];
      const end = i + (rs[k + 1] as number);
      for (; i < end; i++) rows[i]![key] = v;
    }
    if (i !== c.count) throw new Error(`a batch of ${c.count} records has ${i} values of ${key}`);
  };
  expand('deployment', c.deployment);
  expand('version', c.version);
  expand('arm', c.arm);
  expand('at', c.at);
  expand('prediction', c.prediction);
  expand('slice', c.slice);
  expand('subject', c.subject);
  return rows;
}
