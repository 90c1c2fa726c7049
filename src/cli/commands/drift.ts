// `modelgate drift compare`: the drift engine offline, on two files (CSV or JSONL), for pipelines and notebooks.
// It needs no store and no server: it reads the two files into typed columns and compares them column by column.
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { driftReport, type ColumnType, type DriftColumn, type DriftOptions, type DriftTestName } from '../../monitoring/drift/report.js';
import { readColumns, type ColumnTable } from '../../monitoring/table/read-columns.js';
import { wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';
import { registerLiveDriftCommand } from './monitoring.js';

const TYPES: readonly ColumnType[] = ['numerical', 'categorical', 'binary'];
const TESTS: readonly DriftTestName[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'];

export function registerDriftCommands(program: Command): void {
  const drift = program.command('drift').description('data drift: a deployment\'s live drift (drift <deployment>), or two files compared offline (drift compare)');
  registerLiveDriftCommand(drift);
  drift
    .command('compare')
    .description('compare two files column by column (CSV with a header row, or JSONL); column types are inferred unless given')
    .requiredOption('--reference <file>', 'the reference data (e.g. the training data)')
    .requiredOption('--current <file>', 'the data to check')
    .option('--columns <names>', 'only these columns, comma-separated (default: every column of the reference)')
    .option('--type <name=type>', `force a column's type (${TYPES.join(', ')}); repeatable`, collect, [])
    .option('--test <name=test>', `force a column's test (${TESTS.join(', ')}); repeatable`, collect, [])
    .option('--threshold <name=value>', 'a column\'s threshold (a p-value for ks, chisquare, z; a distance for the others); repeatable', collect, [])
    .option('--share <fraction>', 'dataset drift when at least this share of the columns drift', '0.5')
    .option('--fail-on-drift', 'exit 1 when the dataset drifts (for pipelines)')
    .option('--json', 'JSON output: {dataset_drift, drift_share, features: [{name, type, test, statistic, p_value, threshold, drifted}]}')
    .addHelpText('after', '\nExamples:\n  modelgate drift compare --reference train.csv --current last-week.csv\n  modelgate drift compare --reference ref.jsonl --current cur.jsonl --test wind=psi --threshold wind=0.2 --json')
    .action(async (o: { reference: string; current: string; columns?: string; type: string[]; test: string[]; threshold: string[]; share: string; failOnDrift?: boolean }, cmd: Command) => {
      const options: DriftOptions = { types: pairs(o.type, '--type', (v) => oneOf(v, TYPES, '--type')), tests: pairs(o.test, '--test', (v) => oneOf(v, TESTS, '--test')), thresholds: pairs(o.threshold, '--threshold', (v) => number(v, '--threshold')), shareThreshold: share(o.share) };
      const only = o.columns?.split(',').map((s) => s.trim()).filter(Boolean);
      const reference = await readColumns(o.reference, only ? { columns: only } : {});
      const names = reference.columns.map((c) => c.name);
      const current = await readColumns(o.current, { columns: names });
      let report;
      try {
        report = driftReport(toDrift(reference), toDrift(current), options);
      } catch (e) {
        throw new ModelgateError('MG_ERR_DRIFT_INVALID', `Cannot compare ${o.reference} with ${o.current}: ${(e as Error).message}`);
      }
      if (wantsJson(cmd)) printJson(report);
      else {
        printTable(
          ['COLUMN', 'TYPE', 'TEST', 'STATISTIC', 'P-VALUE', 'THRESHOLD', 'DRIFT'],
          report.features.map((f) => [f.name, f.type, f.test, fmt(f.statistic), f.p_value === undefined ? '-' : fmt(f.p_value), f.threshold, f.drifted ? 'DRIFT' : 'ok']),
        );
        process.stdout.write(`\n${report.drifted_features} of ${report.features.length} columns drifted (share ${fmt(report.drift_share)}; dataset drift at ${report.options.share_threshold}): ${report.dataset_drift ? 'DATASET DRIFT' : 'no dataset drift'}\n`);
      }
      // `drift <deployment>` takes --fail-on-drift too, and commander hands the flag to the parent command.
      const failOnDrift = o.failOnDrift ?? cmd.optsWithGlobals<{ failOnDrift?: boolean }>().failOnDrift;
      if (failOnDrift && report.dataset_drift) process.exitCode = 1;
    });
}

function toDrift(t: ColumnTable): DriftColumn[] {
  return t.columns.map((c) => (c.numbers ? { name: c.name, numbers: c.numbers } : { name: c.name, strings: c.strings ?? [] }));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function pairs<T>(items: string[], flag: string, parse: (v: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `${flag} takes <column>=<value>, got "${item}".`);
    out[item.slice(0, eq)] = parse(item.slice(eq + 1));
  }
  return out;
}

function oneOf<T extends string>(v: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(v)) throw new ModelgateError('MG_ERR_CLI_USAGE', `${flag}: "${v}" is not one of ${allowed.join(', ')}.`);
  return v as T;
}

function number(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ModelgateError('MG_ERR_CLI_USAGE', `${flag}: "${v}" is not a non-negative number.`);
  return n;
}

function share(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `--share takes a fraction in (0, 1], got "${v}".`);
  return n;
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  return a < 1e-4 ? n.toExponential(2) : String(Math.round(n * 10_000) / 10_000);
}
