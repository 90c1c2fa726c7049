// The quality a version was released with: the figures concept drift compares live labelled quality against.
// Read from the version's metadata first (a number under the metric's name), else from its card's
// performance metrics: an unsliced figure, else the held-out ("test") one, else the first recorded.
import type { Principal } from '../governance/keys.js';
import type { Registry } from '../registry/registry-service.js';

export const QUALITY_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'ece', 'mae', 'rmse'] as const;

export async function referenceMetrics(registry: Registry, principal: Principal, model: string, version: number): Promise<{ metrics: Record<string, number>; sources: Record<string, string> }> {
  const info = await registry.getVersion(principal, `${model}@${version}`);
  const metrics: Record<string, number> = {};
  const sources: Record<string, string> = {};
  let card: Awaited<ReturnType<Registry['getCard']>>['card'] | null = null;
  if (info.card) card = (await registry.getCard(principal, `${model}@${version}`)).card;
  const recorded = card?.quantitative_analysis?.performance_metrics ?? [];
  for (const name of QUALITY_METRICS) {
    const m = info.metadata[name];
    const fromMeta = typeof m === 'number' ? m : typeof m === 'string' && m.trim() !== '' && Number.isFinite(Number(m)) ? Number(m) : undefined;
    if (fromMeta !== undefined) {
      metrics[name] = fromMeta;
      sources[name] = 'metadata';
      continue;
    }
    const of = recorded.filter((x) => x.type === name && typeof x.value === 'number');
    const hit = of.find((x) => x.slice === undefined) ?? of.find((x) => /test|held.?out|eval/i.test(x.slice ?? '')) ?? of[0];
    if (hit?.value !== undefined) {
      metrics[name] = hit.value;
      sources[name] = `card${hit.slice ? ` (${hit.slice})` : ''}`;
    }
  }
  return { metrics, sources };
}
