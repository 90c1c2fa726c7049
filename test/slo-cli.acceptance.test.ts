// Acceptance: `modelgate slo validate|rules` through the real binary, on the shipped example SLO file, and
// `slo apply|list|status|delete` against a running server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packagePath } from '../src/paths.js';
import { runCli, runCliAsync } from './cli-helpers.js';
import { principal, tempHome, V1 } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const EXAMPLE = packagePath('src', 'slo', 'testdata', 'weather-slo.yaml');
const RULES = packagePath('src', 'slo', 'testdata', 'weather-slo.rules.yml');

describe('modelgate slo', () => {
  const t = tempHome('mg-slo-cli-');
  after(() => t.cleanup());

  it('writes the rules the shipped file holds, and promtool accepts them', () => {
    const r = runCli(t.home, ['slo', 'rules', '-f', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(RULES, 'utf8'));
    const out = join(t.home, 'rules.yml');
    assert.equal(runCli(t.home, ['slo', 'rules', '-f', EXAMPLE, '-o', out]).code, 0);
    const check = spawnSync('promtool', ['check', 'rules', out], { encoding: 'utf8' });
    if (check.error) console.log('NOTICE: promtool is not installed; `promtool check rules` is skipped.');
    else assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('validates, and refuses a bad file with a code and the field at fault', () => {
    const v = runCli(t.home, ['slo', 'validate', '-f', EXAMPLE, '--json']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json()[0].name, 'weather-availability');
    const bad = join(t.home, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata: {name: x}\nspec: {deployment: w, sli: {type: availability}, objective: 1.5}\n');
    const r = runCli(t.home, ['slo', 'rules', '-f', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error MG_ERR_SLO_INVALID: x: spec\.objective/);
    assert.equal(runCli(t.home, ['slo', 'rules']).code, 2, 'no file is a usage error');
  });
});

describe('modelgate slo apply, list, status and delete against a server', () => {
  const t = tempHome('mg-slo-srv-cli-');
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let remote: string[];
  const run = (...args: string[]) => runCliAsync(t.home, [...remote, ...args]);

  before(async () => {
    server = await startTestServer({ rollout: { statsFlushMs: 100 } });
    remote = ['--url', server.server.url, '--key', server.key];
    const admin = principal('admin');
    const reg = server.server.ctx.registry;
    await reg.register(admin, { name: 'ws', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: 'team <t@example.com>' });
    await reg.setAlias(admin, 'ws', 'production', '1');
    const doc = deploymentDoc('ws', 'ws');
    delete (doc.spec as Record<string, unknown>).strategy;
    await server.server.ctx.deployments.apply(admin, [doc as never]);
    await waitFor(async () => (await fetch(`${server.server.url}/v2/models/ws/ready`)).status === 200, 'ready');
    for (let i = 0; i < 20; i++) {
      const r = await post(`${server.server.url}/v1/models/ws:predict`, { instances: [{ precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7 }] }, server.key);
      assert.equal(r.status, 200);
    }
    await new Promise((r) => setTimeout(r, 30));
    await server.server.gateway.sli.flush();
  });
  after(async () => {
    await server?.cleanup();
    t.cleanup();
  });

  it('applies the example SLO, lists it and shows its status as a table and as JSON', async () => {
    const file = join(t.home, 'ws-slo.yaml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8').replace('name: weather-availability', 'name: ws-availability').replace('deployment: weather', 'deployment: ws'));
    const applied = await run('slo', 'apply', '-f', file);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /slo\/ws-availability created/);
    const again = await run('slo', 'apply', '-f', file);
    assert.match(again.stdout, /slo\/ws-availability unchanged/);
    const list = await run('slo', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /ws-availability\s+ws\s+availability\s+0\.999\s+28d/);
    const table = await run('slo', 'status');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /SLO\s+DEPLOYMENT\s+SLI\s+OBJECTIVE\s+SLI NOW\s+BUDGET LEFT\s+BURN 1h/);
    assert.match(table.stdout, /ws-availability\s+ws\s+availability\s+0\.999\s+100\.000%\s+100\.0%\s+0\.00\s+0\.00\s+0\.00\s+0\.00\s+-/);
    const json = await run('slo', 'status', 'ws-availability', '--json');
    assert.equal(json.code, 0, json.stderr);
    const s = json.json();
    assert.equal(s.budget.total, 20);
    assert.deepEqual(s.firing, []);
  });

  it('refuses an unknown SLO and a bad file with a code, and deletes', async () => {
    const missing = await run('slo', 'status', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error MG_ERR_SLO_NOT_FOUND/);
    const bad = join(t.home, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata: {name: x}\nspec: {deployment: w, sli: {type: availability}, objective: 1.5}\n');
    const refused = await run('slo', 'apply', '-f', bad);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error MG_ERR_SLO_INVALID: x: spec\.objective/);
    assert.equal((await run('slo', 'apply')).code, 2, 'no file is a usage error');
    const del = await run('slo', 'delete', 'ws-availability');
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await run('slo', 'list', '--json')).json().length, 0);
  });
});
