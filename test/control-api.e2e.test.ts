// End to end: the real server on 127.0.0.1, spoken to over HTTP.
import assert from 'node:assert/strict';
import { openAsBlob, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config/index.js';
import { openLocalClient } from '../src/cli/client.js';
import { createLogger } from '../src/context.js';
import { startServer, type RunningServer } from '../src/server.js';
import { packagePath } from '../src/paths.js';
import { tempHome, V1, V2 } from './helpers.js';

describe('control API over HTTP', () => {
  let server: RunningServer;
  let adminKey: string;
  let home: { home: string; cleanup: () => void };
  const url = (p: string) => `${server.url}/api/v1${p}`;
  const req = async (method: string, p: string, key: string | undefined, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (typeof body === 'string') {
      headers['content-type'] = 'application/json';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(url(p), { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const registerForm = async (artifact: string, extra: Record<string, string | [string, string]> = {}) => {
    const form = new FormData();
    form.append('artifact', await openAsBlob(artifact), 'model.onnx');
    for (const [k, v] of Object.entries(extra)) {
      if (Array.isArray(v)) form.append(k, await openAsBlob(v[0]), v[1]);
      else form.append(k, v);
    }
    return form;
  };

  before(async () => {
    home = tempHome();
    const config = loadConfig({ env: {}, flags: { home: home.home, server: { port: 0 }, log: { level: 'silent' } } });
    server = await startServer(config);
    server.ctx.logger = createLogger('silent');
    assert.ok(server.adminKey, 'the first start creates an admin key');
    adminKey = server.adminKey;
  });
  after(async () => {
    await server?.close();
    home?.cleanup();
  });

  it('writes the first admin key to $MODELGATE_HOME/admin.key with mode 0600', () => {
    const file = join(home.home, 'admin.key');
    assert.equal(readFileSync(file, 'utf8').trim(), adminKey);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('requires a key on every control route, with one error shape', async () => {
    for (const [method, p] of [['GET', '/models'], ['GET', '/keys'], ['GET', '/audit'], ['POST', '/models/x/versions'], ['PUT', '/models/x/aliases/production']] as const) {
      const r = await req(method, p, undefined);
      assert.equal(r.status, 401, `${method} ${p}`);
      assert.equal(r.body.error.code, 'MG_ERR_AUTH_MISSING_KEY');
      assert.match(r.body.error.id, /^[0-9a-f-]{36}$/);
      assert.match(r.body.error.message, /Authorization: Bearer/);
    }
    const bad = await req('GET', '/models', 'mgk_not-a-real-key');
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error.code, 'MG_ERR_AUTH_INVALID_KEY');
  });

  it('serves the OpenAPI document with the registry routes', async () => {
    const res = await fetch(url('/openapi.json'));
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/v1/models', '/api/v1/models/{name}/versions', '/api/v1/models/{name}/aliases/{alias}', '/api/v1/models/{name}/diff', '/api/v1/keys', '/api/v1/audit/verify']) {
      assert.ok(doc.paths[p], `documented: ${p}`);
    }
  });

  it('registers versions over multipart, with card, reference data and metadata', async () => {
    const r1 = await req('POST', '/models/weather/versions', adminKey, await registerForm(V1.model, { card: [V1.card, 'card.yaml'], reference: [V1.reference, 'reference.csv'], metadata: 'metrics.auc=0.7579' }));
    assert.equal(r1.status, 201, JSON.stringify(r1.body));
    assert.equal(r1.body.version, 1);
    assert.equal(r1.body.reference.rows, 731);
    assert.equal(r1.body.metadata['metrics.auc'], 0.7579);
    const r2 = await req('POST', '/models/weather/versions', adminKey, await registerForm(V2.model, { card: [V2.card, 'card.yaml'], reference: [V2.reference, 'reference.csv'], parent: '1' }));
    assert.equal(r2.status, 201);
    assert.equal(r2.body.version, 2);
    assert.equal(r2.body.parentVersion, 1);
  });

  it('refuses bad uploads with 4xx and their own codes, storing nothing', async () => {
    const blobs = await server.ctx.registry.artifacts.list();
    const notOnnx = await req('POST', '/models/weather/versions', adminKey, await registerForm(V1.reference));
    assert.equal(notOnnx.status, 400);
    assert.equal(notOnnx.body.error.code, 'MG_ERR_ARTIFACT_NOT_ONNX');
    const badCard = await req('POST', '/models/weather/versions', adminKey, await registerForm(V1.model, { card: [V1.reference, 'card.yaml'] }));
    assert.equal(badCard.status, 400);
    assert.match(badCard.body.error.code, /^MG_ERR_CARD_/);
    const noArtifact = new FormData();
    noArtifact.append('owner', 'x');
    const missing = await req('POST', '/models/weather/versions', adminKey, noArtifact);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'MG_ERR_REQUEST_INVALID');
    const json = await req('POST', '/models/weather/versions', adminKey, { artifact: 'x' });
    assert.equal(json.status, 415);
    assert.equal(json.body.error.code, 'MG_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(await server.ctx.registry.artifacts.list(), blobs);
    assert.equal((await req('GET', '/models/weather', adminKey)).body.versions, 2);
  });

  it('moves aliases, renders cards, diffs versions and verifies the audit chain', async () => {
    assert.equal((await req('PUT', '/models/weather/aliases/production', adminKey, { version: 1 })).status, 200);
    const moved = await req('PUT', '/models/weather/aliases/production', adminKey, { version: '2' });
    assert.deepEqual([moved.body.previousVersion, moved.body.version], [1, 2]);
    const aliases = await req('GET', '/models/weather/aliases', adminKey);
    assert.equal(aliases.body.history.length, 2);
    const v = await req('GET', '/models/weather/versions/production', adminKey);
    assert.equal(v.body.version, 2);
    const card = await req('GET', '/models/weather/versions/1/card', adminKey);
    assert.match(card.body.markdown, /^# /m);
    const diff = await req('GET', '/models/weather/diff?a=1&b=production', adminKey);
    assert.equal(diff.body.signature.breaking, true);
    const artifact = await fetch(url('/models/weather/versions/1/artifact'), { headers: { authorization: `Bearer ${adminKey}` } });
    assert.deepEqual(Buffer.from(await artifact.arrayBuffer()), readFileSync(V1.model));
    const verify = await req('GET', '/audit/verify', adminKey);
    assert.equal(verify.body.ok, true);
    const events = await req('GET', '/audit?limit=3', adminKey);
    assert.equal(events.body[0].action, 'model.alias.set');
  });

  it('answers client mistakes with 4xx, never 500', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/models/Not_Valid!', undefined, 400, 'MG_ERR_MODEL_INVALID_NAME'],
      ['GET', '/models/nope', undefined, 404, 'MG_ERR_MODEL_NOT_FOUND'],
      ['GET', '/models/weather/versions/42', undefined, 404, 'MG_ERR_MODEL_VERSION_NOT_FOUND'],
      ['GET', '/models/weather/versions/canary', undefined, 404, 'MG_ERR_MODEL_ALIAS_NOT_FOUND'],
      ['PUT', '/models/weather/aliases/production', '{"version": ', 400, 'MG_ERR_REQUEST_MALFORMED_JSON'],
      ['PUT', '/models/weather/aliases/production', { versio: 1 }, 400, 'MG_ERR_REQUEST_INVALID'],
      ['GET', '/models/weather/versions/1/card?revision=zero', undefined, 400, 'MG_ERR_REQUEST_INVALID'],
      ['GET', '/models/weather/diff?a=1', undefined, 400, 'MG_ERR_REQUEST_INVALID'],
      ['GET', '/nowhere', undefined, 404, 'MG_ERR_REQUEST_ROUTE_NOT_FOUND'],
      ['POST', '/keys', { name: 'x', role: 'superuser' }, 400, 'MG_ERR_KEY_INVALID_ROLE'],
      ['DELETE', '/keys/key_000000000000', undefined, 404, 'MG_ERR_KEY_NOT_FOUND'],
    ];
    for (const [method, p, body, status, code] of cases) {
      const r = await req(method, p, adminKey, body);
      assert.equal(r.status, status, `${method} ${p}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, `${method} ${p}`);
    }
  });

  it('lets only an admin register a js model, which runs code inside the gateway', async () => {
    const operator = (await req('POST', '/keys', adminKey, { name: 'ops', role: 'operator' })).body;
    const slow = packagePath('test', 'fixtures', 'slow-echo.mjs');
    const form = async () => {
      const f = new FormData();
      f.append('artifact', await openAsBlob(slow), 'slow-echo.mjs');
      f.append('format', 'js');
      return f;
    };
    const refused = await req('POST', '/models/rules/versions', operator.key, await form());
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'MG_ERR_AUTH_FORBIDDEN');
    const ok = await req('POST', '/models/rules/versions', adminKey, await form());
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.format, 'js');
    assert.deepEqual(ok.body.signature.inputs.map((i: { name: string; datatype: string }) => [i.name, i.datatype]), [['x', 'FP32']]);
    const notModule = new FormData();
    notModule.append('artifact', new Blob(['this is not javascript {']), 'bad.mjs');
    notModule.append('format', 'js');
    const bad = await req('POST', '/models/rules/versions', adminKey, notModule);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'MG_ERR_RUNTIME_JS_INVALID_MODULE');
  });

  it('checks roles and model scopes per key', async () => {
    const viewer = (await req('POST', '/keys', adminKey, { name: 'dash', role: 'viewer' })).body;
    assert.match(viewer.key, /^mgk_/);
    assert.equal((await req('GET', '/models', viewer.key)).status, 200);
    const forbidden = await req('PUT', '/models/weather/aliases/staging', viewer.key, { version: 1 });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'MG_ERR_AUTH_FORBIDDEN');
    assert.equal((await req('GET', '/keys', viewer.key)).status, 403);
    const scoped = (await req('POST', '/keys', adminKey, { name: 'fraud-team', role: 'operator', models: ['fraud-*'] })).body;
    assert.deepEqual((await req('GET', '/models', scoped.key)).body, []);
    assert.equal((await req('GET', '/models/weather', scoped.key)).body.error.code, 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE');
    const listed = (await req('GET', '/keys', adminKey)).body as { id: string; key?: string }[];
    assert.ok(listed.every((k) => k.key === undefined), 'keys are never listed');
    assert.equal((await req('DELETE', `/keys/${viewer.id}`, adminKey)).status, 200);
    assert.equal((await req('GET', '/models', viewer.key)).status, 401);
  });

  it('sees what the CLI registers directly on the store while it runs', async () => {
    const local = await openLocalClient(loadConfig({ env: {}, flags: { home: home.home, log: { level: 'silent' } } }));
    try {
      await local.register({ name: 'offline', artifact: V1.model, metadata: [] });
    } finally {
      await local.close();
    }
    const r = await req('GET', '/models/offline', adminKey);
    assert.equal(r.status, 200);
    assert.equal(r.body.versions, 1);
    assert.match(r.body.createdBy, /^local:/);
  });
});
