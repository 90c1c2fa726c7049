// Where notifications go, described as data: the configured sinks checked once, and for each sink type the
// HTTP request an alert event becomes (pure: no clock, no network), plus the retry schedule of deliveries.
//
// Receivers of the generic webhook verify it like this (verifySignature below does exactly this):
//   1. read the headers x-modelgate-timestamp (unix seconds) and x-modelgate-signature ("sha256=<hex>");
//   2. refuse the request when the timestamp is more than a few minutes from the receiver's clock (replays);
//   3. compute hex(HMAC-SHA256(secret, `${timestamp}.${rawBody}`)) over the raw body bytes as received (not a
//      re-serialised JSON object) and compare it with the header's hex in constant time.
// x-modelgate-delivery (also `deliveryId` in the signed body) is the same on every retry of one notification,
// so a receiver can drop duplicates.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import { parseDuration } from '../rollout/duration.js';
import { LOG_SINK, type RouteSinks } from './routing.js';
import { SEVERITIES, type AlertInfo, type AlertSeverity, type DeliveryInfo } from './types.js';

export type AlertingConfig = Config['alerting'];
export type SinkConfig = AlertingConfig['sinks'][string];
export type SinkType = SinkConfig['type'];
export type AlertEvent = DeliveryInfo['event'];

export const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';
/** PagerDuty refuses a summary longer than this. */
export const PAGERDUTY_SUMMARY_MAX = 1024;

/** A sink as the manager uses it: its name, and the default timeout filled in. */
export interface Sink extends Omit<SinkConfig, 'timeoutMs'> {
  name: string;
  timeoutMs: number;
}

export interface SinkRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What a notification is about beyond the alert: the event, when it is sent, and the delivery's id. */
export interface NotificationContext {
  event: AlertEvent;
  deliveryId: number;
  /** Milliseconds since the epoch. */
  sentAt: number;
}

export interface CheckedAlerting {
  sinks: Map<string, Sink>;
  routes: Record<string, RouteSinks>;
  /** Milliseconds an alert may stay unacknowledged, by severity; SEV4 is never escalated. */
  ackDeadlineMs: Partial<Record<AlertSeverity, number>>;
}

function configError(message: string): ModelgateError {
  return new ModelgateError('MG_ERR_CONFIG_INVALID', `Invalid configuration: ${message}`);
}

/**
 * Checks the sinks and routes and returns them ready to use, with the `log` sink added. Secrets held in
 * environment variables are not required to be set here: the CLI reads the same file without them, and a
 * notification to a sink whose variable is missing fails with a message naming the variable.
 */
export function checkAlertingConfig(alerting: AlertingConfig): CheckedAlerting {
  const sinks = new Map<string, Sink>();
  sinks.set(LOG_SINK, { name: LOG_SINK, type: 'log', timeoutMs: 1000 });
  for (const [name, s] of Object.entries(alerting.sinks ?? {})) {
    const at = `alerting.sinks.${name}`;
    if (name === LOG_SINK && s.type !== 'log') throw configError(`${at}: the sink named "log" is the built-in log sink; give this ${s.type} sink another name.`);
    if (s.type === 'webhook' || s.type === 'slack' || s.type === 'pagerduty') {
      if (s.url === undefined && s.type !== 'pagerduty') throw configError(`${at}.url is required for a ${s.type} sink.`);
      if (s.url !== undefined) {
        let u: URL;
        try {
          u = new URL(s.url);
        } catch {
          throw configError(`${at}.url is not a URL; use https://… (or http://… on a trusted network).`);
        }
        if (u.protocol !== 'https:' && u.protocol !== 'http:') throw configError(`${at}.url must be an http:// or https:// URL, not ${u.protocol}.`);
      }
    }
    if (s.type === 'pagerduty' && !s.routingKey && !s.routingKeyEnv) throw configError(`${at}: a pagerduty sink needs routingKey or routingKeyEnv (the Events API v2 integration key).`);
    sinks.set(name, { ...s, name, timeoutMs: s.timeoutMs ?? 5000 });
  }
  const routes: Record<string, RouteSinks> = {};
  for (const [team, r] of Object.entries(alerting.routes ?? {})) {
    const route = { page: r.page ?? [], ticket: r.ticket ?? [], escalate: r.escalate ?? [] };
    for (const kind of ['page', 'ticket', 'escalate'] as const) {
      route[kind].forEach((sink, i) => {
        if (!sinks.has(sink)) throw configError(`alerting.routes.${team}.${kind}[${i}] names sink "${sink}", which is not defined; define it under alerting.sinks or remove it.`);
      });
    }
    routes[team] = route;
  }
  const ackDeadlineMs: Partial<Record<AlertSeverity, number>> = {};
  for (const sev of ['SEV1', 'SEV2', 'SEV3'] as const) {
    const raw = alerting.ackDeadline?.[sev];
    if (raw === undefined) continue;
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) throw configError(`alerting.ackDeadline.${sev} must be a duration such as 5m, 30m or 3d, got ${JSON.stringify(raw)}.`);
    ackDeadlineMs[sev] = ms;
  }
  return { sinks, routes, ackDeadlineMs };
}

/** The webhook's HMAC key: the configured one, or the environment variable named. */
export function webhookSecret(sink: Pick<SinkConfig, 'secret' | 'secretEnv'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return sink.secret ?? (sink.secretEnv ? env[sink.secretEnv] || undefined : undefined);
}

export function pagerdutyRoutingKey(sink: Pick<SinkConfig, 'routingKey' | 'routingKeyEnv'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return sink.routingKey ?? (sink.routingKeyEnv ? env[sink.routingKeyEnv] || undefined : undefined);
}

// ── generic webhook ─────────────────────────────────────────────────────────

export function signWebhook(secret: string, timestamp: string | number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers: whether a webhook request is genuine and recent. `body` must be the raw request body;
 * `header` the x-modelgate-signature value; `timestamp` the x-modelgate-timestamp value.
 */
export function verifySignature(secret: string, timestamp: string | number | undefined, body: string, header: string | undefined, toleranceSec = 300, nowSec = Date.now() / 1000): boolean {
  if (timestamp === undefined || header === undefined) return false;
  const ts = Number(timestamp);
  if (!/^\d+$/.test(String(timestamp)) || !Number.isSafeInteger(ts) || Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from(signWebhook(secret, String(timestamp), body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function webhookRequest(url: string, alert: AlertInfo, n: NotificationContext, secret: string | undefined): SinkRequest {
  const timestamp = String(Math.floor(n.sentAt / 1000));
  const body = JSON.stringify({ version: 1, event: n.event, deliveryId: n.deliveryId, alert, group: alert.groupKey, sentAt: new Date(n.sentAt).toISOString() });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'modelgate-alerts/1',
    'x-modelgate-event': n.event,
    'x-modelgate-delivery': String(n.deliveryId),
    'x-modelgate-timestamp': timestamp,
  };
  if (secret !== undefined) headers['x-modelgate-signature'] = signWebhook(secret, timestamp, body);
  return { url, headers, body };
}

// ── Slack-compatible incoming webhook ───────────────────────────────────────

const HEADLINE: Record<AlertEvent, string> = { trigger: 'FIRING', acknowledge: 'ACKNOWLEDGED', resolve: 'RESOLVED', escalate: 'ESCALATED (not acknowledged in time)' };

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `weather@2`, `weather`, or `no deployment`. */
export function whereOf(a: Pick<AlertInfo, 'deployment' | 'version'>): string {
  if (a.deployment === null) return 'no deployment';
  return a.version === null ? a.deployment : `${a.deployment}@${a.version}`;
}

// Slack reads `text` as mrkdwn: `<…>` would be a link or an @channel mention, so the three are escaped.
const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const plain = (text: string, max = 2000) => ({ type: 'plain_text', text: truncate(text, max), emoji: false });

export function slackRequest(url: string, alert: AlertInfo, n: NotificationContext): SinkRequest {
  const headline = `[${alert.severity}] ${HEADLINE[n.event]}: ${whereOf(alert)}`;
  const fields = [
    plain(`Severity: ${alert.severity}`),
    plain(`Deployment: ${whereOf(alert)}`),
    plain(`Source: ${alert.source}`),
    plain(`Occurrences: ${alert.occurrences}`),
    ...(alert.ackedBy ? [plain(`Acknowledged by: ${alert.ackedBy}`)] : []),
  ];
  const body = {
    // The notification text (and what clients without blocks show): plain, with no links.
    text: slackEscape(truncate(`${headline}: ${alert.summary}`, 3000)),
    blocks: [
      { type: 'header', text: plain(headline, 150) },
      { type: 'section', text: plain(alert.summary, 3000) },
      { type: 'section', fields },
      { type: 'context', elements: [plain(`alert ${alert.id} · ${alert.groupKey} · ${alert.source} · opened ${alert.openedAt}`)] },
    ],
  };
  return { url, headers: { 'content-type': 'application/json', 'user-agent': 'modelgate-alerts/1' }, body: JSON.stringify(body) };
}

// ── PagerDuty Events API v2 ─────────────────────────────────────────────────

export const PAGERDUTY_SEVERITY: Readonly<Record<AlertSeverity, 'critical' | 'error' | 'warning' | 'info'>> = Object.freeze({ SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' });

/**
 * An event for /v2/enqueue. The dedup_key is the alert's fingerprint, so acknowledge and resolve reach the
 * PagerDuty alert the trigger opened. PagerDuty has no escalate action: an escalation is a trigger (to the
 * escalate route's sink, typically another service), which carries the payload a trigger needs.
 */
export function pagerdutyRequest(url: string | undefined, routingKey: string, alert: AlertInfo, n: NotificationContext): SinkRequest {
  const action = n.event === 'escalate' ? 'trigger' : n.event;
  const summary = n.event === 'escalate' ? `[escalated: not acknowledged in time] ${alert.summary}` : alert.summary;
  const body: Record<string, unknown> = { routing_key: routingKey, event_action: action, dedup_key: alert.fingerprint };
  if (action === 'trigger') {
    body.client = 'Modelgate';
    body.payload = {
      summary: truncate(`[${alert.severity}] ${whereOf(alert)}: ${summary}`, PAGERDUTY_SUMMARY_MAX),
      source: alert.deployment === null ? 'modelgate' : `modelgate/${alert.groupKey}`,
      severity: PAGERDUTY_SEVERITY[alert.severity],
      timestamp: alert.lastSeenAt,
      ...(alert.deployment !== null ? { component: alert.deployment } : {}),
      group: alert.groupKey,
      class: alert.source,
      custom_details: { ...alert.details, alert_id: alert.id, modelgate_severity: alert.severity, version: alert.version, occurrences: alert.occurrences, route: alert.route, opened_at: alert.openedAt },
    };
  }
  return { url: url ?? PAGERDUTY_URL, headers: { 'content-type': 'application/json', 'user-agent': 'modelgate-alerts/1' }, body: JSON.stringify(body) };
}

// ── log ─────────────────────────────────────────────────────────────────────

/** The fields of the log sink's line. An alert holds no secrets, so all of it can be logged. */
export function logFields(alert: AlertInfo, n: Pick<NotificationContext, 'event'>): Record<string, unknown> {
  return {
    event: n.event,
    alert: { id: alert.id, fingerprint: alert.fingerprint, severity: alert.severity, source: alert.source, deployment: alert.deployment, version: alert.version, group: alert.groupKey, summary: alert.summary, status: alert.status, occurrences: alert.occurrences, route: alert.route, details: alert.details },
  };
}

// ── retries ─────────────────────────────────────────────────────────────────

/**
 * The wait before the next try after `failures` failed tries (1 after the first): full jitter, a uniform
 * draw in [0, min(max, initial · 2^(failures-1))], so replicas retrying after the same outage spread out.
 */
export function backoffMs(failures: number, retry: Pick<AlertingConfig['retry'], 'initialBackoffMs' | 'maxBackoffMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** Math.min(Math.max(failures - 1, 0), 40));
  return Math.floor(random() * ceiling);
}

/** 4xx answers other than timeouts and rate limits mean the request itself is wrong: retrying cannot help. */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429;
}

/** Removes every secret part of a sink (its key, its URL, the URL's path and query) from a message. */
export function redactSecrets(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

export function isSeverity(s: unknown): s is AlertSeverity {
  return typeof s === 'string' && (SEVERITIES as readonly string[]).includes(s);
}
