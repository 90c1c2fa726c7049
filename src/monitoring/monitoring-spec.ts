// The `monitoring` section of a Deployment file: what is logged (and redacted), how long it is kept, which
// attributes slice the quality figures, how drift and data quality are judged, and how labels are read.
// Every field has a default, so a deployment is monitored as soon as it is applied.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelgateError } from '../errors/index.js';
import { parseDuration } from '../rollout/duration.js';
import { compileRedactor } from './privacy/redact.js';

const Duration = (description: string, fallback: string) => Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], { description, default: fallback });

const Source = Type.Object(
  {
    header: Type.Optional(Type.String({ minLength: 1 })),
    input: Type.Optional(Type.String({ minLength: 1, description: 'A V1 instance field or V2 input (its first value per row).' })),
  },
  { additionalProperties: false },
);

const SliceSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' }),
    header: Type.Optional(Type.String({ minLength: 1 })),
    input: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const TestName = Type.Union([Type.Literal('ks'), Type.Literal('chisquare'), Type.Literal('z'), Type.Literal('wasserstein'), Type.Literal('jensenshannon'), Type.Literal('psi')]);
const FieldRule = Type.Union([Type.Literal('drop'), Type.Literal('hash'), Type.Literal('mask'), Type.Literal('keep')]);
const Detector = Type.Union([Type.Literal('email'), Type.Literal('phone'), Type.Literal('credit_card'), Type.Literal('iban'), Type.Literal('ip'), Type.Literal('ssn')]);

export const MonitoringSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    sample: Type.Number({ minimum: 0, maximum: 1, default: 0.01, description: 'Share of requests whose redacted inputs and outputs are stored; every failed request is stored too.' }),
    retention: Duration('How long prediction records, payloads, labels and profiles are kept before the background purge deletes them.', '30d'),
    subject: Type.Optional(Type.Object(Source.properties, { additionalProperties: false, description: 'Whose data a request is (stored only as a salted hash), for `privacy erase`. Default: the routing key.' })),
    slices: Type.Array(SliceSchema, { default: [], maxItems: 16, description: 'Attributes the quality figures are broken down by.' }),
    sensitive: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Slice names that fairness is computed over.' }),
    redact: Type.Object(
      {
        fields: Type.Record(Type.String({ minLength: 1 }), FieldRule, { default: {}, description: 'By field name, at any depth: drop, hash (salted), mask or keep.' }),
        detectors: Type.Union([Type.Boolean(), Type.Array(Detector)], { default: true, description: 'Personal data detectors run over every string.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    task: Type.Optional(Type.Union([Type.Literal('classification'), Type.Literal('regression')], { description: 'Default: classification when the model has an integer or string label output.' })),
    labelOutput: Type.Optional(Type.String({ minLength: 1, description: 'The output holding the prediction. Default: "label" when present, else the first output.' })),
    scoreOutput: Type.Optional(Type.String({ minLength: 1, description: 'The output holding class probabilities [batch, classes]. Default: "probabilities" when present.' })),
    positive: Type.Union([Type.String(), Type.Number()], { default: 1, description: 'The positive class (its index in the score output when numeric).' }),
    drift: Type.Object(
      {
        window: Duration('The live window compared with the reference.', '1h'),
        bucket: Duration('Profiles are kept per bucket of this length, so any window can be merged from them.', '1m'),
        minRows: Type.Integer({ minimum: 1, default: 100, description: 'Below this many rows in the window, drift is not judged.' }),
        tests: Type.Record(Type.String(), TestName, { default: {} }),
        thresholds: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {} }),
        shareThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
      },
      { default: {}, additionalProperties: false },
    ),
    dataQuality: Type.Object(
      {
        action: Type.Union([Type.Literal('allow'), Type.Literal('reject'), Type.Literal('fallback')], { default: 'allow', description: 'For a request with a missing value, a value outside the reference range or an unseen category: allow (and flag), reject with 400, or answer from the fallback chain (spec.resilience.fallback; marked degraded).' }),
        rangeTolerance: Type.Number({ minimum: 0, default: 0.1, description: 'Values within this share of the reference range beyond its min and max still count as in range.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    concept: Type.Object(
      {
        window: Duration('Labelled window compared with the reference metrics of the version (metadata or card).', '24h'),
        minLabels: Type.Integer({ minimum: 1, default: 50 }),
        maxDrop: Type.Number({ minimum: 0, default: 0.05, description: 'Absolute degradation that flags concept drift.' }),
        perMetric: Type.Record(Type.String(), Type.Number({ minimum: 0 }), { default: {} }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { default: {}, additionalProperties: false },
);

export type MonitoringSpec = Static<typeof MonitoringSchema>;

/** What a schema cannot say about the monitoring section; `where` names the path in the file. */
export function checkMonitoringSpec(m: MonitoringSpec, where: (path: string) => string): void {
  const bad = (path: string, message: string) => new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.monitoring.${path}`)}: ${message}`);
  for (const [path, d] of [['retention', m.retention], ['drift.window', m.drift.window], ['drift.bucket', m.drift.bucket], ['concept.window', m.concept.window]] as const) {
    const v = parseDuration(d);
    if (v === undefined) throw bad(path, `"${d}" is not a duration; write e.g. 30s, 5m, 24h, 30d.`);
    if (v < 1000) throw bad(path, `"${d}" is shorter than a second.`);
  }
  if (parseDuration(m.drift.window)! < parseDuration(m.drift.bucket)!) throw bad('drift.window', `the window (${m.drift.window}) is shorter than a bucket (${m.drift.bucket}).`);
  if (m.subject && (m.subject.header === undefined) === (m.subject.input === undefined)) throw bad('subject', 'takes exactly one of header or input.');
  const names = new Set<string>();
  for (const [i, s] of m.slices.entries()) {
    if ((s.header === undefined) === (s.input === undefined)) throw bad(`slices[${i}]`, 'takes exactly one of header or input.');
    if (names.has(s.name)) throw bad(`slices[${i}].name`, `"${s.name}" is named twice.`);
    names.add(s.name);
  }
  for (const [i, s] of m.sensitive.entries()) {
    if (!names.has(s)) throw bad(`sensitive[${i}]`, `"${s}" is not a slice; declare it under spec.monitoring.slices first (slices: ${[...names].join(', ') || 'none'}).`);
  }
  try {
    // The same compile the gateway does on the first request, so a bad rule fails at apply time.
    compileRedactor({ fields: m.redact.fields, detectors: m.redact.detectors, salt: 'validation-only-salt' });
  } catch (e) {
    throw bad('redact', (e as Error).message);
  }
}

/** A deployment's monitoring section with every default filled (deployments applied before it existed have none). */
export function monitoringOf(spec: { monitoring?: unknown }): MonitoringSpec {
  return Value.Default(MonitoringSchema, Value.Clone(spec.monitoring ?? {})) as MonitoringSpec;
}
