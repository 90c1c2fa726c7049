// Live drift and data quality of a deployment over a window, from the profiles in the store: every replica's
// buckets in the window merged per version (counts add), then compared with the version's reference profile
// (inputs) and with the window before (the outputs, which have no reference).
import type { Kysely } from 'kysely';
import type { ReferenceProfile } from '../registry/profile/types.js';
import type { Tables } from '../store/tables.js';
import type { DriftOptions, DriftReport } from './drift/report.js';
import type { MonitoringSpec } from './monitoring-spec.js';
import { driftBetweenWindows, driftFromProfiles, referenceFallbacks } from './profile/profile-drift.js';
import { mergeProfiles, type WindowFeature, type WindowProfile } from './profile/profile.js';
import { monitoringLayout, PREDICTION_FEATURE, SCORE_FEATURE } from './recorder.js';

export interface FeatureQuality {
  name: string;
  rows: number;
  missing_rate: number;
  out_of_range_rate: number | null;
  unseen_category_rate: number | null;
  invalid: number;
}

export interface VersionDrift {
  version: number;
  rows: number;
  /** Inputs against the reference profile (or, asked for, the window before); null below minRows or without a reference. */
  drift: DriftReport | null;
  /** Outputs (the prediction and its score) against the previous window of the same length; null without enough rows on both sides. */
  prediction_drift: DriftReport | null;
  data_quality: FeatureQuality[];
  note?: string;
}

export interface LiveDrift {
  deployment: string;
  /** What the inputs were compared with. */
  against: 'reference' | 'previous';
  window: { from: string; to: string };
  versions: VersionDrift[];
}

/**
 * Merges the stored buckets that start within [from, to), per version and layout (a layout changes when the
 * reference or the range tolerance does; profiles folded under different layouts cannot be added).
 */
export async function mergedWindow(db: Kysely<Tables>, deployment: string, from: Date, to: Date, version?: number): Promise<Map<number, Map<string, WindowProfile>>> {
  let q = db.selectFrom('monitor_profiles').select(['version', 'profile']).where('deployment', '=', deployment).where('bucket', '>=', from.toISOString()).where('bucket', '<', to.toISOString());
  if (version !== undefined) q = q.where('version', '=', version);
  const rows = await q.orderBy('id').execute();
  const out = new Map<number, Map<string, WindowProfile>>();
  for (const r of rows) {
    const p = JSON.parse(r.profile) as WindowProfile;
    let byLayout = out.get(r.version);
    if (!byLayout) out.set(r.version, (byLayout = new Map()));
    const have = byLayout.get(p.layout);
    byLayout.set(p.layout, have ? mergeProfiles(have, p) : p);
  }
  return out;
}

/** The profile folded under `layout`, else (no reference to rebuild it from) the one with the most rows. */
function pick(byLayout: Map<string, WindowProfile> | undefined, layout: string | undefined): WindowProfile | undefined {
  if (!byLayout) return undefined;
  if (layout !== undefined) return byLayout.get(layout);
  return [...byLayout.values()].sort((a, b) => b.rows - a.rows)[0];
}

function only(p: WindowProfile, keep: (f: WindowFeature) => boolean): WindowProfile {
  const features = p.features.filter(keep);
  return { ...p, features };
}

const isOutput = (f: { name: string }) => f.name === PREDICTION_FEATURE || f.name === SCORE_FEATURE;

export function driftOptions(spec: MonitoringSpec): DriftOptions {
  return { tests: spec.drift.tests, thresholds: spec.drift.thresholds, shareThreshold: spec.drift.shareThreshold };
}

export function dataQuality(p: WindowProfile): FeatureQuality[] {
  return p.features.filter((f) => !isOutput(f)).map((f) => {
    const nans = f.kind === 'numerical' ? f.nans : 0;
    const seen = f.count + f.nulls + nans + f.invalid;
    return {
      name: f.name,
      rows: seen,
      missing_rate: seen === 0 ? 0 : (f.nulls + nans) / seen,
      out_of_range_rate: f.kind === 'numerical' ? (f.count === 0 ? 0 : f.outOfRange / f.count) : null,
      unseen_category_rate: f.kind === 'categorical' ? (f.count === 0 ? 0 : f.unseen / f.count) : null,
      invalid: f.invalid,
    };
  });
}

export async function liveDrift(
  db: Kysely<Tables>,
  args: { deployment: string; spec: MonitoringSpec; from: Date; to: Date; version?: number; against?: 'reference' | 'previous'; reference: (version: number) => Promise<ReferenceProfile | null> },
): Promise<LiveDrift> {
  const { deployment, spec, from, to } = args;
  const current = await mergedWindow(db, deployment, from, to, args.version);
  const span = to.getTime() - from.getTime();
  const before = await mergedWindow(db, deployment, new Date(from.getTime() - span), from, args.version);
  const options = driftOptions(spec);
  const versions: VersionDrift[] = [];
  for (const version of [...current.keys()].sort((x, y) => x - y)) {
    const ref = await args.reference(version);
    const any = pick(current.get(version), undefined)!;
    // Rebuild the layout the gateway folds with, from the reference and the features the profiles hold.
    const features = any.features.filter((f) => !isOutput(f)).map((f) => f.name);
    const layout = ref ? monitoringLayout(ref, features, spec.dataQuality.rangeTolerance) : undefined;
    const p = pick(current.get(version), layout?.id);
    if (!p) {
      versions.push({ version, rows: any.rows, drift: null, prediction_drift: null, data_quality: dataQuality(any), note: 'this window was profiled under another layout (the reference profile or spec.monitoring.dataQuality.rangeTolerance changed); drift is judged from the next window on' });
      continue;
    }
    const v: VersionDrift = { version, rows: p.rows, drift: null, prediction_drift: null, data_quality: dataQuality(p) };
    const inputs = only(p, (f) => !isOutput(f));
    const prev = pick(before.get(version), p.layout);
    try {
      if (args.against === 'previous') {
        // Inputs against the window before, instead of the reference.
        if (!prev || prev.rows < spec.drift.minRows || p.rows < spec.drift.minRows) v.note = `the window and the one before need ${spec.drift.minRows} rows each (spec.monitoring.drift.minRows); they have ${p.rows} and ${prev?.rows ?? 0}`;
        else {
          const names = new Set(prev.features.filter((f) => !isOutput(f) && f.count > 0).map((f) => f.name));
          const both = inputs.features.filter((f) => names.has(f.name) && f.count > 0).map((f) => f.name);
          v.drift = driftBetweenWindows(only(prev, (f) => both.includes(f.name)), only(p, (f) => both.includes(f.name)), { ...options, ...(layout ? { layout } : {}) });
        }
      } else if (p.rows < spec.drift.minRows) v.note = `${p.rows} rows in the window; drift is judged from ${spec.drift.minRows} (spec.monitoring.drift.minRows)`;
      else if (!ref || !layout || inputs.features.length === 0) v.note = 'the version has no reference profile for its inputs; only the outputs are compared (with the previous window)';
      else {
        // A feature with no values in the window (all missing) has nothing to compare; its missing rate says so.
        const known = new Set(inputs.features.filter((f) => f.count > 0).map((f) => f.name));
        const compared = { ...ref, features: ref.features.filter((f) => known.has(f.name)) };
        v.drift = driftFromProfiles(compared, p, { ...options, layout });
        const approximate = referenceFallbacks(compared);
        if (approximate.length > 0) v.note = `${approximate.map((f) => f.feature).join(', ')}: ${approximate[0]!.note}`;
      }
    } catch (e) {
      v.note = `drift could not be computed: ${(e as Error).message}`;
    }
    if (prev && prev.rows >= spec.drift.minRows && p.rows >= spec.drift.minRows) {
      // The outputs with values on both sides (a model without probabilities has no score).
      const names = new Set(prev.features.filter((f) => isOutput(f) && f.count > 0).map((f) => f.name));
      const both = p.features.filter((f) => names.has(f.name) && f.count > 0).map((f) => f.name);
      if (both.length > 0) {
        try {
          v.prediction_drift = driftBetweenWindows(only(prev, (f) => both.includes(f.name)), only(p, (f) => both.includes(f.name)), options);
        } catch (e) {
          v.note = `${v.note ? `${v.note}; ` : ''}output drift could not be computed: ${(e as Error).message}`;
        }
      }
    }
    versions.push(v);
  }
  return { deployment, against: args.against ?? 'reference', window: { from: from.toISOString(), to: to.toISOString() }, versions };
}
