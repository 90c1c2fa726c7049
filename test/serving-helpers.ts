// Starting a gateway for a test, and posting JSON to it.
import { loadConfig, type Config, type DeepPartial } from '../src/config/index.js';
import { createLogger } from '../src/context.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempHome } from './helpers.js';

export async function startTestServer(overrides: DeepPartial<Config> = {}): Promise<{ server: RunningServer; key: string; cleanup: () => Promise<void> }> {
  const home = tempHome('mg-serve-');
  const config = loadConfig({ env: {}, flags: { home: home.home, server: { port: 0 }, log: { level: 'silent' }, serving: { pollIntervalMs: 100 }, ...overrides } });
  const server = await startServer(config);
  server.ctx.logger = createLogger('silent');
  return {
    server,
    key: server.adminKey!,
    cleanup: async () => {
      await server.close();
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

