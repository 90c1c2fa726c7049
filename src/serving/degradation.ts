// The request path's degradation state, one per gateway: a circuit breaker per model version, a retry
// budget and a response cache per deployment, the static answers of fallback chains, and their metrics.
// The data plane asks it what to do; everything here is in memory and costs a few map lookups per request.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { DeploymentRoute, FallbackTarget } from '../rollout/deployment-router.js';
import type { TensorMap } from '../runtime/types.js';
import { Breakers, type CircuitBreaker } from './resilience/circuit-breaker.js';
import { keyOf, responseCacheFor, tensorMapBytes, type ResponseCache } from './resilience/response-cache.js';
import { retryBudgetFor, type RetryBudget } from './resilience/retry-budget.js';
import type { ResilienceSpec } from './resilience/resilience-spec.js';
import { staticAnswer } from './resilience/static-answer.js';

/** What answered instead of the chosen version. */
export type DegradedKind = 'version' | 'model' | 'cache' | 'static' | 'review';
/**
 * failure: the chosen version failed (after retries) or its circuit was open; switch: the deployment is
 * switched to its fallback; data_quality: the request failed the data-quality check (action fallback).
 */
export type DegradedCause = 'failure' | 'switch' | 'data_quality';

/** A cached answer: the outputs, and what produced them. */
export interface CachedAnswer {
  outputs: TensorMap;
  version: string;
  rows: number;
}

const BREAKER_STATE = { closed: 0, 'half-open': 1, open: 2 } as const;
/** Cache memory bound per deployment, on top of maxEntries: answers are small, a runaway one is not. */
const CACHE_MAX_BYTES = 64 * 1024 * 1024;

export class Degradation {
  readonly breakers: Breakers;
  private readonly budgets = new Map<string, { spec: ResilienceSpec['retries']; budget: RetryBudget }>();
  private readonly caches = new Map<string, { spec: ResilienceSpec['cache']; cache: ResponseCache<CachedAnswer> | undefined }>();
  private readonly statics = new WeakMap<object, (rows: number) => TensorMap>();
  private readonly degradedTotal: Counter<'deployment' | 'kind' | 'cause'>;
  private readonly cacheTotal: Counter<'deployment' | 'result'>;
  private readonly retriesTotal: Counter<'deployment' | 'result'>;

  constructor(registry: Registry, private readonly logger: Logger, private readonly routes: () => Iterable<DeploymentRoute>, prefix = 'modelgate_') {
    const registers = [registry];
    this.breakers = new Breakers({
      onStateChange: (key, c) => this.logger.warn({ version: key, from: c.from, to: c.to, reason: c.reason }, `circuit breaker of ${key} ${c.to}`),
    });
    this.degradedTotal = new Counter({
      name: `${prefix}deployment_degraded_total`,
      help: 'Answers of a deployment given by its fallback chain, by what answered (version, model, cache, static, review) and why (failure: the chosen version failed or its circuit was open; switch: the deployment was switched to its fallback; data_quality: the request failed the data-quality check).',
      labelNames: ['deployment', 'kind', 'cause'] as const,
      registers,
    });
    this.cacheTotal = new Counter({ name: `${prefix}response_cache_requests_total`, help: 'Response-cache lookups of a deployment, by result (hit, miss).', labelNames: ['deployment', 'result'] as const, registers });
    this.retriesTotal = new Counter({ name: `${prefix}deployment_retries_total`, help: 'Retries of failed attempts, by result (attempted; refused: the retry budget was spent).', labelNames: ['deployment', 'result'] as const, registers });
    const caches = this.caches;
    new Gauge({
      name: `${prefix}response_cache_entries`,
      help: 'Answers held in a deployment\'s response cache.',
      labelNames: ['deployment'] as const,
      registers,
      collect() {
        this.reset();
        for (const [deployment, c] of caches) if (c.cache) this.set({ deployment }, c.cache.stats().entries);
      },
    });
    const breakers = this.breakers;
    const routesOf = this.routes;
    new Gauge({
      name: `${prefix}circuit_breaker_state`,
      help: 'Circuit breaker of a model version a deployment sends traffic to: 0 closed, 1 half-open (probing), 2 open (refusing).',
      labelNames: ['deployment', 'version'] as const,
      registers,
      collect() {
        this.reset();
        const now = performance.now();
        for (const r of routesOf()) {
          for (const h of r.held) {
            const b = breakers.peek(`${r.name}/${h.key}`);
            if (b) this.set({ deployment: r.name, version: h.key }, BREAKER_STATE[b.state(now)]);
          }
        }
      },
    });
  }

  /**
   * The breaker of a version as this deployment uses it (per deployment: two deployments of one version may
   * set it differently); undefined when the deployment's breaker is off (the router settles the default).
   */
  breaker(route: DeploymentRoute, key: string): CircuitBreaker | undefined {
    return this.breakers.get(`${route.name}/${key}`, route.resilience.circuitBreaker);
  }

  /** Deposits one request in the deployment's retry budget. */
  recordRequest(route: DeploymentRoute, now: number): void {
    this.budget(route).recordRequest(now);
  }

  /** Whether one more attempt may be made; counted either way. */
  tryRetry(route: DeploymentRoute, now: number): boolean {
    const ok = this.budget(route).tryRetry(now);
    this.retriesTotal.inc({ deployment: route.name, result: ok ? 'attempted' : 'refused' });
    return ok;
  }

  private budget(route: DeploymentRoute): RetryBudget {
    const spec = route.resilience.retries;
    let b = this.budgets.get(route.name);
    if (b === undefined || b.spec !== spec) {
      // A re-applied deployment brings a new spec object: the budget's state is kept when its settings are equal.
      if (b !== undefined && b.spec.budgetRatio === spec.budgetRatio && b.spec.minPerSecond === spec.minPerSecond) b.spec = spec;
      else this.budgets.set(route.name, (b = { spec, budget: retryBudgetFor(spec) }));
    }
    return b.budget;
  }

  /** The deployment's response cache, or undefined when it has none. */
  cache(route: DeploymentRoute): ResponseCache<CachedAnswer> | undefined {
    const spec = route.resilience.cache;
    let c = this.caches.get(route.name);
    if (c === undefined || c.spec !== spec) {
      const same = c !== undefined && c.cache !== undefined && spec.enabled && JSON.stringify(c.spec) === JSON.stringify(spec);
      if (same) c!.spec = spec;
      else this.caches.set(route.name, (c = { spec, cache: responseCacheFor<CachedAnswer>(spec, { maxBytes: CACHE_MAX_BYTES, sizeOf: (v) => tensorMapBytes(v.outputs) }) }));
    }
    return c!.cache;
  }

  /** The cache key of a request (its normalised inputs); undefined when the body cannot be keyed. */
  cacheKey(protocol: 'v1' | 'v2', body: unknown): string | undefined {
    try {
      return keyOf(protocol, body);
    } catch {
      return undefined;
    }
  }

  cacheGet(route: DeploymentRoute, key: string): CachedAnswer | undefined {
    const cache = this.cache(route);
    if (!cache) return undefined;
    const hit = cache.get(key, Date.now());
    this.cacheTotal.inc({ deployment: route.name, result: hit ? 'hit' : 'miss' });
    return hit;
  }

  cacheSet(route: DeploymentRoute, key: string, answer: CachedAnswer): void {
    this.cache(route)?.set(key, answer, Date.now());
  }

  /** The static answer of a fallback step, for `rows` rows. */
  staticOutputs(target: Extract<FallbackTarget, { kind: 'static' }>, rows: number): TensorMap {
    let build = this.statics.get(target.step);
    if (build === undefined) this.statics.set(target.step, (build = staticAnswer(target.step)));
    return build(rows);
  }

  degraded(route: DeploymentRoute, kind: DegradedKind, cause: DegradedCause): void {
    this.degradedTotal.inc({ deployment: route.name, kind, cause });
  }

  /** Drops the state of deployments and versions no longer served (after a routing refresh). */
  retain(): void {
    const names = new Set<string>();
    const keys = new Set<string>();
    for (const r of this.routes()) {
      names.add(r.name);
      for (const h of r.held) keys.add(`${r.name}/${h.key}`);
    }
    for (const n of this.budgets.keys()) if (!names.has(n)) this.budgets.delete(n);
    for (const n of this.caches.keys()) if (!names.has(n)) this.caches.delete(n);
    this.breakers.retain((k) => keys.has(k));
  }
}
