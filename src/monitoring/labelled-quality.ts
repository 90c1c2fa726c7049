// Labelled quality of a deployment over a window: prediction records joined with their feedback (the latest
// label per row wins), per version and slice, with calibration, fairness over the sensitive attributes,
// concept drift against the version's released metrics, label drift against its reference label profile,
// and business outcomes per version and arm.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../store/database.js';
import type { ReferenceProfile } from '../registry/profile/types.js';
import type { Tables } from '../store/tables.js';
import { chooseTest } from './drift/report.js';
import { chiSquareDrift, jensenShannonDistance, zTestProportions } from './drift/statistics.js';
import type { MonitoringSpec } from './monitoring-spec.js';
import { conceptDrift, type ConceptDriftResult } from './quality/concept-drift.js';
import { fairness, type FairnessReport } from './quality/fairness.js';
import {
  classificationMetrics,
  labelDistribution,
  labelKey,
  regressionMetrics,
  sliceMetrics,
  type ClassificationMetrics,
  type LabelledRecord,
  type LabelValue,
  type RegressionMetrics,
  type SliceMetrics,
} from './quality/labelled-metrics.js';
import { aggregateOutcomes, type OutcomeFeedback, type OutcomeSummary } from './quality/outcomes.js';

export interface JoinedRow {
  version: number;
  arm: string;
  at: string;
  prediction: LabelValue | null;
  score: number | null;
  slice: Record<string, string>;
  label: LabelValue | null | undefined;
  outcomes: { name: string; value?: number }[];
}

export interface LabelDrift {
  test: 'z' | 'chisquare' | 'jensenshannon';
  statistic: number;
  p_value?: number;
  threshold: number;
  drifted: boolean;
  reference: Record<string, number>;
  current: Record<string, number>;
}

export interface VersionQuality {
  version: number;
  task: 'classification' | 'regression';
  predictions: number;
  labelled: number;
  metrics: ClassificationMetrics | RegressionMetrics;
  slices: SliceMetrics<ClassificationMetrics | RegressionMetrics>[];
  fairness: FairnessReport[];
  concept: (ConceptDriftResult & { enough: boolean; reference_sources: Record<string, string> }) | null;
  label_drift: LabelDrift | null;
}

export interface QualityReport {
  deployment: string;
  window: { from: string; to: string };
  versions: VersionQuality[];
  outcomes: OutcomeSummary[];
}

/**
 * A label can only be sent for an answer its client has had, so it is received after the record's time; this
 * much earlier is allowed for clocks of different replicas.
 */
const LABEL_CLOCK_SKEW_MS = 3_600_000;

/**
 * The labelled prediction records of a deployment in [from, to), and its prediction counts per version and arm.
 * Neither reads every record in the window: the labels are found from the feedback received since the window
 * began (then each record by its key), and the counts are summed from prediction_counts, per second. The counts'
 * first second may hold records from just before `from`: they are exact to the second.
 */
export async function readJoined(db: Kysely<Tables>, dialect: Dialect, deployment: string, from: Date, to: Date): Promise<{ rows: JoinedRow[]; predictions: Map<string, number> }> {
  // SQLite's planner would walk the window's records and look each label up (the deployment index looks more
  // selective than it is); CROSS JOIN makes the labels the outer loop there. PostgreSQL plans from statistics.
  const join = dialect === 'sqlite' ? sql`CROSS JOIN` : sql`INNER JOIN`;
  const labelsFrom = new Date(from.getTime() - LABEL_CLOCK_SKEW_MS).toISOString();
  const recs = (
    await sql<{ request_id: string; row: number; version: number; arm: string; at: string; prediction: string; score: number | null; slice: string; label: string | null; outcomes: string | null; id: number }>`
      SELECT r.request_id, r."row", r.version, r.arm, r.at, r.prediction, r.score, r.slice, f.label, f.outcomes, f.id
      FROM feedback f ${join} prediction_records r ON r.request_id = f.request_id AND r."row" = f."row"
      WHERE f.received_at >= ${labelsFrom} AND r.deployment = ${deployment} AND r.at >= ${from.toISOString()} AND r.at < ${to.toISOString()}`.execute(db)
  ).rows;
  // In the order the labels came: later feedback corrects an earlier label.
  recs.sort((a, b) => Number(a.id) - Number(b.id));
  const byRow = new Map<string, JoinedRow>();
  for (const r of recs) {
    const key = `${r.request_id}\u0000${r.row}`;
    let j = byRow.get(key);
    if (!j) {
      j = { version: r.version, arm: r.arm, at: r.at, prediction: JSON.parse(r.prediction) as LabelValue | null, score: r.score, slice: JSON.parse(r.slice) as Record<string, string>, label: undefined, outcomes: [] };
      byRow.set(key, j);
    }
    if (r.label !== null) j.label = JSON.parse(r.label) as LabelValue | null;
    if (r.outcomes !== null) j.outcomes.push(...(JSON.parse(r.outcomes) as { name: string; value?: number }[]));
  }
  const counts = await db
    .selectFrom('prediction_counts')
    .select(['version', 'arm', (eb) => eb.fn.sum<string | number>('n').as('n')])
    .where('deployment', '=', deployment)
    .where('at', '>=', new Date(Math.floor(from.getTime() / 1000) * 1000).toISOString())
    .where('at', '<', to.toISOString())
    .groupBy(['version', 'arm'])
    .execute();
  const predictions = new Map(counts.map((c) => [`${c.version}\u0000${c.arm}`, Number(c.n)]));
  return { rows: [...byRow.values()], predictions };
}

export function taskOf(spec: MonitoringSpec, rows: readonly JoinedRow[]): 'classification' | 'regression' {
  if (spec.task) return spec.task;
  // Scores mean class probabilities; otherwise integer or string predictions read as classes.
  if (rows.some((r) => r.score !== null)) return 'classification';
  return rows.every((r) => r.prediction === null || typeof r.prediction === 'string' || typeof r.prediction === 'boolean' || Number.isInteger(r.prediction)) ? 'classification' : 'regression';
}

export interface QualityInputs {
  deployment: string;
  spec: MonitoringSpec;
  from: Date;
  to: Date;
  rows: JoinedRow[];
  predictions: Map<string, number>;
  /** Per version: released metrics and the reference profile (for label drift). */
  references: Map<number, { metrics: Record<string, number>; sources: Record<string, string>; profile: ReferenceProfile | null }>;
}

export function qualityReport(q: QualityInputs): QualityReport {
  const { spec } = q;
  const versions = [...new Set([...q.rows.map((r) => r.version), ...[...q.predictions.keys()].map((k) => Number(k.split('\u0000')[0]))])].sort((a, b) => a - b);
  const out: VersionQuality[] = [];
  for (const version of versions) {
    const mine = q.rows.filter((r) => r.version === version);
    const labelled: LabelledRecord[] = [];
    for (const r of mine) {
      if (r.label === undefined || r.label === null || r.prediction === null) continue;
      labelled.push({ prediction: r.prediction, label: r.label, score: r.score, slice: r.slice });
    }
    const task = taskOf(spec, mine);
    const predictions = [...q.predictions].filter(([k]) => Number(k.split('\u0000')[0]) === version).reduce((s, [, n]) => s + n, 0);
    const sliceKeys = spec.slices.map((s) => s.name);
    const metrics = task === 'classification' ? classificationMetrics(labelled, { positive: spec.positive }) : regressionMetrics(labelled);
    const slices = (task === 'classification' ? sliceMetrics(labelled, sliceKeys, 'classification', { positive: spec.positive }) : sliceMetrics(labelled, sliceKeys, 'regression')).slice(1);
    const fair = task === 'classification' ? spec.sensitive.map((a) => fairness(labelled, a, { positive: spec.positive })) : [];
    const ref = q.references.get(version);
    let concept: VersionQuality['concept'] = null;
    if (ref && Object.keys(ref.metrics).length > 0) {
      const current: Record<string, number | null> = {};
      for (const k of Object.keys(ref.metrics)) current[k] = (metrics as unknown as Record<string, number | null>)[k] ?? null;
      const enough = labelled.length >= spec.concept.minLabels;
      const c = conceptDrift(current, ref.metrics, { maxDrop: spec.concept.maxDrop, perMetric: spec.concept.perMetric });
      concept = { ...c, degraded: enough && c.degraded, enough, reference_sources: ref.sources };
    }
    out.push({ version, task, predictions, labelled: labelled.length, metrics, slices, fairness: fair, concept, label_drift: labelDrift(labelled, ref?.profile ?? null) });
  }
  const fb: OutcomeFeedback[] = q.rows.filter((r) => r.outcomes.length > 0).map((r) => ({ version: r.version, arm: r.arm, events: r.outcomes }));
  const counts = [...q.predictions].map(([k, n]) => ({ version: Number(k.split('\u0000')[0]), arm: k.split('\u0000')[1]!, predictions: n }));
  return { deployment: q.deployment, window: { from: q.from.toISOString(), to: q.to.toISOString() }, versions: out, outcomes: fb.length > 0 ? aggregateOutcomes(fb, counts) : [] };
}

/** Live labels against the reference profile's label column, with Evidently's default test for the column. */
function labelDrift(labelled: readonly LabelledRecord[], profile: ReferenceProfile | null): LabelDrift | null {
  const ref = profile?.label;
  if (!ref || labelled.length === 0) return null;
  const reference: Record<string, number> = {};
  if (ref.type === 'categorical') for (const c of ref.categories) reference[c.value] = c.count;
  else if (ref.distinct === 2 && ref.min !== null && ref.max !== null && ref.mean !== null && ref.max > ref.min) {
    // A 0/1 label profiled as a number: its two counts follow exactly from the mean.
    const high = Math.round(((ref.mean - ref.min) / (ref.max - ref.min)) * ref.count);
    reference[labelKey(ref.min)] = ref.count - high;
    reference[labelKey(ref.max)] = high;
  } else return null;
  const current: Record<string, number> = {};
  for (const [k, n] of Object.entries(labelDistribution(labelled))) current[labelKey(k)] = n;
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(current)])];
  const test = chooseTest(keys.length <= 2 ? 'binary' : 'categorical', ref.count, keys.length);
  if (test === 'z') {
    const r = zTestProportions(reference, current);
    return { test, statistic: r.statistic, p_value: r.pValue, threshold: 0.05, drifted: r.pValue < 0.05, reference, current };
  }
  if (test === 'chisquare') {
    const r = chiSquareDrift(reference, current);
    return { test, statistic: r.statistic, p_value: r.pValue, threshold: 0.05, drifted: r.pValue < 0.05, reference, current };
  }
  const d = jensenShannonDistance(keys.map((k) => reference[k] ?? 0), keys.map((k) => current[k] ?? 0));
  return { test: 'jensenshannon', statistic: d, threshold: 0.1, drifted: d >= 0.1, reference, current };
}
