// The serving side of deployments: the compiled traffic policy of every deployment, kept in line with the
// store (polled, and refreshed at once when this process changes traffic), and the per-request arm choice:
// kill switch → targeting rules in order → sticky weights. Versions the arms need are held loaded.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { LoadedVersion, ModelManager } from '../serving/model-manager.js';
import type { Store } from '../store/database.js';
import type { Arm, DeploymentSpec } from './deployment-spec.js';
import { compileWeights, pickArm, randomBucket, type WeightTable } from './traffic/assign.js';
import { requestView, routingKey, type RequestView } from './traffic/request-view.js';
import { bucketOf } from './traffic/sticky-hash.js';
import { compileRules, evaluateRules, type CompiledRules } from './traffic/targeting.js';
import { monitoringOf, type MonitoringSpec } from '../monitoring/monitoring-spec.js';
import { policyOf, resilienceOf, type FallbackStep, type PolicySpec, type ResilienceSpec } from '../serving/resilience/resilience-spec.js';

export interface RouteArm {
  name: string;
  role: Arm['role'];
  version: number;
  /** `model@version`, the model manager's key. */
  key: string;
  weight: number;
}

export interface DeploymentRoute {
  name: string;
  model: string;
  killSwitch: boolean;
  stable: RouteArm;
  arms: Map<string, RouteArm>;
  table: WeightTable;
  rules: CompiledRules | null;
  routingKey: { header?: string; input?: string } | undefined;
  shadows: RouteArm[];
  timeoutMs: number | undefined;
  batching: DeploymentSpec['batching'];
  shadowOptions: { tolerance: number; labelOutput?: string };
  /** What the stored row looked like, to skip recompiling unchanged policies. */
  fingerprint: string;
  /** Every feature name some arm takes: a V1 row may carry them all, and each arm reads the ones it knows. */
  features: ReadonlySet<string>;
  /** The monitoring section, defaults filled. */
  monitoring: MonitoringSpec;
  resilience: ResilienceSpec;
  policy: PolicySpec;
  /** The fallback chain, resolved. */
  fallbacks: FallbackTarget[];
  /** Set while the deployment is switched to its fallback chain (by hand, or by an SLO policy). */
  fallbackSwitch: FallbackSwitch | null;
  /** Every version this deployment holds loaded (arms and fallback steps). */
  held: HeldVersion[];
}

/** A model version the deployment keeps loaded: an arm's, or a fallback step's. */
export interface HeldVersion {
  model: string;
  version: number;
  key: string;
}

/** A fallback step with its version resolved (version and model steps name the version they answer with). */
export type FallbackTarget =
  | { kind: 'version' | 'model'; model: string; version: number; key: string }
  | { kind: 'cache' }
  | { kind: 'static'; step: Extract<FallbackStep, { kind: 'static' }> }
  | { kind: 'review' };

export interface FallbackSwitch {
  mode: 'manual' | 'auto';
  reason: string;
  setBy: string;
  setAt: string;
}

export interface Choice {
  arm: RouteArm;
  lv: LoadedVersion;
}

export class DeploymentRouter {
  private routes = new Map<string, DeploymentRoute>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private again = false;
  private started = false;
  /** Called after a refresh changed some deployment (state kept per deployment or version can be dropped). */
  onChange: (() => void) | undefined;

  constructor(private readonly deps: { config: Readonly<Config>; store: Store; manager: ModelManager; logger: Logger }) {}

  async start(): Promise<void> {
    await this.refresh();
    const pending = [...this.routes.values()].map((r) => this.deps.manager.hold(r.model, r.stable.version, `deployment:${r.name}`).catch(() => undefined));
    await Promise.allSettled(pending);
    this.started = true;
    this.timer = setInterval(() => void this.refresh(), this.deps.config.serving.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get(name: string): DeploymentRoute | undefined {
    return this.routes.get(name);
  }

  list(): DeploymentRoute[] {
    return [...this.routes.values()];
  }

  /** Ready when every deployment's stable version is loaded or has failed to load. */
  isReady(): boolean {
    if (!this.started) return false;
    for (const r of this.routes.values()) {
      if (this.deps.manager.ready(r.stable.key)) continue;
      if (this.deps.manager.loadedVersions().some((lv) => lv.key === r.stable.key && lv.state === 'failed')) continue;
      return false;
    }
    return true;
  }

  /**
   * A refresh that reads the store after this call: one in flight may have read it before the caller's change
   * committed, so it is waited for first. For a change made in this process, to be routed before it returns.
   */
  async refreshAfterChange(): Promise<void> {
    await this.refreshing;
    await this.refresh();
  }

  /** Reads every deployment and the aliases its arms name; a second call during a refresh queues one more. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.doRefresh()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'deployment refresh failed'))
      .finally(() => {
        this.refreshing = undefined;
        if (this.again) {
          this.again = false;
          void this.refresh();
        }
      });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const db = this.deps.store.db;
    const rows = await db.selectFrom('deployments').select(['name', 'model', 'spec', 'arms', 'kill_switch']).execute();
    const switches = new Map((await db.selectFrom('deployment_fallbacks').selectAll().execute()).map((f) => [f.deployment, { mode: f.mode, reason: f.reason, setBy: f.set_by, setAt: f.set_at } satisfies FallbackSwitch]));
    const models = new Set(rows.map((r) => r.model));
    for (const r of rows) for (const m of fallbackModels(r.spec)) models.add(m);
    const aliases = rows.length === 0 ? [] : await db.selectFrom('aliases').innerJoin('models', 'models.id', 'aliases.model_id').select(['models.name as model', 'aliases.alias as alias', 'aliases.version as version']).where('models.name', 'in', [...models]).execute();
    const aliasOf = new Map(aliases.map((a) => [`${a.model}@${a.alias}`, a.version]));
    const next = new Map<string, DeploymentRoute>();
    const changed: { row: (typeof rows)[number]; fingerprint: string; old: DeploymentRoute | undefined }[] = [];
    for (const row of rows) {
      const own = new Set([row.model, ...fallbackModels(row.spec)]);
      const sw = switches.get(row.name);
      const fingerprint = `${row.model}\u0000${row.spec}\u0000${row.arms}\u0000${row.kill_switch}\u0000${aliases.filter((a) => own.has(a.model)).map((a) => `${a.model}@${a.alias}=${a.version}`).join(',')}\u0000${sw ? `${sw.mode}:${sw.setAt}` : ''}`;
      const old = this.routes.get(row.name);
      if (old && old.fingerprint === fingerprint) next.set(row.name, old);
      else changed.push({ row, fingerprint, old });
    }
    // Feature lists only for the models whose policy changed: an unchanged poll costs two small queries.
    const featureRows = changed.length === 0 ? [] : await db.selectFrom('model_versions').innerJoin('models', 'models.id', 'model_versions.model_id').select(['models.name as model', 'model_versions.version as version', 'model_versions.features as features']).where('models.name', 'in', [...new Set(changed.map((c) => c.row.model))]).where('model_versions.features', 'is not', null).execute();
    const featuresOf = new Map(featureRows.map((f) => [`${f.model}@${f.version}`, JSON.parse(f.features!) as string[]]));
    for (const { row, fingerprint, old } of changed) {
      try {
        next.set(row.name, this.compile(row.name, row.model, JSON.parse(row.spec) as DeploymentSpec, JSON.parse(row.arms) as Arm[], row.kill_switch === 1, aliasOf, featuresOf, fingerprint, switches.get(row.name) ?? null));
      } catch (err) {
        // A policy that no longer compiles (an alias removed) keeps the last good one serving.
        this.deps.logger.error({ err, deployment: row.name }, 'deployment policy cannot be compiled; the previous policy keeps serving');
        if (old) next.set(row.name, old);
      }
    }
    const before = this.routes;
    // Versions are held before the new policy is visible and released after, so a switch never meets an unloaded arm.
    for (const r of next.values()) if (before.get(r.name) !== r) this.holdAll(r);
    this.routes = next;
    for (const r of before.values()) {
      const now = next.get(r.name);
      if (now === r) continue;
      const keep = new Set(now ? now.held.map((h) => h.key) : []);
      for (const h of r.held) if (!keep.has(h.key)) this.deps.manager.unhold(h.model, h.version, `deployment:${r.name}`);
      if (!now) this.deps.logger.info({ deployment: r.name }, 'deployment removed; no longer served');
    }
    if (changed.length > 0 || next.size !== before.size) this.onChange?.();
  }

  private holdAll(r: DeploymentRoute): void {
    for (const h of r.held) {
      void this.deps.manager.hold(h.model, h.version, `deployment:${r.name}`, h.model === r.model ? r.batching : undefined).catch((err: unknown) => this.deps.logger.warn({ err, deployment: r.name, model: h.model, version: h.version }, 'cannot load a version of a deployment'));
    }
  }

  private compile(name: string, model: string, spec: DeploymentSpec, arms: Arm[], killSwitch: boolean, aliasOf: Map<string, number>, featuresOf: Map<string, string[]>, fingerprint: string, fallbackSwitch: FallbackSwitch | null): DeploymentRoute {
    const resolved = new Map<string, RouteArm>();
    for (const a of arms) {
      const version = /^\d+$/.test(a.version) ? Number(a.version) : aliasOf.get(`${model}@${a.version}`);
      if (version === undefined) throw new Error(`arm ${a.name}: model ${model} has no alias ${a.version}`);
      resolved.set(a.name, { name: a.name, role: a.role, version, key: `${model}@${version}`, weight: a.weight });
    }
    const stable = [...resolved.values()].find((a) => a.role === 'stable');
    if (!stable) throw new Error('no stable arm');
    // Stable first, canary right after it: a ramp then only moves users from stable to canary.
    const served = [...resolved.values()].filter((a) => a.role === 'stable' || a.role === 'canary').sort((x, y) => (x.role === y.role ? 0 : x.role === 'stable' ? -1 : 1));
    const table = compileWeights(served.map((a) => ({ name: a.name, weight: a.weight })));
    const resilience = resilienceOf(spec);
    const fallbacks: FallbackTarget[] = resilience.fallback.map((f, i) => {
      if (f.kind !== 'version' && f.kind !== 'model') return f.kind === 'static' ? { kind: 'static', step: f } : { kind: f.kind };
      const m = f.kind === 'model' ? f.model : model;
      const ref = String(f.version);
      const version = /^\d+$/.test(ref) ? Number(ref) : aliasOf.get(`${m}@${ref}`);
      if (version === undefined) throw new Error(`resilience.fallback[${i}]: model ${m} has no alias ${ref}`);
      return { kind: f.kind, model: m, version, key: `${m}@${version}` };
    });
    // The breaker is on by default only with a fallback chain: without one, an open circuit just turns a flaky
    // version's failures into refusals.
    resilience.circuitBreaker.enabled ??= fallbacks.length > 0;
    const held = new Map<string, HeldVersion>();
    for (const a of resolved.values()) held.set(a.key, { model, version: a.version, key: a.key });
    for (const f of fallbacks) if (f.kind === 'version' || f.kind === 'model') held.set(f.key, { model: f.model, version: f.version, key: f.key });
    const rules = spec.targeting.length > 0 ? compileRules(spec.targeting, [...resolved.values()].filter((a) => a.role !== 'shadow' && a.role !== 'standby').map((a) => a.name)) : null;
    return {
      name,
      model,
      killSwitch,
      stable,
      arms: resolved,
      table,
      rules,
      routingKey: spec.routingKey,
      shadows: killSwitch ? [] : [...resolved.values()].filter((a) => a.role === 'shadow' && a.weight > 0),
      timeoutMs: spec.timeoutMs,
      batching: spec.batching,
      features: new Set([...resolved.values()].flatMap((a) => featuresOf.get(a.key) ?? [])),
      shadowOptions: { tolerance: spec.shadow.tolerance, ...(spec.shadow.labelOutput ? { labelOutput: spec.shadow.labelOutput } : {}) },
      monitoring: monitoringOf(spec),
      resilience,
      policy: policyOf(spec),
      fallbacks,
      fallbackSwitch,
      held: [...held.values()],
      fingerprint,
    };
  }

  /**
   * The arm and ready version for a request, without waiting; undefined when not even the stable version is
   * ready yet. An arm whose version is still loading gives its share to stable rather than failing.
   */
  choose(route: DeploymentRoute, headers: Record<string, string | string[] | undefined>, body: unknown, protocol: 'v1' | 'v2'): Choice | undefined {
    const manager = this.deps.manager;
    const stableLv = manager.ready(route.stable.key);
    if (route.killSwitch) return stableLv ? { arm: route.stable, lv: stableLv } : undefined;
    let arm: RouteArm | undefined;
    let view: RequestView | undefined;
    let key: string | undefined;
    if (route.rules || route.routingKey) {
      view = requestView(headers, body, protocol, stableLv?.info.features ?? null);
      if (route.routingKey) key = routingKey(route.routingKey, view);
    }
    if (route.rules && view) {
      const hit = evaluateRules(route.rules, view, route.name, key);
      if (hit) arm = route.arms.get(hit.arm);
    }
    arm ??= route.arms.get(pickArm(route.table, key !== undefined ? bucketOf(route.name, key) : randomBucket()));
    if (arm && arm !== route.stable) {
      const lv = manager.ready(arm.key);
      if (lv) return { arm, lv };
    }
    return stableLv ? { arm: route.stable, lv: stableLv } : undefined;
  }

  /** Feature names any arm of the deployment takes, so a V1 row can carry the union. */
  featureUnion(route: DeploymentRoute): ReadonlySet<string> {
    return route.features;
  }

  /** Waits for the stable version of a deployment (first requests after start or a switch). */
  async awaitStable(route: DeploymentRoute): Promise<Choice> {
    const lv = await this.deps.manager.hold(route.model, route.stable.version, `deployment:${route.name}`);
    if (lv.state !== 'ready') throw Object.assign(new Error(`${lv.key} failed to load: ${lv.error ?? 'unknown error'}`), { key: lv.key });
    return { arm: route.stable, lv };
  }
}

/** Models other than the deployment's own that its fallback chain names (their aliases are resolved too). */
function fallbackModels(specText: string): string[] {
  const spec = JSON.parse(specText) as { resilience?: { fallback?: { kind: string; model?: string }[] } };
  return (spec.resilience?.fallback ?? []).flatMap((f) => (f.kind === 'model' && f.model !== undefined ? [f.model] : []));
}
