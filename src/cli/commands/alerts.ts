// `modelgate alerts list|show|ack|silence|silences|unsilence`: open alerts and the notifications sent for them,
// acknowledgement, and silences and maintenance windows that hold notifications back, locally or on a server.
import type { Command } from 'commander';
import type { AlertDetail, AlertInfo, AlertSeverity, AlertSource, SilenceInfo, SilenceInput, SilenceMatchers } from '../../alerts/types.js';
import { ModelgateError } from '../../errors/index.js';
import { parseDuration } from '../../rollout/duration.js';
import { withClient, wantsJson } from '../connect.js';
import { parseLimit, printJson, printTable } from '../output.js';

function numericId(text: string, what: string, list: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `${what} id is a positive number (see \`${list}\`), got "${text}".`);
  return Number(text);
}

function usage(message: string): ModelgateError {
  return new ModelgateError('MG_ERR_CLI_USAGE', message);
}

const shorten = (s: string, max = 80): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function statusText(a: AlertInfo): string {
  return a.suppressedBy ? `${a.status} (silenced)` : a.escalatedAt && a.status === 'firing' ? 'firing (escalated)' : a.status;
}

function printAlert(a: AlertDetail): void {
  process.stdout.write(`alert #${a.id} ${a.severity} ${statusText(a)}: ${a.summary}\n`);
  const lines: [string, string | number | null][] = [
    ['deployment', a.deployment === null ? null : a.version === null ? a.deployment : `${a.deployment}@${a.version}`],
    ['source', a.source],
    ['route', a.route],
    ['fingerprint', a.fingerprint],
    ['occurrences', a.occurrences],
    ['opened', a.openedAt],
    ['last seen', a.lastSeenAt],
    ['ack deadline', a.ackDeadline],
    ['acked', a.ackedAt ? `${a.ackedAt} by ${a.ackedBy ?? '-'}` : null],
    ['escalated', a.escalatedAt],
    ['resolved', a.resolvedAt],
    ['silenced by', a.suppressedBy],
    ['incident', a.incidentId],
  ];
  for (const [k, v] of lines) if (v !== null) process.stdout.write(`${`${k}:`.padEnd(14)}${v}\n`);
  if (Object.keys(a.details).length > 0) process.stdout.write(`details:      ${JSON.stringify(a.details)}\n`);
  process.stdout.write('\nnotifications:\n');
  if (a.deliveries.length === 0) process.stdout.write(a.suppressedBy ? '(none: a silence held them back)\n' : '(none)\n');
  else printTable(['ID', 'SINK', 'EVENT', 'STATUS', 'ATTEMPTS', 'HTTP', 'DELIVERED', 'LAST ERROR'], a.deliveries.map((d) => [d.id, d.sink, d.event, d.status, d.attempts, d.responseStatus, d.deliveredAt, d.lastError]));
}

function matchersText(m: SilenceMatchers): string {
  const parts = Object.entries(m).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length === 0 ? 'every alert' : parts.join(' ');
}

function silenceState(s: SilenceInfo): string {
  return s.active ? 'active' : s.startsAt > new Date().toISOString() ? 'scheduled' : 'ended';
}

export function registerAlertCommands(program: Command): void {
  const alerts = program.command('alerts').description('alerts and their notifications: list, show, acknowledge; silences and maintenance windows');
  alerts
    .command('list')
    .description('open alerts (firing or acknowledged), newest first')
    .option('--all', 'resolved alerts too')
    .option('--deployment <name>', 'only this deployment\'s')
    .option('--severity <sev>', 'only this severity: SEV1, SEV2, SEV3 or SEV4')
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate alerts list\n  modelgate alerts list --all --deployment weather --severity SEV1 --json')
    .action(async (o: { all?: boolean; deployment?: string; severity?: string; limit: string }, cmd: Command) => {
      const limit = parseLimit(o.limit, 1000);
      const severity = o.severity?.toUpperCase();
      if (severity !== undefined && !/^SEV[1-4]$/.test(severity)) throw usage(`--severity must be SEV1, SEV2, SEV3 or SEV4, got "${o.severity}".`);
      const list = await withClient(cmd, (c) =>
        c.listAlerts({ status: o.all ? 'all' : 'open', ...(o.deployment !== undefined ? { deployment: o.deployment } : {}), ...(severity !== undefined ? { severity: severity as AlertSeverity } : {}), limit }),
      );
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write(o.all ? 'no alerts\n' : 'no open alerts (show resolved ones with --all)\n');
      printTable(['ID', 'SEVERITY', 'STATUS', 'GROUP', 'SOURCE', 'COUNT', 'OPENED', 'SUMMARY'], list.map((a) => [a.id, a.severity, statusText(a), a.groupKey, a.source, a.occurrences, a.openedAt, shorten(a.summary)]));
    });
  alerts
    .command('show')
    .argument('<id>', 'the alert')
    .description('an alert with every notification sent for it (sink, event, attempts, HTTP status, last error)')
    .option('--json', 'JSON output')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const alertId = numericId(id, 'An alert', 'modelgate alerts list');
      const a = await withClient(cmd, (c) => c.getAlert(alertId));
      if (wantsJson(cmd)) return printJson(a);
      printAlert(a);
    });
  alerts
    .command('ack')
    .argument('<id>', 'the alert')
    .description('acknowledge an alert (operator): stops its escalation and tells the sinks that were notified')
    .option('--note <text>', 'a note for the audit log')
    .option('--json', 'JSON output')
    .action(async (id: string, o: { note?: string }, cmd: Command) => {
      const alertId = numericId(id, 'An alert', 'modelgate alerts list');
      const a = await withClient(cmd, (c) => c.ackAlert(alertId, o.note));
      if (wantsJson(cmd)) return printJson(a);
      process.stdout.write(`alert/${a.id} acknowledged by ${a.ackedBy ?? '-'}\n`);
    });
  alerts
    .command('silence')
    .description('hold back the notifications of matching alerts for a while (operator); alerts are still recorded')
    .option('--deployment <name>', 'alerts of this deployment')
    .option('--source <source>', 'alerts from this source (e.g. drift, slo_fast_burn)')
    .option('--severity <sev>', 'alerts of this severity')
    .option('--all', 'every alert (instead of matchers)')
    .option('--for <duration>', 'how long, e.g. 30m, 2h, 1d (at most 30d)')
    .option('--ends <iso>', 'until this time, instead of --for')
    .option('--starts <iso>', 'from this time (maintenance windows only; default now)')
    .option('--maintenance', 'a maintenance window: may be scheduled ahead with --starts')
    .requiredOption('--reason <text>', 'why (the people paged later read it)')
    .option('--json', 'JSON output')
    .addHelpText(
      'after',
      '\nExamples:\n  modelgate alerts silence --deployment weather --for 2h --reason "known flaky upstream, fix in review"\n  modelgate alerts silence --deployment weather --maintenance --starts 2026-02-01T22:00:00Z --for 3h --reason "database upgrade"',
    )
    .action(async (o: { deployment?: string; source?: string; severity?: string; all?: boolean; for?: string; ends?: string; starts?: string; maintenance?: boolean; reason: string }, cmd: Command) => {
      if ((o.for === undefined) === (o.ends === undefined)) throw usage('Give how long with --for (e.g. --for 2h), or an end with --ends <iso>.');
      let durationMs: number | undefined;
      if (o.for !== undefined) {
        durationMs = parseDuration(o.for);
        if (durationMs === undefined || durationMs <= 0) throw usage(`--for must be a duration such as 30m, 2h or 1d, got "${o.for}".`);
      }
      for (const [flag, v] of [['--starts', o.starts], ['--ends', o.ends]] as const) {
        if (v !== undefined && Number.isNaN(Date.parse(v))) throw usage(`${flag} must be an ISO 8601 time such as 2026-02-01T22:00:00Z, got "${v}".`);
      }
      if (o.starts !== undefined && !o.maintenance) throw usage('--starts schedules a maintenance window: add --maintenance.');
      const matchers: SilenceMatchers = {
        ...(o.deployment !== undefined ? { deployment: o.deployment } : {}),
        ...(o.source !== undefined ? { source: o.source as AlertSource } : {}),
        ...(o.severity !== undefined ? { severity: o.severity.toUpperCase() as AlertSeverity } : {}),
      };
      if (Object.keys(matchers).length === 0 && !o.all) throw usage('Say what to silence: --deployment, --source and/or --severity, or --all for every alert.');
      const input: SilenceInput = {
        kind: o.maintenance ? 'maintenance' : 'silence',
        matchers,
        reason: o.reason,
        ...(o.all ? { all: true } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(o.starts !== undefined ? { startsAt: new Date(o.starts).toISOString() } : {}),
        ...(o.ends !== undefined ? { endsAt: new Date(o.ends).toISOString() } : {}),
      };
      const s = await withClient(cmd, (c) => c.createSilence(input));
      if (wantsJson(cmd)) return printJson(s);
      process.stdout.write(`silence/${s.id} ${s.kind === 'maintenance' ? 'maintenance window' : 'silence'} for ${matchersText(s.matchers)}: ${s.active ? 'active' : `from ${s.startsAt}`} until ${s.endsAt}\n`);
    });
  alerts
    .command('silences')
    .description('silences and maintenance windows in force or scheduled')
    .option('--all', 'ended ones too')
    .option('--json', 'JSON output')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listSilences(Boolean(o.all)));
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write(o.all ? 'no silences\n' : 'no silence in force or scheduled (show ended ones with --all)\n');
      printTable(['ID', 'KIND', 'STATE', 'MATCHES', 'STARTS', 'ENDS', 'BY', 'REASON'], list.map((s) => [s.id, s.kind, silenceState(s), matchersText(s.matchers), s.startsAt, s.endsAt, s.createdBy, shorten(s.reason, 60)]));
    });
  alerts
    .command('unsilence')
    .argument('<id>', 'the silence')
    .description('end a silence now, or cancel a scheduled maintenance window (operator)')
    .option('--json', 'JSON output')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const silenceId = numericId(id, 'A silence', 'modelgate alerts silences');
      const s = await withClient(cmd, (c) => c.expireSilence(silenceId));
      if (wantsJson(cmd)) return printJson(s);
      process.stdout.write(`silence/${s.id} ended\n`);
    });
}
