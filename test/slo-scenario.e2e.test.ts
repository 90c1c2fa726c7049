// The scenarios that prove SLOs act: (1) a faulty version takes all of a deployment's traffic; the fast-burn
// page reaches a local webhook receiver (signed) within the short window, an incident opens, traffic falls
// back to the previous version, releases freeze, and the postmortem draft names the version and the budget
// spent. (2) The same failure during a canary is rolled back by the SLO policy, not by the rollout's own
// analysis (which is set too slow to act here).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../src/alerts/sinks.js';
import { listAudit } from '../src/governance/audit.js';
import { packagePath } from '../src/paths.js';
import { principal } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { waitFor } from './rollout-helpers.js';
import type { RunningServer } from '../src/server.js';

const admin = principal('admin');
const OWNER = 'weather-team <weather@example.com>';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const INSTANCE = { precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7 };
const SECRET = 'scenario-webhook-secret-0123';
const SHORT_WINDOW_MS = 5 * 60_000;

interface Received {
  at: number;
  headers: IncomingMessage['headers'];
  raw: string;
  body: { event: string; alert: { source: string; severity: string; deployment: string; version: number | null; summary: string } };
}

async function receiver(): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      got.push({ at: Date.now(), headers: req.headers, raw, body: JSON.parse(raw) as Received['body'] });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

function slo(name: string, deployment: string): string {
  return `apiVersion: modelgate/v1\nkind: SLO\nmetadata:\n  name: ${name}\nspec:\n  deployment: ${deployment}\n  sli: { type: availability }\n  objective: 0.999\n  window: 28d\n`;
}

async function register(server: RunningServer, name: string, files: string[]): Promise<void> {
  for (const f of files) await server.ctx.registry.register(admin, { name, artifact: { path: packagePath('test', 'fixtures', f) }, format: 'js', owner: OWNER, features: FEATURES });
}

async function traffic(server: RunningServer, deployment: string, key: string, n: number): Promise<{ status: number; headers: Headers; body: { predictions?: unknown[] } }[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await post(`${server.url}/v1/models/${deployment}:predict`, { instances: [INSTANCE] }, key));
  return out;
}

describe('SLO scenario: a faulty version takes all traffic', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  let t: Awaited<ReturnType<typeof startTestServer>>;

  before(async () => {
    hook = await receiver();
    t = await startTestServer({
      rollout: { statsFlushMs: 100 },
      alerting: { evaluateMs: 250, deliverMs: 100, sinks: { hook: { type: 'webhook', url: hook.url, secret: SECRET } }, routes: { default: { page: ['hook'], ticket: ['hook'] } } },
    });
    const s = t.server;
    // Version 1 is the previous, healthy version; version 2 fails every request and takes all the traffic.
    await register(s, 'wx', ['weather-rules.mjs', 'weather-broken.mjs']);
    await s.ctx.registry.setAlias(admin, 'wx', 'production', '2');
    await s.ctx.deployments.apply(admin, [
      { apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name: 'wx' }, spec: { model: 'wx', arms: [{ version: 'production', weight: 100, role: 'stable' }], strategy: { canary: { steps: [{ setWeight: 50 }] } }, gates: { requireCard: false, requireReference: false }, resilience: { fallback: [{ kind: 'version', version: 1 }] } } } as never,
    ]);
    await waitFor(async () => (await fetch(`${s.url}/v2/models/wx/ready`)).status === 200, 'wx ready');
    // The fallback version loads beside the arm; a request failing before it is loaded has nothing to fall back on.
    await waitFor(() => s.gateway.manager.ready('wx@1'), 'the fallback version loaded');
    await s.ctx.slos.apply(admin, slo('wx-availability', 'wx'), 'slo.yaml');
  });
  after(async () => {
    await t?.cleanup();
    hook?.server.close();
  });

  it('pages, opens an incident, falls back, freezes releases, and drafts a postmortem', async () => {
    const s = t.server;
    const started = Date.now();
    const first = await traffic(s, 'wx', t.key, 30);
    // Every answer is a degraded one from version 1 (the chain rescues version 2's failures), never a success claimed by version 2.
    for (const r of first) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-modelgate-degraded'), 'version');
      assert.equal(r.headers.get('x-modelgate-version'), '1');
    }

    const page = await waitFor(() => hook.got.find((g) => g.body.event === 'trigger' && g.body.alert.source === 'slo_fast_burn'), 'the fast-burn page at the webhook', 20_000);
    assert.ok(page.at - started < SHORT_WINDOW_MS, 'the page arrives within the short window');
    assert.equal(page.body.alert.severity, 'SEV1');
    assert.equal(page.body.alert.deployment, 'wx');
    assert.equal(page.body.alert.version, 2);
    assert.ok(verifySignature(SECRET, page.headers['x-modelgate-timestamp'] as string, page.raw, page.headers['x-modelgate-signature'] as string), 'the page is signed with the webhook secret');

    const incident = await waitFor(async () => (await s.ctx.incidents.list(admin, { deployment: 'wx' })).find((i) => i.status === 'open'), 'an open incident for wx');
    assert.equal(incident.severity, 'SEV1');

    const switched = await waitFor(async () => (await s.ctx.deployments.get(admin, 'wx')).fallback ?? undefined, 'the automatic switch to the fallback chain');
    assert.equal(switched.mode, 'auto');
    const during = await post(`${s.url}/v2/models/wx/infer`, { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0.3, 12.8, 5, 4.7] }] }, t.key);
    assert.equal(during.status, 200);
    assert.equal(during.headers.get('x-modelgate-degraded-cause'), 'switch');
    assert.equal(during.body.parameters.degraded, 'version');
    assert.equal(during.body.model_version, '1');

    const freeze = await waitFor(async () => (await s.ctx.rollouts.listFreezes(admin)).find((f) => f.scope === 'wx'), 'the error-budget freeze');
    assert.equal(freeze.source, 'error-budget');
    await assert.rejects(s.ctx.rollouts.start(admin, 'wx', { to: '1' }), (e: Error & { code?: string }) => e.code === 'MG_ERR_ROLLOUT_FROZEN');

    const actions = (await listAudit(s.ctx.store.db, { target: 'deployment/wx' })).filter((a) => a.actor === 'system:slo-policy').map((a) => a.action);
    assert.ok(actions.includes('deployment.fallback.on') && actions.includes('release.freeze'), `audited actions: ${actions.join(', ')}`);

    const detail = await s.ctx.incidents.get(admin, incident.id);
    const kinds = detail.timeline.map((e) => e.kind);
    assert.ok(kinds.includes('alert'), `timeline: ${kinds.join(', ')}`);
    assert.ok(detail.timeline.some((e) => /fallback/.test(e.summary)), 'the fallback switch is on the timeline');

    const resolved = await s.ctx.incidents.resolve(admin, incident.id, { resolution: 'version 2 rolled off' });
    assert.match(resolved.postmortem, /wx@2|version 2/);
    assert.match(resolved.postmortem, /[Bb]udget/);
    assert.match(resolved.postmortem, /\d+(\.\d+)?%/);
  });
});

describe('SLO scenario: the same failure during a canary', () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  let t: Awaited<ReturnType<typeof startTestServer>>;

  before(async () => {
    hook = await receiver();
    t = await startTestServer({
      rollout: { statsFlushMs: 100, tickMs: 100 },
      alerting: { evaluateMs: 250, deliverMs: 100, sinks: { hook: { type: 'webhook', url: hook.url, secret: SECRET } }, routes: { default: { page: ['hook'] } } },
    });
    const s = t.server;
    await register(s, 'cx', ['weather-rules.mjs', 'weather-broken.mjs']);
    await s.ctx.registry.setAlias(admin, 'cx', 'production', '1');
    await s.ctx.deployments.apply(admin, [
      {
        apiVersion: 'modelgate/v1',
        kind: 'Deployment',
        metadata: { name: 'cx' },
        spec: {
          model: 'cx',
          arms: [{ version: 'production', weight: 100, role: 'stable' }],
          // The rollout's own analysis is an hour away: only the SLO policy can act within this test.
          strategy: { canary: { analysisInterval: '1h', steps: [{ setWeight: 50 }, { pause: {} }] } },
          gates: { requireCard: false, requireReference: false, requireSlo: true },
          resilience: { circuitBreaker: { enabled: false } },
        },
      } as never,
    ]);
    await waitFor(async () => (await fetch(`${s.url}/v2/models/cx/ready`)).status === 200, 'cx ready');
    await s.ctx.slos.apply(admin, slo('cx-availability', 'cx'), 'slo.yaml');
  });
  after(async () => {
    await t?.cleanup();
    hook?.server.close();
  });

  it('rolls the canary back by policy when the SLO pages', async () => {
    const s = t.server;
    // gates.requireSlo: no rollout without an SLO to watch it.
    await s.ctx.slos.remove(admin, 'cx-availability');
    const without = await s.ctx.rollouts.check(admin, 'cx', '2');
    assert.equal(without.items.find((i) => i.name === 'SLO and alert route')?.status, 'fail');
    await s.ctx.slos.apply(admin, slo('cx-availability', 'cx'), 'slo.yaml');
    const gate = (await s.ctx.rollouts.check(admin, 'cx', '2')).items.find((i) => i.name === 'SLO and alert route');
    assert.equal(gate?.status, 'pass');
    assert.match(gate!.evidence, /cx-availability/);
    const r = await s.ctx.rollouts.start(admin, 'cx', { to: '2' });
    await waitFor(async () => (await s.ctx.rollouts.status(admin, 'cx')).phase === 'Paused', 'the canary at 50%');
    const answers = await traffic(s, 'cx', t.key, 40);
    assert.ok(answers.some((a) => a.status >= 500), 'the canary fails its share of requests');
    assert.ok(answers.some((a) => a.status === 200), 'stable still answers');

    const rolled = await waitFor(async () => {
      const st = await s.ctx.rollouts.status(admin, 'cx');
      return st.phase === 'RolledBack' ? st : undefined;
    }, 'the rollback by SLO policy', 20_000);
    assert.equal(rolled.id, r.id);
    assert.match(rolled.message ?? '', /SLO policy/);
    const audit = await listAudit(s.ctx.store.db, { action: 'rollout.rollback' });
    assert.equal(audit[0]?.actor, 'system:slo-policy');
    await waitFor(() => hook.got.some((g) => g.body.alert.source === 'slo_fast_burn' && g.body.alert.deployment === 'cx'), 'the page at the webhook');
    // Traffic is back on stable: every answer succeeds again.
    await s.ctx.refreshRoutes?.();
    const after = await traffic(s, 'cx', t.key, 10);
    assert.deepEqual(after.map((a) => a.status), Array(10).fill(200));
  });
});
