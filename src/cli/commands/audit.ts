// `modelgate audit …`: read and verify the tamper-evident audit log.
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('list')
    .description('audit events, newest first')
    .option('--limit <n>', 'how many (1 to 1000)', '50')
    .option('--since <time>', 'only events at or after this ISO 8601 time')
    .option('--action <action>', 'only this action, e.g. model.alias.set')
    .option('--target <target>', 'only this target, e.g. model/weather')
    .option('--json', 'JSON output')
    .action(async (o: { limit: string; since?: string; action?: string; target?: string }, cmd: Command) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit)) throw new ModelgateError('MG_ERR_CLI_USAGE', `--limit takes a whole number, got "${o.limit}".`);
      const events = await withClient(cmd, (c) => c.listAudit({ limit, ...(o.since ? { since: o.since } : {}), ...(o.action ? { action: o.action } : {}), ...(o.target ? { target: o.target } : {}) }));
      if (wantsJson(cmd)) return printJson(events);
      printTable(['SEQ', 'TIME', 'ACTOR', 'ACTION', 'TARGET', 'DETAILS'], events.map((e) => [e.seq, e.at, e.actor, e.action, e.target, truncate(JSON.stringify(e.details), 80)]));
    });
  audit
    .command('verify')
    .description('check the hash chain; exits 3 and names the first broken link if any row was edited, deleted or reordered')
    .option('--json', 'JSON output')
    .action(async (_o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.verifyAudit());
      if (wantsJson(cmd)) printJson(r);
      else if (r.ok) process.stdout.write(`audit chain intact: ${r.events} events\n`);
      else process.stdout.write(`audit chain BROKEN at event ${r.firstBreak!.seq}: ${r.firstBreak!.reason}\n`);
      if (!r.ok) process.exitCode = 3;
    });
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
