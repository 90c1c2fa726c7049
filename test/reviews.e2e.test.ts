// End to end: the human review queue over the control API on 127.0.0.1, on SQLite and PostgreSQL. Items are
// queued as the gateway queues them (once per request), listed by viewers, decided once by operators; the
// decision is stored as feedback for the request with its deployment, so labelled quality can join it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { AppContext } from '../src/context.js';
import { listAudit } from '../src/governance/audit.js';
import { createKey } from '../src/governance/keys.js';
import { DIALECTS, principal, V1 } from './helpers.js';
import { deploymentDoc } from './rollout-helpers.js';
import { runCliAsync } from './cli-helpers.js';

const admin = principal('admin');

for (const dialect of DIALECTS) {
  describe(`review queue end to end (${dialect.name})`, { skip: dialect.skip }, () => {
    let ctx: AppContext;
    let cleanup: () => Promise<void>;
    let app: FastifyInstance;
    let url: string;
    const keys = { operator: '', viewer: '', scoped: '' };
    const ids: number[] = [];

    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
    };
    const feedbackOf = (requestId: string) => ctx.store.db.selectFrom('feedback').selectAll().where('request_id', '=', requestId).execute();

    before(async () => {
      const opened = await dialect.open();
      ctx = opened.ctx;
      cleanup = opened.cleanup;
      await ctx.registry.register(admin, { name: 'wx', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: 'weather-team <weather@example.com>' });
      await ctx.registry.setAlias(admin, 'wx', 'production', '1');
      const doc = deploymentDoc('wx', 'wx');
      delete (doc.spec as Record<string, unknown>).strategy;
      await ctx.deployments.apply(admin, [doc as never]);
      keys.operator = (await createKey(ctx.store.db, { name: 'reviewer', role: 'operator' }, admin.actor)).key;
      keys.viewer = (await createKey(ctx.store.db, { name: 'watcher', role: 'viewer' }, admin.actor)).key;
      keys.scoped = (await createKey(ctx.store.db, { name: 'other-team', role: 'operator', modelPatterns: ['other-*'] }, admin.actor)).key;
      app = await buildApp(ctx);
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app?.close();
      await cleanup?.();
    });

    it('queues each request once, and lists the queue to viewers', async () => {
      const inputs = { precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7 };
      ids.push(await ctx.reviews.enqueue({ deployment: 'wx', model: 'wx', version: 1, requestId: 'req-low', reason: 'low_confidence', confidence: 0.52, inputs, outputs: { weather: 'rain' } }));
      assert.equal(await ctx.reviews.enqueue({ deployment: 'wx', model: 'wx', version: 1, requestId: 'req-low', reason: 'low_confidence', confidence: 0.52, inputs, outputs: { weather: 'rain' } }), ids[0]);
      ids.push(await ctx.reviews.enqueue({ deployment: 'wx', model: 'wx', version: 1, requestId: 'req-fallback', reason: 'fallback', confidence: null, inputs, outputs: null }));
      const list = await call('GET', '/reviews', keys.viewer);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.map((r: { id: number }) => r.id), ids);
      const one = await call('GET', `/reviews/${ids[0]}`, keys.viewer);
      assert.equal(one.status, 200);
      assert.deepEqual(one.body.inputs, inputs);
      assert.equal(one.body.reason, 'low_confidence');
      assert.deepEqual((await call('GET', '/reviews', keys.scoped)).body, [], 'a key for other models sees none of them');
      assert.equal((await call('GET', `/reviews/${ids[0]}`, keys.scoped)).status, 404);
    });

    it('records an operator\'s decision as feedback with the label and the deployment; viewers may not decide', async () => {
      const denied = await call('POST', `/reviews/${ids[0]}/decision`, keys.viewer, { label: 'sun' });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'MG_ERR_AUTH_FORBIDDEN');
      const missing = await call('POST', `/reviews/${ids[0]}/decision`, keys.operator, {});
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.code, 'MG_ERR_REVIEW_INVALID');
      const wrong = await call('POST', `/reviews/${ids[0]}/decision`, keys.operator, { label: { weather: 'sun' } });
      assert.equal(wrong.body.error.code, 'MG_ERR_REVIEW_INVALID');
      assert.deepEqual(await feedbackOf('req-low'), [], 'a refused decision records nothing');

      const decided = await call('POST', `/reviews/${ids[0]}/decision`, keys.operator, { label: 'sun', note: 'clear sky on the camera' });
      assert.equal(decided.status, 200, decided.text);
      assert.equal(decided.body.status, 'decided');
      assert.equal(decided.body.decision, 'sun');
      assert.match(decided.body.decidedBy, /^key:/);
      const rows = await feedbackOf('req-low');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.deployment, 'wx', 'the label carries its deployment (there is no prediction record to join)');
      assert.equal(JSON.parse(rows[0]!.label!), 'sun');
      const audit = await listAudit(ctx.store.db, { action: 'review.decide', target: `review/${ids[0]}` });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor, decided.body.decidedBy);
    });

    it('refuses a second decision with 409 and keeps the first label', async () => {
      const again = await call('POST', `/reviews/${ids[0]}/decision`, keys.operator, { label: 'rain' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'MG_ERR_REVIEW_ALREADY_DECIDED');
      const rows = await feedbackOf('req-low');
      assert.deepEqual(rows.map((r) => JSON.parse(r.label!) as unknown), ['sun']);
      const missing = await call('POST', '/reviews/999999/decision', keys.operator, { label: 1 });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'MG_ERR_REVIEW_NOT_FOUND');
    });

    it('lists and decides through the CLI, sending a numeric label as a number', async () => {
      const remote = ['--url', url, '--key', keys.operator];
      const pending = await runCliAsync(tmpdir(), [...remote, 'reviews', 'list', '--json']);
      assert.equal(pending.code, 0, pending.stderr);
      assert.deepEqual((JSON.parse(pending.stdout) as { id: number }[]).map((r) => r.id), [ids[1]]);
      const show = await runCliAsync(tmpdir(), [...remote, 'reviews', 'show', String(ids[1])]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, /review #\d+ pending: wx \(wx@1\), fallback/);
      const decide = await runCliAsync(tmpdir(), [...remote, 'reviews', 'decide', String(ids[1]), '--label', '0', '--note', 'checked']);
      assert.equal(decide.code, 0, decide.stderr);
      assert.match(decide.stdout, /decided: label 0 recorded as feedback for request req-fallback/);
      const [row] = await feedbackOf('req-fallback');
      assert.equal(row!.label, '0', 'sent as the number 0, not the string "0"');
      assert.equal(row!.deployment, 'wx');
      const twice = await runCliAsync(tmpdir(), [...remote, 'reviews', 'decide', String(ids[1]), '--label', '1']);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /^error MG_ERR_REVIEW_ALREADY_DECIDED: /);
      const all = await runCliAsync(tmpdir(), [...remote, 'reviews', 'list', '--all']);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stdout.trim().split('\n').length, 3, all.stdout);
      assert.equal((await runCliAsync(tmpdir(), [...remote, 'reviews', 'decide', String(ids[1])])).code, 2, '--label is required');
    });
  });
}
