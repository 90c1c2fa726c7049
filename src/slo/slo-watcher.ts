// The SLO watcher: every alerting.evaluateMs it turns SLO status and the other alert sources (rollouts
// rolled back, dataset drift, lost join records) into alerts (raised, kept, resolved), and takes each
// deployment's automatic actions (spec.policy): a page-level burn during a rollout rolls it back; an
// exhausted error budget freezes releases until it recovers; while an SLO pages, traffic goes to the
// fallback chain. Every action is audited (by the service that takes it), and so shows on the timeline of
// the deployment's open incident.
//
// Replicas may all run it: alerts are deduplicated by fingerprint in the store, a freeze or fallback switch
// already in place is left alone, and a rollout transition is revision-checked (a lost race changes nothing).
import type { Logger } from 'pino';
import type { AlertInfo, AlertSignal, AlertSource } from '../alerts/types.js';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import type { Principal } from '../governance/keys.js';
import type { DeploymentRouter } from '../rollout/deployment-router.js';
import { setFallbackSwitch } from '../rollout/deployment-service.js';
import type { RolloutService } from '../rollout/rollout-service.js';
import type { Store } from '../store/database.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';
import type { SloInfo, SloService, SloStatus } from './slo-service.js';

export const SLO_POLICY_ACTOR = 'system:slo-policy';
const SYSTEM: Principal = { actor: SLO_POLICY_ACTOR, keyId: null, role: 'admin', modelPatterns: [] };
const SLO_SOURCES: AlertSource[] = ['slo_fast_burn', 'slo_slow_burn', 'slo_burn_ticket', 'budget_low', 'budget_exhausted', 'threshold_approached'];
/** A rolled-back rollout or a loss of join records stays an open alert this long unless acknowledged and resolved. */
const EVENT_ALERT_MS = 3_600_000;

export interface AlertSyncer {
  raise(signal: AlertSignal): Promise<{ alert: AlertInfo; created: boolean }>;
  resolve(fingerprint: string): Promise<AlertInfo | null>;
  sync(scope: { sources: AlertSource[]; deployment?: string }, active: AlertSignal[]): Promise<{ raised: AlertInfo[]; resolved: AlertInfo[] }>;
}

export interface IncidentLog {
  onAlertResolved(alert: AlertInfo): Promise<unknown>;
}

export type PolicyAction = 'rollback' | 'freeze' | 'unfreeze' | 'fallback_on' | 'fallback_off';

export interface SloWatcherDeps {
  store: Store;
  slos: SloService;
  rollouts: RolloutService;
  router: DeploymentRouter;
  alerts: AlertSyncer;
  incidents?: IncidentLog | undefined;
  logger: Logger;
  evaluateMs: number;
  /** Join records the monitoring recorder lost so far (a counter). */
  lostRecords?: () => number;
  /** Called after a fallback switch it throws, so this process routes it now (a rollback refreshes through the rollout service). */
  onTrafficChange?: () => Promise<void>;
  onAction?: (deployment: string, action: PolicyAction) => void;
  /** Writes this process's SLI counts first, so a pass sees the answers given up to now. */
  flush?: () => Promise<void>;
  /** Thresholds of the sources other than burn rates (config alerting.signals). */
  signals?: Partial<Signals>;
  /** Personal data the monitoring redactors found in requests so far, by detector (counters). */
  redactions?: () => Record<string, number>;
  /**
   * The latest fairness figures of each deployment this process's monitor loop has evaluated (by version and
   * sensitive attribute; an empty list for a deployment evaluated without any). Only those deployments are
   * judged, so a replica that has not evaluated one yet does not resolve another replica's alert.
   */
  fairness?: () => ReadonlyMap<string, FairnessFigure[]>;
}

export interface FairnessFigure {
  version: number;
  attribute: string;
  parityRatio: number | null;
  records: number;
}

export interface Signals {
  windowMs: number;
  minRequests: number;
  errorRate: number;
  latencyMs: number;
  slowShare: number;
  minParityRatio: number;
  minFairnessRecords: number;
  budgetApproached: number;
}

const DEFAULT_SIGNALS: Signals = { windowMs: 300_000, minRequests: 20, errorRate: 0.05, latencyMs: 1000, slowShare: 0.1, minParityRatio: 0.8, minFairnessRecords: 100, budgetApproached: 0.5 };

export interface WatchResult {
  statuses: SloStatus[];
  raised: number;
  resolved: number;
  actions: { deployment: string; action: PolicyAction; detail: string }[];
}

export class SloWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<WatchResult | null> | undefined;
  private stopped = false;
  private lostSeen = 0;
  private readonly signals: Signals;
  private piiSeen: Record<string, number>;

  constructor(private readonly deps: SloWatcherDeps) {
    this.lostSeen = deps.lostRecords?.() ?? 0;
    this.signals = { ...DEFAULT_SIGNALS, ...deps.signals };
    this.piiSeen = { ...deps.redactions?.() };
  }

  start(): void {
    this.timer = setInterval(() => void this.evaluate(), this.deps.evaluateMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; concurrent calls share it. Null when the pass failed (logged; the next one retries). */
  evaluate(): Promise<WatchResult | null> {
    if (this.stopped) return Promise.resolve(null);
    this.running ??= this.pass()
      .catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'SLO evaluation failed; retrying at the next interval');
        return null;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async pass(): Promise<WatchResult> {
    const { slos, alerts } = this.deps;
    await this.deps.flush?.();
    const infos = await slos.list(SYSTEM);
    const statuses = await slos.status(SYSTEM);
    const byName = new Map(infos.map((i) => [i.name, i]));
    let raised = 0;
    let resolved = 0;
    const count = async (r: { raised: AlertInfo[]; resolved: AlertInfo[] }) => {
      raised += r.raised.length;
      resolved += r.resolved.length;
      for (const a of r.resolved) await this.deps.incidents?.onAlertResolved(a).catch((err: unknown) => this.deps.logger.warn({ err, alert: a.id }, 'could not add a resolved alert to its incident'));
    };
    await count(await alerts.sync({ sources: SLO_SOURCES }, statuses.flatMap((st) => this.sloSignals(st, byName.get(st.name)))));
    await count(await alerts.sync({ sources: ['rollout_failed'] }, await this.rolloutSignals()));
    await count(await alerts.sync({ sources: ['drift'] }, await this.driftSignals()));
    // Lost records and personal data are counted in each replica's memory: a replica raises what it saw, and
    // any replica resolves them once an hour has passed without a new occurrence anywhere.
    for (const signal of [...this.lossSignals(), ...this.piiSignals()]) if ((await alerts.raise(signal)).created) raised++;
    await count(await this.expireEvents(['records_lost', 'personal_data_in_log']));
    await count(await alerts.sync({ sources: ['error_rate', 'latency'] }, await this.trafficSignals()));
    for (const [deployment, figures] of this.deps.fairness?.() ?? []) await count(await alerts.sync({ sources: ['fairness_breach'], deployment }, this.fairnessSignals(deployment, figures)));
    const actions: WatchResult['actions'] = [];
    const deployments = new Set(statuses.map((s) => s.deployment));
    for (const d of deployments) {
      try {
        actions.push(...(await this.act(d, statuses.filter((s) => s.deployment === d))));
      } catch (err) {
        this.deps.logger.warn({ err, deployment: d }, 'an automatic SLO action failed; retrying at the next interval');
      }
    }
    // A freeze the budget set is lifted even when its SLO was deleted since.
    for (const f of await this.deps.store.db.selectFrom('release_freezes').select(['scope']).where('source', '=', 'error-budget').execute()) {
      if (!deployments.has(f.scope)) actions.push(...(await this.unfreeze(f.scope, 'its error-budget SLO no longer exists')));
    }
    return { statuses, raised, resolved, actions };
  }

  /** The alerts one SLO's status calls for: the strongest burn per source, and the budget's state. */
  private sloSignals(st: SloStatus, info: SloInfo | undefined): AlertSignal[] {
    if (st.status !== 'ok' || !st.budget || !st.deploymentExists) return [];
    const route = this.deps.router.get(st.deployment);
    const version = route?.stable.version ?? null;
    const canary = route ? [...route.arms.values()].find((a) => a.role === 'canary' && a.weight > 0) : undefined;
    const base = { deployment: st.deployment, version, key: st.name };
    const budget = st.budget;
    const evidence = {
      slo: st.name,
      sli: st.sli,
      objective: st.objective,
      window: st.window,
      budgetRemaining: round(budget.remaining),
      budgetConsumed: round(budget.consumed),
      good: budget.good,
      total: budget.total,
      ...(canary ? { canaryVersion: canary.version, canaryWeight: canary.weight } : {}),
    };
    const out: AlertSignal[] = [];
    const first = info?.spec.alerting.page[0];
    const strongest = new Map<AlertSource, SloStatus['firing'][number]>();
    for (const f of st.firing) {
      const source: AlertSource = f.severity === 'ticket' ? 'slo_burn_ticket' : first && f.long === first.long && f.short === first.short ? 'slo_fast_burn' : 'slo_slow_burn';
      const had = strongest.get(source);
      if (!had || f.shortBurnRate > had.shortBurnRate) strongest.set(source, f);
    }
    for (const [source, f] of strongest) {
      out.push({
        ...base,
        source,
        summary: `${st.name}: ${st.deployment} burns its error budget ${fmt(f.longBurnRate)}x over ${f.long} and ${fmt(f.shortBurnRate)}x over ${f.short} (alerts above ${f.burnRate}x); ${pct(budget.remaining)} of the ${st.window} budget left`,
        details: { ...evidence, long: f.long, short: f.short, threshold: f.burnRate, longBurnRate: round(f.longBurnRate), shortBurnRate: round(f.shortBurnRate) },
      });
    }
    if (budget.total > 0 && budget.remaining <= 0) {
      out.push({ ...base, source: 'budget_exhausted', summary: `${st.name}: the ${st.window} error budget of ${st.deployment} is exhausted (${pct(budget.consumed)} spent)`, details: evidence });
    } else if (st.budgetLow) {
      out.push({ ...base, source: 'budget_low', summary: `${st.name}: ${pct(budget.remaining)} of the ${st.window} error budget of ${st.deployment} is left`, details: evidence });
    } else if (budget.total > 0 && budget.remaining < this.signals.budgetApproached) {
      out.push({ ...base, source: 'threshold_approached', summary: `${st.name}: ${pct(budget.remaining)} of the ${st.window} error budget of ${st.deployment} is left (under ${pct(this.signals.budgetApproached)}; for the weekly review)`, details: evidence });
    }
    return out;
  }

  private async rolloutSignals(): Promise<AlertSignal[]> {
    const since = new Date(Date.now() - EVENT_ALERT_MS).toISOString();
    const rows = await this.deps.store.db.selectFrom('rollouts').select(['id', 'deployment', 'to_version', 'from_version', 'state', 'finished_at']).where('phase', '=', 'RolledBack').where('finished_at', '>=', since).execute();
    return rows.map((r) => {
      const message = (JSON.parse(r.state) as { message?: string | null }).message ?? 'rolled back';
      return { source: 'rollout_failed', deployment: r.deployment, version: r.to_version, key: `rollout:${r.id}`, summary: `rollout #${r.id} of ${r.deployment} to version ${r.to_version} was rolled back: ${message}`, details: { rollout: r.id, fromVersion: r.from_version, toVersion: r.to_version, finishedAt: r.finished_at, message } };
    });
  }

  /** Dataset drift in the newest evaluation of each deployment and version (within the last hour). */
  private async driftSignals(): Promise<AlertSignal[]> {
    const since = new Date(Date.now() - EVENT_ALERT_MS).toISOString();
    const rows = await this.deps.store.db.selectFrom('drift_results').select(['deployment', 'version', 'at', 'dataset_drift', 'drift_share']).where('at', '>=', since).orderBy('at', 'desc').execute();
    const newest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) if (!newest.has(`${r.deployment}@${r.version}`)) newest.set(`${r.deployment}@${r.version}`, r);
    return [...newest.values()]
      .filter((r) => Number(r.dataset_drift) === 1)
      .map((r) => ({ source: 'drift', deployment: r.deployment, version: r.version, summary: `dataset drift on ${r.deployment} version ${r.version}: ${pct(Number(r.drift_share))} of features drifted (evaluated ${r.at})`, details: { at: r.at, driftShare: Number(r.drift_share) } }));
  }

  /** Join records this replica lost since the last pass. */
  private lossSignals(): AlertSignal[] {
    const lost = this.deps.lostRecords?.() ?? 0;
    if (lost <= this.lostSeen) return [];
    const now = lost - this.lostSeen;
    this.lostSeen = lost;
    return [{ source: 'records_lost', deployment: null, version: null, key: 'join-records', summary: `monitoring lost ${now} prediction join record(s) (${lost} since this replica started): labels for them cannot be joined; the store is too slow or unreachable`, details: { lost: now, lostSinceStart: lost, at: new Date().toISOString() } }];
  }

  /** Resolves open alerts of event-like sources not seen again for an hour. */
  private async expireEvents(sources: AlertSource[]): Promise<{ raised: AlertInfo[]; resolved: AlertInfo[] }> {
    const stale = await this.deps.store.db.selectFrom('alerts').select('fingerprint').where('source', 'in', sources).where('open_fingerprint', 'is not', null).where('last_seen_at', '<', new Date(Date.now() - EVENT_ALERT_MS).toISOString()).execute();
    const resolved: AlertInfo[] = [];
    for (const a of stale) {
      const r = await this.deps.alerts.resolve(a.fingerprint);
      if (r) resolved.push(r);
    }
    return { raised: [], resolved };
  }

  /**
   * Personal data the redactors found in requests since the last pass. It never reaches the prediction log
   * (it is redacted first), but it is arriving where the deployment did not declare it: a SEV1 to look at.
   */
  private piiSignals(): AlertSignal[] {
    const now = this.deps.redactions?.() ?? {};
    const found: Record<string, number> = {};
    for (const [k, n] of Object.entries(now)) if (n > (this.piiSeen[k] ?? 0)) found[k] = n - (this.piiSeen[k] ?? 0);
    this.piiSeen = { ...now };
    if (Object.keys(found).length === 0) return [];
    const what = Object.entries(found).map(([k, n]) => `${n} ${k}`).join(', ');
    return [{ source: 'personal_data_in_log', deployment: null, version: null, key: 'prediction-log', summary: `personal data found in requests bound for the prediction log (${what}); it was redacted before storing. Declare the fields in spec.monitoring.redact.fields or stop sending them`, details: { found, at: new Date().toISOString() } }];
  }

  /** Server errors and slow answers of each deployment over the recent window (config alerting.signals). */
  private async trafficSignals(): Promise<AlertSignal[]> {
    const sg = this.signals;
    const rows = await this.deps.store.db.selectFrom('sli_counters').select(['deployment', 'total', 'errors', 'latency']).where('bucket', '>=', new Date(Date.now() - sg.windowMs).toISOString()).execute();
    const bound = DURATION_BUCKETS.findIndex((b) => b * 1000 >= sg.latencyMs - 1e-9);
    const by = new Map<string, { total: number; errors: number; fast: number }>();
    for (const r of rows) {
      const c = by.get(r.deployment) ?? { total: 0, errors: 0, fast: 0 };
      c.total += Number(r.total);
      c.errors += Number(r.errors);
      c.fast += bound >= 0 ? ((JSON.parse(r.latency) as number[])[bound] ?? 0) : Number(r.total);
      by.set(r.deployment, c);
    }
    const out: AlertSignal[] = [];
    const minutes = Math.round(sg.windowMs / 60_000);
    for (const [deployment, c] of by) {
      if (c.total < sg.minRequests) continue;
      const version = this.deps.router.get(deployment)?.stable.version ?? null;
      const rate = c.errors / c.total;
      if (rate > sg.errorRate) out.push({ source: 'error_rate', deployment, version, summary: `${deployment}: ${pct(rate)} of answers in the last ${minutes} min were server errors (alerts above ${pct(sg.errorRate)})`, details: { errors: c.errors, total: c.total, errorRate: round(rate), threshold: sg.errorRate } });
      const slow = (c.total - c.fast) / c.total;
      if (bound >= 0 && slow > sg.slowShare) out.push({ source: 'latency', deployment, version, summary: `${deployment}: ${pct(slow)} of answers in the last ${minutes} min took longer than ${DURATION_BUCKETS[bound]! * 1000} ms (alerts above ${pct(sg.slowShare)})`, details: { slow: c.total - c.fast, total: c.total, thresholdMs: DURATION_BUCKETS[bound]! * 1000 } });
    }
    return out;
  }

  /** Sensitive attributes whose demographic parity ratio is under the four-fifths rule (or alerting.signals.minParityRatio). */
  private fairnessSignals(deployment: string, figures: FairnessFigure[]): AlertSignal[] {
    const sg = this.signals;
    const out: AlertSignal[] = [];
    for (const f of figures) {
      if (f.parityRatio === null || f.records < sg.minFairnessRecords || f.parityRatio >= sg.minParityRatio) continue;
      out.push({ source: 'fairness_breach', deployment, version: f.version, key: f.attribute, summary: `${deployment} version ${f.version}: demographic parity ratio over "${f.attribute}" is ${round(f.parityRatio)} (below ${sg.minParityRatio}) on ${f.records} labelled predictions`, details: { attribute: f.attribute, parityRatio: f.parityRatio, records: f.records, threshold: sg.minParityRatio } });
    }
    return out;
  }

  /** The deployment's automatic actions, from the status of its SLOs. */
  private async act(deployment: string, statuses: SloStatus[]): Promise<WatchResult['actions']> {
    const route = this.deps.router.get(deployment);
    if (!route) return [];
    const policy = route.policy;
    const paging = statuses.filter((s) => s.firing.some((f) => f.severity === 'page'));
    const out: WatchResult['actions'] = [];
    if (policy.rollbackOnPage && paging.length > 0) {
      const reason = `automatic rollback by SLO policy: ${paging.map((s) => `${s.name} pages (${burnText(s)})`).join('; ')}`;
      const r = await this.deps.rollouts.rollbackIfReleasing(SYSTEM, deployment, reason).catch((e: unknown) => {
        if (e instanceof ModelgateError && (e.code === 'MG_ERR_STORE_CONFLICT' || e.code === 'MG_ERR_ROLLOUT_INVALID_STATE')) return null;
        throw e;
      });
      if (r) {
        // The rollout service has refreshed this replica's router already (its changed hook).
        out.push(await this.done(deployment, 'rollback', `rolled back rollout #${r.id} (version ${r.toVersion}; version ${r.fromVersion} takes the traffic): ${reason}`, { rollout: r.id, toVersion: r.toVersion, fromVersion: r.fromVersion }));
      }
    }
    const exhausted = statuses.filter((s) => s.budget !== null && s.budget.total > 0 && s.budget.remaining <= 0);
    if (policy.freezeOnBudgetExhausted && exhausted.length > 0) {
      const reason = `error budget exhausted: ${exhausted.map((s) => `${s.name} (${pct(s.budget!.consumed)} of the ${s.window} budget spent)`).join('; ')}`;
      const set = await this.deps.store.db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('release_freezes').select(['source']).where('scope', '=', deployment).executeTakeFirst();
        if (existing) return false;
        const now = new Date().toISOString();
        const res = await trx.insertInto('release_freezes').values({ scope: deployment, reason, source: 'error-budget', set_by: SLO_POLICY_ACTOR, set_at: now }).onConflict((oc) => oc.column('scope').doNothing()).executeTakeFirst();
        if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await appendAudit(trx, { actor: SLO_POLICY_ACTOR, action: 'release.freeze', target: `deployment/${deployment}`, details: { reason, source: 'error-budget' } }, now);
        return true;
      });
      if (set) out.push(await this.done(deployment, 'freeze', `releases frozen: ${reason}`, { slos: exhausted.map((s) => s.name) }));
    } else if (exhausted.length === 0) {
      out.push(...(await this.unfreeze(deployment, 'the error budget has recovered')));
    }
    if (policy.fallbackOnBreach && route.fallbacks.length > 0) {
      // While the fallback answers, every answer is degraded (bad for availability), so what keeps the switch
      // on is whether the arms' own failures still page: once the short window holds none (no arm is asked
      // while switched), traffic returns to the arms; if they still fail, the next pass switches again.
      const failing = statuses.filter((s) => s.firingArmFailures.some((f) => f.severity === 'page'));
      const sw = route.fallbackSwitch;
      if (paging.length > 0 && failing.length > 0 && sw === null) {
        const reason = `SLO breached: ${failing.map((s) => `${s.name} pages (${burnText(s)})`).join('; ')}`;
        if (await this.deps.store.db.transaction().execute((trx) => setFallbackSwitch(trx, deployment, { mode: 'auto', reason }, SLO_POLICY_ACTOR))) {
          out.push(await this.done(deployment, 'fallback_on', `traffic switched to the fallback chain (${route.fallbacks.map((f) => f.kind).join(' → ')}): ${reason}`, { chain: route.fallbacks.map((f) => ('key' in f ? f.key : f.kind)) }));
          await this.deps.onTrafficChange?.();
        }
      } else if (failing.length === 0 && sw?.mode === 'auto') {
        if (await this.deps.store.db.transaction().execute((trx) => setFallbackSwitch(trx, deployment, null, SLO_POLICY_ACTOR))) {
          out.push(await this.done(deployment, 'fallback_off', 'traffic back on the deployment\'s arms: their failures no longer page', {}));
          await this.deps.onTrafficChange?.();
        }
      }
    }
    return out;
  }

  private async unfreeze(deployment: string, why: string): Promise<WatchResult['actions']> {
    const lifted = await this.deps.store.db.transaction().execute(async (trx) => {
      const res = await trx.deleteFrom('release_freezes').where('scope', '=', deployment).where('source', '=', 'error-budget').executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) return false;
      await appendAudit(trx, { actor: SLO_POLICY_ACTOR, action: 'release.unfreeze', target: `deployment/${deployment}`, details: { reason: why, source: 'error-budget' } });
      return true;
    });
    return lifted ? [await this.done(deployment, 'unfreeze', `release freeze lifted: ${why}`, {})] : [];
  }

  private async done(deployment: string, action: PolicyAction, detail: string, details: Record<string, unknown>): Promise<WatchResult['actions'][number]> {
    this.deps.logger.warn({ deployment, action, detail, ...details }, 'automatic SLO action');
    this.deps.onAction?.(deployment, action);
    // The action's audit event (written by whatever took it) is what the incident timeline shows; recording
    // it on the incident as well would list it twice.
    return { deployment, action, detail };
  }
}

function burnText(s: SloStatus): string {
  const f = s.firing.find((x) => x.severity === 'page') ?? s.firingArmFailures.find((x) => x.severity === 'page');
  return f ? `${fmt(f.longBurnRate)}x over ${f.long}, ${fmt(f.shortBurnRate)}x over ${f.short}` : 'burning';
}

function round(n: number): number {
  return Math.round(n * 1e4) / 1e4;
}

function fmt(n: number): string {
  return n >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

function pct(n: number): string {
  return `${Math.round(Math.max(n, 0) * 1000) / 10}%`;
}
