// `modelgate incidents list|show|ack|resolve`: incidents opened by paging alerts, their timelines, and their
// postmortem drafts, locally or against a server.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import type { IncidentDetail } from '../../incidents/incident-service.js';
import { withClient, wantsJson } from '../connect.js';
import { parseLimit, printJson, printTable } from '../output.js';

function incidentId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `An incident id is a positive number (see \`modelgate incidents list\`), got "${text}".`);
  return Number(text);
}

function printIncident(i: IncidentDetail): void {
  process.stdout.write(`incident #${i.id} ${i.severity} ${i.status}: ${i.title}\n`);
  process.stdout.write(`deployment: ${i.deployment ?? '-'}\nopened:     ${i.openedAt}\n`);
  if (i.ackedAt) process.stdout.write(`acked:      ${i.ackedAt} by ${i.ackedBy ?? '-'}\n`);
  if (i.resolvedAt) process.stdout.write(`resolved:   ${i.resolvedAt} by ${i.resolvedBy ?? '-'}${i.resolution ? ` (${i.resolution})` : ''}\n`);
  if (i.alerts.length > 0) {
    process.stdout.write('\nalerts:\n');
    printTable(['ID', 'SEVERITY', 'SOURCE', 'VERSION', 'STATUS', 'SUMMARY'], i.alerts.map((a) => [a.id, a.severity, a.source, a.version, a.status, a.summary]));
  }
  process.stdout.write('\ntimeline:\n');
  if (i.timeline.length === 0) process.stdout.write('(nothing recorded)\n');
  else printTable(['AT', 'EVENT', 'BY', 'SUMMARY'], i.timeline.map((e) => [e.at, e.kind, e.actor, e.summary]));
}

export function registerIncidentCommands(program: Command): void {
  const incidents = program.command('incidents').description('incidents opened by paging alerts (SEV1, SEV2): timelines, acknowledgement, resolution and postmortems');
  incidents
    .command('list')
    .description('incidents not yet resolved, newest first')
    .option('--all', 'every incident, resolved ones too')
    .option('--deployment <name>', 'only this deployment\'s')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--json', 'JSON output')
    .action(async (o: { all?: boolean; deployment?: string; limit: string }, cmd: Command) => {
      const limit = parseLimit(o.limit, 500);
      const list = await withClient(cmd, (c) => c.listIncidents({ status: o.all ? 'all' : 'open', ...(o.deployment !== undefined ? { deployment: o.deployment } : {}), limit }));
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) {
        process.stdout.write(o.all ? 'no incidents\n' : 'no open incidents (show resolved ones with --all)\n');
        return;
      }
      printTable(['ID', 'SEVERITY', 'STATUS', 'DEPLOYMENT', 'OPENED', 'ALERTS', 'TITLE'], list.map((i) => [i.id, i.severity, i.status, i.deployment, i.openedAt, i.alertCount, i.title]));
    });
  incidents
    .command('show')
    .argument('<id>', 'the incident')
    .description('an incident with its alerts and its timeline: its own events, audit entries, traffic changes and the deployment\'s alerts from an hour before it opened')
    .option('--json', 'JSON output')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const i = await withClient(cmd, (c) => c.getIncident(incidentId(id)));
      if (wantsJson(cmd)) return printJson(i);
      printIncident(i);
    });
  incidents
    .command('ack')
    .argument('<id>', 'the incident')
    .description('acknowledge an incident (operator; audited); its alerts are left as they are')
    .option('--note <text>', 'a note for the timeline')
    .option('--json', 'JSON output')
    .action(async (id: string, o: { note?: string }, cmd: Command) => {
      const i = await withClient(cmd, (c) => c.ackIncident(incidentId(id), o.note));
      if (wantsJson(cmd)) return printJson(i);
      process.stdout.write(`incident #${i.id} acknowledged\n`);
    });
  incidents
    .command('resolve')
    .argument('<id>', 'the incident')
    .description('resolve an incident (operator; audited) and print its postmortem draft, or write it to a file')
    .option('--resolution <text>', 'what fixed it')
    .option('-o, --output <path>', 'write the postmortem (Markdown) here instead of stdout')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate incidents resolve 12 --resolution "rolled back to v3" --output postmortem-12.md')
    .action(async (id: string, o: { resolution?: string; output?: string }, cmd: Command) => {
      const i = await withClient(cmd, (c) => c.resolveIncident(incidentId(id), o.resolution));
      if (o.output !== undefined) {
        await writeFile(o.output, i.postmortem);
        if (wantsJson(cmd)) return printJson(i);
        process.stdout.write(`incident #${i.id} resolved; postmortem written to ${o.output}\n`);
        return;
      }
      if (wantsJson(cmd)) return printJson(i);
      process.stdout.write(i.postmortem.endsWith('\n') ? i.postmortem : `${i.postmortem}\n`);
    });
}
