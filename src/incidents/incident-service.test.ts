import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AlertInfo, AlertSeverity, AlertSource } from '../alerts/types.js';
import { appendAudit, listAudit } from '../governance/audit.js';
import type { Principal } from '../governance/keys.js';
import type { Role } from '../governance/roles.js';
import { createSloService } from '../slo/slo-service.js';
import { openStore, type Store } from '../store/database.js';
import { createIncidentService, spanCounts, type IncidentService } from './incident-service.js';

const who = (role: Role, modelPatterns: string[] = []): Principal => ({ actor: `test:${role}`, keyId: null, role, modelPatterns });
const admin = who('admin');
const operator = who('operator');
const MIN = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

describe('incident service', () => {
  let home: string;
  let store: Store;
  let clock = T0;
  let incidents: IncidentService;

  async function deployment(name: string, model: string): Promise<void> {
    const at = new Date(T0 - 10 * 24 * 60 * MIN).toISOString();
    await store.db.insertInto('deployments').values({ name, model, spec: '{}', document: '{}', arms: '[]', kill_switch: 0, generation: 1, created_at: at, created_by: 'test', updated_at: at, updated_by: 'test' }).execute();
  }

  async function alert(o: { deployment: string | null; severity: AlertSeverity; source?: AlertSource; version?: number | null; summary?: string; key?: string }): Promise<AlertInfo> {
    const at = new Date(clock).toISOString();
    const fingerprint = `${o.source ?? 'slo_fast_burn'}/${o.deployment ?? '-'}/${o.version ?? '-'}/${o.key ?? Math.random()}`;
    const summary = o.summary ?? `${o.severity} on ${o.deployment ?? 'platform'}`;
    const row = await store.db
      .insertInto('alerts')
      .values({ fingerprint, open_fingerprint: fingerprint, source: o.source ?? 'slo_fast_burn', severity: o.severity, deployment: o.deployment, version: o.version ?? null, group_key: `${o.deployment ?? '-'}/${o.version ?? '-'}`, summary, details: '{}', route: 'default', status: 'firing', suppressed_by: null, occurrences: 1, opened_at: at, last_seen_at: at, resolved_at: null, ack_deadline: null, acked_by: null, acked_at: null, escalated_at: null, incident_id: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: row.id, fingerprint, source: o.source ?? 'slo_fast_burn', severity: o.severity, deployment: o.deployment, version: o.version ?? null, groupKey: `${o.deployment ?? '-'}/${o.version ?? '-'}`, summary, details: {}, route: 'default', status: 'firing', suppressedBy: null, occurrences: 1, openedAt: at, lastSeenAt: at, resolvedAt: null, ackDeadline: null, ackedBy: null, ackedAt: null, escalatedAt: null, incidentId: null };
  }

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'mg-incidents-'));
    store = await openStore({ home });
    incidents = createIncidentService(store, { slos: createSloService(store, { now: () => clock }), now: () => clock });
    await deployment('fraud', 'fraud-model');
    await deployment('weather', 'weather');
  });
  after(async () => {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach(() => {
    clock += 24 * 60 * MIN;
  });

  it('opens one incident for paging alerts of one deployment and links each alert', async () => {
    const a = await alert({ deployment: 'weather', severity: 'SEV2', version: 2 });
    const id = await incidents.onAlert(a);
    assert.ok(id !== null);
    clock += MIN;
    const b = await alert({ deployment: 'weather', severity: 'SEV2', source: 'error_rate', version: 2 });
    assert.equal(await incidents.onAlert(b), id, 'the second alert joins the open incident');
    const linked = await store.db.selectFrom('alerts').select(['id', 'incident_id']).where('id', 'in', [a.id, b.id]).execute();
    assert.deepEqual(linked.map((r) => r.incident_id), [id, id]);
    const detail = await incidents.get(admin, id);
    assert.equal(detail.status, 'open');
    assert.equal(detail.alertCount, 2);
    assert.deepEqual(detail.timeline.filter((e) => e.kind === 'alert').map((e) => e.details.alertId), [a.id, b.id]);
    assert.equal((await listAudit(store.db, { action: 'incident.open', target: `incident/${id}` })).length, 1, 'the opening is audited once');
    // Another deployment's alert is another incident.
    const other = await incidents.onAlert(await alert({ deployment: 'fraud', severity: 'SEV1' }));
    assert.notEqual(other, id);
    await incidents.resolve(operator, other!);
  });

  it('ignores SEV3 and SEV4 alerts', async () => {
    assert.equal(await incidents.onAlert(await alert({ deployment: 'weather', severity: 'SEV3', source: 'drift' })), null);
    assert.equal(await incidents.onAlert(await alert({ deployment: 'weather', severity: 'SEV4', source: 'threshold_approached' })), null);
  });

  it('raises the incident severity with a more severe alert, and a repeated call adds nothing', async () => {
    const a = await alert({ deployment: 'weather', severity: 'SEV2' });
    const id = (await incidents.onAlert(a))!;
    const open = (await incidents.list(admin)).find((i) => i.id === id)!;
    const before = (await incidents.get(admin, id)).timeline.length;
    assert.equal(await incidents.onAlert(a), id);
    assert.equal((await incidents.get(admin, id)).timeline.length, before, 'the same alert again is not news');
    assert.equal(await incidents.onAlert({ ...a, severity: 'SEV1' }), id);
    const after = await incidents.get(admin, id);
    assert.equal(after.severity, 'SEV1');
    assert.ok(after.timeline.some((e) => /severity raised/.test(e.summary)));
    assert.ok(['SEV1', 'SEV2'].includes(open.severity));
  });

  it('records automatic actions on the open incident of a deployment, and nothing when there is none', async () => {
    const [open] = await incidents.list(admin, { deployment: 'weather' });
    assert.ok(open);
    assert.equal(await incidents.record({ deployment: 'weather' }, { kind: 'rollback', summary: 'rolled back to v1', details: { fromVersion: 2, toVersion: 1 }, actor: 'system:rollout' }), open.id);
    assert.equal(await incidents.record({ deployment: 'nowhere' }, { kind: 'fallback', summary: 'switched to fallback', actor: 'system:slo' }), null);
    const d = await incidents.get(admin, open.id);
    const rb = d.timeline.find((e) => e.kind === 'rollback')!;
    assert.deepEqual(rb.versions, [2, 1]);
    await assert.rejects(incidents.record(open.id, { kind: 'Not A Kind', summary: 'x', actor: 'system:x' }), { code: 'MG_ERR_REQUEST_INVALID' });
  });

  it('acknowledges once (operator; audited), and refuses viewers and a second ack', async () => {
    const [open] = await incidents.list(admin, { deployment: 'weather' });
    await assert.rejects(incidents.ack(who('viewer'), open!.id), { code: 'MG_ERR_AUTH_FORBIDDEN' });
    const acked = await incidents.ack(operator, open!.id, 'looking');
    assert.equal(acked.status, 'acknowledged');
    assert.equal(acked.ackedBy, operator.actor);
    await assert.rejects(incidents.ack(operator, open!.id), { code: 'MG_ERR_INCIDENT_INVALID_STATE' });
    const audit = await listAudit(store.db, { action: 'incident.ack', target: `incident/${open!.id}` });
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.details.note, 'looking');
    // Acknowledged incidents still take alerts.
    assert.equal(await incidents.onAlert(await alert({ deployment: 'weather', severity: 'SEV1' })), open!.id);
  });

  it('merges the audit log, traffic changes and other alerts from an hour before the opening', async () => {
    const opened = clock;
    const id = (await incidents.onAlert(await alert({ deployment: 'fraud', severity: 'SEV1', version: 4 })))!;
    const at = (ms: number) => new Date(ms).toISOString();
    await store.db.transaction().execute(async (trx) => {
      await appendAudit(trx, { actor: 'key:dev', action: 'rollout.start', target: 'deployment/fraud', details: { rollout: 9, fromVersion: 3, toVersion: 4, strategy: 'canary' } }, at(opened - 30 * MIN));
      await appendAudit(trx, { actor: 'key:dev', action: 'deployment.apply', target: 'deployment/fraud', details: { generation: 2 } }, at(opened - 2 * 60 * MIN));
      await appendAudit(trx, { actor: 'key:dev', action: 'deployment.apply', target: 'deployment/weather', details: { generation: 5 } }, at(opened - 10 * MIN));
      await appendAudit(trx, { actor: 'key:dev', action: 'slo.apply', target: 'slo/fraud-availability', details: { deployment: 'fraud', action: 'configured' } }, at(opened - 5 * MIN));
      await appendAudit(trx, { actor: 'key:dev', action: 'slo.apply', target: 'slo/weather-availability', details: { deployment: 'weather', action: 'configured' } }, at(opened - 5 * MIN));
      await appendAudit(trx, { actor: 'key:ops', action: 'release.freeze', target: 'releases', details: { reason: 'incident' } }, at(opened + 3 * MIN));
    });
    await store.db.insertInto('traffic_ledger').values({ deployment: 'fraud', at: at(opened + 2 * MIN), actor: 'system:rollout', action: 'rollback', reason: 'analysis failed', rollout_id: 9, arms: '[]', weights: JSON.stringify({ served: { 3: 100 }, shadow: {} }) }).execute();
    clock = opened + 4 * MIN;
    const sev3 = await alert({ deployment: 'fraud', severity: 'SEV3', source: 'drift', version: 4 });
    await incidents.onAlert(sev3);
    clock = opened + 5 * MIN;
    const d = await incidents.get(admin, id);
    const kinds = d.timeline.map((e) => e.kind);
    assert.deepEqual(kinds, ['rollout.start', 'slo.apply', 'alert', 'traffic.rollback', 'release.freeze', 'alert']);
    assert.deepEqual(d.timeline.map((e) => e.source), ['audit', 'audit', 'incident', 'traffic', 'audit', 'alert']);
    const times = d.timeline.map((e) => e.at);
    assert.deepEqual(times, [...times].sort(), 'sorted by time');
    assert.match(d.timeline[0]!.summary, /rollout #9 started v3 → v4 \(canary\)/);
    assert.deepEqual(d.timeline[3]!.versions, [3]);
    for (const e of d.timeline) for (const k of ['at', 'kind', 'summary', 'actor'] as const) assert.equal(typeof e[k], 'string');
  });

  it('resolves (operator; audited) with a postmortem, and refuses to resolve twice', async () => {
    const [open] = await incidents.list(admin, { deployment: 'fraud' });
    clock += 10 * MIN;
    const r = await incidents.resolve(operator, open!.id, { resolution: 'rolled back' });
    assert.equal(r.status, 'resolved');
    assert.equal(r.resolvedBy, operator.actor);
    assert.equal(r.resolution, 'rolled back');
    assert.match(r.postmortem, /^# Postmortem: fraud: /);
    assert.match(r.postmortem, /fraud v4 \(named by rollout\.start, alert\)/);
    assert.match(r.postmortem, /No SLO covers deployment fraud/);
    assert.equal((await incidents.get(admin, open!.id)).postmortem, r.postmortem, 'stored on the incident');
    assert.equal(await incidents.postmortem(admin, open!.id), r.postmortem);
    await assert.rejects(incidents.resolve(operator, open!.id), { code: 'MG_ERR_INCIDENT_INVALID_STATE' });
    await assert.rejects(incidents.ack(operator, open!.id), { code: 'MG_ERR_INCIDENT_INVALID_STATE' });
    assert.equal((await listAudit(store.db, { action: 'incident.resolve', target: `incident/${open!.id}` })).length, 1);
    // A paging alert after resolution opens a new incident.
    const next = await incidents.onAlert(await alert({ deployment: 'fraud', severity: 'SEV1' }));
    assert.notEqual(next, open!.id);
    assert.equal(await incidents.record(open!.id, { kind: 'note', summary: 'late', actor: 'system:x' }), null, 'nothing is added to a resolved incident');
  });

  it('lists open incidents by default, all or resolved on request', async () => {
    const open = await incidents.list(admin);
    assert.ok(open.length > 0 && open.every((i) => i.status !== 'resolved'));
    const resolved = await incidents.list(admin, { status: 'resolved' });
    assert.ok(resolved.length > 0 && resolved.every((i) => i.status === 'resolved'));
    assert.equal((await incidents.list(admin, { status: 'all' })).length, open.length + resolved.length);
    assert.equal((await incidents.list(admin, { status: 'all', limit: 1 })).length, 1);
    await assert.rejects(incidents.list(admin, { limit: 0 }), { code: 'MG_ERR_REQUEST_INVALID' });
    await assert.rejects(incidents.list(who('invoker')), { code: 'MG_ERR_AUTH_FORBIDDEN' });
  });

  it('shows a key scoped to some models only the incidents of their deployments', async () => {
    const platform = (await incidents.onAlert(await alert({ deployment: null, severity: 'SEV1', source: 'records_lost' })))!;
    const scoped = who('viewer', ['fraud-*']);
    const seen = await incidents.list(scoped, { status: 'all' });
    assert.ok(seen.length > 0);
    assert.ok(seen.every((i) => i.deployment === 'fraud'));
    const weather = (await incidents.list(admin, { status: 'all', deployment: 'weather' }))[0]!;
    await assert.rejects(incidents.get(scoped, weather.id), { code: 'MG_ERR_INCIDENT_NOT_FOUND' });
    await assert.rejects(incidents.get(scoped, platform), { code: 'MG_ERR_INCIDENT_NOT_FOUND' });
    await assert.rejects(incidents.ack(who('operator', ['fraud-*']), weather.id), { code: 'MG_ERR_INCIDENT_NOT_FOUND' });
    assert.equal((await incidents.get(admin, platform)).deployment, null);
    await assert.rejects(incidents.get(admin, 999_999), { code: 'MG_ERR_INCIDENT_NOT_FOUND' });
  });

  it('adds alert.resolved events to the alert\'s incident', async () => {
    const a = await alert({ deployment: 'weather', severity: 'SEV1' });
    const id = (await incidents.onAlert(a))!;
    clock += MIN;
    assert.equal(await incidents.onAlertResolved({ ...a, status: 'resolved', resolvedAt: new Date(clock).toISOString() }), id);
    assert.ok((await incidents.get(admin, id)).timeline.some((e) => e.kind === 'alert.resolved' && e.details.alertId === a.id));
    const lone = await alert({ deployment: 'weather', severity: 'SEV3' });
    assert.equal(await incidents.onAlertResolved(lone), null);
  });

  it('reports the SLI and the error budget the incident spent from the SLI counters', async () => {
    await store.db.insertInto('deployments').values({ name: 'shop', model: 'shop', spec: '{}', document: '{}', arms: '[]', kill_switch: 0, generation: 1, created_at: new Date(clock).toISOString(), created_by: 'test', updated_at: new Date(clock).toISOString(), updated_by: 'test' }).execute();
    await createSloService(store, { now: () => clock }).apply(admin, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata: {name: shop-availability}\nspec: {deployment: shop, sli: {type: availability}, objective: 0.99, window: 3d}\n');
    const minute = Math.floor(clock / MIN) * MIN;
    const counters = (start: number, total: number, errors: number, replica: string) => ({ deployment: 'shop', bucket: new Date(start).toISOString(), replica, total, errors, degraded: 0, latency: '[]' });
    // Before the incident: 900 good answers. During: two replicas, 100 answers with 30 errors.
    await store.db.insertInto('sli_counters').values([counters(minute - 120 * MIN, 900, 0, 'a'), counters(minute, 60, 20, 'a'), counters(minute, 40, 10, 'b')]).execute();
    const id = (await incidents.onAlert(await alert({ deployment: 'shop', severity: 'SEV1', version: 7 })))!;
    clock = minute + 5 * MIN;
    const r = await incidents.resolve(operator, id, {});
    // 1000 answers in the window allow 10 bad ones; the incident had 30: 300% of the budget.
    assert.match(r.postmortem, /\| shop-availability \| availability \| 99% \| 100 \| 30 \| 70% \(below objective\) \|/);
    assert.match(r.postmortem, /\| shop-availability \| 3d \| 10 \| 300% \(30 bad events\) \| -200% \(overspent\) \|/);
    assert.match(r.postmortem, /shop v7/);
  });
});

describe('spanCounts', () => {
  const c = (total: number, errors: number, degraded: number, latency: number[] = []) => ({ total, errors, degraded, latency: JSON.stringify(latency) });
  it('counts errors, and degraded answers when the SLO says so', () => {
    assert.deepEqual(spanCounts({ sli: { type: 'availability' }, degradedCountsAsBad: true }, [c(10, 1, 2), c(10, 0, 0)]), { total: 20, good: 17, bad: 3, sli: 0.85 });
    assert.deepEqual(spanCounts({ sli: { type: 'availability' }, degradedCountsAsBad: false }, [c(10, 1, 2)]), { total: 10, good: 9, bad: 1, sli: 0.9 });
    assert.deepEqual(spanCounts({ sli: { type: 'availability' }, degradedCountsAsBad: true }, []), { total: 0, good: 0, bad: 0, sli: null });
  });
  it('does not count SLIs the store has no counts for', () => {
    assert.equal(spanCounts({ sli: { type: 'drift_free' }, degradedCountsAsBad: true }, [c(10, 1, 2)]), null);
  });
});
