// End to end: SLOs kept in the store and their status from the gateway's own SLI counts, on SQLite and
// PostgreSQL. A deployment on a version that fails 30% of requests burns its budget and pages; a healthy
// one does not; the counts survive a restart; applies and deletes are audited.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { createKey } from '../src/governance/keys.js';
import { listAudit } from '../src/governance/audit.js';
import { packagePath } from '../src/paths.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropSchema, PG_SKIP, PG_URL, principal, tempHome, V1 } from './helpers.js';
import { post } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const admin = principal('admin');
const OWNER = 'weather-team <weather@example.com>';
const EXAMPLE = readFileSync(packagePath('src', 'slo', 'testdata', 'weather-slo.yaml'), 'utf8');
const INSTANCE = { precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7 };

/** The shipped example SLO, for another deployment. */
function exampleSlo(name: string, deployment: string): string {
  return EXAMPLE.replace('name: weather-availability', `name: ${name}`).replace('deployment: weather', `deployment: ${deployment}`);
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`SLO status end to end (${dialect})`, { skip: dialect === 'postgres' ? PG_SKIP : false }, () => {
    const home = tempHome('mg-slo-');
    const schema = dialect === 'postgres' ? `mg_slo_${process.pid}_${Math.random().toString(36).slice(2, 10)}` : undefined;
    const config = loadConfig({
      env: {},
      flags: { home: home.home, server: { port: 0 }, log: { level: 'silent' }, serving: { pollIntervalMs: 100 }, rollout: { statsFlushMs: 100 }, ...(dialect === 'postgres' ? { databaseUrl: PG_URL! } : {}) },
    });
    let server: RunningServer;
    let key: string;
    const start = () => startServer(config, schema ? { pgSchema: schema } : {});

    before(async () => {
      server = await start();
      const reg = server.ctx.registry;
      await reg.register(admin, { name: 'flk', artifact: { path: packagePath('test', 'fixtures', 'weather-flaky.mjs') }, format: 'js', owner: OWNER, features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
      await reg.setAlias(admin, 'flk', 'production', '1');
      await reg.register(admin, { name: 'wok', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: OWNER });
      await reg.setAlias(admin, 'wok', 'production', '1');
      key = (await createKey(server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
      for (const name of ['flk', 'wok']) {
        const doc = deploymentDoc(name, name);
        delete (doc.spec as Record<string, unknown>).strategy;
        await server.ctx.deployments.apply(admin, [doc as never]);
        await waitFor(async () => (await fetch(`${server.url}/v2/models/${name}/ready`)).status === 200, `${name} ready`);
      }
    });
    after(async () => {
      await server?.close();
      if (schema) await dropSchema(schema);
      home.cleanup();
    });

    async function traffic(deployment: string, n: number): Promise<{ ok: number; failed: number }> {
      let ok = 0;
      let failed = 0;
      for (let i = 0; i < n; i++) {
        const r = await post(`${server.url}/v1/models/${deployment}:predict`, { instances: [INSTANCE] }, key);
        if (r.status === 200) ok++;
        else if (r.status >= 500) failed++;
      }
      // onResponse runs after the client has its answer.
      await new Promise((r) => setTimeout(r, 30));
      await server.gateway.sli.flush();
      return { ok, failed };
    }

    it('applies SLOs (audited), lists them, and notes an SLO whose deployment does not exist', async () => {
      const applied = await server.ctx.slos.apply(admin, [exampleSlo('flk-availability', 'flk'), exampleSlo('wok-availability', 'wok'), exampleSlo('ghost-availability', 'ghost')].join('---\n'), 'slos.yaml');
      assert.deepEqual(applied.map((a) => [a.name, a.action, a.deploymentExists]), [['flk-availability', 'created', true], ['wok-availability', 'created', true], ['ghost-availability', 'created', false]]);
      const again = await server.ctx.slos.apply(admin, exampleSlo('flk-availability', 'flk'), 'slos.yaml');
      assert.equal(again[0]!.action, 'unchanged');
      assert.deepEqual((await server.ctx.slos.list(admin)).map((s) => s.name), ['flk-availability', 'ghost-availability', 'wok-availability']);
      const audit = await listAudit(server.ctx.store.db, { action: 'slo.apply' });
      assert.equal(audit.length, 3);
      const [ghost] = await server.ctx.slos.status(admin, 'ghost-availability');
      assert.equal(ghost!.deploymentExists, false);
      assert.match(ghost!.notes.join('\n'), /deployment "ghost" does not exist/);
      await assert.rejects(server.ctx.slos.apply(principal('viewer'), exampleSlo('x', 'flk')), { code: 'MG_ERR_AUTH_FORBIDDEN' });
      await assert.rejects(server.ctx.slos.status(admin, 'nope'), { code: 'MG_ERR_SLO_NOT_FOUND' });
    });

    it('a flaky deployment burns its budget and pages; a healthy one shows no alert', async () => {
      const flaky = await traffic('flk', 200);
      assert.ok(flaky.failed > 20, `the fixture fails about 30% (got ${flaky.failed} of 200)`);
      const healthy = await traffic('wok', 50);
      assert.equal(healthy.ok, 50);
      // Client errors do not count: a malformed request is the caller's mistake.
      const bad = await post(`${server.url}/v1/models/wok:predict`, { instances: [{ nope: 1 }] }, key);
      assert.ok(bad.status >= 400 && bad.status < 500, `status ${bad.status}`);
      await new Promise((r) => setTimeout(r, 30));
      await server.gateway.sli.flush();

      const [f] = await server.ctx.slos.status(admin, 'flk-availability');
      assert.equal(f!.status, 'ok');
      assert.equal(f!.budget!.total, 200);
      assert.equal(f!.budget!.bad, flaky.failed);
      assert.ok(Math.abs(f!.budget!.sli! - 0.7) < 0.12, `SLI ≈ 0.7 (got ${f!.budget!.sli})`);
      assert.ok(f!.budget!.remaining < 0, 'the budget is overspent');
      const page = f!.firing.find((x) => x.severity === 'page' && x.long === '1h' && x.short === '5m');
      assert.ok(page, `the 1h/5m page fires: ${JSON.stringify(f!.firing)}`);
      assert.ok(page.longBurnRate > 14.4 && page.shortBurnRate > 14.4);
      assert.ok(f!.burnRates['1h']! > 14.4 && f!.burnRates['5m']! > 14.4);

      const [w] = await server.ctx.slos.status(admin, 'wok-availability');
      assert.equal(w!.budget!.total, 50, '4xx answers are not counted');
      assert.equal(w!.budget!.sli, 1);
      assert.deepEqual(w!.firing, []);
      assert.equal(w!.budgetLow, false);
      assert.equal(w!.budget!.remaining, 1);
    });

    it('reports latency SLOs from the counts, drift_free and accuracy ones from the stored evaluations', async () => {
      const latency = exampleSlo('wok-latency', 'wok').replace('sli: { type: availability }', 'sli: { type: latency, thresholdMs: 10000 }');
      const drift = exampleSlo('wok-drift', 'wok').replace('sli: { type: availability }', 'sli: { type: drift_free }');
      const accuracy = exampleSlo('wok-accuracy', 'wok').replace('sli: { type: availability }', 'sli: { type: accuracy, minAccuracy: 0.8 }');
      await server.ctx.slos.apply(admin, `${latency}---\n${drift}---\n${accuracy}`);
      const [l] = await server.ctx.slos.status(admin, 'wok-latency');
      assert.equal(l!.budget!.total, 50);
      assert.equal(l!.budget!.sli, 1, 'every answer within 10 s');
      const [none] = await server.ctx.slos.status(admin, 'wok-drift');
      assert.equal(none!.budget!.total, 0);
      assert.match(none!.notes.join('\n'), /no drift evaluation/);
      // Three evaluation slots, one with dataset drift (on either version: the slot is bad).
      const now = Date.now();
      const slot = (m: number) => new Date(now - m * 60_000).toISOString();
      const row = (at: string, version: number, drifted: number) => ({ deployment: 'wok', version, at, window_from: at, window_to: at, rows: 100, dataset_drift: drifted, drift_share: drifted ? 0.5 : 0, report: '{}' });
      await server.ctx.store.db.insertInto('drift_results').values([row(slot(3), 1, 0), row(slot(2), 1, 1), row(slot(2), 2, 0), row(slot(1), 1, 0)]).execute();
      const [d] = await server.ctx.slos.status(admin, 'wok-drift');
      assert.equal(d!.status, 'ok');
      assert.equal(d!.budget!.total, 3);
      assert.equal(d!.budget!.good, 2);
      // Accuracy from the stored labelled-quality evaluations: a slot is good when every labelled version is at
      // or above minAccuracy (0.8): one of the two slots is.
      const q = (at: string, version: number, accuracy: number) => ({ deployment: 'wok', version, at, labelled: 50, accuracy, metrics: '{}' });
      await server.ctx.store.db.insertInto('quality_results').values([q(slot(3), 1, 0.9), q(slot(2), 1, 0.85), q(slot(2), 2, 0.7)]).execute();
      const [a] = await server.ctx.slos.status(admin, 'wok-accuracy');
      assert.equal(a!.status, 'ok');
      assert.deepEqual([a!.budget!.good, a!.budget!.total], [1, 2]);
    });

    it('serves status over HTTP and keeps the counts across a restart', async () => {
      const adminKey = (await createKey(server.ctx.store.db, { name: 'ops', role: 'admin' }, admin.actor)).key;
      await server.close();
      server = await start();
      const res = await fetch(`${server.url}/api/v1/slos/flk-availability/status`, { headers: { authorization: `Bearer ${adminKey}` } });
      assert.equal(res.status, 200);
      const s = (await res.json()) as { budget: { total: number }; firing: unknown[] };
      assert.equal(s.budget.total, 200, 'the traffic before the restart still counts');
      assert.ok(s.firing.length > 0);
      const all = await fetch(`${server.url}/api/v1/slos/status`, { headers: { authorization: `Bearer ${adminKey}` } });
      assert.equal(((await all.json()) as unknown[]).length, 6);
      const del = await fetch(`${server.url}/api/v1/slos/ghost-availability`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } });
      assert.equal(del.status, 200);
      const gone = await fetch(`${server.url}/api/v1/slos/ghost-availability/status`, { headers: { authorization: `Bearer ${adminKey}` } });
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as { error: { code: string } }).error.code, 'MG_ERR_SLO_NOT_FOUND');
      assert.equal((await listAudit(server.ctx.store.db, { action: 'slo.delete' })).length, 1);
    });
  });
}
