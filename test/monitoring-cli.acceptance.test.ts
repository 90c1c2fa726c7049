// Acceptance: the monitoring commands through the real `modelgate` binary against a running server: live
// drift (table, JSON, history, --fail-on-drift), quality, feedback from a JSONL file, predictions and
// privacy erase, with clean errors for what they cannot do.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync } from './cli-helpers.js';
import { principal, tempHome, V1 } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const admin = principal('admin');

describe('modelgate drift, quality, feedback, predictions and privacy against a server', () => {
  const t = tempHome('mg-mon-cli-');
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let remote: string[];
  const run = (...args: string[]) => runCliAsync(t.home, [...remote, ...args]);
  const ids: { id: string; label: number }[] = [];

  before(async () => {
    server = await startTestServer({ monitoring: { flushMs: 100, evaluateMs: 3_600_000 } });
    remote = ['--url', server.server.url, '--key', server.key];
    const reg = server.server.ctx.registry;
    await reg.register(admin, { name: 'wc', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: 'team <t@example.com>' });
    await reg.setAlias(admin, 'wc', 'production', '1');
    const doc = deploymentDoc('wc', 'wc', { monitoring: { sample: 1, drift: { minRows: 50 }, subject: { header: 'x-user-id' } } });
    delete (doc.spec as Record<string, unknown>).strategy;
    await server.server.ctx.deployments.apply(admin, [doc as never]);
    await waitFor(async () => (await fetch(`${server.server.url}/v2/models/wc/ready`)).status === 200, 'ready');
    // Every sixth day, so the sample spans the seasons as the reference does.
    const lines = readFileSync(V1.reference, 'utf8').trim().split('\n').slice(1).filter((_, i) => i % 6 === 0).slice(0, 120);
    for (const l of lines) {
      const [precipitation, tempMax, tempMin, wind, label] = l.split(',').map(Number);
      // Ten degrees warmer than the reference: temp_max and temp_min drift.
      const r = await post(`${server.server.url}/v1/models/wc:predict`, { instances: [{ precipitation, temp_max: tempMax! + 10, temp_min: tempMin! + 10, wind }] }, server.key, { 'x-user-id': 'carol' });
      assert.equal(r.status, 200);
      ids.push({ id: r.headers.get('x-request-id')!, label: label! });
    }
    await new Promise((r) => setTimeout(r, 50));
    await server.server.gateway.monitor.flush();
  });
  after(async () => {
    await server?.cleanup();
    t.cleanup();
  });

  it('shows live drift as a table and as JSON, and fails a pipeline on drift when asked', async () => {
    const table = await run('drift', 'wc', '--window', '1h');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /temp_max\s+numerical\s+ks\s+\S+\s+\S+\s+0\.05\s+DRIFT/);
    assert.match(table.stdout, /DATASET DRIFT/);
    const json = await run('drift', 'wc', '--json');
    assert.equal(json.code, 0, json.stderr);
    const v = json.json().versions[0];
    assert.equal(v.rows, 120);
    assert.deepEqual(v.drift.features.filter((f: { drifted: boolean }) => f.drifted).map((f: { name: string }) => f.name).sort(), ['temp_max', 'temp_min']);
    assert.equal((await run('drift', 'wc', '--fail-on-drift')).code, 1);
    const bad = await run('drift', 'wc', '--window', 'soon');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error MG_ERR_MONITORING_INVALID_QUERY: /);
    const missing = await run('drift', 'nope');
    assert.match(missing.stderr, /^error MG_ERR_DEPLOYMENT_NOT_FOUND: /);
  });

  it('sends labels from a JSONL file and reports quality', async () => {
    const file = join(t.home, 'labels.jsonl');
    writeFileSync(file, ids.map((x) => JSON.stringify({ requestId: x.id, label: x.label })).join('\n') + '\n');
    const sent = await run('feedback', '-f', file);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /120 accepted: 120 joined/);
    const q = await run('quality', 'wc', '--json');
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.json().versions[0].labelled, 120);
    const table = await run('quality', 'wc');
    assert.match(table.stdout, /version 1 \(classification\): 120 predictions, 120 labelled/);
    writeFileSync(file, '{"requestId": "x", "label": 1}\nnot json\n');
    const broken = await run('feedback', '-f', file);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^error MG_ERR_FEEDBACK_INVALID: .*line 2/);
  });

  it('lists sampled payloads and erases a subject', async () => {
    const p = await run('predictions', 'wc', '--limit', '3', '--json');
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.json().length, 3);
    const erased = await run('privacy', 'erase', '--subject', 'carol', '--json');
    assert.equal(erased.code, 0, erased.stderr);
    assert.deepEqual(erased.json(), { records: 120, payloads: 120, feedback: 120 });
    const audit = await run('audit', 'list', '--json');
    assert.match(audit.stdout, /privacy\.erase/);
    assert.doesNotMatch(audit.stdout, /carol/);
  });
});
