// The pure decisions of alerting: which condition an alert is (its fingerprint), where its notifications go,
// and whether a silence holds them back. The alert manager does the I/O around them.
import { createHash } from 'node:crypto';
import { routingOf, type AlertSeverity, type AlertSignal, type AlertSource, type DeliveryInfo, type SilenceMatchers } from './types.js';

/** The sink every alert is written to, whatever the routes say; it cannot fail. */
export const LOG_SINK = 'log';

export interface RouteSinks {
  page: readonly string[];
  ticket: readonly string[];
  escalate: readonly string[];
}

/**
 * Source, deployment, version and key hashed: the same condition seen again is the same alert. The fields are
 * JSON-encoded so that no value can smuggle a separator into its neighbour ("a|b" + "c" ≠ "a" + "b|c").
 */
export function fingerprintOf(s: Pick<AlertSignal, 'source' | 'deployment' | 'version' | 'key'>): string {
  return createHash('sha256').update(JSON.stringify([s.source, s.deployment ?? null, s.version ?? null, s.key ?? ''])).digest('hex').slice(0, 20);
}

export function groupKeyOf(deployment: string | null, version: number | null): string {
  return `${deployment ?? '-'}/${version ?? '-'}`;
}

/** SEV1 is the most severe: a lower rank is more severe. */
export function severityRank(s: AlertSeverity): number {
  return Number(s.slice(3));
}

/**
 * The sinks told about an alert's event. A trigger goes to the route's page or ticket sinks by severity
 * (SEV4 only to the log), an escalation to the route's escalate sinks; the log sink always gets it. An
 * unknown route (its team's route was removed from the configuration) still reaches the log.
 */
export function sinksFor(route: RouteSinks | undefined, event: Extract<DeliveryInfo['event'], 'trigger' | 'escalate'>, severity: AlertSeverity): string[] {
  let sinks: readonly string[] = [];
  if (event === 'escalate') sinks = route?.escalate ?? [];
  else {
    const routing = routingOf(severity);
    sinks = routing === 'page' ? (route?.page ?? []) : routing === 'ticket' ? (route?.ticket ?? []) : [];
  }
  return [...new Set([...sinks, LOG_SINK])];
}

/** An absent matcher matches anything; an alert without a deployment never matches a deployment matcher. */
export function silenceMatches(m: SilenceMatchers, a: { deployment: string | null; source: AlertSource | string; severity: AlertSeverity }): boolean {
  return (m.deployment === undefined || m.deployment === a.deployment) && (m.source === undefined || m.source === a.source) && (m.severity === undefined || m.severity === a.severity);
}

/** Active at `at` (ISO time): started, not yet ended. A maintenance window scheduled for later is not active yet. */
export function silenceActive(s: { startsAt: string; endsAt: string }, at: string): boolean {
  return s.startsAt <= at && at < s.endsAt;
}
