// Shared test plumbing: temporary homes, the two store dialects, principals and the example files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config/index.js';
import { createContext, createLogger, type AppContext } from '../src/context.js';
import type { Principal } from '../src/governance/keys.js';
import type { Role } from '../src/governance/roles.js';
import { packagePath } from '../src/paths.js';

export const PG_URL = process.env.MODELGATE_TEST_DATABASE_URL;
export const PG_SKIP = PG_URL ? false : 'PostgreSQL tests skipped: MODELGATE_TEST_DATABASE_URL is not set';

export const examplePath = (...p: string[]): string => packagePath('examples', ...p);
export const V1 = { model: examplePath('weather', 'v1', 'model.onnx'), card: examplePath('weather', 'v1', 'card.yaml'), reference: examplePath('weather', 'v1', 'reference.csv') };
export const V2 = { model: examplePath('weather', 'v2', 'model.onnx'), card: examplePath('weather', 'v2', 'card.yaml'), reference: examplePath('weather', 'v2', 'reference.csv') };

export function tempHome(prefix = 'mg-test-'): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export function principal(role: Role, modelPatterns: string[] = [], actor = `test:${role}`): Principal {
  return { actor, keyId: null, role, modelPatterns };
}

export interface DialectUnderTest {
  name: 'sqlite' | 'postgres';
  skip: false | string;
  /** A fresh, empty store (own SQLite file, or own PostgreSQL schema) and its cleanup. */
  open(overrides?: Partial<Config>): Promise<{ ctx: AppContext; config: Readonly<Config>; cleanup: () => Promise<void> }>;
}

export const DIALECTS: DialectUnderTest[] = [
  {
    name: 'sqlite',
    skip: false,
    async open(overrides = {}) {
      const t = tempHome();
      const config = loadConfig({ env: {}, flags: { home: t.home, log: { level: 'silent' }, ...overrides } });
      const ctx = await createContext(config, { logger: createLogger('silent') });
      return { ctx, config, cleanup: async () => { await ctx.store.close(); t.cleanup(); } };
    },
  },
  {
    name: 'postgres',
    skip: PG_SKIP,
    async open(overrides = {}) {
      const t = tempHome();
      const schema = `mg_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const config = loadConfig({ env: {}, flags: { home: t.home, databaseUrl: PG_URL!, log: { level: 'silent' }, ...overrides } });
      const ctx = await createContext(config, { logger: createLogger('silent'), pgSchema: schema });
      return {
        ctx,
        config,
        cleanup: async () => {
          await ctx.store.close();
          await dropSchema(schema);
          t.cleanup();
        },
      };
    },
  },
];

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/** Runs fn and returns the error it throws, failing when it does not throw. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the call to throw, but it succeeded');
}
