import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { loadConfig, type Config, type DeepPartial } from '../config/index.js';
import { createLogger } from '../context.js';
import type { Store } from '../store/database.js';
import { AlertManager } from './alert-manager.js';

// Construction reads only the configuration: a store that is never touched is enough here.
const NO_STORE = { db: {} } as unknown as Store;

function logged() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('info', stream), lines };
}

function manager(alerting: DeepPartial<Config['alerting']>, env: NodeJS.ProcessEnv = {}) {
  const log = logged();
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const config = loadConfig({ env: {}, flags: { home: '/tmp/unused', alerting } });
    return { manager: new AlertManager({ store: NO_STORE, config, logger: log.logger }), lines: log.lines };
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
  }
}

test('a route naming a sink that does not exist stops the manager from being built, naming the field', () => {
  assert.throws(() => manager({ sinks: {}, routes: { default: { page: ['pager'] } } }), (e: Error & { code?: string }) => e.code === 'MG_ERR_CONFIG_INVALID' && /alerting\.routes\.default\.page\[0\] names sink "pager"/.test(e.message));
});

test('a webhook sink without a secret is warned about once, at start, and a configured one is not', () => {
  const { lines } = manager({ sinks: { open: { type: 'webhook', url: 'https://h.example/a' }, signed: { type: 'webhook', url: 'https://h.example/b', secretEnv: 'MG_TEST_HOOK_SECRET' } } }, { MG_TEST_HOOK_SECRET: 'a-secret-long-enough-for-hmac' });
  const warnings = lines.filter((l) => l.includes('"level":40'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /alerting sink open has no secret; its webhooks are sent unsigned/);
  assert.ok(!lines.join('').includes('a-secret-long-enough-for-hmac'));
});

test('a pagerduty sink whose routing key variable is unset is warned about, naming the variable', () => {
  const { lines } = manager({ sinks: { pd: { type: 'pagerduty', routingKeyEnv: 'MG_TEST_PD_KEY_UNSET' } } });
  assert.match(lines.join(''), /alerting sink pd: MG_TEST_PD_KEY_UNSET is not set/);
});

test('stats start at zero for every severity', () => {
  assert.deepEqual(manager({}).manager.stats(), { delivered: {}, failed: {}, retried: {}, open: { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 } });
});
