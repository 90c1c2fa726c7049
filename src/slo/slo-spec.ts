// The SLO file (`apiVersion: modelgate/v1`, `kind: SLO`, in the spirit of OpenSLO): its schema, parsing from
// YAML or JSON, validation with messages that name the field, and normalisation into `SloSpec`.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { explainProblems } from '../config/schema-problems.js';
import { parseAllDocuments } from 'yaml';
import { ModelgateError } from '../errors/index.js';
import { parseDuration } from '../rollout/duration.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';

/** Invalid SLO files raise MG_ERR_SLO_INVALID (src/errors/codes.ts) with the SLO and field named. */
export class SloSpecError extends ModelgateError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('MG_ERR_SLO_INVALID', message, details);
  }
}

const Duration = (description: string, fallback?: string) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], { description, ...(fallback ? { default: fallback } : {}) });

export const SLI_TYPES = ['availability', 'latency', 'drift_free', 'accuracy', 'fallback_rate'] as const;
export type SliType = (typeof SLI_TYPES)[number];

const SliSchema = Type.Object(
  {
    type: Type.Union(SLI_TYPES.map((t) => Type.Literal(t))),
    thresholdMs: Type.Optional(Type.Number({ description: 'latency: a request slower than this is bad. Must be one of the request-duration histogram buckets.' })),
    minAccuracy: Type.Optional(Type.Number({ description: 'accuracy: the time the labelled accuracy is below this is bad.' })),
  },
  { additionalProperties: false },
);

const AlertRowSchema = Type.Object(
  {
    long: Duration('The long window: the burn must have lasted this long.'),
    short: Duration('The short window: the burn must still be going on (so the alert resets quickly).'),
    burnRate: Type.Number({ description: 'Fires when both windows burn the error budget faster than this factor.' }),
  },
  { additionalProperties: false },
);

// The multiwindow, multi-burn-rate table of the Google SRE workbook (chapter 5, "Alerting on SLOs").
const DEFAULT_PAGE = [
  { long: '1h', short: '5m', burnRate: 14.4 },
  { long: '6h', short: '30m', burnRate: 6 },
];
const DEFAULT_TICKET = [
  { long: '1d', short: '2h', burnRate: 3 },
  { long: '3d', short: '6h', burnRate: 1 },
];

const AlertingSchema = Type.Object(
  {
    page: Type.Array(AlertRowSchema, { default: DEFAULT_PAGE, maxItems: 8 }),
    ticket: Type.Array(AlertRowSchema, { default: DEFAULT_TICKET, maxItems: 8 }),
    budgetLowTicket: Type.Number({ default: 0.25, description: 'A ticket when less than this fraction of the error budget is left (0: when it is overspent).' }),
  },
  { default: {}, additionalProperties: false },
);

export const SloFileSchema = Type.Object(
  {
    apiVersion: Type.Literal('modelgate/v1'),
    kind: Type.Literal('SLO'),
    metadata: Type.Object(
      {
        name: Type.String({ minLength: 1 }),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
        annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        deployment: Type.String({ minLength: 1 }),
        description: Type.Optional(Type.String()),
        sli: SliSchema,
        objective: Type.Number({ description: 'The share of good events (or good time) the SLO promises, strictly between 0 and 1.' }),
        window: Duration('The rolling window the objective is measured over.', '28d'),
        degradedCountsAsBad: Type.Boolean({ default: true, description: 'availability: a degraded answer counts as a bad event.' }),
        alerting: AlertingSchema,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type SloFile = Static<typeof SloFileSchema>;

export interface AlertRow {
  /** As written (e.g. "1h"), for display. */
  long: string;
  short: string;
  longMs: number;
  shortMs: number;
  burnRate: number;
}

export type Sli = { type: 'availability' } | { type: 'latency'; thresholdMs: number } | { type: 'drift_free' } | { type: 'accuracy'; minAccuracy: number } | { type: 'fallback_rate' };

/** One SLO with every default filled and every duration in milliseconds. */
export interface SloSpec {
  name: string;
  deployment: string;
  description: string | undefined;
  sli: Sli;
  objective: number;
  /** 1 − objective, rounded so that 1 − 0.999 reads 0.001. */
  errorBudget: number;
  window: string;
  windowMs: number;
  degradedCountsAsBad: boolean;
  alerting: { page: AlertRow[]; ticket: AlertRow[]; budgetLowTicket: number };
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HOUR_MS = 3_600_000;

/** Splits a file into documents (YAML `---` or a JSON array) and validates each SLO; names must be unique. */
export function parseSloFiles(text: string, source = 'the file'): SloSpec[] {
  // YAML 1.2 reads JSON too, so one parser takes both; a top-level list is a list of documents.
  const values: unknown[] = [];
  for (const [i, d] of parseAllDocuments(text).entries()) {
    if (d.errors.length > 0) throw new SloSpecError(`${source} (document ${i + 1}) is not valid YAML or JSON: ${d.errors[0]!.message}`);
    const v: unknown = d.toJS();
    if (Array.isArray(v)) values.push(...(v as unknown[]));
    else if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) throw new SloSpecError(`${source} holds no document. Write an SLO (apiVersion: modelgate/v1, kind: SLO).`);
  const slos = values.map((v, i) => validateSloDocument(v, values.length > 1 ? `${source} (document ${i + 1})` : source));
  const names = new Set<string>();
  for (const s of slos) {
    if (names.has(s.name)) throw new SloSpecError(`${source} defines SLO "${s.name}" twice; give each SLO a distinct metadata.name.`);
    names.add(s.name);
  }
  return slos;
}

/** Fills defaults and checks one SLO document: the schema first, then what a schema cannot say. */
export function validateSloDocument(value: unknown, source = 'the SLO'): SloSpec {
  if (isObject(value) && value.kind !== undefined && value.kind !== 'SLO') {
    throw new SloSpecError(`${source}: kind "${String(value.kind)}" is not an SLO; write kind: SLO.`);
  }
  // Errors name the SLO once it is known: "weather-availability: spec.objective: …".
  const name = isObject(value) && isObject(value.metadata) && typeof value.metadata.name === 'string' ? value.metadata.name : source;
  const candidate = Value.Default(SloFileSchema, Value.Clone(value));
  if (!Value.Check(SloFileSchema, candidate)) {
    const problems = explainProblems(SloFileSchema, candidate, (path, e) => (path === 'spec.sli.type' ? `must be one of ${SLI_TYPES.join(', ')} (got ${JSON.stringify(e.value)})` : undefined));
    throw new SloSpecError(`${name}: not a valid SLO: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`, { problems });
  }
  const file = candidate;
  const bad = (path: string, what: string): SloSpecError => new SloSpecError(`${name}: ${path}: ${what}`);
  if (!NAME_RE.test(file.metadata.name)) throw bad('metadata.name', `"${file.metadata.name}" is not a valid name: use 1 to 64 lower-case letters, digits, dots, dashes or underscores.`);
  const spec = file.spec;
  if (!NAME_RE.test(spec.deployment)) throw bad('spec.deployment', `"${spec.deployment}" is not a valid deployment name.`);

  if (!(spec.objective > 0)) throw bad('spec.objective', `must be > 0 (got ${spec.objective})`);
  if (!(spec.objective < 1)) throw bad('spec.objective', `must be < 1 (got ${spec.objective}); write 0.999 for 99.9%`);

  const windowMs = parseDuration(spec.window);
  if (windowMs === undefined) throw bad('spec.window', `"${spec.window}" is not a duration; write e.g. 7d, 28d.`);
  if (windowMs < HOUR_MS) throw bad('spec.window', `must be at least 1h (got ${spec.window})`);

  const sli = checkSli(spec.sli, bad);

  const rows = (severity: 'page' | 'ticket'): AlertRow[] =>
    spec.alerting[severity].map((r, i) => {
      const path = `spec.alerting.${severity}[${i}]`;
      const longMs = parseDuration(r.long);
      const shortMs = parseDuration(r.short);
      if (longMs === undefined || longMs === 0) throw bad(`${path}.long`, `"${r.long}" is not a positive duration; write e.g. 1h.`);
      if (shortMs === undefined || shortMs === 0) throw bad(`${path}.short`, `"${r.short}" is not a positive duration; write e.g. 5m.`);
      if (!(shortMs < longMs)) throw bad(path, `short (${r.short}) must be shorter than long (${r.long})`);
      if (longMs > windowMs) throw bad(`${path}.long`, `${r.long} is longer than the SLO window (${spec.window}); the default table reaches 3d, so set spec.alerting for a short window`);
      if (!(r.burnRate > 0)) throw bad(`${path}.burnRate`, `must be > 0 (got ${r.burnRate})`);
      return { long: String(r.long), short: String(r.short), longMs, shortMs, burnRate: r.burnRate };
    });
  const page = rows('page');
  const ticket = rows('ticket');
  const low = spec.alerting.budgetLowTicket;
  if (!(low >= 0 && low < 1)) throw bad('spec.alerting.budgetLowTicket', `must be at least 0 and below 1 (got ${low})`);

  return {
    name: file.metadata.name,
    deployment: spec.deployment,
    description: spec.description,
    sli,
    objective: spec.objective,
    errorBudget: roundRatio(1 - spec.objective),
    window: String(spec.window),
    windowMs,
    degradedCountsAsBad: spec.degradedCountsAsBad,
    alerting: { page, ticket, budgetLowTicket: low },
  };
}

/** Removes the float noise of 1 − 0.999 (0.0010000000000000009) without changing any meaningful digit. */
export function roundRatio(x: number): number {
  return Number(x.toPrecision(12));
}

function checkSli(sli: SloFile['spec']['sli'], bad: (path: string, what: string) => SloSpecError): Sli {
  if (sli.thresholdMs !== undefined && sli.type !== 'latency') throw bad('spec.sli.thresholdMs', `only applies to type: latency (type is ${sli.type})`);
  if (sli.minAccuracy !== undefined && sli.type !== 'accuracy') throw bad('spec.sli.minAccuracy', `only applies to type: accuracy (type is ${sli.type})`);
  switch (sli.type) {
    case 'latency': {
      const t = sli.thresholdMs;
      if (t === undefined) throw bad('spec.sli.thresholdMs', 'latency needs thresholdMs, the duration above which a request is bad');
      if (!(t > 0)) throw bad('spec.sli.thresholdMs', `must be > 0 (got ${t})`);
      // The SLI counts requests in the histogram bucket at the threshold, so only bucket bounds can be measured.
      if (latencyBucket(t) === undefined) throw bad('spec.sli.thresholdMs', `${t} is not a request-duration histogram bucket; use one of ${DURATION_BUCKETS.map((b) => roundRatio(b * 1000)).join(', ')} (ms)`);
      return { type: 'latency', thresholdMs: t };
    }
    case 'accuracy': {
      const m = sli.minAccuracy;
      if (m === undefined) throw bad('spec.sli.minAccuracy', 'accuracy needs minAccuracy, the accuracy below which the model counts as bad');
      if (!(m > 0 && m <= 1)) throw bad('spec.sli.minAccuracy', `must be in (0, 1] (got ${m})`);
      return { type: 'accuracy', minAccuracy: m };
    }
    default:
      return { type: sli.type };
  }
}

/** The histogram bound (seconds) a latency threshold in milliseconds falls on, if any. */
export function latencyBucket(thresholdMs: number): number | undefined {
  return DURATION_BUCKETS.find((b) => Math.abs(b * 1000 - thresholdMs) <= 1e-9 * Math.max(1, thresholdMs));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
