// `modelgate slo validate|rules -f slo.yaml`: SLO files checked, and turned into the Prometheus recording and
// alerting rules (multi-window, multi-burn-rate, as Sloth writes them) over the metrics the gateway exports;
// they need no store and no server. `slo apply|list|status|delete` keep SLOs in the store and show their
// error budgets, locally or against a server.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { generateRules, planRules } from '../../slo/prometheus-rules.js';
import { parseSloFiles, type SloSpec } from '../../slo/slo-spec.js';
import type { SloStatus } from '../../slo/slo-service.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

async function readSlos(files: string[]): Promise<SloSpec[]> {
  if (files.length === 0) throw new ModelgateError('MG_ERR_CLI_USAGE', 'Give at least one SLO file with -f <file>.');
  const slos: SloSpec[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (e) {
      throw new ModelgateError('MG_ERR_CLI_USAGE', `Cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
    slos.push(...parseSloFiles(text, f));
  }
  const names = new Set<string>();
  for (const s of slos) {
    if (names.has(s.name)) throw new ModelgateError('MG_ERR_SLO_INVALID', `SLO "${s.name}" is defined in more than one file; names must be unique.`);
    names.add(s.name);
  }
  return slos;
}

const collect = (v: string, prev: string[]) => [...prev, v];

async function readFiles(files: string[]): Promise<{ text: string; source: string }[]> {
  if (files.length === 0) throw new ModelgateError('MG_ERR_CLI_USAGE', 'Give at least one SLO file with -f <file>.');
  const out: { text: string; source: string }[] = [];
  for (const f of files) {
    try {
      out.push({ text: await readFile(f, 'utf8'), source: f });
    } catch (e) {
      throw new ModelgateError('MG_ERR_CLI_USAGE', `Cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
  }
  return out;
}

const pct = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(digits)}%`);
const rate = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));

function statusRow(s: SloStatus): (string | number)[] {
  const b = s.budget!;
  const firing = s.firing.map((f) => `${f.severity} ${f.long}/${f.short}`).join(', ') || (s.budgetLow ? 'ticket budget-low' : '-');
  return [s.name, s.deployment, s.sli, s.objective, b.sli === null ? (s.sli === 'drift_free' || s.sli === 'accuracy' ? 'no data' : 'no traffic') : pct(b.sli), pct(b.remaining, 1), rate(s.burnRates['1h']), rate(s.burnRates['6h']), rate(s.burnRates['1d']), rate(s.burnRates['3d']), firing];
}

export function registerSloCommands(program: Command): void {
  const slo = program.command('slo').description('service level objectives: validate SLO files, generate Prometheus rules, keep SLOs in the store and show their error budgets');
  slo
    .command('validate')
    .description('check SLO files and show what they define')
    .option('-f, --file <path>', 'an SLO file (YAML, documents separated by ---); repeatable', collect, [])
    .option('--json', 'JSON output')
    .action(async (o: { file: string[] }, cmd: Command) => {
      const slos = await readSlos(o.file);
      if (wantsJson(cmd)) return printJson(slos);
      printTable(['SLO', 'DEPLOYMENT', 'SLI', 'OBJECTIVE', 'WINDOW', 'ERROR BUDGET'], slos.map((s) => [s.name, s.deployment, s.sli.type, s.objective, s.window, s.errorBudget]));
    });
  slo
    .command('rules')
    .description('write the Prometheus recording and alerting rules for SLO files (they pass `promtool check rules`)')
    .option('-f, --file <path>', 'an SLO file; repeatable', collect, [])
    .option('-o, --output <path>', 'write the rules here instead of stdout')
    .addHelpText('after', '\nExamples:\n  modelgate slo rules -f slo.yaml > modelgate-slo.rules.yml\n  promtool check rules modelgate-slo.rules.yml')
    .action(async (o: { file: string[]; output?: string }) => {
      const slos = await readSlos(o.file);
      const text = generateRules(slos);
      for (const s of planRules(slos).skipped) process.stderr.write(`note: no rules for SLO ${s.slo}: ${s.reason}\n`);
      if (o.output) await writeFile(o.output, text);
      else process.stdout.write(text);
    });
  slo
    .command('apply')
    .description('create or update SLOs in the store from SLO files (operator)')
    .option('-f, --file <path>', 'an SLO file; repeatable', collect, [])
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate slo apply -f slo.yaml\n  modelgate slo apply -f slo.yaml --url https://modelgate.internal --key $KEY')
    .action(async (o: { file: string[] }, cmd: Command) => {
      await readSlos(o.file); // every file checked before anything is written
      const files = await readFiles(o.file);
      const results = await withClient(cmd, async (c) => {
        const all = [];
        for (const f of files) all.push(...(await c.applySlos(f)));
        return all;
      });
      if (wantsJson(cmd)) return printJson(results);
      for (const r of results) {
        process.stdout.write(`slo/${r.name} ${r.action}\n`);
      }
      for (const r of results.filter((x) => !x.deploymentExists)) process.stderr.write(`note: SLO ${r.name}: its deployment does not exist yet; it counts no traffic until it does\n`);
    });
  slo
    .command('list')
    .description('list the SLOs in the store')
    .option('--json', 'JSON output')
    .action(async (_o: unknown, cmd: Command) => {
      const slos = await withClient(cmd, (c) => c.listSlos());
      if (wantsJson(cmd)) return printJson(slos);
      printTable(['SLO', 'DEPLOYMENT', 'SLI', 'OBJECTIVE', 'WINDOW', 'UPDATED'], slos.map((s) => [s.name, s.deployment, s.sli.type, s.objective, s.window, s.updatedAt]));
    });
  slo
    .command('status')
    .argument('[name]', 'one SLO (default: every SLO)')
    .description('the SLI over each SLO window, the error budget left, burn rates and firing alerts')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nBURN is how many times faster than allowed the error budget is being spent over 1h, 6h, 1d and 3d.\nExamples:\n  modelgate slo status\n  modelgate slo status weather-availability --json')
    .action(async (name: string | undefined, _o: unknown, cmd: Command) => {
      const statuses = await withClient(cmd, (c) => c.sloStatus(name));
      if (wantsJson(cmd)) return printJson(name === undefined ? statuses : statuses[0]);
      printTable(['SLO', 'DEPLOYMENT', 'SLI', 'OBJECTIVE', 'SLI NOW', 'BUDGET LEFT', 'BURN 1h', '6h', '1d', '3d', 'FIRING'], statuses.map(statusRow));
      for (const s of statuses) for (const n of s.notes) process.stderr.write(`note: ${s.name}: ${n}\n`);
    });
  slo
    .command('delete')
    .argument('<name>', 'the SLO')
    .description('delete an SLO from the store (operator); the deployment\'s SLI counts are kept')
    .option('--json', 'JSON output')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.deleteSlo(name));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`slo/${r.name} deleted\n`);
    });
}
