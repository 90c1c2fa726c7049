// The store contract: the same registry, key and audit behaviour on SQLite and on PostgreSQL.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';

import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { appendAudit, verifyAudit } from '../src/governance/audit.js';
import { authenticate, createKey, revokeKey } from '../src/governance/keys.js';
import type { AppContext } from '../src/context.js';
import { DIALECTS, principal, rejection, V1, V2 } from './helpers.js';

const admin = principal('admin');

for (const dialect of DIALECTS) {
  describe(`store contract: ${dialect.name}`, { skip: dialect.skip }, () => {
    let ctx: AppContext;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ ctx, cleanup } = await dialect.open({ owner: { team: 'weather-ml', contact: 'wx@example.com' } }));
    });
    after(async () => cleanup?.());

    it('registers version 1 with signature, features, card, reference profile and the default owner', async () => {
      const v = await ctx.registry.register(admin, {
        name: 'weather',
        artifact: { path: V1.model },
        card: { text: readFileSync(V1.card, 'utf8'), source: V1.card },
        reference: { path: V1.reference },
        metadata: { 'metrics.auc': '0.7579', 'params.iterations': '25', code: 'examples/train-weather.ts' },
      });
      assert.equal(v.version, 1);
      assert.equal(v.format, 'onnx');
      assert.match(v.artifact.sha256, /^[0-9a-f]{64}$/);
      assert.equal(v.artifact.size, readFileSync(V1.model).byteLength);
      assert.deepEqual(v.signature.inputs.map((i) => [i.name, i.datatype, i.shape]), [['features', 'FP32', ['batch', 4]]]);
      assert.deepEqual(v.signature.outputs.map((o) => [o.name, o.datatype]), [['label', 'INT64'], ['probabilities', 'FP32']]);
      assert.deepEqual(v.features, ['precipitation', 'temp_max', 'temp_min', 'wind']);
      assert.deepEqual(v.owner, { team: 'weather-ml', contact: 'wx@example.com' });
      assert.equal(v.metadata['metrics.auc'], 0.7579);
      assert.equal(v.metadata.code, 'examples/train-weather.ts');
      assert.equal(v.card?.revision, 1);
      assert.equal(v.reference?.rows, 731);
      assert.equal(v.reference?.label, 'rain_tomorrow');
      assert.equal(v.createdBy, admin.actor);
    });

    it('numbers versions in order and stores identical bytes once', async () => {
      const v2 = await ctx.registry.register(admin, { name: 'weather', artifact: { path: V2.model }, card: { text: readFileSync(V2.card, 'utf8'), source: V2.card }, reference: { path: V2.reference }, parent: '1', metadata: { 'metrics.auc': '0.7758' } });
      assert.equal(v2.version, 2);
      assert.equal(v2.parentVersion, 1);
      const v3 = await ctx.registry.register(admin, { name: 'weather', artifact: { bytes: readFileSync(V1.model) }, owner: 'other-team' });
      assert.equal(v3.version, 3);
      const v1 = await ctx.registry.getVersion(admin, 'weather@1');
      assert.equal(v3.artifact.sha256, v1.artifact.sha256);
      const blobs = await ctx.registry.artifacts.list();
      assert.equal(blobs.filter((b) => b === v1.artifact.sha256).length, 1);
      assert.equal(blobs.length, 2, 'two distinct artifacts for three versions');
      const model = await ctx.registry.getModel(admin, 'weather');
      assert.deepEqual(model.owner, { team: 'other-team', contact: null }, '--owner on a later registration moves the model owner');
    });

    it('numbers concurrent registrations without gaps or duplicates', async () => {
      const results = await Promise.all([1, 2, 3].map(() => ctx.registry.register(admin, { name: 'concurrent', artifact: { path: V1.model } })));
      assert.deepEqual(results.map((r) => r.version).sort(), [1, 2, 3]);
    });

    it('resolves name, name@N and name@alias, keeps alias history, and refuses unknown ones', async () => {
      await ctx.registry.setAlias(admin, 'weather', 'production', '1');
      await ctx.registry.setAlias(principal('operator', [], 'test:alice'), 'weather', 'production', '2');
      await ctx.registry.setAlias(admin, 'weather', 'staging', 'production');
      assert.equal((await ctx.registry.getVersion(admin, 'weather@production')).version, 2);
      assert.equal((await ctx.registry.getVersion(admin, 'weather@staging')).version, 2);
      assert.equal((await ctx.registry.getVersion(admin, 'weather')).version, 3, 'a bare name is the latest active version');
      const { aliases, history } = await ctx.registry.listAliases(admin, 'weather');
      assert.deepEqual(aliases.map((a) => [a.alias, a.version]), [['production', 2], ['staging', 2]]);
      assert.deepEqual(history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.actor]), [
        ['production', null, 1, admin.actor],
        ['production', 1, 2, 'test:alice'],
        ['staging', null, 2, admin.actor],
      ]);
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'weather@canary'))).code, 'MG_ERR_MODEL_ALIAS_NOT_FOUND');
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'weather@99'))).code, 'MG_ERR_MODEL_VERSION_NOT_FOUND');
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'nope@1'))).code, 'MG_ERR_MODEL_NOT_FOUND');
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'Bad Name@1'))).code, 'MG_ERR_MODEL_INVALID_NAME');
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'weather@'))).code, 'MG_ERR_MODEL_INVALID_REF');
      assert.equal((await rejection(() => ctx.registry.setAlias(admin, 'weather', 'latest', '1'))).code, 'MG_ERR_MODEL_INVALID_ALIAS');
      await ctx.registry.unsetAlias(admin, 'weather', 'staging');
      assert.equal((await rejection(() => ctx.registry.getVersion(admin, 'weather@staging'))).code, 'MG_ERR_MODEL_ALIAS_NOT_FOUND');
    });

    it('archives a version only when no alias points at it, and never aliases an archived one', async () => {
      assert.equal((await rejection(() => ctx.registry.archive(admin, 'weather@2'))).code, 'MG_ERR_MODEL_VERSION_ALIASED');
      const archived = await ctx.registry.archive(admin, 'weather@3');
      assert.equal(archived.status, 'archived');
      assert.equal((await rejection(() => ctx.registry.setAlias(admin, 'weather', 'canary', '3'))).code, 'MG_ERR_MODEL_VERSION_ARCHIVED');
      assert.equal((await ctx.registry.getVersion(admin, 'weather')).version, 2, 'latest skips archived versions');
    });

    it('keeps every card revision and refuses an invalid card without adding one', async () => {
      const before = await ctx.registry.getCard(admin, 'weather@1');
      const revised = structuredClone(before.card) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      revised.considerations = { ...(revised.considerations ?? {}), limitations: [{ description: 'Underestimates rain after dry spells (found in production).' }] };
      const r = await ctx.registry.reviseCard(admin, 'weather@1', { value: revised }, 'production review');
      assert.equal(r.revision, 2);
      const bad = await rejection(() => ctx.registry.reviseCard(admin, 'weather@1', { text: 'model_detials: {}', source: 'typo.yaml' }));
      assert.equal(bad.code, 'MG_ERR_CARD_INVALID');
      const history = await ctx.registry.cardHistory(admin, 'weather@1');
      assert.deepEqual(history.map((h) => [h.revision, h.reason]), [[1, 'registered'], [2, 'production review']]);
      assert.deepEqual((await ctx.registry.getCard(admin, 'weather@1', 1)).card, before.card);
      assert.match((await ctx.registry.getCard(admin, 'weather@1')).markdown, /Underestimates rain after dry spells/);
      assert.equal((await rejection(() => ctx.registry.getCard(admin, 'weather@1', 7))).code, 'MG_ERR_CARD_REVISION_NOT_FOUND');
      assert.equal((await rejection(() => ctx.registry.getCard(admin, 'concurrent@1'))).code, 'MG_ERR_CARD_NOT_FOUND');
    });

    it('diffs two versions: artifact, breaking signature change, metadata and card deltas, reference shift', async () => {
      const d = await ctx.registry.diff(admin, 'weather', '1', '2');
      assert.equal(d.artifact.same, false);
      assert.equal(d.signature.breaking, true);
      const features = d.signature.changes.find((c) => c.name === 'features');
      assert.ok(features?.breaking);
      assert.match(features.details.join(' '), /\[batch, ?4\].*\[batch, ?5\]/);
      const auc = d.metadata.find((m) => m.key === 'metrics.auc');
      assert.ok(auc && Math.abs((auc.delta ?? 0) - (0.7758 - 0.7579)) < 1e-9);
      assert.ok(d.cardMetricDeltas.length > 0, 'the two cards report metrics of the same types');
      assert.ok(d.referenceShift, 'both versions have reference data');
      const precipitation = d.referenceShift.find((f) => f.name === 'precipitation');
      assert.equal(precipitation?.status, 'compared');
      assert.ok(precipitation.psi !== null && precipitation.psi < 0.1, 'same training rows: no shift');
      assert.ok(d.referenceShift.some((f) => f.name === 'month' && f.status === 'only_in_b'));
      const same = await ctx.registry.diff(admin, 'weather', '1', '1');
      assert.equal(same.signature.changes.length, 0);
      assert.equal(same.artifact.same, true);
    });

    it('checks the artifact hash on every read: a changed or missing blob is an error, never a silent load', async () => {
      const v = await ctx.registry.register(admin, { name: 'tamper', artifact: { bytes: Buffer.concat([readFileSync(V1.model)]) }, metadata: { note: 'unique' } });
      const ok = await ctx.registry.readArtifact(admin, 'tamper@1');
      assert.equal(ok.bytes.byteLength, v.artifact.size);
      // Another version shares the blob (same bytes as weather@1), so tamper with a copy of a fresh blob instead.
      const path = ctx.registry.artifacts.pathOf(v.artifact.sha256);
      chmodSync(path, 0o644);
      const bytes = readFileSync(path);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
      writeFileSync(path, bytes);
      assert.equal((await rejection(() => ctx.registry.readArtifact(admin, 'tamper@1'))).code, 'MG_ERR_ARTIFACT_CORRUPTED');
      await ctx.registry.artifacts.remove(v.artifact.sha256);
      assert.equal((await rejection(() => ctx.registry.readArtifact(admin, 'tamper@1'))).code, 'MG_ERR_ARTIFACT_MISSING');
      // restore for the other tests sharing this blob
      writeFileSync(path, readFileSync(V1.model));
    });

    it('a failed registration leaves no model, no version and no orphan blob', async () => {
      const blobsBefore = await ctx.registry.artifacts.list();
      const fresh = Buffer.concat([readFileSync(V1.model)]);
      // Different bytes than any stored blob: append an unknown protobuf field (field 99, varint) that readers skip.
      const mutated = Buffer.concat([fresh, Buffer.from([0x98, 0x06, 0x01])]);
      const cases: [string, () => Promise<unknown>][] = [
        ['MG_ERR_ARTIFACT_NOT_ONNX', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: Buffer.from('date,temp\n2020-01-01,3\n') } })],
        ['MG_ERR_ARTIFACT_TRUNCATED', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: fresh.subarray(0, Math.floor(fresh.length / 2)) } })],
        ['MG_ERR_CARD_INVALID', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: mutated }, card: { text: 'model_details: { name: 3 }', source: 'bad.yaml' } })],
        ['MG_ERR_REFERENCE_MISSING_COLUMN', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: mutated }, reference: { path: V1.card.replace('card.yaml', 'reference.csv') }, features: ['precipitation', 'humidity'] })],
        // This one fails inside the transaction, after the blob was written: the blob must be removed again.
        ['MG_ERR_MODEL_PARENT_NOT_FOUND', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: mutated }, parent: '7' })],
        ['MG_ERR_MODEL_INVALID_NAME', () => ctx.registry.register(admin, { name: '-broken', artifact: { bytes: mutated } })],
        ['MG_ERR_MODEL_INVALID_METADATA', () => ctx.registry.register(admin, { name: 'broken', artifact: { bytes: mutated }, metadata: { 'bad key': '1' } })],
        ['MG_ERR_ARTIFACT_UNREADABLE', () => ctx.registry.register(admin, { name: 'broken', artifact: { path: '/nonexistent/model.onnx' } })],
      ];
      for (const [code, fn] of cases) assert.equal((await rejection(fn)).code, code, code);
      assert.equal((await rejection(() => ctx.registry.getModel(admin, 'broken'))).code, 'MG_ERR_MODEL_NOT_FOUND');
      assert.deepEqual(await ctx.registry.artifacts.list(), blobsBefore);
      const rows = await ctx.store.db.selectFrom('model_versions').select('id').where('artifact_sha256', 'not in', blobsBefore).execute();
      assert.equal(rows.length, 0);
    });

    it('enforces roles and model scopes in the service, whoever calls it', async () => {
      const viewer = principal('viewer');
      assert.equal((await rejection(() => ctx.registry.register(viewer, { name: 'weather', artifact: { path: V1.model } }))).code, 'MG_ERR_AUTH_FORBIDDEN');
      assert.equal((await rejection(() => ctx.registry.setAlias(viewer, 'weather', 'production', '1'))).code, 'MG_ERR_AUTH_FORBIDDEN');
      const scoped = principal('operator', ['fraud-*']);
      assert.equal((await rejection(() => ctx.registry.getVersion(scoped, 'weather@1'))).code, 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE');
      assert.deepEqual(await ctx.registry.listModels(scoped), []);
      const weatherOnly = principal('viewer', ['weath*']);
      assert.deepEqual((await ctx.registry.listModels(weatherOnly)).map((m) => m.name), ['weather']);
      const invoker = principal('invoker');
      assert.equal((await rejection(() => ctx.registry.listModels(invoker))).code, 'MG_ERR_AUTH_FORBIDDEN');
    });

    it('creates, authenticates and revokes keys, storing only hashes', async () => {
      const { key, info } = await createKey(ctx.store.db, { name: 'ci-bot', role: 'operator', modelPatterns: ['weather'] }, admin.actor);
      assert.match(key, /^mgk_/);
      const p = await authenticate(ctx.store.db, key);
      assert.deepEqual([p.role, p.modelPatterns, p.keyId], ['operator', ['weather'], info.id]);
      const stored = await ctx.store.db.selectFrom('api_keys').selectAll().where('id', '=', info.id).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(stored).includes(key.slice(4)), 'the key itself is never stored');
      await revokeKey(ctx.store.db, info.id, admin.actor);
      assert.equal((await rejection(() => authenticate(ctx.store.db, key))).code, 'MG_ERR_AUTH_INVALID_KEY');
      assert.equal((await rejection(() => authenticate(ctx.store.db, undefined))).code, 'MG_ERR_AUTH_MISSING_KEY');
      assert.equal((await rejection(() => revokeKey(ctx.store.db, info.id, admin.actor))).code, 'MG_ERR_KEY_ALREADY_REVOKED');
      assert.equal((await rejection(() => createKey(ctx.store.db, { name: 'x', role: 'root' }, admin.actor))).code, 'MG_ERR_KEY_INVALID_ROLE');
      const events = await ctx.store.db.selectFrom('audit_events').select('details').where('action', 'like', 'key.%').execute();
      assert.ok(events.length >= 2 && events.every((e) => !e.details.includes(key)), 'the audit log never holds a key');
    });

    it('audits every change in one intact hash chain', async () => {
      const actions = (await ctx.store.db.selectFrom('audit_events').select('action').orderBy('seq').execute()).map((r) => r.action);
      for (const a of ['model.create', 'model.version.register', 'model.alias.set', 'model.alias.unset', 'model.version.archive', 'model.card.revise', 'model.owner.set', 'key.create', 'key.revoke']) {
        assert.ok(actions.includes(a), `audited: ${a}`);
      }
      const r = await verifyAudit(ctx.store.db);
      assert.equal(r.ok, true);
      assert.equal(r.events, actions.length);
    });

    it('audit verify names the first broken link when a row is edited, deleted or reordered', async () => {
      const db = ctx.store.db;
      const seqs = (await db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((r) => r.seq);
      assert.ok(seqs.length >= 6);
      const snapshot = await db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
      const restore = async () => {
        await db.deleteFrom('audit_events').execute();
        for (const row of snapshot) await db.insertInto('audit_events').values(row).execute();
        assert.equal((await verifyAudit(db)).ok, true);
      };

      await db.updateTable('audit_events').set({ actor: 'mallory' }).where('seq', '=', 3).execute();
      let r = await verifyAudit(db);
      assert.deepEqual([r.ok, r.firstBreak?.seq], [false, 3]);
      assert.match(r.firstBreak!.reason, /edited/);
      await restore();

      await db.deleteFrom('audit_events').where('seq', '=', 4).execute();
      r = await verifyAudit(db);
      assert.deepEqual([r.ok, r.firstBreak?.seq], [false, 4]);
      assert.match(r.firstBreak!.reason, /missing/);
      await restore();

      // Reorder: swap the contents of events 2 and 5 while keeping their sequence numbers.
      const e2 = snapshot.find((e) => e.seq === 2)!;
      const e5 = snapshot.find((e) => e.seq === 5)!;
      const { seq: _s2, ...body2 } = e2;
      const { seq: _s5, ...body5 } = e5;
      await db.updateTable('audit_events').set(body5).where('seq', '=', 2).execute();
      await db.updateTable('audit_events').set(body2).where('seq', '=', 5).execute();
      r = await verifyAudit(db);
      assert.deepEqual([r.ok, r.firstBreak?.seq], [false, 2]);
      await restore();

      const last = seqs[seqs.length - 1]!;
      await db.deleteFrom('audit_events').where('seq', '=', last).execute();
      r = await verifyAudit(db);
      assert.deepEqual([r.ok, r.firstBreak?.seq], [false, last]);
      assert.match(r.firstBreak!.reason, /end of the chain/);
      await restore();
    });

    it('rolls an audit event back with the change it records', async () => {
      const before = await verifyAudit(ctx.store.db);
      await assert.rejects(
        ctx.store.db.transaction().execute(async (trx) => {
          await appendAudit(trx, { actor: 'test', action: 'test.rollback', target: 'x' });
          throw new Error('fail after the audit append');
        }),
        /fail after/,
      );
      const after = await verifyAudit(ctx.store.db);
      assert.equal(after.ok, true);
      assert.equal(after.events, before.events);
    });

    it('runs migrations once: reopening the store keeps the data', async () => {
      const n = await ctx.store.db.selectFrom('models').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
      assert.ok(Number(n.n) >= 3);
    });
  });
}

describe('store contract: reopen', () => {
  it('reopens an existing SQLite home without re-running migrations', async () => {
    const { ctx, config, cleanup } = await DIALECTS[0]!.open();
    try {
      await ctx.registry.register(admin, { name: 'persist', artifact: { path: V1.model } });
      await ctx.store.close();
      const { createContext, createLogger } = await import('../src/context.js');
      const again = await createContext(config, { logger: createLogger('silent') });
      assert.equal((await again.registry.getVersion(admin, 'persist@1')).version, 1);
      await again.store.close();
      // reopened for cleanup
      Object.assign(ctx, { store: { close: async () => undefined } });
    } finally {
      await cleanup();
    }
  });
});

