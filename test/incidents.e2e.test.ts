// End to end: incidents over the control API on 127.0.0.1, on SQLite and PostgreSQL. Paging alerts of one
// deployment gather into one incident; operators acknowledge and resolve it over HTTP (viewers may not); the
// postmortem names the version and the error budget spent, from real SLI counts and an applied SLO. The app
// is built without the gateway's background loops, so nothing but the test raises alerts; alerts are rows
// inserted as the alert manager writes them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import type { AlertInfo, AlertSeverity, AlertSource } from '../src/alerts/types.js';
import type { AppContext } from '../src/context.js';
import { listAudit } from '../src/governance/audit.js';
import { createKey } from '../src/governance/keys.js';
import { DIALECTS, principal, V1, V2 } from './helpers.js';
import { deploymentDoc } from './rollout-helpers.js';
import { runCliAsync } from './cli-helpers.js';

const admin = principal('admin');
const OWNER = 'weather-team <weather@example.com>';
const MIN = 60_000;

for (const dialect of DIALECTS) {
  describe(`incidents end to end (${dialect.name})`, { skip: dialect.skip }, () => {
    let ctx: AppContext;
    let cleanup: () => Promise<void>;
    let app: FastifyInstance;
    let url: string;
    let home: string;
    const keys = { operator: '', viewer: '', scoped: '' };
    let incidentId = 0;

    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined };
    };

    async function alert(o: { severity: AlertSeverity; source: AlertSource; version: number; key: string }): Promise<AlertInfo> {
      const at = new Date().toISOString();
      const fingerprint = `${o.source}/wx/${o.version}/${o.key}`;
      const base = { source: o.source, severity: o.severity, deployment: 'wx', version: o.version, summary: `${o.source} on wx v${o.version}` };
      const row = await ctx.store.db
        .insertInto('alerts')
        .values({ ...base, fingerprint, open_fingerprint: fingerprint, group_key: `wx/${o.version}`, details: '{}', route: 'default', status: 'firing', suppressed_by: null, occurrences: 1, opened_at: at, last_seen_at: at, resolved_at: null, ack_deadline: null, acked_by: null, acked_at: null, escalated_at: null, incident_id: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { ...base, id: row.id, fingerprint, groupKey: `wx/${o.version}`, details: {}, route: 'default', status: 'firing', suppressedBy: null, occurrences: 1, openedAt: at, lastSeenAt: at, resolvedAt: null, ackDeadline: null, ackedBy: null, ackedAt: null, escalatedAt: null, incidentId: null };
    }

    before(async () => {
      const opened = await dialect.open();
      ctx = opened.ctx;
      cleanup = opened.cleanup;
      home = opened.config.home;
      const reg = ctx.registry;
      await reg.register(admin, { name: 'wx', artifact: { path: V1.model }, card: { text: readFileSync(V1.card, 'utf8'), source: V1.card }, reference: { path: V1.reference }, owner: OWNER });
      await reg.register(admin, { name: 'wx', artifact: { path: V2.model }, card: { text: readFileSync(V2.card, 'utf8'), source: V2.card }, reference: { path: V2.reference }, owner: OWNER });
      await reg.setAlias(admin, 'wx', 'production', '2');
      const doc = deploymentDoc('wx', 'wx');
      delete (doc.spec as Record<string, unknown>).strategy;
      await ctx.deployments.apply(admin, [doc as never]);
      await ctx.slos.apply(admin, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata: {name: wx-availability}\nspec: {deployment: wx, sli: {type: availability}, objective: 0.99, window: 3d}\n', 'wx-slo.yaml');
      keys.operator = (await createKey(ctx.store.db, { name: 'ops', role: 'operator' }, admin.actor)).key;
      keys.viewer = (await createKey(ctx.store.db, { name: 'watcher', role: 'viewer' }, admin.actor)).key;
      keys.scoped = (await createKey(ctx.store.db, { name: 'other-team', role: 'operator', modelPatterns: ['other-*'] }, admin.actor)).key;
      app = await buildApp(ctx);
      url = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await app?.close();
      await cleanup?.();
    });

    it('gathers two SEV1 alerts of one deployment into one incident, and opens none for a SEV3', async () => {
      const a = await alert({ severity: 'SEV1', source: 'slo_fast_burn', version: 2, key: 'wx-availability' });
      const b = await alert({ severity: 'SEV1', source: 'error_rate', version: 2, key: 'errors' });
      const first = await ctx.incidents.onAlert(a);
      assert.ok(first !== null);
      assert.equal(await ctx.incidents.onAlert(b), first);
      incidentId = first;
      assert.equal(await ctx.incidents.onAlert(await alert({ severity: 'SEV3', source: 'drift', version: 2, key: 'drift' })), null);
      assert.equal((await ctx.store.db.selectFrom('incidents').select('id').execute()).length, 1);

      const list = await call('GET', '/incidents', keys.viewer);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.map((i: { id: number }) => i.id), [incidentId]);
      assert.equal(list.body[0].alertCount, 2);
      const shown = await call('GET', `/incidents/${incidentId}`, keys.viewer);
      assert.equal(shown.status, 200);
      const alerts = shown.body.timeline.filter((e: { kind: string; source: string }) => e.kind === 'alert' && e.source === 'incident');
      assert.deepEqual(alerts.map((e: { details: { alertId: number } }) => e.details.alertId), [a.id, b.id]);
      assert.ok(shown.body.timeline.some((e: { kind: string; source: string }) => e.kind === 'alert' && e.source === 'alert'), 'the SEV3 alert shows in the timeline as context');
      assert.ok(shown.body.timeline.some((e: { kind: string }) => e.kind === 'slo.apply'), 'the SLO applied just before is in the timeline');
      for (const e of shown.body.timeline) for (const k of ['at', 'kind', 'summary', 'actor']) assert.equal(typeof e[k], 'string', `${k} of ${JSON.stringify(e)}`);
    });

    it('lets an operator acknowledge over HTTP (audited), not a viewer, and not twice', async () => {
      const denied = await call('POST', `/incidents/${incidentId}/ack`, keys.viewer, {});
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'MG_ERR_AUTH_FORBIDDEN');
      const outOfScope = await call('POST', `/incidents/${incidentId}/ack`, keys.scoped, {});
      assert.equal(outOfScope.status, 404, 'a key for other models is told nothing about this incident');
      const acked = await call('POST', `/incidents/${incidentId}/ack`, keys.operator, { note: 'on it' });
      assert.equal(acked.status, 200, acked.text);
      assert.equal(acked.body.status, 'acknowledged');
      assert.match(acked.body.ackedBy, /^key:/);
      const again = await call('POST', `/incidents/${incidentId}/ack`, keys.operator, {});
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'MG_ERR_INCIDENT_INVALID_STATE');
      const audit = await listAudit(ctx.store.db, { action: 'incident.ack', target: `incident/${incidentId}` });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor, acked.body.ackedBy);
    });

    it('resolves over HTTP with a postmortem naming the version and the error budget spent', async () => {
      const incident = (await call('GET', `/incidents/${incidentId}`, keys.viewer)).body as { openedAt: string };
      const minute = Math.floor(Date.parse(incident.openedAt) / MIN) * MIN;
      const row = (bucket: number, replica: string, total: number, errors: number) => ({ deployment: 'wx', bucket: new Date(bucket).toISOString(), replica, total, errors, degraded: 0, latency: '[]' });
      // Two hours of healthy traffic before; during the incident two replicas answered 100 requests, 25 failing.
      await ctx.store.db.insertInto('sli_counters').values([row(minute - 120 * MIN, 'r1', 1900, 0), row(minute, 'r1', 60, 15), row(minute, 'r2', 40, 10)]).execute();

      const denied = await call('POST', `/incidents/${incidentId}/resolve`, keys.viewer, {});
      assert.equal(denied.status, 403);
      const resolved = await call('POST', `/incidents/${incidentId}/resolve`, keys.operator, { resolution: 'rolled back to v1' });
      assert.equal(resolved.status, 200, resolved.text);
      assert.equal(resolved.body.status, 'resolved');
      assert.equal(resolved.body.resolution, 'rolled back to v1');
      const md = resolved.body.postmortem as string;
      assert.match(md, /^# Postmortem: wx: slo_fast_burn on wx v2/);
      assert.match(md, /- wx v2 \(named by traffic\.apply, alert\)/, "the deployment applied within the hour before, and the alerts");
      assert.match(md, /\| wx-availability \| availability \| 99% \| 100 \| 25 \| 75% \(below objective\) \|/);
      // 2000 answers in the 3d window allow 20 bad ones; the incident had 25.
      assert.match(md, /\| wx-availability \| 3d \| 20 \| 125% \(25 bad events\) \| -25% \(overspent\) \|/);
      assert.match(md, /the incident spent 125% of the 3d error budget/);
      assert.match(md, /ack \(manual, key:[^)]+\): acknowledged: on it/);

      const again = await call('POST', `/incidents/${incidentId}/resolve`, keys.operator, {});
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'MG_ERR_INCIDENT_INVALID_STATE');
      const pm = await call('GET', `/incidents/${incidentId}/postmortem`, keys.viewer);
      assert.equal(pm.status, 200);
      assert.match(pm.type, /^text\/markdown/);
      assert.equal(pm.text, md, 'the stored postmortem');
      assert.equal((await listAudit(ctx.store.db, { action: 'incident.resolve', target: `incident/${incidentId}` })).length, 1);
      assert.deepEqual((await call('GET', '/incidents', keys.viewer)).body, [], 'no open incident is left');
      assert.deepEqual((await call('GET', '/incidents?status=resolved', keys.viewer)).body.map((i: { id: number }) => i.id), [incidentId]);
      assert.equal((await call('GET', '/incidents/999999', keys.viewer)).body.error.code, 'MG_ERR_INCIDENT_NOT_FOUND');
    });

    it('lists, shows, acknowledges and resolves through the CLI against the server', async () => {
      const id = (await ctx.incidents.onAlert(await alert({ severity: 'SEV2', source: 'rollout_failed', version: 2, key: 'rollout' })))!;
      assert.notEqual(id, incidentId, 'a resolved incident is not reopened');
      const remote = ['--url', url, '--key', keys.operator];
      const list = await runCliAsync(tmpdir(), [...remote, 'incidents', 'list', '--json']);
      assert.equal(list.code, 0, list.stderr + list.stdout);
      assert.deepEqual((JSON.parse(list.stdout) as { id: number }[]).map((i) => i.id), [id]);
      const all = await runCliAsync(tmpdir(), [...remote, 'incidents', 'list', '--all', '--deployment', 'wx']);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, /^ID\s+SEVERITY\s+STATUS/);
      assert.equal(all.stdout.trim().split('\n').length, 3, all.stdout);
      const show = await runCliAsync(tmpdir(), [...remote, 'incidents', 'show', String(id)]);
      assert.equal(show.code, 0, show.stderr);
      assert.match(show.stdout, new RegExp(`incident #${id} SEV2 open`));
      assert.match(show.stdout, /timeline:\n/);
      assert.match(show.stdout, /rollout_failed on wx v2/);
      assert.equal((await runCliAsync(tmpdir(), [...remote, 'incidents', 'ack', String(id), '--note', 'checking'])).code, 0);
      const viewer = await runCliAsync(tmpdir(), ['--url', url, '--key', keys.viewer, 'incidents', 'resolve', String(id)]);
      assert.equal(viewer.code, 1);
      assert.match(viewer.stderr, /^error MG_ERR_AUTH_FORBIDDEN: /);
      const out = join(home, 'postmortem.md');
      const resolve = await runCliAsync(tmpdir(), [...remote, 'incidents', 'resolve', String(id), '--resolution', 'fixed', '--output', out]);
      assert.equal(resolve.code, 0, resolve.stderr);
      assert.match(resolve.stdout, /postmortem written to/);
      assert.match(readFileSync(out, 'utf8'), /^# Postmortem: wx: rollout_failed on wx v2/);
      assert.equal((await runCliAsync(tmpdir(), [...remote, 'incidents', 'show', 'abc'])).code, 2, 'a malformed id is a usage error');
    });
  });
}
