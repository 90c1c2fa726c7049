// The drift statistics of Evidently's default stat tests (ks, chisquare, z, wasserstein, jensenshannon, psi), with
// the numbers of the scipy functions they call. Pure functions on typed arrays; checked against scipy in the tests.
import { chiSquareSurvival, twoProportionZTest } from '../../rollout/analysis/statistics.js';
import { kolmogn, probOutsideInside, probOutsideSquare } from './kolmogorov.js';
import { sortedWithoutMissing } from './sorted-column.js';

export interface KsResult {
  /** The largest distance between the two empirical CDFs. */
  statistic: number;
  pValue: number;
  /** 'exact' when both samples have at most 10,000 values (scipy's method='auto'), else 'asymp'. */
  method: 'exact' | 'asymp';
}

export interface ChiSquareDriftResult {
  statistic: number;
  pValue: number;
  df: number;
}

export interface ZTestResult {
  /** (p_reference - p_current) / pooled standard error, p being the share of every label but the first. */
  statistic: number;
  pValue: number;
}

/** Category counts: a Map keeps number labels as numbers (sorted numerically), a Record has string labels. */
export type CategoryCounts = ReadonlyMap<string | number, number> | Readonly<Record<string, number>>;

/** scipy's MAX_AUTO_N: ks_2samp(method='auto') is exact when both samples have at most this many values. */
const KS_MAX_EXACT_N = 10000;

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkSorted(values: Float64Array, label: string): void {
  if (values.length === 0) throw new Error(`${label} has no values (after dropping missing ones)`);
}

/** Two-sample KS on ascending, NaN-free arrays; see ks2samp. */
export function ks2sampSorted(a: Float64Array, b: Float64Array): KsResult {
  checkSorted(a, 'reference');
  checkSorted(b, 'current');
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = Number.NEGATIVE_INFINITY;
  let minS = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minusMin = Math.min(1, Math.max(0, -minS));
  return ksPValue(minusMin > maxS ? minusMin : maxS, n1, n2);
}

/**
 * scipy's ks_2samp p-value for the two-sided statistic d with n1 and n2 values: exact below 10,000 per side
 * (with d rounded to a multiple of 1/lcm(n1, n2), as scipy reports it), else the asymptotic kstwo. Also used
 * by live drift, which reads d off two sketches.
 */
export function ksPValue(d: number, n1: number, n2: number): KsResult {
  let method: KsResult['method'] = Math.max(n1, n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymp';
  let pValue = Number.NaN;
  if (method === 'exact') {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    if (h === 0) {
      pValue = 1;
    } else {
      const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideInside(n1, n2, g, h);
      if (p >= 0 && p <= 1) pValue = p;
      else method = 'asymp';
    }
  }
  if (method === 'asymp') {
    const m = Math.max(n1, n2);
    const n = Math.min(n1, n2);
    pValue = kolmogn(roundHalfEven((m * n) / (m + n)), d, false);
  }
  return { statistic: d, pValue: Math.min(1, Math.max(0, pValue)), method };
}

/**
 * Two-sample two-sided Kolmogorov-Smirnov test: scipy.stats.ks_2samp(reference, current) with method='auto'.
 * NaN values are dropped first. Like scipy, the exact path reports the statistic rounded to a multiple of
 * 1/lcm(n, m).
 */
export function ks2samp(reference: Float64Array, current: Float64Array): KsResult {
  return ks2sampSorted(sortedWithoutMissing(reference), sortedWithoutMissing(current));
}

/** scipy.stats.wasserstein_distance on ascending arrays: ∫|F_u - F_v| over the merged values, one merge. */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  checkSorted(u, 'u');
  checkSorted(v, 'v');
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let total = 0;
  let previous = Math.min(u[0] as number, v[0] as number);
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && (u[i] as number) <= (v[j] as number)) ? (u[i] as number) : (v[j] as number);
    if (x !== previous) total += Math.abs(i / nu - j / nv) * (x - previous);
    previous = x;
    while (i < nu && u[i] === x) i++;
    while (j < nv && v[j] === x) j++;
  }
  return total;
}

/** First Wasserstein distance between two 1-D samples (scipy.stats.wasserstein_distance, unweighted). */
export function wassersteinDistance(u: Float64Array, v: Float64Array): number {
  return wassersteinSorted(sortedWithoutMissing(u), sortedWithoutMissing(v));
}

/** Population standard deviation (numpy's np.std, ddof = 0), two passes. */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    squares += d * d;
  }
  return Math.sqrt(squares / n);
}

/** Evidently's 'wasserstein' drift score: the distance over the reference's std, the std floored at 0.001. */
export function normalisedWassersteinSorted(reference: Float64Array, current: Float64Array): number {
  return wassersteinSorted(reference, current) / Math.max(populationStd(reference), 0.001);
}

/** Wasserstein distance divided by the reference's population std (at least 0.001), as Evidently's stat test. */
export function normalisedWasserstein(reference: Float64Array, current: Float64Array): number {
  return normalisedWassersteinSorted(sortedWithoutMissing(reference), sortedWithoutMissing(current));
}

/**
 * scipy.spatial.distance.jensenshannon(p, q) with the natural log: both vectors are normalised to sum to 1,
 * result sqrt((KL(p‖m) + KL(q‖m)) / 2) with m the midpoint.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new Error(`p and q need the same length, got ${p.length} and ${q.length}`);
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] as number;
    const b = q[i] as number;
    if (!(a >= 0 && b >= 0)) throw new Error(`entry ${i} must be >= 0 in both vectors, got ${a} and ${b}`);
    sp += a;
    sq += b;
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] as number) / sp;
    const b = (q[i] as number) / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(js / 2);
}

/** Evidently's get_binned_data zero fill: empty bins get min(non-zero share) / 1e6, or 0.0001 if that is larger. */
function fillZeroShares(shares: Float64Array): void {
  let min = Number.POSITIVE_INFINITY;
  for (const s of shares) if (s !== 0 && s < min) min = s;
  if (min === Number.POSITIVE_INFINITY) return;
  const fill = min <= 0.0001 ? min / 1e6 : 0.0001;
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = fill;
}

/**
 * Population stability index of two aligned count vectors (bins or categories), as Evidently's 'psi' stat test:
 * shares of each total, empty bins filled as get_binned_data does, then Σ (ref - cur) · ln(ref / cur).
 */
export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): number {
  const k = referenceCounts.length;
  if (currentCounts.length !== k) throw new Error(`got ${k} reference counts but ${currentCounts.length} current counts`);
  const ref = sharesOf(referenceCounts);
  const cur = sharesOf(currentCounts);
  fillZeroShares(ref);
  fillZeroShares(cur);
  let total = 0;
  for (let i = 0; i < k; i++) {
    const r = ref[i] as number;
    const c = cur[i] as number;
    total += (r - c) * Math.log(r / c);
  }
  return total;
}

function sharesOf(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (!(Number.isFinite(c) && c >= 0)) throw new Error(`counts[${i}] must be a finite count >= 0, got ${c}`);
    total += c;
  }
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = (counts[i] as number) / total;
  return out;
}

function entriesOf(counts: CategoryCounts): [string | number, number][] {
  const entries: [string | number, number][] = counts instanceof Map ? [...counts.entries()] : Object.entries(counts);
  for (const [key, c] of entries) {
    if (!(Number.isFinite(c) && c >= 0)) throw new Error(`count of category ${JSON.stringify(key)} must be a finite count >= 0, got ${c}`);
  }
  return entries;
}

/** The categories seen (count > 0) on either side, with both counts; the order is that of first appearance. */
function alignCategories(reference: CategoryCounts, current: CategoryCounts): { keys: (string | number)[]; ref: number[]; cur: number[] } {
  const index = new Map<string | number, number>();
  const ref: number[] = [];
  const cur: number[] = [];
  const add = (entries: [string | number, number][], side: number[], other: number[]): void => {
    for (const [key, c] of entries) {
      if (c === 0) continue;
      let at = index.get(key);
      if (at === undefined) {
        at = ref.length;
        index.set(key, at);
        side.push(0);
        other.push(0);
      }
      side[at] = (side[at] as number) + c;
    }
  };
  add(entriesOf(reference), ref, cur);
  add(entriesOf(current), cur, ref);
  return { keys: [...index.keys()], ref, cur };
}

/**
 * Evidently's 'chisquare' stat test: scipy.stats.chisquare(current counts, f_exp = reference counts scaled to
 * the current total) over every category seen on either side. A category the reference never saw has an
 * expected count of 0, so (as in scipy) the statistic is Infinity and the p-value 0. With a single category
 * nothing can differ: statistic 0, p-value 1 (scipy returns NaN for zero degrees of freedom).
 */
export function chiSquareDrift(referenceCounts: CategoryCounts, currentCounts: CategoryCounts): ChiSquareDriftResult {
  const { ref, cur } = alignCategories(referenceCounts, currentCounts);
  let nRef = 0;
  let nCur = 0;
  for (const c of ref) nRef += c;
  for (const c of cur) nCur += c;
  if (nRef === 0 || nCur === 0) throw new Error(`chi-square needs values on both sides, got ${nRef} reference and ${nCur} current`);
  const df = ref.length - 1;
  if (df < 1) return { statistic: 0, pValue: 1, df };
  const scale = nCur / nRef;
  let statistic = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = (ref[i] as number) * scale;
    const d = (cur[i] as number) - e;
    statistic += (d * d) / e;
  }
  return { statistic, pValue: statistic === Number.POSITIVE_INFINITY ? 0 : chiSquareSurvival(statistic, df), df };
}

function compareLabels(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Evidently's 'z' stat test for binary columns: the labels are sorted, the first counts as 0 and every other as
 * 1, and the shares of 1 are compared by a pooled two-proportion z-test, two-sided. When both sides hold the
 * same single label the p-value is 1.
 */
export function zTestProportions(referenceCounts: CategoryCounts, currentCounts: CategoryCounts): ZTestResult {
  const { keys, ref, cur } = alignCategories(referenceCounts, currentCounts);
  let nRef = 0;
  let nCur = 0;
  for (const c of ref) nRef += c;
  for (const c of cur) nCur += c;
  if (nRef === 0 || nCur === 0) throw new Error(`z-test needs values on both sides, got ${nRef} reference and ${nCur} current`);
  if (keys.length < 2) return { statistic: 0, pValue: 1 };
  let first = 0;
  for (let i = 1; i < keys.length; i++) if (compareLabels(keys[i] as string | number, keys[first] as string | number) < 0) first = i;
  const onesRef = nRef - (ref[first] as number);
  const onesCur = nCur - (cur[first] as number);
  // twoProportionZTest's z is (p2 - p1) / se; Evidently reports (p1 - p2) / se.
  const result = twoProportionZTest(onesCur, nCur, onesRef, nRef);
  return { statistic: result.z, pValue: result.pValue };
}

/**
 * numpy.histogram_bin_edges of the union of two ascending arrays: `bins` equal-width bins, or numpy's
 * 'sturges' rule (ceil(range / (range / (log2(n) + 1))) bins). A zero range widens to ±0.5 as numpy does.
 */
export function histogramBinEdgesSorted(a: Float64Array, b: Float64Array, bins: number | 'sturges'): Float64Array {
  const size = a.length + b.length;
  if (size === 0) throw new Error('histogram needs at least one value');
  const first = Math.min(a.length ? (a[0] as number) : Infinity, b.length ? (b[0] as number) : Infinity);
  const last = Math.max(a.length ? (a[a.length - 1] as number) : -Infinity, b.length ? (b[b.length - 1] as number) : -Infinity);
  return histogramEdges(first, last, size, bins);
}

/**
 * numpy.histogram_bin_edges over values spanning [first, last], `size` of them: Sturges' count of equal bins
 * (or `bins`), widened to ±0.5 around a single value. Live drift calls it with a sketch's min, max and count.
 */
export function histogramEdges(first: number, last: number, size: number, bins: number | 'sturges'): Float64Array {
  if (!(Number.isFinite(first) && Number.isFinite(last))) throw new Error(`histogram range [${first}, ${last}] is not finite`);
  let count: number;
  if (bins === 'sturges') {
    const width = (last - first) / (Math.log2(size) + 1);
    count = width ? Math.ceil((last - first) / width) : 1;
  } else {
    if (!(Number.isInteger(bins) && bins >= 1)) throw new Error(`bins must be a positive integer, got ${bins}`);
    count = bins;
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  // np.linspace: start + i·step, the last edge set to stop.
  const step = (last - first) / count;
  const edges = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) edges[i] = i * step + first;
  edges[count] = last;
  return edges;
}

/** Index of the first element >= x (side 'left') or > x (side 'right') in an ascending array. */
function searchSorted(sorted: Float64Array, x: number, right: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v < x || (right && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** numpy.histogram(values, edges)[0] for ascending values: [e_i, e_i+1) bins, the last one closed. */
export function histogramCountsSorted(sorted: Float64Array, edges: Float64Array): Float64Array {
  const k = edges.length - 1;
  const counts = new Float64Array(k);
  let previous = searchSorted(sorted, edges[0] as number, false);
  for (let i = 1; i <= k; i++) {
    const at = searchSorted(sorted, edges[i] as number, i === k);
    counts[i - 1] = at - previous;
    previous = at;
  }
  return counts;
}
