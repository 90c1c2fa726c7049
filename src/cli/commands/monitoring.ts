// `modelgate drift <deployment>`, `modelgate quality <deployment>`, `modelgate feedback`, `modelgate
// predictions <deployment>` and `modelgate privacy erase`: the live side of monitoring, from the store (or a
// server named with --url).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import type { LiveDrift } from '../../monitoring/live-drift.js';
import type { QualityReport } from '../../monitoring/labelled-quality.js';
import { withClient, wantsJson } from '../connect.js';
import { printJson, printTable } from '../output.js';

const fmt = (v: number | null | undefined, digits = 4): string => (v === null || v === undefined ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(digits));

/** Adds the live form to the `drift` command that `drift compare` already lives under. */
export function registerLiveDriftCommand(drift: Command): void {
  drift
    .argument('[deployment]', 'a deployment: its live drift and data quality over the window')
    .option('--window <duration>', 'the window, ending now (default: the deployment\'s spec.monitoring.drift.window)')
    .option('--to <time>', 'end the window at this ISO 8601 time instead of now')
    .option('--against <baseline>', 'compare the inputs with the version\'s reference profile (reference, the default) or the window before (previous)')
    .option('--history', 'the stored evaluations instead, newest first')
    .option('--fail-on-drift', 'exit 1 when a version shows dataset drift (for pipelines)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate drift weather --window 1h\n  modelgate drift weather --json\n  modelgate drift compare --reference ref.csv --current cur.csv')
    .action(async (deployment: string | undefined, o: { window?: string; to?: string; against?: string; history?: boolean; failOnDrift?: boolean }, cmd: Command) => {
      if (deployment === undefined) return void cmd.help();
      if (o.against !== undefined && o.against !== 'reference' && o.against !== 'previous') throw new ModelgateError('MG_ERR_CLI_USAGE', `--against takes reference or previous, got "${o.against}".`);
      if (o.history) {
        const h = await withClient(cmd, (c) => c.driftHistory(deployment));
        if (wantsJson(cmd)) return printJson(h);
        if (h.length === 0) return void process.stdout.write(`no drift evaluation of ${deployment} stored yet\n`);
        return printTable(['AT', 'VERSION', 'ROWS', 'DRIFT SHARE', 'DATASET DRIFT'], h.map((e) => [e.at, e.version, e.rows, fmt(e.drift_share), e.dataset_drift ? 'DRIFT' : 'ok']));
      }
      const d = await withClient(cmd, (c) => c.liveDrift(deployment, { window: o.window, to: o.to, against: o.against as 'reference' | 'previous' | undefined }));
      if (wantsJson(cmd)) printJson(d);
      else printLiveDrift(d);
      if (o.failOnDrift && d.versions.some((v) => v.drift?.dataset_drift)) process.exitCode = 1;
    });
}

function printLiveDrift(d: LiveDrift): void {
  process.stdout.write(`deployment ${d.deployment}, window ${d.window.from} → ${d.window.to}, inputs against ${d.against === 'previous' ? 'the window before' : 'the reference profile'}\n`);
  if (d.versions.length === 0) return void process.stdout.write('no traffic profiled in this window\n');
  for (const v of d.versions) {
    process.stdout.write(`\nversion ${v.version}: ${v.rows} rows\n`);
    if (v.drift) {
      printTable(['FEATURE', 'TYPE', 'TEST', 'STATISTIC', 'P-VALUE', 'THRESHOLD', 'DRIFT'], v.drift.features.map((f) => [f.name, f.type, f.test, fmt(f.statistic), f.p_value === undefined ? '-' : fmt(f.p_value), f.threshold, f.drifted ? 'DRIFT' : 'ok']));
      process.stdout.write(`${v.drift.drifted_features} of ${v.drift.features.length} features drifted (share ${fmt(v.drift.drift_share)}): ${v.drift.dataset_drift ? 'DATASET DRIFT' : 'no dataset drift'}\n`);
    } else if (v.note) process.stdout.write(`drift: ${v.note}\n`);
    if (v.prediction_drift) {
      const p = v.prediction_drift;
      process.stdout.write(`outputs vs the previous window: ${p.features.map((f) => `${f.name} ${f.test}=${fmt(f.statistic)}${f.drifted ? ' DRIFT' : ''}`).join(', ')}\n`);
    }
    if (v.data_quality.length > 0) {
      process.stdout.write('data quality:\n');
      printTable(['FEATURE', 'MISSING', 'OUT OF RANGE', 'UNSEEN'], v.data_quality.map((q) => [q.name, fmt(q.missing_rate), fmt(q.out_of_range_rate), fmt(q.unseen_category_rate)]));
    }
  }
}

export function registerMonitoringCommands(program: Command): void {
  program
    .command('quality')
    .description('labelled quality of a deployment per version and slice, with calibration, fairness, concept and label drift, and outcomes')
    .argument('<deployment>')
    .option('--window <duration>', 'predictions made in this window (default: spec.monitoring.concept.window)')
    .option('--to <time>', 'end the window at this ISO 8601 time instead of now')
    .option('--json', 'JSON output')
    .action(async (deployment: string, o: { window?: string; to?: string }, cmd: Command) => {
      const q = await withClient(cmd, (c) => c.quality(deployment, { window: o.window, to: o.to }));
      if (wantsJson(cmd)) return printJson(q);
      printQuality(q);
    });

  program
    .command('feedback')
    .description('send labels and outcomes: a JSON file ({requestId, label, ...} or {items: [...]}) or JSONL (one item a line), or one item from flags')
    .option('-f, --file <path>', 'the file ("-" for stdin)')
    .option('--request-id <id>', 'one item: the prediction\'s request id')
    .option('--row <n>', 'one item: the row within a batched request', '0')
    .option('--label <value>', 'one item: the ground truth (numbers are sent as numbers)')
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  modelgate feedback --request-id 3f2c… --label 1\n  modelgate feedback -f labels.jsonl')
    .action(async (o: { file?: string; requestId?: string; row: string; label?: string }, cmd: Command) => {
      let body: unknown;
      if (o.file !== undefined) body = await readFeedbackFile(o.file);
      else if (o.requestId !== undefined && o.label !== undefined) body = { requestId: o.requestId, row: Number(o.row), label: /^-?\d+(\.\d+)?$/.test(o.label) ? Number(o.label) : o.label };
      else throw new ModelgateError('MG_ERR_CLI_USAGE', 'Give -f <file>, or --request-id <id> with --label <value>.');
      const r = await withClient(cmd, (c) => c.sendFeedback(body));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`${r.accepted} accepted: ${r.joined} joined to their predictions, ${r.pending} waiting for a prediction record${r.pending > 0 ? ` (e.g. ${r.pendingIds.slice(0, 3).join(', ')})` : ''}\n`);
    });

  program
    .command('predictions')
    .description('sampled prediction payloads of a deployment (redacted before they were stored), newest first')
    .argument('<deployment>')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'JSON output')
    .action(async (deployment: string, o: { limit: string }, cmd: Command) => {
      const rows = await withClient(cmd, (c) => c.predictions(deployment, Number(o.limit)));
      if (wantsJson(cmd)) return printJson(rows);
      printTable(['AT', 'REQUEST', 'VERSION', 'ARM', 'STATUS', 'MS', 'INPUT'], rows.map((r) => [r.at, r.requestId, r.version, r.arm, r.status, fmt(r.latencyMs, 3), JSON.stringify(r.input).slice(0, 80)]));
    });

  const privacy = program.command('privacy').description('personal data in the prediction log');
  privacy
    .command('erase')
    .description('delete every prediction record, payload and label of one subject (audited; admin)')
    .requiredOption('--subject <key>', 'the subject key as requests carried it (spec.monitoring.subject, else the routing key)')
    .option('--json', 'JSON output')
    .action(async (o: { subject: string }, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.erase(o.subject));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`erased ${r.records} prediction records, ${r.payloads} payloads and ${r.feedback} labels of the subject (audited as privacy.erase)\n`);
    });
}

async function readFeedbackFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelgateError('MG_ERR_CLI_USAGE', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const t = text.trim();
  if (t === '') throw new ModelgateError('MG_ERR_FEEDBACK_INVALID', `${path} is empty.`);
  try {
    return JSON.parse(t) as unknown;
  } catch {
    // JSON Lines: one item a line.
    const items = t.split(/\r?\n/).filter((l) => l.trim() !== '').map((l, i) => {
      try {
        return JSON.parse(l) as unknown;
      } catch (e) {
        throw new ModelgateError('MG_ERR_FEEDBACK_INVALID', `${path} line ${i + 1} is not JSON: ${(e as Error).message}. Nothing was sent.`);
      }
    });
    return { items };
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function printQuality(q: QualityReport): void {
  process.stdout.write(`deployment ${q.deployment}, predictions ${q.window.from} → ${q.window.to}\n`);
  if (q.versions.length === 0) return void process.stdout.write('no predictions in this window\n');
  for (const v of q.versions) {
    process.stdout.write(`\nversion ${v.version} (${v.task}): ${v.predictions} predictions, ${v.labelled} labelled\n`);
    const m = v.metrics as unknown as Record<string, number | null>;
    const names = v.task === 'classification' ? ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'ece'] : ['mae', 'rmse', 'mean_error'];
    printTable(['SLICE', ...names.map((n) => n.toUpperCase())], [['(all)', ...names.map((n) => fmt(m[n]))], ...v.slices.map((s) => [Object.entries(s.slice).map(([k, x]) => `${k}=${x}`).join(','), ...names.map((n) => fmt((s.metrics as unknown as Record<string, number | null>)[n]))])]);
    for (const f of v.fairness) process.stdout.write(`fairness over ${f.attribute}: demographic parity difference ${fmt(f.demographic_parity_difference)}, ratio ${fmt(f.demographic_parity_ratio)}, equalized odds difference ${fmt(f.equalized_odds_difference)}\n`);
    if (v.concept) {
      const bad = v.concept.checks.filter((c) => c.degraded);
      process.stdout.write(`concept drift vs released metrics: ${!v.concept.enough ? 'not enough labels yet' : bad.length > 0 ? `DEGRADED (${bad.map((c) => `${c.metric} ${fmt(c.reference)} → ${fmt(c.current)}`).join(', ')})` : 'within thresholds'}\n`);
    }
    if (v.label_drift) process.stdout.write(`label drift (${v.label_drift.test}): statistic ${fmt(v.label_drift.statistic)}${v.label_drift.p_value !== undefined ? `, p ${fmt(v.label_drift.p_value)}` : ''}: ${v.label_drift.drifted ? 'DRIFT' : 'ok'}\n`);
  }
  if (q.outcomes.length > 0) {
    process.stdout.write('\noutcomes:\n');
    printTable(['VERSION', 'ARM', 'OUTCOME', 'EVENTS', 'RATE', 'MEAN VALUE'], q.outcomes.map((o) => [o.version, o.arm, o.name, o.count, fmt(o.rate), fmt(o.mean_value)]));
  }
}
