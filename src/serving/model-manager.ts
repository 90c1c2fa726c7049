// Which version answers for a model name, and the lifecycle of loaded versions: load, warm up, mark ready,
// swap when the production alias moves (new version ready first, then the old one drains and is released),
// keep the old one serving when a new one fails to load. Alias moves made by other processes (the CLI,
// other replicas) are picked up by polling the store.
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import type { Principal } from '../governance/keys.js';
import type { Registry } from '../registry/registry-service.js';
import type { ModelVersionInfo } from '../registry/types.js';
import { createOnnxRuntime } from '../runtime/onnx/onnx-runtime.js';
import { createJsRuntime } from '../runtime/js/js-runtime.js';
import type { ModelRuntime, RuntimeOptions, TensorMap } from '../runtime/types.js';
import type { Store } from '../store/database.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { DirectRunner, DynamicBatcher, type InferenceRunner } from './batching/batcher.js';

export type VersionState = 'loading' | 'ready' | 'failed' | 'retired';

export interface LoadedVersion {
  readonly model: string;
  readonly version: number;
  readonly key: string;
  readonly info: ModelVersionInfo;
  state: VersionState;
  runtime: ModelRuntime | null;
  runner: InferenceRunner | null;
  batching: boolean;
  error: string | null;
  loadedAt: number | null;
  lastUsed: number;
  /** Served through the production alias (not only pinned). */
  routed: boolean;
}

interface Route {
  model: string;
  /** What the production alias points at, as last seen. */
  target: number;
  /** The version answering now (may lag the target while the target loads or after it failed). */
  current: LoadedVersion | null;
}

const SYSTEM: Principal = { actor: 'system:gateway', keyId: null, role: 'admin', modelPatterns: [] };

export interface ModelManagerDeps {
  config: Readonly<Config>;
  store: Store;
  registry: Registry;
  logger: Logger;
  metrics: GatewayMetrics;
}

export class ModelManager {
  private readonly routes = new Map<string, Route>();
  private readonly loaded = new Map<string, LoadedVersion>();
  private readonly loading = new Map<string, Promise<LoadedVersion>>();
  private readonly failedAt = new Map<string, number>();
  /** Names looked up and found not served, with when; stops a flood of unknown names from hitting the store. */
  private readonly absent = new Map<string, number>();
  /** Versions deployments keep loaded (key → holders), with the batching a deployment asked for. */
  private readonly held = new Map<string, Set<string>>();
  private readonly batchingFor = new Map<string, Readonly<Config['serving']['batching']>>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private started = false;
  private draining = false;

  constructor(private readonly deps: ModelManagerDeps) {}

  private get runtimeOptions(): RuntimeOptions {
    return this.deps.config.runtime;
  }

  /** Loads every model that has a production alias, then keeps watching the store. */
  async start(): Promise<void> {
    await this.refresh();
    await Promise.allSettled([...this.loading.values()]);
    this.started = true;
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.deps.logger.warn({ err }, 'alias refresh failed')), this.deps.config.serving.pollIntervalMs);
    this.timer.unref();
  }

  /**
   * Ready when started and every routed model has a ready version or has failed to load. A model whose only
   * version cannot load is reported by its own ready endpoint and metrics; it must not take the replica (and
   * every other model on it) out of the load balancer.
   */
  isReady(): boolean {
    if (!this.started || this.draining) return false;
    for (const r of this.routes.values()) {
      if (r.current?.state === 'ready') continue;
      if (this.loaded.get(`${r.model}@${r.target}`)?.state === 'failed') continue;
      return false;
    }
    return true;
  }

  /** The ready version answering for `name`, without waiting: the hot path. */
  tryResolve(name: string): LoadedVersion | undefined {
    const current = this.routes.get(name)?.current;
    return current?.state === 'ready' ? current : undefined;
  }

  /** The version answering for `name`; waits for a first load, looks up names it has not seen. */
  async resolve(name: string): Promise<LoadedVersion> {
    const route = this.routes.get(name);
    if (route?.current?.state === 'ready') return route.current;
    if (this.draining) throw new ModelgateError('MG_ERR_INFER_SHUTTING_DOWN');
    if (!route) {
      const seen = this.absent.get(name);
      if (seen === undefined || Date.now() - seen > this.deps.config.serving.pollIntervalMs) await this.refreshOne(name);
      const again = this.routes.get(name);
      if (!again) throw await this.notServed(name);
      return this.awaitReady(again);
    }
    return this.awaitReady(route);
  }

  /** A pinned version (/versions/{v}): loaded on demand, unloaded after pinnedIdleMs unused. */
  async resolvePinned(name: string, version: number): Promise<LoadedVersion> {
    if (this.draining) throw new ModelgateError('MG_ERR_INFER_SHUTTING_DOWN');
    const lv = this.loaded.get(`${name}@${version}`);
    if (lv?.state === 'ready') return lv;
    const loaded = await this.load(await this.servableVersion(name, version));
    if (loaded.state !== 'ready') throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', `${loaded.key} failed to load: ${loaded.error ?? 'unknown error'}`);
    return loaded;
  }

  /** A version that may be served (exists, not archived), read from the registry without loading it. */
  async servableVersion(name: string, version: number): Promise<ModelVersionInfo> {
    const key = `${name}@${version}`;
    let info: ModelVersionInfo;
    try {
      info = await this.deps.registry.getVersion(SYSTEM, key);
    } catch (e) {
      if (e instanceof ModelgateError && (e.code === 'MG_ERR_MODEL_NOT_FOUND')) throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_FOUND', `No model named "${name}".`);
      if (e instanceof ModelgateError && e.status === 404) throw new ModelgateError('MG_ERR_INFER_VERSION_NOT_SERVABLE', `Model "${name}" has no version ${version}.`);
      throw e;
    }
    if (info.status === 'archived') throw new ModelgateError('MG_ERR_INFER_VERSION_NOT_SERVABLE', `${key} is archived; archived versions are never served.`);
    return info;
  }

  /** What the metadata and ready endpoints report for a name. */
  status(name: string): { target: number; current: LoadedVersion | null; pending: LoadedVersion | null } | null {
    const route = this.routes.get(name);
    if (!route) return null;
    const pendingKey = `${name}@${route.target}`;
    const pending = route.current?.version === route.target ? null : (this.loaded.get(pendingKey) ?? null);
    return { target: route.target, current: route.current, pending };
  }

  /** The ready version for a key (`model@version`), without waiting: the deployment hot path. */
  ready(key: string): LoadedVersion | undefined {
    const lv = this.loaded.get(key);
    return lv?.state === 'ready' ? lv : undefined;
  }

  /** The load of a version under way (`model@version`), if there is one: what a fallback chain may wait for. */
  loadInProgress(key: string): Promise<LoadedVersion> | undefined {
    return this.loading.get(key);
  }

  /**
   * Keeps a version loaded for `holder` (a deployment), loading it now if needed. `batching` overrides the
   * configured batching for this version when it is loaded by this call. Returns the load in progress.
   */
  hold(model: string, version: number, holder: string, batching?: Readonly<Config['serving']['batching']>): Promise<LoadedVersion> {
    const key = `${model}@${version}`;
    let holders = this.held.get(key);
    if (!holders) this.held.set(key, (holders = new Set()));
    holders.add(holder);
    if (batching) this.batchingFor.set(key, batching);
    const lv = this.loaded.get(key);
    if (lv?.state === 'ready') return Promise.resolve(lv);
    const failed = this.failedAt.get(key);
    if (lv?.state === 'failed' && failed !== undefined && Date.now() - failed < this.deps.config.serving.loadRetryMs) return Promise.resolve(lv);
    return this.loadByKey(key);
  }

  /** `holder` no longer needs the version; it is released when nothing else serves it. */
  unhold(model: string, version: number, holder: string): void {
    const key = `${model}@${version}`;
    const holders = this.held.get(key);
    if (!holders) return;
    holders.delete(holder);
    if (holders.size > 0) return;
    this.held.delete(key);
    this.batchingFor.delete(key);
    const lv = this.loaded.get(key);
    if (lv && !this.isRouted(lv)) void this.retire(lv);
  }

  /** Loads a version (for a rollout about to send it traffic) and resolves once it is ready. */
  async ensureReady(model: string, version: number): Promise<LoadedVersion> {
    if (this.draining) throw new ModelgateError('MG_ERR_INFER_SHUTTING_DOWN');
    const lv = await this.load(await this.servableVersion(model, version));
    if (lv.state !== 'ready') throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', `${lv.key} failed to load: ${lv.error ?? 'unknown error'}`);
    lv.lastUsed = Date.now();
    return lv;
  }

  loadedVersions(): LoadedVersion[] {
    return [...this.loaded.values()];
  }

  /** Stop taking work; let queued and in-flight requests finish; release every runtime. */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
    await Promise.allSettled([...this.loading.values()]);
    await Promise.allSettled([...this.loaded.values()].map((lv) => this.retire(lv)));
  }

  /** Reads every production alias and brings the routes in line. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.draining) return;
    const rows = await this.deps.store.db
      .selectFrom('aliases')
      .innerJoin('models', 'models.id', 'aliases.model_id')
      .select(['models.name as name', 'aliases.version as version'])
      .where('aliases.alias', '=', 'production')
      .execute();
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.name);
      this.absent.delete(r.name);
      this.point(r.name, r.version);
    }
    for (const [name, route] of this.routes) {
      if (!seen.has(name)) {
        // The production alias was removed: stop serving the name.
        this.routes.delete(name);
        this.deps.logger.info({ model: name }, 'production alias removed; model no longer served');
        if (route.current) this.releaseRoute(route.current);
      }
    }
    this.unloadIdlePinned();
  }

  private async refreshOne(name: string): Promise<void> {
    const row = await this.deps.store.db
      .selectFrom('aliases')
      .innerJoin('models', 'models.id', 'aliases.model_id')
      .select(['aliases.version as version'])
      .where('aliases.alias', '=', 'production')
      .where('models.name', '=', name)
      .executeTakeFirst();
    if (row) this.point(name, row.version);
    else this.absent.set(name, Date.now());
  }

  /** Points a name at a version: loads it if needed, and swaps once it is ready. */
  private point(name: string, version: number): void {
    let route = this.routes.get(name);
    if (!route) {
      route = { model: name, target: version, current: null };
      this.routes.set(name, route);
    }
    route.target = version;
    if (route.current?.version === version && route.current.state === 'ready') return;
    const key = `${name}@${version}`;
    const failed = this.failedAt.get(key);
    if (failed !== undefined && Date.now() - failed < this.deps.config.serving.loadRetryMs) return;
    if (this.loading.has(key)) return;
    const r = route;
    void this.loadByKey(key).then((lv) => {
      if (lv.state !== 'ready' || r.target !== version || this.routes.get(name) !== r || this.draining) return;
      const old = r.current;
      lv.routed = true;
      r.current = lv;
      this.deps.logger.info({ model: name, version, previous: old?.version ?? null }, 'now serving');
      if (old && old !== lv) this.releaseRoute(old);
    });
  }

  /** Loads a version by key; concurrent callers share one load (registered before the first await). */
  private loadByKey(key: string, known?: ModelVersionInfo): Promise<LoadedVersion> {
    const existing = this.loaded.get(key);
    if (existing?.state === 'ready') return Promise.resolve(existing);
    const inProgress = this.loading.get(key);
    if (inProgress) return inProgress;
    const p = (async () => {
      let info: ModelVersionInfo;
      try {
        info = known ?? (await this.deps.registry.getVersion(SYSTEM, key));
      } catch (e) {
        this.failedAt.set(key, Date.now());
        this.deps.logger.error({ err: e, key }, 'cannot read version to load');
        const [model, v] = key.split('@');
        return { model: model!, version: Number(v), key, info: undefined as never, state: 'failed', runtime: null, runner: null, batching: false, error: (e as Error).message, loadedAt: null, lastUsed: 0, routed: false } satisfies LoadedVersion;
      }
      return this.doLoad(info);
    })().finally(() => this.loading.delete(key));
    this.loading.set(key, p);
    return p;
  }

  private load(info: ModelVersionInfo): Promise<LoadedVersion> {
    return this.loadByKey(`${info.model}@${info.version}`, info);
  }

  private async doLoad(info: ModelVersionInfo): Promise<LoadedVersion> {
    const key = `${info.model}@${info.version}`;
    const lv: LoadedVersion = { model: info.model, version: info.version, key, info, state: 'loading', runtime: null, runner: null, batching: false, error: null, loadedAt: null, lastUsed: Date.now(), routed: false };
    this.loaded.set(key, lv);
    const started = performance.now();
    try {
      const { bytes } = await this.deps.registry.readArtifact(SYSTEM, key);
      const runtime = info.format === 'js'
        ? await createJsRuntime(bytes, info.signature, this.runtimeOptions)
        : await createOnnxRuntime(bytes, info.signature, this.runtimeOptions);
      try {
        await runtime.warmup();
      } catch (err) {
        // Some models need inputs that zeros cannot satisfy (e.g. a minimum image size): serve them cold.
        this.deps.logger.warn({ err, model: info.model, version: info.version }, 'warm-up failed; serving without it');
      }
      lv.runtime = runtime;
      const { runner, batching } = this.createRunner(info, runtime);
      lv.runner = runner;
      lv.batching = batching;
      lv.state = 'ready';
      lv.loadedAt = Date.now();
      this.failedAt.delete(key);
      const seconds = (performance.now() - started) / 1000;
      this.deps.metrics.modelLoaded(info.model, String(info.version), runtime.describe().backend, seconds);
      this.deps.logger.info({ model: info.model, version: info.version, backend: runtime.describe().backend, batching, ms: Math.round(seconds * 1000) }, 'model version loaded');
    } catch (err) {
      lv.state = 'failed';
      lv.error = (err as Error).message;
      this.failedAt.set(key, Date.now());
      this.deps.metrics.modelLoadFailed(info.model, String(info.version));
      this.deps.logger.error({ err, model: info.model, version: info.version }, 'model version failed to load; the previous version keeps serving');
    }
    return lv;
  }

  private createRunner(info: ModelVersionInfo, runtime: ModelRuntime): { runner: InferenceRunner; batching: boolean } {
    const s = this.deps.config.serving;
    const cfg = this.batchingFor.get(`${info.model}@${info.version}`) ?? s.models[`${info.model}@${info.version}`]?.batching ?? s.models[info.model]?.batching ?? s.batching;
    const model = info.model;
    const version = String(info.version);
    const run = async (inputs: TensorMap, outputs?: string[]): Promise<TensorMap> => {
      const t0 = performance.now();
      try {
        return await runtime.infer(inputs, outputs);
      } finally {
        this.deps.metrics.recordCompute(model, version, (performance.now() - t0) / 1000);
      }
    };
    // Batches are split back by the first dimension, so every input and output must have a dynamic one.
    const dynamicFirstDim = [...info.signature.inputs, ...info.signature.outputs.filter((o) => o.kind === 'tensor')]
      .every((t) => t.shape !== null && t.shape.length > 0 && typeof t.shape[0] !== 'number');
    const onBatch = (b: { size: number; requests: number; queueMs: number }) => {
      this.deps.metrics.recordBatch(model, version, b.size);
    };
    if (cfg.enabled && dynamicFirstDim) {
      return {
        batching: true,
        runner: new DynamicBatcher({
          run,
          maxBatchSize: cfg.maxBatchSize,
          maxQueueDelayMs: cfg.maxQueueDelayMs,
          preferredBatchSizes: cfg.preferredBatchSizes,
          maxQueueSize: s.maxQueueSize,
          maxConcurrentRuns: s.maxConcurrentRuns,
          onBatch,
          gatherBehindRuns: runtime.runsInSeries === true,
          onMergeStopped: (reason) =>
            this.deps.logger.warn({ model, version, reason }, 'batching stopped for this version: merged runs fail where single requests succeed. Set serving.models.<model>.batching.enabled: false to silence this'),
        }),
      };
    }
    return { batching: false, runner: new DirectRunner({ run, maxConcurrentRuns: s.maxConcurrentRuns, maxQueueSize: s.maxQueueSize, onBatch }) };
  }

  private async awaitReady(route: Route): Promise<LoadedVersion> {
    if (route.current?.state === 'ready') return route.current;
    const key = `${route.model}@${route.target}`;
    const p = this.loading.get(key);
    if (p) {
      const lv = await p;
      // the swap runs in a then() registered before ours, so the route is current by now when it succeeded
      const current = route.current as LoadedVersion | null;
      if (current?.state === 'ready') return current;
      if (lv.state === 'ready') return lv;
    }
    const failed = this.loaded.get(key);
    throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', `${key} is not ready${failed?.error ? `: it failed to load (${failed.error})` : ''}. The model does not serve until a version loads.`);
  }

  private async notServed(name: string): Promise<ModelgateError> {
    const exists = await this.deps.store.db.selectFrom('models').select('id').where('name', '=', name).executeTakeFirst();
    if (!exists) return new ModelgateError('MG_ERR_INFER_MODEL_NOT_FOUND', `No model named "${name}" is registered here.`);
    return new ModelgateError('MG_ERR_INFER_NO_PRODUCTION_ALIAS', `Model "${name}" has no production alias, so it is not served. Set one: modelgate models alias set ${name} production <version>.`);
  }

  /** A version stops being routed: it drains (queued and in-flight requests finish) and is released. */
  private releaseRoute(lv: LoadedVersion): void {
    lv.routed = false;
    if (this.held.has(lv.key)) return;
    void this.retire(lv);
  }

  private async retire(lv: LoadedVersion): Promise<void> {
    if (lv.state === 'retired') return;
    const wasReady = lv.state === 'ready';
    lv.state = 'retired';
    this.loaded.delete(lv.key);
    try {
      await lv.runner?.drain();
      await lv.runtime?.unload();
    } catch (err) {
      this.deps.logger.warn({ err, key: lv.key }, 'error while releasing a model version');
    }
    if (wasReady) this.deps.metrics.modelUnloaded(lv.model, String(lv.version), lv.runtime?.describe().backend ?? 'onnx');
    this.deps.logger.info({ model: lv.model, version: lv.version }, 'model version released');
  }

  private unloadIdlePinned(): void {
    const idle = this.deps.config.serving.pinnedIdleMs;
    const now = Date.now();
    for (const lv of this.loaded.values()) {
      if (!lv.routed && lv.state === 'ready' && now - lv.lastUsed > idle && !this.isRouted(lv) && !this.held.has(lv.key)) void this.retire(lv);
    }
  }

  private isRouted(lv: LoadedVersion): boolean {
    return this.routes.get(lv.model)?.current === lv;
  }
}
