// The rollout controller keeps its state in the store: killed with SIGKILL in the middle of a rollout, a new
// server process resumes where it stopped, honours the pause it was in, and applies no step twice.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { createContext, createLogger, type AppContext } from '../src/context.js';
import { verifyAudit } from '../src/governance/audit.js';
import { createKey } from '../src/governance/keys.js';
import { spawnServe, type ServeProcess } from './cli-helpers.js';
import { principal, tempHome, V1 } from './helpers.js';
import { deploymentDoc, startLoad, waitFor } from './rollout-helpers.js';

const admin = principal('admin');
const alice = principal('operator', [], 'test:alice');

describe('rollout controller across a kill -9', () => {
  const home = tempHome('mg-restart-');
  let ctx: AppContext;
  let server: ServeProcess | undefined;
  before(async () => {
    await writeFile(join(home.home, 'modelgate.yaml'), 'log:\n  level: warn\nserving:\n  pollIntervalMs: 100\nrollout:\n  tickMs: 100\n  statsFlushMs: 200\n');
    ctx = await createContext(loadConfig({ env: {}, flags: { home: home.home } }), { logger: createLogger('silent') });
    const card = { text: await readFile(V1.card, 'utf8'), source: V1.card };
    for (let i = 0; i < 2; i++) await ctx.registry.register(admin, { name: 'weather', artifact: { path: V1.model }, card, reference: { path: V1.reference }, owner: 'team <t@example.com>', metadata: { build: String(i + 1) } });
    await ctx.registry.setAlias(admin, 'weather', 'production', '1');
    await ctx.deployments.apply(alice, [deploymentDoc('weather', 'weather', { strategy: { canary: { analysisInterval: '30s', steps: [{ setWeight: 20 }, { pause: { duration: '3s' } }, { setWeight: 50 }, { pause: { duration: '1s' } }] } } })]);
  });
  after(async () => {
    server?.proc.kill('SIGKILL');
    await ctx?.store.close();
    home.cleanup();
  });

  it('resumes after SIGKILL mid-pause and applies every step exactly once', async () => {
    server = await spawnServe(home.home);
    const key = (await createKey(ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
    await waitFor(async () => (await fetch(`${server!.url}/v2/models/weather/ready`)).status === 200, 'the deployment ready');
    let load = startLoad(`${server.url}/v1/models/weather:predict`, key, { concurrency: 2, maxMs: 30_000 });
    await ctx.rollouts.start(alice, 'weather', { to: '2' });
    // Step 0 (setWeight 20) done, step 1 (a 3 s pause) under way: kill the server in the middle of it.
    await waitFor(async () => (await ctx.rollouts.status(admin, 'weather')).step === 1, 'the pause step', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    server.proc.kill('SIGKILL');
    await new Promise<void>((r) => server!.proc.once('exit', () => r()));
    await load.stop();
    const killedAt = Date.now();
    const during = await ctx.rollouts.status(admin, 'weather');
    assert.equal(during.phase, 'Progressing');
    assert.equal(during.step, 1);

    server = await spawnServe(home.home);
    load = startLoad(`${server.url}/v1/models/weather:predict`, key, { concurrency: 2, maxMs: 30_000 });
    const done = await waitFor(async () => {
      const s = await ctx.rollouts.status(admin, 'weather');
      return ['Succeeded', 'RolledBack', 'Aborted'].includes(s.phase) ? s : undefined;
    }, 'the rollout to finish after the restart', 30_000);
    const hits = await load.stop();
    assert.equal(done.phase, 'Succeeded', done.message ?? '');
    const ledger = (await ctx.deployments.history(admin, 'weather')).entries.reverse();
    assert.deepEqual(ledger.map((e) => e.action), ['apply', 'step', 'step', 'promote'], 'one ledger entry per step, none repeated');
    assert.deepEqual(ledger.map((e) => e.weights), [{ 1: 100 }, { 1: 80, 2: 20 }, { 1: 50, 2: 50 }, { 2: 100 }]);
    // The pause that was interrupted still lasted its 3 s from when it began, not from the restart.
    const pauseMs = Date.parse(ledger[2]!.at) - Date.parse(ledger[1]!.at);
    assert.ok(pauseMs >= 3000, `pause lasted ${pauseMs} ms`);
    assert.ok(Date.parse(ledger[2]!.at) - killedAt < 3000 + 10_000, 'the new process picked the rollout up');
    assert.equal((await ctx.registry.getModel(admin, 'weather')).aliases.production, 2);
    assert.ok(hits.some((h) => h.status === 200 && h.version === '2'), 'the restarted server serves the promoted version');
    const audit = await verifyAudit(ctx.store.db);
    assert.equal(audit.ok, true);
  });
});
