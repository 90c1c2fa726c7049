// What a running Modelgate holds: configuration, store, services and the logger. Built once in server.ts.
import { pino, type Logger } from 'pino';
import type { Config } from './config/index.js';
import { openStore, type Store } from './store/database.js';
import { ArtifactStore } from './registry/artifact-store.js';
import { createRegistry, type Registry } from './registry/registry-service.js';

export interface AppContext {
  config: Readonly<Config>;
  store: Store;
  registry: Registry;
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
    destination ?? process.stdout,
  );
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
  return { config, store, registry, logger: options.logger ?? createLogger(config.log.level) };
}
