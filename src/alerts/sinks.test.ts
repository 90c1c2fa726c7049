import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { loadConfig } from '../config/index.js';
import type { AlertInfo } from './types.js';
import {
  PAGERDUTY_URL,
  backoffMs,
  checkAlertingConfig,
  isPermanentStatus,
  logFields,
  pagerdutyRequest,
  redactSecrets,
  signWebhook,
  slackRequest,
  verifySignature,
  webhookRequest,
  webhookSecret,
  type AlertingConfig,
} from './sinks.js';

const ALERT: AlertInfo = {
  id: 7,
  fingerprint: '0123456789abcdef0123',
  source: 'slo_fast_burn',
  severity: 'SEV1',
  deployment: 'weather',
  version: 2,
  groupKey: 'weather/2',
  summary: 'weather-availability burns its error budget 20x too fast',
  details: { slo: 'weather-availability', burnRate: 20.5 },
  route: 'weather-team',
  status: 'firing',
  suppressedBy: null,
  occurrences: 3,
  openedAt: '2026-01-31T12:00:00.000Z',
  lastSeenAt: '2026-01-31T12:05:00.000Z',
  resolvedAt: null,
  ackDeadline: '2026-01-31T12:05:00.000Z',
  ackedBy: null,
  ackedAt: null,
  escalatedAt: null,
  incidentId: null,
};
const SENT = Date.parse('2026-01-31T12:06:40.000Z');
const SECRET = 'a-webhook-secret-of-some-length';

function alerting(over: Partial<AlertingConfig> = {}): AlertingConfig {
  return {
    evaluateMs: 15_000,
    deliverMs: 1000,
    sinks: {},
    routes: {},
    ackDeadline: { SEV1: '5m', SEV2: '30m', SEV3: '3d' },
    retry: { maxAttempts: 8, initialBackoffMs: 1000, maxBackoffMs: 300_000 },
    signals: { windowMs: 300_000, minRequests: 20, errorRate: 0.05, latencyMs: 1000, slowShare: 0.1, minParityRatio: 0.8, minFairnessRecords: 100, budgetApproached: 0.5 },
    ...over,
  };
}

test('the webhook body is the versioned event with the whole alert, and its headers say what and when', () => {
  const req = webhookRequest('https://hooks.example.com/modelgate', ALERT, { event: 'trigger', deliveryId: 41, sentAt: SENT }, SECRET);
  assert.equal(req.url, 'https://hooks.example.com/modelgate');
  const body = JSON.parse(req.body) as Record<string, unknown>;
  assert.deepEqual(body, { version: 1, event: 'trigger', deliveryId: 41, alert: ALERT, group: 'weather/2', sentAt: '2026-01-31T12:06:40.000Z' });
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-modelgate-event'], 'trigger');
  assert.equal(req.headers['x-modelgate-delivery'], '41');
  assert.equal(req.headers['x-modelgate-timestamp'], String(SENT / 1000));
  assert.match(req.headers['x-modelgate-signature']!, /^sha256=[0-9a-f]{64}$/);
});

test('a receiver verifies the signature over timestamp and raw body, and refuses tampering, other keys and old requests', () => {
  const req = webhookRequest('https://h.example.com/x', ALERT, { event: 'resolve', deliveryId: 1, sentAt: SENT }, SECRET);
  const ts = req.headers['x-modelgate-timestamp']!;
  const sig = req.headers['x-modelgate-signature']!;
  const nowSec = SENT / 1000 + 10;
  assert.equal(verifySignature(SECRET, ts, req.body, sig, 300, nowSec), true);
  assert.equal(verifySignature(SECRET, ts, req.body.replace('"resolve"', '"trigger"'), sig, 300, nowSec), false, 'an edited body');
  assert.equal(verifySignature('another-secret-entirely', ts, req.body, sig, 300, nowSec), false, 'another key');
  assert.equal(verifySignature(SECRET, String(Number(ts) + 1), req.body, sig, 300, nowSec), false, 'a shifted timestamp');
  assert.equal(verifySignature(SECRET, ts, req.body, sig, 300, SENT / 1000 + 301), false, 'older than the tolerance');
  assert.equal(verifySignature(SECRET, ts, req.body, sig, 300, SENT / 1000 - 301), false, 'from the future');
  assert.equal(verifySignature(SECRET, ts, req.body, sig.replace('sha256=', ''), 300, nowSec), false, 'without the scheme');
  assert.equal(verifySignature(SECRET, undefined, req.body, sig, 300, nowSec), false);
  assert.equal(verifySignature(SECRET, ts, req.body, undefined, 300, nowSec), false);
  assert.equal(verifySignature(SECRET, `${ts}.5`, req.body, sig, 300, nowSec), false, 'a timestamp that is not whole seconds');
  // The documented construction, computed independently of the module.
  assert.equal(sig, `sha256=${createHmac('sha256', SECRET).update(`${ts}.${req.body}`).digest('hex')}`);
  assert.equal(signWebhook(SECRET, ts, req.body), sig);
});

test('a webhook without a secret is sent unsigned; the secret may come from the environment', () => {
  const req = webhookRequest('https://h.example.com/x', ALERT, { event: 'trigger', deliveryId: 1, sentAt: SENT }, undefined);
  assert.equal(req.headers['x-modelgate-signature'], undefined);
  assert.equal(webhookSecret({ secretEnv: 'HOOK_KEY' }, { HOOK_KEY: 'from-env' }), 'from-env');
  assert.equal(webhookSecret({ secretEnv: 'HOOK_KEY' }, { HOOK_KEY: '' }), undefined);
  assert.equal(webhookSecret({ secret: 'inline', secretEnv: 'HOOK_KEY' }, { HOOK_KEY: 'from-env' }), 'inline');
});

test('Slack gets plain text with severity, deployment@version and summary, and no link or mention can get in', () => {
  const a = { ...ALERT, summary: 'drift on <!channel> see <https://evil.example|here> & more' };
  const req = slackRequest('https://hooks.slack.com/services/T/B/X', a, { event: 'trigger', deliveryId: 1, sentAt: SENT });
  const body = JSON.parse(req.body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[] }[] };
  assert.equal(body.text, '[SEV1] FIRING: weather@2: drift on &lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more');
  assert.equal(body.blocks[0]!.type, 'header');
  assert.equal(body.blocks[0]!.text!.text, '[SEV1] FIRING: weather@2');
  assert.equal(body.blocks[1]!.text!.text, a.summary, 'plain_text shows the summary as written, unrendered');
  assert.deepEqual(body.blocks[2]!.fields!.map((f) => f.text), ['Severity: SEV1', 'Deployment: weather@2', 'Source: slo_fast_burn', 'Occurrences: 3']);
  assert.ok(!req.body.includes('mrkdwn'), 'every text object is plain_text');
  const acked = JSON.parse(slackRequest('https://x.example', { ...ALERT, status: 'acknowledged', ackedBy: 'key:key_1' }, { event: 'acknowledge', deliveryId: 2, sentAt: SENT }).body) as typeof body;
  assert.equal(acked.blocks[0]!.text!.text, '[SEV1] ACKNOWLEDGED: weather@2');
  assert.ok(acked.blocks[2]!.fields!.some((f) => f.text === 'Acknowledged by: key:key_1'));
  const long = JSON.parse(slackRequest('https://x.example', { ...ALERT, deployment: 'd'.repeat(300) }, { event: 'resolve', deliveryId: 3, sentAt: SENT }).body) as typeof body;
  assert.ok(long.blocks[0]!.text!.text.length <= 150, 'Slack refuses a header over 150 characters');
});

test('PagerDuty: a trigger carries the payload, acknowledge and resolve only the dedup key (the fingerprint)', () => {
  const t = JSON.parse(pagerdutyRequest(undefined, 'R0UT1NGKEY', ALERT, { event: 'trigger', deliveryId: 1, sentAt: SENT }).body) as Record<string, unknown>;
  assert.deepEqual(t, {
    routing_key: 'R0UT1NGKEY',
    event_action: 'trigger',
    dedup_key: ALERT.fingerprint,
    client: 'Modelgate',
    payload: {
      summary: '[SEV1] weather@2: weather-availability burns its error budget 20x too fast',
      source: 'modelgate/weather/2',
      severity: 'critical',
      timestamp: ALERT.lastSeenAt,
      component: 'weather',
      group: 'weather/2',
      class: 'slo_fast_burn',
      custom_details: { slo: 'weather-availability', burnRate: 20.5, alert_id: 7, modelgate_severity: 'SEV1', version: 2, occurrences: 3, route: 'weather-team', opened_at: ALERT.openedAt },
    },
  });
  for (const event of ['acknowledge', 'resolve'] as const) {
    const r = pagerdutyRequest(undefined, 'R0UT1NGKEY', ALERT, { event, deliveryId: 2, sentAt: SENT });
    assert.equal(r.url, PAGERDUTY_URL);
    assert.deepEqual(JSON.parse(r.body), { routing_key: 'R0UT1NGKEY', event_action: event, dedup_key: ALERT.fingerprint });
  }
  const e = JSON.parse(pagerdutyRequest('https://pd.example/v2/enqueue', 'K', ALERT, { event: 'escalate', deliveryId: 3, sentAt: SENT }).body) as { event_action: string; payload: { summary: string } };
  assert.equal(e.event_action, 'trigger', 'PagerDuty has no escalate action');
  assert.match(e.payload.summary, /escalated/);
});

test('PagerDuty severities map SEV1..SEV4 to critical, error, warning, info, and a summary stays within 1024 characters', () => {
  const sev = (severity: AlertInfo['severity']) => (JSON.parse(pagerdutyRequest(undefined, 'K', { ...ALERT, severity }, { event: 'trigger', deliveryId: 1, sentAt: SENT }).body) as { payload: { severity: string } }).payload.severity;
  assert.deepEqual([sev('SEV1'), sev('SEV2'), sev('SEV3'), sev('SEV4')], ['critical', 'error', 'warning', 'info']);
  const long = JSON.parse(pagerdutyRequest(undefined, 'K', { ...ALERT, summary: 'x'.repeat(5000) }, { event: 'trigger', deliveryId: 1, sentAt: SENT }).body) as { payload: { summary: string } };
  assert.equal(long.payload.summary.length, 1024);
  const none = JSON.parse(pagerdutyRequest(undefined, 'K', { ...ALERT, deployment: null, version: null, groupKey: '-/-' }, { event: 'trigger', deliveryId: 1, sentAt: SENT }).body) as { payload: Record<string, unknown> };
  assert.equal(none.payload.source, 'modelgate');
  assert.equal('component' in none.payload, false);
});

test('the log line holds the alert fields and the event', () => {
  const f = logFields(ALERT, { event: 'escalate' }) as { event: string; alert: Record<string, unknown> };
  assert.equal(f.event, 'escalate');
  assert.equal(f.alert.id, 7);
  assert.equal(f.alert.group, 'weather/2');
  assert.deepEqual(f.alert.details, ALERT.details);
});

test('the configuration check names the field at fault', () => {
  const bad = (over: Partial<AlertingConfig>) => {
    try {
      checkAlertingConfig(alerting(over));
    } catch (e) {
      assert.equal((e as { code?: string }).code, 'MG_ERR_CONFIG_INVALID');
      return (e as Error).message;
    }
    assert.fail('expected the configuration to be refused');
  };
  const hook = { type: 'webhook' as const, url: 'https://h.example/x', timeoutMs: 5000 };
  assert.match(bad({ sinks: { hook }, routes: { risk: { page: ['hook', 'pager'], ticket: [], escalate: [] } } }), /alerting\.routes\.risk\.page\[1\] names sink "pager"/);
  assert.match(bad({ routes: { risk: { page: [], ticket: [], escalate: ['boss'] } } }), /alerting\.routes\.risk\.escalate\[0\]/);
  assert.match(bad({ sinks: { hook: { type: 'webhook', timeoutMs: 5000 } } }), /alerting\.sinks\.hook\.url is required for a webhook sink/);
  assert.match(bad({ sinks: { chat: { type: 'slack', timeoutMs: 5000 } } }), /alerting\.sinks\.chat\.url is required for a slack sink/);
  assert.match(bad({ sinks: { pd: { type: 'pagerduty', timeoutMs: 5000 } } }), /alerting\.sinks\.pd: a pagerduty sink needs routingKey or routingKeyEnv/);
  assert.match(bad({ sinks: { hook: { ...hook, url: 'ftp://h.example/x' } } }), /alerting\.sinks\.hook\.url must be an http/);
  assert.match(bad({ sinks: { log: hook } }), /alerting\.sinks\.log: the sink named "log" is the built-in log sink/);
  assert.match(bad({ ackDeadline: { SEV1: 'soon', SEV2: '30m', SEV3: '3d' } }), /alerting\.ackDeadline\.SEV1 must be a duration/);

  const ok = checkAlertingConfig(alerting({ sinks: { hook, pd: { type: 'pagerduty', routingKeyEnv: 'PD_KEY', timeoutMs: 2000 } }, routes: { risk: { page: ['pd', 'log'], ticket: ['hook'], escalate: [] } } }));
  assert.deepEqual([...ok.sinks.keys()], ['log', 'hook', 'pd'], 'the log sink always exists');
  assert.equal(ok.sinks.get('pd')!.timeoutMs, 2000);
  assert.deepEqual(ok.ackDeadlineMs, { SEV1: 300_000, SEV2: 1_800_000, SEV3: 259_200_000 });
  assert.deepEqual(ok.routes.risk, { page: ['pd', 'log'], ticket: ['hook'], escalate: [] });
});

test('backoff is full jitter under initial·2^(n-1), capped at the maximum', () => {
  const retry = { initialBackoffMs: 1000, maxBackoffMs: 10_000 };
  const almostOne = () => 0.999999;
  assert.equal(backoffMs(1, retry, () => 0), 0);
  assert.equal(backoffMs(1, retry, almostOne), 999);
  assert.equal(backoffMs(2, retry, almostOne), 1999);
  assert.equal(backoffMs(3, retry, almostOne), 3999);
  assert.equal(backoffMs(4, retry, almostOne), 7999);
  assert.equal(backoffMs(5, retry, almostOne), 9999, 'capped');
  assert.equal(backoffMs(5000, retry, almostOne), 9999, 'no overflow however many failures');
  assert.equal(backoffMs(2, retry, () => 0.5), 1000);
  for (let n = 1; n <= 12; n++) {
    for (let i = 0; i < 50; i++) {
      const b = backoffMs(n, retry);
      assert.ok(Number.isInteger(b) && b >= 0 && b < Math.min(10_000, 1000 * 2 ** (n - 1)), `attempt ${n}: ${b}`);
    }
  }
});

test('4xx answers other than 408, 425 and 429 are not retried; secrets are taken out of error messages', () => {
  assert.deepEqual([400, 401, 404, 408, 425, 429, 500, 503].map(isPermanentStatus), [true, true, true, false, false, false, false, false]);
  assert.equal(redactSecrets('HTTP 400: bad key R0UT1NGKEY for /services/T/B/X', ['R0UT1NGKEY', '/services/T/B/X', undefined, 'ab']), 'HTTP 400: bad key [redacted] for [redacted]');
});

test('the configuration fills each sink\'s timeout and each route\'s lists, which TypeBox leaves out of records', () => {
  const config = loadConfig({ env: {}, flags: { home: '/tmp/unused', alerting: { sinks: { hook: { type: 'webhook', url: 'https://h.example/x' } }, routes: { risk: { page: ['hook'] } } } } });
  assert.equal(config.alerting.sinks.hook!.timeoutMs, 5000);
  assert.deepEqual(config.alerting.routes.risk, { page: ['hook'], ticket: [], escalate: [] });
  assert.deepEqual(config.alerting.ackDeadline, { SEV1: '5m', SEV2: '30m', SEV3: '3d' });
  assert.equal(config.alerting.retry.maxAttempts, 8);
});
