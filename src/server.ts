// Starts Modelgate: store, first-start bootstrap (admin key, default owner, example models), HTTP, signals.
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config/index.js';
import { createContext, type AppContext } from './context.js';
import { adminKeyFile, bootstrapAdminKey, type Principal } from './governance/keys.js';
import { packagePath } from './paths.js';
import { createGateway, type Gateway } from './serving/gateway.js';
import { RolloutController } from './rollout/rollout-controller.js';
import { MonitorLoop, registerMonitoringMetrics } from './monitoring/monitor-loop.js';
import { SloWatcher } from './slo/slo-watcher.js';
import { Counter } from 'prom-client';

export interface RunningServer {
  app: FastifyInstance;
  ctx: AppContext;
  gateway: Gateway;
  monitorLoop: MonitorLoop;
  /** Evaluates SLOs and the other alert sources, raises alerts and takes the automatic actions. */
  sloWatcher: SloWatcher;
  url: string;
  /** Set only on the start that created it. */
  adminKey: string | null;
  /** Stops accepting, lets in-flight requests finish (up to server.shutdownTimeoutMs), releases everything. */
  close(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, options: { examples?: boolean; pgSchema?: string; logger?: Logger } = {}): Promise<RunningServer> {
  const ctx = await createContext(config, { ...(options.pgSchema ? { pgSchema: options.pgSchema } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  const created = await bootstrapAdminKey(ctx.store.db, config.home);
  if (options.examples) await seedExamples(ctx);
  const gateway = createGateway(ctx, await ctx.salt());
  ctx.refreshRoutes = () => gateway.router.refreshAfterChange();
  if (config.auth.dataPlane === 'off') {
    ctx.logger.warn('auth.dataPlane is off: anyone who can reach this port can call the models. Use this only on a trusted network.');
  }
  await gateway.manager.start();
  await gateway.router.start();
  gateway.armStats.start();
  gateway.sli.start();
  gateway.monitor.start();
  const monitorLoop = new MonitorLoop({ config, store: ctx.store, service: ctx.monitoring, router: gateway.router, recorder: gateway.monitor, logger: ctx.logger });
  registerMonitoringMetrics(gateway.metrics.registry, monitorLoop, gateway.monitor);
  monitorLoop.start();
  const controller = config.rollout.controller
    ? new RolloutController({
        store: ctx.store,
        logger: ctx.logger,
        tickMs: config.rollout.tickMs,
        prepare: async (model, version) => {
          await gateway.manager.ensureReady(model, version);
        },
        onTrafficChange: () => gateway.router.refreshAfterChange(),
        flushStats: () => gateway.armStats.flush(),
        metrics: gateway.rolloutMetrics,
        modelMetrics: (deployment, version, name, window, stableVersion) => monitorLoop.modelMetric(deployment, version, name, window, stableVersion),
      })
    : null;
  controller?.start();
  const actions = new Counter({ name: 'modelgate_slo_actions_total', help: 'Automatic actions taken by SLO policies (rollback, freeze, unfreeze, fallback_on, fallback_off), by deployment.', labelNames: ['deployment', 'action'] as const, registers: [gateway.metrics.registry] });
  const sloWatcher = new SloWatcher({
    store: ctx.store,
    slos: ctx.slos,
    rollouts: ctx.rollouts,
    router: gateway.router,
    alerts: ctx.alerts,
    incidents: ctx.incidents,
    logger: ctx.logger,
    evaluateMs: config.alerting.evaluateMs,
    lostRecords: () => gateway.monitor.status().lostRecords,
    onTrafficChange: () => gateway.router.refreshAfterChange(),
    onAction: (deployment, action) => actions.inc({ deployment, action }),
    flush: () => gateway.sli.flush(),
    signals: config.alerting.signals,
    redactions: () => gateway.monitor.status().redactions,
    fairness: () => {
      const out = new Map<string, { version: number; attribute: string; parityRatio: number | null; records: number }[]>();
      for (const [deployment, seen] of monitorLoop.last()) {
        if (!seen.quality) continue;
        out.set(deployment, seen.quality.versions.flatMap((v) => v.fairness.map((f) => ({ version: v.version, attribute: f.attribute, parityRatio: f.demographic_parity_ratio, records: f.count - f.missing }))));
      }
      return out;
    },
  });
  sloWatcher.start();
  ctx.alerts.registerMetrics(gateway.metrics.registry);
  ctx.alerts.start();
  const app = await buildApp(ctx, gateway);
  await app.listen({ host: config.server.host, port: config.server.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  ctx.logger.info({ url, store: ctx.store.dialect, location: ctx.store.location, dataPlaneAuth: config.auth.dataPlane }, 'modelgate listening');
  let closing: Promise<void> | undefined;
  const shutdown = async () => {
    gateway.closing = true;
    // Requests already accepted finish; new ones get 503. After the deadline, open connections are cut.
    const timer = setTimeout(() => {
      ctx.logger.warn({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown deadline reached; closing remaining connections');
      app.server.closeAllConnections();
    }, config.server.shutdownTimeoutMs);
    timer.unref();
    try {
      await controller?.stop();
      await sloWatcher.stop();
      await ctx.alerts.stop();
      await monitorLoop.stop();
      await app.close();
      gateway.router.stop();
      await gateway.armStats.stop();
      await gateway.sli.stop();
      await gateway.monitor.stop();
      await gateway.manager.drain();
    } finally {
      clearTimeout(timer);
      await ctx.store.close();
    }
  };
  return {
    app,
    ctx,
    gateway,
    monitorLoop,
    sloWatcher,
    url,
    adminKey: created?.key ?? null,
    close: () => (closing ??= shutdown()),
  };
}

const EXAMPLES_PRINCIPAL: Principal = { actor: 'system:examples', keyId: null, role: 'admin', modelPatterns: [] };

/** Registers the example models (weather v1 and v2) when the registry is empty; production → v1, staging → v2. */
export async function seedExamples(ctx: AppContext): Promise<boolean> {
  if ((await ctx.registry.countModels()) > 0) return false;
  for (const v of ['v1', 'v2']) {
    const dir = packagePath('examples', 'weather', v);
    if (!existsSync(`${dir}/model.onnx`)) {
      ctx.logger.warn({ dir }, 'example model missing; skipping examples');
      return false;
    }
  }
  const { readFile } = await import('node:fs/promises');
  for (const v of ['v1', 'v2']) {
    const dir = packagePath('examples', 'weather', v);
    await ctx.registry.register(EXAMPLES_PRINCIPAL, {
      name: 'weather',
      artifact: { path: `${dir}/model.onnx` },
      card: { text: await readFile(`${dir}/card.yaml`, 'utf8'), source: `${dir}/card.yaml` },
      reference: { path: `${dir}/reference.csv` },
      metadata: { 'training_data': 'vega-datasets/seattle-weather.csv (2012-2013)', 'code': 'examples/train-weather.ts' },
      ...(v === 'v2' ? { parent: '1' } : {}),
      owner: 'examples <examples@modelgate.local>',
    });
  }
  await ctx.registry.setAlias(EXAMPLES_PRINCIPAL, 'weather', 'production', '1');
  await ctx.registry.setAlias(EXAMPLES_PRINCIPAL, 'weather', 'staging', '2');
  ctx.logger.info('registered the example models: weather@1 (production), weather@2 (staging)');
  return true;
}

export function describeAdminKey(home: string, created: string | null): string {
  if (created) return `admin key (shown once; also saved to ${home}/admin.key, mode 0600):\n  ${created}`;
  const file = adminKeyFile(home);
  return file ? `admin key: in ${file}` : 'admin key: not on this machine (it was created elsewhere); ask an admin for a key';
}
