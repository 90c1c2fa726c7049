// The alert sources besides burn rates, as the SLO watcher raises and resolves them from the store and the
// monitoring counters: high error rate (SEV2) and elevated latency (SEV3) over the recent window, personal
// data found by the redactors (SEV1), a fairness breach (SEV2), and an SLO budget approaching its threshold
// (SEV4, for the weekly review). The watcher runs on a real server's services; its timer is not used.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SloWatcher } from '../src/slo/slo-watcher.js';
import { DURATION_BUCKETS } from '../src/telemetry/metrics.js';
import { packagePath } from '../src/paths.js';
import { principal } from './helpers.js';
import { startTestServer } from './serving-helpers.js';

const admin = principal('admin');

/** Cumulative latency buckets (as the SLI recorder writes them): `fast` answers under 0.1 ms, the rest above 10 s. */
function latency(fast: number): string {
  return JSON.stringify(DURATION_BUCKETS.map(() => fast));
}

describe('SLO watcher: the other alert sources', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let watcher: SloWatcher;
  let redactions: Record<string, number> = { email: 2 };
  let fairness = new Map<string, { version: number; attribute: string; parityRatio: number | null; records: number }[]>();

  before(async () => {
    t = await startTestServer({ alerting: { evaluateMs: 3_600_000 } });
    const s = t.server;
    await s.ctx.registry.register(admin, { name: 'ledger', artifact: { path: packagePath('test', 'fixtures', 'weather-rules.mjs') }, format: 'js', owner: 'ledger-team <ledger@example.com>' });
    await s.ctx.deployments.apply(admin, [{ apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name: 'ledger' }, spec: { model: 'ledger', arms: [{ version: 1, weight: 100, role: 'stable' }] } } as never]);
    watcher = new SloWatcher({
      store: s.ctx.store,
      slos: s.ctx.slos,
      rollouts: s.ctx.rollouts,
      router: s.gateway.router,
      alerts: s.ctx.alerts,
      incidents: s.ctx.incidents,
      logger: s.ctx.logger,
      evaluateMs: 3_600_000,
      redactions: () => redactions,
      fairness: () => fairness,
    });
  });
  after(async () => t?.cleanup());

  const open = async () => (await t.server.ctx.alerts.list(admin, { status: 'open' })).map((a) => `${a.source} ${a.severity} ${a.deployment ?? '-'}`).sort();

  it('raises error-rate and latency alerts over the recent window, and resolves them when it is clean', async () => {
    const db = t.server.ctx.store.db;
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    await db.insertInto('sli_counters').values([
      { deployment: 'noisy', bucket: minute, replica: 'r1', total: 100, errors: 10, degraded: 0, latency: latency(100) },
      { deployment: 'slow', bucket: minute, replica: 'r1', total: 100, errors: 0, degraded: 0, latency: latency(70) },
      { deployment: 'quiet', bucket: minute, replica: 'r1', total: 5, errors: 5, degraded: 0, latency: latency(5) },
    ]).execute();
    await watcher.evaluate();
    const now = await open();
    assert.ok(now.includes('error_rate SEV2 noisy'), now.join('; '));
    assert.ok(now.includes('latency SEV3 slow'), now.join('; '));
    assert.ok(!now.some((a) => a.endsWith(' quiet')), 'too few answers to judge');
    assert.ok(!now.some((a) => a.startsWith('latency') && a.endsWith('noisy')));
    await db.deleteFrom('sli_counters').execute();
    await watcher.evaluate();
    assert.ok(!(await open()).some((a) => a.startsWith('error_rate') || a.startsWith('latency')));
  });

  it('raises a SEV1 when the redactors found personal data since the last pass, and opens an incident', async () => {
    redactions = { email: 5, phone: 1 };
    await watcher.evaluate();
    const pii = (await t.server.ctx.alerts.list(admin, { status: 'open' })).find((a) => a.source === 'personal_data_in_log');
    assert.ok(pii);
    assert.equal(pii.severity, 'SEV1');
    assert.match(pii.summary, /3 email, 1 phone/);
    assert.ok(pii.incidentId !== null, 'a SEV1 opens an incident');
    // Nothing new: the alert stays open (it expires after an hour without a new finding), not raised again.
    await watcher.evaluate();
    const again = (await t.server.ctx.alerts.list(admin, { status: 'open' })).filter((a) => a.source === 'personal_data_in_log');
    assert.equal(again.length, 1);
    assert.equal(again[0]!.occurrences, 1);
  });

  it('raises a fairness breach under the four-fifths rule, with enough labelled predictions', async () => {
    fairness = new Map([
      [
        'loans',
        [
          { version: 3, attribute: 'sex', parityRatio: 0.62, records: 400 },
          { version: 3, attribute: 'age_band', parityRatio: 0.9, records: 400 },
          { version: 2, attribute: 'sex', parityRatio: 0.5, records: 20 },
        ],
      ],
    ]);
    await watcher.evaluate();
    const breaches = (await t.server.ctx.alerts.list(admin, { status: 'open' })).filter((a) => a.source === 'fairness_breach');
    assert.deepEqual(breaches.map((a) => [a.severity, a.deployment, a.version, a.details.attribute]), [['SEV2', 'loans', 3, 'sex']]);
    // A deployment this replica has not evaluated is not judged: the alert stays.
    fairness = new Map();
    await watcher.evaluate();
    assert.equal((await t.server.ctx.alerts.list(admin, { status: 'open' })).filter((a) => a.source === 'fairness_breach').length, 1);
    fairness = new Map([['loans', [{ version: 3, attribute: 'sex', parityRatio: 0.85, records: 500 }]]]);
    await watcher.evaluate();
    assert.equal((await t.server.ctx.alerts.list(admin, { status: 'open' })).filter((a) => a.source === 'fairness_breach').length, 0);
  });

  it('a budget under half left is a SEV4 for the weekly review, not a page', async () => {
    const s = t.server;
    await s.ctx.slos.apply(admin, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata:\n  name: ledger-availability\nspec:\n  deployment: ledger\n  sli: { type: availability }\n  objective: 0.99\n  window: 28d\n');
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString();
    // 6 errors in 1000 answers: 60% of a 1% budget spent, 40% left; burn 0.6x, under every alert row.
    await s.ctx.store.db.insertInto('sli_counters').values({ deployment: 'ledger', bucket: minute, replica: 'r1', total: 1000, errors: 6, degraded: 0, latency: latency(1000) }).execute();
    await watcher.evaluate();
    const approached = (await s.ctx.alerts.list(admin, { status: 'open' })).filter((a) => a.deployment === 'ledger');
    assert.deepEqual(approached.map((a) => [a.source, a.severity]), [['threshold_approached', 'SEV4']]);
    assert.equal(approached[0]!.incidentId, null, 'a SEV4 opens no incident');
  });
});
