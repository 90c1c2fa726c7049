// The human review queue: requests the gateway answered with low confidence, or only through a fallback, wait
// here for a person's label. A decision is final and becomes feedback for the request, so labelled quality
// counts it like any label sent to POST /api/v1/feedback.
import type { Selectable } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireRole, type Principal } from '../governance/keys.js';
import { parseFeedback, recordFeedback, type FeedbackResult } from '../monitoring/feedback.js';
import type { MonitoringService } from '../monitoring/monitoring-service.js';
import type { Store } from '../store/database.js';
import type { Tables } from '../store/tables.js';

export const REVIEW_REASONS = ['low_confidence', 'fallback'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

export interface ReviewItem {
  deployment: string;
  model: string;
  version: number;
  requestId: string;
  reason: ReviewReason;
  confidence: number | null;
  /** JSON-able; already redacted as the deployment's monitoring redacts the prediction log. */
  inputs: unknown;
  /** The model's outputs when it answered, else null. */
  outputs: unknown;
}

export interface ReviewInfo {
  id: number;
  deployment: string;
  model: string;
  version: number;
  requestId: string;
  reason: string;
  confidence: number | null;
  inputs: unknown;
  outputs: unknown;
  status: 'pending' | 'decided';
  /** The reviewer's label. */
  decision: number | string | null;
  note: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
}

export interface ReviewListQuery {
  /** pending (default), decided or all. */
  status?: 'pending' | 'decided' | 'all';
  deployment?: string;
  limit?: number;
}

export interface ReviewDecision {
  label: number | string;
  note?: string | undefined;
}

export type ReviewService = ReturnType<typeof createReviewService>;

type ReviewRow = Selectable<Tables['reviews']>;

const invalid = (message: string) => new ModelgateError('MG_ERR_REVIEW_INVALID', message);

/**
 * `deps.monitoring` is accepted for the context's wiring; decisions go through recordFeedback itself rather
 * than MonitoringService.feedback, which would refuse a review whose deployment was deleted since.
 */
export function createReviewService(store: Store, deps: { monitoring?: MonitoringService; now?: () => number } = {}) {
  const db = store.db;
  const now = () => new Date(deps.now?.() ?? Date.now());

  async function load(p: Principal, id: number): Promise<ReviewRow> {
    const notFound = () => new ModelgateError('MG_ERR_REVIEW_NOT_FOUND', `No review has id ${id}. List the queue with \`modelgate reviews list --all\`.`);
    if (!Number.isSafeInteger(id) || id < 1) throw notFound();
    const row = await db.selectFrom('reviews').selectAll().where('id', '=', id).executeTakeFirst();
    // A key limited to other models is told nothing about this one.
    if (!row || !canSeeModel(p, row.model)) throw notFound();
    return row;
  }

  return {
    /**
     * Queues one request for review, off the request path. Idempotent per (deployment, request id): a second
     * call returns the id of the first and changes nothing.
     */
    async enqueue(item: ReviewItem): Promise<number> {
      checkItem(item);
      const inputs = JSON.stringify(item.inputs ?? null);
      const outputs = item.outputs === null || item.outputs === undefined ? null : JSON.stringify(item.outputs);
      const inserted = await db
        .insertInto('reviews')
        .values({
          deployment: item.deployment,
          model: item.model,
          version: item.version,
          request_id: item.requestId,
          reason: item.reason,
          confidence: item.confidence,
          inputs,
          outputs,
          status: 'pending',
          decision: null,
          note: null,
          decided_by: null,
          decided_at: null,
          created_at: now().toISOString(),
        })
        .onConflict((oc) => oc.columns(['deployment', 'request_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return inserted.id;
      const existing = await db.selectFrom('reviews').select('id').where('deployment', '=', item.deployment).where('request_id', '=', item.requestId).executeTakeFirstOrThrow();
      return existing.id;
    },

    /** Pending reviews oldest first (the queue); decided ones newest first. */
    async list(principal: Principal, q: ReviewListQuery = {}): Promise<ReviewInfo[]> {
      requireRole(principal, 'viewer');
      const limit = q.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `limit must be 1 to 500, got ${limit}.`);
      const status = q.status ?? 'pending';
      if (!['pending', 'decided', 'all'].includes(status)) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `status must be pending, decided or all, got "${status}".`);
      let query = db.selectFrom('reviews').selectAll();
      if (status !== 'all') query = query.where('status', '=', status);
      if (q.deployment !== undefined) query = query.where('deployment', '=', q.deployment);
      if (principal.modelPatterns.length > 0) {
        const models = (await db.selectFrom('reviews').select('model').distinct().execute()).map((r) => r.model).filter((m) => canSeeModel(principal, m));
        if (models.length === 0) return [];
        query = query.where('model', 'in', models);
      }
      const direction = status === 'pending' ? 'asc' : 'desc';
      const rows = await query.orderBy('created_at', direction).orderBy('id', direction).limit(limit).execute();
      return rows.map(toInfo);
    },

    async get(principal: Principal, id: number): Promise<ReviewInfo> {
      requireRole(principal, 'viewer');
      return toInfo(await load(principal, id));
    },

    /**
     * Decides a pending review (final; audited) and records the label as feedback for its request, carrying the
     * deployment so it joins even when the prediction record was never written.
     */
    async decide(principal: Principal, id: number, decision: ReviewDecision): Promise<ReviewInfo & { feedback: FeedbackResult }> {
      requireRole(principal, 'operator');
      const label = checkLabel(decision?.label);
      const note = decision.note === undefined || decision.note === null ? null : String(decision.note).trim() || null;
      if (note !== null && note.length > 2000) throw invalid(`The note is ${note.length} characters; keep it under 2000.`);
      const row = await load(principal, id);
      if (row.status === 'decided') throw alreadyDecided(row);
      const at = now();
      const feedback = { requestId: row.request_id, deployment: row.deployment, label };
      // Checked as the feedback API checks it, before the decision is stored, so the label cannot be refused after.
      try {
        parseFeedback(feedback, at);
      } catch (e) {
        throw invalid(`The label cannot be recorded as feedback: ${(e as Error).message}`);
      }
      const decidedAt = at.toISOString();
      await db.transaction().execute(async (trx) => {
        const res = await trx
          .updateTable('reviews')
          .set({ status: 'decided', decision: JSON.stringify(label), note, decided_by: principal.actor, decided_at: decidedAt })
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw alreadyDecided((await trx.selectFrom('reviews').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()));
        await appendAudit(trx, { actor: principal.actor, action: 'review.decide', target: `review/${row.id}`, details: { deployment: row.deployment, model: row.model, version: row.version, requestId: row.request_id, reason: row.reason, label, note } }, decidedAt);
      });
      // After the commit: only one decision (the one that won the update above) becomes a label.
      const result = await recordFeedback(store, feedback, at);
      return { ...toInfo({ ...row, status: 'decided', decision: JSON.stringify(label), note, decided_by: principal.actor, decided_at: decidedAt }), feedback: result };
    },
  };
}

function checkItem(item: ReviewItem): void {
  const bad = (what: string) => invalid(`Cannot queue the review: ${what}.`);
  if (typeof item.deployment !== 'string' || item.deployment.length === 0) throw bad('deployment is missing');
  if (typeof item.model !== 'string' || item.model.length === 0) throw bad('model is missing');
  if (!Number.isSafeInteger(item.version) || item.version < 1) throw bad(`version must be a positive integer, got ${String(item.version)}`);
  if (typeof item.requestId !== 'string' || item.requestId.length === 0 || item.requestId.length > 200) throw bad('requestId must be 1 to 200 characters');
  if (!(REVIEW_REASONS as readonly string[]).includes(item.reason)) throw bad(`reason must be ${REVIEW_REASONS.join(' or ')}, got "${String(item.reason)}"`);
  if (item.confidence !== null && !(typeof item.confidence === 'number' && Number.isFinite(item.confidence))) throw bad('confidence must be a number or null');
}

/** A label is a finite number or a non-empty string. */
function checkLabel(label: unknown): number | string {
  if (label === undefined || label === null) throw invalid('Send a label: the right answer for this request, a number or a string (e.g. {"label": 1} or {"label": "fraud"}).');
  if (typeof label === 'number') {
    if (!Number.isFinite(label)) throw invalid('The label must be a finite number or a string.');
    return label;
  }
  if (typeof label === 'string') {
    if (label.trim().length === 0) throw invalid('The label is empty: send the right answer for this request.');
    return label;
  }
  throw invalid(`The label must be a number or a string, got ${Array.isArray(label) ? 'an array' : typeof label}.`);
}

function alreadyDecided(r: ReviewRow): ModelgateError {
  return new ModelgateError('MG_ERR_REVIEW_ALREADY_DECIDED', `Review ${r.id} was decided at ${r.decided_at} by ${r.decided_by} (label ${r.decision}); a decision is final. Send a correcting label with \`modelgate feedback\` instead.`, { decidedBy: r.decided_by, decidedAt: r.decided_at });
}

function toInfo(r: ReviewRow): ReviewInfo {
  return {
    id: r.id,
    deployment: r.deployment,
    model: r.model,
    version: r.version,
    requestId: r.request_id,
    reason: r.reason,
    confidence: r.confidence === null ? null : Number(r.confidence),
    inputs: parse(r.inputs),
    outputs: r.outputs === null ? null : parse(r.outputs),
    status: r.status,
    decision: r.decision === null ? null : (parse(r.decision) as number | string),
    note: r.note,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    createdAt: r.created_at,
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
