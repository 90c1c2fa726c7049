// Monitoring as the control API and CLI see it: feedback in; labelled quality, live drift and data quality
// out; retention and erasure. It reads only the store, so every replica answers the same.
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { requireModel, requireRole, type Principal } from '../governance/keys.js';
import type { Registry } from '../registry/registry-service.js';
import type { ReferenceProfile } from '../registry/profile/types.js';
import type { DeploymentSpec } from '../rollout/deployment-spec.js';
import { parseDuration } from '../rollout/duration.js';
import type { Store } from '../store/database.js';
import type { Tables } from '../store/tables.js';
import { sql, type DeleteQueryBuilder, type DeleteResult, type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { recordFeedback, type FeedbackResult } from './feedback.js';
import { qualityReport, readJoined, type QualityReport } from './labelled-quality.js';
import { liveDrift, type LiveDrift } from './live-drift.js';
import { monitoringOf, type MonitoringSpec } from './monitoring-spec.js';

export { monitoringOf } from './monitoring-spec.js';
import { hashValue } from './privacy/redact.js';
import { referenceMetrics } from './reference-metrics.js';

const SYSTEM: Principal = { actor: 'system:monitoring', keyId: null, role: 'admin', modelPatterns: [] };

/** A window given as a duration ("1h") ending now, or explicit ISO bounds. */
export function parseWindow(window: string | undefined, fallback: string | number, now = new Date(), to?: string): { from: Date; to: Date } {
  const ms = parseDuration(window ?? fallback);
  if (ms === undefined || ms <= 0) throw new ModelgateError('MG_ERR_MONITORING_INVALID_QUERY', `window "${window}" is not a duration; write e.g. 15m, 1h, 7d.`);
  const end = to !== undefined ? new Date(to) : now;
  if (Number.isNaN(end.getTime())) throw new ModelgateError('MG_ERR_MONITORING_INVALID_QUERY', `to "${to}" is not an ISO 8601 time.`);
  return { from: new Date(end.getTime() - ms), to: end };
}

export interface EraseResult {
  records: number;
  payloads: number;
  feedback: number;
}

/** The tables the retention purge deletes from. */
type PurgedTable = 'prediction_records' | 'prediction_payloads' | 'drift_results' | 'quality_results' | 'prediction_counts' | 'monitor_profiles' | 'feedback';

/** Rows a purge deletes per statement on SQLite, with a turn of the event loop between statements. */
const PURGE_CHUNK = 2_000;

export function createMonitoringService(store: Store, registry: Registry, salt: () => Promise<string>) {
  const db = store.db;

  /**
   * Deletes the rows `where` selects. On SQLite a DELETE runs on the calling thread, the event loop, and an
   * hour of records at 100 requests a second (360,000) took ~0.5 s in one statement: there it deletes by rowid
   * in chunks and lets requests through between them. PostgreSQL deletes on its server.
   */
  async function purgeRows(table: PurgedTable, where: (eb: ExpressionBuilder<Tables, PurgedTable>) => Expression<SqlBool>): Promise<number> {
    const deleteFrom = db.deleteFrom(table as 'prediction_records') as unknown as DeleteQueryBuilder<Tables, PurgedTable, DeleteResult>;
    if (store.dialect !== 'sqlite') return Number((await deleteFrom.where(where).executeTakeFirst()).numDeletedRows);
    let total = 0;
    for (;;) {
      const chunk = (db.selectFrom(table as 'prediction_records') as unknown as SelectQueryBuilder<Tables, PurgedTable, object>).select(sql<number>`rowid`.as('rowid')).where(where).limit(PURGE_CHUNK);
      const n = Number((await deleteFrom.where(sql.ref('rowid'), 'in', chunk).executeTakeFirst()).numDeletedRows);
      total += n;
      if (n < PURGE_CHUNK) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function deployment(principal: Principal, name: string): Promise<{ model: string; spec: MonitoringSpec }> {
    const row = await db.selectFrom('deployments').select(['model', 'spec']).where('name', '=', name).executeTakeFirst();
    if (!row) throw new ModelgateError('MG_ERR_DEPLOYMENT_NOT_FOUND', `No deployment named "${name}". List them with \`modelgate deployments list\`.`);
    requireModel(principal, row.model);
    return { model: row.model, spec: monitoringOf(JSON.parse(row.spec) as DeploymentSpec) };
  }

  return {
    deployment,

    /** Labels and outcomes for earlier predictions (invoker keys may send them, for their models). */
    async feedback(principal: Principal, body: unknown): Promise<FeedbackResult> {
      requireRole(principal, 'invoker');
      // A key may label only predictions of the models it may call (named, or found by the join).
      return recordFeedback(store, body, new Date(), async (names) => {
        for (const d of names) await deployment(principal, d);
      });
    },

    /** Live drift and data quality over a window (default: spec.monitoring.drift.window, ending now). */
    async drift(principal: Principal, name: string, q: { window?: string; to?: string; version?: number; against?: 'reference' | 'previous' } = {}): Promise<LiveDrift> {
      requireRole(principal, 'viewer');
      const d = await deployment(principal, name);
      const { from, to } = parseWindow(q.window, d.spec.drift.window, new Date(), q.to);
      return liveDrift(db, {
        deployment: name,
        spec: d.spec,
        from,
        to,
        ...(q.version !== undefined ? { version: q.version } : {}),
        ...(q.against !== undefined ? { against: q.against } : {}),
        reference: (v) => registry.getReferenceProfile(SYSTEM, `${d.model}@${v}`).catch(() => null),
      });
    },

    /** Stored drift evaluations, newest first. */
    async driftHistory(principal: Principal, name: string, limit = 50): Promise<{ version: number; at: string; rows: number; dataset_drift: boolean; drift_share: number; window: { from: string; to: string } }[]> {
      requireRole(principal, 'viewer');
      await deployment(principal, name);
      const rows = await db.selectFrom('drift_results').select(['version', 'at', 'rows', 'dataset_drift', 'drift_share', 'window_from', 'window_to']).where('deployment', '=', name).orderBy('at', 'desc').limit(Math.min(Math.max(1, limit), 1000)).execute();
      return rows.map((r) => ({ version: r.version, at: r.at, rows: r.rows, dataset_drift: r.dataset_drift === 1, drift_share: r.drift_share, window: { from: r.window_from, to: r.window_to } }));
    },

    /** Sampled payloads (already redacted), newest first. */
    async payloads(principal: Principal, name: string, limit = 20): Promise<{ requestId: string; version: number | null; arm: string | null; at: string; status: number; latencyMs: number; input: unknown; output: unknown; error: string | null }[]> {
      requireRole(principal, 'operator');
      await deployment(principal, name);
      const rows = await db.selectFrom('prediction_payloads').selectAll().where('deployment', '=', name).orderBy('at', 'desc').limit(Math.min(Math.max(1, limit), 500)).execute();
      return rows.map((r) => ({ requestId: r.request_id, version: r.version, arm: r.arm, at: r.at, status: r.status, latencyMs: r.latency_ms, input: JSON.parse(r.input) as unknown, output: r.output === null ? null : (JSON.parse(r.output) as unknown), error: r.error }));
    },

    async quality(principal: Principal, name: string, q: { window?: string; to?: string } = {}): Promise<QualityReport> {
      requireRole(principal, 'viewer');
      const d = await deployment(principal, name);
      const { from, to } = parseWindow(q.window, d.spec.concept.window, new Date(), q.to);
      const { rows, predictions } = await readJoined(db, store.dialect, name, from, to);
      const versions = new Set([...rows.map((r) => r.version), ...[...predictions.keys()].map((k) => Number(k.split('\u0000')[0]))]);
      const references = new Map<number, { metrics: Record<string, number>; sources: Record<string, string>; profile: ReferenceProfile | null }>();
      for (const v of versions) {
        try {
          const m = await referenceMetrics(registry, SYSTEM, d.model, v);
          references.set(v, { ...m, profile: await registry.getReferenceProfile(SYSTEM, `${d.model}@${v}`) });
        } catch {
          // a version deleted since: no reference to compare with
        }
      }
      return qualityReport({ deployment: name, spec: d.spec, from, to, rows, predictions, references });
    },

    /**
     * Deletes every prediction record, payload and label of one subject (matched by its salted hash, so the
     * key itself is never stored) and audits the erasure with the counts, not the key.
     */
    async erase(principal: Principal, subject: string): Promise<EraseResult> {
      requireRole(principal, 'admin');
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > 500) throw new ModelgateError('MG_ERR_PRIVACY_INVALID', 'The subject key is empty or longer than 500 characters.');
      const hash = hashValue(await salt(), subject);
      return db.transaction().execute(async (trx) => {
        const ids = (await trx.selectFrom('prediction_records').select('request_id').where('subject', '=', hash).execute()).map((r) => r.request_id);
        let feedback = 0;
        for (let i = 0; i < ids.length; i += 500) {
          const r = await trx.deleteFrom('feedback').where('request_id', 'in', [...new Set(ids.slice(i, i + 500))]).executeTakeFirst();
          feedback += Number(r.numDeletedRows);
        }
        feedback += Number((await trx.deleteFrom('feedback').where('subject', '=', hash).executeTakeFirst()).numDeletedRows);
        const records = Number((await trx.deleteFrom('prediction_records').where('subject', '=', hash).executeTakeFirst()).numDeletedRows);
        const payloads = Number((await trx.deleteFrom('prediction_payloads').where('subject', '=', hash).executeTakeFirst()).numDeletedRows);
        await appendAudit(trx, { actor: principal.actor, action: 'privacy.erase', target: `subject:${hash}`, details: { records, payloads, feedback } });
        return { records, payloads, feedback };
      });
    },

    /** Deletes what is past each deployment's retention (and, for deployments since removed, past the default). */
    async purge(now = new Date()): Promise<{ records: number; payloads: number; feedback: number; profiles: number; drift: number }> {
      const rows = await db.selectFrom('deployments').select(['name', 'spec']).execute();
      const retention = new Map(rows.map((r) => [r.name, parseDuration(monitoringOf(JSON.parse(r.spec) as DeploymentSpec).retention)!]));
      const fallback = parseDuration(monitoringOf({}).retention)!;
      const total = { records: 0, payloads: 0, feedback: 0, profiles: 0, drift: 0 };
      const names = [...retention.keys()];
      const purgeOne = async (cutoff: string, only: string | null) => {
        // Rows of one deployment, or of every deployment no longer stored.
        const scope = (eb: ExpressionBuilder<Tables, PurgedTable>, column: 'at' | 'bucket' | 'received_at') => {
          const old = eb(column, '<', cutoff);
          if (only !== null) return eb.and([old, eb('deployment', '=', only)]);
          if (names.length === 0) return old;
          // Labels may name no deployment (their record was not written yet when they came).
          if (column === 'received_at') return eb.and([old, eb.or([eb('deployment', 'is', null), eb('deployment', 'not in', names)])]);
          return eb.and([old, eb('deployment', 'not in', names)]);
        };
        total.records += await purgeRows('prediction_records', (eb) => scope(eb, 'at'));
        total.payloads += await purgeRows('prediction_payloads', (eb) => scope(eb, 'at'));
        total.drift += await purgeRows('drift_results', (eb) => scope(eb, 'at'));
        await purgeRows('quality_results', (eb) => scope(eb, 'at'));
        await purgeRows('prediction_counts', (eb) => scope(eb, 'at'));
        total.profiles += await purgeRows('monitor_profiles', (eb) => scope(eb, 'bucket'));
        // Labels by when they were received: a label outlives its record by at most one retention period.
        total.feedback += await purgeRows('feedback', (eb) => scope(eb, 'received_at'));
      };
      for (const [name, ms] of retention) await purgeOne(new Date(now.getTime() - ms).toISOString(), name);
      await purgeOne(new Date(now.getTime() - fallback).toISOString(), null);
      return total;
    },
  };
}

export type MonitoringService = ReturnType<typeof createMonitoringService>;
