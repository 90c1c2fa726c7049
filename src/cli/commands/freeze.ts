// `modelgate freeze …`: release freezes. While one is in force no rollout starts and none is promoted
// (an approver can override with a reason); traffic already moved stays where it is.
import type { Command } from 'commander';
import type { FreezeInfo } from '../../rollout/rollout-service.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

const ALL = '*';

export function registerFreezeCommands(program: Command): void {
  const freeze = program.command('freeze').description('release freezes: no rollout starts or promotes while one is in force');

  freeze
    .command('list')
    .description('freezes in force')
    .option('--json', 'JSON output')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listFreezes());
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no release freeze in force\n');
      printTable(['SCOPE', 'REASON', 'SOURCE', 'SET BY', 'SINCE'], list.map((f) => [scopeText(f.scope), f.reason, f.source, f.setBy, f.setAt]));
    });

  freeze
    .command('set')
    .description('freeze releases of one deployment, or of all (replaces a freeze of the same scope)')
    .option('--deployment <name>', 'only this deployment (default: all deployments)')
    .requiredOption('--reason <text>', 'why (shown to whoever tries to release)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate freeze set --reason "holiday season: no releases until Jan 5"\n  modelgate freeze set --deployment weather --reason "incident INC-42 under review"')
    .action(async (o: { deployment?: string; reason: string }, cmd: Command) => {
      const f: FreezeInfo = await withClient(cmd, (c) => c.setFreeze(o.deployment ?? ALL, o.reason));
      if (wantsJson(cmd)) return printJson(f);
      process.stdout.write(`releases frozen for ${scopeText(f.scope)}: ${f.reason}\n`);
    });

  freeze
    .command('lift')
    .description('lift the freeze of one deployment, or the one on all deployments')
    .option('--deployment <name>', 'the freeze of this deployment (default: the freeze on all deployments)')
    .option('--json', 'JSON output')
    .action(async (o: { deployment?: string }, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.liftFreeze(o.deployment ?? ALL));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(r.lifted ? `release freeze on ${scopeText(r.scope)} lifted\n` : `no release freeze on ${scopeText(r.scope)} to lift\n`);
    });
}

function scopeText(scope: string): string {
  return scope === ALL ? 'all deployments' : `deployment ${scope}`;
}
