// Monitoring signals in release decisions: a candidate that answers fast and without errors but is wrong is
// rolled back by the canary judge on labelled accuracy (accuracy_delta against stable), which only labels sent
// as feedback while the canary runs can show.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../src/governance/keys.js';
import { packagePath } from '../src/paths.js';
import { principal, V1 } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const admin = principal('admin');
const approver = principal('approver', [], 'test:bob');
const OWNER = 'weather-team <weather@example.com>';

describe('a canary judged on labelled quality', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let key: string;
  before(async () => {
    t = await startTestServer({ rollout: { tickMs: 100, statsFlushMs: 200 }, monitoring: { flushMs: 100, evaluateMs: 3_600_000 } });
    key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
  });
  after(async () => t?.cleanup());

  it('rolls back a candidate whose accuracy falls behind stable\'s, with no error and no latency to give it away', async () => {
    const reg = t.server.ctx.registry;
    await reg.register(admin, { name: 'wl', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: OWNER });
    await reg.register(admin, { name: 'wl', artifact: { path: packagePath('test', 'fixtures', 'weather-contrary.mjs') }, format: 'js', owner: OWNER, features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
    await reg.setAlias(admin, 'wl', 'production', '1');
    await t.server.ctx.deployments.apply(admin, [
      deploymentDoc('wl', 'wl', {
        strategy: { canary: { analysisInterval: '3s', steps: [{ setWeight: 50 }, { analysis: {} }, { setWeight: 100 }] } },
        analysis: { minSamples: 30, metrics: [{ name: 'accuracy_delta', min: -0.1, critical: true }] },
        monitoring: { sample: 0 },
      }) as never,
    ]);
    await waitFor(async () => (await fetch(`${t.server.url}/v2/models/wl/ready`)).status === 200, 'ready');
    await t.server.ctx.rollouts.start(approver, 'wl', { to: '2', overrideGates: 'a js candidate without card or reference' });

    const [head, ...lines] = readFileSync(V1.reference, 'utf8').trim().split('\n');
    const cols = head!.split(',');
    const rows = lines.map((l) => l.split(',').map(Number));
    const value = (r: number[], c: string) => r[cols.indexOf(c)]!;
    let i = 0;
    let stop = false;
    // Traffic with its label sent right after each answer (a real system would send it a day later).
    const traffic = (async () => {
      while (!stop) {
        const r = rows[i++ % rows.length]!;
        const res = await post(`${t.server.url}/v1/models/wl:predict`, { instances: [{ precipitation: value(r, 'precipitation'), temp_max: value(r, 'temp_max'), temp_min: value(r, 'temp_min'), wind: value(r, 'wind') }] }, key, { 'x-user-id': `u${i}` });
        assert.equal(res.status, 200);
        await post(`${t.server.url}/api/v1/feedback`, { requestId: res.headers.get('x-request-id'), label: value(r, 'rain_tomorrow') }, key);
      }
    })();
    let last: Awaited<ReturnType<typeof t.server.ctx.rollouts.status>> | undefined;
    try {
      await waitFor(async () => {
        last = await t.server.ctx.rollouts.status(admin, 'wl');
        return ['Succeeded', 'RolledBack', 'Aborted'].includes(last.phase);
      }, 'the rollout to finish', 45_000);
    } finally {
      stop = true;
      await traffic;
    }
    assert.equal(last!.phase, 'RolledBack', last!.message ?? '');
    const failed = last!.analyses.find((a) => a.verdict === 'fail');
    assert.ok(failed, JSON.stringify(last!.analyses.map((a) => a.reason)));
    const metric = failed.metrics.find((m) => m.name === 'accuracy_delta');
    assert.ok(metric, 'the judge saw the labelled metric');
    assert.ok(metric.classification === 'Low' || metric.classification === 'High', metric.reason);
    assert.ok(metric.critical);
    const errorRate = failed.metrics.find((m) => m.name === 'error_rate');
    assert.equal(errorRate?.classification, 'Pass', 'it was not failed on errors');
  });
});
