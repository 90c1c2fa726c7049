// The SLO watcher: every alerting.evaluateMs it turns SLO status and the other alert sources (rollouts
// rolled back, dataset drift, lost join records) into alerts (raised, kept, resolved), and takes each
// deployment's automatic actions (spec.policy): a page-level burn during a rollout rolls it back; an
// exhausted error budget freezes releases until it recovers; while an SLO pages, traffic goes to the
// fallback chain. Every action is audited (by the service that takes it) and lands in the open incident.
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
import type { SloInfo, SloService, SloStatus } from './slo-service.js';

export const SLO_POLICY_ACTOR = 'system:slo-policy';
const SYSTEM: Principal = { actor: SLO_POLICY_ACTOR, keyId: null, role: 'admin', modelPatterns: [] };
const SLO_SOURCES: AlertSource[] = ['slo_fast_burn', 'slo_slow_burn', 'slo_burn_ticket', 'budget_low', 'budget_exhausted'];
/** A rolled-back rollout or a loss of join records stays an open alert this long unless acknowledged and resolved. */
const EVENT_ALERT_MS = 3_600_000;

export interface AlertSyncer {
  sync(scope: { sources: AlertSource[]; deployment?: string }, active: AlertSignal[]): Promise<{ raised: AlertInfo[]; resolved: AlertInfo[] }>;
}

export interface IncidentLog {
  onAlertResolved(alert: AlertInfo): Promise<unknown>;
  record(target: { deployment: string }, event: { kind: string; summary: string; details?: Record<string, unknown>; actor: string }): Promise<unknown>;
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
  /** Called after an action that moves traffic, so this process routes it now. */
  onTrafficChange?: () => Promise<void>;
  onAction?: (deployment: string, action: PolicyAction) => void;
  /** Writes this process's SLI counts first, so a pass sees the answers given up to now. */
  flush?: () => Promise<void>;
}

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
  private lastLossAt = 0;
  private lastLost = 0;

  constructor(private readonly deps: SloWatcherDeps) {
    this.lostSeen = deps.lostRecords?.() ?? 0;
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
    await count(await alerts.sync({ sources: ['records_lost'] }, this.lossSignals()));
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

  private lossSignals(): AlertSignal[] {
    const lost = this.deps.lostRecords?.() ?? 0;
    if (lost > this.lostSeen) {
      this.lastLost = lost - this.lostSeen;
      this.lostSeen = lost;
      this.lastLossAt = Date.now();
    }
    if (this.lastLossAt === 0 || Date.now() - this.lastLossAt > EVENT_ALERT_MS) return [];
    return [{ source: 'records_lost', deployment: null, version: null, key: 'join-records', summary: `monitoring lost ${this.lastLost} prediction join record(s) (${this.lostSeen} since start): labels for them cannot be joined; the store is too slow or unreachable`, details: { lostSinceStart: this.lostSeen, lastLoss: new Date(this.lastLossAt).toISOString() } }];
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
        out.push(await this.done(deployment, 'rollback', `rolled back rollout #${r.id} (version ${r.toVersion}; version ${r.fromVersion} takes the traffic): ${reason}`, { rollout: r.id, toVersion: r.toVersion, fromVersion: r.fromVersion }));
        await this.deps.onTrafficChange?.();
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
    this.deps.logger.warn({ deployment, action, detail }, 'automatic SLO action');
    this.deps.onAction?.(deployment, action);
    await this.deps.incidents?.record({ deployment }, { kind: 'action', summary: detail, details: { action, ...details }, actor: SLO_POLICY_ACTOR }).catch((err: unknown) => this.deps.logger.warn({ err, deployment }, 'could not add the action to the incident timeline'));
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
