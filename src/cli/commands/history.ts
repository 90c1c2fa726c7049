// `modelgate history <deployment>`: the traffic ledger (who moved which share of traffic to which version,
// when and why), or with --at what was served at one moment.
import type { Command } from 'commander';
import type { LedgerEntry } from '../../rollout/traffic-ledger.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';
import { formatWeights } from './deployments.js';

export function registerHistoryCommand(program: Command): void {
  program
    .command('history <deployment>')
    .description('the traffic history of a deployment, newest first; with --at, which versions served which share at that moment')
    .option('--at <time>', 'an ISO 8601 time, e.g. 2026-12-01T09:30:00Z')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate history weather\n  modelgate history weather --at 2026-12-01T09:30:00Z')
    .action(async (deployment: string, o: { at?: string }, cmd: Command) => {
      const h = await withClient(cmd, (c) => c.deploymentHistory(deployment, o.at));
      if (wantsJson(cmd)) return printJson(h);
      if (h.at !== null) return void process.stdout.write(`${atLine(h.deployment, h.at, h.entries[0])}\n`);
      printTable(
        ['TIME', 'ACTION', 'ACTOR', 'WEIGHTS', 'REASON'],
        h.entries.map((e) => [e.at, e.action, e.actor, served(e, ' · '), e.reason]),
      );
    });
}

function atLine(deployment: string, at: string, entry: LedgerEntry | undefined): string {
  if (!entry) return `at ${at}: deployment ${deployment} did not exist yet`;
  if (entry.action === 'delete') return `at ${at}: deployment ${deployment} did not exist (deleted ${entry.at} by ${entry.actor})`;
  return `at ${at}: ${served(entry, ', ')} (since ${entry.at}, ${entry.action} by ${entry.actor})`;
}

function served(e: LedgerEntry, separator: string): string {
  const weights = Object.keys(e.weights).length ? formatWeights(e.weights, separator) : 'nothing served';
  return Object.keys(e.shadows).length ? `${weights}; mirrored ${formatWeights(e.shadows, separator)}` : weights;
}
