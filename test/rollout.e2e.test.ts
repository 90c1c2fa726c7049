// End to end: progressive rollouts on the real gateway under generated load. A healthy canary is promoted
// step by step; faulty candidates (one erring on 30% of requests, one 40 ms slow) are rolled back by the
// judge on their own; blue-green switches and rollbacks lose no request; rules, approvals and freezes hold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../src/governance/keys.js';
import { packagePath } from '../src/paths.js';
import { PG_SKIP, principal, rejection, V1, V2 } from './helpers.js';
import { startTestServer } from './serving-helpers.js';
import { deploymentDoc, startLoad, V1_BODY_MONTH, waitFor, type Hit } from './rollout-helpers.js';

const admin = principal('admin');
const alice = principal('operator', [], 'test:alice');
const bob = principal('approver', [], 'test:bob');
const carol = principal('approver', [], 'test:carol');
const OWNER = 'weather-team <weather@example.com>';

type Server = Awaited<ReturnType<typeof startTestServer>>;

/** weather v1 as production, and a candidate: the example v2 (adds month), v1's bytes again, or a faulty js model. */
async function registerPair(t: Server, model: string, candidate: 'v2' | 'same' | 'flaky' | 'slow'): Promise<void> {
  const reg = t.server.ctx.registry;
  const card = async (p: string) => ({ text: await readFile(p, 'utf8'), source: p });
  await reg.register(admin, { name: model, artifact: { path: V1.model }, card: await card(V1.card), reference: { path: V1.reference }, owner: OWNER });
  if (candidate === 'v2') await reg.register(admin, { name: model, artifact: { path: V2.model }, card: await card(V2.card), reference: { path: V2.reference }, owner: OWNER });
  else if (candidate === 'same') await reg.register(admin, { name: model, artifact: { path: V1.model }, card: await card(V1.card), reference: { path: V1.reference }, owner: OWNER, metadata: { note: 'v1 retrained' } });
  else await reg.register(admin, { name: model, artifact: { path: packagePath('test', 'fixtures', `weather-${candidate}.mjs`) }, format: 'js', owner: OWNER, features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
  await reg.setAlias(admin, model, 'production', '1');
}

/** The V2 ready endpoint of the deployment a V1 or V2 inference URL names. */
function readyUrl(t: Server, url: string): string {
  const name = /models\/([^/:]+)/.exec(url)![1];
  return `${t.server.url}/v2/models/${name}/ready`;
}

/** The arms of `name` that this replica's router sends traffic to at `version`. */
function routedArms(t: Server, name: string, version: number) {
  return [...(t.server.gateway.router.get(name)?.arms.values() ?? [])].filter((a) => a.version === version && a.weight > 0);
}

function statusOf(t: Server, name: string) {
  return t.server.ctx.rollouts.status(admin, name);
}

/** Waits until the rollout reaches one of `phases` (and `also` holds); a timeout names the last status seen. */
async function waitForPhase(t: Server, name: string, phases: string[], ms = 30_000, also: (s: Awaited<ReturnType<typeof statusOf>>) => boolean = () => true) {
  let last: Awaited<ReturnType<typeof statusOf>> | undefined;
  try {
    return await waitFor(async () => {
      last = await statusOf(t, name);
      return phases.includes(last.phase) && also(last) ? last : undefined;
    }, `${name} to reach ${phases.join(' or ')}`, ms);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify({ phase: last?.phase, step: last?.step, message: last?.message, weights: last?.weights, shadows: last?.shadows, analysis: last?.analyses.at(-1)?.reason })}`);
  }
}

/** Each user's sequence of versions, in request order. */
function versionsByUser(hits: Hit[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const h of hits) if (h.status === 200) (m.get(h.user) ?? m.set(h.user, []).get(h.user)!).push(h.version!);
  return m;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`progressive rollouts under load (${dialect})`, { skip: dialect === 'postgres' ? PG_SKIP : false }, () => {
    let t: Server;
    let key: string;
    before(async () => {
      t = await startTestServer({ rollout: { tickMs: 100, statsFlushMs: 200 } }, { postgres: dialect === 'postgres' });
      key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
    });
    after(async () => t?.cleanup());

    it('promotes a healthy canary step by step, keeps users sticky, and moves the production alias', async () => {
      await registerPair(t, 'healthy', 'v2');
      // v2 adds the month feature: a breaking signature change the deployment allows, with clients sending it by name.
      await t.server.ctx.deployments.apply(alice, [deploymentDoc('healthy', 'healthy', { gates: { allowBreakingSignature: true } })]);
      const url = `${t.server.url}/v1/models/healthy:predict`;
      await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
      const started = await t.server.ctx.rollouts.start(alice, 'healthy', { to: '2' });
      assert.equal(started.phase, 'Progressing');
      // Clients send month (read by v2 only) once the deployment has an arm that takes it.
      await waitForPhase(t, 'healthy', ['Progressing'], 10_000, (s) => (s.weights['2'] ?? 0) > 0);
      // ...as this replica routes it: the status is read from the store, which the router follows a moment later.
      await waitFor(() => routedArms(t, 'healthy', 2).length > 0, 'the router to route to version 2');
      const load = startLoad(url, key, { body: V1_BODY_MONTH });
      const done = await waitForPhase(t, 'healthy', ['Succeeded', 'RolledBack', 'Aborted'], 40_000);
      await new Promise((r) => setTimeout(r, 400));
      const hits = await load.stop();
      assert.equal(done.phase, 'Succeeded', `${done.message}: ${JSON.stringify(done.analyses.at(-1))}`);
      assert.deepEqual(hits.filter((h) => h.status !== 200).map((h) => h.status), [], 'no request failed');
      assert.equal((await t.server.ctx.registry.getModel(admin, 'healthy')).aliases.production, 2);
      // Each analysis step passed on evidence from both arms.
      const steps = done.analyses.filter((a) => a.kind === 'step');
      assert.equal(steps.length, 2);
      for (const a of steps) {
        assert.equal(a.verdict, 'pass', a.reason);
        const err = a.metrics.find((m) => m.name === 'error_rate')!;
        assert.ok(err.samples.canary >= 20 && err.samples.stable >= 20, JSON.stringify(err.samples));
        assert.ok(a.metrics.some((m) => m.name === 'latency'));
      }
      // The ledger holds one entry per traffic change, in order.
      const history = await t.server.ctx.deployments.history(admin, 'healthy');
      assert.deepEqual(history.entries.map((e) => e.action).reverse(), ['apply', 'step', 'step', 'promote']);
      assert.deepEqual(history.entries.map((e) => e.weights).reverse(), [{ 1: 100 }, { 1: 70, 2: 30 }, { 1: 40, 2: 60 }, { 2: 100 }]);
      // Sticky and monotone: a user who reached v2 never went back to v1.
      for (const [user, seq] of versionsByUser(hits)) {
        const first2 = seq.indexOf('2');
        if (first2 !== -1) assert.ok(seq.slice(first2).every((v) => v === '2'), `${user} went back to v1: ${seq.join('')}`);
      }
      const mid = hits.filter((h) => h.arm === 'canary');
      assert.ok(mid.length > 0 && mid.every((h) => h.version === '2'), 'the canary arm answered with version 2');
      // At a moment between the steps, history answers with the weights then in force.
      const step1 = [...history.entries].reverse().find((e) => e.action === 'step')!;
      const at = await t.server.ctx.deployments.history(admin, 'healthy', step1.at);
      assert.deepEqual(at.entries[0]!.weights, { 1: 70, 2: 30 });
      // The audit chain has the rollout's story and is intact.
      const { verifyAudit, listAudit } = await import('../src/governance/audit.js');
      assert.equal((await verifyAudit(t.server.ctx.store.db)).ok, true);
      const actions = (await listAudit(t.server.ctx.store.db, { target: 'deployment/healthy', limit: 100 })).map((e) => e.action);
      for (const a of ['deployment.create', 'rollout.start', 'rollout.step', 'rollout.analysis', 'rollout.promote']) assert.ok(actions.includes(a), `audit has ${a}`);
    });

    it('rolls back a canary that errs on 30% of requests within one analysis interval', async () => {
      await registerPair(t, 'flaky', 'flaky');
      await t.server.ctx.deployments.apply(alice, [deploymentDoc('flaky', 'flaky')]);
      const url = `${t.server.url}/v1/models/flaky:predict`;
      await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
      const load = startLoad(url, key);
      // The js candidate has no card or reference: its gates fail, and only an approver may override them.
      const refused = await rejection(() => t.server.ctx.rollouts.start(alice, 'flaky', { to: '2' }));
      assert.equal(refused.code, 'MG_ERR_ROLLOUT_GATES_FAILED');
      assert.match(refused.message, /card/);
      assert.equal((await rejection(() => t.server.ctx.rollouts.start(alice, 'flaky', { to: '2', overrideGates: 'test' }))).code, 'MG_ERR_AUTH_FORBIDDEN');
      await t.server.ctx.rollouts.start(bob, 'flaky', { to: '2', overrideGates: 'testing the judge' });
      const done = await waitForPhase(t, 'flaky', ['Succeeded', 'RolledBack', 'Aborted'], 30_000);
      await new Promise((r) => setTimeout(r, 300));
      const hits = await load.stop();
      assert.equal(done.phase, 'RolledBack');
      assert.match(done.message!, /error rate/i);
      const ledger = (await t.server.ctx.deployments.history(admin, 'flaky')).entries.reverse();
      assert.deepEqual(ledger.map((e) => e.action), ['apply', 'step', 'rollback']);
      // The first judgement with enough data rolls back: the canary takes traffic for one analysis interval
      // (plus one more for each judgement that found too few requests on a loaded machine), never longer.
      const exposedMs = Date.parse(ledger[2]!.at) - Date.parse(ledger[1]!.at);
      const waits = done.analyses.filter((a) => a.verdict === 'nodata').length;
      assert.ok(done.analyses.every((a) => a.verdict === 'nodata' || a.verdict === 'fail'), 'no judgement passed the faulty canary');
      // The judgement that failed it covered at most one interval of canary traffic (the guard's window is
      // the last interval; the step's starts when the canary took traffic). The wall-clock bound is loose,
      // for a loaded CI machine: the structure above is what says "no second interval".
      const failedBy = done.analyses.at(-1)!;
      assert.equal(failedBy.verdict, 'fail');
      assert.ok(Date.parse(failedBy.window.to) - Date.parse(failedBy.window.from) <= 1500 * (waits + 1) + 500, JSON.stringify(failedBy.window));
      assert.ok(exposedMs <= 1500 * (waits + 1) + 3000, `rolled back ${exposedMs} ms after the canary took traffic (interval 1500 ms, ${waits} judgements without enough data, tick 100 ms, flush 200 ms)`);
      assert.deepEqual(ledger[2]!.weights, { 1: 100 });
      // After the rollback nobody is served by the candidate.
      const rollbackAt = Date.parse(ledger[2]!.at);
      assert.ok(hits.filter((h) => h.at > rollbackAt + 500).every((h) => h.version === '1' && h.status === 200));
      assert.equal((await t.server.ctx.registry.getModel(admin, 'flaky')).aliases.production, 1);
      const failing = done.analyses.at(-1)!.metrics.find((m) => m.name === 'error_rate')!;
      assert.equal(failing.classification, 'High');
    });

    it('rolls back a canary that is 40 ms slower, on latency', async () => {
      await registerPair(t, 'slow', 'slow');
      await t.server.ctx.deployments.apply(alice, [deploymentDoc('slow', 'slow')]);
      const url = `${t.server.url}/v1/models/slow:predict`;
      await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
      const load = startLoad(url, key);
      await t.server.ctx.rollouts.start(bob, 'slow', { to: '2', overrideGates: 'testing the judge' });
      const done = await waitForPhase(t, 'slow', ['Succeeded', 'RolledBack', 'Aborted'], 30_000);
      const hits = await load.stop();
      assert.equal(done.phase, 'RolledBack', done.message ?? '');
      const latency = done.analyses.at(-1)!.metrics.find((m) => m.name === 'latency')!;
      assert.equal(latency.classification, 'High', JSON.stringify(latency));
      assert.ok(hits.every((h) => h.status === 200), 'slowness never failed a request');
    });
  });
}

describe('blue-green, shadows, targeting, approvals and freezes', () => {
  let t: Server;
  let key: string;
  before(async () => {
    t = await startTestServer({ rollout: { tickMs: 100, statsFlushMs: 200 } });
    key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
  });
  after(async () => t?.cleanup());

  it('switches blue-green at once after a shadow preview, then rolls back, losing no request', async () => {
    await registerPair(t, 'bg', 'same');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('bg', 'bg', { strategy: { blueGreen: { previewPercent: 100, previewDuration: '1500ms', analysisInterval: '1s', rollbackWindow: '1m' } } })]);
    const url = `${t.server.url}/v1/models/bg:predict`;
    await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
    const load = startLoad(url, key);
    await t.server.ctx.rollouts.start(alice, 'bg', { to: '2', strategy: 'blue-green' });
    const done = await waitForPhase(t, 'bg', ['Succeeded', 'RolledBack']);
    assert.equal(done.phase, 'Succeeded', done.message ?? '');
    // The preview was judged on mirrored traffic, agreement included.
    const preview = done.analyses.find((a) => a.kind === 'step')!;
    assert.equal(preview.candidate, 'shadow');
    const agreement = preview.metrics.find((m) => m.name === 'shadow_agreement');
    assert.ok(agreement && agreement.samples.canary > 0, JSON.stringify(preview.metrics.map((m) => m.name)));
    await waitFor(() => load.hits.filter((h) => h.at > Date.parse(done.updatedAt) + 300).some((h) => h.version === '2'), 'version 2 serving');
    const switchedAt = Date.now();
    assert.ok(load.hits.filter((h) => h.at > switchedAt).every((h) => h.version === '2'));
    const back = await t.server.ctx.rollouts.rollback(alice, 'bg', 'testing the rollback window');
    assert.equal(back.phase, 'RolledBack');
    await waitFor(() => load.hits.filter((h) => h.at > Date.parse(back.updatedAt) + 500).length > 20, 'traffic after the rollback');
    const hits = await load.stop();
    assert.deepEqual(hits.filter((h) => h.status !== 200).map((h) => h.status), [], 'no request failed across the switch and the rollback');
    assert.ok(hits.filter((h) => h.at > Date.parse(back.updatedAt) + 500).every((h) => h.version === '1'), 'all traffic back on version 1');
    assert.equal((await t.server.ctx.registry.getModel(admin, 'bg')).aliases.production, 1);
    assert.deepEqual((await t.server.ctx.deployments.history(admin, 'bg')).entries.map((e) => e.action).reverse(), ['apply', 'step', 'promote', 'rollback']);
  });

  it('runs shadow-then-canary: mirrors first, ends the shadow, then ramps and promotes', async () => {
    await registerPair(t, 'sc', 'same');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('sc', 'sc', { strategy: { shadow: { percent: 100, duration: '1500ms' }, canary: { analysisInterval: '1s', steps: [{ setWeight: 50 }, { analysis: {} }] } } })]);
    const url = `${t.server.url}/v1/models/sc:predict`;
    await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
    const load = startLoad(url, key);
    await t.server.ctx.rollouts.start(alice, 'sc', { to: '2', strategy: 'shadow' });
    const done = await waitForPhase(t, 'sc', ['Succeeded', 'RolledBack']);
    const hits = await load.stop();
    assert.equal(done.phase, 'Succeeded', done.message ?? '');
    assert.ok(hits.every((h) => h.status === 200));
    const ledger = (await t.server.ctx.deployments.history(admin, 'sc')).entries.reverse();
    assert.deepEqual(ledger.map((e) => [e.action, e.weights, e.shadows]), [
      ['apply', { 1: 100 }, {}],
      ['step', { 1: 100 }, { 2: 100 }],
      ['step', { 1: 100 }, {}],
      ['step', { 1: 50, 2: 50 }, {}],
      ['promote', { 2: 100 }, {}],
    ]);
    assert.deepEqual(done.analyses.filter((a) => a.kind === 'step').map((a) => a.candidate), ['shadow', 'canary']);
  });

  it('answers past a deployment\'s timeoutMs with 504, never with success', async () => {
    const reg = t.server.ctx.registry;
    await reg.register(admin, { name: 'late', artifact: { path: packagePath('test', 'fixtures', 'weather-slow.mjs') }, format: 'js', owner: OWNER, features: ['precipitation', 'temp_max', 'temp_min', 'wind'] });
    await reg.setAlias(admin, 'late', 'production', '1');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('late', 'late', { timeoutMs: 10 })]);
    const url = `${t.server.url}/v1/models/late:predict`;
    await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ instances: [{ precipitation: 1, temp_max: 10, temp_min: 5, wind: 3 }] }) });
    const body = (await r.json()) as { code: string };
    assert.equal(r.status, 504);
    assert.equal(body.code, 'MG_ERR_INFER_DEADLINE_EXCEEDED');
  });

  it('routes by targeting rules before weights, and the kill switch sends everything to stable', async () => {
    await registerPair(t, 'rules', 'same');
    const doc = deploymentDoc('rules', 'rules', {
      arms: [{ version: 'production', weight: 100, role: 'stable' }, { name: 'beta', version: 2, weight: 0, role: 'canary' }],
      targeting: [{ name: 'beta-testers', match: [{ header: 'x-beta', op: 'equals', value: '1' }], arm: 'beta' }, { name: 'big-rain', match: [{ input: 'precipitation', op: 'gt', value: 10 }], arm: 'beta' }],
    });
    await t.server.ctx.deployments.apply(alice, [doc]);
    const url = `${t.server.url}/v2/models/rules/infer`;
    await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
    const call = async (headers: Record<string, string>, precipitation = 0) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [precipitation, 10, 5, 3] }] }) });
      await r.arrayBuffer();
      return { status: r.status, version: r.headers.get('x-modelgate-version'), arm: r.headers.get('x-modelgate-arm') };
    };
    await waitFor(async () => (await call({ 'x-beta': '1' })).version === '2', 'the beta arm loaded');
    assert.deepEqual(await call({ 'x-beta': '1' }), { status: 200, version: '2', arm: 'beta' });
    assert.deepEqual(await call({ 'x-beta': '0' }), { status: 200, version: '1', arm: 'stable' });
    assert.deepEqual(await call({}, 25), { status: 200, version: '2', arm: 'beta' }, 'an input-field rule routes on the feature value');
    await t.server.ctx.deployments.kill(alice, 'rules', true, 'incident drill');
    await waitFor(async () => (await call({ 'x-beta': '1' })).version === '1', 'the kill switch');
    assert.deepEqual(await call({}, 25), { status: 200, version: '1', arm: 'stable' });
    await t.server.ctx.deployments.kill(alice, 'rules', false);
    await waitFor(async () => (await call({ 'x-beta': '1' })).version === '2', 'the kill switch lifted');
    const actions = (await t.server.ctx.deployments.history(admin, 'rules')).entries.map((e) => e.action);
    assert.deepEqual(actions.slice(0, 2), ['kill.off', 'kill']);
    // Per-arm requests and the split in force are in /metrics, which promtool accepts.
    const text = await (await fetch(`${t.server.url}/metrics`)).text();
    assert.match(text, /modelgate_deployment_requests_total\{deployment="rules",arm="beta",version="2",outcome="ok"\} [1-9]/);
    assert.match(text, /modelgate_deployment_traffic_weight_percent\{deployment="rules",arm="stable",version="1",role="stable"\} 100/);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) console.log('NOTICE: promtool is not installed; the /metrics check with promtool is skipped.');
    else assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
  });

  it('waits for two approvers other than the creator, and holds promotion during a release freeze', async () => {
    await registerPair(t, 'gated', 'same');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('gated', 'gated', { strategy: { canary: { analysisInterval: '1s', steps: [{ setWeight: 50 }, { approval: { required: 2 } }] } } })]);
    await t.server.ctx.rollouts.start(alice, 'gated', { to: '2' });
    await waitFor(async () => (await statusOf(t, 'gated')).phase === 'AwaitingApproval', 'the approval step');
    const self = await rejection(() => t.server.ctx.rollouts.approve({ ...bob, actor: 'test:alice' }, 'gated'));
    assert.equal(self.code, 'MG_ERR_ROLLOUT_APPROVAL_REFUSED', 'the creator cannot approve their own rollout');
    assert.equal((await rejection(() => t.server.ctx.rollouts.approve(alice, 'gated'))).code, 'MG_ERR_AUTH_FORBIDDEN', 'an operator cannot approve');
    await t.server.ctx.rollouts.approve(bob, 'gated', 'looks good');
    assert.equal((await rejection(() => t.server.ctx.rollouts.approve(bob, 'gated'))).code, 'MG_ERR_ROLLOUT_APPROVAL_REFUSED', 'one approval per approver');
    // A freeze set now holds the promotion that follows the approvals.
    await t.server.ctx.rollouts.setFreeze(alice, '*', 'holiday season');
    await t.server.ctx.rollouts.approve(carol, 'gated');
    const held = await waitForPhase(t, 'gated', ['Paused'], 30_000, (s) => s.pausedBy === 'freeze');
    assert.match(held.message!, /holiday season/);
    assert.equal((await t.server.ctx.registry.getModel(admin, 'gated')).aliases.production, 1);
    assert.equal((await rejection(() => t.server.ctx.rollouts.promote(alice, 'gated', { overrideFreeze: 'hotfix' }))).code, 'MG_ERR_AUTH_FORBIDDEN');
    await t.server.ctx.rollouts.promote(bob, 'gated', { overrideFreeze: 'hotfix for a broken feature' });
    const done = await waitForPhase(t, 'gated', ['Succeeded']);
    assert.equal(done.overrides.at(-1)!.reason, 'hotfix for a broken feature');
    assert.equal((await t.server.ctx.registry.getModel(admin, 'gated')).aliases.production, 2);
    // Starts are blocked too while the freeze lasts.
    await t.server.ctx.registry.register(admin, { name: 'gated', artifact: { path: V1.model }, card: { text: await readFile(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: OWNER });
    assert.equal((await rejection(() => t.server.ctx.rollouts.start(alice, 'gated', { to: '3' }))).code, 'MG_ERR_ROLLOUT_FROZEN');
    await t.server.ctx.rollouts.liftFreeze(alice, '*');
  });
});

describe('per-arm evidence at a traffic change', () => {
  let t: Server;
  let key: string;
  before(async () => {
    // Statistics would only be written hourly: any row seen here was written by the change.
    t = await startTestServer({ rollout: { tickMs: 1_000_000, statsFlushMs: 3_600_000 } });
    key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
  });
  after(async () => t?.cleanup());

  it('a new split ends the arms\' interval: what was answered before it is written as its own row when the router takes the change', async () => {
    await registerPair(t, 'cut', 'same');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('cut', 'cut')]);
    const url = `${t.server.url}/v1/models/cut:predict`;
    await waitFor(async () => (await fetch(readyUrl(t, url))).status === 200, 'deployment ready');
    for (let i = 0; i < 5; i++) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-user-id': `u${i}` }, body: JSON.stringify({ instances: [{ precipitation: 1, temp_max: 10, temp_min: 5, wind: 3 }] }) });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-modelgate-arm'), 'stable', 'answered through the deployment');
    }
    const rows = () => t.server.ctx.store.db.selectFrom('arm_stats').select(['requests', 'at']).where('deployment', '=', 'cut').execute();
    assert.deepEqual(await rows(), [], 'nothing written before the change');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('cut', 'cut', { arms: [{ version: 'production', weight: 80, role: 'stable' }, { name: 'candidate', version: 2, weight: 20, role: 'canary' }] })]);
    const written = await waitFor(async () => {
      const r = await rows();
      return r.length > 0 ? r : undefined;
    }, 'the rows written at the change');
    assert.deepEqual(written.map((r) => r.requests), [5]);
    const changedAt = (await t.server.ctx.deployments.history(admin, 'cut')).entries[0]!.at;
    assert.ok(written[0]!.at >= changedAt, `${written[0]!.at} >= ${changedAt}: written when the router took the change`);
  });
});

describe('deployment changes made in this process are routed when the call returns', () => {
  let t: Server;
  let key: string;
  before(async () => {
    // The router would not poll again for an hour: only the service's refresh can route these changes.
    t = await startTestServer({ serving: { pollIntervalMs: 3_600_000 }, rollout: { tickMs: 100 } });
    key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
  });
  after(async () => t?.cleanup());

  it('applies, kills and deletes through the service, each one routed at once', async () => {
    await registerPair(t, 'direct', 'same');
    const url = `${t.server.url}/v1/models/direct:predict`;
    const ask = async () => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-user-id': 'u1' }, body: JSON.stringify({ instances: [{ precipitation: 1, temp_max: 10, temp_min: 5, wind: 3 }] }) });
      await r.arrayBuffer();
      return { status: r.status, arm: r.headers.get('x-modelgate-arm'), version: r.headers.get('x-modelgate-version') };
    };
    assert.deepEqual(await ask(), { status: 200, arm: null, version: '1' }, 'the model\'s own endpoint, before any deployment');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('direct', 'direct', { arms: [{ version: 'production', weight: 0, role: 'stable' }, { name: 'candidate', version: 2, weight: 100, role: 'canary' }] })]);
    // Through the deployment from the first request (its stable arm while version 2 is still loading).
    assert.notEqual((await ask()).arm, null, 'the deployment answers from the first request after apply');
    await waitFor(async () => (await ask()).arm === 'candidate', 'version 2 loaded and answering');
    await t.server.ctx.deployments.kill(alice, 'direct', true, 'test');
    assert.deepEqual(await ask(), { status: 200, arm: 'stable', version: '1' }, 'the kill switch holds from the first request after it');
    await t.server.ctx.deployments.remove(alice, 'direct');
    assert.deepEqual(await ask(), { status: 200, arm: null, version: '1' }, 'deleted: the model\'s own endpoint again');
  });

  it('routes the controller\'s steps and an abort through the rollout service at once', async () => {
    await registerPair(t, 'stepped', 'same');
    await t.server.ctx.deployments.apply(alice, [deploymentDoc('stepped', 'stepped')]);
    const canary = () => routedArms(t, 'stepped', 2);
    await t.server.ctx.rollouts.start(alice, 'stepped', { to: '2' });
    // The controller's first step, routed without a poll.
    await waitFor(() => canary().length > 0, 'the router to route the first canary step');
    await t.server.ctx.rollouts.abort(alice, 'stepped', 'test');
    assert.deepEqual(canary(), [], 'the abort is routed when the call returns');
  });
});
