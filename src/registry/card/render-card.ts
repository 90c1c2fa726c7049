// A model card as a Markdown document, for the UI, the CLI and for attaching to a release.
// Text fields are copied verbatim (authors write Markdown in overview and documentation); whoever turns
// this into HTML must sanitise it like any other user-written Markdown.
import type { ModelCard, ModelCardDataset, ModelCardGraphicsCollection, ModelCardPerformanceMetric } from './card-schema.js';

export interface CardRenderContext {
  model: string;
  version: number;
  revision?: number;
}

export function renderCardMarkdown(card: ModelCard, context?: CardRenderContext): string {
  const blocks: string[] = [];
  const details = card.model_details ?? {};
  const title = present(details.name) ?? (context ? `${context.model} v${context.version}` : 'Model card');
  blocks.push(`# ${oneLine(title)}`);
  if (context) {
    const revision = context.revision !== undefined ? `, card revision ${context.revision}` : '';
    blocks.push(`_Model \`${context.model}\`, version ${context.version}${revision}_`);
  }
  const overview = present(details.overview);
  if (overview) blocks.push(overview);

  blocks.push(...modelDetails(card));
  blocks.push(...modelParameters(card));
  blocks.push(...quantitativeAnalysis(card));
  blocks.push(...considerations(card));
  return `${blocks.join('\n\n')}\n`;
}

function modelDetails(card: ModelCard): string[] {
  const d = card.model_details ?? {};
  const facts: string[] = [];
  const version = d.version ?? {};
  const versionName = present(version.name);
  const date = present(version.date);
  if (versionName || date) {
    facts.push(item(`**Version:** ${[versionName, date ? `released ${date}` : undefined].filter(Boolean).join(', ')}`));
  }
  const diff = present(version.diff);
  if (diff) facts.push(item(`**Changes from the previous version:** ${diff}`));

  const owners = (d.owners ?? [])
    .map((o) => [present(o.name), present(o.contact)].filter(Boolean).join(' — '))
    .filter(Boolean)
    .map(item);
  const licenses = (d.licenses ?? [])
    .map((l) => ('identifier' in l ? present(l.identifier) : present(l.custom_text) && `Custom license: ${l.custom_text.trim()}`))
    .filter((l): l is string => Boolean(l))
    .map(item);
  const references = (d.references ?? [])
    .map((r) => present(r.reference))
    .filter((r): r is string => r !== undefined)
    .map((r) => item(/^https?:\/\/\S+$/.test(r) ? `<${r}>` : r));
  const citations = (d.citations ?? []).flatMap((c) => {
    const citation = present(c.citation);
    if (!citation) return [];
    const style = present(c.style);
    // Multi-line citations are usually BibTeX, whose layout only survives inside a code block.
    if (citation.includes('\n')) return [item(`${style ? `${style}:` : 'Citation:'}\n\n\`\`\`\n${citation}\n\`\`\``)];
    return [item(style ? `${citation} (${style})` : citation)];
  });

  return section('## Model details', [
    facts.join('\n'),
    ...section('### Documentation', [present(d.documentation)]),
    ...section('### Owners', [owners.join('\n')]),
    ...section('### Licenses', [licenses.join('\n')]),
    ...section('### References', [references.join('\n')]),
    ...section('### Citations', [citations.join('\n')]),
  ]);
}

function modelParameters(card: ModelCard): string[] {
  const p = card.model_parameters ?? {};
  const facts = [
    labelled('Architecture', p.model_architecture),
    labelled('Input format', p.input_format),
    labelled('Output format', p.output_format),
  ].filter((f): f is string => f !== undefined);
  const datasets = (p.data ?? []).map(dataset).filter((b) => b !== '');
  return section('## Model parameters', [facts.join('\n'), ...section('### Data sets', datasets)]);
}

function dataset(d: ModelCardDataset, index: number): string {
  const facts: string[] = [];
  const link = present(d.link);
  if (link) facts.push(item(`**Link:** ${/^https?:\/\/\S+$/.test(link) ? `<${link}>` : link}`));
  if (d.sensitive) {
    const kinds = (d.sensitive.sensitive_data ?? []).map((s) => s.trim()).filter(Boolean);
    facts.push(item(`**Sensitive data:** ${kinds.length > 0 ? `yes — ${kinds.join(', ')}` : 'none declared'}`));
  }
  const graphics = graphicNames(d.graphics);
  if (graphics) facts.push(item(`**Graphics:** ${graphics}`));
  const description = present(d.description);
  const body = [facts.join('\n'), description ?? ''].filter(Boolean);
  const name = present(d.name);
  if (!name && body.length === 0) return '';
  return [`#### ${oneLine(name ?? `Data set ${index + 1}`)}`, ...body].join('\n\n');
}

function quantitativeAnalysis(card: ModelCard): string[] {
  const q = card.quantitative_analysis ?? {};
  const metrics = q.performance_metrics ?? [];
  const graphicsDescription = present(q.graphics?.description);
  const graphics = (q.graphics?.collection ?? []).map((g) => item(present(g.name) ?? '(unnamed graphic)'));
  return section('## Quantitative analysis', [
    ...section('### Performance metrics', [metrics.length > 0 ? metricsTable(metrics) : undefined]),
    ...section('### Graphics', [graphicsDescription, graphics.join('\n')]),
  ]);
}

function metricsTable(metrics: ModelCardPerformanceMetric[]): string {
  const withInterval = metrics.some((m) => m.confidence_interval?.lower_bound !== undefined || m.confidence_interval?.upper_bound !== undefined);
  const header = ['Metric', 'Value', 'Slice', ...(withInterval ? ['Confidence interval'] : [])];
  const rows = metrics.map((m) => {
    const ci = m.confidence_interval;
    const interval = ci && (ci.lower_bound !== undefined || ci.upper_bound !== undefined) ? `${num(ci.lower_bound)} – ${num(ci.upper_bound)}` : '—';
    return [m.type, num(m.value), present(m.slice) ?? '—', ...(withInterval ? [interval] : [])];
  });
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.map(cell).join(' | ')} |`).join('\n');
}

function considerations(card: ModelCard): string[] {
  const c = card.considerations ?? {};
  const described = (items: { description?: string }[] | undefined) =>
    (items ?? []).map((i) => present(i.description)).filter((d): d is string => d !== undefined).map(item).join('\n');
  const risks = (c.ethical_considerations ?? [])
    .map((r) => {
      const name = present(r.name);
      const mitigation = present(r.mitigation_strategy);
      if (!name && !mitigation) return undefined;
      return item([name ? `**${oneLine(name)}**` : undefined, mitigation ? `Mitigation: ${mitigation}` : undefined].filter(Boolean).join(' — '));
    })
    .filter((r): r is string => r !== undefined);
  return section('## Considerations', [
    ...section('### Intended users', [described(c.users)]),
    ...section('### Use cases', [described(c.use_cases)]),
    ...section('### Limitations', [described(c.limitations)]),
    ...section('### Tradeoffs', [described(c.tradeoffs)]),
    ...section('### Ethical considerations', [risks.join('\n')]),
  ]);
}

/** A heading with its blocks, or nothing at all when every block is empty. */
function section(heading: string, blocks: (string | undefined)[]): string[] {
  const body = blocks.filter((b): b is string => b !== undefined && b.trim() !== '');
  return body.length > 0 ? [heading, ...body] : [];
}

function labelled(name: string, value: string | undefined): string | undefined {
  const v = present(value);
  return v ? item(`**${name}:** ${v}`) : undefined;
}

function graphicNames(graphics: ModelCardGraphicsCollection | undefined): string | undefined {
  const names = (graphics?.collection ?? []).map((g) => present(g.name) ?? '(unnamed graphic)');
  return names.length > 0 ? names.join(', ') : undefined;
}

/** A list item whose continuation lines are indented, so multi-line text stays inside the item. */
function item(text: string): string {
  return `- ${text.split('\n').map((line, i) => (i === 0 || line === '' ? line : `  ${line}`)).join('\n')}`;
}

/** A table cell: a `|` would end the cell and a newline the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function num(value: number | undefined): string {
  return value === undefined ? '—' : String(value);
}

function present(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}
