// End to end: monitoring on the real gateway, on SQLite and PostgreSQL. Every answered row leaves a join
// record; labels sent later (before or after the record is flushed) join and give quality per version, slice
// and sensitive group; inputs fold into profiles whose drift shows on the features that really shifted; data
// quality is flagged or rejected as the deployment says; personal data never reaches the store or the logs,
// and a subject can be erased; retention purges.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/context.js';
import { createKey } from '../src/governance/keys.js';
import { listAudit } from '../src/governance/audit.js';
import type { Tables } from '../src/store/tables.js';
import { PII_CORPUS } from '../src/testing/pii-corpus.js';
import { PG_SKIP, principal, V1 } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { deploymentDoc, waitFor } from './rollout-helpers.js';

const admin = principal('admin');
const OWNER = 'weather-team <weather@example.com>';
const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const;

/** The v1 reference rows (2012-2013), with their labels. */
function referenceRows(): { x: Record<string, number>; label: number }[] {
  const [head, ...lines] = readFileSync(V1.reference, 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => {
    const v = l.split(',').map(Number);
    const x: Record<string, number> = {};
    for (const f of FEATURES) x[f] = v[cols.indexOf(f)]!;
    return { x, label: v[cols.indexOf('rain_tomorrow')]! };
  });
}

type Server = Awaited<ReturnType<typeof startTestServer>>;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`monitoring end to end (${dialect})`, { skip: dialect === 'postgres' ? PG_SKIP : false }, () => {
    let t: Server;
    let key: string;
    const logLines: string[] = [];
    const rows = referenceRows();

    before(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      });
      t = await startTestServer({ monitoring: { flushMs: 100, evaluateMs: 3_600_000 } }, { postgres: dialect === 'postgres', logger: createLogger('debug', sink) });
      const reg = t.server.ctx.registry;
      await reg.register(admin, { name: 'wx', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: OWNER });
      await reg.setAlias(admin, 'wx', 'production', '1');
      key = (await createKey(t.server.ctx.store.db, { name: 'app', role: 'invoker' }, admin.actor)).key;
    });
    after(async () => t?.cleanup());

    async function deploy(name: string, monitoring: Record<string, unknown>): Promise<void> {
      const doc = deploymentDoc(name, 'wx', { monitoring });
      delete (doc.spec as Record<string, unknown>).strategy;
      await t.server.ctx.deployments.apply(admin, [doc as never]);
      await waitFor(async () => (await fetch(`${t.server.url}/v2/models/${name}/ready`)).status === 200, `${name} ready`);
    }

    /** onResponse runs after the client has its answer: give it a moment, then write everything queued. */
    const settle = async () => {
      await new Promise((r) => setTimeout(r, 30));
      await t.server.gateway.monitor.flush();
    };

    const predict = (name: string, instance: Record<string, unknown>, headers: Record<string, string> = {}) => post(`${t.server.url}/v1/models/${name}:predict`, { instances: [instance] }, key, headers);

    it('joins labels that arrive late and reports quality per version, slice and sensitive group', async () => {
      await deploy('wq', { sample: 1, slices: [{ name: 'region', header: 'x-region' }], sensitive: ['region'], subject: { header: 'x-user-id' } });
      const sent: { id: string; label: number; predicted: number; region: string }[] = [];
      for (let i = 0; i < 120; i++) {
        const region = i % 3 === 0 ? 'north' : 'south';
        const r = await predict('wq', rows[i]!.x, { 'x-user-id': `user-${i % 10}`, 'x-region': region });
        assert.equal(r.status, 200);
        const id = r.headers.get('x-request-id');
        assert.ok(id, 'a monitored answer names its request id');
        sent.push({ id, label: rows[i]!.label, predicted: Number(r.body.predictions[0].label), region });
      }
      // Half the labels arrive before the records are written: they wait, then join when read.
      const early = await post(`${t.server.url}/api/v1/feedback`, { items: sent.slice(0, 50).map((s) => ({ requestId: s.id, label: s.label })) }, key);
      assert.equal(early.status, 200, JSON.stringify(early.body));
      assert.equal(early.body.accepted, 50);
      await settle();
      const late = await post(`${t.server.url}/api/v1/feedback`, { items: sent.slice(50, 100).map((s) => ({ requestId: s.id, label: s.label, at: new Date().toISOString() })) }, key);
      assert.equal(late.body.joined, 50, 'records written by now: every late label joins at once');
      // An outcome event on a few predictions.
      const outcome = await post(`${t.server.url}/api/v1/feedback`, { requestId: sent[0]!.id, outcomes: [{ name: 'umbrella_sold', value: 12.5 }] }, key);
      assert.equal(outcome.status, 200);

      const q = await t.server.ctx.monitoring.quality(admin, 'wq', { window: '1h' });
      assert.equal(q.versions.length, 1);
      const v = q.versions[0]!;
      assert.equal(v.predictions, 120);
      assert.equal(v.labelled, 100);
      const labelled = sent.slice(0, 100);
      const accuracy = labelled.filter((s) => s.predicted === s.label).length / 100;
      assert.equal(v.task, 'classification');
      assert.ok(Math.abs((v.metrics as { accuracy: number }).accuracy - accuracy) < 1e-12, `accuracy ${(v.metrics as { accuracy: number }).accuracy} vs ${accuracy}`);
      const north = v.slices.find((s) => s.slice.region === 'north')!;
      assert.equal(north.metrics.count, labelled.filter((s) => s.region === 'north').length);
      const fair = v.fairness.find((f) => f.attribute === 'region')!;
      assert.equal(fair.groups.length, 2);
      const rate = (g: string) => labelled.filter((s) => s.region === g && s.predicted === 1).length / labelled.filter((s) => s.region === g).length;
      assert.ok(Math.abs(fair.demographic_parity_difference! - Math.abs(rate('north') - rate('south'))) < 1e-12);
      assert.ok(v.concept, 'the card\'s released metrics are compared');
      assert.equal(v.concept.checks.find((c) => c.metric === 'accuracy')?.reference, 0.6968);
      assert.equal(v.concept.enough, true);
      assert.ok(v.label_drift, 'labels are compared with the reference label profile');
      assert.equal(q.outcomes.find((o) => o.name === 'umbrella_sold')?.sum, 12.5);

      // The rollout judge's hook reads the same figures.
      const m = await t.server.monitorLoop.modelMetric('wq', 1, 'accuracy', { from: new Date(Date.now() - 3_600_000), to: new Date() });
      assert.ok(m);
      assert.ok(Math.abs(m.canary - accuracy) < 1e-12);
      assert.equal(m.samples, 100);
    });

    it('refuses invalid feedback whole, with a code and the item at fault', async () => {
      const r = await post(`${t.server.url}/api/v1/feedback`, { items: [{ requestId: 'a', label: 1 }, { requestId: 'b', label: 1, at: 'yesterday' }] }, key);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'MG_ERR_FEEDBACK_INVALID');
      assert.match(r.body.error.message, /items\[1\]/);
      const stored = await t.server.ctx.store.db.selectFrom('feedback').select('id').where('request_id', '=', 'a').execute();
      assert.equal(stored.length, 0, 'nothing of a refused bulk request is written');
      const none = await post(`${t.server.url}/api/v1/feedback`, { requestId: 'x' }, key);
      assert.equal(none.status, 400);
      const anon = await post(`${t.server.url}/api/v1/feedback`, { requestId: 'x', label: 1 });
      assert.equal(anon.status, 401);
      // A key for another model cannot label this one's predictions, found by the join or named.
      const other = (await createKey(t.server.ctx.store.db, { name: 'other-app', role: 'invoker', modelPatterns: ['other'] }, admin.actor)).key;
      const [mine] = await t.server.ctx.store.db.selectFrom('prediction_records').select('request_id').where('deployment', '=', 'wq').limit(1).execute();
      const foreign = await post(`${t.server.url}/api/v1/feedback`, { requestId: mine!.request_id, label: 0 }, other);
      assert.equal(foreign.status, 403);
      assert.equal(foreign.body.error.code, 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE');
      assert.equal((await post(`${t.server.url}/api/v1/feedback`, { requestId: 'unknown', deployment: 'wq', label: 0 }, other)).status, 403);
    });

    it('finds drift on the features that shifted, and none where the data is the reference\'s', async () => {
      const monitoring = { drift: { minRows: 50, window: '1h' } };
      await deploy('calm', monitoring);
      await deploy('warm', monitoring);
      for (let i = 0; i < 400; i++) {
        const x = rows[(i * 7) % rows.length]!.x;
        assert.equal((await predict('calm', x)).status, 200);
        // Eight degrees warmer, same rain and wind.
        assert.equal((await predict('warm', { ...x, temp_max: x.temp_max! + 8, temp_min: x.temp_min! + 8 })).status, 200);
      }
      await settle();
      const calm = await t.server.ctx.monitoring.drift(admin, 'calm', {});
      const warm = await t.server.ctx.monitoring.drift(admin, 'warm', {});
      assert.equal(calm.versions[0]?.rows, 400);
      const c = calm.versions[0]!.drift!;
      const w = warm.versions[0]!.drift!;
      assert.equal(c.dataset_drift, false, JSON.stringify(c.features));
      assert.deepEqual(c.features.filter((f) => f.drifted).map((f) => f.name), []);
      assert.deepEqual(w.features.filter((f) => f.drifted).map((f) => f.name).sort(), ['temp_max', 'temp_min']);
      assert.equal(w.features.find((f) => f.name === 'temp_max')?.test, 'ks', 'a 731-row reference is judged by KS, as Evidently would');
      assert.equal(w.dataset_drift, true);

      await t.server.monitorLoop.evaluate();
      const stored = await t.server.ctx.monitoring.driftHistory(admin, 'warm');
      assert.equal(stored[0]?.dataset_drift, true);
      // Labelled quality is stored per slot too (what an accuracy SLO reads), equal to the report's.
      const q = await t.server.ctx.store.db.selectFrom('quality_results').selectAll().where('deployment', '=', 'wq').execute();
      const report = await t.server.ctx.monitoring.quality(admin, 'wq', {});
      assert.equal(q.length, 1);
      assert.equal(q[0]!.accuracy, (report.versions[0]!.metrics as { accuracy: number }).accuracy);
      const text = await (await fetch(`${t.server.url}/metrics`)).text();
      assert.match(text, /modelgate_drift_detected\{deployment="warm",version="1",feature="temp_max"\} 1/);
      assert.match(text, /modelgate_drift_detected\{deployment="calm",version="1",feature="temp_max"\} 0/);
      assert.match(text, /modelgate_dataset_drift\{deployment="warm",version="1"\} 1/);
      assert.match(text, /modelgate_prediction_records_written_total \d+/);
      assert.match(text, /modelgate_model_quality\{deployment="wq",version="1",metric="accuracy"\} 0\.\d+/);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (promtool.error) console.log('NOTICE: promtool is not installed; the /metrics check with promtool is skipped.');
      else assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
    });

    it('compares a window with the one before when asked', async () => {
      await deploy('phases', { drift: { minRows: 50, bucket: '2s', window: '2s' } });
      const untilNextBucket = async () => new Promise((r) => setTimeout(r, 2000 - (Date.now() % 2000) + 20));
      await untilNextBucket();
      const first = Date.now() - (Date.now() % 2000);
      for (let i = 0; i < 100; i++) assert.equal((await predict('phases', rows[i * 3]!.x)).status, 200);
      await untilNextBucket();
      for (let i = 0; i < 100; i++) {
        const x = rows[i * 3 + 1]!.x;
        assert.equal((await predict('phases', { ...x, wind: x.wind! + 4 })).status, 200);
      }
      await settle();
      const to = new Date(first + 4000).toISOString();
      const d = await t.server.ctx.monitoring.drift(admin, 'phases', { window: '2s', to, against: 'previous' });
      assert.equal(d.against, 'previous');
      const v = d.versions[0]!;
      assert.equal(v.rows, 100, v.note);
      assert.deepEqual(v.drift?.features.filter((f) => f.drifted).map((f) => f.name), ['wind'], JSON.stringify(v.drift?.features));
      assert.ok(v.prediction_drift, 'the outputs are compared with the window before too');
    });

    it('flags or rejects requests outside the reference, as the deployment says', async () => {
      await deploy('strict', { dataQuality: { action: 'reject' } });
      await deploy('lenient', { dataQuality: { action: 'allow' } });
      const hot = { ...rows[0]!.x, temp_max: 95 };
      const refused = await predict('strict', hot);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.code, 'MG_ERR_INFER_DATA_QUALITY');
      assert.match(refused.body.error, /temp_max out_of_range/);
      assert.equal((await predict('strict', rows[0]!.x)).status, 200);
      const flagged = await predict('lenient', hot);
      await settle();
      assert.equal(flagged.status, 200);
      assert.match(flagged.headers.get('x-modelgate-data-quality') ?? '', /temp_max out_of_range/);
      assert.equal((await predict('lenient', rows[1]!.x)).headers.get('x-modelgate-data-quality'), null);
      await settle();
      const d = await t.server.ctx.monitoring.drift(admin, 'lenient', {});
      const q = d.versions[0]!.data_quality.find((f) => f.name === 'temp_max')!;
      assert.equal(q.out_of_range_rate, 0.5);
      assert.equal(d.versions[0]!.data_quality.find((f) => f.name === 'wind')!.out_of_range_rate, 0);
    });

    it('with action fallback, answers a request outside the reference from the fallback chain, marked degraded', async () => {
      const doc = deploymentDoc('guarded', 'wx', { monitoring: { dataQuality: { action: 'fallback' } }, resilience: { fallback: [{ kind: 'static', outputs: [{ name: 'label', datatype: 'INT64', data: [0] }] }] } });
      delete (doc.spec as Record<string, unknown>).strategy;
      await t.server.ctx.deployments.apply(admin, [doc as never]);
      await waitFor(async () => (await fetch(`${t.server.url}/v2/models/guarded/ready`)).status === 200, 'guarded ready');
      const hot = await predict('guarded', { ...rows[0]!.x, temp_max: 95 });
      assert.equal(hot.status, 200);
      assert.equal(hot.headers.get('x-modelgate-degraded'), 'static');
      assert.equal(hot.headers.get('x-modelgate-degraded-cause'), 'data_quality');
      assert.deepEqual(hot.body.predictions, [0]);
      const clean = await predict('guarded', rows[0]!.x);
      assert.equal(clean.status, 200);
      assert.equal(clean.headers.get('x-modelgate-degraded'), null);
      await assert.rejects(
        t.server.ctx.deployments.apply(admin, [{ ...doc, metadata: { name: 'unguarded' }, spec: { ...(doc.spec as Record<string, unknown>), resilience: {} } } as never]),
        (e: Error & { code?: string }) => e.code === 'MG_ERR_DEPLOYMENT_INVALID' && /needs a fallback chain/.test(e.message),
      );
    });

    it('keeps personal data out of the store and the logs, and erases a subject on request', async () => {
      await deploy('pii', { sample: 1, subject: { header: 'x-user-id' }, redact: { fields: { customer: 'hash' } } });
      const url = `${t.server.url}/v2/models/pii/infer`;
      for (const [i, p] of PII_CORPUS.entries()) {
        const x = rows[i % rows.length]!.x;
        const body = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: FEATURES.map((f) => x[f]) }], parameters: { note: p.embedded, customer: p.value, raw: p.value } };
        const ok = await post(url, body, key, { 'x-user-id': p.value });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        // A refused request is stored too (every error is), so its body must be redacted as well.
        const bad = await post(`${t.server.url}/v1/models/pii:predict`, { instances: [{ ...x, wind: p.value }] }, key, { 'x-user-id': p.value });
        assert.equal(bad.status, 400);
      }
      await settle();
      const dump = await dumpStore(t);
      const logs = logLines.join('');
      const leaks = (text: string) => PII_CORPUS.filter((p) => text.includes(p.value) || (/[\d]/.test(p.value) && p.value.replace(/[^\d]/g, '').length >= 9 && text.includes(p.value.replace(/[ -]/g, '')))).map((p) => p.value);
      assert.ok(dump.includes('<EMAIL>') && dump.includes('<CREDIT_CARD>'), 'the payloads were stored, redacted');
      assert.deepEqual(leaks(dump), [], 'no personal data in the database');
      assert.deepEqual(leaks(logs), [], 'no personal data in the logs');
      const stored = await t.server.ctx.monitoring.payloads(admin, 'pii', 500);
      assert.equal(stored.length, PII_CORPUS.length * 2);

      const subject = PII_CORPUS[0]!.value;
      const before = await t.server.ctx.store.db.selectFrom('prediction_records').select('request_id').where('deployment', '=', 'pii').execute();
      const erased = await t.server.ctx.monitoring.erase(admin, subject);
      assert.equal(erased.records, 1);
      assert.equal(erased.payloads, 2);
      const afterErase = await t.server.ctx.store.db.selectFrom('prediction_records').select('request_id').where('deployment', '=', 'pii').execute();
      assert.equal(afterErase.length, before.length - 1);
      const audit = await listAudit(t.server.ctx.store.db, { action: 'privacy.erase' });
      assert.equal(audit.length, 1);
      assert.ok(!JSON.stringify(audit).includes(subject), 'the audit event names the subject by its hash only');
      const viaApi = await post(`${t.server.url}/api/v1/privacy/erase`, { subject }, key);
      assert.equal(viaApi.status, 403, 'erasing needs an admin key');
    });

    it('routes and monitors a deployment applied over HTTP from the moment the call returns', async () => {
      const doc = deploymentDoc('prompt', 'wx', {});
      delete (doc.spec as Record<string, unknown>).strategy;
      const applied = await post(`${t.server.url}/api/v1/apply`, { documents: [doc] }, t.key);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      const first = await predict('prompt', rows[0]!.x);
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-modelgate-arm'), 'stable', 'answered through the deployment, not the bare model');
      assert.ok(first.headers.get('x-request-id'), 'and monitored');
    });

    it('purges what is past the deployment\'s retention', async () => {
      await deploy('brief', { retention: '1d' });
      assert.equal((await predict('brief', rows[0]!.x)).status, 200);
      await settle();
      const db = t.server.ctx.store.db;
      const count = async () => (await db.selectFrom('prediction_records').select('request_id').where('deployment', '=', 'brief').execute()).length;
      assert.equal(await count(), 1);
      await t.server.ctx.monitoring.purge(new Date(Date.now() + 12 * 3_600_000));
      assert.equal(await count(), 1, 'within retention: kept');
      const n = await t.server.ctx.monitoring.purge(new Date(Date.now() + 2 * 86_400_000));
      assert.ok(n.records >= 1);
      assert.equal(await count(), 0);
      assert.equal((await db.selectFrom('monitor_profiles').select('id').where('deployment', '=', 'brief').execute()).length, 0);
    });
  });
}

/** Every row of every table, as JSON text. */
async function dumpStore(t: Server): Promise<string> {
  const db = t.server.ctx.store.db;
  const tables: (keyof Tables)[] = ['settings', 'models', 'model_versions', 'model_cards', 'aliases', 'alias_history', 'api_keys', 'audit_events', 'deployments', 'rollouts', 'traffic_ledger', 'arm_stats', 'prediction_records', 'prediction_payloads', 'feedback', 'monitor_profiles', 'drift_results'];
  const parts: string[] = [];
  for (const table of tables) parts.push(JSON.stringify(await db.selectFrom(table).selectAll().execute()));
  return parts.join('\n');
}
