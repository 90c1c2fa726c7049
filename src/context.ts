// What a running Modelgate holds: configuration, store, services and the logger. Built once in server.ts.
import { pino, type Logger } from 'pino';
import { bufferedStdout, type LineBuffer } from './telemetry/log-output.js';
import type { Config } from './config/index.js';
import { openStore, type Store } from './store/database.js';
import { ArtifactStore } from './registry/artifact-store.js';
import { createRegistry, type Registry } from './registry/registry-service.js';
import { createDeploymentService, type DeploymentService } from './rollout/deployment-service.js';
import { createRolloutService, type RolloutService } from './rollout/rollout-service.js';
import { createMonitoringService, type MonitoringService } from './monitoring/monitoring-service.js';
import { monitoringSalt } from './monitoring/salt.js';
import { createSloService, type SloService } from './slo/slo-service.js';
import { AlertManager } from './alerts/alert-manager.js';
import { createIncidentService, type IncidentService } from './incidents/incident-service.js';
import { createReviewService, type ReviewService } from './reviews/review-service.js';

export interface AppContext {
  config: Readonly<Config>;
  store: Store;
  registry: Registry;
  deployments: DeploymentService;
  rollouts: RolloutService;
  monitoring: MonitoringService;
  slos: SloService;
  /** Alerts and their notifications. Its timer (escalation, delivery) runs only once the server starts it. */
  alerts: AlertManager;
  incidents: IncidentService;
  reviews: ReviewService;
  /** The secret behind salted hashes (subject keys, hashed fields): configured, or created once in the store. */
  salt: () => Promise<string>;
  /**
   * Set by a running server: makes its gateway read the deployments now. The deployment service awaits it
   * after every change it commits, so a deployment applied in this process (over HTTP or by a direct caller)
   * is routed (and monitored) from the moment the call returns, not from the next poll.
   */
  refreshRoutes?: () => Promise<void>;
  logger: Logger;
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      // Keys and tokens must never reach a log line, wherever they appear.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.key', 'key', 'authorization'], censor: '[redacted]' },
      base: { service: 'modelgate' },
    },
    destination ?? stdoutDestination(),
  );
}

/** One buffered stdout per process (see telemetry/log-output.ts). */
let stdout: LineBuffer | undefined;
function stdoutDestination(): LineBuffer {
  return (stdout ??= bufferedStdout());
}

export async function createContext(config: Readonly<Config>, options: { logger?: Logger; pgSchema?: string } = {}): Promise<AppContext> {
  const store = await openStore({ home: config.home, databaseUrl: config.databaseUrl, ...(options.pgSchema ? { schema: options.pgSchema } : {}) });
  const registry = createRegistry(store, new ArtifactStore(config.home), {
    maxArtifactBytes: config.registry.maxArtifactBytes,
    maxReferenceBytes: config.registry.maxReferenceBytes,
    defaultOwner: config.owner,
    jsLimits: config.runtime.js,
  });
  await registry.ensureDefaultOwner();
  let salt: Promise<string> | undefined;
  const saltOf = () => (salt ??= monitoringSalt(store, config.monitoring.salt).catch((e: unknown) => {
    salt = undefined;
    throw e;
  }));
  const monitoring = createMonitoringService(store, registry, saltOf);
  const slos = createSloService(store);
  const logger = options.logger ?? createLogger(config.log.level);
  const incidents = createIncidentService(store, { slos });
  let alerts: AlertManager;
  try {
    // Checks alerting's sinks and routes: a bad configuration stops here, not at the first page.
    // SEV1 and SEV2 alerts open an incident (or join the deployment's open one).
    alerts = new AlertManager({ store, config, logger, onRaised: async (alert) => void (await incidents.onAlert(alert)) });
  } catch (e) {
    await store.close();
    throw e;
  }
  const ctx: AppContext = {
    config,
    store,
    registry,
    // A server sets refreshRoutes; the service calls it after each change it commits.
    deployments: createDeploymentService(store, registry, { changed: () => ctx.refreshRoutes?.() }),
    rollouts: createRolloutService(store, registry, { changed: () => ctx.refreshRoutes?.() }),
    monitoring,
    slos,
    incidents,
    reviews: createReviewService(store, { monitoring }),
    salt: saltOf,
    alerts,
    logger,
  };
  return ctx;
}
