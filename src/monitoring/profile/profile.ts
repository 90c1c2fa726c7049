// Live profiles: the gateway folds every request's features into a ProfileAccumulator per (deployment, version,
// time bucket), snapshots it to a plain-JSON WindowProfile, and the store merges snapshots across processes and
// replicas with mergeProfiles. Every count adds, so a merged window is the window of all its rows.
//
// The layout fixes, per feature, what is counted: the reference bins of a numerical feature (min, deciles, max:
// equal reference mass per bin, the bins PSI is conventionally taken over, and exact counts on both sides), the
// sketch mapping (centred on the reference median), the out-of-range bounds, and a categorical feature's reference
// categories. Two snapshots merge only when they were folded with the same layout; layout ids say so.
import { createHash } from 'node:crypto';
import { cellCategory, cellNumber } from '../../registry/profile/compute-profile.js';
import type { CategoryCount, FeatureProfile, ReferenceProfile } from '../../registry/profile/types.js';
import { DEFAULT_BIN_LIMIT, DEFAULT_RELATIVE_ACCURACY, QuantileSketch, type SketchData } from './sketch.js';

/** Categories a live categorical feature names beyond the reference's before counting the rest as `other`. */
export const DEFAULT_NEW_CATEGORIES = 100;
/** Out-of-range tolerance, as a share of the reference range (max − min), on either side. */
export const DEFAULT_RANGE_TOLERANCE = 0.05;

export type FeatureKind = 'numerical' | 'categorical';

/** Where a numerical feature's bins come from: the stored deciles, the 10-bin histogram of an older profile, or nothing. */
export type BinSource = 'deciles' | 'histogram' | 'none';

interface LayoutFeatureBase {
  name: string;
  /** Hash of everything below: two window features fold alike exactly when their keys are equal. */
  key: string;
  /** false for an extra feature (a model output, say) that the reference does not describe. */
  reference: boolean;
}

export interface NumericalLayoutFeature extends LayoutFeatureBase {
  kind: 'numerical';
  /** Ascending bin edges; live counts go to [below, edges[0]..edges[1], …, above]. Empty without a reference. */
  edges: number[];
  bins: BinSource;
  /** Values below `low` or above `high` count as out of range; null without a reference. */
  low: number | null;
  high: number | null;
  sketch: { relativeAccuracy: number; binLimit: number; shift: number };
}

export interface CategoricalLayoutFeature extends LayoutFeatureBase {
  kind: 'categorical';
  /** The reference's named categories, most frequent first; live counts are kept in this order. */
  categories: string[];
  /** Further categories named per window before the rest go to `other`. */
  newCategories: number;
}

export type LayoutFeature = NumericalLayoutFeature | CategoricalLayoutFeature;

export interface ProfileLayout {
  /** Hash of the feature keys in order. */
  id: string;
  features: LayoutFeature[];
}

export interface ExtraFeature {
  name: string;
  type: FeatureKind;
}

export interface LayoutOptions {
  /** Default DEFAULT_RANGE_TOLERANCE. */
  rangeTolerance?: number;
  /** Default DEFAULT_NEW_CATEGORIES. */
  newCategories?: number;
}

interface WindowFeatureBase {
  name: string;
  /** The layout feature's key. */
  key: string;
  /** Values folded (finite numbers for a numerical feature). */
  count: number;
  /** null or undefined. */
  nulls: number;
  /** Values of the wrong kind: non-numeric strings, booleans or objects for a numerical feature, objects for a categorical one. */
  invalid: number;
}

export interface NumericalWindowFeature extends WindowFeatureBase {
  kind: 'numerical';
  /** NaN and ±Infinity, kept out of everything else. */
  nans: number;
  /** null when count is 0, like mean. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Σ (x − mean)², so that variance = m2 / (count − 1); merged by Chan et al.'s formula. */
  m2: number;
  /** Counts over the layout's bins: [below edges[0], one per bin, above the last edge]. */
  bins: number[];
  outOfRange: number;
  sketch: SketchData;
}

export interface CategoricalWindowFeature extends WindowFeatureBase {
  kind: 'categorical';
  /** Counts per layout category, in the layout's order. */
  counts: number[];
  /** Categories outside the layout's, at most `addedLimit`, by value (code-unit order). */
  added: CategoryCount[];
  addedLimit: number;
  /** Values in neither list. */
  other: number;
  /** Values outside the reference's categories (Σ added + other; 0 without a reference). */
  unseen: number;
}

export type WindowFeature = NumericalWindowFeature | CategoricalWindowFeature;

/** A window's profile as plain JSON (no NaN, no Infinity): what the gateway flushes and the store merges. */
export interface WindowProfile {
  schemaVersion: 1;
  /** The ProfileLayout id it was folded with. */
  layout: string;
  /** Rows folded. */
  rows: number;
  features: WindowFeature[];
}

function hash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

function withKey<T extends Omit<LayoutFeature, 'key'>>(spec: T): T & { key: string } {
  return { ...spec, key: hash(spec) };
}

function numericalLayout(profile: FeatureProfile & { type: 'numerical' }, tolerance: number): Omit<NumericalLayoutFeature, 'key'> {
  const sketchOf = (shift: number) => ({ relativeAccuracy: DEFAULT_RELATIVE_ACCURACY, binLimit: DEFAULT_BIN_LIMIT, shift });
  if (profile.count === 0 || profile.min === null || profile.max === null) {
    return { name: profile.name, kind: 'numerical', reference: true, edges: [], bins: 'none', low: null, high: null, sketch: sketchOf(0) };
  }
  const slack = tolerance * (profile.max - profile.min);
  const range = { low: profile.min - slack, high: profile.max + slack };
  const m = profile.monitoring;
  if (m) {
    const { relativeAccuracy, binLimit, shift } = m.sketch;
    return { name: profile.name, kind: 'numerical', reference: true, edges: [...m.bins.edges], bins: 'deciles', ...range, sketch: { relativeAccuracy, binLimit, shift } };
  }
  // An older profile: its histogram edges, whose reference counts are exact, and its median as the centre.
  const edges: number[] = [];
  for (const e of profile.histogram.edges) if (edges.length === 0 || e > (edges[edges.length - 1] as number)) edges.push(e);
  const median = profile.quantiles.find((q) => q.q === 0.5)?.value ?? profile.mean ?? 0;
  return { name: profile.name, kind: 'numerical', reference: true, edges, bins: 'histogram', ...range, sketch: sketchOf(median) };
}

/**
 * The layout live profiles of a model version are folded with: its reference's features in order, then `extra`
 * features (model outputs, say), which have no reference unless one is the reference's label.
 */
export function layoutFromReference(ref: ReferenceProfile, extra: readonly ExtraFeature[] = [], options: LayoutOptions = {}): ProfileLayout {
  const tolerance = options.rangeTolerance ?? DEFAULT_RANGE_TOLERANCE;
  const newCategories = options.newCategories ?? DEFAULT_NEW_CATEGORIES;
  if (!(tolerance >= 0 && Number.isFinite(tolerance))) throw new Error(`layout: rangeTolerance must be a finite number >= 0, got ${tolerance}`);
  if (!(Number.isInteger(newCategories) && newCategories >= 0)) throw new Error(`layout: newCategories must be an integer >= 0, got ${newCategories}`);
  const fromProfile = (p: FeatureProfile): LayoutFeature =>
    withKey(
      p.type === 'numerical'
        ? numericalLayout(p, tolerance)
        : { name: p.name, kind: 'categorical' as const, reference: true, categories: p.categories.map((c) => c.value), newCategories },
    );
  const features = ref.features.map(fromProfile);
  const names = new Set(features.map((f) => f.name));
  for (const x of extra) {
    if (names.has(x.name)) throw new Error(`layout: extra feature "${x.name}" is already a feature of the reference`);
    if (x.type !== 'numerical' && x.type !== 'categorical') throw new Error(`layout: extra feature "${x.name}" has type ${JSON.stringify(x.type)}; use numerical or categorical`);
    names.add(x.name);
    const label = ref.label?.name === x.name ? ref.label : undefined;
    if (label) {
      if (label.type !== x.type) throw new Error(`layout: extra feature "${x.name}" is declared ${x.type}, but the reference profiles that label as ${label.type}`);
      features.push(fromProfile(label));
    } else if (x.type === 'numerical') {
      features.push(withKey({ name: x.name, kind: 'numerical' as const, reference: false, edges: [], bins: 'none' as const, low: null, high: null, sketch: { relativeAccuracy: DEFAULT_RELATIVE_ACCURACY, binLimit: DEFAULT_BIN_LIMIT, shift: 0 } }));
    } else {
      features.push(withKey({ name: x.name, kind: 'categorical' as const, reference: false, categories: [], newCategories }));
    }
  }
  return { id: hash(features.map((f) => f.key)), features };
}

class NumericalState {
  count = 0;
  nulls = 0;
  nans = 0;
  invalid = 0;
  mean = 0;
  m2 = 0;
  outOfRange = 0;
  readonly edges: Float64Array;
  readonly bins: Float64Array;
  readonly low: number;
  readonly high: number;
  sketch: QuantileSketch;

  constructor(readonly spec: NumericalLayoutFeature) {
    this.edges = Float64Array.from(spec.edges);
    this.bins = new Float64Array(spec.edges.length + 1);
    this.low = spec.low ?? Number.NEGATIVE_INFINITY;
    this.high = spec.high ?? Number.POSITIVE_INFINITY;
    this.sketch = new QuantileSketch(spec.sketch);
  }

  add(v: unknown): void {
    let x: number;
    if (typeof v === 'number') x = v;
    else if (v === null || v === undefined) {
      this.nulls++;
      return;
    } else if (typeof v === 'string') {
      const n = cellNumber(v);
      if (n === undefined) {
        this.invalid++;
        return;
      }
      x = n;
    } else {
      this.invalid++;
      return;
    }
    if (x - x !== 0) {
      this.nans++;
      return;
    }
    // Welford's update.
    const n = ++this.count;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    // Bin: the number of edges <= x, except that the last edge itself closes the last bin.
    const edges = this.edges;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((edges[mid] as number) <= x) lo = mid + 1;
      else hi = mid;
    }
    if (lo === edges.length && lo > 1 && x === edges[lo - 1]) lo--;
    this.bins[lo] = (this.bins[lo] as number) + 1;
    if (x < this.low || x > this.high) this.outOfRange++;
    this.sketch.add(x);
  }

  snapshot(): NumericalWindowFeature {
    const has = this.count > 0;
    return {
      name: this.spec.name,
      kind: 'numerical',
      key: this.spec.key,
      count: this.count,
      nulls: this.nulls,
      invalid: this.invalid,
      nans: this.nans,
      min: has ? this.sketch.min : null,
      max: has ? this.sketch.max : null,
      mean: has ? this.mean : null,
      m2: this.m2,
      bins: Array.from(this.bins),
      outOfRange: this.outOfRange,
      sketch: this.sketch.toJSON(),
    };
  }
}

class CategoricalState {
  count = 0;
  nulls = 0;
  invalid = 0;
  other = 0;
  unseen = 0;
  readonly index: Map<string, number>;
  readonly counts: Float64Array;
  readonly added = new Map<string, number>();

  constructor(readonly spec: CategoricalLayoutFeature) {
    this.index = new Map(spec.categories.map((c, i) => [c, i]));
    this.counts = new Float64Array(spec.categories.length);
  }

  add(v: unknown): void {
    let s: string;
    if (typeof v === 'string') s = v;
    else if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      this.nulls++;
      return;
    } else if (typeof v === 'number' || typeof v === 'boolean') s = cellCategory(v);
    else {
      this.invalid++;
      return;
    }
    this.count++;
    const i = this.index.get(s);
    if (i !== undefined) {
      this.counts[i] = (this.counts[i] as number) + 1;
      return;
    }
    if (this.spec.reference) this.unseen++;
    const c = this.added.get(s);
    if (c !== undefined) this.added.set(s, c + 1);
    else if (this.added.size < this.spec.newCategories) this.added.set(s, 1);
    else this.other++;
  }

  snapshot(): CategoricalWindowFeature {
    return {
      name: this.spec.name,
      kind: 'categorical',
      key: this.spec.key,
      count: this.count,
      nulls: this.nulls,
      invalid: this.invalid,
      counts: Array.from(this.counts),
      added: [...this.added].map(([value, count]) => ({ value, count })).sort(byValue),
      addedLimit: this.spec.newCategories,
      other: this.other,
      unseen: this.unseen,
    };
  }
}

function byValue(a: CategoryCount, b: CategoryCount): number {
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

type State = NumericalState | CategoricalState;

/** Folds rows into per-feature counts, moments, bins and sketches; the hot path of live monitoring. */
export class ProfileAccumulator {
  private states: State[];
  private rowCount = 0;

  constructor(readonly layout: ProfileLayout) {
    this.states = layout.features.map((f) => (f.kind === 'numerical' ? new NumericalState(f) : new CategoricalState(f)));
  }

  /** Rows folded by addRow, plus those declared with countRows. */
  get rows(): number {
    return this.rowCount;
  }

  /**
   * Folds one row: values[i] is layout feature i. Numbers, numeric strings, strings and booleans as the feature's
   * kind reads them; null and undefined are missing; NaN is counted apart (as missing for a categorical feature).
   */
  addRow(values: ArrayLike<unknown>): void {
    const states = this.states;
    if (values.length !== states.length) throw new RangeError(`profile: a row needs ${states.length} values in layout order, got ${values.length}`);
    for (let i = 0; i < states.length; i++) (states[i] as State).add(values[i]);
    this.rowCount++;
  }

  /** Folds one value of feature `featureIndex`; rows are not counted (see countRows). */
  add(featureIndex: number, value: unknown): void {
    this.state(featureIndex).add(value);
  }

  /** Folds a column of feature `featureIndex` (a request's tensor, say); rows are not counted (see countRows). */
  addColumn(featureIndex: number, values: ArrayLike<unknown>): void {
    const s = this.state(featureIndex);
    for (let i = 0; i < values.length; i++) s.add(values[i]);
  }

  /** Counts `n` rows folded feature by feature with add or addColumn. */
  countRows(n: number): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`profile: countRows needs an integer >= 0, got ${n}`);
    this.rowCount += n;
  }

  private state(featureIndex: number): State {
    const s = this.states[featureIndex];
    if (s === undefined) throw new RangeError(`profile: no feature ${featureIndex} in a layout of ${this.states.length}`);
    return s;
  }

  /** The window so far as plain JSON; the accumulator keeps folding. */
  snapshot(): WindowProfile {
    return { schemaVersion: 1, layout: this.layout.id, rows: this.rowCount, features: this.states.map((s) => s.snapshot()) };
  }

  /** Starts a new window with the same layout. */
  reset(): void {
    this.states = this.layout.features.map((f) => (f.kind === 'numerical' ? new NumericalState(f) : new CategoricalState(f)));
    this.rowCount = 0;
  }
}

function addArrays(a: readonly number[], b: readonly number[], what: string): number[] {
  if (a.length !== b.length) throw new Error(`profile merge: ${what} have ${a.length} and ${b.length} entries`);
  return a.map((x, i) => x + (b[i] as number));
}

function mergeNumerical(a: NumericalWindowFeature, b: NumericalWindowFeature): NumericalWindowFeature {
  const count = a.count + b.count;
  let mean: number | null = null;
  let m2 = 0;
  if (a.count === 0) ({ mean, m2 } = b);
  else if (b.count === 0) ({ mean, m2 } = a);
  else {
    // Chan, Golub & LeVeque's pairwise update.
    const d = (b.mean as number) - (a.mean as number);
    mean = (a.mean as number) + (d * b.count) / count;
    m2 = a.m2 + b.m2 + ((d * d * a.count) / count) * b.count;
  }
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number): number | null => (x === null ? y : y === null ? x : f(x, y));
  return {
    name: a.name,
    kind: 'numerical',
    key: a.key,
    count,
    nulls: a.nulls + b.nulls,
    invalid: a.invalid + b.invalid,
    nans: a.nans + b.nans,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    mean,
    m2,
    bins: addArrays(a.bins, b.bins, `the bins of "${a.name}"`),
    outOfRange: a.outOfRange + b.outOfRange,
    sketch: QuantileSketch.fromJSON(a.sketch).merge(QuantileSketch.fromJSON(b.sketch)).toJSON(),
  };
}

function mergeCategorical(a: CategoricalWindowFeature, b: CategoricalWindowFeature): CategoricalWindowFeature {
  const added = new Map<string, number>();
  for (const c of [...a.added, ...b.added]) added.set(c.value, (added.get(c.value) ?? 0) + c.count);
  let all = [...added].map(([value, count]) => ({ value, count }));
  let other = a.other + b.other;
  const limit = Math.min(a.addedLimit, b.addedLimit);
  if (all.length > limit) {
    // More new categories than either side may name: keep the most frequent, the rest join `other`.
    all.sort((x, y) => y.count - x.count || byValue(x, y));
    for (const c of all.slice(limit)) other += c.count;
    all = all.slice(0, limit);
  }
  return {
    name: a.name,
    kind: 'categorical',
    key: a.key,
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    invalid: a.invalid + b.invalid,
    counts: addArrays(a.counts, b.counts, `the category counts of "${a.name}"`),
    added: all.sort(byValue),
    addedLimit: limit,
    other,
    unseen: a.unseen + b.unseen,
  };
}

/**
 * The profile of both windows' rows together. Exact: counts, bins and sketch buckets add, min and max are those of
 * both, mean and m2 merge by Chan et al. (equal to one pass over all rows up to rounding). The one approximation:
 * when the two name more new categories than addedLimit between them, the least frequent go to `other`.
 * Throws an Error when the two were folded with different layouts.
 */
export function mergeProfiles(a: WindowProfile, b: WindowProfile): WindowProfile {
  if (a.schemaVersion !== 1 || b.schemaVersion !== 1) throw new Error(`profile merge: unknown schemaVersion ${a.schemaVersion === 1 ? b.schemaVersion : a.schemaVersion}`);
  if (a.layout !== b.layout || a.features.length !== b.features.length) {
    throw new Error(`profile merge: the profiles were folded with different layouts (${a.layout} and ${b.layout}); merge only windows of the same model version and layout`);
  }
  const features = a.features.map((fa, i): WindowFeature => {
    const fb = b.features[i] as WindowFeature;
    if (fa.key !== fb.key || fa.kind !== fb.kind) throw new Error(`profile merge: feature ${i} ("${fa.name}") differs between the profiles`);
    return fa.kind === 'numerical' ? mergeNumerical(fa, fb as NumericalWindowFeature) : mergeCategorical(fa, fb as CategoricalWindowFeature);
  });
  return { schemaVersion: 1, layout: a.layout, rows: a.rows + b.rows, features };
}
