// The opt-in response cache of a deployment (spec.resilience.cache): an LRU with a TTL, keyed by the
// normalised input of a V1 or V2 request, so the same question asked twice (or asked while the model is
// down) can be answered without the model.
//
// What the key covers, and what it leaves out:
// - V2: the inputs, in name order, each with its name, datatype, shape and data; and the outputs asked for
//   (as a set; none, null or [] all mean "all outputs"). Not `id`, not `parameters` (request, input or output
//   level): the data plane does not pass them to the model, it only echoes the request's parameters and id.
// - V1: the instances, object keys in sorted order. Other fields of the body are not read.
// - The protocol and the `version` the caller passes (an answer is only valid for the version that gave it).
// Numbers are compared as the parsed values (JSON "1" and "1.0" are the same number; -0 stays apart from 0,
// as float inputs keep it). Nested and flat `data` of the same tensor give different keys: a miss, never a
// wrong answer. Cache the outputs (TensorMap), not the encoded body: id and parameters differ per request.
//
// The key is a binary canonical encoding of all that (every value tagged and length-prefixed, numbers as
// their 8 IEEE-754 bytes, so 1 and 1.0 are one value and the encoding is unambiguous). Up to MAX_PLAIN_KEY
// bytes the encoding itself is the key, as a latin1 string: exact, so no two inputs can share a key. Longer
// encodings are hashed with SHA-256 (a key of "#" + base64). Writing bytes rather than text matters: turning a
// float into text costs ~100 ns, ten times what storing its 8 bytes does.
import { createHash, hash, type Hash } from 'node:crypto';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { parseDuration } from '../../rollout/duration.js';
import type { ResilienceSpec } from './resilience-spec.js';

/** Nesting deeper than this (in instances or tensor data) is not cached: no real tensor is that deep, and it bounds the recursion. */
const MAX_DEPTH = 32;
/** Encodings up to this many bytes are the key themselves (one weather row: 113 B as V2, 142 B as V1); longer ones are hashed. */
const MAX_PLAIN_KEY = 256;
/** The encoding is written here; a longer one is fed to the hash a scratch-full at a time, so memory stays bounded. */
const SCRATCH_BYTES = 64 * 1024;

// Tags. The first byte of a plain key is a protocol tag, never "#" (0x23), so plain and hashed keys cannot meet.
const V1 = 0x01;
const V2 = 0x02;
const NUM = 0x10;
const STR = 0x11;
const TRUE = 0x12;
const FALSE = 0x13;
const NULL = 0x14;
const ARR = 0x15;
const OBJ = 0x16;
/** An object with the same keys as the previous object header in this encoding (the usual V1 row). */
const OBJ_SAME = 0x17;
const ALL_OUTPUTS = 0x18;
const NO_VERSION = 0x19;

/** Marks a value the encoding cannot take (undefined, a function, too deep): the body is not cacheable. */
class NotCacheable {}
const NOT_CACHEABLE = new NotCacheable();

// Encoder state, reset by every keyOf() call: requests are keyed one at a time on this thread.
const buf = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
let pos = 0;
let hasher: Hash | undefined;
/** The keys of the last object header written in this encoding, which OBJ_SAME refers to. */
let lastSortedKeys: string[] | undefined;

/**
 * The cache key of a parsed JSON request body, or undefined when the body cannot be keyed (not a request of
 * that protocol, or nested deeper than any tensor). Short inputs' keys are their exact encoding; longer ones'
 * are its SHA-256, 256 bits, so a collision is not a practical concern.
 */
export function keyOf(protocol: 'v1' | 'v2', body: unknown, version?: string | number): string | undefined {
  if (!isRecord(body)) return undefined;
  pos = 0;
  hasher = undefined;
  lastSortedKeys = undefined;
  try {
    byte(protocol === 'v2' ? V2 : V1);
    if (version === undefined) byte(NO_VERSION);
    else if (typeof version === 'number') num(version);
    else str(version);
    if (protocol === 'v2') v2Body(body);
    else v1Body(body);
  } catch (e) {
    hasher = undefined;
    if (e === NOT_CACHEABLE) return undefined;
    throw e;
  }
  // room() sets the hasher while encoding, which the compiler cannot see from here.
  const h = hasher as Hash | undefined;
  if (h === undefined) return pos <= MAX_PLAIN_KEY ? buf.toString('latin1', 0, pos) : `#${hash('sha256', buf.subarray(0, pos), 'base64')}`;
  hasher = undefined;
  h.update(buf.subarray(0, pos));
  return `#${h.digest('base64')}`;
}

function v2Body(body: Record<string, unknown>): void {
  const inputs = body.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw NOT_CACHEABLE;
  let list: Record<string, unknown>[];
  if (inputs.length === 1) {
    const only: unknown = inputs[0];
    if (!isRecord(only)) throw NOT_CACHEABLE;
    list = [only];
  } else {
    list = new Array<Record<string, unknown>>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const inp: unknown = inputs[i];
      if (!isRecord(inp) || typeof inp.name !== 'string') throw NOT_CACHEABLE;
      list[i] = inp;
    }
    list.sort((a, b) => compareStrings(a.name as string, b.name as string));
  }
  u32(list.length);
  for (let i = 0; i < list.length; i++) {
    const inp = list[i]!;
    // Only what a tensor can be is keyed; anything else would fail decoding, and is not cached.
    if (typeof inp.name !== 'string' || typeof inp.datatype !== 'string' || !Array.isArray(inp.shape) || !Array.isArray(inp.data)) throw NOT_CACHEABLE;
    str(inp.name);
    str(inp.datatype);
    value(inp.shape, 0);
    value(inp.data, 0);
  }
  const outputs = body.outputs;
  if (outputs == null || (Array.isArray(outputs) && outputs.length === 0)) {
    byte(ALL_OUTPUTS);
    return;
  }
  if (!Array.isArray(outputs)) throw NOT_CACHEABLE;
  const names = new Array<string>(outputs.length);
  for (let i = 0; i < outputs.length; i++) {
    const o: unknown = outputs[i];
    if (!isRecord(o) || typeof o.name !== 'string') throw NOT_CACHEABLE;
    names[i] = o.name;
  }
  if (names.length > 1) names.sort(compareStrings);
  byte(ARR);
  u32(names.length);
  for (let i = 0; i < names.length; i++) str(names[i]!);
}

function v1Body(body: Record<string, unknown>): void {
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length === 0) throw NOT_CACHEABLE;
  value(instances, 0);
}

/** Appends the encoding of a JSON value. */
function value(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'number':
      num(v);
      return;
    case 'string':
      str(v);
      return;
    case 'boolean':
      byte(v ? TRUE : FALSE);
      return;
    case 'object':
      break;
    default:
      throw NOT_CACHEABLE;
  }
  if (v === null) {
    byte(NULL);
    return;
  }
  if (depth >= MAX_DEPTH) throw NOT_CACHEABLE;
  if (Array.isArray(v)) {
    const n = v.length;
    byte(ARR);
    u32(n);
    for (let i = 0; i < n; i++) {
      const x: unknown = v[i];
      // Flat numeric data, the usual tensor, without the dispatch.
      if (typeof x === 'number') num(x);
      else value(x, depth + 1);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  const sorted = sortedKeysOf(o);
  // Whether the key set is the previous header's is decided on the sorted keys, so key order cannot change
  // the encoding.
  if (lastSortedKeys !== undefined && (sorted === lastSortedKeys || sameKeys(sorted, lastSortedKeys))) {
    byte(OBJ_SAME);
  } else {
    byte(OBJ);
    u32(sorted.length);
    for (let i = 0; i < sorted.length; i++) str(sorted[i]!);
  }
  lastSortedKeys = sorted;
  for (let i = 0; i < sorted.length; i++) value(o[sorted[i]!], depth + 1);
}

// Rows almost always list their keys in the order the previous row (or request) did: the last sort is
// reused when the keys come in the same order. This only saves work; the encoding does not depend on it.
let memoRawKeys: string[] = [];
let memoSortedKeys: string[] = [];

function sortedKeysOf(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o);
  if (sameKeys(keys, memoRawKeys)) return memoSortedKeys;
  memoRawKeys = keys;
  // The default sort compares UTF-16 code units, as compareStrings does.
  memoSortedKeys = keys.length > 1 ? keys.slice().sort() : keys;
  return memoSortedKeys;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function room(n: number): void {
  if (pos + n > SCRATCH_BYTES) {
    (hasher ??= createHash('sha256')).update(buf.subarray(0, pos));
    pos = 0;
  }
}

function byte(b: number): void {
  room(1);
  buf[pos++] = b;
}

function u32(n: number): void {
  room(4);
  view.setUint32(pos, n, true);
  pos += 4;
}

function num(x: number): void {
  room(9);
  buf[pos] = NUM;
  // -0 and 0 differ in their bytes, as float inputs keep the sign; JSON has no NaN.
  view.setFloat64(pos + 1, x, true);
  pos += 9;
}

/** A string as its length and UTF-16 code units, so any string (lone surrogates too) is kept exactly. */
function str(s: string): void {
  const n = s.length;
  room(5);
  buf[pos] = STR;
  view.setUint32(pos + 1, n, true);
  pos += 5;
  for (let i = 0; i < n; i++) {
    if (pos + 2 > SCRATCH_BYTES) room(2);
    const c = s.charCodeAt(i);
    buf[pos] = c & 0xff;
    buf[pos + 1] = c >>> 8;
    pos += 2;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- The cache ------------------------------------------------------------------------------------

export interface ResponseCacheOptions<V> {
  maxEntries: number;
  /** How long an entry answers after it was set. */
  ttlMs: number;
  /** Optional bound on the approximate memory held (values by sizeOf, keys by their length). */
  maxBytes?: number;
  /** Approximate bytes of a value; needed with maxBytes. tensorMapBytes() fits TensorMap values. */
  sizeOf?: (value: V) => number;
}

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  entries: number;
  /** Entries dropped to stay within maxEntries or maxBytes. */
  evictions: number;
  /** Entries dropped because their TTL had passed. */
  expirations: number;
  /** Approximate bytes held (0 without maxBytes). */
  bytes: number;
}

interface Entry<V> {
  key: string;
  value: V;
  expires: number;
  bytes: number;
  /** Towards the most recently used end. */
  newer: Entry<V> | null;
  /** Towards the least recently used end. */
  older: Entry<V> | null;
}

/** Bytes a Map entry with a small object costs besides its key and value, roughly. */
const ENTRY_OVERHEAD = 96;

/**
 * Least recently used first out, with a TTL. The Map finds entries; a doubly linked list through them keeps
 * the order, so a hit and an eviction are a few pointer moves. (Using the Map's own insertion order costs a
 * delete and a set per hit, and evicting through keys().next() walks past every slot deleted since the Map
 * last compacted: 8 µs a set at 10 000 entries.) Expired entries are dropped when read, when they reach the
 * least recently used end, or by prune().
 */
export class ResponseCache<V> {
  readonly options: Readonly<ResponseCacheOptions<V>>;
  private readonly map = new Map<string, Entry<V>>();
  private readonly sizeOf: ((value: V) => number) | undefined;
  private readonly maxBytes: number;
  /** Most recently used. */
  private newest: Entry<V> | null = null;
  /** Least recently used: the next to go. */
  private oldest: Entry<V> | null = null;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private expirations = 0;

  constructor(options: ResponseCacheOptions<V>) {
    if (!(Number.isInteger(options.maxEntries) && options.maxEntries >= 1)) throw new RangeError(`ResponseCache: maxEntries must be an integer ≥ 1, got ${options.maxEntries}`);
    if (!(options.ttlMs >= 0)) throw new RangeError(`ResponseCache: ttlMs must be ≥ 0, got ${options.ttlMs}`);
    if (options.maxBytes !== undefined) {
      if (!(options.maxBytes > 0)) throw new RangeError(`ResponseCache: maxBytes must be > 0, got ${options.maxBytes}`);
      if (options.sizeOf === undefined) throw new RangeError('ResponseCache: maxBytes needs sizeOf, to tell how large a value is');
    }
    this.options = Object.freeze({ ...options });
    this.maxBytes = options.maxBytes ?? Infinity;
    this.sizeOf = options.maxBytes !== undefined ? options.sizeOf : undefined;
  }

  /** The value set for `key` if it has not expired at `now`; counts a hit or a miss. */
  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (now >= e.expires) {
      this.remove(e);
      this.expirations++;
      this.misses++;
      return undefined;
    }
    if (e !== this.newest) {
      this.unlink(e);
      this.pushNewest(e);
    }
    this.hits++;
    return e.value;
  }

  /** Whether `key` holds a live entry at `now`, without counting or refreshing it. */
  has(key: string, now: number): boolean {
    const e = this.map.get(key);
    return e !== undefined && now < e.expires;
  }

  set(key: string, value: V, now: number): void {
    const old = this.map.get(key);
    if (old !== undefined) this.remove(old);
    const bytes = this.sizeOf !== undefined ? this.sizeOf(value) + key.length * 2 + ENTRY_OVERHEAD : 0;
    // A value larger than the whole budget would only evict everything else and then itself.
    if (bytes > this.maxBytes) return;
    const e: Entry<V> = { key, value, expires: now + this.options.ttlMs, bytes, newer: null, older: null };
    this.map.set(key, e);
    this.pushNewest(e);
    this.bytes += bytes;
    while (this.map.size > this.options.maxEntries || this.bytes > this.maxBytes) {
      const last = this.oldest!;
      this.remove(last);
      if (now >= last.expires) this.expirations++;
      else this.evictions++;
    }
  }

  delete(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.remove(e);
    return true;
  }

  /** Drops every entry expired at `now` (a periodic sweep, so expired answers do not hold memory); returns how many. */
  prune(now: number): number {
    let n = 0;
    for (let e = this.oldest; e !== null; ) {
      const next = e.newer;
      if (now >= e.expires) {
        this.remove(e);
        n++;
      }
      e = next;
    }
    this.expirations += n;
    return n;
  }

  clear(): void {
    this.map.clear();
    this.newest = null;
    this.oldest = null;
    this.bytes = 0;
  }

  get size(): number {
    return this.map.size;
  }

  stats(): ResponseCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.map.size, evictions: this.evictions, expirations: this.expirations, bytes: this.bytes };
  }

  private remove(e: Entry<V>): void {
    this.map.delete(e.key);
    this.unlink(e);
    this.bytes -= e.bytes;
  }

  private unlink(e: Entry<V>): void {
    if (e.newer !== null) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older !== null) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.newer = null;
    e.older = null;
  }

  private pushNewest(e: Entry<V>): void {
    e.older = this.newest;
    e.newer = null;
    if (this.newest !== null) this.newest.newer = e;
    else this.oldest = e;
    this.newest = e;
  }
}

/** Approximate bytes of a TensorMap: typed-array bytes, two bytes a character for BYTES, plus a little per tensor. */
export function tensorMapBytes(outputs: TensorMap): number {
  let total = 0;
  for (const name in outputs) {
    if (!Object.hasOwn(outputs, name)) continue;
    const t = outputs[name] as Tensor;
    total += 64 + name.length * 2 + t.shape.length * 8;
    const d = t.data;
    if (Array.isArray(d)) {
      for (let i = 0; i < d.length; i++) total += 16 + (d[i] as string).length * 2;
    } else {
      total += d.byteLength;
    }
  }
  return total;
}

export type CacheSpec = ResilienceSpec['cache'];

/** The cache spec.resilience.cache describes, or undefined when it is not enabled. */
export function responseCacheFor<V>(spec: CacheSpec, extra: Pick<ResponseCacheOptions<V>, 'maxBytes' | 'sizeOf'> = {}): ResponseCache<V> | undefined {
  if (!spec.enabled) return undefined;
  const ttlMs = parseDuration(spec.ttl);
  if (ttlMs === undefined) throw new Error(`spec.resilience.cache.ttl: "${spec.ttl}" is not a duration; write e.g. 30s, 5m, 1h.`);
  return new ResponseCache<V>({ maxEntries: spec.maxEntries, ttlMs, ...extra });
}
