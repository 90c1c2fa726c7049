// End to end: alerts raised into a real store (SQLite, and PostgreSQL when configured) and delivered over HTTP
// to a local receiver standing in for a webhook, PagerDuty and Slack: signatures, deduplication, retries,
// silences and maintenance windows, escalation, resolution; then the control API's roles and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { AlertManager } from '../src/alerts/alert-manager.js';
import { verifySignature } from '../src/alerts/sinks.js';
import type { AlertSignal } from '../src/alerts/types.js';
import { loadConfig, type Config, type DeepPartial } from '../src/config/index.js';
import { createContext, createLogger, type AppContext } from '../src/context.js';
import { listAudit } from '../src/governance/audit.js';
import { createKey } from '../src/governance/keys.js';
import { packageRoot } from '../src/paths.js';
import { DIALECTS, principal, tempHome, V1 } from './helpers.js';
import { deploymentDoc } from './rollout-helpers.js';
import { startTestServer } from './serving-helpers.js';

const admin = principal('admin');
const operator = principal('operator');
const SECRET = 'receiver-shared-secret-0123456789';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const START = Date.parse('2026-03-02T10:00:00.000Z');
const MINUTE = 60_000;

const fastBurn: AlertSignal = { source: 'slo_fast_burn', deployment: 'wx', version: 1, key: 'wx-availability', summary: 'wx-availability burns its budget 20x too fast', details: { burnRate: 20 } };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An HTTP receiver on 127.0.0.1 recording every request; `script` gives the statuses a path answers in turn. */
async function receiver(script: Record<string, number[]> = {}) {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '';
      got.push({ path, headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown> });
      const status = script[path]?.shift() ?? (path === '/pd' ? 202 : 200);
      res.writeHead(status, { 'content-type': 'application/json' }).end(status < 300 ? '{"status":"ok"}' : '{"error":"receiver is down"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, got, at: (path: string) => got.filter((r) => r.path === path), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function alertingConfig(url: string): DeepPartial<Config['alerting']> {
  return {
    sinks: {
      hook: { type: 'webhook', url: `${url}/hook`, secret: SECRET },
      pd: { type: 'pagerduty', url: `${url}/pd`, routingKey: ROUTING_KEY },
      chat: { type: 'slack', url: `${url}/slack` },
      boss: { type: 'webhook', url: `${url}/boss`, secret: SECRET, timeoutMs: 2000 },
    },
    routes: {
      'weather-team': { page: ['hook', 'pd'], ticket: ['chat'], escalate: ['boss'] },
      default: { page: ['chat'] },
    },
    retry: { maxAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 100 },
  };
}

/** Log lines written by a pino logger, as text. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('info', stream), text: () => lines.join('') };
}

async function seedDeployment(ctx: AppContext): Promise<void> {
  await ctx.registry.register(admin, { name: 'wx', artifact: { path: V1.model }, owner: 'weather-team <weather@example.com>' });
  await ctx.registry.setAlias(admin, 'wx', 'production', '1');
  const doc = deploymentDoc('wx', 'wx');
  delete (doc.spec as Record<string, unknown>).strategy;
  await ctx.deployments.apply(admin, [doc as never]);
}

for (const dialect of DIALECTS) {
  describe(`alert delivery end to end (${dialect.name})`, { skip: dialect.skip }, () => {
    /** A fresh store with the deployment wx of team weather-team, a receiver, and a manager on a hand-moved clock. */
    async function setup(script: Record<string, number[]> = {}) {
      const rx = await receiver(script);
      const opened = await dialect.open();
      await seedDeployment(opened.ctx);
      const config = loadConfig({ env: {}, flags: { home: opened.config.home, alerting: alertingConfig(rx.url) } });
      const clock = { now: START };
      const log = capture();
      const registry = new Registry();
      // Replicas share the store; only the first registers the metrics.
      let made = 0;
      const make = () => new AlertManager({ store: opened.ctx.store, config, logger: log.logger, now: () => clock.now, random: () => 0.5, ...(made++ === 0 ? { registry } : {}) });
      const manager = make();
      return {
        ctx: opened.ctx,
        rx,
        manager,
        clock,
        log,
        registry,
        another: make,
        advance: (ms: number) => (clock.now += ms),
        cleanup: async () => {
          await manager.stop();
          await opened.cleanup();
          await rx.close();
        },
      };
    }

    it('a raised alert reaches its owner team\'s sinks: a signed webhook that verifies, a PagerDuty trigger, a log line', async () => {
      const t = await setup();
      try {
        const { alert, created } = await t.manager.raise(fastBurn);
        assert.equal(created, true);
        assert.equal(alert.severity, 'SEV1', 'the source\'s default severity');
        assert.equal(alert.route, 'weather-team', 'the model owner\'s route');
        assert.equal(alert.groupKey, 'wx/1');
        assert.equal(alert.status, 'firing');
        assert.equal(alert.ackDeadline, new Date(START + 5 * MINUTE).toISOString(), 'SEV1 must be acknowledged within 5m');
        await t.manager.deliver();

        const [hook] = t.rx.at('/hook');
        assert.ok(hook, 'the webhook was called');
        assert.equal(t.rx.at('/hook').length, 1);
        assert.equal(hook.headers['x-modelgate-event'], 'trigger');
        assert.equal(hook.headers['x-modelgate-timestamp'], String(START / 1000));
        assert.equal(hook.headers['x-modelgate-signature'], `sha256=${createHmac('sha256', SECRET).update(`${START / 1000}.${hook.body}`).digest('hex')}`, 'HMAC-SHA256 over timestamp.body');
        assert.equal(verifySignature(SECRET, hook.headers['x-modelgate-timestamp'] as string, hook.body, hook.headers['x-modelgate-signature'] as string, 300, START / 1000), true);
        assert.equal(verifySignature('not-the-secret-at-all', hook.headers['x-modelgate-timestamp'] as string, hook.body, hook.headers['x-modelgate-signature'] as string, 300, START / 1000), false);
        assert.equal(hook.json.version, 1);
        assert.equal(hook.json.alert.id, alert.id);
        assert.equal(hook.json.alert.fingerprint, alert.fingerprint);
        assert.equal(hook.json.group, 'wx/1');

        const [pd] = t.rx.at('/pd');
        assert.equal(pd!.json.routing_key, ROUTING_KEY);
        assert.equal(pd!.json.event_action, 'trigger');
        assert.equal(pd!.json.dedup_key, alert.fingerprint);
        assert.equal(pd!.json.payload.severity, 'critical');
        assert.equal(pd!.json.payload.component, 'wx');
        assert.equal(t.rx.at('/slack').length, 0, 'the ticket sink is not paged');

        const detail = await t.manager.get(admin, alert.id);
        assert.deepEqual(detail.deliveries.map((d) => [d.sink, d.event, d.status, d.attempts, d.responseStatus]), [['hook', 'trigger', 'delivered', 1, 200], ['pd', 'trigger', 'delivered', 1, 202], ['log', 'trigger', 'delivered', 1, null]]);
        const logged = t.log.text();
        assert.match(logged, /"msg":"alert trigger: \[SEV1\] wx-availability burns/);
        assert.ok(!logged.includes(SECRET) && !logged.includes(ROUTING_KEY), 'no secret reaches the log');
        assert.deepEqual(t.manager.stats().delivered, { hook: 1, pd: 1, log: 1 });
        const audit = await listAudit(t.ctx.store.db, { action: 'alert.raise' });
        assert.deepEqual(audit.map((e) => [e.actor, e.target]), [['system:alerting', `alert/${alert.id}`]]);
        const metrics = await t.registry.getSingleMetricAsString('modelgate_alert_notifications_total');
        assert.match(metrics, /modelgate_alert_notifications_total\{sink="hook",event="trigger",result="delivered"\} 1/);
        await t.manager.refreshOpenCounts();
        assert.match(await t.registry.getSingleMetricAsString('modelgate_alerts_open'), /modelgate_alerts_open\{severity="SEV1"\} 1/);
      } finally {
        await t.cleanup();
      }
    });

    it('the same condition raised twice is one alert with two occurrences and one notification; a higher severity notifies again', async () => {
      const t = await setup();
      try {
        const first = await t.manager.raise(fastBurn);
        t.advance(MINUTE);
        const second = await t.manager.raise({ ...fastBurn, summary: 'still burning' });
        assert.equal(second.created, false);
        assert.equal(second.alert.id, first.alert.id);
        assert.equal(second.alert.occurrences, 2);
        assert.equal(second.alert.summary, 'still burning');
        assert.equal(second.alert.lastSeenAt, new Date(START + MINUTE).toISOString());
        await t.manager.deliver();
        assert.equal(t.rx.at('/hook').length, 1);
        assert.equal((await t.manager.get(admin, first.alert.id)).deliveries.filter((d) => d.sink === 'hook').length, 1);
        assert.equal((await t.manager.list(admin)).length, 1);
        assert.equal((await listAudit(t.ctx.store.db, { action: 'alert.raise' })).length, 1);

        // A drift ticket (SEV3, to the chat sink) that turns into a page (SEV1, to hook and pd).
        const drift: AlertSignal = { source: 'drift', deployment: 'wx', version: 1, key: 'temp_max', summary: 'temp_max drifted' };
        const ticket = await t.manager.raise(drift);
        assert.equal(ticket.alert.severity, 'SEV3');
        await t.manager.deliver();
        assert.equal(t.rx.at('/slack').length, 1);
        const page = await t.manager.raise({ ...drift, severity: 'SEV1' });
        assert.equal(page.alert.severity, 'SEV1');
        assert.equal(page.alert.ackDeadline, new Date(START + MINUTE + 5 * MINUTE).toISOString(), 'the sooner deadline of SEV1');
        await t.manager.raise({ ...drift, severity: 'SEV2' });
        await t.manager.deliver();
        const hooks = t.rx.at('/hook').filter((r) => r.json.alert.id === ticket.alert.id);
        assert.equal(hooks.length, 1, 'paged once when it became SEV1, not again for a lower severity');
        assert.equal(hooks[0]!.json.alert.severity, 'SEV1');
      } finally {
        await t.cleanup();
      }
    });

    it('a receiver failing twice gets the notification on the third attempt, each answer recorded; one that keeps failing is given up', async () => {
      const t = await setup({ '/hook': [500, 500, 200], '/pd': [503, 503, 503, 503, 503] });
      try {
        const { alert } = await t.manager.raise(fastBurn);
        const hookDelivery = async () => (await t.manager.get(admin, alert.id)).deliveries.find((d) => d.sink === 'hook')!;
        const pdDelivery = async () => (await t.manager.get(admin, alert.id)).deliveries.find((d) => d.sink === 'pd')!;
        await t.manager.deliver();
        let d = await hookDelivery();
        assert.deepEqual([d.status, d.attempts, d.responseStatus], ['pending', 1, 500]);
        assert.match(d.lastError!, /^HTTP 500 from 127\.0\.0\.1:\d+: \{"error":"receiver is down"\}$/);
        assert.equal(d.nextAttemptAt, new Date(START + 5).toISOString(), 'full jitter at 0.5 of the 10 ms first backoff');
        await t.manager.deliver();
        assert.equal(t.rx.at('/hook').length, 1, 'not retried before its backoff has passed');

        t.advance(1000);
        await t.manager.deliver();
        d = await hookDelivery();
        assert.deepEqual([d.status, d.attempts, d.responseStatus], ['pending', 2, 500]);
        t.advance(1000);
        await t.manager.deliver();
        d = await hookDelivery();
        assert.deepEqual([d.status, d.attempts, d.responseStatus], ['delivered', 3, 200]);
        assert.match(d.lastError!, /HTTP 500/, 'the last failure is kept for the record');
        const calls = t.rx.at('/hook');
        assert.equal(calls.length, 3);
        assert.equal(new Set(calls.map((c) => c.headers['x-modelgate-delivery'])).size, 1, 'every retry carries the same delivery id');
        for (const c of calls) assert.equal(verifySignature(SECRET, c.headers['x-modelgate-timestamp'] as string, c.body, c.headers['x-modelgate-signature'] as string, 300, t.clock.now / 1000), true);

        assert.equal((await pdDelivery()).status, 'pending');
        t.advance(1000);
        await t.manager.deliver();
        const pd = await pdDelivery();
        assert.deepEqual([pd.status, pd.attempts, pd.responseStatus], ['failed', 4, 503], 'given up after alerting.retry.maxAttempts');
        assert.equal(t.rx.at('/pd').length, 4);
        assert.ok(!pd.lastError!.includes(ROUTING_KEY));
        assert.match(t.log.text(), /"level":40,.*"msg":"alert notification to pd failed; giving up after 4 attempts"/);
        assert.deepEqual(t.manager.stats().failed, { pd: 1 });
        assert.equal(t.manager.stats().retried.hook, 2);
      } finally {
        await t.cleanup();
      }
    });

    it('a silence holds notifications back while it lasts; once ended, the alert seen again is notified', async () => {
      const t = await setup();
      try {
        const silence = await t.manager.silence(operator, { matchers: { deployment: 'wx' }, reason: 'database upgrade', durationMs: 2 * 3_600_000 });
        assert.equal(silence.active, true);
        assert.equal(silence.endsAt, new Date(START + 2 * 3_600_000).toISOString());
        const { alert } = await t.manager.raise(fastBurn);
        assert.equal(alert.suppressedBy, `silence:${silence.id}`);
        const other = await t.manager.raise({ ...fastBurn, deployment: 'elsewhere', version: null });
        assert.equal(other.alert.suppressedBy, null, 'another deployment is not silenced');
        await t.manager.deliver();
        assert.equal(t.rx.got.filter((r) => r.json.alert?.id === alert.id || r.json.dedup_key === alert.fingerprint).length, 0, 'nothing sent for the silenced alert');
        assert.deepEqual((await t.manager.get(admin, alert.id)).deliveries, []);
        await t.manager.escalate();
        t.advance(10 * MINUTE);
        await t.manager.escalate();
        assert.equal((await t.manager.get(admin, alert.id)).escalatedAt, null, 'a silenced alert is not escalated');

        const ended = await t.manager.expireSilence(operator, silence.id);
        assert.equal(ended.active, false);
        assert.deepEqual((await t.manager.listSilences(admin)).map((s) => s.id), []);
        assert.deepEqual((await t.manager.listSilences(admin, { includeExpired: true })).map((s) => s.id), [silence.id]);
        const again = await t.manager.raise(fastBurn);
        assert.equal(again.alert.suppressedBy, null);
        await t.manager.deliver();
        assert.equal(t.rx.at('/hook').filter((r) => r.json.alert.id === alert.id).length, 1, 'notified once the silence ended');
        assert.deepEqual((await listAudit(t.ctx.store.db, { action: 'alert.silence' })).map((e) => e.target), [`silence/${silence.id}`]);
        assert.equal((await listAudit(t.ctx.store.db, { action: 'alert.silence.expire' })).length, 1);
      } finally {
        await t.cleanup();
      }
    });

    it('refuses silences without a reason, a matcher, or a sensible time, and from a viewer', async () => {
      const t = await setup();
      try {
        const refused = async (input: Parameters<AlertManager['silence']>[1], pattern: RegExp, code = 'MG_ERR_SILENCE_INVALID', who = operator) =>
          assert.rejects(t.manager.silence(who, input), (e: Error & { code?: string }) => e.code === code && pattern.test(e.message));
        await refused({ matchers: { deployment: 'wx' }, reason: '  ', durationMs: MINUTE }, /reason/);
        await refused({ reason: 'r', durationMs: MINUTE }, /at least one matcher/);
        await refused({ matchers: { deployment: 'wx' }, all: true, reason: 'r', durationMs: MINUTE }, /drop the matchers/);
        await refused({ matchers: { deployment: 'wx' }, reason: 'r', durationMs: 31 * 86_400_000 }, /at most 30 days/);
        await refused({ matchers: { deployment: 'wx' }, reason: 'r', startsAt: new Date(START).toISOString(), endsAt: new Date(START - MINUTE).toISOString() }, /end must be after the start/);
        await refused({ matchers: { deployment: 'wx' }, reason: 'r', startsAt: new Date(START + MINUTE).toISOString(), durationMs: MINUTE }, /maintenance window/);
        await refused({ matchers: { source: 'nonsense' as never }, reason: 'r', durationMs: MINUTE }, /Unknown source "nonsense"/);
        await refused({ matchers: { deployment: 'wx' }, reason: 'r' }, /exactly one of a duration/);
        await refused({ matchers: { deployment: 'wx' }, reason: 'r', durationMs: MINUTE }, /operator role/, 'MG_ERR_AUTH_FORBIDDEN', principal('viewer'));
        const all = await t.manager.silence(operator, { all: true, reason: 'everything, briefly', durationMs: MINUTE });
        assert.deepEqual(all.matchers, {});
        const { alert } = await t.manager.raise({ source: 'records_lost', deployment: null, version: null, summary: 'records lost' });
        assert.equal(alert.suppressedBy, `silence:${all.id}`);
      } finally {
        await t.cleanup();
      }
    });

    it('a maintenance window scheduled ahead does not suppress until it starts, and stops when it ends', async () => {
      const t = await setup();
      try {
        const window = await t.manager.silence(operator, { kind: 'maintenance', matchers: { deployment: 'wx', severity: 'SEV2' }, reason: 'planned failover', startsAt: new Date(START + 3_600_000).toISOString(), durationMs: 3_600_000 });
        assert.equal(window.active, false, 'scheduled');
        const errorRate: AlertSignal = { source: 'error_rate', deployment: 'wx', version: 1, summary: '5xx above 5%' };
        const before = await t.manager.raise(errorRate);
        assert.equal(before.alert.suppressedBy, null, 'not yet in force');
        await t.manager.resolve(errorRate);

        t.advance(3_600_000);
        assert.deepEqual((await t.manager.listSilences(admin)).map((s) => [s.id, s.active]), [[window.id, true]]);
        const during = await t.manager.raise(errorRate);
        assert.equal(during.created, true);
        assert.equal(during.alert.suppressedBy, `silence:${window.id}`);
        const sev1 = await t.manager.raise({ ...fastBurn, key: 'another' });
        assert.equal(sev1.alert.suppressedBy, null, 'the window matches SEV2 only');
        await t.manager.resolve(errorRate);

        t.advance(3_600_000);
        const afterwards = await t.manager.raise(errorRate);
        assert.equal(afterwards.alert.suppressedBy, null, 'the window has ended');
        await t.manager.deliver();
        const paged = t.rx.at('/hook').map((r) => r.json.alert.id as number);
        assert.ok(paged.includes(before.alert.id) && paged.includes(afterwards.alert.id) && !paged.includes(during.alert.id), `paged: ${paged.join(',')}`);
      } finally {
        await t.cleanup();
      }
    });

    it('an alert nobody acknowledges by its deadline goes to the escalate sinks, once; an acknowledged one does not', async () => {
      const t = await setup();
      try {
        const ignored = await t.manager.raise(fastBurn);
        const handled = await t.manager.raise({ ...fastBurn, key: 'handled' });
        await t.manager.deliver();
        const acked = await t.manager.ack(operator, handled.alert.id, 'looking at it');
        assert.equal(acked.status, 'acknowledged');
        assert.equal(acked.ackedBy, operator.actor);
        t.advance(4 * MINUTE);
        await t.manager.escalate();
        assert.equal((await t.manager.get(admin, ignored.alert.id)).escalatedAt, null, 'not before its deadline');
        t.advance(2 * MINUTE);
        await t.manager.tick();
        const escalated = await t.manager.get(admin, ignored.alert.id);
        assert.equal(escalated.escalatedAt, new Date(START + 6 * MINUTE).toISOString());
        assert.deepEqual(escalated.deliveries.filter((d) => d.event === 'escalate').map((d) => [d.sink, d.status]), [['boss', 'delivered'], ['log', 'delivered']]);
        assert.equal((await t.manager.get(admin, handled.alert.id)).escalatedAt, null);
        const boss = t.rx.at('/boss');
        assert.equal(boss.length, 1);
        assert.equal(boss[0]!.headers['x-modelgate-event'], 'escalate');
        assert.equal(boss[0]!.json.alert.id, ignored.alert.id);
        t.advance(10 * MINUTE);
        await t.manager.tick();
        assert.equal(t.rx.at('/boss').length, 1, 'escalated once');
        assert.deepEqual((await listAudit(t.ctx.store.db, { action: 'alert.escalate' })).map((e) => e.target), [`alert/${ignored.alert.id}`]);
        const ackAudit = await listAudit(t.ctx.store.db, { action: 'alert.ack' });
        assert.deepEqual(ackAudit.map((e) => [e.actor, e.details.note]), [[operator.actor, 'looking at it']]);
        // The acknowledgement reached PagerDuty for the same dedup key.
        const pdAck = t.rx.at('/pd').filter((r) => r.json.event_action === 'acknowledge');
        assert.deepEqual(pdAck.map((r) => r.json.dedup_key), [handled.alert.fingerprint]);
        assert.equal(pdAck[0]!.json.payload, undefined, 'only a trigger carries a payload');
      } finally {
        await t.cleanup();
      }
    });

    it('resolving sends PagerDuty a resolve with the trigger\'s dedup key; sync resolves what is no longer active', async () => {
      const t = await setup();
      try {
        const scope = { sources: ['slo_fast_burn' as const], deployment: 'wx' };
        const first = await t.manager.sync(scope, [fastBurn]);
        assert.equal(first.raised.length, 1);
        assert.deepEqual(first.resolved, []);
        const alert = first.raised[0]!;
        await t.manager.deliver();
        const again = await t.manager.sync(scope, [fastBurn]);
        assert.deepEqual([again.raised[0]!.id, again.raised[0]!.occurrences, again.resolved.length], [alert.id, 2, 0]);
        await assert.rejects(t.manager.sync(scope, [{ ...fastBurn, source: 'drift' }]), { code: 'MG_ERR_ALERT_INVALID' });

        t.advance(MINUTE);
        const quiet = await t.manager.sync(scope, []);
        assert.deepEqual(quiet.resolved.map((a) => [a.id, a.status, a.resolvedAt]), [[alert.id, 'resolved', new Date(START + MINUTE).toISOString()]]);
        await t.manager.deliver();
        const pd = t.rx.at('/pd');
        assert.deepEqual(pd.map((r) => [r.json.event_action, r.json.dedup_key]), [['trigger', alert.fingerprint], ['resolve', alert.fingerprint]]);
        assert.deepEqual(t.rx.at('/hook').map((r) => r.headers['x-modelgate-event']), ['trigger', 'resolve']);
        assert.equal(t.rx.at('/boss').length, 0, 'never escalated, so never told it is over');
        await assert.rejects(t.manager.ack(operator, alert.id), { code: 'MG_ERR_ALERT_INVALID_STATE', status: 409 });
        assert.equal(await t.manager.resolve(fastBurn), null, 'nothing open to resolve');
        assert.deepEqual((await t.manager.list(admin)).length, 0);
        assert.deepEqual((await t.manager.list(admin, { status: 'resolved' })).map((a) => a.id), [alert.id]);

        const reopened = await t.manager.raise(fastBurn);
        assert.equal(reopened.created, true, 'the condition back after resolution is a new alert');
        assert.notEqual(reopened.alert.id, alert.id);
        assert.equal(reopened.alert.fingerprint, alert.fingerprint);
      } finally {
        await t.cleanup();
      }
    });

    it('replicas raising the same condition at once make one alert, and deliver each notification once', async () => {
      const t = await setup();
      try {
        const replica = t.another();
        const raised = await Promise.all([t.manager.raise(fastBurn), replica.raise(fastBurn), t.manager.raise(fastBurn), replica.raise(fastBurn)]);
        assert.equal(raised.filter((r) => r.created).length, 1);
        assert.equal(new Set(raised.map((r) => r.alert.id)).size, 1);
        const [alert] = await t.manager.list(admin);
        assert.equal(alert!.occurrences, 4);
        await Promise.all([t.manager.deliver(), replica.deliver(), t.manager.deliver()]);
        assert.equal(t.rx.at('/hook').length, 1);
        assert.equal(t.rx.at('/pd').length, 1);
        const d = (await t.manager.get(admin, alert!.id)).deliveries;
        assert.deepEqual(d.map((x) => [x.sink, x.status, x.attempts]), [['hook', 'delivered', 1], ['pd', 'delivered', 1], ['log', 'delivered', 1]]);
      } finally {
        await t.cleanup();
      }
    });

    it('a key limited to other models sees none of these alerts; viewers list, only operators acknowledge', async () => {
      const t = await setup();
      try {
        const { alert } = await t.manager.raise(fastBurn);
        await t.manager.raise({ source: 'records_lost', deployment: null, version: null, summary: 'records lost' });
        assert.equal((await t.manager.list(principal('viewer'))).length, 2);
        assert.deepEqual((await t.manager.list(principal('viewer', ['wx']))).map((a) => a.id), [alert.id], 'an alert of no deployment is for unlimited keys');
        assert.deepEqual(await t.manager.list(principal('viewer', ['other-*'])), []);
        await assert.rejects(t.manager.get(principal('viewer', ['other-*']), alert.id), { code: 'MG_ERR_ALERT_NOT_FOUND' });
        await assert.rejects(t.manager.ack(principal('operator', ['other-*']), alert.id), { code: 'MG_ERR_ALERT_NOT_FOUND' });
        await assert.rejects(t.manager.ack(principal('viewer'), alert.id), { code: 'MG_ERR_AUTH_FORBIDDEN' });
        await assert.rejects(t.manager.silence(principal('operator', ['other-*']), { matchers: { deployment: 'wx' }, reason: 'r', durationMs: MINUTE }), { code: 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE' });
        await assert.rejects(t.manager.list(admin, { severity: 'SEV9' as never }), { code: 'MG_ERR_ALERT_INVALID' });
        assert.deepEqual((await t.manager.list(admin, { severity: 'SEV2' })).map((a) => a.source), ['records_lost']);
        assert.deepEqual((await t.manager.list(admin, { deployment: 'wx' })).map((a) => a.id), [alert.id]);
      } finally {
        await t.cleanup();
      }
    });
  });

  describe(`the alerts API (${dialect.name})`, { skip: dialect.skip }, () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    let keys: { operator: string; viewer: string; scoped: string };
    let alertId: number;
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await fetch(`${server.server.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };

    before(async () => {
      server = await startTestServer({}, { postgres: dialect.name === 'postgres' });
      const ctx = server.server.ctx;
      await seedDeployment(ctx);
      const db = ctx.store.db;
      keys = {
        operator: (await createKey(db, { name: 'ops', role: 'operator' }, admin.actor)).key,
        viewer: (await createKey(db, { name: 'watch', role: 'viewer' }, admin.actor)).key,
        scoped: (await createKey(db, { name: 'other', role: 'viewer', modelPatterns: ['other-*'] }, admin.actor)).key,
      };
      alertId = (await ctx.alerts.raise(fastBurn)).alert.id;
    });
    after(async () => server?.cleanup());

    it('a viewer lists and shows alerts with their notifications; a key limited to other models sees none', async () => {
      const list = await call('GET', '/alerts', keys.viewer);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.map((a: { id: number }) => a.id), [alertId]);
      const one = await call('GET', `/alerts/${alertId}`, keys.viewer);
      assert.equal(one.status, 200);
      assert.equal(one.body.fingerprint, list.body[0].fingerprint);
      assert.deepEqual(one.body.deliveries.map((d: { sink: string; event: string }) => [d.sink, d.event]), [['log', 'trigger']], 'no sinks configured: the log only');
      assert.deepEqual((await call('GET', '/alerts', keys.scoped)).body, []);
      assert.equal((await call('GET', `/alerts/${alertId}`, keys.scoped)).status, 404);
      assert.equal((await call('GET', '/alerts?severity=SEV7', keys.viewer)).status, 400);
      assert.equal((await call('GET', '/alerts?status=resolved', keys.viewer)).body.length, 0);
      const missing = await call('GET', '/alerts/99999', keys.viewer);
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'MG_ERR_ALERT_NOT_FOUND']);
    });

    it('acknowledging needs an operator key: 403 for a viewer, then acknowledged and audited', async () => {
      const refused = await call('POST', `/alerts/${alertId}/ack`, keys.viewer, {});
      assert.deepEqual([refused.status, refused.body.error.code], [403, 'MG_ERR_AUTH_FORBIDDEN']);
      assert.equal((await call('GET', `/alerts/${alertId}`, keys.viewer)).body.status, 'firing');
      const ok = await call('POST', `/alerts/${alertId}/ack`, keys.operator, { note: 'on it' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.status, 'acknowledged');
      assert.match(ok.body.ackedBy, /^key:key_/);
      const bare = await fetch(`${server.server.url}/api/v1/alerts/${alertId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${keys.operator}` } });
      assert.equal(bare.status, 200, 'no body is a plain acknowledgement; acknowledging again changes nothing');
      const audit = await listAudit(server.server.ctx.store.db, { action: 'alert.ack' });
      assert.deepEqual(audit.map((e) => [e.actor, e.target, e.details.note]), [[ok.body.ackedBy, `alert/${alertId}`, 'on it']]);
    });

    it('creates, lists and ends silences; refuses a bad one with its code', async () => {
      const created = await call('POST', '/silences', keys.operator, { matchers: { deployment: 'wx', severity: 'SEV1' }, reason: 'failover drill', duration: '2h' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual([created.body.kind, created.body.active, created.body.matchers], ['silence', true, { deployment: 'wx', severity: 'SEV1' }]);
      assert.equal((await call('POST', '/silences', keys.viewer, { matchers: { deployment: 'wx' }, reason: 'r', duration: '1h' })).status, 403);
      const bad = await call('POST', '/silences', keys.operator, { matchers: { deployment: 'wx' }, reason: 'r', duration: 'forever' });
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'MG_ERR_SILENCE_INVALID']);
      const noMatcher = await call('POST', '/silences', keys.operator, { reason: 'r', duration: 60_000 });
      assert.deepEqual([noMatcher.status, noMatcher.body.error.code], [400, 'MG_ERR_SILENCE_INVALID']);
      assert.deepEqual((await call('GET', '/silences', keys.viewer)).body.map((s: { id: number }) => s.id), [created.body.id]);
      const ended = await call('DELETE', `/silences/${created.body.id}`, keys.operator);
      assert.deepEqual([ended.status, ended.body.active], [200, false]);
      assert.deepEqual((await call('GET', '/silences', keys.viewer)).body, []);
      assert.equal((await call('GET', '/silences?all=true', keys.viewer)).body.length, 1);
      assert.equal((await call('DELETE', `/silences/${created.body.id}`, keys.operator)).status, 400, 'already ended');
      assert.equal((await call('DELETE', '/silences/99999', keys.operator)).status, 404);
    });
  });
}

describe('modelgate alerts (the CLI on a local store)', () => {
  const t = tempHome('mg-alerts-cli-');
  const configFile = join(t.home, 'modelgate.yaml');
  // The binary compiled next to this test; run from the package root so that it finds package.json.
  const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, '--config', configFile, ...args], { encoding: 'utf8', cwd: packageRoot, env: { PATH: process.env.PATH ?? '', MODELGATE_HOME: t.home }, timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  let ids: { page: number; ticket: number };

  before(async () => {
    writeFileSync(configFile, 'log:\n  level: silent\n');
    const ctx = await createContext(loadConfig({ env: {}, file: configFile, flags: { home: t.home } }), { logger: createLogger('silent') });
    try {
      ids = {
        page: (await ctx.alerts.raise({ source: 'error_rate', deployment: 'wx', version: 3, summary: '5xx above 5% on wx@3' })).alert.id,
        ticket: (await ctx.alerts.raise({ source: 'drift', deployment: 'wx', version: 3, key: 'temp_max', summary: 'temp_max drifted' })).alert.id,
      };
    } finally {
      await ctx.store.close();
    }
  });
  after(() => t.cleanup());

  it('lists open alerts as a table and as JSON, filtered by severity', () => {
    const table = cli('alerts', 'list');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+SEVERITY\s+STATUS\s+GROUP\s+SOURCE\s+COUNT\s+OPENED\s+SUMMARY$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, new RegExp(`^${ids.ticket}\\s+SEV3\\s+firing\\s+wx/3\\s+drift\\s+1\\s`));
    const json = cli('alerts', 'list', '--severity', 'SEV2', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(json.json().map((a: { id: number; route: string }) => [a.id, a.route]), [[ids.page, 'default']]);
    assert.equal(cli('alerts', 'list', '--severity', 'SEV9').code, 2);
  });

  it('acknowledges an alert and shows it with its notifications; mistakes exit with their codes', () => {
    const ack = cli('alerts', 'ack', String(ids.page), '--note', 'rolling back');
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, new RegExp(`^alert/${ids.page} acknowledged by local:`));
    const show = cli('alerts', 'show', String(ids.page), '--json');
    assert.equal(show.code, 0, show.stderr);
    const a = show.json();
    assert.equal(a.status, 'acknowledged');
    assert.deepEqual(a.deliveries.map((d: { sink: string; event: string; status: string }) => [d.sink, d.event, d.status]), [['log', 'trigger', 'pending'], ['log', 'acknowledge', 'pending']], 'queued for the server to send');
    const human = cli('alerts', 'show', String(ids.page));
    assert.match(human.stdout, /^alert #\d+ SEV2 acknowledged: 5xx above 5% on wx@3\n/);
    assert.match(human.stdout, /notifications:\nID\s+SINK\s+EVENT/);
    assert.equal(cli('alerts', 'ack', 'abc').code, 2);
    const missing = cli('alerts', 'ack', '9999');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error MG_ERR_ALERT_NOT_FOUND: /);
  });

  it('silences a deployment for a while, lists the silence and ends it', () => {
    const made = cli('alerts', 'silence', '--deployment', 'wx', '--severity', 'SEV3', '--for', '2h', '--reason', 'known drift, retraining', '--json');
    assert.equal(made.code, 0, made.stderr);
    const s = made.json();
    assert.deepEqual([s.kind, s.active, s.matchers], ['silence', true, { deployment: 'wx', severity: 'SEV3' }]);
    const list = cli('alerts', 'silences');
    assert.match(list.stdout, new RegExp(`^${s.id}\\s+silence\\s+active\\s+deployment=wx severity=SEV3\\s`, 'm'));
    assert.equal(cli('alerts', 'silence', '--for', '2h', '--reason', 'x').code, 2, 'no matcher is a usage error');
    assert.equal(cli('alerts', 'silence', '--deployment', 'wx', '--for', 'soon', '--reason', 'x').code, 2);
    assert.equal(cli('alerts', 'silence', '--deployment', 'wx', '--for', '1h', '--starts', '2099-01-01T00:00:00Z', '--reason', 'x').code, 2, '--starts needs --maintenance');
    const scheduled = cli('alerts', 'silence', '--deployment', 'wx', '--maintenance', '--starts', '2099-01-01T00:00:00Z', '--for', '3h', '--reason', 'upgrade', '--json');
    assert.equal(scheduled.code, 0, scheduled.stderr);
    assert.deepEqual([scheduled.json().kind, scheduled.json().active], ['maintenance', false]);
    const ended = cli('alerts', 'unsilence', String(s.id));
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout, `silence/${s.id} ended\n`);
    assert.deepEqual(cli('alerts', 'silences', '--json').json().map((x: { id: number }) => x.id), [scheduled.json().id]);
  });
});
