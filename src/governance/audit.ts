// The tamper-evident audit log: an append-only hash chain. Each event's hash covers its own fields and the
// previous event's hash, so editing, deleting or reordering any row breaks the chain at that row.
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import type { Tables } from '../store/tables.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export function hashEvent(e: { seq: number; at: string; actor: string; action: string; target: string; details: string; prevHash: string }): string {
  // A JSON array is an unambiguous encoding: no field can smuggle a separator into its neighbour.
  const payload = JSON.stringify([e.seq, e.at, e.actor, e.action, e.target, e.details, e.prevHash]);
  return createHash('sha256').update(payload).digest('hex');
}

/**
 * Appends one event inside the caller's transaction, so the event commits (or rolls back) with the change
 * it records. Updating the head row first serialises concurrent appenders on SQLite and PostgreSQL alike.
 */
export async function appendAudit(trx: Transaction<Tables>, input: AuditInput, at = new Date().toISOString()): Promise<AuditEvent> {
  await trx.updateTable('audit_head').set((eb) => ({ seq: eb('seq', '+', 1) })).where('id', '=', 1).execute();
  const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const details = JSON.stringify(input.details ?? {});
  const row = { seq: head.seq, at, actor: input.actor, action: input.action, target: input.target, details, prev_hash: head.hash, hash: '' };
  row.hash = hashEvent({ ...row, prevHash: head.hash });
  await trx.insertInto('audit_events').values(row).execute();
  await trx.updateTable('audit_head').set({ hash: row.hash }).where('id', '=', 1).execute();
  return { seq: row.seq, at, actor: row.actor, action: row.action, target: row.target, details: input.details ?? {}, prevHash: row.prev_hash, hash: row.hash };
}

export interface AuditQuery {
  limit?: number;
  /** Events after this sequence number (for paging forward). */
  afterSeq?: number;
  since?: string;
  action?: string;
  target?: string;
}

export async function listAudit(db: Kysely<Tables>, q: AuditQuery = {}): Promise<AuditEvent[]> {
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ModelgateError('MG_ERR_AUDIT_INVALID_QUERY', `--limit must be 1 to 1000, got ${limit}`);
  if (q.since !== undefined && Number.isNaN(Date.parse(q.since))) {
    throw new ModelgateError('MG_ERR_AUDIT_INVALID_QUERY', `--since must be an ISO 8601 time such as 2026-01-31T12:00:00Z, got "${q.since}"`);
  }
  let query = db.selectFrom('audit_events').selectAll();
  if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
  if (q.since !== undefined) query = query.where('at', '>=', new Date(q.since).toISOString());
  if (q.action !== undefined) query = query.where('action', '=', q.action);
  if (q.target !== undefined) query = query.where('target', '=', q.target);
  // Newest first unless paging forward.
  query = q.afterSeq !== undefined ? query.orderBy('seq', 'asc') : query.orderBy('seq', 'desc');
  const rows = await query.limit(limit).execute();
  return rows.map(toEvent);
}

function toEvent(r: Tables['audit_events']): AuditEvent {
  return { seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, details: JSON.parse(r.details) as Record<string, unknown>, prevHash: r.prev_hash, hash: r.hash };
}

export interface AuditVerification {
  ok: boolean;
  events: number;
  headSeq: number;
  /** The first link that does not hold, when ok is false. */
  firstBreak?: { seq: number; reason: string };
}

/** Walks the whole chain in order. Reports the first broken link: an edited, deleted, inserted or reordered row. */
export async function verifyAudit(db: Kysely<Tables>): Promise<AuditVerification> {
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  const pageSize = 1000;
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>', after).orderBy('seq', 'asc').limit(pageSize).execute();
    for (const r of rows) {
      count++;
      if (r.seq !== expectedSeq) {
        const reason = r.seq > expectedSeq ? `event ${expectedSeq}${r.seq - expectedSeq > 1 ? `–${r.seq - 1}` : ''} is missing (deleted)` : `sequence goes backwards at ${r.seq}`;
        return broken(count, head?.seq ?? 0, expectedSeq, reason);
      }
      if (r.prev_hash !== prevHash) {
        return broken(count, head?.seq ?? 0, r.seq, 'its prev_hash does not match the previous event\'s hash (an event before it was changed, removed or reordered)');
      }
      const recomputed = hashEvent({ ...r, prevHash: r.prev_hash });
      if (recomputed !== r.hash) {
        return broken(count, head?.seq ?? 0, r.seq, 'its contents do not match its hash (the row was edited)');
      }
      prevHash = r.hash;
      expectedSeq++;
      after = r.seq;
    }
    if (rows.length < pageSize) break;
  }
  const lastSeq = expectedSeq - 1;
  if (!head) return broken(count, 0, lastSeq, 'the chain head row is missing');
  if (head.seq !== lastSeq || head.hash !== prevHash) {
    const reason = head.seq > lastSeq
      ? `events ${lastSeq + 1}–${head.seq} at the end of the chain are missing (deleted)`
      : 'the chain head does not match the last event (rows were added outside Modelgate)';
    return broken(count, head.seq, lastSeq + 1, reason);
  }
  return { ok: true, events: count, headSeq: head.seq };
}

function broken(events: number, headSeq: number, seq: number, reason: string): AuditVerification {
  return { ok: false, events, headSeq, firstBreak: { seq, reason } };
}
