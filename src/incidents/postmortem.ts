// The postmortem draft written when an incident is resolved: Markdown from the facts the store holds (the
// timeline, the SLI over the incident, the error budget it spent, the versions and actions), plus the
// questions only people can answer. Pure: the service gathers the input.
import type { AlertSeverity } from '../store/tables.js';

/** One line of an incident's timeline, whatever it comes from. */
export interface TimelineEntry {
  /** ISO 8601 UTC. */
  at: string;
  /** alert, alert.resolved, ack, resolve, rollback, fallback, freeze, …; audit actions as written (rollout.start); traffic.<action>. */
  kind: string;
  summary: string;
  actor: string;
  /** incident: the incident's own events; audit: the audit log; alert: an alert of the deployment not part of the incident; traffic: the traffic ledger. */
  source: 'incident' | 'audit' | 'alert' | 'traffic';
  /** The model versions this entry names. */
  versions: number[];
  details: Record<string, unknown>;
}

export interface IncidentFacts {
  id: number;
  title: string;
  deployment: string | null;
  severity: AlertSeverity;
  status: 'open' | 'acknowledged' | 'resolved';
  openedAt: string;
  ackedAt: string | null;
  ackedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

/** Counts of one SLO's events between the incident's opening and its resolution. */
export interface SpanCounts {
  total: number;
  good: number;
  bad: number;
  /** good / total; null without traffic. */
  sli: number | null;
}

export interface SloImpact {
  name: string;
  sli: string;
  objective: number;
  window: string;
  /** Null when this SLI is not computed from the store's counts. */
  span: SpanCounts | null;
  /** Bad events the budget allows over the SLO window now (error budget × events in the window); null when unknown. */
  allowedBad: number | null;
  /** span.bad / allowedBad: the share of the window's budget the incident spent; null when unknown. */
  consumed: number | null;
  /** The share of the budget left now (negative when overspent); null when unknown. */
  remaining: number | null;
  notes: string[];
}

export interface PostmortemInput {
  incident: IncidentFacts;
  timeline: TimelineEntry[];
  /** Null when SLOs could not be read (no SLO service). */
  slos: SloImpact[] | null;
  /** When the draft was written (ISO). */
  generatedAt: string;
}

const ALERT_KINDS = new Set(['alert', 'alert.resolved']);

/** Every version the incident's alerts, rollouts and traffic changes name, ascending. */
export function versionsInvolved(timeline: readonly TimelineEntry[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const e of timeline) {
    for (const v of e.versions) {
      const kinds = out.get(v) ?? [];
      if (!kinds.includes(e.kind)) kinds.push(e.kind);
      out.set(v, kinds);
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/** What people and Modelgate did from the opening on: everything but alerts and SLO edits. */
export function actionsTaken(incident: Pick<IncidentFacts, 'openedAt'>, timeline: readonly TimelineEntry[]): TimelineEntry[] {
  return timeline.filter((e) => e.at >= incident.openedAt && !ALERT_KINDS.has(e.kind) && !e.kind.startsWith('slo.') && e.kind !== 'note');
}

/** Automatic: done by Modelgate itself (system:… actors), not by a person or a key. */
export function isAutomatic(e: Pick<TimelineEntry, 'actor'>): boolean {
  return e.actor.startsWith('system:');
}

export function renderPostmortem(input: PostmortemInput): string {
  const { incident: i, timeline } = input;
  const end = i.resolvedAt ?? input.generatedAt;
  const out: string[] = [];
  out.push(`# Postmortem: ${oneLine(i.title)}`, '');
  out.push(
    i.resolvedAt
      ? `_Draft written by Modelgate when incident #${i.id} was resolved (${iso(input.generatedAt)}). The sections up to "Actions taken" hold what the store recorded; complete the open questions._`
      : `_Draft for incident #${i.id}, which is still ${i.status} (${iso(input.generatedAt)}); it is rewritten when the incident is resolved._`,
    '',
  );

  out.push('## Summary', '');
  out.push('| | |', '| --- | --- |');
  out.push(`| Incident | #${i.id} |`);
  out.push(`| Deployment | ${cell(i.deployment ?? '(none: a platform alert)')} |`);
  out.push(`| Severity | ${i.severity} |`);
  out.push(`| Opened | ${iso(i.openedAt)} |`);
  if (i.ackedAt) out.push(`| Acknowledged | ${iso(i.ackedAt)}${i.ackedBy ? ` by ${cell(i.ackedBy)}` : ''} (after ${duration(ms(i.ackedAt) - ms(i.openedAt))}) |`);
  out.push(`| Resolved | ${i.resolvedAt ? `${iso(i.resolvedAt)}${i.resolvedBy ? ` by ${cell(i.resolvedBy)}` : ''}` : `not yet (${i.status})`} |`);
  out.push(`| Duration | ${duration(ms(end) - ms(i.openedAt))}${i.resolvedAt ? '' : ' so far'} |`);
  if (i.resolution) out.push(`| Resolution | ${cell(i.resolution)} |`);
  out.push('');

  out.push('## Timeline', '');
  if (timeline.length === 0) out.push('Nothing was recorded.', '');
  else {
    out.push('| Time (UTC) | Event | What happened | By |', '| --- | --- | --- | --- |');
    for (const e of timeline) out.push(`| ${iso(e.at)} | ${cell(e.kind)} | ${cell(e.summary)} | ${cell(e.actor)} |`);
    out.push('');
  }

  out.push('## SLI impact', '');
  if (input.slos === null) out.push('The SLOs could not be read when this draft was written.', '');
  else if (input.slos.length === 0) out.push(`No SLO covers ${i.deployment === null ? 'this incident' : `deployment ${i.deployment}`}, so there is no SLI to report. Consider adding one (\`modelgate slo apply -f\`).`, '');
  else {
    out.push(`Between ${iso(i.openedAt)} and ${iso(end)}, replicas added up (the gateway counts per minute, so the minutes the incident opened and ended in count whole):`, '');
    out.push('| SLO | SLI | Objective | Events | Bad | SLI during the incident |', '| --- | --- | --- | --- | --- | --- |');
    for (const s of input.slos) {
      if (s.span === null) out.push(`| ${cell(s.name)} | ${s.sli} | ${pct(s.objective)} | - | - | not computed from the store |`);
      else out.push(`| ${cell(s.name)} | ${s.sli} | ${pct(s.objective)} | ${s.span.total} | ${s.span.bad} | ${s.span.sli === null ? 'no traffic' : pct(s.span.sli)}${s.span.sli !== null && s.span.sli < s.objective ? ' (below objective)' : ''} |`);
    }
    out.push('');
    for (const s of input.slos) for (const n of s.notes) out.push(`- ${s.name}: ${n}`);
    if (input.slos.some((s) => s.notes.length > 0)) out.push('');
  }

  out.push('## Error budget', '');
  if (input.slos === null || input.slos.length === 0) out.push('No error budget to report.', '');
  else {
    out.push('| SLO | Window | Allowed bad events | Spent by the incident | Budget left now |', '| --- | --- | --- | --- | --- |');
    for (const s of input.slos) {
      const spent = s.consumed === null ? '-' : `${pct(s.consumed)} (${s.span?.bad ?? 0} bad events)`;
      out.push(`| ${cell(s.name)} | ${s.window} | ${s.allowedBad === null ? '-' : round(s.allowedBad)} | ${spent} | ${s.remaining === null ? '-' : pct(s.remaining)}${s.remaining !== null && s.remaining < 0 ? ' (overspent)' : ''} |`);
    }
    out.push('');
    for (const s of input.slos) {
      if (s.consumed !== null) out.push(`- ${s.name}: the incident spent ${pct(s.consumed)} of the ${s.window} error budget${s.remaining !== null ? `; ${pct(s.remaining)} is left` : ''}.`);
    }
    if (input.slos.some((s) => s.consumed !== null)) out.push('');
  }

  out.push('## Versions involved', '');
  const versions = versionsInvolved(timeline);
  if (versions.size === 0) out.push('No version is named by the alerts, rollouts or traffic changes.', '');
  else {
    for (const [v, kinds] of versions) out.push(`- ${i.deployment ?? 'version'} v${v} (named by ${kinds.join(', ')})`);
    out.push('');
  }

  out.push('## Actions taken', '');
  const actions = actionsTaken(i, timeline);
  if (actions.length === 0) out.push('No action was recorded after the incident opened.', '');
  else {
    for (const a of actions) out.push(`- ${iso(a.at)} ${a.kind} (${isAutomatic(a) ? 'automatic' : 'manual'}, ${oneLine(a.actor)}): ${oneLine(a.summary)}`);
    out.push('');
  }

  out.push('## Open questions', '');
  const firstAlert = timeline.find((e) => e.kind === 'alert');
  const changesBefore = timeline.filter((e) => e.at <= i.openedAt && !ALERT_KINDS.has(e.kind) && e.source !== 'incident');
  const automatic = actions.filter(isAutomatic).length;
  out.push(
    `- Root cause: what made ${i.deployment ?? 'the platform'} fail?${changesBefore.length > 0 ? ` The last change before the incident opened was ${changesBefore[changesBefore.length - 1]!.kind} at ${iso(changesBefore[changesBefore.length - 1]!.at)}.` : ' No change to the deployment was recorded in the hour before it opened.'}`,
    `- Detection: ${firstAlert ? `the first alert fired at ${iso(firstAlert.at)}.` : 'no alert is in the timeline.'} When did the problem actually start, and could it have been detected sooner?`,
    `- Safeguards: ${automatic > 0 ? `Modelgate acted on its own ${automatic} time${automatic === 1 ? '' : 's'} (see Actions taken).` : 'no automatic action (rollback, fallback, freeze) was recorded.'} Why did the rollout analysis, fallbacks and freezes act, or not act, as they did?`,
    '- Impact: who was affected, and beyond the SLI numbers, how?',
    '- Follow-ups: what changes (alerts, SLOs, tests, runbooks) would prevent this or shorten it, and who owns each?',
    '',
  );
  return out.join('\n');
}

function ms(t: string): number {
  return Date.parse(t);
}

function iso(t: string): string {
  const n = Date.parse(t);
  return Number.isNaN(n) ? t : new Date(n).toISOString();
}

/** 1h 5m 3s; 0s for nothing. */
export function duration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '-';
  let s = Math.round(milliseconds / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m ? `${m}m` : '', s || (!d && !h && !m) ? `${s}s` : ''].filter(Boolean);
  return parts.join(' ');
}

function pct(x: number): string {
  const v = x * 100;
  return `${Number(v.toFixed(Math.abs(v) >= 10 ? 2 : 3))}%`;
}

function round(x: number): string {
  return String(Number(x.toFixed(2)));
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** A table cell: one line, pipes escaped. */
function cell(s: string): string {
  return oneLine(s).replace(/\|/g, '\\|');
}
