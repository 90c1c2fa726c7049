import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labelValue } from '../cli/commands/reviews.js';
import { listAudit } from '../governance/audit.js';
import type { Principal } from '../governance/keys.js';
import type { Role } from '../governance/roles.js';
import { openStore, type Store } from '../store/database.js';
import { createReviewService, type ReviewItem, type ReviewService } from './review-service.js';

const who = (role: Role, modelPatterns: string[] = []): Principal => ({ actor: `test:${role}`, keyId: null, role, modelPatterns });
const operator = who('operator');
const item = (requestId: string, o: Partial<ReviewItem> = {}): ReviewItem => ({ deployment: 'fraud', model: 'fraud-model', version: 3, requestId, reason: 'low_confidence', confidence: 0.51, inputs: { amount: 120, country: 'FR' }, outputs: { label: 1, score: 0.51 }, ...o });

describe('review service', () => {
  let home: string;
  let store: Store;
  let reviews: ReviewService;
  let clock = Date.parse('2026-03-01T10:00:00.000Z');

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'mg-reviews-'));
    store = await openStore({ home });
    reviews = createReviewService(store, { now: () => (clock += 1000) });
  });
  after(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('queues a request once per deployment and request id', async () => {
    const id = await reviews.enqueue(item('r1'));
    assert.equal(await reviews.enqueue(item('r1', { confidence: 0.2 })), id, 'the second call returns the first id');
    const other = await reviews.enqueue(item('r1', { deployment: 'fraud-shadow' }));
    assert.notEqual(other, id, 'the same request id on another deployment is another review');
    const r = await reviews.get(operator, id);
    assert.equal(r.confidence, 0.51, 'the first enqueue wins');
    assert.deepEqual(r.inputs, { amount: 120, country: 'FR' });
    assert.deepEqual(r.outputs, { label: 1, score: 0.51 });
    assert.equal(r.status, 'pending');
    const fb = await reviews.enqueue(item('r2', { reason: 'fallback', confidence: null, outputs: null, model: 'weather', deployment: 'weather' }));
    assert.equal((await reviews.get(operator, fb)).outputs, null);
  });

  it('refuses a malformed item', async () => {
    await assert.rejects(reviews.enqueue(item('', {})), { code: 'MG_ERR_REVIEW_INVALID' });
    await assert.rejects(reviews.enqueue(item('x', { reason: 'bored' as never })), { code: 'MG_ERR_REVIEW_INVALID' });
    await assert.rejects(reviews.enqueue(item('x', { version: 0 })), { code: 'MG_ERR_REVIEW_INVALID' });
    await assert.rejects(reviews.enqueue(item('x', { confidence: Number.NaN })), { code: 'MG_ERR_REVIEW_INVALID' });
  });

  it('lists pending reviews oldest first, scoped to the key\'s models', async () => {
    const pending = await reviews.list(who('viewer'));
    assert.deepEqual(pending.map((r) => r.requestId), ['r1', 'r1', 'r2']);
    assert.deepEqual((await reviews.list(who('viewer'), { deployment: 'weather' })).map((r) => r.requestId), ['r2']);
    const scoped = await reviews.list(who('viewer', ['weather']));
    assert.deepEqual(scoped.map((r) => r.model), ['weather']);
    assert.deepEqual(await reviews.list(who('viewer', ['nothing-*'])), []);
    await assert.rejects(reviews.get(who('viewer', ['weather']), pending[0]!.id), { code: 'MG_ERR_REVIEW_NOT_FOUND' });
    await assert.rejects(reviews.list(who('invoker')), { code: 'MG_ERR_AUTH_FORBIDDEN' });
    await assert.rejects(reviews.get(operator, 424242), { code: 'MG_ERR_REVIEW_NOT_FOUND' });
  });

  it('decides once (operator; audited) and records the label as feedback carrying the deployment', async () => {
    const [first] = await reviews.list(operator, { deployment: 'fraud' });
    await assert.rejects(reviews.decide(who('viewer'), first!.id, { label: 1 }), { code: 'MG_ERR_AUTH_FORBIDDEN' });
    const d = await reviews.decide(operator, first!.id, { label: 0, note: 'a regular customer' });
    assert.equal(d.status, 'decided');
    assert.equal(d.decision, 0);
    assert.equal(d.decidedBy, operator.actor);
    assert.equal(d.feedback.accepted, 1);
    const rows = await store.db.selectFrom('feedback').selectAll().where('request_id', '=', 'r1').execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.deployment, 'fraud');
    assert.equal(rows[0]!.label, '0');
    const audit = await listAudit(store.db, { action: 'review.decide', target: `review/${first!.id}` });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.details.label, 0);
    await assert.rejects(reviews.decide(operator, first!.id, { label: 1 }), { code: 'MG_ERR_REVIEW_ALREADY_DECIDED' });
    assert.equal((await store.db.selectFrom('feedback').selectAll().where('request_id', '=', 'r1').execute()).length, 1, 'a refused decision records no label');
    assert.deepEqual((await reviews.list(operator, { status: 'decided' })).map((r) => r.id), [first!.id]);
    assert.equal((await reviews.list(operator, { status: 'all' })).length, 3);
  });

  it('refuses a missing or invalid label without deciding', async () => {
    const [r] = await reviews.list(operator, { deployment: 'weather' });
    for (const label of [undefined, null, '', '   ', true, { a: 1 }, [1], Number.POSITIVE_INFINITY, 'x'.repeat(1001)]) {
      await assert.rejects(reviews.decide(operator, r!.id, { label: label as never }), { code: 'MG_ERR_REVIEW_INVALID' }, `label ${JSON.stringify(label)}`);
    }
    assert.equal((await reviews.get(operator, r!.id)).status, 'pending');
    const d = await reviews.decide(operator, r!.id, { label: 'rain' });
    assert.equal(d.decision, 'rain');
    assert.equal((await store.db.selectFrom('feedback').select('label').where('request_id', '=', 'r2').executeTakeFirstOrThrow()).label, '"rain"');
  });

  it('lets one of two concurrent decisions win', async () => {
    const id = await reviews.enqueue(item('r3'));
    const results = await Promise.allSettled([reviews.decide(operator, id, { label: 1 }), reviews.decide(operator, id, { label: 0 })]);
    assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1);
    const refused = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    assert.equal((refused.reason as { code: string }).code, 'MG_ERR_REVIEW_ALREADY_DECIDED');
    assert.equal((await store.db.selectFrom('feedback').selectAll().where('request_id', '=', 'r3').execute()).length, 1);
  });
});

describe('reviews decide --label', () => {
  it('sends a label that reads as a number as a number', () => {
    assert.equal(labelValue('1'), 1);
    assert.equal(labelValue('-0.5'), -0.5);
    assert.equal(labelValue('fraud'), 'fraud');
    assert.equal(labelValue('1e3'), '1e3');
    assert.equal(labelValue('01a'), '01a');
  });
});
