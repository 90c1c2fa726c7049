// Reading what monitoring needs from one answered request: the prediction and score of each row, slice
// attributes, the subject key, and a JSON copy of the outputs. Nothing here may throw on a client's body:
// the request has been answered already, and a shape we cannot read is simply not recorded.
import type { Tensor, TensorMap } from '../runtime/types.js';
import { headerValue, requestView, routingKey, type RequestView } from '../rollout/traffic/request-view.js';
import type { MonitoringSpec } from './monitoring-spec.js';

export interface RowPrediction {
  /** The predicted label (classification) or value (regression), as JSON-safe scalar. */
  prediction: string | number | null;
  /** Probability of the positive class, when the model gives class probabilities. */
  score: number | null;
}

/** The output tensors a deployment's predictions are read from, chosen once per version signature. */
export interface OutputPlan {
  label: string | undefined;
  score: string | undefined;
  /** Column of the positive class in the score output. */
  positiveIndex: number;
}

export function outputPlan(spec: MonitoringSpec, outputNames: readonly string[]): OutputPlan {
  const label = spec.labelOutput ?? (outputNames.includes('label') ? 'label' : outputNames[0]);
  const score = spec.scoreOutput ?? (outputNames.includes('probabilities') ? 'probabilities' : undefined);
  const positiveIndex = typeof spec.positive === 'number' && Number.isInteger(spec.positive) && spec.positive >= 0 ? spec.positive : /^\d+$/.test(String(spec.positive)) ? Number(spec.positive) : 1;
  return { label, score, positiveIndex };
}

function scalarAt(t: Tensor, i: number): string | number | null {
  const v = t.data[i];
  if (v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  return v;
}

/** One prediction per row. An output whose first dimension is not `rows` yields nulls. */
export function rowPredictions(outputs: TensorMap, rows: number, plan: OutputPlan): RowPrediction[] {
  const out: RowPrediction[] = [];
  const label = plan.label !== undefined ? outputs[plan.label] : undefined;
  const score = plan.score !== undefined ? outputs[plan.score] : undefined;
  const labelWidth = label && label.shape[0] === rows ? label.data.length / rows : 0;
  const scoreWidth = score && score.shape[0] === rows ? score.data.length / rows : 0;
  for (let r = 0; r < rows; r++) {
    let s: number | null = null;
    if (scoreWidth > plan.positiveIndex) {
      const v = scalarAt(score!, r * scoreWidth + plan.positiveIndex);
      s = typeof v === 'number' ? v : null;
    } else if (scoreWidth === 1) {
      const v = scalarAt(score!, r);
      s = typeof v === 'number' ? v : null;
    }
    out.push({ prediction: labelWidth >= 1 ? scalarAt(label!, r * labelWidth) : null, score: s });
  }
  return out;
}

/** Outputs as plain JSON (typed arrays to arrays, 64-bit integers to numbers), for a sampled payload. */
export function outputsJson(outputs: TensorMap): Record<string, { shape: number[]; data: unknown[] }> {
  const o: Record<string, { shape: number[]; data: unknown[] }> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const data: unknown[] = [];
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      data.push(typeof v === 'bigint' ? Number(v) : typeof v === 'number' && !Number.isFinite(v) ? null : v);
    }
    o[name] = { shape: t.shape, data };
  }
  return o;
}

type Headers = Record<string, string | string[] | undefined>;

/** A request's slice attributes, per row (V1 object rows may differ; everything else is read once per request). */
export function rowSlices(spec: MonitoringSpec, headers: Headers, body: unknown, protocol: 'v1' | 'v2', features: readonly string[] | null, rows: number): Record<string, string>[] {
  if (spec.slices.length === 0) return Array.from({ length: rows }, () => ({}));
  let view: RequestView | undefined;
  const shared: Record<string, string> = {};
  const perRow: { name: string; input: string }[] = [];
  const instances = protocol === 'v1' && isRecord(body) && Array.isArray(body.instances) ? (body.instances as unknown[]) : null;
  for (const s of spec.slices) {
    if (s.header !== undefined) {
      view ??= requestView(headers, body, protocol, features);
      const h = view.header(s.header.toLowerCase());
      if (h !== undefined) shared[s.name] = h;
    } else if (instances && instances.some((r) => isRecord(r))) {
      perRow.push({ name: s.name, input: s.input! });
    } else {
      view ??= requestView(headers, body, protocol, features);
      const v = view.input(s.input!);
      if (v !== undefined && v !== null) shared[s.name] = String(v);
    }
  }
  const out: Record<string, string>[] = [];
  for (let r = 0; r < rows; r++) {
    if (perRow.length === 0) {
      out.push(shared);
      continue;
    }
    const row: Record<string, string> = { ...shared };
    const inst = instances?.[r];
    for (const p of perRow) {
      const v = isRecord(inst) && Object.hasOwn(inst, p.input) ? inst[p.input] : undefined;
      if (v !== undefined && v !== null && typeof v !== 'object') row[p.name] = String(v);
    }
    out.push(row);
  }
  return out;
}

export type SubjectReader = (headers: Headers, body: unknown, protocol: 'v1' | 'v2', features: readonly string[] | null) => string | undefined;

/**
 * The subject key of a request (before hashing), read as compiled once per deployment policy: monitoring.subject,
 * else the deployment's routing key. A header-only source reads the header straight, with no view or key object
 * per request.
 */
export function subjectReader(spec: MonitoringSpec, routing: { header?: string; input?: string } | undefined): SubjectReader {
  const source = spec.subject ?? routing;
  if (source === undefined) return () => undefined;
  const key = { ...(source.header !== undefined ? { header: source.header.toLowerCase() } : {}), ...(source.input !== undefined ? { input: source.input } : {}) };
  if (key.header !== undefined && key.input === undefined) {
    const name = key.header;
    return (headers) => {
      const h = headerValue(headers, name);
      return h === '' ? undefined : h;
    };
  }
  return (headers, body, protocol, features) => routingKey(key, requestView(headers, body, protocol, features));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
