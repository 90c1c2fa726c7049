// The serving side of a running Modelgate: the model manager and the metrics, started and drained together.
import { readFileSync } from 'node:fs';
import type { AppContext } from '../context.js';
import { packagePath } from '../paths.js';
import { createMetrics, type GatewayMetrics } from '../telemetry/metrics.js';
import { ModelManager } from './model-manager.js';
import { ArmStatsRecorder } from '../rollout/arm-stats.js';
import { DeploymentRouter } from '../rollout/deployment-router.js';
import { createRolloutMetrics, type RolloutMetrics } from '../rollout/rollout-metrics.js';
import { MonitorRecorder } from '../monitoring/recorder.js';
import { SliRecorder } from '../slo/sli-recorder.js';
import { Degradation } from './degradation.js';

export interface Gateway {
  manager: ModelManager;
  router: DeploymentRouter;
  armStats: ArmStatsRecorder;
  rolloutMetrics: RolloutMetrics;
  monitor: MonitorRecorder;
  /** Per-minute availability and latency counts behind `slo status`. */
  sli: SliRecorder;
  /** Circuit breakers, retry budgets and response caches of the deployments (spec.resilience). */
  degradation: Degradation;
  metrics: GatewayMetrics;
  version: string;
  closing: boolean;
}

export function createGateway(ctx: AppContext, salt: string): Gateway {
  const version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  const metrics = createMetrics({ version });
  const manager = new ModelManager({ config: ctx.config, store: ctx.store, registry: ctx.registry, logger: ctx.logger, metrics });
  metrics.setVersionSource(() =>
    manager.loadedVersions().filter((lv) => lv.runner).map((lv) => {
      const s = lv.runner!.stats();
      return { model: lv.model, version: String(lv.version), depth: s.queuedRequests, merging: s.merging };
    }),
  );
  const router = new DeploymentRouter({ config: ctx.config, store: ctx.store, manager, logger: ctx.logger });
  const r = ctx.config.rollout;
  const armStats = new ArmStatsRecorder(ctx.store, { flushMs: r.statsFlushMs, latencySamples: r.latencySamples, retentionMs: r.statsRetentionMs, logger: ctx.logger });
  const rolloutMetrics = createRolloutMetrics(metrics.registry, router, armStats);
  const monitor = new MonitorRecorder({ store: ctx.store, registry: ctx.registry, config: ctx.config, logger: ctx.logger, salt });
  const sli = new SliRecorder(ctx.store, { flushMs: r.statsFlushMs, logger: ctx.logger });
  const degradation = new Degradation(metrics.registry, ctx.logger, () => router.list());
  router.onChange = () => {
    degradation.retain();
    // A new split ends the arms' interval: no row of evidence mixes requests from before it with those after.
    void armStats.flush();
  };
  return { manager, router, armStats, rolloutMetrics, monitor, sli, degradation, metrics, version, closing: false };
}
