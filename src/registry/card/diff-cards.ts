// What changed between two revisions of a model card (or between the cards of two versions),
// field by field, with paths a person can read: model_details.version.name,
// quantitative_analysis.performance_metrics[type=accuracy,slice=winter].value.
import type { ModelCard } from './card-schema.js';

export interface CardChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface MetricDelta {
  type: string;
  slice?: string;
  before: number;
  after: number;
  /** after − before. */
  delta: number;
}

/**
 * Lists whose elements carry their own identity, by the path of the list (indices left out). Matching
 * on it means that inserting one metric reports one added metric, not every later one as changed.
 * Lists of plain descriptions (limitations, use cases, references, …) have no such key; they are
 * aligned by content instead, see diffUnkeyed.
 */
const IDENTITY_KEYS: Readonly<Record<string, readonly string[]>> = {
  'model_details.owners': ['name'],
  'model_details.licenses': ['identifier'],
  'model_parameters.data': ['name'],
  'model_parameters.data.graphics.collection': ['name'],
  'quantitative_analysis.performance_metrics': ['type', 'slice'],
  'quantitative_analysis.graphics.collection': ['name'],
  'considerations.ethical_considerations': ['name'],
};

/** Field-level differences from `a` to `b`; a null card is treated as an empty one. */
export function diffCards(a: ModelCard | null, b: ModelCard | null): CardChange[] {
  const changes: CardChange[] = [];
  diffValues(a ?? {}, b ?? {}, '', '', changes);
  return changes;
}

/** Metrics present in both cards with a numeric value, in the order of `b`. */
export function metricDeltas(a: ModelCard | null, b: ModelCard | null): MetricDelta[] {
  const before = metricsByKey(a);
  const after = metricsByKey(b);
  const deltas: MetricDelta[] = [];
  for (const [key, m] of after) {
    const old = before.get(key);
    if (!old || !isFiniteNumber(old.value) || !isFiniteNumber(m.value)) continue;
    deltas.push({
      type: m.type,
      ...(m.slice !== undefined ? { slice: m.slice } : {}),
      before: old.value,
      after: m.value,
      // Rounded so that 0.91 − 0.87 reads 0.04, not 0.040000000000000036.
      delta: Number((m.value - old.value).toPrecision(12)),
    });
  }
  return deltas;
}

type Metric = { type: string; slice?: string; value?: number };

function metricsByKey(card: ModelCard | null): Map<string, Metric> {
  const byKey = new Map<string, Metric>();
  const duplicated = new Set<string>();
  for (const m of card?.quantitative_analysis?.performance_metrics ?? []) {
    const key = JSON.stringify([m.type, m.slice ?? null]);
    if (byKey.has(key)) duplicated.add(key);
    byKey.set(key, m);
  }
  // A metric reported twice for the same slice has no single "before" or "after" to compare.
  for (const key of duplicated) byKey.delete(key);
  return byKey;
}

function diffValues(a: unknown, b: unknown, path: string, shape: string, out: CardChange[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ path: path || '(card)', change: 'added', after: b });
  } else if (b === undefined) {
    out.push({ path: path || '(card)', change: 'removed', before: a });
  } else if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const key of keys) diffValues(a[key], b[key], joinKey(path, key), shape ? `${shape}.${key}` : key, out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, shape, out);
  } else if (!deepEqual(a, b)) {
    out.push({ path: path || '(card)', change: 'changed', before: a, after: b });
  }
}

function diffArrays(a: unknown[], b: unknown[], path: string, shape: string, out: CardChange[]): void {
  const keyFields = IDENTITY_KEYS[shape];
  if (!keyFields) {
    diffUnkeyed(a.map((v, i) => ({ v, i })), b.map((v, i) => ({ v, i })), path, shape, out);
    return;
  }
  const aKeys = identities(a, keyFields);
  const bKeys = identities(b, keyFields);
  const aByKey = new Map<string, number>();
  aKeys.forEach((k, i) => k !== undefined && aByKey.set(k.id, i));
  const bIds = new Set(bKeys.filter((k) => k !== undefined).map((k) => k!.id));

  for (const [i, k] of aKeys.entries()) {
    if (k !== undefined && !bIds.has(k.id)) out.push({ path: `${path}${k.label}`, change: 'removed', before: a[i] });
  }
  for (const [j, k] of bKeys.entries()) {
    if (k === undefined) continue;
    const i = aByKey.get(k.id);
    if (i === undefined) out.push({ path: `${path}${k.label}`, change: 'added', after: b[j] });
    else diffValues(a[i], b[j], `${path}${k.label}`, shape, out);
  }
  // Elements without a usable key (no name, or a name used twice) still get compared, by content.
  diffUnkeyed(
    a.map((v, i) => ({ v, i })).filter(({ i }) => aKeys[i] === undefined),
    b.map((v, i) => ({ v, i })).filter(({ i }) => bKeys[i] === undefined),
    path,
    shape,
    out,
  );
}

interface Identity {
  id: string;
  /** How the element appears in a path, e.g. `[type=accuracy,slice=winter]`. */
  label: string;
}

/** Each element's identity, or undefined where it has none or shares it with another element. */
function identities(list: unknown[], keyFields: readonly string[]): (Identity | undefined)[] {
  const ids = list.map((v): Identity | undefined => {
    if (!isObject(v) || typeof v[keyFields[0]!] !== 'string') return undefined;
    const parts = keyFields.filter((f) => v[f] !== undefined).map((f) => `${f}=${selectorValue(v[f])}`);
    return { id: JSON.stringify(keyFields.map((f) => v[f] ?? null)), label: `[${parts.join(',')}]` };
  });
  const counts = new Map<string, number>();
  for (const k of ids) if (k) counts.set(k.id, (counts.get(k.id) ?? 0) + 1);
  return ids.map((k) => (k && counts.get(k.id) === 1 ? k : undefined));
}

/**
 * Aligns two lists by their longest common run of equal elements; what lies between two aligned
 * elements is paired up in order and compared field by field, and the rest is added or removed.
 * So editing one limitation reports that limitation's description as changed, and inserting one
 * reports one addition.
 */
function diffUnkeyed(a: { v: unknown; i: number }[], b: { v: unknown; i: number }[], path: string, shape: string, out: CardChange[]): void {
  if (a.length === 0 && b.length === 0) return;
  const n = a.length;
  const m = b.length;
  // Card lists are short; past this size an O(n·m) table is not worth it and order is good enough.
  const lcs: number[][] = n * m <= 250_000 ? Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0)) : [];
  if (lcs.length > 0) {
    for (let x = n - 1; x >= 0; x--) {
      for (let y = m - 1; y >= 0; y--) {
        lcs[x]![y] = deepEqual(a[x]!.v, b[y]!.v) ? lcs[x + 1]![y + 1]! + 1 : Math.max(lcs[x + 1]![y]!, lcs[x]![y + 1]!);
      }
    }
  }
  let x = 0;
  let y = 0;
  let gapA: { v: unknown; i: number }[] = [];
  let gapB: { v: unknown; i: number }[] = [];
  const flush = () => {
    const paired = Math.min(gapA.length, gapB.length);
    for (let k = 0; k < paired; k++) diffValues(gapA[k]!.v, gapB[k]!.v, `${path}[${gapB[k]!.i}]`, shape, out);
    for (const e of gapA.slice(paired)) out.push({ path: `${path}[${e.i}]`, change: 'removed', before: e.v });
    for (const e of gapB.slice(paired)) out.push({ path: `${path}[${e.i}]`, change: 'added', after: e.v });
    gapA = [];
    gapB = [];
  };
  while (x < n || y < m) {
    if (x < n && y < m && lcs.length > 0 && deepEqual(a[x]!.v, b[y]!.v)) {
      flush();
      x++;
      y++;
    } else if (y >= m || (x < n && lcs.length > 0 && lcs[x + 1]![y]! >= lcs[x]![y + 1]!)) {
      gapA.push(a[x++]!);
    } else if (lcs.length > 0 || x >= n) {
      gapB.push(b[y++]!);
    } else {
      gapA.push(a[x++]!);
      gapB.push(b[y++]!);
    }
  }
  flush();
}

function selectorValue(v: unknown): string {
  const s = String(v);
  const shown = s.length > 60 ? `${s.slice(0, 59)}…` : s;
  // Bare when unambiguous; quoted when the value would blur the `[a=b,c=d]` syntax.
  return /^[^[\]=,"\s](?:[^[\]=,"]*[^[\]=,"\s])?$/.test(shown) ? shown : JSON.stringify(shown);
}

function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Structural equality for card values; a key holding undefined counts as absent. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
