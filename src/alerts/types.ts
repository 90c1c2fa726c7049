// The nouns of alerting, shared by the alert manager (src/alerts), the evaluator that raises alerts from SLOs
// and the other sources (src/slo/slo-watcher.ts) and incidents (src/incidents).
import type { AlertSeverity } from '../store/tables.js';

export type { AlertSeverity };
export const SEVERITIES: readonly AlertSeverity[] = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];

/** What raised an alert. Each source has a default severity (DEFAULT_SEVERITY); a signal may override it. */
export type AlertSource =
  | 'slo_fast_burn' // page row 1 (14.4x over 1h and 5m), or an outage
  | 'slo_slow_burn' // page row 2 (6x over 6h and 30m)
  | 'slo_burn_ticket' // the ticket rows (3x over 1d/2h, 1x over 3d/6h)
  | 'budget_low' // less than alerting.budgetLowTicket of the budget left
  | 'budget_exhausted'
  | 'personal_data_in_log'
  | 'fairness_breach'
  | 'error_rate'
  | 'rollout_failed'
  | 'records_lost'
  | 'drift'
  | 'latency'
  | 'threshold_approached';

export const DEFAULT_SEVERITY: Readonly<Record<AlertSource, AlertSeverity>> = Object.freeze({
  slo_fast_burn: 'SEV1',
  personal_data_in_log: 'SEV1',
  slo_slow_burn: 'SEV2',
  fairness_breach: 'SEV2',
  error_rate: 'SEV2',
  rollout_failed: 'SEV2',
  records_lost: 'SEV2',
  budget_exhausted: 'SEV2',
  slo_burn_ticket: 'SEV3',
  budget_low: 'SEV3',
  drift: 'SEV3',
  latency: 'SEV3',
  threshold_approached: 'SEV4',
});

/** SEV1/SEV2 page, SEV3 makes a ticket, SEV4 is logged for the weekly review. */
export type Routing = 'page' | 'ticket' | 'log';
export function routingOf(severity: AlertSeverity): Routing {
  return severity === 'SEV1' || severity === 'SEV2' ? 'page' : severity === 'SEV3' ? 'ticket' : 'log';
}

/** A condition seen now. Raising the same signal again updates the open alert (same fingerprint). */
export interface AlertSignal {
  source: AlertSource;
  /** Default: DEFAULT_SEVERITY[source]. */
  severity?: AlertSeverity;
  deployment: string | null;
  version: number | null;
  /** Part of the fingerprint beyond source/deployment/version, e.g. the SLO name. */
  key?: string;
  summary: string;
  details?: Record<string, unknown>;
}

export interface AlertInfo {
  id: number;
  fingerprint: string;
  source: AlertSource;
  severity: AlertSeverity;
  deployment: string | null;
  version: number | null;
  groupKey: string;
  summary: string;
  details: Record<string, unknown>;
  route: string;
  status: 'firing' | 'acknowledged' | 'resolved';
  suppressedBy: string | null;
  occurrences: number;
  openedAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  ackDeadline: string | null;
  ackedBy: string | null;
  ackedAt: string | null;
  escalatedAt: string | null;
  incidentId: number | null;
}

export interface DeliveryInfo {
  id: number;
  alertId: number;
  sink: string;
  event: 'trigger' | 'acknowledge' | 'resolve' | 'escalate';
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  responseStatus: number | null;
  createdAt: string;
  deliveredAt: string | null;
}

export interface SilenceMatchers {
  deployment?: string;
  source?: AlertSource;
  severity?: AlertSeverity;
}

export interface SilenceInfo {
  id: number;
  kind: 'silence' | 'maintenance';
  matchers: SilenceMatchers;
  reason: string;
  createdBy: string;
  createdAt: string;
  startsAt: string;
  endsAt: string;
  active: boolean;
}

/** One alert with every notification made for it, oldest first. */
export interface AlertDetail extends AlertInfo {
  deliveries: DeliveryInfo[];
}

export interface AlertListFilter {
  /** open (default): firing or acknowledged; all: resolved too. */
  status?: 'open' | 'all' | 'firing' | 'acknowledged' | 'resolved';
  deployment?: string;
  severity?: AlertSeverity;
  /** Default 100, at most 1000; newest first. */
  limit?: number;
}

/** A silence to create: matchers (or all), a reason, and when it holds: a duration or an end, from now or a start. */
export interface SilenceInput {
  /** A maintenance window may start in the future; a silence starts now (or started earlier). Default silence. */
  kind?: 'silence' | 'maintenance';
  matchers?: SilenceMatchers;
  /** Silence every alert: required when no matcher is given, so that nobody silences everything by accident. */
  all?: boolean;
  reason: string;
  durationMs?: number;
  /** ISO 8601; default now. */
  startsAt?: string;
  /** ISO 8601; instead of durationMs. */
  endsAt?: string;
}
