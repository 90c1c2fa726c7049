// `modelgate apply -f` and `modelgate diff -f`: deployment files (YAML or JSON, several documents allowed)
// applied to the deployments, or compared with them.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import type { ApplyResult } from '../../rollout/deployment-service.js';
import type { DeploymentFileText } from '../client.js';
import { withClient, wantsJson } from '../connect.js';
import { reportError } from '../main.js';
import { printJson } from '../output.js';
import { formatWeights } from './deployments.js';

export function registerApplyCommands(program: Command): void {
  program
    .command('apply')
    .description('create or update deployments from a file (YAML or JSON; several documents allowed, all checked before any is written)')
    .requiredOption('-f, --filename <file>', 'the deployment file, or - for stdin')
    .option('--dry-run', 'check the file and report what would change, writing nothing')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExamples:\n  modelgate apply -f weather.yaml\n  modelgate apply -f weather.yaml --dry-run\n  cat weather.yaml | modelgate apply -f -')
    .action(async (o: { filename: string; dryRun?: boolean }, cmd: Command) => {
      const file = await readDeploymentFile(o.filename);
      const results = await withClient(cmd, (c) => c.applyDeployments(file, Boolean(o.dryRun)));
      if (wantsJson(cmd)) return printJson(results);
      for (const r of results) process.stdout.write(`deployment/${r.name} ${r.action}${r.dryRun ? ' (dry run)' : ''}  serving ${formatWeights(r.weights)}\n`);
    });

  program
    .command('diff')
    .description('what `apply -f` would change: each changed field with its value before → after')
    .requiredOption('-f, --filename <file>', 'the deployment file, or - for stdin')
    .option('--json', 'print the results (with every change) as JSON')
    .addHelpText(
      'after',
      '\nExit status (like kubectl diff):\n  0  no differences\n  1  differences found\n  2  the comparison failed (unreadable or invalid file, unknown model, …), or a usage mistake\n\nExamples:\n  modelgate diff -f weather.yaml\n  modelgate diff -f weather.yaml --json',
    )
    .action(async (o: { filename: string }, cmd: Command) => {
      let results: ApplyResult[];
      try {
        const file = await readDeploymentFile(o.filename);
        results = await withClient(cmd, (c) => c.diffDeployments(file));
      } catch (e) {
        // Exit 1 means "differences found" here, so a failure must not exit 1 too.
        process.exitCode = Math.max(2, reportError(e));
        return;
      }
      const changed = results.some((r) => r.action !== 'unchanged');
      if (wantsJson(cmd)) printJson(results);
      else printDiff(results);
      process.exitCode = changed ? 1 : 0;
    });
}

/** The text of `-f <file>`, or of stdin for `-f -`. */
export async function readDeploymentFile(path: string): Promise<DeploymentFileText> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' };
  }
  try {
    return { text: await readFile(path, 'utf8'), source: path };
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ModelgateError('MG_ERR_DEPLOYMENT_FILE_UNREADABLE', `Cannot read ${path}: ${reason}. Check the path given with -f (or pass - to read stdin).`);
  }
}

function printDiff(results: ApplyResult[]): void {
  const out: string[] = [];
  for (const r of results) {
    if (r.action === 'unchanged') {
      out.push(`deployment/${r.name} unchanged`);
    } else if (r.action === 'created') {
      out.push(`deployment/${r.name} would be created, serving ${formatWeights(r.weights)}`);
    } else {
      out.push(`deployment/${r.name} would be configured (${r.changes.length} change${r.changes.length === 1 ? '' : 's'}), serving ${formatWeights(r.weights)}`);
      for (const c of r.changes) out.push(`  ${c.path}: ${value(c.before)} → ${value(c.after)}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

function value(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}
