// Incidents: paging alerts (SEV1, SEV2) of one deployment gathered into one incident with a timeline, acknowledged
// and resolved by operators; resolving writes the postmortem draft. The timeline merges the incident's own
// events with the audit log, the traffic ledger and the deployment's other alerts around it.
import { sql, type Selectable, type Transaction } from 'kysely';
import type { AlertInfo } from '../alerts/types.js';
import { SEVERITIES } from '../alerts/types.js';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireRole, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';
import type { AlertSeverity, Tables } from '../store/tables.js';
import { latencyBucket, type SloSpec } from '../slo/slo-spec.js';
import type { SloService, SloStatus } from '../slo/slo-service.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';
import { renderPostmortem, type IncidentFacts, type SloImpact, type SpanCounts, type TimelineEntry } from './postmortem.js';

export type { TimelineEntry } from './postmortem.js';

const SYSTEM: Principal = { actor: 'system:incidents', keyId: null, role: 'admin', modelPatterns: [] };
/** The timeline starts this long before the incident opened: the change that caused it is usually there. */
export const CONTEXT_BEFORE_MS = 3_600_000;
const TIMELINE_LIMIT = 2000;

export type IncidentInfo = IncidentFacts & {
  /** Alerts that joined the incident. */
  alertCount: number;
};

export interface IncidentAlert {
  id: number;
  source: string;
  severity: AlertSeverity;
  version: number | null;
  summary: string;
  status: string;
  openedAt: string;
  resolvedAt: string | null;
}

export interface IncidentDetail extends IncidentInfo {
  alerts: IncidentAlert[];
  timeline: TimelineEntry[];
  /** Markdown, written at resolution; null before. */
  postmortem: string | null;
}

export interface IncidentEventInput {
  /** What happened: rollback, fallback, freeze, note, … */
  kind: string;
  summary: string;
  details?: Record<string, unknown>;
  actor: string;
}

export interface IncidentListQuery {
  /** open (default): open or acknowledged; resolved; all. */
  status?: 'open' | 'all' | 'resolved';
  deployment?: string;
  limit?: number;
}

export type IncidentService = ReturnType<typeof createIncidentService>;

type IncidentRow = Selectable<Tables['incidents']>;
type Db = Store['db'] | Transaction<Tables>;

const rank = (s: AlertSeverity): number => SEVERITIES.indexOf(s);
const pages = (s: AlertSeverity): boolean => s === 'SEV1' || s === 'SEV2';
const KIND_RE = /^[a-z][a-z0-9._-]{0,63}$/;

export function createIncidentService(store: Store, deps: { slos?: SloService; now?: () => number } = {}) {
  const db = store.db;
  const now = () => deps.now?.() ?? Date.now();
  const isoNow = () => new Date(now()).toISOString();

  /**
   * Serialises the incident bookkeeping of one deployment across replicas. SQLite transactions already take
   * the write lock up front (BEGIN IMMEDIATE); PostgreSQL needs a lock that exists before the incident does.
   */
  async function lockDeployment(trx: Transaction<Tables>, deployment: string | null): Promise<void> {
    if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`modelgate.incident:${deployment ?? ''}`}))`.execute(trx);
  }

  async function openIncidentOf(trx: Db, deployment: string | null): Promise<IncidentRow | undefined> {
    let q = trx.selectFrom('incidents').selectAll().where('status', 'in', ['open', 'acknowledged']);
    q = deployment === null ? q.where('deployment', 'is', null) : q.where('deployment', '=', deployment);
    return (await q.orderBy('id', 'desc').limit(1).executeTakeFirst()) as IncidentRow | undefined;
  }

  async function addEvent(trx: Db, incidentId: number, at: string, e: IncidentEventInput): Promise<void> {
    await trx.insertInto('incident_events').values({ incident_id: incidentId, at, kind: e.kind, summary: clip(e.summary, 2000), details: JSON.stringify(e.details ?? {}), actor: e.actor }).execute();
  }

  async function deploymentModels(): Promise<Map<string, string>> {
    const rows = await db.selectFrom('deployments').select(['name', 'model']).execute();
    return new Map(rows.map((r) => [r.name, r.model]));
  }

  /** A key scoped to some models sees incidents of deployments of those models; platform incidents only unscoped keys. */
  function visible(p: Principal, models: Map<string, string>, deployment: string | null): boolean {
    if (p.modelPatterns.length === 0) return true;
    const model = deployment === null ? undefined : models.get(deployment);
    return model !== undefined && canSeeModel(p, model);
  }

  async function load(p: Principal, id: number): Promise<IncidentRow> {
    const notFound = () => new ModelgateError('MG_ERR_INCIDENT_NOT_FOUND', `No incident has id ${id}. List incidents with \`modelgate incidents list --all\`.`);
    if (!Number.isSafeInteger(id) || id < 1) throw notFound();
    const row = (await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst()) as IncidentRow | undefined;
    if (!row || !visible(p, await deploymentModels(), row.deployment)) throw notFound();
    return row;
  }

  async function alertCounts(ids: number[]): Promise<Map<number, number>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('alerts').select((eb) => ['incident_id', eb.fn.countAll<number>().as('n')]).where('incident_id', 'in', ids).groupBy('incident_id').execute();
    return new Map(rows.map((r) => [r.incident_id!, Number(r.n)]));
  }

  /** The timeline from an hour before the opening until `until`: own events, audit entries, traffic changes, other alerts. */
  async function timelineOf(i: IncidentRow, until: string): Promise<TimelineEntry[]> {
    const from = new Date(Date.parse(i.opened_at) - CONTEXT_BEFORE_MS).toISOString();
    const out: TimelineEntry[] = [];
    const events = await db.selectFrom('incident_events').selectAll().where('incident_id', '=', i.id).orderBy('id').execute();
    for (const e of events) {
      const details = parseObject(e.details);
      out.push({ at: e.at, kind: e.kind, summary: e.summary, actor: e.actor, source: 'incident', versions: versionsOf(details), details });
    }
    const d = i.deployment;
    const audit = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('at', '>=', from)
      .where('at', '<=', until)
      .where((eb) => eb.or([eb('target', '=', 'releases'), ...(d !== null ? [eb('target', '=', `deployment/${d}`), eb('target', 'like', 'slo/%')] : [])]))
      .orderBy('seq')
      .limit(TIMELINE_LIMIT)
      .execute();
    for (const a of audit) {
      const details = parseObject(a.details);
      // SLO changes name their deployment in the details; that also finds SLOs deleted since.
      if (a.target.startsWith('slo/') && details.deployment !== d) continue;
      out.push({ at: a.at, kind: a.action, summary: auditSummary(a.action, a.target, details), actor: a.actor, source: 'audit', versions: versionsOf(details), details: { ...details, target: a.target, seq: a.seq } });
    }
    if (d !== null) {
      const traffic = await db.selectFrom('traffic_ledger').selectAll().where('deployment', '=', d).where('at', '>=', from).where('at', '<=', until).orderBy('id').limit(TIMELINE_LIMIT).execute();
      for (const t of traffic) {
        const served = (parseObject(t.weights).served ?? {}) as Record<string, number>;
        const split = Object.entries(served).map(([v, w]) => `v${v} ${w}%`).join(', ') || 'no traffic';
        out.push({
          at: t.at,
          kind: `traffic.${t.action}`,
          summary: `traffic ${t.action}: ${split}${t.reason ? ` (${t.reason})` : ''}`,
          actor: t.actor,
          source: 'traffic',
          versions: Object.keys(served).map(Number).filter(Number.isInteger),
          details: { served, rollout: t.rollout_id, reason: t.reason },
        });
      }
    }
    let aq = db.selectFrom('alerts').selectAll().where((eb) => eb.or([eb.and([eb('opened_at', '>=', from), eb('opened_at', '<=', until)]), eb.and([eb('resolved_at', '>=', from), eb('resolved_at', '<=', until)])]));
    aq = d === null ? aq.where('deployment', 'is', null) : aq.where('deployment', '=', d);
    for (const a of await aq.orderBy('id').limit(TIMELINE_LIMIT).execute()) {
      // Alerts of this incident are in its own events already.
      if (a.incident_id === i.id) continue;
      const versions = a.version === null ? [] : [a.version];
      const details = { alertId: a.id, source: a.source, severity: a.severity, version: a.version, incident: a.incident_id };
      if (a.opened_at >= from && a.opened_at <= until) out.push({ at: a.opened_at, kind: 'alert', summary: `${a.severity} ${a.source}: ${a.summary}`, actor: 'system:alerts', source: 'alert', versions, details });
      if (a.resolved_at !== null && a.resolved_at >= from && a.resolved_at <= until) out.push({ at: a.resolved_at, kind: 'alert.resolved', summary: `${a.severity} ${a.source} resolved: ${a.summary}`, actor: 'system:alerts', source: 'alert', versions, details });
    }
    const order = { audit: 0, traffic: 1, alert: 2, incident: 3 } as const;
    return out.map((e, n) => ({ e, n })).sort((x, y) => (x.e.at < y.e.at ? -1 : x.e.at > y.e.at ? 1 : order[x.e.source] - order[y.e.source] || x.n - y.n)).map((x) => x.e);
  }

  /** Per SLO of the deployment: the SLI between opening and `until`, and the share of the error budget that spent. */
  async function sloImpact(i: IncidentRow, until: string): Promise<SloImpact[] | null> {
    if (!deps.slos) return null;
    if (i.deployment === null) return [];
    const specs = (await deps.slos.list(SYSTEM)).filter((s) => s.deployment === i.deployment).map((s) => s.spec);
    if (specs.length === 0) return [];
    const startMinute = Math.floor(Date.parse(i.opened_at) / 60_000) * 60_000;
    const counters = await db
      .selectFrom('sli_counters')
      .select(['bucket', 'total', 'errors', 'degraded', 'latency'])
      .where('deployment', '=', i.deployment)
      .where('bucket', '>=', new Date(startMinute).toISOString())
      .where('bucket', '<=', until)
      .execute();
    const statuses = new Map<string, SloStatus>();
    for (const spec of specs) {
      const [s] = await deps.slos.status(SYSTEM, spec.name);
      if (s) statuses.set(spec.name, s);
    }
    return specs.map((spec) => {
      const notes: string[] = [];
      const span = spanCounts(spec, counters);
      if (span === null) notes.push(`${spec.sli.type} SLIs are not computed from the store; see the Prometheus rules (\`modelgate slo rules\`)`);
      const budget = statuses.get(spec.name)?.budget ?? null;
      const allowedBad = budget ? budget.errorBudget * budget.total : null;
      const consumed = span !== null && allowedBad !== null && allowedBad > 0 ? span.bad / allowedBad : span !== null && span.bad === 0 ? 0 : null;
      if (span !== null && allowedBad === 0 && span.bad > 0) notes.push('the SLO window holds no traffic now, so the share of the budget spent cannot be computed');
      return { name: spec.name, sli: spec.sli.type, objective: spec.objective, window: spec.window, span, allowedBad, consumed, remaining: budget ? budget.remaining : null, notes };
    });
  }

  async function postmortemOf(i: IncidentRow, at: string, timeline: TimelineEntry[]): Promise<string> {
    return renderPostmortem({ incident: facts(i), timeline, slos: await sloImpact(i, i.resolved_at ?? at), generatedAt: at });
  }

  return {
    /**
     * A paging alert (SEV1, SEV2) opens an incident for its deployment or joins the one open; lower severities
     * do nothing (null). Call it after the alert's own transaction has committed. Calling it again for an
     * alert already in the incident changes nothing unless its severity rose.
     */
    async onAlert(alert: AlertInfo): Promise<number | null> {
      if (!pages(alert.severity)) return null;
      return db.transaction().execute(async (trx) => {
        await lockDeployment(trx, alert.deployment);
        const at = isoNow();
        const row = await trx.selectFrom('alerts').select(['incident_id']).where('id', '=', alert.id).executeTakeFirst();
        // The alerts row is authoritative; the AlertInfo's incidentId only when the row is not stored.
        const linkedId = row ? row.incident_id : alert.incidentId;
        let incident = linkedId !== null ? ((await trx.selectFrom('incidents').selectAll().where('id', '=', linkedId).where('status', '!=', 'resolved').executeTakeFirst()) as IncidentRow | undefined) : undefined;
        const alreadyIn = incident !== undefined;
        incident ??= await openIncidentOf(trx, alert.deployment);
        if (!incident) {
          const title = clip(alert.deployment !== null ? `${alert.deployment}: ${alert.summary}` : alert.summary, 200);
          const created = await trx
            .insertInto('incidents')
            .values({ deployment: alert.deployment, severity: alert.severity, status: 'open', title, opened_at: at, acked_at: null, acked_by: null, resolved_at: null, resolved_by: null, resolution: null, postmortem: null })
            .returning('id')
            .executeTakeFirstOrThrow();
          incident = { id: created.id, deployment: alert.deployment, severity: alert.severity, status: 'open', title, opened_at: at, acked_at: null, acked_by: null, resolved_at: null, resolved_by: null, resolution: null, postmortem: null };
          await appendAudit(trx, { actor: SYSTEM.actor, action: 'incident.open', target: `incident/${created.id}`, details: { deployment: alert.deployment, severity: alert.severity, alert: alert.id, title } }, at);
        } else if (rank(alert.severity) < rank(incident.severity)) {
          await trx.updateTable('incidents').set({ severity: alert.severity }).where('id', '=', incident.id).execute();
        }
        const eventDetails = { alertId: alert.id, source: alert.source, severity: alert.severity, version: alert.version, fingerprint: alert.fingerprint };
        if (!alreadyIn) {
          await trx.updateTable('alerts').set({ incident_id: incident.id }).where('id', '=', alert.id).execute();
          await addEvent(trx, incident.id, at, { kind: 'alert', summary: `${alert.severity} ${alert.source}: ${alert.summary}`, details: eventDetails, actor: 'system:alerts' });
        } else {
          // Already in: only a rise in severity is news.
          const seen = await trx.selectFrom('incident_events').select(['details']).where('incident_id', '=', incident.id).where('kind', '=', 'alert').execute();
          const highest = seen.map((s) => parseObject(s.details)).filter((dt) => dt.alertId === alert.id).map((dt) => rank(dt.severity as AlertSeverity)).filter((r) => r >= 0);
          if (highest.length > 0 && rank(alert.severity) < Math.min(...highest)) {
            await addEvent(trx, incident.id, at, { kind: 'alert', summary: `${alert.severity} ${alert.source} (severity raised): ${alert.summary}`, details: eventDetails, actor: 'system:alerts' });
          }
        }
        return incident.id;
      });
    },

    /** Adds an 'alert.resolved' event to the alert's incident; null when it is in none. */
    async onAlertResolved(alert: AlertInfo): Promise<number | null> {
      const row = await db.selectFrom('alerts').select(['incident_id']).where('id', '=', alert.id).executeTakeFirst();
      const id = row?.incident_id ?? alert.incidentId;
      if (id === null) return null;
      return db.transaction().execute(async (trx) => {
        const incident = await trx.selectFrom('incidents').select(['id']).where('id', '=', id).executeTakeFirst();
        if (!incident) return null;
        await addEvent(trx, id, alert.resolvedAt ?? isoNow(), { kind: 'alert.resolved', summary: `${alert.severity} ${alert.source} resolved: ${alert.summary}`, details: { alertId: alert.id, source: alert.source, severity: alert.severity, version: alert.version }, actor: 'system:alerts' });
        return id;
      });
    },

    /**
     * Records an automatic action (rollback, fallback, freeze, …) on an incident that is not resolved: the one
     * given, or the open incident of a deployment. Returns its id, or null when there is none (a no-op).
     */
    async record(target: number | { deployment: string | null }, event: IncidentEventInput): Promise<number | null> {
      if (!KIND_RE.test(event.kind)) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `An incident event kind is a lower-case word such as rollback or fallback, got "${event.kind}".`);
      return db.transaction().execute(async (trx) => {
        let incident: { id: number } | undefined;
        if (typeof target === 'number') incident = await trx.selectFrom('incidents').select(['id']).where('id', '=', target).where('status', '!=', 'resolved').executeTakeFirst();
        else {
          await lockDeployment(trx, target.deployment);
          incident = await openIncidentOf(trx, target.deployment);
        }
        if (!incident) return null;
        await addEvent(trx, incident.id, isoNow(), event);
        return incident.id;
      });
    },

    async list(principal: Principal, q: IncidentListQuery = {}): Promise<IncidentInfo[]> {
      requireRole(principal, 'viewer');
      const limit = q.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `limit must be 1 to 500, got ${limit}.`);
      const status = q.status ?? 'open';
      if (!['open', 'all', 'resolved'].includes(status)) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `status must be open, resolved or all, got "${status}".`);
      let query = db.selectFrom('incidents').selectAll();
      if (status === 'open') query = query.where('status', 'in', ['open', 'acknowledged']);
      else if (status === 'resolved') query = query.where('status', '=', 'resolved');
      if (q.deployment !== undefined) query = query.where('deployment', '=', q.deployment);
      if (principal.modelPatterns.length > 0) {
        const models = await deploymentModels();
        const names = [...models.keys()].filter((n) => visible(principal, models, n));
        if (names.length === 0) return [];
        query = query.where('deployment', 'in', names);
      }
      const rows = (await query.orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(limit).execute()) as IncidentRow[];
      const counts = await alertCounts(rows.map((r) => r.id));
      return rows.map((r) => ({ ...facts(r), alertCount: counts.get(r.id) ?? 0 }));
    },

    /** The incident, its alerts and its timeline (until resolution, or now). */
    async get(principal: Principal, id: number): Promise<IncidentDetail> {
      requireRole(principal, 'viewer');
      const row = await load(principal, id);
      const alerts = await db.selectFrom('alerts').selectAll().where('incident_id', '=', row.id).orderBy('id').execute();
      return {
        ...facts(row),
        alertCount: alerts.length,
        alerts: alerts.map((a) => ({ id: a.id, source: a.source, severity: a.severity, version: a.version, summary: a.summary, status: a.status, openedAt: a.opened_at, resolvedAt: a.resolved_at })),
        timeline: await timelineOf(row, row.resolved_at ?? isoNow()),
        postmortem: row.postmortem,
      };
    },

    /** The postmortem written at resolution; for an incident still open, a draft rendered now. */
    async postmortem(principal: Principal, id: number): Promise<string> {
      requireRole(principal, 'viewer');
      const row = await load(principal, id);
      if (row.postmortem !== null) return row.postmortem;
      const at = isoNow();
      return postmortemOf(row, at, await timelineOf(row, row.resolved_at ?? at));
    },

    async ack(principal: Principal, id: number, note?: string): Promise<IncidentInfo> {
      requireRole(principal, 'operator');
      const row = await load(principal, id);
      const at = isoNow();
      // Read before the transaction: SQLite has one connection, and the transaction holds it.
      const alertCount = (await alertCounts([row.id])).get(row.id) ?? 0;
      return db.transaction().execute(async (trx) => {
        const res = await trx.updateTable('incidents').set({ status: 'acknowledged', acked_at: at, acked_by: principal.actor }).where('id', '=', row.id).where('status', '=', 'open').executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw invalidState((await trx.selectFrom('incidents').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()) as IncidentRow, 'acknowledged');
        await addEvent(trx, row.id, at, { kind: 'ack', summary: `acknowledged${note ? `: ${note}` : ''}`, details: note ? { note } : {}, actor: principal.actor });
        await appendAudit(trx, { actor: principal.actor, action: 'incident.ack', target: `incident/${row.id}`, details: { deployment: row.deployment, note: note ?? null } }, at);
        return { ...facts({ ...row, status: 'acknowledged', acked_at: at, acked_by: principal.actor }), alertCount };
      });
    },

    /** Resolves the incident and writes its postmortem draft (returned with it). The alerts are left to the alert manager. */
    async resolve(principal: Principal, id: number, o: { resolution?: string | undefined } = {}): Promise<IncidentInfo & { postmortem: string }> {
      requireRole(principal, 'operator');
      const row = await load(principal, id);
      if (row.status === 'resolved') throw invalidState(row, 'resolved');
      const at = isoNow();
      const resolution = o.resolution?.trim() ? clip(o.resolution.trim(), 4000) : null;
      const resolved: IncidentRow = { ...row, status: 'resolved', resolved_at: at, resolved_by: principal.actor, resolution };
      const resolveEvent: IncidentEventInput = { kind: 'resolve', summary: `resolved${resolution ? `: ${resolution}` : ''}`, details: resolution ? { resolution } : {}, actor: principal.actor };
      // Written before the transaction (it reads a lot, and SQLite has one connection), then stored with the change.
      const timeline = await timelineOf(resolved, at);
      timeline.push({ at, kind: resolveEvent.kind, summary: resolveEvent.summary, actor: principal.actor, source: 'incident', versions: [], details: resolveEvent.details ?? {} });
      const postmortem = await postmortemOf(resolved, at, timeline);
      const alertCount = (await alertCounts([row.id])).get(row.id) ?? 0;
      return db.transaction().execute(async (trx) => {
        const res = await trx
          .updateTable('incidents')
          .set({ status: 'resolved', resolved_at: at, resolved_by: principal.actor, resolution, postmortem })
          .where('id', '=', row.id)
          .where('status', '!=', 'resolved')
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw invalidState((await trx.selectFrom('incidents').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()) as IncidentRow, 'resolved');
        await addEvent(trx, row.id, at, resolveEvent);
        await appendAudit(trx, { actor: principal.actor, action: 'incident.resolve', target: `incident/${row.id}`, details: { deployment: row.deployment, severity: row.severity, resolution, openedAt: row.opened_at } }, at);
        const current = (await trx.selectFrom('incidents').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()) as IncidentRow;
        return { ...facts(current), alertCount, postmortem };
      });
    },
  };
}

function facts(r: IncidentRow): IncidentFacts {
  return { id: r.id, title: r.title, deployment: r.deployment, severity: r.severity, status: r.status, openedAt: r.opened_at, ackedAt: r.acked_at, ackedBy: r.acked_by, resolvedAt: r.resolved_at, resolvedBy: r.resolved_by, resolution: r.resolution };
}

function invalidState(r: IncidentRow, wanted: 'acknowledged' | 'resolved'): ModelgateError {
  const was = r.status === 'resolved' ? `was resolved at ${r.resolved_at} by ${r.resolved_by}` : `was acknowledged at ${r.acked_at} by ${r.acked_by}`;
  const hint = r.status === 'resolved' ? '' : ' Resolve it with `modelgate incidents resolve`.';
  return new ModelgateError('MG_ERR_INCIDENT_INVALID_STATE', `Incident ${r.id} cannot be ${wanted}: it ${was}.${wanted === 'acknowledged' ? hint : ''}`, { status: r.status });
}

/** The SLI's good/total over the counted minutes, replicas added up; null for SLIs the store does not count. */
export function spanCounts(spec: Pick<SloSpec, 'sli' | 'degradedCountsAsBad'>, counters: readonly { total: number; errors: number; degraded: number; latency: string }[]): SpanCounts | null {
  if (spec.sli.type !== 'availability' && spec.sli.type !== 'latency') return null;
  const latencyIndex = spec.sli.type === 'latency' ? DURATION_BUCKETS.indexOf(latencyBucket(spec.sli.thresholdMs) ?? -1) : -1;
  let total = 0;
  let good = 0;
  for (const c of counters) {
    const t = Number(c.total);
    total += t;
    if (spec.sli.type === 'latency') good += latencyIndex >= 0 ? ((JSON.parse(c.latency) as number[])[latencyIndex] ?? 0) : 0;
    else good += t - Number(c.errors) - (spec.degradedCountsAsBad ? Number(c.degraded) : 0);
  }
  return { total, good, bad: Math.max(0, total - good), sli: total > 0 ? good / total : null };
}

/** Versions named in details: version, fromVersion, toVersion. */
function versionsOf(d: Record<string, unknown>): number[] {
  const out: number[] = [];
  for (const k of ['version', 'fromVersion', 'toVersion']) {
    const v = d[k];
    if (typeof v === 'number' && Number.isInteger(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

function auditSummary(action: string, target: string, d: Record<string, unknown>): string {
  const reason = typeof d.reason === 'string' && d.reason ? `: ${d.reason}` : '';
  const rollout = typeof d.rollout === 'number' ? ` #${d.rollout}` : '';
  const move = typeof d.fromVersion === 'number' && typeof d.toVersion === 'number' ? ` v${d.fromVersion} → v${d.toVersion}` : typeof d.toVersion === 'number' ? ` to v${d.toVersion}` : '';
  switch (action) {
    case 'rollout.start':
      return `rollout${rollout} started${move}${typeof d.strategy === 'string' ? ` (${d.strategy})` : ''}${reason}`;
    case 'release.freeze':
      return `releases frozen${target === 'releases' ? ' everywhere' : ''}${reason}`;
    case 'release.unfreeze':
      return `release freeze lifted${target === 'releases' ? ' everywhere' : ''}`;
    case 'deployment.apply':
      return `deployment applied${typeof d.generation === 'number' ? ` (generation ${d.generation})` : ''}`;
    case 'deployment.create':
      return 'deployment created';
    case 'deployment.delete':
      return 'deployment deleted';
    case 'slo.apply':
      return `SLO ${target.slice(4)} ${typeof d.action === 'string' ? d.action : 'applied'}`;
    case 'slo.delete':
      return `SLO ${target.slice(4)} deleted`;
    default:
      return action.startsWith('rollout.') ? `rollout${rollout} ${action.slice('rollout.'.length)}${move}${reason}` : `${action}${reason}`;
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
