// Alerts from raise to resolve, and their notifications: one open alert per condition (fingerprint), routed to
// the model owner's sinks, held back by silences, escalated when nobody acknowledges it, delivered with
// retries. Every state lives in the store, so replicas sharing PostgreSQL share the alerts and the queue.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireModel, requireRole, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';
import type { AlertDeliveriesTable, AlertsTable, SilencesTable, Tables } from '../store/tables.js';

type AlertRow = Selectable<AlertsTable>;
type DeliveryRow = Selectable<AlertDeliveriesTable>;
type SilenceRow = Selectable<SilencesTable>;
import { fingerprintOf, groupKeyOf, LOG_SINK, severityRank, silenceActive, silenceMatches, sinksFor, type RouteSinks } from './routing.js';
import {
  backoffMs,
  checkAlertingConfig,
  isPermanentStatus,
  isSeverity,
  logFields,
  pagerdutyRequest,
  pagerdutyRoutingKey,
  redactSecrets,
  slackRequest,
  webhookRequest,
  webhookSecret,
  type AlertEvent,
  type NotificationContext,
  type Sink,
  type SinkRequest,
} from './sinks.js';
import { DEFAULT_SEVERITY, SEVERITIES, type AlertDetail, type AlertInfo, type AlertListFilter, type AlertSeverity, type AlertSignal, type AlertSource, type DeliveryInfo, type SilenceInfo, type SilenceInput, type SilenceMatchers } from './types.js';

export interface AlertManagerOptions {
  store: Store;
  config: Readonly<Config>;
  logger: Logger;
  /** The clock (ms since the epoch); tests move it by hand. */
  now?: () => number;
  fetch?: typeof fetch;
  /** Told after each raise has committed (incidents open from it); its errors are logged, never thrown. */
  onRaised?: (alert: AlertInfo, created: boolean) => Promise<void>;
  /** Registers modelgate_alert_notifications_total and modelgate_alerts_open here (or call registerMetrics later). */
  registry?: Registry;
  /** For the retry jitter; tests pin it. */
  random?: () => number;
}

export interface AlertStats {
  delivered: Record<string, number>;
  failed: Record<string, number>;
  retried: Record<string, number>;
  /** Open alerts by severity as of the last pass of the timer (or refreshOpenCounts). */
  open: Record<AlertSeverity, number>;
}

type SilenceScope = { includeExpired?: boolean };
type DeliveryOutcome = 'delivered' | 'retry' | 'failed' | 'skipped';
type SendResult = { ok: true; status: number | null } | { ok: false; status: number | null; error: string; permanent: boolean };

const SYSTEM_ACTOR = 'system:alerting';
const SOURCES = new Set(Object.keys(DEFAULT_SEVERITY));
const MAX_SILENCE_MS = 30 * 86_400_000;
/** Beyond a sink's timeout, how long a claimed delivery stays another replica's before it may be tried again. */
const LEASE_MARGIN_MS = 5000;
/** Notifications sent at once in a pass; one alert's events to one sink always go one after the other. */
const SEND_CONCURRENCY = 8;
const OPEN_STATUSES = ['firing', 'acknowledged'] as const;

export class AlertManager {
  readonly #db: Kysely<Tables>;
  readonly #config: Readonly<Config>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #onRaised: AlertManagerOptions['onRaised'];
  readonly #random: () => number;
  readonly #sinks: Map<string, Sink>;
  readonly #routes: Record<string, RouteSinks>;
  readonly #ackDeadlineMs: Partial<Record<AlertSeverity, number>>;
  readonly #stats = { delivered: {} as Record<string, number>, failed: {} as Record<string, number>, retried: {} as Record<string, number> };
  #open: Record<AlertSeverity, number> = { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 };
  #notifications: Counter<'sink' | 'event' | 'result'> | undefined;
  #delivering: Promise<void> | null = null;
  #pass: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AlertManagerOptions) {
    this.#db = options.store.db;
    this.#config = options.config;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onRaised = options.onRaised;
    this.#random = options.random ?? Math.random;
    const checked = checkAlertingConfig(options.config.alerting);
    this.#sinks = checked.sinks;
    this.#routes = checked.routes;
    this.#ackDeadlineMs = checked.ackDeadlineMs;
    for (const s of this.#sinks.values()) {
      if (s.type === 'webhook' && webhookSecret(s) === undefined) {
        this.#logger.warn({ sink: s.name, secretEnv: s.secretEnv }, s.secretEnv ? `alerting sink ${s.name}: ${s.secretEnv} is not set; its webhooks are sent unsigned` : `alerting sink ${s.name} has no secret; its webhooks are sent unsigned (set secretEnv)`);
      }
      if (s.type === 'pagerduty' && pagerdutyRoutingKey(s) === undefined) {
        this.#logger.warn({ sink: s.name, routingKeyEnv: s.routingKeyEnv }, `alerting sink ${s.name}: ${s.routingKeyEnv} is not set; notifications to it will fail`);
      }
    }
    if (options.registry) this.registerMetrics(options.registry);
  }

  // ── raising and resolving ─────────────────────────────────────────────────

  /** Opens an alert for the signal, or updates the open one with its fingerprint (one more occurrence). */
  async raise(signal: AlertSignal): Promise<{ alert: AlertInfo; created: boolean }> {
    const s = normaliseSignal(signal);
    const fingerprint = fingerprintOf(s);
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.#db.transaction().execute((trx) => this.#raiseIn(trx, s, fingerprint));
        if (r.created && r.alert.suppressedBy) this.#logger.info({ alert: r.alert.id, fingerprint, suppressedBy: r.alert.suppressedBy, summary: r.alert.summary }, 'alert raised; its notifications are held back by a silence');
        if (this.#onRaised) {
          try {
            await this.#onRaised(r.alert, r.created);
          } catch (e) {
            this.#logger.error({ err: e, alert: r.alert.id }, 'alerting: the onRaised handler failed');
          }
        }
        return r;
      } catch (e) {
        // Another replica inserted the same open fingerprint between our read and our insert: it is an update now.
        if (attempt < 3 && isUniqueViolation(e)) continue;
        throw e;
      }
    }
  }

  async #raiseIn(trx: Transaction<Tables>, s: NormalisedSignal, fingerprint: string): Promise<{ alert: AlertInfo; created: boolean }> {
    const at = this.#iso();
    const existing = await trx.selectFrom('alerts').selectAll().where('open_fingerprint', '=', fingerprint).executeTakeFirst();
    if (existing) return { alert: await this.#reraise(trx, existing, s, at), created: false };

    const route = await this.#routeOf(trx, s.deployment);
    const silence = await this.#matchingSilence(trx, { deployment: s.deployment, source: s.source, severity: s.severity }, at);
    const deadline = this.#ackDeadlineMs[s.severity];
    const row = {
      fingerprint,
      open_fingerprint: fingerprint,
      source: s.source,
      severity: s.severity,
      deployment: s.deployment,
      version: s.version,
      group_key: groupKeyOf(s.deployment, s.version),
      summary: s.summary,
      details: JSON.stringify(s.details),
      route,
      status: 'firing' as const,
      suppressed_by: silence ? `silence:${silence.id}` : null,
      occurrences: 1,
      opened_at: at,
      last_seen_at: at,
      resolved_at: null,
      ack_deadline: deadline === undefined ? null : this.#iso(Date.parse(at) + deadline),
      acked_by: null,
      acked_at: null,
      escalated_at: null,
      incident_id: null,
    };
    const { id } = await trx.insertInto('alerts').values(row).returning('id').executeTakeFirstOrThrow();
    if (!silence) await this.#enqueue(trx, id, sinksFor(this.#routes[route], 'trigger', s.severity), 'trigger', at);
    await appendAudit(trx, { actor: SYSTEM_ACTOR, action: 'alert.raise', target: `alert/${id}`, details: { fingerprint, source: s.source, severity: s.severity, deployment: s.deployment, version: s.version, route, suppressedBy: row.suppressed_by } }, at);
    return { alert: toAlertInfo({ ...row, id }), created: true };
  }

  /**
   * The condition seen again. A higher severity is taken and notified again (a SEV3 ticket that became a
   * SEV1 pages); an alert held back by a silence that has since ended is notified now.
   */
  async #reraise(trx: Transaction<Tables>, row: AlertRow, s: NormalisedSignal, at: string): Promise<AlertInfo> {
    await trx
      .updateTable('alerts')
      .set((eb) => ({ occurrences: eb('occurrences', '+', 1), last_seen_at: at, summary: s.summary, details: JSON.stringify(s.details) }))
      .where('id', '=', row.id)
      .execute();
    const higher = severityRank(s.severity) < severityRank(row.severity);
    const severity = higher ? s.severity : row.severity;
    const silence = await this.#matchingSilence(trx, { deployment: row.deployment, source: row.source, severity }, at);
    let notify = false;
    if (higher) {
      const deadline = this.#ackDeadlineMs[severity];
      const sooner = deadline === undefined ? row.ack_deadline : this.#iso(Date.parse(at) + deadline);
      const ackDeadline = row.ack_deadline !== null && sooner !== null && row.ack_deadline < sooner ? row.ack_deadline : sooner;
      // Conditional on the severity read: of two replicas raising it at once, one notifies.
      const r = await trx.updateTable('alerts').set({ severity, ack_deadline: ackDeadline }).where('id', '=', row.id).where('severity', '=', row.severity).executeTakeFirst();
      notify = Number(r.numUpdatedRows) === 1 && row.suppressed_by === null && !silence;
    }
    const suppressedBy = silence ? `silence:${silence.id}` : null;
    if (row.suppressed_by !== null && row.suppressed_by !== suppressedBy) {
      const r = await trx.updateTable('alerts').set({ suppressed_by: suppressedBy }).where('id', '=', row.id).where('suppressed_by', '=', row.suppressed_by).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1 && suppressedBy === null) notify = true;
    }
    if (notify) await this.#enqueue(trx, row.id, sinksFor(this.#routes[row.route], 'trigger', severity), 'trigger', at);
    return toAlertInfo(await trx.selectFrom('alerts').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow());
  }

  /** Resolves the open alert with this fingerprint (or the signal's); null when none is open. */
  async resolve(fingerprintOrSignal: string | AlertSignal): Promise<AlertInfo | null> {
    const fingerprint = typeof fingerprintOrSignal === 'string' ? fingerprintOrSignal : fingerprintOf(normaliseSignal(fingerprintOrSignal));
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('alerts').selectAll().where('open_fingerprint', '=', fingerprint).executeTakeFirst();
      if (!row) return null;
      const at = this.#iso();
      const r = await trx.updateTable('alerts').set({ status: 'resolved', resolved_at: at, open_fingerprint: null }).where('id', '=', row.id).where('open_fingerprint', '=', fingerprint).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return null;
      // Only the sinks that were told it fired hear that it is over (none, when a silence held it back).
      await this.#enqueue(trx, row.id, await this.#notifiedSinks(trx, row.id), 'resolve', at);
      await appendAudit(trx, { actor: SYSTEM_ACTOR, action: 'alert.resolve', target: `alert/${row.id}`, details: { fingerprint, severity: row.severity, deployment: row.deployment, occurrences: row.occurrences } }, at);
      return toAlertInfo({ ...row, status: 'resolved', resolved_at: at, open_fingerprint: null });
    });
  }

  /**
   * What a periodic evaluator calls: every signal in `active` is raised, and every open alert in scope
   * (those sources, and that deployment when given) whose condition is no longer among them is resolved.
   */
  async sync(scope: { sources: AlertSource[]; deployment?: string }, active: AlertSignal[]): Promise<{ raised: AlertInfo[]; resolved: AlertInfo[] }> {
    for (const s of active) {
      if (!scope.sources.includes(s.source) || (scope.deployment !== undefined && s.deployment !== scope.deployment)) {
        throw new ModelgateError('MG_ERR_ALERT_INVALID', `sync: the signal ${s.source} for ${s.deployment ?? 'no deployment'} is outside the scope (${scope.sources.join(', ')}${scope.deployment !== undefined ? ` of ${scope.deployment}` : ''}).`);
      }
    }
    const raised: AlertInfo[] = [];
    const seen = new Set<string>();
    for (const s of active) {
      const { alert } = await this.raise(s);
      raised.push(alert);
      seen.add(alert.fingerprint);
    }
    const resolved: AlertInfo[] = [];
    if (scope.sources.length === 0) return { raised, resolved };
    let q = this.#db.selectFrom('alerts').select(['open_fingerprint']).where('open_fingerprint', 'is not', null).where('source', 'in', scope.sources);
    if (scope.deployment !== undefined) q = q.where('deployment', '=', scope.deployment);
    for (const r of await q.execute()) {
      if (r.open_fingerprint === null || seen.has(r.open_fingerprint)) continue;
      const a = await this.resolve(r.open_fingerprint);
      if (a) resolved.push(a);
    }
    return { raised, resolved };
  }

  // ── people ────────────────────────────────────────────────────────────────

  /** Someone is on it: stops the escalation and tells the sinks that were notified (PagerDuty acknowledge). */
  async ack(principal: Principal, id: number, note?: string): Promise<AlertInfo> {
    requireRole(principal, 'operator');
    if (note !== undefined && note.length > 1000) throw new ModelgateError('MG_ERR_ALERT_INVALID', 'The note is longer than 1000 characters.');
    const models = await this.#deploymentModels();
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || !visible(principal, models, row.deployment)) throw notFound(id);
      if (row.status === 'resolved') throw new ModelgateError('MG_ERR_ALERT_INVALID_STATE', `Alert ${id} was resolved at ${row.resolved_at}; only an open alert can be acknowledged.`);
      if (row.status === 'acknowledged') return toAlertInfo(row);
      const at = this.#iso();
      const r = await trx.updateTable('alerts').set({ status: 'acknowledged', acked_by: principal.actor, acked_at: at }).where('id', '=', id).where('status', '=', 'firing').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return toAlertInfo(await trx.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
      await this.#enqueue(trx, id, await this.#notifiedSinks(trx, id), 'acknowledge', at);
      await appendAudit(trx, { actor: principal.actor, action: 'alert.ack', target: `alert/${id}`, details: { fingerprint: row.fingerprint, severity: row.severity, deployment: row.deployment, ...(note ? { note } : {}) } }, at);
      return toAlertInfo({ ...row, status: 'acknowledged', acked_by: principal.actor, acked_at: at });
    });
  }

  async list(principal: Principal, filter: AlertListFilter = {}): Promise<AlertInfo[]> {
    requireRole(principal, 'viewer');
    const status = filter.status ?? 'open';
    if (!['open', 'all', 'firing', 'acknowledged', 'resolved'].includes(status)) throw new ModelgateError('MG_ERR_ALERT_INVALID', `status must be open, all, firing, acknowledged or resolved, got "${status}".`);
    if (filter.severity !== undefined && !isSeverity(filter.severity)) throw new ModelgateError('MG_ERR_ALERT_INVALID', `severity must be one of ${SEVERITIES.join(', ')}, got "${filter.severity}".`);
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ModelgateError('MG_ERR_ALERT_INVALID', `limit must be 1 to 1000, got ${limit}.`);
    let q = this.#db.selectFrom('alerts').selectAll();
    if (status === 'open') q = q.where('status', 'in', OPEN_STATUSES);
    else if (status !== 'all') q = q.where('status', '=', status);
    if (filter.deployment !== undefined) q = q.where('deployment', '=', filter.deployment);
    if (filter.severity !== undefined) q = q.where('severity', '=', filter.severity);
    if (principal.modelPatterns.length > 0) {
      // Narrowed in SQL so that the limit counts only what the key may see.
      const models = await this.#deploymentModels();
      const deployments = [...models.keys()].filter((d) => visible(principal, models, d));
      if (deployments.length === 0) return [];
      q = q.where('deployment', 'in', deployments);
    }
    return (await q.orderBy('id', 'desc').limit(limit).execute()).map(toAlertInfo);
  }

  async get(principal: Principal, id: number): Promise<AlertDetail> {
    requireRole(principal, 'viewer');
    const row = await this.#db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !visible(principal, await this.#deploymentModels(), row.deployment)) throw notFound(id);
    const deliveries = await this.#db.selectFrom('alert_deliveries').selectAll().where('alert_id', '=', id).orderBy('id').execute();
    return { ...toAlertInfo(row), deliveries: deliveries.map(toDeliveryInfo) };
  }

  // ── silences and maintenance windows ──────────────────────────────────────

  async silence(principal: Principal, input: SilenceInput): Promise<SilenceInfo> {
    requireRole(principal, 'operator');
    const kind = input.kind ?? 'silence';
    if (kind !== 'silence' && kind !== 'maintenance') throw silenceInvalid(`kind must be silence or maintenance, got "${String(kind)}".`);
    const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
    if (reason === '') throw silenceInvalid('Give a reason (--reason): the people paged later read it.');
    if (reason.length > 1000) throw silenceInvalid('The reason is longer than 1000 characters.');
    const matchers = checkMatchers(input.matchers ?? {});
    const hasMatcher = Object.keys(matchers).length > 0;
    if (!hasMatcher && !input.all) throw silenceInvalid('Give at least one matcher (deployment, source or severity), or all: true (--all) to silence every alert.');
    if (hasMatcher && input.all) throw silenceInvalid('all: true silences every alert; drop the matchers, or drop all.');
    if (principal.modelPatterns.length > 0) {
      // A key limited to some models may silence only their deployments, never everyone's alerts.
      if (matchers.deployment === undefined) throw new ModelgateError('MG_ERR_AUTH_MODEL_OUT_OF_SCOPE', `This key is limited to models matching ${principal.modelPatterns.join(', ')}; a silence it creates must name one of their deployments.`);
      const model = (await this.#deploymentModels()).get(matchers.deployment);
      if (model === undefined) throw silenceInvalid(`No deployment is named "${matchers.deployment}".`);
      requireModel(principal, model);
    }
    const now = this.#now();
    const startsAt = input.startsAt === undefined ? now : parseTime(input.startsAt, 'startsAt');
    if ((input.durationMs === undefined) === (input.endsAt === undefined)) throw silenceInvalid('Give exactly one of a duration (--for 2h) or an end time (endsAt).');
    if (input.durationMs !== undefined && (!Number.isFinite(input.durationMs) || input.durationMs <= 0)) throw silenceInvalid(`The duration must be positive, got ${input.durationMs} ms.`);
    const endsAt = input.endsAt !== undefined ? parseTime(input.endsAt, 'endsAt') : startsAt + input.durationMs!;
    if (endsAt <= startsAt) throw silenceInvalid('The end must be after the start.');
    if (endsAt <= now) throw silenceInvalid(`It would end at ${this.#iso(endsAt)}, which has passed.`);
    if (endsAt - startsAt > MAX_SILENCE_MS) throw silenceInvalid('A silence or maintenance window lasts at most 30 days; create another one when it ends.');
    if (kind === 'silence' && startsAt > now) throw silenceInvalid('A silence starts now; schedule one for later as a maintenance window (kind maintenance, --maintenance).');
    const at = this.#iso(now);
    const row = { kind, matchers: JSON.stringify(matchers), reason, created_by: principal.actor, created_at: at, starts_at: this.#iso(startsAt), ends_at: this.#iso(endsAt) };
    return this.#db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('silences').values(row).returning('id').executeTakeFirstOrThrow();
      await appendAudit(trx, { actor: principal.actor, action: 'alert.silence', target: `silence/${id}`, details: { kind, matchers, reason, startsAt: row.starts_at, endsAt: row.ends_at } }, at);
      return toSilenceInfo({ ...row, id }, at);
    });
  }

  /** Active and scheduled silences (and ended ones with includeExpired), newest first. */
  async listSilences(principal: Principal, scope: SilenceScope = {}): Promise<SilenceInfo[]> {
    requireRole(principal, 'viewer');
    const at = this.#iso();
    let q = this.#db.selectFrom('silences').selectAll();
    if (!scope.includeExpired) q = q.where('ends_at', '>', at);
    const rows = await q.orderBy('id', 'desc').limit(1000).execute();
    const models = principal.modelPatterns.length > 0 ? await this.#deploymentModels() : new Map<string, string>();
    return rows.map((r) => toSilenceInfo(r, at)).filter((s) => s.matchers.deployment === undefined || visible(principal, models, s.matchers.deployment));
  }

  /** Ends a silence now (or cancels a scheduled maintenance window). */
  async expireSilence(principal: Principal, id: number): Promise<SilenceInfo> {
    requireRole(principal, 'operator');
    const models = principal.modelPatterns.length > 0 ? await this.#deploymentModels() : new Map<string, string>();
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
      const matchers = row ? (JSON.parse(row.matchers) as SilenceMatchers) : undefined;
      if (!row || (principal.modelPatterns.length > 0 && (matchers?.deployment === undefined || !visible(principal, models, matchers.deployment)))) {
        throw new ModelgateError('MG_ERR_SILENCE_NOT_FOUND', `No silence has id ${id}. List them with \`modelgate alerts silences --all\`.`);
      }
      const at = this.#iso();
      if (row.ends_at <= at) throw silenceInvalid(`Silence ${id} already ended at ${row.ends_at}.`);
      const startsAt = row.starts_at < at ? row.starts_at : at;
      await trx.updateTable('silences').set({ ends_at: at, starts_at: startsAt }).where('id', '=', id).execute();
      await appendAudit(trx, { actor: principal.actor, action: 'alert.silence.expire', target: `silence/${id}`, details: { kind: row.kind, matchers, endedEarly: row.ends_at, wasScheduled: row.starts_at > at } }, at);
      return toSilenceInfo({ ...row, starts_at: startsAt, ends_at: at }, at);
    });
  }

  // ── escalation and delivery ───────────────────────────────────────────────

  /** Firing alerts past their acknowledgement deadline go to their route's escalate sinks, once. */
  async escalate(): Promise<void> {
    const at = this.#iso();
    const due = await this.#db
      .selectFrom('alerts')
      .selectAll()
      .where('status', '=', 'firing')
      .where('escalated_at', 'is', null)
      .where('suppressed_by', 'is', null)
      .where('ack_deadline', 'is not', null)
      .where('ack_deadline', '<=', at)
      .orderBy('id')
      .limit(500)
      .execute();
    for (const row of due) {
      await this.#db.transaction().execute(async (trx) => {
        // Conditional, so that of two replicas escalating at once only one notifies.
        const r = await trx.updateTable('alerts').set({ escalated_at: at }).where('id', '=', row.id).where('escalated_at', 'is', null).where('status', '=', 'firing').executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return;
        const sinks = sinksFor(this.#routes[row.route], 'escalate', row.severity);
        await this.#enqueue(trx, row.id, sinks, 'escalate', at);
        await appendAudit(trx, { actor: SYSTEM_ACTOR, action: 'alert.escalate', target: `alert/${row.id}`, details: { fingerprint: row.fingerprint, severity: row.severity, deployment: row.deployment, ackDeadline: row.ack_deadline, route: row.route, sinks } }, at);
      });
    }
  }

  /** Sends the notifications that are due. Calls made while a pass runs share it. */
  deliver(): Promise<void> {
    this.#delivering ??= this.#deliverPass().finally(() => {
      this.#delivering = null;
    });
    return this.#delivering;
  }

  async #deliverPass(): Promise<void> {
    // Each round sends the oldest pending notification of each (alert, sink): a resolve never overtakes
    // the trigger it answers. A round that settles one lets the next one of the same pair go.
    for (let round = 0; round < 20; round++) {
      const due = await this.#db.selectFrom('alert_deliveries').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', this.#iso()).orderBy('id').limit(200).execute();
      if (due.length === 0) return;
      const alertIds = [...new Set(due.map((d) => d.alert_id))];
      const heads = await this.#db
        .selectFrom('alert_deliveries')
        .select((eb) => ['alert_id', 'sink', eb.fn.min('id').as('first')])
        .where('status', '=', 'pending')
        .where('alert_id', 'in', alertIds)
        .groupBy(['alert_id', 'sink'])
        .execute();
      const first = new Map(heads.map((h) => [`${h.alert_id}/${h.sink}`, Number(h.first)]));
      const eligible = due.filter((d) => first.get(`${d.alert_id}/${d.sink}`) === d.id);
      if (eligible.length === 0) return;
      const alerts = new Map((await this.#db.selectFrom('alerts').selectAll().where('id', 'in', alertIds).execute()).map((a) => [a.id, toAlertInfo(a)]));
      const outcomes = await mapLimit(eligible, SEND_CONCURRENCY, (d) => this.#deliverOne(d, alerts.get(d.alert_id)));
      if (!outcomes.some((o) => o === 'delivered' || o === 'failed')) return;
    }
  }

  async #deliverOne(d: DeliveryRow, alert: AlertInfo | undefined): Promise<DeliveryOutcome> {
    const sink = this.#sinks.get(d.sink);
    const claimedAt = this.#now();
    const lease = this.#iso(claimedAt + (sink?.timeoutMs ?? 5000) + LEASE_MARGIN_MS);
    // The claim: only the replica whose update finds the row as it read it sends it.
    const claim = await this.#db
      .updateTable('alert_deliveries')
      .set((eb) => ({ next_attempt_at: lease, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', d.id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', d.next_attempt_at)
      .executeTakeFirst();
    if (Number(claim.numUpdatedRows) !== 1) return 'skipped';
    const attempts = d.attempts + 1;
    const event = d.event as AlertEvent;
    let result: SendResult;
    if (!sink) result = { ok: false, status: null, error: `the sink "${d.sink}" is no longer in the configuration`, permanent: true };
    else if (!alert) result = { ok: false, status: null, error: `alert ${d.alert_id} does not exist`, permanent: true };
    else result = await this.#send(sink, alert, { event, deliveryId: d.id, sentAt: claimedAt });
    const at = this.#iso();
    // Settled only while the claim holds: a row another replica took over after the lease is left to it.
    const settle = (values: Partial<Pick<DeliveryRow, 'status' | 'delivered_at' | 'response_status' | 'last_error' | 'next_attempt_at'>>) =>
      this.#db.updateTable('alert_deliveries').set(values).where('id', '=', d.id).where('status', '=', 'pending').where('next_attempt_at', '=', lease).execute();
    if (result.ok) {
      await settle({ status: 'delivered', delivered_at: at, response_status: result.status });
      this.#count('delivered', d.sink, event);
      return 'delivered';
    }
    const error = result.error.slice(0, 300);
    if (result.permanent || attempts >= this.#config.alerting.retry.maxAttempts) {
      await settle({ status: 'failed', last_error: error, response_status: result.status });
      this.#count('failed', d.sink, event);
      this.#logger.warn({ sink: d.sink, event, alert: d.alert_id, delivery: d.id, attempts, error }, `alert notification to ${d.sink} failed; giving up after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
      return 'failed';
    }
    const next = this.#iso(this.#now() + backoffMs(attempts, this.#config.alerting.retry, this.#random));
    await settle({ next_attempt_at: next, last_error: error, response_status: result.status });
    this.#count('retried', d.sink, event);
    return 'retry';
  }

  async #send(sink: Sink, alert: AlertInfo, n: NotificationContext): Promise<SendResult> {
    if (sink.type === 'log') {
      this.#logger.info({ sink: sink.name, ...logFields(alert, n) }, `alert ${n.event}: [${alert.severity}] ${alert.summary}`);
      return { ok: true, status: null };
    }
    let req: SinkRequest;
    const secrets: (string | undefined)[] = [];
    if (sink.type === 'pagerduty') {
      const key = pagerdutyRoutingKey(sink);
      if (key === undefined) return { ok: false, status: null, error: `the routing key variable ${sink.routingKeyEnv} is not set`, permanent: true };
      secrets.push(key);
      req = pagerdutyRequest(sink.url, key, alert, n);
    } else if (sink.type === 'slack') {
      req = slackRequest(sink.url!, alert, n);
    } else {
      const secret = webhookSecret(sink);
      secrets.push(secret);
      req = webhookRequest(sink.url!, alert, n, secret);
    }
    const url = new URL(req.url);
    // The URL can be the secret (a Slack webhook's path is its key): messages name only the host.
    secrets.push(req.url, url.pathname.length > 1 ? url.pathname : undefined, url.search || undefined);
    try {
      const res = await this.#fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(sink.timeoutMs) });
      const text = await res.text().catch(() => '');
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      return { ok: false, status: res.status, error: redactSecrets(`HTTP ${res.status} from ${url.host}${snippet ? `: ${snippet}` : ''}`, secrets), permanent: isPermanentStatus(res.status) };
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const reason = err.name === 'TimeoutError' ? `no answer within ${sink.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message);
      return { ok: false, status: null, error: redactSecrets(`${reason} (${url.host})`, secrets), permanent: false };
    }
  }

  // ── the timer and the metrics ─────────────────────────────────────────────

  /** One pass of the timer: escalations, then deliveries, then the open-alert counts the gauge reads. */
  async tick(): Promise<void> {
    await this.escalate();
    await this.deliver();
    await this.refreshOpenCounts();
  }

  /** Runs tick() every alerting.deliverMs until stop(). The timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#pass) return;
      this.#pass = this.tick()
        .catch((e: unknown) => this.#logger.warn({ err: e }, 'alerting pass failed; retrying on the next one'))
        .finally(() => {
          this.#pass = null;
        });
    }, this.#config.alerting.deliverMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for the pass in progress, so the store can be closed after it. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
    await this.#delivering?.catch(() => undefined);
  }

  async refreshOpenCounts(): Promise<Record<AlertSeverity, number>> {
    const rows = await this.#db.selectFrom('alerts').select((eb) => ['severity', eb.fn.countAll().as('n')]).where('status', 'in', OPEN_STATUSES).groupBy('severity').execute();
    const open: Record<AlertSeverity, number> = { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 };
    for (const r of rows) if (isSeverity(r.severity)) open[r.severity] = Number(r.n);
    this.#open = open;
    return open;
  }

  stats(): AlertStats {
    return { delivered: { ...this.#stats.delivered }, failed: { ...this.#stats.failed }, retried: { ...this.#stats.retried }, open: { ...this.#open } };
  }

  /**
   * modelgate_alert_notifications_total{sink,event,result} (result: delivered, retry, failed) and
   * modelgate_alerts_open{severity}. The gauge reads the counts of the last pass: a scrape never queries the store.
   */
  registerMetrics(registry: Registry): void {
    this.#notifications = new Counter({ name: 'modelgate_alert_notifications_total', help: 'Alert notifications tried, by sink, event (trigger, acknowledge, resolve, escalate) and result (delivered; retry: failed, tried again later; failed: given up).', labelNames: ['sink', 'event', 'result'], registers: [registry] });
    const open = () => this.#open;
    new Gauge({
      name: 'modelgate_alerts_open',
      help: 'Open (firing or acknowledged) alerts by severity, as of the last alerting pass.',
      labelNames: ['severity'],
      registers: [registry],
      collect() {
        for (const s of SEVERITIES) this.set({ severity: s }, open()[s]);
      },
    });
  }

  #count(kind: 'delivered' | 'failed' | 'retried', sink: string, event: AlertEvent): void {
    this.#stats[kind][sink] = (this.#stats[kind][sink] ?? 0) + 1;
    this.#notifications?.inc({ sink, event, result: kind === 'retried' ? 'retry' : kind });
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  #iso(ms = this.#now()): string {
    return new Date(ms).toISOString();
  }

  /** The model owner's route when the configuration has one for the team, else `default`. */
  async #routeOf(trx: Transaction<Tables>, deployment: string | null): Promise<string> {
    if (deployment === null) return 'default';
    const r = await trx.selectFrom('deployments').innerJoin('models', 'models.name', 'deployments.model').select('models.owner_team').where('deployments.name', '=', deployment).executeTakeFirst();
    return r && Object.hasOwn(this.#routes, r.owner_team) ? r.owner_team : 'default';
  }

  async #matchingSilence(trx: Transaction<Tables>, a: { deployment: string | null; source: string; severity: AlertSeverity }, at: string): Promise<{ id: number } | undefined> {
    const rows = await trx.selectFrom('silences').select(['id', 'matchers', 'starts_at', 'ends_at']).where('starts_at', '<=', at).where('ends_at', '>', at).orderBy('id').execute();
    return rows.find((r) => silenceActive({ startsAt: r.starts_at, endsAt: r.ends_at }, at) && silenceMatches(JSON.parse(r.matchers) as SilenceMatchers, a));
  }

  /** The sinks told that the alert fired (a trigger or an escalation), which hear its acknowledgement and resolution. */
  async #notifiedSinks(trx: Transaction<Tables>, alertId: number): Promise<string[]> {
    const rows = await trx.selectFrom('alert_deliveries').select('sink').distinct().where('alert_id', '=', alertId).where('event', 'in', ['trigger', 'escalate']).execute();
    return rows.map((r) => r.sink).sort((a, b) => (a === LOG_SINK ? 1 : b === LOG_SINK ? -1 : a.localeCompare(b)));
  }

  async #enqueue(trx: Transaction<Tables>, alertId: number, sinks: string[], event: AlertEvent, at: string): Promise<void> {
    if (sinks.length === 0) return;
    await trx
      .insertInto('alert_deliveries')
      .values(sinks.map((sink) => ({ alert_id: alertId, sink, event, status: 'pending' as const, attempts: 0, next_attempt_at: at, last_error: null, response_status: null, created_at: at, delivered_at: null })))
      .execute();
  }

  async #deploymentModels(): Promise<Map<string, string>> {
    const rows = await this.#db.selectFrom('deployments').select(['name', 'model']).execute();
    return new Map(rows.map((r) => [r.name, r.model]));
  }
}

// ── rows and inputs ─────────────────────────────────────────────────────────

interface NormalisedSignal {
  source: AlertSource;
  severity: AlertSeverity;
  deployment: string | null;
  version: number | null;
  key: string;
  summary: string;
  details: Record<string, unknown>;
}

function normaliseSignal(s: AlertSignal): NormalisedSignal {
  if (!SOURCES.has(s.source)) throw new ModelgateError('MG_ERR_ALERT_INVALID', `Unknown alert source "${s.source}"; sources are ${[...SOURCES].join(', ')}.`);
  const severity = s.severity ?? DEFAULT_SEVERITY[s.source];
  if (!isSeverity(severity)) throw new ModelgateError('MG_ERR_ALERT_INVALID', `severity must be one of ${SEVERITIES.join(', ')}, got "${String(severity)}".`);
  if (typeof s.summary !== 'string' || s.summary.trim() === '') throw new ModelgateError('MG_ERR_ALERT_INVALID', 'An alert needs a summary.');
  if (s.version !== null && s.version !== undefined && !Number.isInteger(s.version)) throw new ModelgateError('MG_ERR_ALERT_INVALID', `version must be an integer or null, got ${String(s.version)}.`);
  const details = s.details && typeof s.details === 'object' && !Array.isArray(s.details) ? s.details : {};
  return { source: s.source, severity, deployment: s.deployment ?? null, version: s.version ?? null, key: s.key ?? '', summary: s.summary.trim().slice(0, 2000), details };
}

function checkMatchers(m: SilenceMatchers): SilenceMatchers {
  const out: SilenceMatchers = {};
  for (const k of Object.keys(m)) if (!['deployment', 'source', 'severity'].includes(k)) throw silenceInvalid(`Unknown matcher "${k}"; match on deployment, source or severity.`);
  if (m.deployment !== undefined) {
    if (typeof m.deployment !== 'string' || m.deployment === '' || m.deployment.length > 128) throw silenceInvalid('The deployment matcher must be a deployment name.');
    out.deployment = m.deployment;
  }
  if (m.source !== undefined) {
    if (!SOURCES.has(m.source)) throw silenceInvalid(`Unknown source "${m.source}"; sources are ${[...SOURCES].join(', ')}.`);
    out.source = m.source;
  }
  if (m.severity !== undefined) {
    if (!isSeverity(m.severity)) throw silenceInvalid(`severity must be one of ${SEVERITIES.join(', ')}, got "${m.severity}".`);
    out.severity = m.severity;
  }
  return out;
}

function parseTime(s: string, field: string): number {
  const t = Date.parse(s);
  if (typeof s !== 'string' || Number.isNaN(t)) throw silenceInvalid(`${field} must be an ISO 8601 time such as 2026-01-31T22:00:00Z, got "${s}".`);
  return t;
}

function silenceInvalid(message: string): ModelgateError {
  return new ModelgateError('MG_ERR_SILENCE_INVALID', message);
}

function notFound(id: number): ModelgateError {
  return new ModelgateError('MG_ERR_ALERT_NOT_FOUND', `No alert has id ${id}. List alerts with \`modelgate alerts list --all\`.`);
}

/** A key limited to some models sees the alerts of their deployments; alerts of no deployment only if unlimited. */
function visible(p: Principal, models: Map<string, string>, deployment: string | null): boolean {
  if (p.modelPatterns.length === 0) return true;
  const model = deployment === null ? undefined : models.get(deployment);
  return model !== undefined && canSeeModel(p, model);
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function toAlertInfo(r: AlertRow): AlertInfo {
  return {
    id: Number(r.id),
    fingerprint: r.fingerprint,
    source: r.source as AlertSource,
    severity: r.severity,
    deployment: r.deployment,
    version: r.version === null ? null : Number(r.version),
    groupKey: r.group_key,
    summary: r.summary,
    details: JSON.parse(r.details) as Record<string, unknown>,
    route: r.route,
    status: r.status,
    suppressedBy: r.suppressed_by,
    occurrences: Number(r.occurrences),
    openedAt: r.opened_at,
    lastSeenAt: r.last_seen_at,
    resolvedAt: r.resolved_at,
    ackDeadline: r.ack_deadline,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
    escalatedAt: r.escalated_at,
    incidentId: r.incident_id === null ? null : Number(r.incident_id),
  };
}

function toDeliveryInfo(r: DeliveryRow): DeliveryInfo {
  return {
    id: Number(r.id),
    alertId: Number(r.alert_id),
    sink: r.sink,
    event: r.event as DeliveryInfo['event'],
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    responseStatus: r.response_status === null ? null : Number(r.response_status),
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

function toSilenceInfo(r: SilenceRow, at: string): SilenceInfo {
  return {
    id: Number(r.id),
    kind: r.kind === 'maintenance' ? 'maintenance' : 'silence',
    matchers: JSON.parse(r.matchers) as SilenceMatchers,
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    active: silenceActive({ startsAt: r.starts_at, endsAt: r.ends_at }, at),
  };
}

/** fn over items with at most `limit` running at once; one (alert, sink) pair appears at most once per call. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
