// `modelgate slo validate|rules -f slo.yaml`: SLO files checked, and turned into the Prometheus recording and
// alerting rules (multi-window, multi-burn-rate, as Sloth writes them) over the metrics the gateway exports.
// They need no store and no server.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { generateRules, planRules } from '../../slo/prometheus-rules.js';
import { parseSloFiles, type SloSpec } from '../../slo/slo-spec.js';
import { wantsJson } from '../connect.js';
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

export function registerSloCommands(program: Command): void {
  const slo = program.command('slo').description('service level objectives: validate SLO files and generate Prometheus rules');
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
}
