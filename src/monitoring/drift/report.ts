// Data drift report: one stat test per feature, chosen as Evidently's defaults choose it, and a dataset verdict
// from the share of drifted features. Pure: columns in, report out.
import {
  chiSquareDrift,
  histogramBinEdgesSorted,
  histogramCountsSorted,
  jensenShannonDistance,
  ks2sampSorted,
  normalisedWassersteinSorted,
  psi,
  zTestProportions,
  type CategoryCounts,
} from './statistics.js';
import { countDistinctSorted, countDistinctUnion, sortedWithoutMissing } from './sorted-column.js';

export type ColumnType = 'numerical' | 'categorical' | 'binary';
export type DriftTestName = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';

export interface DriftColumn {
  name: string;
  type?: ColumnType;
  /** Numeric values; NaN is a missing value. */
  numbers?: Float64Array;
  /** Labels; null is a missing value. */
  strings?: (string | null)[];
}

export interface FeatureDrift {
  name: string;
  type: ColumnType;
  test: DriftTestName;
  /** KS D, chi-square statistic, z, normalised Wasserstein distance, Jensen-Shannon distance or PSI. */
  statistic: number;
  /** Present for the p-value tests (ks, chisquare, z). */
  p_value?: number;
  threshold: number;
  drifted: boolean;
  /** Rows with a value (missing values dropped). */
  reference_rows: number;
  current_rows: number;
}

export interface DriftReport {
  dataset_drift: boolean;
  drift_share: number;
  drifted_features: number;
  features: FeatureDrift[];
  options: { share_threshold: number };
}

export interface DriftOptions {
  /** Per feature name: the test to run instead of the default. */
  tests?: Record<string, DriftTestName>;
  /** Per feature name: the threshold instead of the test's default. */
  thresholds?: Record<string, number>;
  /** Per feature name: the column type instead of the inferred one. */
  types?: Record<string, ColumnType>;
  /** Dataset drift when at least this share of features drifted. Default 0.5. */
  shareThreshold?: number;
}

/** Evidently's get_default_stattest switches from the small-sample tests to distances above this many rows. */
export const SMALL_REFERENCE_ROWS = 1000;
/** Numerical columns with at most this many distinct values are tested as categories. */
const FEW_VALUES = 5;
/** Evidently bins a numerical column for Jensen-Shannon and PSI only when the reference has more distinct values. */
export const BINNING_MIN_DISTINCT = 20;

const P_VALUE_TESTS: ReadonlySet<DriftTestName> = new Set(['ks', 'chisquare', 'z']);
export const DEFAULT_THRESHOLD: Readonly<Record<DriftTestName, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};
const TEST_NAMES = new Set(Object.keys(DEFAULT_THRESHOLD));
const COLUMN_TYPES: ReadonlySet<string> = new Set(['numerical', 'categorical', 'binary']);

function distinctLabels(strings: readonly (string | null)[]): number {
  const seen = new Set<string>();
  for (const s of strings) if (s !== null) seen.add(s);
  return seen.size;
}

function hasColumnData(col: DriftColumn): void {
  if (!col.numbers && !col.strings) throw new Error(`column "${col.name}" has neither numbers nor strings`);
}

/**
 * The column's declared type, else: labels are categorical, numbers numerical, and either with at most two
 * distinct values (missing ones aside) binary.
 */
export function inferColumnType(col: DriftColumn): ColumnType {
  if (col.type) return col.type;
  hasColumnData(col);
  if (col.strings) return distinctLabels(col.strings) <= 2 ? 'binary' : 'categorical';
  return countDistinctSorted(sortedWithoutMissing(col.numbers as Float64Array)) <= 2 ? 'binary' : 'numerical';
}

/**
 * Evidently's default stat test. `distinct` counts the values of reference and current together.
 * Reference of at most 1,000 rows: numerical → KS above 5 distinct values, chi-square for 3-5, z for 2 or fewer;
 * categorical → chi-square above 2 distinct values, else z (a binary column is a categorical one with 2).
 * Larger reference: numerical → normalised Wasserstein above 5 distinct values, else Jensen-Shannon;
 * categorical and binary → Jensen-Shannon.
 */
export function chooseTest(type: ColumnType, referenceRows: number, distinct: number): DriftTestName {
  if (referenceRows <= SMALL_REFERENCE_ROWS) {
    if (type === 'numerical' && distinct > FEW_VALUES) return 'ks';
    return distinct > 2 ? 'chisquare' : 'z';
  }
  if (type === 'numerical' && distinct > FEW_VALUES) return 'wasserstein';
  return 'jensenshannon';
}

/** One side of a column with its missing values dropped, in the forms the tests need. */
interface PreparedSide {
  rows: number;
  sorted?: Float64Array;
  labels?: Map<string, number>;
}

function prepare(col: DriftColumn): PreparedSide {
  if (col.numbers) {
    const sorted = sortedWithoutMissing(col.numbers);
    return { rows: sorted.length, sorted };
  }
  const labels = new Map<string, number>();
  let rows = 0;
  for (const s of col.strings as (string | null)[]) {
    if (s === null) continue;
    labels.set(s, (labels.get(s) ?? 0) + 1);
    rows++;
  }
  return { rows, labels };
}

function valueCounts(side: PreparedSide): CategoryCounts {
  if (side.labels) return side.labels;
  const sorted = side.sorted as Float64Array;
  const counts = new Map<number, number>();
  for (let i = 0; i < sorted.length; ) {
    const v = sorted[i] as number;
    let j = i;
    while (j < sorted.length && sorted[j] === v) j++;
    counts.set(v, j - i);
    i = j;
  }
  return counts;
}

/** Aligned count vectors over the categories seen on either side. */
function alignedCounts(ref: CategoryCounts, cur: CategoryCounts): [number[], number[]] {
  const r = ref as ReadonlyMap<string | number, number>;
  const c = cur as ReadonlyMap<string | number, number>;
  const keys = new Set<string | number>([...r.keys(), ...c.keys()]);
  const a: number[] = [];
  const b: number[] = [];
  for (const k of keys) {
    a.push(r.get(k) ?? 0);
    b.push(c.get(k) ?? 0);
  }
  return [a, b];
}

/**
 * Evidently's get_binned_data: a numerical column whose reference has more than 20 distinct values is cut into
 * numpy's Sturges bins over both sides; anything else is counted per value.
 */
function binnedCounts(type: ColumnType, ref: PreparedSide, cur: PreparedSide): [ArrayLike<number>, ArrayLike<number>] {
  if (type === 'numerical' && ref.sorted && cur.sorted && countDistinctSorted(ref.sorted) > BINNING_MIN_DISTINCT) {
    const edges = histogramBinEdgesSorted(ref.sorted, cur.sorted, 'sturges');
    return [histogramCountsSorted(ref.sorted, edges), histogramCountsSorted(cur.sorted, edges)];
  }
  return alignedCounts(valueCounts(ref), valueCounts(cur));
}

function shares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  return Array.from(counts, (c) => c / total);
}

function runTest(name: string, test: DriftTestName, type: ColumnType, ref: PreparedSide, cur: PreparedSide): { statistic: number; pValue?: number } {
  switch (test) {
    case 'ks':
    case 'wasserstein':
      if (!ref.sorted || !cur.sorted) throw new Error(`column "${name}": the ${test} test needs numbers on both sides`);
      if (test === 'ks') {
        const r = ks2sampSorted(ref.sorted, cur.sorted);
        return { statistic: r.statistic, pValue: r.pValue };
      }
      return { statistic: normalisedWassersteinSorted(ref.sorted, cur.sorted) };
    case 'chisquare': {
      const r = chiSquareDrift(valueCounts(ref), valueCounts(cur));
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'z': {
      const r = zTestProportions(valueCounts(ref), valueCounts(cur));
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'jensenshannon': {
      const [a, b] = binnedCounts(type, ref, cur);
      return { statistic: jensenShannonDistance(shares(a), shares(b)) };
    }
    case 'psi': {
      const [a, b] = binnedCounts(type, ref, cur);
      return { statistic: psi(a, b) };
    }
  }
}

/** Distinct values over both sides, counted exactly up to FEW_VALUES + 1: all that chooseTest looks at. */
function distinctUnion(ref: PreparedSide, cur: PreparedSide): number {
  if (ref.sorted && cur.sorted) return countDistinctUnion(ref.sorted, cur.sorted, FEW_VALUES);
  const keys = new Set<string | number>();
  for (const side of [ref, cur]) for (const k of (valueCounts(side) as ReadonlyMap<string | number, number>).keys()) keys.add(k);
  return keys.size;
}

/** Validates the options (tests, types, thresholds, share) and returns the share threshold. */
export function checkDriftOptions(options: DriftOptions): number {
  const share = options.shareThreshold ?? 0.5;
  if (!(share > 0 && share <= 1)) throw new Error(`shareThreshold must be in (0, 1], got ${share}`);
  for (const [name, test] of Object.entries(options.tests ?? {})) {
    if (!TEST_NAMES.has(test)) throw new Error(`feature "${name}": unknown drift test ${JSON.stringify(test)}; use one of ${[...TEST_NAMES].join(', ')}`);
  }
  for (const [name, type] of Object.entries(options.types ?? {})) {
    if (!COLUMN_TYPES.has(type)) throw new Error(`feature "${name}": unknown column type ${JSON.stringify(type)}; use numerical, categorical or binary`);
  }
  for (const [name, t] of Object.entries(options.thresholds ?? {})) {
    if (!Number.isFinite(t)) throw new Error(`feature "${name}": threshold must be a finite number, got ${t}`);
  }
  return share;
}

/**
 * Tests every reference column against the current column of the same name. Missing values are dropped first;
 * a reference column absent from the current data, or a side left with no values, is an Error naming the column.
 * Columns only in the current data are ignored.
 */
export function driftReport(reference: DriftColumn[], current: DriftColumn[], options: DriftOptions = {}): DriftReport {
  const shareThreshold = checkDriftOptions(options);
  const currentByName = new Map(current.map((c) => [c.name, c]));
  const features: FeatureDrift[] = [];
  for (const refCol of reference) {
    const name = refCol.name;
    const curCol = currentByName.get(name);
    if (!curCol) throw new Error(`column "${name}" is in the reference data but missing from the current data`);
    hasColumnData(refCol);
    hasColumnData(curCol);
    if (!!refCol.numbers !== !!curCol.numbers) throw new Error(`column "${name}" holds numbers on one side and strings on the other`);
    const ref = prepare(refCol);
    const cur = prepare(curCol);
    if (ref.rows === 0 || cur.rows === 0) {
      throw new Error(`column "${name}" has no values in the ${ref.rows === 0 ? 'reference' : 'current'} data once missing values are dropped`);
    }
    const type = options.types?.[name] ?? refCol.type ?? inferPrepared(ref);
    if (type === 'numerical' && !ref.sorted) throw new Error(`column "${name}" is declared numerical but holds strings`);
    const test = options.tests?.[name] ?? chooseTest(type, ref.rows, distinctUnion(ref, cur));
    const threshold = options.thresholds?.[name] ?? DEFAULT_THRESHOLD[test];
    const { statistic, pValue } = runTest(name, test, type, ref, cur);
    features.push(featureVerdict(name, type, test, threshold, statistic, pValue, ref.rows, cur.rows));
  }
  return datasetVerdict(features, shareThreshold);
}

/** One feature's entry: drifted when a p-value test's p is below the threshold, or a distance at or above it. */
export function featureVerdict(name: string, type: ColumnType, test: DriftTestName, threshold: number, statistic: number, pValue: number | undefined, referenceRows: number, currentRows: number): FeatureDrift {
  const drifted = P_VALUE_TESTS.has(test) ? (pValue as number) < threshold : statistic >= threshold;
  const feature: FeatureDrift = { name, type, test, statistic, threshold, drifted, reference_rows: referenceRows, current_rows: currentRows };
  if (pValue !== undefined) feature.p_value = pValue;
  return feature;
}

/** The report over the features: dataset drift when at least `shareThreshold` of them drifted. */
export function datasetVerdict(features: FeatureDrift[], shareThreshold: number): DriftReport {
  const drifted = features.filter((f) => f.drifted).length;
  const share = features.length ? drifted / features.length : 0;
  return {
    dataset_drift: features.length > 0 && share >= shareThreshold,
    drift_share: share,
    drifted_features: drifted,
    features,
    options: { share_threshold: shareThreshold },
  };
}

function inferPrepared(side: PreparedSide): ColumnType {
  if (side.labels) return side.labels.size <= 2 ? 'binary' : 'categorical';
  return countDistinctSorted(side.sorted as Float64Array) <= 2 ? 'binary' : 'numerical';
}
