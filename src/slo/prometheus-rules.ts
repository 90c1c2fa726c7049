// Prometheus recording and alerting rules for SLOs, in the manner of Sloth: one error-ratio series per
// window, the objective and budget as series, and multiwindow multi-burn-rate alerts on top of them.
//
// What each SLI is built from (the metrics the gateway exports):
// - availability: bad = modelgate_deployment_requests_total{outcome="error"} (5xx on an arm) plus answers
//   given while the deployment was switched to its fallback or sent there on data quality
//   (modelgate_deployment_degraded_total{cause=~"switch|data_quality"}); with degradedCountsAsBad false, minus the arm failures the fallback chain answered
//   (cause="failure"). total = outcome ok + error, plus the switched answers. 4xx are left out.
// - latency: the request-duration histogram, model label = the deployment name; good = the bucket whose
//   `le` is thresholdMs / 1000 (hence thresholdMs must be a bucket bound), total = _count. Counts every
//   answered request, 4xx included, across all of the model's versions.
// - drift_free, accuracy: gauges, so the SLI is time-based: an instant 0/1 "bad now" series
//   (dataset drift on any version; labelled accuracy of the worst version below minAccuracy), averaged over
//   each window. No sample (the monitor loop has not evaluated yet) is no data, not good time.
// - fallback_rate: bad = every degraded answer (modelgate_deployment_degraded_total), over the same total.
import { stringify } from 'yaml';
import { formatDuration } from '../rollout/duration.js';
import { latencyBucket, type SloSpec } from './slo-spec.js';

export interface RulesOptions {
  /** Prefix of the gateway's metric names. Default 'modelgate_' (as createMetrics). */
  metricPrefix?: string;
  /** Evaluation interval of the rule groups; default: Prometheus' global one. */
  interval?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: (RecordingRule | AlertingRule)[];
}

export interface RulePlan {
  groups: RuleGroup[];
  /** SLOs no rules could be generated for, and why. */
  skipped: { slo: string; reason: string }[];
}

export const PAGE_ALERT = 'ModelgateSloPageBurn';
export const TICKET_ALERT = 'ModelgateSloTicketBurn';
export const BUDGET_LOW_ALERT = 'ModelgateSloBudgetLow';

/** Windows the standard alerting table reads, always recorded so dashboards find them for every SLO. */
const STANDARD_WINDOWS_MS = [5, 30, 60, 120, 360, 1440, 4320].map((m) => m * 60_000);
const FIVE_MINUTES = 5 * 60_000;

/** The rule groups for a set of SLOs: one group per SLO, recordings before the alerts that read them. */
export function planRules(slos: readonly SloSpec[], opts: RulesOptions = {}): RulePlan {
  const prefix = opts.metricPrefix ?? 'modelgate_';
  const groups: RuleGroup[] = [];
  const skipped: RulePlan['skipped'] = [];
  for (const slo of slos) {
    const source = sliSource(slo, prefix);
    if ('reason' in source) {
      skipped.push({ slo: slo.name, reason: source.reason });
      continue;
    }
    const labels = { slo: slo.name, deployment: slo.deployment };
    const sel = `{slo=${quote(slo.name)}}`;
    const rules: (RecordingRule | AlertingRule)[] = [];
    const rows = [...slo.alerting.page, ...slo.alerting.ticket];
    const windows = [...new Set([...STANDARD_WINDOWS_MS, ...rows.flatMap((r) => [r.longMs, r.shortMs])])].filter((w) => w < slo.windowMs).sort((a, b) => a - b);
    const ratio = (ms: number) => `slo:sli_error:ratio_rate${formatDuration(ms)}`;

    if (source.kind === 'events') {
      for (const w of windows) rules.push({ record: ratio(w), expr: source.errorRatio(formatDuration(w)), labels });
      // Like Sloth: the long SLO window averages the 5m ratio instead of a 28d rate over raw counters, which
      // is far cheaper; it weighs every 5 minutes alike rather than every request.
      rules.push({ record: ratio(slo.windowMs), expr: `avg_over_time(${ratio(FIVE_MINUTES)}${sel}[${formatDuration(slo.windowMs)}])`, labels });
    } else {
      // Rules of a group run in order, so the windows below read this evaluation's instant sample.
      rules.push({ record: 'slo:sli_error:instant', expr: source.instant, labels });
      for (const w of [...windows, slo.windowMs]) rules.push({ record: ratio(w), expr: `avg_over_time(slo:sli_error:instant${sel}[${formatDuration(w)}])`, labels });
    }

    const budget = num(slo.errorBudget);
    rules.push({ record: 'slo:objective:ratio', expr: `vector(${num(slo.objective)})`, labels });
    rules.push({ record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels });
    rules.push({ record: 'slo:error_budget_remaining:ratio', expr: `1 - (${ratio(slo.windowMs)}${sel} / ${budget})`, labels });

    const objective = `${num(roundPercent(slo.objective))}% over ${slo.window}`;
    for (const [severity, alert] of [['page', PAGE_ALERT], ['ticket', TICKET_ALERT]] as const) {
      const sevRows = slo.alerting[severity];
      if (sevRows.length === 0) continue;
      const terms = sevRows.map((r) => {
        const factor = `(${num(r.burnRate)} * ${budget})`;
        const term = `(${ratio(r.longMs)}${sel} > ${factor}) and (${ratio(r.shortMs)}${sel} > ${factor})`;
        return sevRows.length > 1 ? `(${term})` : term;
      });
      rules.push({
        alert,
        expr: terms.join(' or '),
        labels: { severity, ...labels },
        annotations: {
          summary: `SLO ${slo.name} (deployment ${slo.deployment}) is burning its error budget ${severity === 'page' ? 'fast' : 'steadily'}.`,
          description: `Objective ${objective}. Fires when both windows of a row burn faster than its rate: ${sevRows.map((r) => `${num(r.burnRate)}x over ${formatDuration(r.longMs)} and ${formatDuration(r.shortMs)}`).join('; ')}.`,
        },
      });
    }
    rules.push({
      alert: BUDGET_LOW_ALERT,
      expr: `slo:error_budget_remaining:ratio${sel} < ${num(slo.alerting.budgetLowTicket)}`,
      labels: { severity: 'ticket', ...labels },
      annotations: {
        summary: `SLO ${slo.name} (deployment ${slo.deployment}) has less than ${num(roundPercent(slo.alerting.budgetLowTicket))}% of its error budget left.`,
        description: `Objective ${objective}. Slow down risky changes until the budget recovers.`,
      },
    });
    groups.push({ name: `modelgate-slo-${slo.name}`, ...(opts.interval ? { interval: opts.interval } : {}), rules });
  }
  return { groups, skipped };
}

/** A Prometheus rules file (`groups:`) for the SLOs, ready for `rule_files` and `promtool check rules`. */
export function generateRules(slos: readonly SloSpec[], opts: RulesOptions = {}): string {
  const { groups, skipped } = planRules(slos, opts);
  const header = ['# Generated by modelgate from SLO files; regenerate rather than edit.', ...skipped.map((s) => `# No rules for SLO ${s.slo}: ${s.reason}`)];
  return `${header.join('\n')}\n${stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

type SliSource = { kind: 'events'; errorRatio: (window: string) => string } | { kind: 'time'; instant: string } | { reason: string };

function sliSource(slo: SloSpec, prefix: string): SliSource {
  const d = quote(slo.deployment);
  const sli = slo.sli;
  switch (sli.type) {
    case 'availability': {
      const requests = `${prefix}deployment_requests_total`;
      const degraded = `${prefix}deployment_degraded_total`;
      return {
        kind: 'events',
        errorRatio: (w) => {
          // `or vector(0)`: a counter with no error yet has no series, which would make the ratio vanish, not 0.
          const errors = `(sum(rate(${requests}{deployment=${d},outcome="error"}[${w}])) or vector(0))`;
          const switched = `(sum(rate(${degraded}{deployment=${d},cause=~"switch|data_quality"}[${w}])) or vector(0))`;
          const rescued = `(sum(rate(${degraded}{deployment=${d},cause="failure"}[${w}])) or vector(0))`;
          // An arm's failure the fallback chain answered is an error on the arm and a degraded answer: bad
          // unless degradedCountsAsBad is false. Answers given while switched to fallback reach no arm; those
          // sent there on data quality count as the arm's client errors; both are added here.
          const bad = slo.degradedCountsAsBad ? `${errors} + ${switched}` : `${errors} - ${rescued}`;
          return `(${bad}) / (sum(rate(${requests}{deployment=${d},outcome=~"ok|error"}[${w}])) + ${switched})`;
        },
      };
    }
    case 'latency': {
      const le = latencyBucket(sli.thresholdMs);
      if (le === undefined) return { reason: `thresholdMs ${sli.thresholdMs} is not a request-duration histogram bucket` };
      const h = `${prefix}inference_request_duration_seconds`;
      return {
        kind: 'events',
        errorRatio: (w) => `(sum(rate(${h}_count{model=${d}}[${w}])) - sum(rate(${h}_bucket{model=${d},le=${quote(String(le))}}[${w}]))) / sum(rate(${h}_count{model=${d}}[${w}]))`,
      };
    }
    case 'drift_free':
      return { kind: 'time', instant: `max(${prefix}dataset_drift{deployment=${d}})` };
    case 'accuracy':
      return { kind: 'time', instant: `min(${prefix}model_quality{deployment=${d},metric="accuracy"}) < bool ${num(sli.minAccuracy)}` };
    case 'fallback_rate': {
      const requests = `${prefix}deployment_requests_total`;
      const degraded = `${prefix}deployment_degraded_total`;
      return {
        kind: 'events',
        errorRatio: (w) => `(sum(rate(${degraded}{deployment=${d}}[${w}])) or vector(0)) / (sum(rate(${requests}{deployment=${d},outcome=~"ok|error"}[${w}])) + (sum(rate(${degraded}{deployment=${d},cause=~"switch|data_quality"}[${w}])) or vector(0)))`,
      };
    }
  }
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function roundPercent(x: number): number {
  return Number((x * 100).toPrecision(12));
}
