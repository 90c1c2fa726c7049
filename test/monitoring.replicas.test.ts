// Monitoring across two replicas on one PostgreSQL database: profiles written by each replica merge exactly
// (a window counts every row either served, and its statistics equal one profile of all of them), a label
// sent to one replica joins a prediction the other served, and a subject is erased whichever replica saw it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { createKey } from '../src/governance/keys.js';
import { monitoringLayout } from '../src/monitoring/recorder.js';
import { mergedWindow } from '../src/monitoring/live-drift.js';
import { ProfileAccumulator, type NumericalWindowFeature } from '../src/monitoring/profile/profile.js';
import { startServer, type RunningServer } from '../src/server.js';
import { dropSchema, PG_SKIP, PG_URL, principal, tempHome, V1 } from './helpers.js';
import { post } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const admin = principal('admin');
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];

describe('monitoring across two replicas on PostgreSQL', { skip: PG_SKIP }, () => {
  const home = tempHome('mg-mon-replicas-');
  const schema = `mg_mon_replicas_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let a: RunningServer;
  let b: RunningServer;
  before(async () => {
    const config = loadConfig({ env: {}, flags: { home: home.home, databaseUrl: PG_URL!, server: { port: 0 }, log: { level: 'silent' }, serving: { pollIntervalMs: 100 }, monitoring: { flushMs: 100, evaluateMs: 3_600_000 } } });
    a = await startServer(config, { pgSchema: schema });
    b = await startServer(config, { pgSchema: schema });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await dropSchema(schema);
    home.cleanup();
  });

  it('merges both replicas\' profiles exactly, joins labels across them, and erases a subject everywhere', async () => {
    const reg = a.ctx.registry;
    await reg.register(admin, { name: 'wr', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: 'team <t@example.com>' });
    await reg.setAlias(admin, 'wr', 'production', '1');
    const doc = deploymentDoc('wr', 'wr', { monitoring: { subject: { header: 'x-user-id' }, drift: { minRows: 10 } } });
    delete (doc.spec as Record<string, unknown>).strategy;
    await a.ctx.deployments.apply(admin, [doc as never]);
    const key = (await createKey(a.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
    for (const s of [a, b]) await waitFor(async () => (await fetch(`${s.url}/v2/models/wr/ready`)).status === 200 && s.gateway.router.get('wr') !== undefined, `${s.url} ready`);

    const lines = readFileSync(V1.reference, 'utf8').trim().split('\n');
    const cols = lines[0]!.split(',');
    const rows = lines.slice(1, 301).map((l) => l.split(',').map(Number));
    const sent: { id: string; label: number; via: 'a' | 'b' }[] = [];
    for (const [i, r] of rows.entries()) {
      const s = i % 2 === 0 ? a : b;
      const instance = Object.fromEntries(FEATURES.map((f) => [f, r[cols.indexOf(f)]!]));
      const res = await post(`${s.url}/v1/models/wr:predict`, { instances: [instance] }, key, { 'x-user-id': i < 10 ? 'shared-subject' : `u${i}` });
      assert.equal(res.status, 200);
      sent.push({ id: res.headers.get('x-request-id')!, label: r[cols.indexOf('rain_tomorrow')]!, via: s === a ? 'a' : 'b' });
    }
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([a.gateway.monitor.flush(), b.gateway.monitor.flush()]);
    const writers = await a.ctx.store.db.selectFrom('monitor_profiles').select('replica').distinct().where('deployment', '=', 'wr').execute();
    assert.equal(writers.length, 2, 'each replica wrote its own profiles');

    // The merged window equals one profile folded from all 300 rows, in whatever order (the store rounds to float64 alike).
    const d = await b.ctx.monitoring.drift(admin, 'wr', {});
    assert.equal(d.versions[0]!.rows, 300);
    const profile = await a.ctx.registry.getReferenceProfile(admin, 'wr@1');
    const acc = new ProfileAccumulator(monitoringLayout(profile, FEATURES, 0.1));
    const layout = acc.layout;
    for (const r of rows) acc.addRow(layout.features.map((f) => (FEATURES.includes(f.name) ? Math.fround(r[cols.indexOf(f.name)]!) : null)));
    const whole = acc.snapshot();
    const merged = (await mergedWindow(a.ctx.store.db, 'wr', new Date(Date.now() - 3_600_000), new Date(Date.now() + 60_000))).get(1)?.get(layout.id);
    assert.ok(merged, 'the stored profiles were folded with the layout rebuilt here');
    assert.equal(merged.rows, 300);
    for (const f of FEATURES) {
      const w = whole.features.find((x) => x.name === f) as NumericalWindowFeature;
      const m = merged.features.find((x) => x.name === f) as NumericalWindowFeature;
      assert.equal(m.count, 300);
      assert.equal(m.count, w.count);
      assert.equal(m.min, w.min);
      assert.equal(m.max, w.max);
      assert.ok(Math.abs(m.mean! - w.mean!) < 1e-9, `${f} mean`);
      assert.ok(Math.abs(m.m2 - w.m2) <= 1e-9 * Math.max(1, w.m2), `${f} m2`);
      assert.deepEqual(m.bins, w.bins, `${f} bins add up exactly`);
      assert.deepEqual(m.sketch, w.sketch, `${f} sketch buckets add up exactly`);
    }
    const live = d.versions[0]!.drift!.features.find((f) => f.name === 'temp_max')!;
    assert.equal(live.current_rows, 300);

    // Labels sent to replica b for predictions a served (and the other way round) all join.
    const fb = await post(`${b.url}/api/v1/feedback`, { items: sent.map((s) => ({ requestId: s.id, label: s.label })) }, key);
    assert.equal(fb.body.joined, 300);
    const q = await a.ctx.monitoring.quality(admin, 'wr', {});
    assert.equal(q.versions[0]!.labelled, 300);

    // The subject is erased whichever replica logged it, with either replica's answer: the salt is shared.
    const erased = await b.ctx.monitoring.erase(admin, 'shared-subject');
    assert.equal(erased.records, 10);
    assert.equal(erased.feedback, 10);
  });
});
