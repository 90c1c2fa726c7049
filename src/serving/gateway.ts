// The serving side of a running Modelgate: the model manager and the metrics, started and drained together.
import { readFileSync } from 'node:fs';
import type { AppContext } from '../context.js';
import { packagePath } from '../paths.js';
import { createMetrics, type GatewayMetrics } from '../telemetry/metrics.js';
import { ModelManager } from './model-manager.js';

export interface Gateway {
  manager: ModelManager;
  metrics: GatewayMetrics;
  version: string;
  closing: boolean;
}

export function createGateway(ctx: AppContext): Gateway {
  const version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  const metrics = createMetrics({ version });
  const manager = new ModelManager({ config: ctx.config, store: ctx.store, registry: ctx.registry, logger: ctx.logger, metrics });
  metrics.setQueueDepthSource(() =>
    manager.loadedVersions().filter((lv) => lv.runner).map((lv) => ({ model: lv.model, version: String(lv.version), depth: lv.runner!.stats().queuedRequests })),
  );
  return { manager, metrics, version, closing: false };
}
