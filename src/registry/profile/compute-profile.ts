// Builds the reference profile of a data file.
//
// The file is read twice. The first pass learns the columns (a JSONL file reveals its keys only as they
// appear), each column's type, and its non-null count; the second computes the statistics. Inferring types
// in one pass would mean holding every column both as numbers and as category counts until the end, since
// one late "n/a" turns a numeric column into a categorical one, and a category map of a million distinct
// floats costs far more than re-reading the file. Knowing the counts also lets the second pass allocate
// each numeric column's array at its exact size.
//
// Memory: exact quantiles need every value, so each numerical column is held in a Float64Array (8 bytes a
// value: 4 MB per column per million rows), and each categorical column as a map of distinct value to
// count. That is fine up to a few million rows; beyond that, a sketch (t-digest, KLL) would have to
// replace the exact quantiles.
import { basename } from 'node:path';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { QuantileSketch } from '../../monitoring/profile/sketch.js';
import { readTable, type CellValue, type TableReader } from './read-table.js';
import {
  HISTOGRAM_BINS,
  MAX_CATEGORIES,
  PROFILE_QUANTILES,
  type CategoricalFeatureProfile,
  type FeatureProfile,
  type Histogram,
  type NumericalFeatureProfile,
  type NumericalMonitoringData,
  type ProfileSource,
  type ReferenceProfile,
} from './types.js';

export interface ComputeProfileOptions {
  /** Columns to profile, in this order. Default: every column except the label, in file order. */
  features?: string[];
  /** Columns that must hold numbers (they feed numeric model inputs); they are profiled as numerical. */
  numericFeatures?: string[];
  /** The target column, profiled separately as the profile's label. */
  label?: string;
  /** Refuse files larger than this many bytes. */
  maxBytes?: number;
}

// Decimal notation only: Number() alone would also take "0x1F", "0b1" and "" (as 0).
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The finite number a cell holds, or undefined. Booleans are not numbers: they profile as categories. */
export function cellNumber(v: CellValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** How a cell reads as a category: strings as they are, numbers and booleans as their JSON text. */
export function cellCategory(v: string | number | boolean): string {
  return typeof v === 'string' ? v : String(v);
}

interface ColumnScan {
  nonNull: number;
  numeric: boolean;
  firstNonNumeric?: { row: number; line: number; value: CellValue };
}

interface Scan {
  rows: number;
  columns: readonly string[];
  byName: Map<string, ColumnScan>;
  source: ProfileSource;
}

export async function computeReferenceProfile(path: string, options: ComputeProfileOptions = {}): Promise<ReferenceProfile> {
  const name = basename(path);
  const scan = await scanTable(readTable(path, { maxBytes: options.maxBytes }));
  if (scan.rows === 0) {
    throw new ModelgateError('MG_ERR_REFERENCE_EMPTY', `Reference data "${name}" has no rows${scan.columns.length ? ' (only a header)' : ''}.`);
  }

  const label = options.label;
  const numeric = new Set(options.numericFeatures ?? []);
  const features = unique(options.features ?? scan.columns.filter((c) => c !== label));
  const wanted = unique([...features, ...numeric, ...(label === undefined ? [] : [label])]);
  const missing = wanted.filter((c) => !scan.byName.has(c));
  if (missing.length > 0) {
    const present = scan.columns;
    const shown = present.slice(0, 50).map((c) => JSON.stringify(c)).join(', ');
    const more = present.length > 50 ? ` and ${present.length - 50} more` : '';
    throw new ModelgateError(
      'MG_ERR_REFERENCE_MISSING_COLUMN',
      `Reference data "${name}" has no column ${missing.map((c) => JSON.stringify(c)).join(', ')}. Its columns are: ${shown}${more}.`,
      { missing, present: [...present] },
    );
  }
  for (const column of numeric) {
    const bad = scan.byName.get(column)?.firstNonNumeric;
    if (bad) {
      throw new ModelgateError(
        'MG_ERR_REFERENCE_NON_NUMERIC',
        `Column "${column}" of reference data "${name}" must hold numbers, but row ${bad.row} (line ${bad.line}) holds ${JSON.stringify(bad.value)}.`,
        { column, row: bad.row, line: bad.line, value: bad.value },
      );
    }
  }

  const profiled = unique([...features, ...(label === undefined ? [] : [label])]);
  const accumulators = new Map<string, Accumulator>();
  for (const column of profiled) {
    const s = scan.byName.get(column) as ColumnScan;
    // An all-null column is numeric only vacuously; calling it categorical keeps NaN-free statistics.
    const isNumeric = numeric.has(column) || (s.numeric && s.nonNull > 0);
    accumulators.set(column, isNumeric ? new NumericAccumulator(column, s.nonNull) : new CategoricalAccumulator(column));
  }

  const reader = readTable(path, { maxBytes: options.maxBytes });
  const changed = (): ModelgateError =>
    new ModelgateError('MG_ERR_REFERENCE_UNREADABLE', `Reference data "${name}" changed while it was being profiled. Profile a file that is not being written to.`);
  let rows = 0;
  const entries = [...accumulators.entries()];
  for await (const record of reader) {
    rows++;
    for (const [column, acc] of entries) {
      const v = record[column];
      if (v === undefined || v === null) continue;
      if (!acc.add(v)) throw changed();
    }
  }
  const source = reader.source();
  if (rows !== scan.rows || source.sha256 !== scan.source.sha256) throw changed();

  const profileOf = (column: string): FeatureProfile => (accumulators.get(column) as Accumulator).finish(rows);
  const profile: ReferenceProfile = {
    schemaVersion: 1,
    rows,
    source,
    features: features.map(profileOf),
  };
  if (label !== undefined) profile.label = profileOf(label);
  return profile;
}

async function scanTable(reader: TableReader): Promise<Scan> {
  const byName = new Map<string, ColumnScan>();
  let rows = 0;
  for await (const record of reader) {
    rows++;
    for (const column in record) {
      let s = byName.get(column);
      if (s === undefined) {
        s = { nonNull: 0, numeric: true };
        byName.set(column, s);
      }
      const v = record[column] as CellValue;
      if (v === null) continue;
      s.nonNull++;
      if (s.numeric && cellNumber(v) === undefined) {
        s.numeric = false;
        s.firstNonNumeric = { row: reader.row, line: reader.line, value: v };
      }
    }
  }
  // A CSV with a header and no rows still names its columns.
  for (const column of reader.columns) if (!byName.has(column)) byName.set(column, { nonNull: 0, numeric: true });
  return { rows, columns: reader.columns, byName, source: reader.source() };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

interface Accumulator {
  /** false when the value does not fit what the first pass saw, i.e. the file changed in between. */
  add(v: string | number | boolean): boolean;
  finish(rows: number): FeatureProfile;
}

class NumericAccumulator implements Accumulator {
  private readonly values: Float64Array;
  private n = 0;

  constructor(
    private readonly name: string,
    size: number,
  ) {
    this.values = new Float64Array(size);
  }

  add(v: string | number | boolean): boolean {
    const x = cellNumber(v);
    if (x === undefined || this.n >= this.values.length) return false;
    this.values[this.n++] = x;
    return true;
  }

  finish(rows: number): NumericalFeatureProfile {
    const values = this.values.subarray(0, this.n).sort();
    const { count, distinct, ...rest } = numericalStats(values);
    const profile: NumericalFeatureProfile = { type: 'numerical', name: this.name, count, nulls: rows - count, distinct, ...rest };
    if (count > 0) profile.monitoring = monitoringData(values);
    return profile;
  }
}

/** The decile levels whose values, with min and max, bound the reference bins of live monitoring. */
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * The reference side of live monitoring for ascending-sorted finite values (at least one): bins over min, the
 * deciles and max, with their counts, and a DDSketch shifted by the median (see NumericalMonitoringData).
 */
export function monitoringData(sorted: Float64Array): NumericalMonitoringData {
  const n = sorted.length;
  const edges = [sorted[0] as number];
  for (const q of DECILES) {
    const e = sortedQuantile(sorted, q);
    if (e > (edges[edges.length - 1] as number)) edges.push(e);
  }
  const max = sorted[n - 1] as number;
  if (max > (edges[edges.length - 1] as number) || edges.length === 1) edges.push(max);
  const counts: number[] = [];
  let start = 0;
  for (let i = 1; i < edges.length; i++) {
    // Values below edges[i] (all that remain, for the last bin).
    const end = i === edges.length - 1 ? n : lowerBound(sorted, edges[i] as number);
    counts.push(end - start);
    start = end;
  }
  const sketch = new QuantileSketch({ shift: sortedQuantile(sorted, 0.5) });
  for (let i = 0; i < n; i++) sketch.add(sorted[i] as number);
  return { bins: { edges, counts }, sketch: sketch.toJSON() };
}

/** Index of the first element >= x in an ascending array. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

type NumericalStats = Omit<NumericalFeatureProfile, 'type' | 'name' | 'nulls'>;

/** Statistics of ascending-sorted finite values. */
export function numericalStats(sorted: Float64Array): NumericalStats {
  const n = sorted.length;
  if (n === 0) {
    return { count: 0, distinct: 0, mean: null, std: null, min: null, max: null, quantiles: [], histogram: { edges: [], counts: [] } };
  }
  // Compensated (Neumaier) sums, and the corrected two-pass variance, so long columns keep their digits.
  const mean = neumaierSum(sorted, (x) => x) / n;
  let std: number | null = null;
  if (n > 1) {
    const dev = neumaierSum(sorted, (x) => x - mean);
    const sq = neumaierSum(sorted, (x) => (x - mean) * (x - mean));
    std = Math.sqrt(Math.max(0, (sq - (dev * dev) / n) / (n - 1)));
  }
  let distinct = 1;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const min = sorted[0] as number;
  const max = sorted[n - 1] as number;
  return {
    count: n,
    distinct,
    mean,
    std,
    min,
    max,
    quantiles: PROFILE_QUANTILES.map((q) => ({ q, value: sortedQuantile(sorted, q) })),
    histogram: sortedHistogram(sorted, min, max),
  };
}

function neumaierSum(values: Float64Array, f: (x: number) => number): number {
  let sum = 0;
  let c = 0;
  for (const v of values) {
    const x = f(v);
    const t = sum + x;
    c += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + c;
}

/** numpy.quantile's default 'linear' method, including its way of interpolating from the nearer end. */
export function sortedQuantile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, n - 1)] as number;
  const t = h - lo;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The edges numpy.histogram(values, bins=HISTOGRAM_BINS) would use. */
export function histogramEdges(min: number, max: number): number[] {
  // A constant column gets unit-wide bins around its value, as numpy does, so the bins keep a width.
  const lo = min === max ? min - 0.5 : min;
  const hi = min === max ? max + 0.5 : max;
  const step = (hi - lo) / HISTOGRAM_BINS;
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => i * step + lo);
  edges[HISTOGRAM_BINS] = hi;
  return edges;
}

function sortedHistogram(sorted: Float64Array, min: number, max: number): Histogram {
  const edges = histogramEdges(min, max);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  let bin = 0;
  for (const v of sorted) {
    // Comparing with the stored edges, not dividing by the width, so a value on an edge lands where
    // anyone re-binning against these edges would put it.
    while (bin < HISTOGRAM_BINS - 1 && v >= (edges[bin + 1] as number)) bin++;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { edges, counts };
}

class CategoricalAccumulator implements Accumulator {
  private readonly counts = new Map<string, number>();

  constructor(private readonly name: string) {}

  add(v: string | number | boolean): boolean {
    const key = cellCategory(v);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return true;
  }

  finish(rows: number): CategoricalFeatureProfile {
    const { count, distinct, categories, otherCount } = categoricalStats(this.counts);
    return { type: 'categorical', name: this.name, count, nulls: rows - count, distinct, categories, otherCount };
  }
}

type CategoricalStats = Omit<CategoricalFeatureProfile, 'type' | 'name' | 'nulls'>;

/** Top MAX_CATEGORIES values by count, ties broken by value (code-unit order, not locale) for reproducibility. */
export function categoricalStats(counts: ReadonlyMap<string, number>): CategoricalStats {
  const all = [...counts].map(([value, count]) => ({ value, count }));
  all.sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  const categories = all.slice(0, MAX_CATEGORIES);
  let count = 0;
  for (const c of all) count += c.count;
  let named = 0;
  for (const c of categories) named += c.count;
  return { count, distinct: all.length, categories, otherCount: count - named };
}
