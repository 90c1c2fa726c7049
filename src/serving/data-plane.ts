// The data plane: Open Inference Protocol (KServe V2) REST, plus KServe V1 `:predict` for tabular models.
// The hot path is auth → parse → validate → route → runner → respond; metrics and the request log are
// recorded in onResponse, after the answer is on its way.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import { requireModel, requireRole, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';
import { toModelgateError } from '../app.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { SpanKind, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { extractContext, modelAttributes, SPAN_NAMES, startSpan, traceparentOf, withSpan } from '../telemetry/tracing.js';
import type { TensorSpec } from '../registry/signature.js';
import type { ModelVersionInfo } from '../registry/types.js';
import type { TensorMap } from '../runtime/types.js';
import { DataPlaneAuth } from './data-plane-auth.js';
import type { LoadedVersion, ModelManager } from './model-manager.js';
import type { InferenceRunner } from './batching/batcher.js';
import { decodeInferRequest, encodeInferResponse } from './protocol/v2.js';
import { decodeV1Instances, encodeV1Response } from './protocol/v1.js';
import type { ArmStatsRecorder } from '../rollout/arm-stats.js';
import type { SliRecorder } from '../slo/sli-recorder.js';
import type { DeploymentRoute, DeploymentRouter, RouteArm } from '../rollout/deployment-router.js';
import { compareOutputs } from '../rollout/traffic/shadow-compare.js';
import type { MonitorRecorder } from '../monitoring/recorder.js';
import { describeIssues } from '../monitoring/data-quality.js';
import type { CachedAnswer, DegradedCause, DegradedKind, Degradation } from './degradation.js';
import { backoffMs } from './resilience/retry-budget.js';
import { requestLineWriter } from '../telemetry/request-log.js';
import { topConfidence } from './resilience/confidence.js';

/** Where the data plane puts requests for a human decision (the review queue). */
export interface ReviewQueue {
  enqueue(item: { deployment: string; model: string; version: number; requestId: string; reason: 'low_confidence' | 'fallback'; confidence: number | null; inputs: unknown; outputs: unknown }): Promise<number>;
}

export interface DataPlaneDeps {
  config: Readonly<Config>;
  store: Store;
  manager: ModelManager;
  metrics: GatewayMetrics;
  logger: Logger;
  version: string;
  /** Set when SIGTERM arrives: new requests are refused while in-flight ones finish. */
  isClosing: () => boolean;
  /** Deployments: named endpoints with a traffic policy, which decide over a model of the same name. */
  router?: DeploymentRouter | undefined;
  armStats?: ArmStatsRecorder | undefined;
  /** Counts behind the availability and latency SLOs. */
  sli?: SliRecorder | undefined;
  /** Monitoring of deployment traffic: prediction log, profiles, data-quality checks. */
  monitor?: MonitorRecorder | undefined;
  /** Circuit breakers, retry budgets, response caches and fallback metrics (spec.resilience). */
  degradation?: Degradation | undefined;
  reviews?: ReviewQueue | undefined;
}

interface InferState {
  model: string;
  version: string;
  started: number;
  /** Set when a deployment answered: which one and through which arm. */
  deployment?: DeploymentRoute;
  arm?: RouteArm;
  protocol?: 'v1' | 'v2';
  /** Kept only when the deployment mirrors to a shadow, for the comparison after the response. */
  outputs?: TensorMap;
  /** With outputs: the time from queueing on the runner to the answer, ms (what a mirrored request is timed by). */
  inferMs?: number;
  /** Kept when the deployment is monitored: the decoded inputs, the version answering, rows, the id answered with. */
  inputs?: TensorMap;
  lv?: LoadedVersion;
  rows?: number;
  responseId?: string;
  errorCode?: string;
  /** Set when the fallback chain answered. */
  degraded?: { kind: DegradedKind; cause: DegradedCause };
  /** With a fallback after a failure: the chosen arm's status (what its statistics and analysis count). */
  primaryStatus?: number;
  /** A low-confidence answer to queue for review after the response: its lowest row confidence. */
  review?: number;
  /** Answered from the response cache (serveHits): nothing was decoded or run, so nothing is monitored. */
  cached?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    infer: InferState | undefined;
    /** The caller's trace context (W3C traceparent), read once while the body is parsed. */
    traceCtx: Context | undefined;
  }
}

/** V2 error shape: {"error": message}, plus our code and error id. */
export function v2Error(reply: FastifyReply, e: ModelgateError): FastifyReply {
  if (e.code === 'MG_ERR_INFER_QUEUE_FULL') void reply.header('retry-after', String((e.details?.retryAfterSeconds as number | undefined) ?? 1));
  if (e.code === 'MG_ERR_INFER_SHUTTING_DOWN') void reply.header('connection', 'close');
  return reply.status(e.status).send({ error: e.message, code: e.code, id: e.id });
}

export async function registerDataPlane(app: FastifyInstance, deps: DataPlaneDeps): Promise<void> {
  const { config, manager, metrics, router, armStats, sli, monitor, degradation, reviews } = deps;
  const auth = new DataPlaneAuth(deps.store, config.auth.keyCacheMs);
  const authOn = config.auth.dataPlane === 'on';
  const maxTimeout = config.serving.requestTimeoutMs;

  app.decorateRequest('infer', undefined);
  app.decorateRequest('traceCtx', undefined);
  // Inference bodies are JSON only; anything else is 415, not a string the decoder would call malformed.
  app.removeAllContentTypeParsers();

  // JSON is parsed here rather than by Fastify's default parser so the parse can be timed and its errors
  // answered in the V2 shape. Plain JSON.parse is safe: "__proto__" becomes an own key that nothing merges.
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.server.bodyLimit }, (req, body, done) => {
    const ctx = extractContext(req.headers);
    req.traceCtx = ctx;
    const span = startSpan(SPAN_NAMES.parse, { 'model.name': (req.params as { name?: string }).name ?? '' }, ctx);
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', `The body is not valid JSON: ${(e as Error).message}`), undefined);
    } finally {
      span.end();
    }
  });

  app.setErrorHandler((err: FastifyError | ModelgateError, req, reply) => {
    const mg = toInferError(err);
    if (req.infer) req.infer.errorCode = mg.code;
    if (mg.status >= 500 && mg.code !== 'MG_ERR_INFER_QUEUE_FULL' && mg.code !== 'MG_ERR_INFER_SHUTTING_DOWN') req.log.error({ err, errorId: mg.id }, 'inference failed');
    return v2Error(reply, mg);
  });

  // Hooks use the callback style: an async hook costs a promise per request on the hot path.
  app.addHook('onRequest', (_req, reply, done) => {
    if (deps.isClosing()) {
      // While shutting down, new requests are refused and their connections closed.
      v2Error(reply, new ModelgateError('MG_ERR_INFER_SHUTTING_DOWN'));
      return;
    }
    done();
  });

  // The request line's fields are fixed (request id, model, version, arm, status, ms: strings and numbers),
  // so none of the redact paths (key, authorization, *.key, [req.]headers.authorization) can ever match it;
  // it is written without pino's generic path (telemetry/request-log.ts), as the same line req.log used to write.
  const requestLine = requestLineWriter(deps.logger);

  // After the response: metrics and one request log line (never tensor data).
  app.addHook('onResponse', (req, reply, done) => {
    const s = req.infer;
    if (s) {
      const seconds = (performance.now() - s.started) / 1000;
      metrics.recordRequest(s.model, s.version, reply.statusCode, seconds);
      if (s.deployment !== undefined) {
        const ms = seconds * 1000;
        sli?.answer(s.deployment.name, reply.statusCode, ms, s.degraded?.cause);
        if (s.arm !== undefined) armStats?.answer(s.deployment.name, s.arm.name, s.arm.role, s.arm.version, s.primaryStatus ?? reply.statusCode, ms);
        // A degraded answer is not the chosen version's prediction, and a cache hit decoded nothing: both stay
        // out of the version's profiles and prediction log.
        if (monitor !== undefined && s.arm !== undefined && s.degraded === undefined && s.cached !== true && s.deployment.monitoring.enabled) {
          monitor.observe({ requestId: s.responseId ?? req.id, route: s.deployment, arm: s.arm, lv: s.lv, protocol: s.protocol ?? 'v2', headers: req.headers, body: req.body, inputs: s.inputs, outputs: s.outputs, rows: s.rows ?? 1, status: reply.statusCode, latencyMs: ms, errorCode: s.errorCode, time: Date.now() });
        }
        if (s.outputs !== undefined && s.degraded === undefined && s.deployment.shadows.length > 0) {
          // onResponse runs once the answer is written, so whatever the shadow does cannot reach the caller.
          // Mirroring here rather than in a later setImmediate queues the shadow in the same loop phase as
          // primaries are queued, so their inference times compare fairly (a setImmediate cost it a full turn).
          try {
            mirror(s.deployment, req.body, s.outputs, s.protocol ?? 'v2', s.inferMs ?? ms);
          } catch (err) {
            req.log.warn({ err }, 'shadow mirroring failed');
          }
        }
        if (s.review !== undefined && reply.statusCode < 300) queueReview(req, s.deployment, s.deployment.model, Number(s.version), 'low_confidence', s.review, s.outputs);
      }
      requestLine({ reqId: req.id, model: s.model, version: s.version, arm: s.arm?.name, status: reply.statusCode, ms: Math.round(seconds * 1e4) / 10 });
    }
    done();
  });

  /** Sends a copy of an answered request to each shadow arm whose share it falls in, and records the comparison. */
  function mirror(route: DeploymentRoute, body: unknown, primary: TensorMap, protocol: 'v1' | 'v2', primaryMs: number): void {
    for (const sh of route.shadows) {
      if (Math.random() * 100 >= sh.weight) continue;
      const lv = manager.ready(sh.key);
      const runner = lv?.runner;
      // A shadow that is not loaded, or already backed up, is skipped rather than queued behind.
      if (!lv || !runner || runner.stats().queuedRequests > config.serving.maxQueueSize / 2) continue;
      const t0 = performance.now();
      const failed = () => armStats?.recordShadow(route.name, sh.name, sh.version, { failed: true, latencyMs: performance.now() - t0, primaryLatencyMs: primaryMs });
      let pending: Promise<TensorMap>;
      try {
        const deadline = Date.now() + (route.timeoutMs ?? maxTimeout);
        if (protocol === 'v2') {
          const d = decodeInferRequest(body, lv.info.signature);
          pending = runner.submit(d.inputs, d.batchSize ?? 1, { deadline, outputs: d.outputs });
        } else {
          if (!lv.info.features) continue;
          const d = decodeV1Instances(body, lv.info.features, lv.info.signature, router?.featureUnion(route));
          pending = runner.submit(d.inputs, d.rows, { deadline });
        }
      } catch {
        failed();
        continue;
      }
      pending.then(
        (out) => {
          const c = compareOutputs(primary, out, route.shadowOptions);
          armStats?.recordShadow(route.name, sh.name, sh.version, { failed: false, latencyMs: performance.now() - t0, primaryLatencyMs: primaryMs, agree: c.agree, primaryLabel: c.primaryLabel, shadowLabel: c.shadowLabel, absDiff: c.maxAbsDiff });
        },
        failed,
      );
    }
  }

  /**
   * Checks the caller's key for `model`. Returns undefined when that needed no waiting (no key needed, or
   * a key checked within auth.keyCacheMs: the usual case), else a promise for the store lookup; throws when
   * the key is missing or refused. Inference handlers call it without `await` on the cached path: an
   * `await` per request is a promise and a microtask turn before the request can be queued.
   */
  const authorize = (req: FastifyRequest, model: string, need: 'invoker' | 'operator'): Promise<void> | undefined => {
    if (!authOn && need === 'invoker') return undefined;
    const check = (p: Principal): void => {
      requireRole(p, need);
      requireModel(p, model);
    };
    const cached = auth.cached(req.headers.authorization);
    if (cached !== undefined) {
      check(cached);
      return undefined;
    }
    return auth.authenticate(req.headers.authorization).then(check);
  };

  // ── health and server metadata (open, for load balancers) ───────────────
  app.get('/v2', async () => ({ name: 'modelgate', version: deps.version, extensions: [] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = manager.isReady() && (router?.isReady() ?? true) && !deps.isClosing();
    return reply.status(ready ? 200 : 400).send({ ready });
  });

  // ── model metadata and readiness (open) ──────────────────────────────────
  app.get<{ Params: { name: string } }>('/v2/models/:name', async (req) => {
    const route = router?.get(req.params.name);
    if (route) return { ...metadata(await manager.servableVersion(route.model, route.stable.version)), name: route.name };
    return metadata((await manager.resolve(req.params.name)).info);
  });
  // Read from the registry, not loaded: an open endpoint must not let anyone pull any version into memory.
  app.get<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version', async (req) =>
    metadata(await manager.servableVersion(req.params.name, parseVersion(req.params.version))),
  );
  app.get<{ Params: { name: string } }>('/v2/models/:name/ready', async (req, reply) => {
    const route = router?.get(req.params.name);
    if (route) {
      const ready = manager.ready(route.stable.key);
      return reply.status(ready ? 200 : 400).send({ name: req.params.name, ready: Boolean(ready), ...(ready ? { version: String(ready.version) } : {}) });
    }
    // An unknown name is looked up (404 when it is not served); a known one answers without waiting for a load.
    const lv = manager.tryResolve(req.params.name) ?? (manager.status(req.params.name) ? undefined : await manager.resolve(req.params.name));
    return reply.status(lv ? 200 : 400).send({ name: req.params.name, ready: Boolean(lv), ...(lv ? { version: String(lv.version) } : {}) });
  });
  app.get<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version/ready', async (req, reply) => {
    const lv = manager.loadedVersions().find((v) => v.model === req.params.name && v.version === parseVersion(req.params.version) && v.state === 'ready');
    return reply.status(lv ? 200 : 400).send({ name: req.params.name, version: req.params.version, ready: Boolean(lv) });
  });

  // ── inference ────────────────────────────────────────────────────────────
  // The inference handlers are plain functions returning the runner's promise: with a cached key nothing
  // on the way to runner.submit() awaits, so the request is queued in the same turn it was parsed in.
  app.post<{ Params: { name: string } }>('/v2/models/:name/infer', (req, reply) => {
    const name = req.params.name;
    const route = router?.get(name);
    const go = route ? () => inferDeployment(req, reply, route, 'v2') : () => infer(req, reply, name, () => manager.tryResolve(name), () => manager.resolve(name), 'v2');
    const checking = authorize(req, route ? route.model : name, 'invoker');
    return checking === undefined ? go() : checking.then(go);
  });
  app.post<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version/infer', async (req, reply) => {
    // A pinned version bypasses the traffic policy, so it needs an operator key even when the data plane is open.
    await authorize(req, req.params.name, 'operator');
    const v = parseVersion(req.params.version);
    const resolve = () => manager.resolvePinned(req.params.name, v);
    return infer(req, reply, req.params.name, () => undefined, resolve, 'v2');
  });
  // KServe V1 names the verb after a colon (`weather:predict`); Fastify would read `:name::predict` as one
  // parameter, so the verb is split off here.
  app.post<{ Params: { target: string } }>('/v1/models/:target', (req, reply) => {
    const m = /^(.+):predict$/.exec(req.params.target);
    if (!m?.[1]) throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_FOUND', `No endpoint ${req.url}. The V1 endpoint is POST /v1/models/{name}:predict.`);
    const name = m[1];
    const route = router?.get(name);
    const go = route ? () => inferDeployment(req, reply, route, 'v1') : () => infer(req, reply, name, () => manager.tryResolve(name), () => manager.resolve(name), 'v1');
    const checking = authorize(req, route ? route.model : name, 'invoker');
    return checking === undefined ? go() : checking.then(go);
  });

  // Span attributes per loaded version, built once (tracing.ts: "build once per loaded model and reuse").
  const spanAttributes = new WeakMap<LoadedVersion, Attributes>();

  /** Answers an inference request: resolve the version, decode, queue on its runner, encode the outputs. */
  function infer(
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    tryResolve: () => LoadedVersion | undefined,
    resolve: () => Promise<LoadedVersion>,
    protocol: 'v1' | 'v2',
  ): Promise<unknown> {
    const started = performance.now();
    req.infer = { model: name, version: 'none', started };
    if (req.body === undefined || req.body === null) throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'The request has no JSON body. Send Content-Type: application/json with an inference request.');
    const parent = req.traceCtx ?? extractContext(req.headers);
    const deadline = Date.now() + requestTimeout(req, maxTimeout);
    // Resolve, decode and submit without yielding in between, so an alias swap cannot retire the chosen
    // version between picking it and queueing on it; a version retired while we awaited is picked again.
    // The usual case (a ready version) takes no await at all.
    const lv = tryResolve();
    if (lv !== undefined && lv.state === 'ready' && lv.runner) return submit(req, reply, name, lv, lv.runner, parent, deadline, protocol);
    return (async () => {
      for (let attempt = 0; ; attempt++) {
        const lv = tryResolve() ?? (await resolve());
        if ((lv.state !== 'ready' || !lv.runner) && attempt < 3) continue;
        if (lv.state !== 'ready' || !lv.runner) throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY');
        return submit(req, reply, name, lv, lv.runner, parent, deadline, protocol);
      }
    })();
  }

  /** Answers through a deployment: choose the arm (kill switch, rules, sticky weights), then as infer() does. */
  function inferDeployment(req: FastifyRequest, reply: FastifyReply, route: DeploymentRoute, protocol: 'v1' | 'v2'): Promise<unknown> {
    const started = performance.now();
    req.infer = { model: route.name, version: 'none', started, protocol };
    if (req.body === undefined || req.body === null) throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'The request has no JSON body. Send Content-Type: application/json with an inference request.');
    const parent = req.traceCtx ?? extractContext(req.headers);
    const overall = Date.now() + requestTimeout(req, maxTimeout);
    const deadline = Math.min(overall, Date.now() + (route.timeoutMs ?? maxTimeout));
    if (route.fallbackSwitch !== null && degradation !== undefined && route.fallbacks.length > 0) {
      // Switched to fallback (by hand or by an SLO policy): the arms are not asked at all.
      req.infer.deployment = route;
      return answerFromChain(req, reply, route, protocol, parent, overall, 'switch', new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', `Deployment "${route.name}" is switched to its fallback chain and no step of it could answer. Switch it back with \`modelgate deployments fallback ${route.name} off\`.`), undefined);
    }
    const go = (c: { arm: RouteArm; lv: LoadedVersion }): Promise<unknown> => {
      const s = req.infer!;
      s.deployment = route;
      s.arm = c.arm;
      void reply.header('x-modelgate-arm', c.arm.name);
      const monitored = monitor !== undefined && route.monitoring.enabled;
      if (monitored) {
        s.lv = c.lv;
        void reply.header('x-request-id', req.id);
      }
      const keep = route.shadows.length > 0 || monitored;
      if (degradation === undefined) return submit(req, reply, route.name, c.lv, c.lv.runner!, parent, deadline, protocol, keep);
      return answerResilient(req, reply, route, c, parent, deadline, overall, protocol, keep);
    };
    const choice = router!.choose(route, req.headers, req.body, protocol);
    if (choice !== undefined && choice.lv.runner) {
      const checking = monitor?.pendingCheck(route, choice.lv);
      return checking === undefined ? go(choice) : checking.then(() => go(choice));
    }
    return (async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        let c = router!.choose(route, req.headers, req.body, protocol);
        if (c === undefined) {
          try {
            c = await router!.awaitStable(route);
          } catch (e) {
            const err = new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', `Deployment "${route.name}" cannot serve yet: ${(e as Error).message}.`);
            if (degradation !== undefined && route.fallbacks.length > 0) {
              req.infer!.deployment = route;
              return answerFromChain(req, reply, route, protocol, parent, overall, 'failure', err, undefined);
            }
            throw err;
          }
        }
        if (c.lv.state === 'ready' && c.lv.runner) return go(c);
      }
      throw new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', `Deployment "${route.name}" has no ready version yet. Retry shortly.`);
    })();
  }

  /**
   * The chosen version with spec.resilience around it: a cache hit may answer first (serveHits); an open
   * circuit skips the version; a failure (5xx) is retried while the retry budget allows, then the fallback
   * chain answers. Client errors (4xx) are never retried nor answered by a fallback.
   */
  function answerResilient(req: FastifyRequest, reply: FastifyReply, route: DeploymentRoute, c: { arm: RouteArm; lv: LoadedVersion }, parent: Context, deadline: number, overall: number, protocol: 'v1' | 'v2', keep: boolean): Promise<unknown> {
    const d = degradation!;
    const res = route.resilience;
    d.recordRequest(route, performance.now());
    let key: string | undefined;
    if (res.cache.enabled) {
      key = d.cacheKey(protocol, req.body);
      if (key !== undefined && res.cache.serveHits) {
        const hit = d.cacheGet(route, key);
        // Only the chosen version's own answers are served as hits (after a rollout, the old ones are not).
        if (hit !== undefined && hit.version === String(c.arm.version)) {
          void reply.header('x-modelgate-cache', 'hit');
          req.infer!.version = hit.version;
          req.infer!.cached = true;
          return Promise.resolve(encodeCached(req, route, hit, protocol));
        }
      }
    }
    const keepOutputs = keep || key !== undefined || res.review !== undefined;
    const attempt = (n: number): Promise<unknown> => {
      const breaker = d.breaker(route, c.arm.key);
      if (breaker !== undefined && !breaker.allow(performance.now())) {
        return answerFromChain(req, reply, route, protocol, parent, overall, 'failure', new ModelgateError('MG_ERR_INFER_CIRCUIT_OPEN', `The circuit breaker of ${c.arm.key} is open after repeated failures${route.fallbacks.length > 0 ? ' and no fallback could answer' : ''}. Retry later.`), key, 503);
      }
      let pending: Promise<unknown>;
      try {
        pending = submit(req, reply, route.name, c.lv, c.lv.runner!, parent, deadline, protocol, keepOutputs);
      } catch (e) {
        // Decoding and the data-quality check throw before anything is queued.
        pending = Promise.reject(e);
      }
      return pending.then(
        (body) => {
          breaker?.success(performance.now());
          const s = req.infer!;
          if (s.outputs !== undefined) {
            if (key !== undefined) d.cacheSet(route, key, { outputs: s.outputs, version: s.version, rows: s.rows ?? 1 });
            if (res.review !== undefined) {
              const conf = topConfidence(s.outputs, s.rows ?? 1, res.review.output);
              const low = conf === null ? undefined : Math.min(...conf);
              if (low !== undefined && low < res.review.confidenceBelow) {
                s.review = low;
                void reply.header('x-modelgate-review', 'queued');
              }
            }
          }
          return body;
        },
        (e: unknown) => {
          const mg = toInferError(e);
          if (mg.code === 'MG_ERR_INFER_DATA_QUALITY' && mg.details?.fallback === true) return answerFromChain(req, reply, route, protocol, parent, overall, 'data_quality', mg, key, mg.status);
          if (mg.status < 500 || mg.code === 'MG_ERR_INFER_SHUTTING_DOWN') throw e;
          // A full queue is overload, not the version's fault: it may fall back, but does not trip the breaker.
          if (mg.code !== 'MG_ERR_INFER_QUEUE_FULL') breaker?.failure(performance.now());
          if (n < res.retries.maxAttempts && Date.now() < deadline && d.tryRetry(route, performance.now())) {
            return sleep(backoffMs(n, res.retries.backoffMs, res.retries.maxBackoffMs)).then(() => attempt(n + 1));
          }
          return answerFromChain(req, reply, route, protocol, parent, overall, 'failure', mg, key, mg.status);
        },
      );
    };
    return attempt(1);
  }

  /**
   * The fallback chain, step by step, until one answers; the answer says it is degraded (header, and a V2
   * parameter). When none answers, `error` is thrown (a client error a step met first wins: it is the
   * caller's to fix), so a failed prediction is never answered as a success.
   */
  async function answerFromChain(req: FastifyRequest, reply: FastifyReply, route: DeploymentRoute, protocol: 'v1' | 'v2', parent: Context, overall: number, cause: DegradedCause, error: ModelgateError, key: string | undefined, primaryStatus?: number): Promise<unknown> {
    const d = degradation!;
    const s = req.infer!;
    if (primaryStatus !== undefined) s.primaryStatus = primaryStatus;
    else if (cause === 'switch') s.arm = undefined;
    // The chain's answers are not the chosen version's: no shadow comparison, no review of its confidence.
    s.outputs = undefined;
    let clientError: unknown;
    for (const f of route.fallbacks) {
      if (Date.now() >= overall) break;
      let body: unknown;
      try {
        if (f.kind === 'version' || f.kind === 'model') {
          // A fallback version still loading (a deployment just applied, a replica just started) is waited
          // for within the request's deadline rather than skipped: skipping it left nothing to answer with.
          const lv = manager.ready(f.key) ?? (await loaded(manager.loadInProgress(f.key), overall));
          const b = d.breaker(route, f.key);
          if (!lv?.runner || (b !== undefined && !b.allow(performance.now()))) continue;
          try {
            body = await submit(req, reply, route.name, lv, lv.runner, parent, overall, protocol);
            b?.success(performance.now());
          } catch (e) {
            if (toInferError(e).status >= 500) b?.failure(performance.now());
            throw e;
          }
        } else if (f.kind === 'cache') {
          key ??= route.resilience.cache.enabled ? d.cacheKey(protocol, req.body) : undefined;
          const hit = key === undefined ? undefined : d.cacheGet(route, key);
          if (hit === undefined) continue;
          s.version = hit.version;
          body = encodeCached(req, route, hit, protocol);
        } else if (f.kind === 'static') {
          const rows = rowsOf(req.body, protocol, route);
          const outputs = d.staticOutputs(f, rows);
          s.version = 'static';
          body = protocol === 'v2' ? encodeInferResponse({ modelName: route.name, modelVersion: 'static', id: requestId(req), outputs }) : encodeV1Response(outputs, rows);
        } else {
          if (reviews === undefined) continue;
          // Reviewers see the request as the prediction log would keep it: redacted by the monitoring policy.
          const id = await reviews.enqueue({ deployment: route.name, model: route.model, version: route.stable.version, requestId: requestId(req), reason: 'fallback', confidence: null, inputs: monitor ? monitor.redact(route, req.body) : req.body, outputs: null });
          s.version = 'review';
          void reply.status(202);
          void reply.header('x-modelgate-review', String(id));
          body = protocol === 'v2' ? { model_name: route.name, id: requestId(req), outputs: [], parameters: { review_id: id } } : { predictions: [], review_id: id };
        }
      } catch (e) {
        if (toInferError(e).status < 500) clientError ??= e;
        continue;
      }
      s.degraded = { kind: f.kind, cause };
      d.degraded(route, f.kind, cause);
      void reply.header('x-modelgate-degraded', f.kind);
      void reply.header('x-modelgate-degraded-cause', cause);
      return markDegraded(body, f.kind, cause);
    }
    throw clientError ?? error;
  }

  /** The version a load under way gives, if it is ready by `deadline` (epoch ms); undefined otherwise. */
  async function loaded(load: Promise<LoadedVersion> | undefined, deadline: number): Promise<LoadedVersion | undefined> {
    if (load === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))));
    try {
      // A load that fails leaves this step out, as a version that failed to load always was.
      const lv = await Promise.race([load.catch(() => undefined), late]);
      return lv?.state === 'ready' ? lv : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A cached answer re-encoded for this request (its own id). */
  function encodeCached(req: FastifyRequest, route: DeploymentRoute, hit: CachedAnswer, protocol: 'v1' | 'v2'): unknown {
    return protocol === 'v2' ? encodeInferResponse({ modelName: route.name, modelVersion: hit.version, id: requestId(req), outputs: hit.outputs }) : encodeV1Response(hit.outputs, hit.rows);
  }

  /** Rows of a request, for a static answer: V1 instances, or the V2 batch as the stable version reads it. */
  function rowsOf(body: unknown, protocol: 'v1' | 'v2', route: DeploymentRoute): number {
    const b = body as { instances?: unknown; inputs?: unknown };
    if (protocol === 'v1') {
      if (!Array.isArray(b.instances) || b.instances.length === 0) throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'A V1 request needs a non-empty "instances" array.');
      return b.instances.length;
    }
    const lv = manager.ready(route.stable.key);
    if (lv) return decodeInferRequest(body, lv.info.signature).batchSize ?? 1;
    const first = Array.isArray(b.inputs) ? (b.inputs[0] as { shape?: unknown } | undefined) : undefined;
    const rows = Array.isArray(first?.shape) ? Number(first.shape[0]) : NaN;
    if (!Number.isInteger(rows) || rows < 1) throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'A V2 request needs "inputs" with a shape whose first dimension is the number of rows.');
    return rows;
  }

  /** Queues a request for a human decision, after the response; a failure is logged, never the caller's. */
  function queueReview(req: FastifyRequest, route: DeploymentRoute, model: string, version: number, reason: 'low_confidence' | 'fallback', confidence: number | null, outputs: TensorMap | undefined): void {
    if (reviews === undefined) return;
    const raw = req.body;
    const id = req.infer?.responseId ?? req.id;
    setImmediate(() => {
      const body = monitor ? monitor.redact(route, raw) : raw;
      reviews.enqueue({ deployment: route.name, model, version, requestId: id, reason, confidence, inputs: body, outputs: outputs === undefined ? null : encodeInferResponse({ modelName: route.name, modelVersion: String(version), id, outputs }).outputs }).catch((err: unknown) => deps.logger.warn({ err: { message: (err as Error).message }, deployment: route.name }, 'could not queue a prediction for review'));
    });
  }

  /** Decodes the request against `lv`'s signature and queues it on `runner`, synchronously; resolves to the response body. */
  function submit(
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    lv: LoadedVersion,
    runner: InferenceRunner,
    parent: Context,
    deadline: number,
    protocol: 'v1' | 'v2',
    keepOutputs = false,
  ): Promise<unknown> {
    lv.lastUsed = Date.now();
    const version = String(lv.version);
    req.infer!.version = version;
    let attrs = spanAttributes.get(lv);
    if (attrs === undefined) spanAttributes.set(lv, (attrs = modelAttributes(name, version)));
    const requestSpan = startSpan(`modelgate ${protocol} infer`, attrs, parent, SpanKind.SERVER);
    const ctx = withSpan(parent, requestSpan);
    const validateSpan = startSpan(SPAN_NAMES.validate, attrs, ctx);
    const queueSpan = startSpan(SPAN_NAMES.queue, attrs, ctx);
    let inferSpan: Span | undefined;
    const onStart = (queueMs: number) => {
      queueSpan.end();
      inferSpan = startSpan(SPAN_NAMES.infer, attrs, ctx);
      metrics.recordQueue(name, version, queueMs / 1000);
    };
    let pending: Promise<TensorMap>;
    let respond: (outputs: TensorMap) => unknown;
    try {
      if (protocol === 'v2') {
        const decoded = decodeInferRequest(req.body, lv.info.signature);
        if (keepOutputs) {
          req.infer!.rows = decoded.batchSize ?? 1;
          watch(req, reply, lv, decoded.inputs, decoded.batchSize ?? 1);
        }
        validateSpan.end();
        pending = runner.submit(decoded.inputs, decoded.batchSize ?? 1, { deadline, outputs: decoded.outputs, onStart });
        const id = decoded.id ?? req.id;
        if (keepOutputs) {
          // Labels refer to a prediction by this id: the V2 request's own id when it has one, else x-request-id.
          req.infer!.responseId = id;
          if (decoded.id !== undefined && req.infer!.lv !== undefined && HEADER_SAFE.test(id)) void reply.header('x-request-id', id);
        }
        respond = (outputs) => encodeInferResponse({ modelName: name, modelVersion: version, id, outputs, ...(decoded.parameters ? { parameters: decoded.parameters } : {}) });
      } else {
        if (!lv.info.features) throw new ModelgateError('MG_ERR_INFER_V1_UNSUPPORTED', `Model "${name}" version ${version} has no recorded feature order. Use POST /v2/models/${name}/infer.`);
        const route = req.infer!.deployment;
        const decoded = decodeV1Instances(req.body, lv.info.features, lv.info.signature, route ? router?.featureUnion(route) : undefined);
        if (keepOutputs) {
          req.infer!.rows = decoded.rows;
          watch(req, reply, lv, decoded.inputs, decoded.rows);
        }
        validateSpan.end();
        pending = runner.submit(decoded.inputs, decoded.rows, { deadline, onStart });
        respond = (outputs) => encodeV1Response(outputs, decoded.rows);
      }
    } catch (e) {
      validateSpan.end();
      queueSpan.end();
      requestSpan.end();
      throw e;
    }
    const queuedAt = keepOutputs ? performance.now() : 0;
    return pending.then(
      (outputs) => {
        queueSpan.end();
        inferSpan?.end();
        if (keepOutputs) {
          req.infer!.outputs = outputs;
          req.infer!.inferMs = performance.now() - queuedAt;
        }
        try {
          void reply.header('x-modelgate-version', version);
          // Requests accepted before SIGTERM still finish, on a connection that then closes.
          if (deps.isClosing()) void reply.header('connection', 'close');
          const tp = traceparentOf(ctx);
          if (tp) void reply.header('traceparent', tp);
          return respond(outputs);
        } finally {
          requestSpan.end();
        }
      },
      (e: unknown) => {
        queueSpan.end();
        inferSpan?.end();
        requestSpan.end();
        throw e;
      },
    );
  }

  /**
   * For a monitored deployment: keeps the decoded inputs for the profile, and applies the data-quality action
   * (reject throws a 400 before the model runs; allow flags the answer with x-modelgate-data-quality).
   */
  function watch(req: FastifyRequest, reply: FastifyReply, lv: LoadedVersion, inputs: TensorMap, rows: number): void {
    const s = req.infer!;
    if (monitor === undefined || s.deployment === undefined || !s.deployment.monitoring.enabled) return;
    s.inputs = inputs;
    s.rows = rows;
    const issues = monitor.check(s.deployment, lv, inputs);
    // Feature names come from the model: anything a header cannot carry is replaced, so the answer never fails on it.
    if (issues !== undefined) void reply.header('x-modelgate-data-quality', describeIssues(issues).slice(0, 512).replace(/[^\x20-\x7e]/g, '?'));
  }

  function metadata(info: ModelVersionInfo): Record<string, unknown> {
    const spec = (t: TensorSpec) => ({ name: t.name, datatype: t.datatype ?? t.onnxType, shape: (t.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)) });
    return {
      name: info.model,
      versions: [String(info.version)],
      platform: info.format === 'js' ? 'modelgate_js' : 'onnxruntime_onnx',
      inputs: info.signature.inputs.map(spec),
      outputs: info.signature.outputs.map(spec),
      ...(info.features ? { parameters: { features: info.features } } : {}),
    };
  }

}

/** A degraded V2 answer says so in its parameters too (a V1 answer has no place for it but the header). */
function markDegraded(body: unknown, kind: DegradedKind, cause: DegradedCause): unknown {
  if (typeof body !== 'object' || body === null || !('model_name' in body)) return body;
  const b = body as { parameters?: Record<string, unknown> };
  b.parameters = { ...(b.parameters ?? {}), degraded: kind, degraded_cause: cause };
  return b;
}

/** The id an answer carries: the V2 request's own id when it has one, else the request id. */
function requestId(req: FastifyRequest): string {
  const id = (req.body as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 ? id : req.id;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A value that can go in a response header as it is (a client's id may hold anything). */
const HEADER_SAFE = /^[\x21-\x7e]{1,256}$/;

function parseVersion(v: string): number {
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new ModelgateError('MG_ERR_INFER_VERSION_NOT_SERVABLE', `"${v}" is not a version number; versions are numbered from 1.`);
  return Number(v);
}

function requestTimeout(req: FastifyRequest, max: number): number {
  const h = req.headers['x-modelgate-timeout-ms'];
  const n = typeof h === 'string' ? Number(h) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : max;
}

/** Maps anything thrown on the data plane to an inference error code (client mistakes are never 500). */
function toInferError(err: unknown): ModelgateError {
  if (err instanceof ModelgateError) return err;
  const e = err as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ModelgateError('MG_ERR_INFER_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ModelgateError('MG_ERR_INFER_UNSUPPORTED_MEDIA_TYPE', `Content-Type ${e.message.replace(/^Unsupported Media Type: ?/, '') || 'is missing'}: inference requests are JSON; send Content-Type: application/json.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'The request body is empty. Send an inference request as JSON.');
    default:
      break;
  }
  const mapped = toModelgateError(err);
  if (mapped.code === 'MG_ERR_REQUEST_MALFORMED_JSON' || mapped.code === 'MG_ERR_REQUEST_INVALID') {
    return new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', mapped.message);
  }
  if (mapped.code === 'MG_ERR_REQUEST_TOO_LARGE') return new ModelgateError('MG_ERR_INFER_BODY_TOO_LARGE');
  if (mapped.code === 'MG_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE') return new ModelgateError('MG_ERR_INFER_UNSUPPORTED_MEDIA_TYPE');
  return mapped.code === 'MG_ERR_SERVER_INTERNAL' ? new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', undefined, undefined, { cause: err }) : mapped;
}
