// The prediction log's SQLite writer thread (see prediction-log-thread.ts): its own connection to the
// store's file, one prepared INSERT per table, one transaction per batch. Every message is answered with its
// id, ok or the error, so the gateway keeps a batch queued until it is written.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { decodeRecords, PAYLOAD_FIELDS, RECORD_FIELDS, type LogThreadReply, type LogThreadRequest, type PayloadRow } from './prediction-log-protocol.js';

const { filename } = workerData as { filename: string };
const port = parentPort!;
let db: SqliteDatabase.Database | undefined;
let openError: string | undefined;
let writeRecords: ((text: string) => void) | undefined;
let writePayloads: ((rows: PayloadRow[]) => void) | undefined;
try {
  // fileMustExist: the gateway's store created and migrated it; a missing file is a misconfiguration, not a new store.
  db = new SqliteDatabase(filename, { fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  const prepare = (table: string, fields: readonly string[], conflict: string) =>
    db!.prepare(`INSERT INTO ${table} (${fields.map((f) => `"${f}"`).join(', ')}) VALUES (${fields.map(() => '?').join(', ')}) ON CONFLICT (${conflict}) DO NOTHING`);
  const rec = prepare('prediction_records', RECORD_FIELDS, '"request_id", "row"');
  const pay = prepare('prediction_payloads', PAYLOAD_FIELDS, '"request_id"');
  writeRecords = db.transaction((text: string) => {
    for (const r of decodeRecords(text)) rec.run(r.request_id, r.row, r.deployment, r.version, r.arm, r.at, r.prediction, r.score ?? null, r.slice, r.subject ?? null);
  });
  writePayloads = db.transaction((rows: PayloadRow[]) => {
    for (const r of rows) pay.run(r.request_id, r.deployment, r.version ?? null, r.arm ?? null, r.at, r.status, r.latency_ms, r.subject ?? null, r.input, r.output ?? null, r.error ?? null);
  });
} catch (err) {
  openError = (err as Error).message;
}
port.on('message', (m: LogThreadRequest) => {
  if (m.table === 'close') {
    db?.close();
    port.postMessage({ id: m.id, ok: true } satisfies LogThreadReply);
    port.close();
    return;
  }
  let reply: LogThreadReply;
  try {
    if (openError !== undefined) throw new Error(`the writer thread could not open ${filename}: ${openError}`);
    if (m.table === 'prediction_records') writeRecords!(m.columns);
    else writePayloads!(m.rows);
    reply = { id: m.id, ok: true };
  } catch (err) {
    reply = { id: m.id, ok: false, error: (err as Error).message, fatal: openError !== undefined };
  }
  port.postMessage(reply);
});
