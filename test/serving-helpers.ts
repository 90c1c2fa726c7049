// Starting a gateway for a test, and posting JSON to it.
import type { Logger } from 'pino';
import { loadConfig, type Config, type DeepPartial } from '../src/config/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropSchema, PG_URL, tempHome } from './helpers.js';

/** A gateway on 127.0.0.1 with a fresh home; on PostgreSQL (own schema, dropped afterwards) when asked. */
export async function startTestServer(
  overrides: DeepPartial<Config> = {},
  options: { postgres?: boolean; logger?: Logger } = {},
): Promise<{ server: RunningServer; key: string; cleanup: () => Promise<void> }> {
  const home = tempHome('mg-serve-');
  const schema = options.postgres ? `mg_serve_${process.pid}_${Math.random().toString(36).slice(2, 10)}` : undefined;
  const config = loadConfig({
    env: {},
    flags: { home: home.home, server: { port: 0 }, log: { level: 'silent' }, serving: { pollIntervalMs: 100 }, ...(options.postgres ? { databaseUrl: PG_URL! } : {}), ...overrides },
  });
  const server = await startServer(config, { ...(schema ? { pgSchema: schema } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  return {
    server,
    key: server.adminKey!,
    cleanup: async () => {
      await server.close();
      if (schema) await dropSchema(schema);
      home.cleanup();
    },
  };
}

export async function post(url: string, body: unknown, key?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

