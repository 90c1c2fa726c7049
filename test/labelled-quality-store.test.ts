// The labelled quality report's reads on both stores: prediction counts kept per second by every replica's
// recorder (added up, purged with the records, and counted once for records stored before they existed), and
// labels found from the feedback rather than by walking every record of the window.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { AppContext } from '../src/context.js';
import { createGateway, type Gateway } from '../src/serving/gateway.js';
import { decodeInferRequest } from '../src/serving/protocol/v2.js';
import { migrationProvider } from '../src/store/migrations.js';
import { DIALECTS, principal, V1 } from './helpers.js';

const admin = principal('admin');
const BODY = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0.8, 11.7, 7.2, 2.3] }] };

for (const dialect of DIALECTS) {
  describe(`labelled quality reads: ${dialect.name}`, { skip: dialect.skip }, () => {
    let ctx: AppContext;
    let cleanup: () => Promise<void>;
    const gateways: Gateway[] = [];
    before(async () => {
      ({ ctx, cleanup } = await dialect.open());
      await ctx.registry.register(admin, { name: 'weather', artifact: { path: V1.model }, reference: { path: V1.reference } });
      await ctx.registry.setAlias(admin, 'weather', 'production', '1');
      const spec = (name: string) => ({ apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name }, spec: { model: 'weather', arms: [{ version: 'production', weight: 100, role: 'stable' }], monitoring: { enabled: true } } });
      await ctx.deployments.apply(admin, [spec('wx'), spec('other')] as never);
    });
    after(async () => {
      for (const g of gateways) {
        g.router.stop();
        await g.monitor.stop();
        await g.manager.drain();
      }
      await cleanup?.();
    });

    /** A replica's gateway, and a function that hands its recorder `n` answered requests of a deployment. */
    async function replica(): Promise<(deployment: string, n: number, prefix: string) => Promise<string[]>> {
      const g = createGateway(ctx, await ctx.salt());
      gateways.push(g);
      await g.manager.start();
      await g.router.start();
      return async (deployment, n, prefix) => {
        const route = g.router.get(deployment)!;
        const lv = await g.manager.ensureReady('weather', route.stable.version);
        await g.monitor.pendingCheck(route, lv);
        const inputs = decodeInferRequest(BODY, lv.info.signature).inputs;
        const outputs = await lv.runtime!.infer(inputs);
        const ids: string[] = [];
        for (let i = 0; i < n; i++) {
          const requestId = `${prefix}-${i}`;
          ids.push(requestId);
          g.monitor.observe({ requestId, route, arm: route.stable, lv, protocol: 'v2', headers: {}, body: BODY, inputs, outputs, rows: 1, status: 200, latencyMs: 1, errorCode: undefined, time: Date.now() });
        }
        await new Promise((r) => setImmediate(r));
        await g.monitor.flush();
        return ids;
      };
    }

    it('adds up the prediction counts of two replicas and joins the labels, a correction over the first', async () => {
      const a = await replica();
      const b = await replica();
      const fromA = await a('wx', 30, 'a');
      const fromB = await b('wx', 20, 'b');
      await a('other', 7, 'o');
      const rows = await ctx.store.db.selectFrom('prediction_counts').select(['replica', 'n']).where('deployment', '=', 'wx').execute();
      assert.equal(new Set(rows.map((r) => r.replica)).size, 2, 'each replica writes its own rows');
      const items = [...fromA.slice(0, 4), ...fromB.slice(0, 2)].map((requestId) => ({ requestId, label: 1 }));
      await ctx.monitoring.feedback(admin, { items });
      // A later label for the same prediction corrects it.
      await ctx.monitoring.feedback(admin, { requestId: fromA[0]!, label: 0 });
      await ctx.monitoring.feedback(admin, { requestId: 'o-0', label: 1 });
      const q = await ctx.monitoring.quality(admin, 'wx', { window: '1h' });
      assert.equal(q.versions.length, 1);
      const v = q.versions[0]!;
      assert.equal(v.predictions, 50, 'the counts of both replicas, and none of the other deployment');
      assert.equal(v.labelled, 6);
      const other = await ctx.monitoring.quality(admin, 'other', { window: '1h' });
      assert.equal(other.versions[0]!.predictions, 7);
      assert.equal(other.versions[0]!.labelled, 1);
      const joined = (await ctx.store.db.selectFrom('prediction_records').select(['prediction']).where('request_id', '=', fromA[0]!).executeTakeFirstOrThrow()).prediction;
      // The correction (0) is the label that counts: against the prediction, accuracy moves by exactly one label.
      const correct = Number(JSON.parse(joined) === 1);
      assert.equal((v.metrics as { accuracy: number }).accuracy, (5 * correct + (1 - correct)) / 6);
    });

    it('leaves a window that ended before the predictions without them', async () => {
      const q = await ctx.monitoring.quality(admin, 'wx', { window: '1h', to: new Date(Date.now() - 3_600_000).toISOString() });
      assert.deepEqual(q.versions, []);
    });

    it('counts the records stored before the counts existed, once, when the store is migrated', async () => {
      const db = ctx.store.db;
      await db.deleteFrom('prediction_counts').execute();
      await db.schema.dropTable('prediction_counts').execute();
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s, 250)).toISOString();
      await db.insertInto('prediction_records').values([0, 0, 1, 1, 1].map((s, i) => ({ request_id: `old-${i}`, row: 0, deployment: 'old', version: 1, arm: 'stable', at: at(s), prediction: '1', score: null, slice: '{}', subject: null }))).execute();
      const migrations = await migrationProvider(ctx.store.dialect).getMigrations();
      await migrations['0007_prediction_counts']!.up(db);
      const counts = await db.selectFrom('prediction_counts').select(['at', 'n', 'version', 'arm']).where('deployment', '=', 'old').orderBy('at').execute();
      assert.deepEqual(counts.map((c) => [c.at, Number(c.n), c.version, c.arm]), [
        ['2026-01-01T00:00:00.000Z', 2, 1, 'stable'],
        ['2026-01-01T00:00:01.000Z', 3, 1, 'stable'],
      ]);
      const total = await sql<{ n: string | number }>`SELECT SUM(n) AS n FROM prediction_counts`.execute(db);
      assert.equal(Number(total.rows[0]!.n), 5 + 57, 'every record counted once, including those of the first test');
    });

    it('purges the counts with the records they count', async () => {
      // The default retention is 30 days: 45 days after the old records, long before this year's.
      const purged = await ctx.monitoring.purge(new Date(Date.UTC(2026, 1, 15)));
      assert.ok(purged.records >= 5, `records of the old deployment purged (${purged.records})`);
      const left = await ctx.store.db.selectFrom('prediction_counts').select('n').where('deployment', '=', 'old').execute();
      assert.deepEqual(left, []);
      const kept = await ctx.store.db.selectFrom('prediction_counts').select('n').where('deployment', '=', 'wx').execute();
      assert.ok(kept.length > 0, 'this year\'s counts stay');
    });

    it('purges more rows than one chunk deletes, and only the expired ones', async () => {
      const db = ctx.store.db;
      const rows = Array.from({ length: 4_500 }, (_, i) => ({ request_id: `many-${i}`, row: 0, deployment: 'wx', version: 1, arm: 'stable', at: new Date(Date.UTC(2026, 0, 1) + i).toISOString(), prediction: '1', score: null, slice: '{}', subject: null }));
      for (let i = 0; i < rows.length; i += 500) await db.insertInto('prediction_records').values(rows.slice(i, i + 500)).execute();
      const before = Number((await db.selectFrom('prediction_records').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n);
      const purged = await ctx.monitoring.purge(new Date(Date.UTC(2026, 1, 15)));
      assert.equal(purged.records, 4_500);
      const after = Number((await db.selectFrom('prediction_records').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(after, before - 4_500);
      assert.ok(after >= 50, 'this year\'s records stay');
    });
  });
}
