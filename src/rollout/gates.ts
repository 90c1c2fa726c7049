// Readiness gates: what a candidate version must show before a rollout may start (card, owner, reference
// profile, offline metrics and per-slice fairness, a signature compatible with stable, an SLO). Each item carries
// the evidence it was decided on, so `rollout check` can be read as a checklist.
import type { Principal } from '../governance/keys.js';
import type { ModelCard } from '../registry/card/index.js';
import type { Registry } from '../registry/registry-service.js';
import type { GatesSpec } from './deployment-spec.js';

export interface GateItem {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  evidence: string;
}

export interface GateReport {
  deployment: string;
  model: string;
  candidate: number;
  stable: number | null;
  passed: boolean;
  items: GateItem[];
}

export async function checkGates(
  registry: Registry,
  principal: Principal,
  args: { deployment: string; model: string; candidate: number; stable: number | null; gates: GatesSpec; slos?: string[] },
): Promise<GateReport> {
  const { model, candidate, stable, gates } = args;
  const info = await registry.getVersion(principal, `${model}@${candidate}`);
  const items: GateItem[] = [];
  const gate = (name: string, enabled: boolean, ok: boolean, evidence: string) => items.push({ name, status: enabled ? (ok ? 'pass' : 'fail') : 'skip', evidence: enabled ? evidence : `not required (${evidence})` });

  gate('active', true, info.status === 'active', info.status === 'active' ? `${model}@${candidate} is active` : `${model}@${candidate} is archived`);
  gate('card', gates.requireCard, info.card !== null, info.card ? `card revision ${info.card.revision}, updated ${info.card.updatedAt}` : 'no model card; add one with `modelgate models card set`');
  gate('owner', gates.requireOwner, Boolean(info.owner.team) && info.owner.contact !== null, `owner ${info.owner.team}${info.owner.contact ? ` <${info.owner.contact}>` : ' (no contact: register with --owner "team <contact>")'}`);
  gate('reference profile', gates.requireReference, info.reference !== null, info.reference ? `${info.reference.rows} rows, ${info.reference.features} features (sha256 ${info.reference.sha256.slice(0, 12)}…)` : 'no reference profile; register with --reference data');

  let card: ModelCard | null = null;
  if (info.card) card = (await registry.getCard(principal, `${model}@${candidate}`)).card;
  const cardMetrics = card?.quantitative_analysis?.performance_metrics ?? [];
  for (const m of gates.metrics) {
    const fromMeta = info.metadata[m.name];
    let value: number | null = typeof fromMeta === 'number' ? fromMeta : typeof fromMeta === 'string' && fromMeta.trim() !== '' && Number.isFinite(Number(fromMeta)) ? Number(fromMeta) : null;
    let source = 'metadata';
    if (value === null) {
      const hit = cardMetrics.find((x) => x.type === m.name && x.slice === undefined && x.value !== undefined) ?? cardMetrics.find((x) => x.type === m.name && x.value !== undefined);
      if (hit?.value !== undefined) {
        value = hit.value;
        source = `card${hit.slice ? ` (slice ${hit.slice})` : ''}`;
      }
    }
    const bound = [m.min !== undefined ? `>= ${m.min}` : '', m.max !== undefined ? `<= ${m.max}` : ''].filter(Boolean).join(' and ');
    const ok = value !== null && (m.min === undefined || value >= m.min) && (m.max === undefined || value <= m.max);
    gate(`metric ${m.name}`, true, ok, value === null ? `${m.name} is recorded neither in metadata nor in the card; needs ${bound}` : `${m.name} = ${value} from ${source}; needs ${bound}`);
  }

  if (gates.sliceGap) {
    const { metric, max } = gates.sliceGap;
    const slices = cardMetrics.filter((x) => x.type === metric && x.slice !== undefined && x.value !== undefined);
    if (slices.length < 2) {
      items.push({ name: `fairness ${metric} across slices`, status: 'skip', evidence: `fewer than two slices of ${metric} recorded in the card` });
    } else {
      const lo = slices.reduce((a, b) => (b.value! < a.value! ? b : a));
      const hi = slices.reduce((a, b) => (b.value! > a.value! ? b : a));
      const gap = hi.value! - lo.value!;
      gate(`fairness ${metric} across slices`, true, gap <= max, `gap ${round(gap)} between "${hi.slice}" (${hi.value}) and "${lo.slice}" (${lo.value}); allowed ${max}`);
    }
  }

  if (stable !== null && stable !== candidate) {
    const d = await registry.diff(principal, model, String(stable), String(candidate));
    const breaking = d.signature.changes.filter((c) => c.breaking);
    const summary = breaking.length === 0 ? `no breaking change from ${model}@${stable}` : breaking.map((c) => `${c.side} ${c.name} ${c.change}${c.details.length ? ` (${c.details.join(', ')})` : ''}`).join('; ');
    items.push({ name: 'signature compatible with stable', status: breaking.length === 0 ? 'pass' : gates.allowBreakingSignature ? 'skip' : 'fail', evidence: breaking.length > 0 && gates.allowBreakingSignature ? `allowed by gates.allowBreakingSignature: ${summary}` : summary });
  } else {
    items.push({ name: 'signature compatible with stable', status: 'skip', evidence: 'no stable version to compare with' });
  }

  const slos = args.slos ?? [];
  gate('SLO and alert route', gates.requireSlo, slos.length > 0, slos.length > 0 ? `SLO${slos.length === 1 ? '' : 's'} ${slos.join(', ')}; alerts go to the route of the model owner's team (else default)` : `deployment ${args.deployment} has no SLO; apply one with \`modelgate slo apply -f\``);

  return { deployment: args.deployment, model, candidate, stable, passed: items.every((i) => i.status !== 'fail'), items };
}

function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}
