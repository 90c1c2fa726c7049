// `modelgate models …`: register, list, show, archive, alias, card, diff.
import type { Command} from 'commander';
import { Option } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { formatShape } from '../../registry/onnx/signature-diff.js';
import type { ModelVersionInfo, VersionDiff } from '../../registry/types.js';
import { withClient, wantsJson } from '../connect.js';
import { formatBytes, printJson, printTable } from '../output.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('the model registry: versions, aliases, cards, diffs');

  models
    .command('register <name> <artifact>')
    .description('register a new version of a model (version 1, 2, … in order)')
    .option('--card <file>', 'model card (YAML or JSON, Model Card Toolkit schema v0.0.2)')
    .option('--reference <file>', 'training or validation data (.csv or .jsonl) to profile for monitoring')
    .option('--label <column>', 'label column in the reference data')
    .option('--features <names>', 'feature names in input order, comma-separated (default: from the model metadata)')
    .option('--metadata <key=value>', 'metadata, repeatable: metrics.auc=0.91, params.depth=6, training_data=…, code=…', collect, [])
    .option('--parent <version>', 'the version this one derives from (number or alias)')
    .option('--owner <owner>', 'owning team and contact: "team <contact>" (default: the configured owner)')
    .addOption(new Option('--format <format>', 'artifact format (default: js for .js/.mjs files, else onnx); js needs an admin key').choices(['onnx', 'js']))
    .option('--json', 'print the registered version as JSON')
    .addHelpText('after', '\nExamples:\n  modelgate models register weather model.onnx --card card.yaml --reference train.csv --metadata metrics.auc=0.81\n  modelgate models register weather model-v2.onnx --parent 1 --owner "weather-ml <wx@example.com>"')
    .action(async (name: string, artifact: string, o: { card?: string; reference?: string; label?: string; features?: string; metadata: string[]; parent?: string; owner?: string; format?: string }, cmd: Command) => {
      const info = await withClient(cmd, (c) =>
        c.register({ name, artifact, card: o.card, reference: o.reference, label: o.label, features: o.features?.split(',').map((s) => s.trim()).filter(Boolean), metadata: o.metadata, parent: o.parent, owner: o.owner, format: o.format }),
      );
      if (wantsJson(cmd)) return printJson(info);
      process.stdout.write(`registered ${info.model}@${info.version} (sha256 ${info.artifact.sha256.slice(0, 12)}…, ${formatBytes(info.artifact.size)})\n`);
      printSignature(info);
    });

  models
    .command('list')
    .description('list models')
    .option('--json', 'JSON output')
    .action(async (_o: unknown, cmd: Command) => {
      const list = await withClient(cmd, (c) => c.listModels());
      if (wantsJson(cmd)) return printJson(list);
      if (list.length === 0) return void process.stdout.write('no models yet: register one with `modelgate models register <name> <model.onnx>`\n');
      printTable(
        ['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'OWNER'],
        list.map((m) => [m.name, m.versions, m.latestVersion, Object.entries(m.aliases).map(([a, v]) => `${a}→${v}`).join(' ') || '-', ownerText(m.owner)]),
      );
    });

  models
    .command('show <ref>')
    .description('show a model (name) or one version (name@3, name@production)')
    .option('--json', 'JSON output')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      if (!ref.includes('@')) {
        const m = await withClient(cmd, (c) => c.getModel(ref));
        if (wantsJson(cmd)) return printJson(m);
        process.stdout.write(`${m.name}  owner ${ownerText(m.owner)}  created ${m.createdAt} by ${m.createdBy}\n\n`);
        printTable(
          ['VERSION', 'STATUS', 'ALIASES', 'SHA256', 'SIZE', 'CARD', 'REFERENCE', 'CREATED'],
          m.versionList.map((v) => [v.version, v.status, v.aliases.join(',') || '-', v.artifact.sha256.slice(0, 12), formatBytes(v.artifact.size), v.card ? `rev ${v.card.revision}` : '-', v.reference ? `${v.reference.rows} rows` : '-', v.createdAt]),
        );
        return;
      }
      const v = await withClient(cmd, (c) => c.getVersion(ref));
      if (wantsJson(cmd)) return printJson(v);
      const lines = [
        `${v.model}@${v.version}  (${v.status})${v.aliases.length ? `  aliases: ${v.aliases.join(', ')}` : ''}`,
        `  artifact   ${v.format} sha256:${v.artifact.sha256} ${formatBytes(v.artifact.size)}`,
        `  owner      ${ownerText(v.owner)}`,
        `  created    ${v.createdAt} by ${v.createdBy}${v.parentVersion ? `  parent ${v.parentVersion}` : ''}`,
        v.formatInfo
          ? `  producer   ${v.formatInfo.producerName || '-'} ${v.formatInfo.producerVersion || ''} (ir ${v.formatInfo.irVersion}, opset ${v.formatInfo.opsetImports.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(' ')})`
          : '  producer   JavaScript module',
        `  features   ${v.features?.join(', ') ?? '-'}`,
        `  card       ${v.card ? `revision ${v.card.revision}` : '-'}`,
        `  reference  ${v.reference ? `${v.reference.rows} rows, ${v.reference.features} features${v.reference.label ? `, label ${v.reference.label}` : ''}` : '-'}`,
      ];
      if (v.archivedAt) lines.push(`  archived   ${v.archivedAt} by ${v.archivedBy}`);
      const meta = Object.entries(v.metadata);
      if (meta.length) lines.push('  metadata', ...meta.map(([k, val]) => `    ${k} = ${String(val)}`));
      process.stdout.write(lines.join('\n') + '\n');
      printSignature(v);
    });

  models
    .command('archive <ref>')
    .description('archive a version (name@3): it stays in the registry but can no longer be deployed')
    .option('--json', 'JSON output')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const v = await withClient(cmd, (c) => c.archive(ref));
      if (wantsJson(cmd)) return printJson(v);
      process.stdout.write(`archived ${v.model}@${v.version}\n`);
    });

  const alias = models.command('alias').description('movable names for versions (production, staging, …)');
  alias
    .command('set <name> <alias> <version>')
    .description('point an alias at a version (number or another alias)')
    .option('--json', 'JSON output')
    .action(async (name: string, a: string, version: string, _o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.setAlias(name, a, version));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(r.previousVersion === r.version ? `${name}@${a} already points at ${r.version}\n` : `${name}@${a}: ${r.previousVersion ?? '(none)'} → ${r.version}\n`);
    });
  alias
    .command('unset <name> <alias>')
    .description('remove an alias')
    .option('--json', 'JSON output')
    .action(async (name: string, a: string, _o: unknown, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.unsetAlias(name, a));
      if (wantsJson(cmd)) return printJson(r);
      process.stdout.write(`${name}@${a} removed (was ${r.previousVersion})\n`);
    });
  alias
    .command('list <name>')
    .description('aliases of a model, with --history for every move')
    .option('--history', 'also list what pointed where, when, by whom')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { history?: boolean }, cmd: Command) => {
      const r = await withClient(cmd, (c) => c.listAliases(name));
      if (wantsJson(cmd)) return printJson(r);
      printTable(['ALIAS', 'VERSION', 'SINCE', 'BY'], r.aliases.map((a) => [a.alias, a.version, a.updatedAt, a.updatedBy]));
      if (o.history) {
        process.stdout.write('\n');
        printTable(['WHEN', 'ALIAS', 'FROM', 'TO', 'BY'], r.history.map((h) => [h.at, h.alias, h.fromVersion, h.toVersion, h.actor]));
      }
    });

  models
    .command('card <ref>')
    .description('show a version\'s model card; --set adds a revision')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json']).default('md'))
    .option('--revision <n>', 'show an older revision', (v) => positiveInt(v, '--revision'))
    .option('--history', 'list the card\'s revisions')
    .option('--set <file>', 'revise the card from a YAML or JSON file (older revisions are kept)')
    .option('--reason <text>', 'why the card changed (with --set)')
    .option('--json', 'JSON output (same as --format json)')
    .action(async (ref: string, o: { format: string; revision?: number; history?: boolean; set?: string; reason?: string }, cmd: Command) => {
      const json = wantsJson(cmd) || o.format === 'json';
      if (o.set) {
        const r = await withClient(cmd, (c) => c.reviseCard(ref, o.set!, o.reason));
        if (json) return printJson(r);
        return void process.stdout.write(`${r.model}@${r.version}: card revision ${r.revision} saved\n`);
      }
      if (o.history) {
        const h = await withClient(cmd, (c) => c.cardHistory(ref));
        if (json) return printJson(h);
        return printTable(['REVISION', 'WHEN', 'BY', 'REASON'], h.map((r) => [r.revision, r.createdAt, r.createdBy, r.reason]));
      }
      const card = await withClient(cmd, (c) => c.getCard(ref, o.revision));
      if (json) return printJson(card);
      process.stdout.write(card.markdown.endsWith('\n') ? card.markdown : `${card.markdown}\n`);
    });

  models
    .command('diff <name> <a> <b>')
    .description('what changed between two versions: artifact, signature (breaking or not), metadata, card, data shift (PSI)')
    .option('--json', 'JSON output')
    .action(async (name: string, a: string, b: string, _o: unknown, cmd: Command) => {
      const d = await withClient(cmd, (c) => c.diff(name, a, b));
      if (wantsJson(cmd)) return printJson(d);
      printDiff(d);
    });
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ModelgateError('MG_ERR_CLI_USAGE', `${flag} takes a whole number from 1, got "${v}".`);
  return n;
}

function ownerText(o: { team: string; contact: string | null }): string {
  return o.contact ? `${o.team} <${o.contact}>` : o.team;
}

function printSignature(v: ModelVersionInfo): void {
  const rows = [
    ...v.signature.inputs.map((t) => ['input', t.name, t.datatype ?? t.onnxType, formatShape(t.shape)]),
    ...v.signature.outputs.map((t) => ['output', t.name, t.datatype ?? t.onnxType, formatShape(t.shape)]),
  ];
  process.stdout.write('\n');
  printTable(['SIDE', 'NAME', 'DATATYPE', 'SHAPE'], rows);
}

function printDiff(d: VersionDiff): void {
  const out: string[] = [`${d.model}: ${d.a} → ${d.b}`, ''];
  out.push(d.artifact.same ? `artifact   unchanged (sha256 ${d.artifact.a.slice(0, 12)}…)` : `artifact   ${d.artifact.a.slice(0, 12)}… (${formatBytes(d.artifact.sizeA)}) → ${d.artifact.b.slice(0, 12)}… (${formatBytes(d.artifact.sizeB)})`);
  if (d.signature.changes.length === 0) out.push('signature  unchanged');
  else {
    out.push(`signature  ${d.signature.breaking ? 'BREAKING changes' : 'compatible changes'}`);
    for (const c of d.signature.changes) out.push(`  ${c.breaking ? '!' : ' '} ${c.side} ${c.name}: ${c.change}${c.details.length ? ` (${c.details.join('; ')})` : ''}`);
  }
  if (JSON.stringify(d.features.a) !== JSON.stringify(d.features.b)) out.push(`features   ${d.features.a?.join(',') ?? '-'} → ${d.features.b?.join(',') ?? '-'}`);
  if (d.metadata.length) {
    out.push('metadata');
    for (const m of d.metadata) out.push(`  ${m.key}: ${m.a ?? '-'} → ${m.b ?? '-'}${m.delta !== null ? ` (${m.delta >= 0 ? '+' : ''}${round(m.delta)})` : ''}`);
  }
  if (d.cardMetricDeltas.length) {
    out.push('card metrics');
    for (const m of d.cardMetricDeltas) out.push(`  ${m.type}${m.slice ? ` [${m.slice}]` : ''}: ${m.before} → ${m.after} (${m.delta >= 0 ? '+' : ''}${round(m.delta)})`);
  }
  if (d.cardChanges.length) {
    out.push(`card       ${d.cardChanges.length} field(s) changed`);
    for (const c of d.cardChanges.slice(0, 20)) out.push(`  ${c.change.padEnd(7)} ${c.path}`);
    if (d.cardChanges.length > 20) out.push(`  … and ${d.cardChanges.length - 20} more (--json for all)`);
  }
  if (d.referenceShift === null) out.push('data shift not available (both versions need --reference data)');
  else {
    out.push('data shift (PSI of the reference data; < 0.1 small, 0.1–0.25 moderate, > 0.25 large)');
    for (const f of d.referenceShift) out.push(`  ${(f.label ? `${f.name} (label)` : f.name).padEnd(24)} ${f.psi !== null ? round(f.psi) : f.status}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

function round(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(1) : Number(n.toPrecision(4)).toString();
}
