// Degradation on the request path, end to end through the gateway: retries under a budget, the circuit
// breaker, the fallback chain (another version, a rule model, a cached answer, a static default, the review
// queue), the response cache, low-confidence reviews, and the manual fallback switch. A degraded answer says
// so; a failed prediction is never answered as a success; a client's mistake is never "rescued".
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listAudit } from '../src/governance/audit.js';
import { packagePath } from '../src/paths.js';
import { tmpdir } from 'node:os';
import { principal } from './helpers.js';
import { runCliAsync } from './cli-helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { waitFor } from './rollout-helpers.js';
import type { RunningServer } from '../src/server.js';

const admin = principal('admin');
const OWNER = 'weather-team <weather@example.com>';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const ROW = [0.3, 12.8, 5, 4.7];
const v2 = (row = ROW) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: row }] });

describe('degradation on the request path', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let s: RunningServer;

  async function deploy(name: string, model: string, spec: Record<string, unknown>): Promise<void> {
    await s.ctx.deployments.apply(admin, [{ apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name }, spec: { model, arms: [{ version: 1, weight: 100, role: 'stable' }], ...spec } } as never]);
    await waitFor(async () => (await fetch(`${s.url}/v2/models/${name}/ready`)).status === 200, `${name} ready`);
  }
  const infer = (name: string, body: unknown = v2()) => post(`${s.url}/v2/models/${name}/infer`, body, t.key);
  const metric = async (line: RegExp): Promise<number> => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = text.split('\n').find((l) => line.test(l));
    return m === undefined ? 0 : Number(m.split(' ').pop());
  };

  before(async () => {
    t = await startTestServer({ rollout: { statsFlushMs: 100 } });
    s = t.server;
    const reg = async (name: string, file: string) => s.ctx.registry.register(admin, { name, artifact: { path: packagePath('test', 'fixtures', file) }, format: 'js', owner: OWNER, features: FEATURES });
    await reg('broken', 'weather-broken.mjs');
    await reg('rules', 'weather-rules.mjs');
    await reg('alternate', 'weather-alternate.mjs');
    await reg('good', 'weather-rules.mjs');
  });
  after(async () => t?.cleanup());

  it('retries a failed attempt while the retry budget allows, so a version failing every other call always answers', async () => {
    await deploy('retrying', 'alternate', { resilience: { retries: { maxAttempts: 2, backoffMs: 1, budgetRatio: 1 }, circuitBreaker: { enabled: false } } });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await infer('retrying'));
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
    assert.ok(answers.every((a) => a.headers.get('x-modelgate-degraded') === null), 'a retried answer is the version\'s own, not degraded');
    assert.ok((await metric(/^modelgate_deployment_retries_total\{deployment="retrying",result="attempted"\}/)) >= 5);
  });

  it('a spent retry budget refuses retries, so retries cannot multiply the load of an outage', async () => {
    await s.ctx.deployments.apply(admin, [{ apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name: 'retrying' }, spec: { model: 'alternate', arms: [{ version: 1, weight: 100, role: 'stable' }], resilience: { retries: { maxAttempts: 5, backoffMs: 1, budgetRatio: 0, minPerSecond: 0 }, circuitBreaker: { enabled: false } } } } as never]);
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await infer('retrying')).status);
    assert.equal(statuses.filter((x) => x === 500).length, 5, `one attempt each: ${statuses.join(' ')}`);
    assert.equal(await metric(/^modelgate_deployment_retries_total\{deployment="retrying",result="refused"\}/), 5);
  });

  it('without a fallback, a failing version answers 500, then its open circuit answers 503 without running it', async () => {
    await deploy('tripping', 'broken', { resilience: { circuitBreaker: { enabled: true, consecutiveFailures: 3, openFor: '1h' } } });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await infer('tripping')).body.code as string);
    assert.deepEqual(codes, ['MG_ERR_INFER_RUNTIME_FAILED', 'MG_ERR_INFER_RUNTIME_FAILED', 'MG_ERR_INFER_RUNTIME_FAILED', 'MG_ERR_INFER_CIRCUIT_OPEN', 'MG_ERR_INFER_CIRCUIT_OPEN']);
    assert.equal(await metric(/^modelgate_circuit_breaker_state\{deployment="tripping",version="broken@1"\}/), 2);
  });

  it('walks the fallback chain in order: a failing other version is skipped, the rule model answers, marked degraded', async () => {
    await deploy('chained', 'broken', { resilience: { fallback: [{ kind: 'model', model: 'broken', version: 1 }, { kind: 'model', model: 'rules', version: 1 }] } });
    // Fallback versions are loaded with the deployment, in the background.
    await waitFor(() => s.gateway.manager.ready('rules@1'), 'the rule model loaded');
    const r = await infer('chained');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-modelgate-degraded'), 'model');
    assert.equal(r.headers.get('x-modelgate-degraded-cause'), 'failure');
    assert.equal(r.body.parameters.degraded, 'model');
    assert.deepEqual(r.body.outputs.find((o: { name: string }) => o.name === 'label').data, [1]);
    const v1 = await post(`${s.url}/v1/models/chained:predict`, { instances: [Object.fromEntries(FEATURES.map((f, i) => [f, ROW[i]]))] }, t.key);
    assert.equal(v1.status, 200);
    assert.equal(v1.headers.get('x-modelgate-degraded'), 'model');
    assert.equal(v1.body.predictions.length, 1);
    assert.ok((await metric(/^modelgate_deployment_degraded_total\{deployment="chained",kind="model",cause="failure"\}/)) >= 2);
  });

  it('waits for a fallback version still loading, within the deadline, rather than answering 500', async () => {
    await s.ctx.registry.register(admin, { name: 'slowload', artifact: { path: packagePath('test', 'fixtures', 'weather-slow-load.mjs') }, format: 'js', owner: OWNER, features: FEATURES });
    await deploy('loading', 'broken', { resilience: { fallback: [{ kind: 'model', model: 'slowload', version: 1 }] } });
    // The deployment is ready once its arm is; its fallback version loads in the background for 1.5 s.
    assert.equal(s.gateway.manager.ready('slowload@1'), undefined, 'the fallback is still loading');
    const r = await infer('loading');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('x-modelgate-degraded'), 'model');
    assert.deepEqual(r.body.outputs.find((o: { name: string }) => o.name === 'label').data, [1]);
  });

  it('a client mistake is a 4xx, never rescued by the chain', async () => {
    await deploy('strict', 'broken', { resilience: { fallback: [{ kind: 'static', outputs: [{ name: 'label', datatype: 'INT64', data: [0] }] }] } });
    const r = await infer('strict', { inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 4], data: ROW }] });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('x-modelgate-degraded'), null);
  });

  it('a static default answers every row, and says so', async () => {
    const r = await infer('strict', { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [...ROW, ...ROW] }] });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-modelgate-degraded'), 'static');
    assert.deepEqual(r.body.outputs, [{ name: 'label', datatype: 'INT64', shape: [2, 1], data: [0, 0] }]);
    assert.equal(r.body.parameters.degraded, 'static');
  });

  it('the cache serves repeated inputs (serveHits) and answers for a switched deployment; the switch is manual and audited', async () => {
    await deploy('cached', 'good', { resilience: { cache: { enabled: true, serveHits: true, ttl: '1h' }, fallback: [{ kind: 'cache' }, { kind: 'static', outputs: [{ name: 'label', datatype: 'INT64', data: [7] }] }] } });
    const first = await infer('cached');
    assert.equal(first.headers.get('x-modelgate-cache'), null);
    const second = await infer('cached', { ...v2(), id: 'req-2' });
    assert.equal(second.headers.get('x-modelgate-cache'), 'hit');
    assert.equal(second.body.id, 'req-2', 'a cached answer carries the new request\'s id');
    assert.deepEqual(second.body.outputs, first.body.outputs);
    assert.equal(await metric(/^modelgate_response_cache_requests_total\{deployment="cached",result="hit"\}/), 1);

    const refused = await fetch(`${s.url}/api/v1/deployments/retrying/fallback`, { method: 'POST', headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ on: true }) });
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'MG_ERR_FALLBACK_UNAVAILABLE');
    const on = await fetch(`${s.url}/api/v1/deployments/cached/fallback`, { method: 'POST', headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, reason: 'stable misbehaves' }) });
    assert.equal(on.status, 200);
    assert.equal(((await on.json()) as { fallback: { mode: string } }).fallback.mode, 'manual');
    const audited = await listAudit(s.ctx.store.db, { target: 'deployment/cached', action: 'deployment.fallback.on' });
    assert.equal(audited.length, 1);
    assert.deepEqual(audited[0]!.details, { mode: 'manual', reason: 'stable misbehaves' });
    const hit = await infer('cached');
    assert.equal(hit.headers.get('x-modelgate-degraded'), 'cache');
    assert.equal(hit.headers.get('x-modelgate-degraded-cause'), 'switch');
    const miss = await infer('cached', v2([0, 1, 2, 3]));
    assert.equal(miss.headers.get('x-modelgate-degraded'), 'static');
    assert.deepEqual(miss.body.outputs[0].data, [7]);
    await s.ctx.deployments.fallback(admin, 'cached', false);
    assert.equal((await infer('cached', v2([0, 1, 2, 3]))).headers.get('x-modelgate-degraded'), null);
  });

  it('modelgate deployments fallback <d> on|off switches by hand from the CLI', async () => {
    const remote = ['--url', s.url, '--key', t.key];
    const on = await runCliAsync(tmpdir(), [...remote, 'deployments', 'fallback', 'cached', 'on', '--reason', 'stable answers garbage']);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /deployment\/cached answers from its fallback chain \(manual\): stable answers garbage/);
    assert.equal((await infer('cached', v2([0, 1, 2, 3]))).headers.get('x-modelgate-degraded-cause'), 'switch');
    const off = await runCliAsync(tmpdir(), [...remote, 'deployments', 'fallback', 'cached', 'off']);
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /answers from its arms again/);
    const bad = await runCliAsync(tmpdir(), [...remote, 'deployments', 'fallback', 'cached', 'sideways']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MG_ERR_CLI_USAGE/);
  });

  it('the review queue takes what nothing else could answer (202, never a prediction), and low-confidence answers', async () => {
    await deploy('reviewed', 'broken', { resilience: { fallback: [{ kind: 'review' }] } });
    const r = await infer('reviewed', { ...v2(), id: 'ask-human', parameters: { contact: 'jane.doe@example.com' } });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('x-modelgate-degraded'), 'review');
    assert.deepEqual(r.body.outputs, []);
    const id = Number(r.body.parameters.review_id);
    const queued = await s.ctx.reviews.get(admin, id);
    assert.equal(queued.reason, 'fallback');
    assert.equal(queued.requestId, 'ask-human');
    assert.doesNotMatch(JSON.stringify(queued.inputs), /jane\.doe@example\.com/, 'reviewers see the request redacted as the prediction log keeps it');

    await deploy('unsure', 'rules', { resilience: { review: { confidenceBelow: 0.7 } } });
    const unsure = await infer('unsure', { ...v2(), id: 'unsure-1' });
    assert.equal(unsure.status, 200);
    assert.equal(unsure.headers.get('x-modelgate-review'), 'queued');
    const low = await waitFor(async () => (await s.ctx.reviews.list(admin, { deployment: 'unsure' }))[0], 'the low-confidence review');
    assert.equal(low.reason, 'low_confidence');
    assert.ok(Math.abs(low.confidence! - 0.65) < 1e-6);
  });
});
