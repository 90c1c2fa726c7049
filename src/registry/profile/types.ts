// The reference profile stored with a model version. It is the only record of the reference data that
// Modelgate keeps, so it carries enough to compare distributions later without the raw rows: exact
// quantiles and a histogram for numbers (PSI, KS, Wasserstein), and counts for categories (PSI,
// chi-squared, Jensen–Shannon). Everything is plain JSON: no NaN, no Infinity, no Maps.
import type { SketchData } from '../../monitoring/profile/sketch.js';

/** The quantile levels every numerical profile carries, in this order. */
export const PROFILE_QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;

/** Equal-width bins in a numerical histogram. */
export const HISTOGRAM_BINS = 10;

/** How many of the most frequent categories a categorical profile names; the rest are summed into `otherCount`. */
export const MAX_CATEGORIES = 100;

export type TableFormat = 'csv' | 'jsonl';

export interface ProfileSource {
  format: TableFormat;
  /** Hex sha256 of the file's bytes, so a profile can be matched to the file it came from. */
  sha256: string;
  bytes: number;
}

export interface Quantile {
  /** The level, one of PROFILE_QUANTILES. */
  q: number;
  value: number;
}

export interface Histogram {
  /**
   * HISTOGRAM_BINS + 1 ascending edges. Bin i holds edges[i] <= v < edges[i+1]; the last bin also holds
   * v = edges[last]. Edges run from min to max, except for a constant column, where (as numpy does) they
   * run from value − 0.5 to value + 0.5 so that the bins keep a width.
   */
  edges: number[];
  counts: number[];
}

interface FeatureProfileBase {
  name: string;
  /** Non-null values. */
  count: number;
  nulls: number;
  /** Exact number of distinct non-null values. */
  distinct: number;
}

export interface NumericalFeatureProfile extends FeatureProfileBase {
  type: 'numerical';
  /** null only when count is 0 (a column declared numeric that holds only nulls). */
  mean: number | null;
  /** Sample standard deviation (ddof = 1, as pandas); null when count < 2. */
  std: number | null;
  min: number | null;
  max: number | null;
  /** One entry per PROFILE_QUANTILES level, by numpy's default (linear) method; empty when count is 0. */
  quantiles: Quantile[];
  /** Empty edges and counts when count is 0. */
  histogram: Histogram;
  /**
   * What live drift monitoring compares request data with (src/monitoring/profile). Optional: profiles stored
   * before it lack it, and monitoring then falls back to `histogram` and `quantiles`. Absent when count is 0.
   */
  monitoring?: NumericalMonitoringData;
}

/** The reference side of live monitoring for one numerical feature; plain JSON like the rest. */
export interface NumericalMonitoringData {
  /**
   * The bins live counts are taken over, with the reference's own counts: edges are min, the deciles 10%…90%
   * (numpy's linear method) and max, repeated edges dropped (a constant column keeps [v, v]). Bin i holds
   * edges[i] <= v < edges[i+1], the last bin also v = max.
   */
  bins: Histogram;
  /** A DDSketch (1% relative accuracy) of every value, shifted by the median; see QuantileSketch. */
  sketch: SketchData;
}

export interface CategoryCount {
  value: string;
  count: number;
}

export interface CategoricalFeatureProfile extends FeatureProfileBase {
  type: 'categorical';
  /**
   * The MAX_CATEGORIES most frequent values, most frequent first (ties by value, so profiles are
   * reproducible). Numbers and booleans appear as their JSON text, e.g. "3" or "true".
   */
  categories: CategoryCount[];
  /**
   * Non-null values outside `categories`. Kept apart from `categories` so that a real category named
   * "__other__" cannot collide with the bucket; 0 means `categories` is complete.
   */
  otherCount: number;
}

export type FeatureProfile = NumericalFeatureProfile | CategoricalFeatureProfile;

export interface ReferenceProfile {
  schemaVersion: 1;
  rows: number;
  source: ProfileSource;
  features: FeatureProfile[];
  label?: FeatureProfile;
}
