// `modelgate deployments …`: list, show, delete, the kill switch and the fallback switch.
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

export function registerDeploymentCommands(program: Command): void {
  const deployments = program.command('deployments').description('deployments: named endpoints with their traffic policy (create them with `modelgate apply -f`)');

  deployments
    .command('list')
    .description('list deployments with the share each version serves')
    .option('--json', 'JSON output')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listDeployments());
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no deployments yet: create one with `modelgate apply -f <file>`\n');
      printTable(
        ['NAME', 'MODEL', 'GENERATION', 'WEIGHTS', 'SHADOWS', 'KILL', 'ROLLOUT', 'UPDATED'],
        list.map((d) => [d.name, d.model, d.generation, formatWeights(d.weights), Object.keys(d.shadows).length ? formatWeights(d.shadows) : '-', d.killSwitch ? 'ON' : 'off', d.rollout ? rolloutLine(d.rollout) : '-', d.updatedAt]),
      );
    });

  deployments
    .command('show <name>')
    .description('a deployment: its arms (version reference → version served), weights, shadows, kill switch and latest rollout')
    .option('--json', 'JSON output')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const d = await withClient(cmd, (c) => c.getDeployment(name));
      if (wantsJson(cmd)) return printJson(d);
      const lines = [
        `deployment/${d.name}  model ${d.model}  generation ${d.generation}`,
        `  kill switch  ${d.killSwitch ? 'ON (all traffic on the stable arm)' : 'off'}`,
        `  fallback     ${d.fallback ? `ON (${d.fallback.mode}, since ${d.fallback.setAt} by ${d.fallback.setBy}: ${d.fallback.reason})` : 'off'}`,
        `  weights      ${formatWeights(d.weights)}`,
        `  shadows      ${Object.keys(d.shadows).length ? formatWeights(d.shadows) : '-'}`,
        `  rollout      ${d.rollout ? rolloutLine(d.rollout) : '-'}`,
        `  updated      ${d.updatedAt} by ${d.updatedBy}  (created ${d.createdAt} by ${d.createdBy})`,
        '',
      ];
      process.stdout.write(lines.join('\n') + '\n');
      printTable(
        ['ARM', 'ROLE', 'VERSION', 'WEIGHT'],
        d.arms.map((a) => [a.name, a.role, a.version === String(a.resolved) ? a.version : `${a.version} → ${a.resolved ?? '(no such alias)'}`, a.role === 'shadow' ? `${a.weight}% mirrored` : `${a.weight}%`]),
      );
    });

  deployments
    .command('delete <name>')
    .description('delete a deployment (not while a rollout is in progress); its traffic history is kept')
    .option('--json', 'JSON output')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.deleteDeployment(name));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`deployment/${r.name} deleted\n`);
    });

  deployments
    .command('kill <name>')
    .description('the kill switch: every request goes to the stable arm at once (rules, canary and shadows ignored) and a rollout in progress is aborted')
    .option('--off', 'lift the kill switch')
    .option('--reason <text>', 'why (recorded in the audit log and the traffic history)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate deployments kill weather --reason "v2 answers garbage"\n  modelgate deployments kill weather --off')
    .action(async (name: string, o: { off?: boolean; reason?: string }, cmd: Command) => {
      const d = await withClient(cmd, (c) => c.killDeployment(name, !o.off, o.reason));
      if (wantsJson(cmd)) return printJson(d);
      process.stdout.write(`deployment/${d.name} kill switch ${d.killSwitch ? 'ON' : 'off'}; serving ${formatWeights(d.weights)}\n`);
    });

  deployments
    .command('fallback <name> <state>')
    .description('on: every request is answered by the fallback chain (spec.resilience.fallback), marked degraded; off: back to the arms. For when the stable version itself misbehaves')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate deployments fallback weather on --reason "v1 answers garbage since 09:12"\n  modelgate deployments fallback weather off')
    .action(async (name: string, state: string, o: { reason?: string }, cmd: Command) => {
      if (state !== 'on' && state !== 'off') throw new ModelgateError('MG_ERR_CLI_USAGE', `"${state}" is not a state: write \`modelgate deployments fallback ${name} on\` or \`… off\`.`);
      const d = await withClient(cmd, (c) => c.fallbackDeployment(name, state === 'on', o.reason));
      if (wantsJson(cmd)) return printJson(d);
      process.stdout.write(d.fallback ? `deployment/${d.name} answers from its fallback chain (${d.fallback.mode}): ${d.fallback.reason}\n` : `deployment/${d.name} answers from its arms again; serving ${formatWeights(d.weights)}\n`);
    });
}

/** `v1 90% · v2 10%`, versions in order; `none` when nothing is served. */
export function formatWeights(weights: Record<string, number>, separator = ' · '): string {
  const entries = Object.entries(weights).sort(([a], [b]) => Number(a) - Number(b));
  return entries.length ? entries.map(([v, w]) => `v${v} ${w}%`).join(separator) : 'none';
}

/** One line for a rollout: `#3 canary v1 → v2: Progressing, step 2/6`. */
export function rolloutLine(r: { id: number; strategy: string; fromVersion: number; toVersion: number; phase: string; step: number; steps: number }): string {
  const step = Number.isFinite(r.steps) ? `${Math.min(r.step + 1, r.steps)}/${r.steps}` : `${r.step + 1}`;
  return `#${r.id} ${r.strategy} v${r.fromVersion} → v${r.toVersion}: ${r.phase}, step ${step}`;
}
