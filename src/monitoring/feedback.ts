// Feedback: ground truth and business outcome events sent after the fact, hours or days late. They are stored
// as they come and joined to the prediction records when read, so a label that arrives before its record is
// flushed (or on another replica) still joins. A bulk request is checked whole before anything is written.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelgateError } from '../errors/index.js';
import type { Store } from '../store/database.js';

const Outcome = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$', description: 'e.g. conversion, refund, escalation' }),
    value: Type.Optional(Type.Number({ description: 'An amount, when the event has one' })),
  },
  { additionalProperties: false },
);

export const FeedbackItemSchema = Type.Object(
  {
    requestId: Type.String({ minLength: 1, maxLength: 200, description: 'The x-request-id of the prediction (the V2 response id)' }),
    row: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Row within a batched request (default 0)' })),
    deployment: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    label: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()], { description: 'The ground truth' })),
    outcomes: Type.Optional(Type.Array(Outcome, { maxItems: 20 })),
    at: Type.Optional(Type.String({ description: 'When the outcome happened (ISO 8601); default: now' })),
  },
  { additionalProperties: false },
);

export const FeedbackBodySchema = Type.Union([
  FeedbackItemSchema,
  Type.Object({ items: Type.Array(FeedbackItemSchema, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
]);

export type FeedbackItem = Static<typeof FeedbackItemSchema>;

export interface FeedbackResult {
  accepted: number;
  /** Items whose prediction record is already stored. */
  joined: number;
  /** Items waiting for a record (unknown ids, or records not flushed yet); they join once it is written. */
  pending: number;
  /** Request ids of up to 20 pending items. */
  pendingIds: string[];
}

/**
 * Validates every item (all or none) and writes them in one transaction. `authorize` sees every deployment
 * the items name or join to, before anything is written.
 */
export async function recordFeedback(store: Store, body: unknown, now = new Date(), authorize?: (deployments: string[]) => Promise<void>): Promise<FeedbackResult> {
  const items = parseFeedback(body, now);
  const db = store.db;
  const receivedAt = now.toISOString();
  const ids = [...new Set(items.map((i) => i.requestId))];
  const known = new Map<string, { deployment: string; subject: string | null }>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('prediction_records').select(['request_id', 'row', 'deployment', 'subject']).where('request_id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) known.set(`${r.request_id}\u0000${r.row}`, { deployment: r.deployment, subject: r.subject });
  }
  if (authorize) await authorize([...new Set([...[...known.values()].map((k) => k.deployment), ...items.flatMap((i) => (i.deployment !== undefined ? [i.deployment] : []))])]);
  let joined = 0;
  const pendingIds: string[] = [];
  const rows = items.map((it) => {
    const rec = known.get(`${it.requestId}\u0000${it.row ?? 0}`);
    if (rec) joined++;
    else if (pendingIds.length < 20) pendingIds.push(it.requestId);
    return {
      request_id: it.requestId,
      row: it.row ?? 0,
      deployment: it.deployment ?? rec?.deployment ?? null,
      label: it.label === undefined ? null : JSON.stringify(it.label),
      outcomes: it.outcomes && it.outcomes.length > 0 ? JSON.stringify(it.outcomes) : null,
      at: it.at !== undefined ? new Date(it.at).toISOString() : receivedAt,
      received_at: receivedAt,
      subject: rec?.subject ?? null,
    };
  });
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 500) await trx.insertInto('feedback').values(rows.slice(i, i + 500)).execute();
  });
  return { accepted: rows.length, joined, pending: rows.length - joined, pendingIds };
}

export function parseFeedback(body: unknown, now = new Date()): FeedbackItem[] {
  const bad = (message: string, details?: Record<string, unknown>) => new ModelgateError('MG_ERR_FEEDBACK_INVALID', message, details);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('Feedback is a JSON object: one item {requestId, label?, outcomes?, at?} or {items: [...]}.');
  const isBulk = Object.hasOwn(body, 'items');
  const list: unknown[] = isBulk ? ((body as { items: unknown }).items as unknown[]) : [body];
  if (!Array.isArray(list) || list.length === 0) throw bad('"items" must be a non-empty array of feedback items.');
  if (list.length > 10_000) throw bad(`"items" holds ${list.length} items; send at most 10000 per request.`);
  const out: FeedbackItem[] = [];
  for (const [i, item] of list.entries()) {
    const where = isBulk ? `items[${i}]` : 'the feedback';
    if (!Value.Check(FeedbackItemSchema, item)) {
      const e = Value.Errors(FeedbackItemSchema, item).First();
      const path = e?.path.replace(/^\//, '').replace(/\//g, '.') || '(item)';
      throw bad(`${where}: ${path}: ${e?.message ?? 'invalid'}. Nothing was recorded.`, { item: i });
    }
    if (item.label === undefined && (item.outcomes === undefined || item.outcomes.length === 0)) throw bad(`${where} carries neither a label nor outcomes. Nothing was recorded.`, { item: i });
    if (item.at !== undefined) {
      const t = Date.parse(item.at);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(item.at) || Number.isNaN(t)) throw bad(`${where}: at "${item.at}" is not an ISO 8601 time such as 2026-12-01T09:30:00Z. Nothing was recorded.`, { item: i });
      if (t > now.getTime() + 5 * 60_000) throw bad(`${where}: at "${item.at}" is in the future. Nothing was recorded.`, { item: i });
    }
    out.push(item);
  }
  return out;
}
