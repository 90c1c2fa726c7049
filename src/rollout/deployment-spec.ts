// The Deployment file (`apiVersion: modelgate/v1`, `kind: Deployment`): its schema, parsing from YAML or JSON,
// validation with messages that name the field, and normalisation into the shape the rest of the code reads.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { explainProblems } from '../config/schema-problems.js';
import { parseAllDocuments } from 'yaml';
import { BatchingSchema } from '../config/schema.js';
import { ModelgateError } from '../errors/index.js';
import { checkModelName, parseVersionSelector } from '../registry/names.js';
import { parseDuration } from './duration.js';
import { checkMonitoringSpec, MonitoringSchema } from '../monitoring/monitoring-spec.js';
import { PolicySchema, ResilienceSchema } from '../serving/resilience/resilience-spec.js';

const Duration = (description: string, fallback?: string) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], { description, ...(fallback ? { default: fallback } : {}) });

const VersionRef = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], { description: 'A version number or an alias (production, staging, …).' });

export const ArmSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$', description: 'Defaults to the role; unique within the deployment.' })),
    version: VersionRef,
    weight: Type.Number({ minimum: 0, maximum: 100, description: 'Percent of traffic (stable and canary arms sum to 100); for a shadow arm, the percent of requests mirrored.' }),
    role: Type.Union([Type.Literal('stable'), Type.Literal('canary'), Type.Literal('shadow')]),
  },
  { additionalProperties: false },
);

const Condition = Type.Object(
  {
    header: Type.Optional(Type.String({ minLength: 1 })),
    parameter: Type.Optional(Type.String({ minLength: 1 })),
    input: Type.Optional(Type.String({ minLength: 1 })),
    op: Type.Union([Type.Literal('equals'), Type.Literal('in'), Type.Literal('regex'), Type.Literal('gt'), Type.Literal('gte'), Type.Literal('lt'), Type.Literal('lte'), Type.Literal('exists')]),
    value: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    values: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const TargetingRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }),
    match: Type.Array(Condition, { minItems: 1 }),
    percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    arm: Type.String({ minLength: 1, description: 'The name of the arm the matching requests go to.' }),
  },
  { additionalProperties: false },
);

const CanaryStep = Type.Union([
  Type.Object({ setWeight: Type.Number({ minimum: 0, maximum: 100 }) }, { additionalProperties: false }),
  Type.Object({ pause: Type.Object({ duration: Type.Optional(Duration('Wait this long; without it, wait until `rollout resume` or `promote`.')) }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ analysis: Type.Object({ interval: Type.Optional(Duration('Window judged (default: analysisInterval).')) }, { additionalProperties: false }) }, { additionalProperties: false }),
  Type.Object({ approval: Type.Object({ required: Type.Integer({ minimum: 1, maximum: 10, default: 1 }) }, { additionalProperties: false }) }, { additionalProperties: false }),
]);

const ModelMetricRule = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'shadow_agreement, or a metric another feature supplies (drift_score, accuracy_delta, outcome:<name>).' }),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    maxDegradation: Type.Optional(Type.Number({ minimum: 0 })),
    critical: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const AnalysisSchema = Type.Object(
  {
    minSamples: Type.Integer({ minimum: 1, default: 50, description: 'Per arm and metric; below it the result is "not enough data" and the step waits.' }),
    deadline: Duration('How long an analysis may wait for enough data before onNoData applies.', '5m'),
    onNoData: Type.Union([Type.Literal('fail'), Type.Literal('pause')], { default: 'pause' }),
    maxErrorRate: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    errorAlpha: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.01 }),
    latency: Type.Object(
      {
        confidence: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.98 }),
        allowedIncrease: Type.Number({ minimum: 1, default: 1.25, description: 'Effect size (canary / stable) tolerated before a significant shift counts as High.' }),
        judgeShadow: Type.Boolean({
          default: false,
          description:
            'Judge a shadow candidate\'s latency too. Off by default: mirrored requests run after the live answer, in the same process, and on a busy machine they measured up to 2x slower on identical models, so their latency is reported as evidence (shadow_latency_ratio) and judged once the candidate takes real traffic.',
        }),
        shadowAllowedIncrease: Type.Number({ minimum: 1, default: 2, description: 'With judgeShadow: the effect size tolerated for a shadow candidate.' }),
        critical: Type.Boolean({ default: true }),
      },
      { default: {}, additionalProperties: false },
    ),
    srm: Type.Object({ enabled: Type.Boolean({ default: true }), alpha: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.001 }) }, { default: {}, additionalProperties: false }),
    passScore: Type.Number({ minimum: 0, maximum: 100, default: 95 }),
    marginalScore: Type.Number({ minimum: 0, maximum: 100, default: 75 }),
    metrics: Type.Array(ModelMetricRule, { default: [] }),
  },
  { default: {}, additionalProperties: false },
);

export const GatesSchema = Type.Object(
  {
    requireCard: Type.Boolean({ default: true }),
    requireOwner: Type.Boolean({ default: true }),
    requireReference: Type.Boolean({ default: true }),
    allowBreakingSignature: Type.Boolean({ default: false }),
    metrics: Type.Array(
      Type.Object({ name: Type.String({ minLength: 1, description: 'A metadata key, e.g. accuracy or fairness.sex.demographic_parity_difference.' }), min: Type.Optional(Type.Number()), max: Type.Optional(Type.Number()) }, { additionalProperties: false }),
      { default: [] },
    ),
    sliceGap: Type.Optional(
      Type.Object({ metric: Type.String({ minLength: 1, description: 'A card performance metric type recorded per slice.' }), max: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
    ),
    requireSlo: Type.Boolean({ default: false, description: 'The deployment must have at least one SLO (modelgate slo apply) before a rollout starts.' }),
  },
  { default: {}, additionalProperties: false },
);

export const StrategySchema = Type.Object(
  {
    canary: Type.Optional(
      Type.Object(
        {
          analysisInterval: Duration('How often the canary is judged, and the window of an analysis step.', '30s'),
          steps: Type.Array(CanaryStep, { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    blueGreen: Type.Optional(
      Type.Object(
        {
          previewPercent: Type.Number({ minimum: 0, maximum: 100, default: 100, description: 'Share of requests mirrored to the new version while it is previewed.' }),
          previewDuration: Duration('How long the preview runs before the switch (with analysis).', '1m'),
          analysisInterval: Duration('How often the preview is judged.', '30s'),
          approval: Type.Integer({ minimum: 0, maximum: 10, default: 0, description: 'Approvals needed before the switch.' }),
          rollbackWindow: Duration('How long the old version stays loaded after the switch.', '10m'),
        },
        { additionalProperties: false },
      ),
    ),
    shadow: Type.Optional(
      Type.Object(
        {
          percent: Type.Number({ minimum: 0, maximum: 100, default: 100 }),
          duration: Duration('How long the shadow phase runs before the canary steps.', '1m'),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { default: {}, additionalProperties: false },
);

export const DeploymentSpecSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    routingKey: Type.Optional(Type.Object({ header: Type.Optional(Type.String({ minLength: 1 })), input: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })),
    arms: Type.Array(ArmSchema, { minItems: 1, maxItems: 8 }),
    targeting: Type.Array(TargetingRuleSchema, { default: [], maxItems: 64 }),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: 'Request deadline for this deployment (at most serving.requestTimeoutMs).' })),
    // Its own object schema: BatchingSchema carries `default: {}`, which would give every deployment that does
    // not mention batching the schema's defaults instead of leaving the server's configuration in force.
    batching: Type.Optional(Type.Object(BatchingSchema.properties, { additionalProperties: false })),
    shadow: Type.Object({ tolerance: Type.Number({ minimum: 0, default: 1e-6 }), labelOutput: Type.Optional(Type.String()) }, { default: {}, additionalProperties: false }),
    strategy: StrategySchema,
    analysis: AnalysisSchema,
    gates: GatesSchema,
    bake: Duration('After promotion, how long analysis and automatic rollback stay armed against the previous version.', '24h'),
    monitoring: MonitoringSchema,
    resilience: ResilienceSchema,
    policy: PolicySchema,
  },
  { additionalProperties: false },
);

export const DeploymentFileSchema = Type.Object(
  {
    apiVersion: Type.Literal('modelgate/v1'),
    kind: Type.Literal('Deployment'),
    metadata: Type.Object(
      { name: Type.String({ minLength: 1 }), labels: Type.Optional(Type.Record(Type.String(), Type.String())), annotations: Type.Optional(Type.Record(Type.String(), Type.String())) },
      { additionalProperties: false },
    ),
    spec: DeploymentSpecSchema,
  },
  { additionalProperties: false },
);

export type DeploymentFile = Static<typeof DeploymentFileSchema>;
export type DeploymentSpec = Static<typeof DeploymentSpecSchema>;
export type ArmSpec = Static<typeof ArmSchema>;
export type TargetingRuleSpec = Static<typeof TargetingRuleSchema>;
export type AnalysisSpec = Static<typeof AnalysisSchema>;
export type GatesSpec = Static<typeof GatesSchema>;

/** An arm as stored: the name is always set. */
export interface Arm {
  name: string;
  /** standby: loaded, takes no traffic (the previous version after a promotion, ready for a rollback). */
  role: 'stable' | 'canary' | 'shadow' | 'standby';
  /** Version number as text, or an alias. */
  version: string;
  weight: number;
}

/** Splits a file into documents (YAML `---` or a JSON array) and validates each Deployment. */
export function parseDeploymentFiles(text: string, source = 'the file'): DeploymentFile[] {
  // YAML 1.2 reads JSON too, so one parser takes both; a top-level list is a list of documents.
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const [i, d] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (d.errors.length > 0) throw new ModelgateError('MG_ERR_DEPLOYMENT_FILE_UNREADABLE', `${source} (document ${i + 1}) is not valid YAML or JSON: ${d.errors[0]!.message}`);
    const v: unknown = d.toJS();
    if (Array.isArray(v)) values.push(...v);
    else if (v !== null && v !== undefined) values.push(v);
  }
  if (values.length === 0) throw new ModelgateError('MG_ERR_DEPLOYMENT_FILE_UNREADABLE', `${source} holds no document. Write a Deployment (apiVersion: modelgate/v1, kind: Deployment).`);
  const files = values.map((v, i) => validateDeploymentFile(v, values.length > 1 ? `${source} (document ${i + 1})` : source));
  const names = new Set<string>();
  for (const f of files) {
    if (names.has(f.metadata.name)) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${source} defines deployment "${f.metadata.name}" twice.`);
    names.add(f.metadata.name);
  }
  return files;
}

/** Fills defaults and checks one Deployment document: the schema first, then what a schema cannot say. */
export function validateDeploymentFile(value: unknown, source = 'the deployment'): DeploymentFile {
  if (isObject(value) && value.kind !== undefined && value.kind !== 'Deployment') {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${source}: kind "${String(value.kind)}" is not supported here; this command applies kind: Deployment.`);
  }
  const candidate = Value.Default(DeploymentFileSchema, Value.Clone(value));
  if (!Value.Check(DeploymentFileSchema, candidate)) {
    const problems = explainProblems(DeploymentFileSchema, candidate, (path) => (/steps\[\d+\]$/.test(path) ? 'a step is one of setWeight: <percent>, pause: {duration?}, analysis: {interval?}, approval: {required}' : undefined));
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${source} is not a valid Deployment: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`, { problems });
  }
  const file = candidate;
  const where = (path: string) => `${source}: ${path}`;
  try {
    checkModelName(file.metadata.name);
  } catch {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('metadata.name')} "${file.metadata.name}" is not a valid name: use 1 to 64 lower-case letters, digits, dots, dashes or underscores.`);
  }
  try {
    checkModelName(file.spec.model);
  } catch {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.model')} "${file.spec.model}" is not a valid model name.`);
  }
  const spec = file.spec;
  if (spec.routingKey && (spec.routingKey.header === undefined) === (spec.routingKey.input === undefined)) {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.routingKey')} takes exactly one of header or input.`);
  }
  const arms = normaliseArms(spec.arms, where);
  if (arms.filter((a) => a.role === 'stable').length !== 1) {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.arms')} needs exactly one arm with role: stable (it takes the traffic back when a rollout fails).`);
  }
  if (arms.filter((a) => a.role === 'canary').length > 1) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.arms')} has more than one canary arm; a deployment tests one candidate at a time.`);
  const served = arms.filter((a) => a.role !== 'shadow').reduce((s, a) => s + a.weight, 0);
  if (Math.abs(served - 100) > 1e-6) {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.arms')}: the stable and canary weights sum to ${served}, not 100. (A shadow arm's weight is the share mirrored and is not counted.)`);
  }
  for (const [i, a] of arms.entries()) {
    try {
      parseVersionSelector(a.version);
    } catch (e) {
      throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.arms[${i}].version`)}: ${(e as Error).message}`);
    }
  }
  const armNames = new Set(arms.map((a) => a.name));
  for (const [i, r] of spec.targeting.entries()) {
    if (!armNames.has(r.arm)) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.targeting[${i}].arm`)}: no arm named "${r.arm}" (arms: ${[...armNames].join(', ')}).`);
    if (arms.find((a) => a.name === r.arm)?.role === 'shadow') throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.targeting[${i}].arm`)}: "${r.arm}" is a shadow arm; shadows only receive mirrored traffic.`);
  }
  for (const [path, d] of durations(spec)) {
    if (parseDuration(d) === undefined) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(path)}: "${d}" is not a duration; write e.g. 500ms, 30s, 5m, 24h.`);
  }
  for (const [i, m] of spec.analysis.metrics.entries()) {
    if (['error_rate', 'latency', 'sample_ratio'].includes(m.name)) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.analysis.metrics[${i}].name`)}: "${m.name}" is built in; tune it with spec.analysis.maxErrorRate, latency or srm.`);
    if (m.name !== 'shadow_agreement' && m.name !== 'shadow_divergence' && m.min === undefined && m.max === undefined && m.maxDegradation === undefined) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.analysis.metrics[${i}]`)}: "${m.name}" needs min, max or maxDegradation to be judged by.`);
  }
  checkMonitoringSpec(spec.monitoring, where);
  checkResilience(spec, where);
  if (spec.analysis.marginalScore > spec.analysis.passScore) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.analysis')}: marginalScore (${spec.analysis.marginalScore}) is above passScore (${spec.analysis.passScore}).`);
  return file;
}

/** What the resilience schema cannot say: the fallback chain's references, and the cache a cache step needs. */
function checkResilience(spec: DeploymentSpec, where: (path: string) => string): void {
  const r = spec.resilience;
  if (spec.monitoring.dataQuality.action === 'fallback' && r.fallback.length === 0) {
    throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where('spec.monitoring.dataQuality.action')}: "fallback" needs a fallback chain (spec.resilience.fallback); add one, or use allow (flag) or reject.`);
  }
  for (const [i, step] of r.fallback.entries()) {
    const at = where(`spec.resilience.fallback[${i}]`);
    if (step.kind === 'version' || step.kind === 'model') {
      try {
        parseVersionSelector(String(step.version));
      } catch (e) {
        throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${at}.version: ${(e as Error).message}`);
      }
    }
    if (step.kind === 'model') {
      try {
        checkModelName(step.model);
      } catch {
        throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${at}.model "${step.model}" is not a valid model name.`);
      }
    }
    if (step.kind === 'cache' && !r.cache.enabled) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${at}: a cache fallback needs spec.resilience.cache.enabled: true.`);
    if (step.kind === 'static') {
      for (const [j, o] of step.outputs.entries()) {
        const bad = o.data.find((v) => (o.datatype === 'BYTES' ? typeof v !== 'string' : o.datatype === 'BOOL' ? typeof v !== 'boolean' : typeof v !== 'number'));
        if (bad !== undefined) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${at}.outputs[${j}].data: ${JSON.stringify(bad)} is not a ${o.datatype} value.`);
      }
    }
    if (step.kind === 'review' && i !== r.fallback.length - 1) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${at}: the review queue answers every request it gets, so it must be the last step of the chain.`);
  }
}

/** Arms with their names filled in and versions as text. */
export function normaliseArms(arms: ArmSpec[], where: (path: string) => string = (p) => p): Arm[] {
  const out: Arm[] = [];
  const names = new Set<string>();
  for (const [i, a] of arms.entries()) {
    const name = a.name ?? a.role;
    if (names.has(name)) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${where(`spec.arms[${i}]`)}: two arms are named "${name}"; give each a distinct name.`);
    names.add(name);
    out.push({ name, role: a.role, version: String(a.version), weight: a.weight });
  }
  return out;
}

function* durations(spec: DeploymentSpec): Generator<[string, string | number]> {
  yield ['spec.bake', spec.bake];
  yield ['spec.analysis.deadline', spec.analysis.deadline];
  const c = spec.strategy.canary;
  if (c) {
    yield ['spec.strategy.canary.analysisInterval', c.analysisInterval];
    for (const [i, s] of c.steps.entries()) {
      if ('pause' in s && s.pause.duration !== undefined) yield [`spec.strategy.canary.steps[${i}].pause.duration`, s.pause.duration];
      if ('analysis' in s && s.analysis.interval !== undefined) yield [`spec.strategy.canary.steps[${i}].analysis.interval`, s.analysis.interval];
    }
  }
  const b = spec.strategy.blueGreen;
  if (b) {
    yield ['spec.strategy.blueGreen.previewDuration', b.previewDuration];
    yield ['spec.strategy.blueGreen.analysisInterval', b.analysisInterval];
    yield ['spec.strategy.blueGreen.rollbackWindow', b.rollbackWindow];
  }
  if (spec.strategy.shadow) yield ['spec.strategy.shadow.duration', spec.strategy.shadow.duration];
  const cb = spec.resilience.circuitBreaker;
  yield ['spec.resilience.circuitBreaker.window', cb.window];
  yield ['spec.resilience.circuitBreaker.openFor', cb.openFor];
  yield ['spec.resilience.cache.ttl', spec.resilience.cache.ttl];
}

/** Milliseconds of a duration the schema has already checked. */
export function ms(d: string | number): number {
  const v = parseDuration(d);
  if (v === undefined) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `"${d}" is not a duration; write e.g. 500ms, 30s, 5m, 24h.`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
