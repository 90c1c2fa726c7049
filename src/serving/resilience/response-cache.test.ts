import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TensorMap } from '../../runtime/types.js';
import { keyOf, ResponseCache, responseCacheFor, tensorMapBytes } from './response-cache.js';

const v2 = (text: string) => keyOf('v2', JSON.parse(text), 3);
const v1 = (text: string) => keyOf('v1', JSON.parse(text), 3);

const WEATHER_V2 = '{"id":"a","inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5]}]}';

describe('keyOf: what a V2 key covers', () => {
  it('ignores the request id and parameters (request, input and output level)', () => {
    const base = v2(WEATHER_V2);
    assert.ok(base !== undefined);
    assert.equal(v2('{"id":"b","inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5]}]}'), base);
    assert.equal(v2('{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5]}],"parameters":{"trace":true}}'), base);
    assert.equal(v2('{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5],"parameters":{"x":1}}]}'), base);
  });

  it('reads numbers as values: 1, 1.0 and 1e0 are the same input', () => {
    const a = v2('{"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[1,2.50,100]}]}');
    assert.equal(v2('{"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[1.0,2.5,1e2]}]}'), a);
  });

  it('does not care about the order of the inputs or of the fields of an input', () => {
    const a = v2('{"inputs":[{"name":"a","shape":[1],"datatype":"INT32","data":[1]},{"name":"b","shape":[1],"datatype":"BYTES","data":["x"]}]}');
    assert.equal(v2('{"inputs":[{"data":["x"],"datatype":"BYTES","shape":[1],"name":"b"},{"name":"a","datatype":"INT32","data":[1],"shape":[1]}]}'), a);
  });

  it('covers the outputs asked for, as a set; none, null and [] all mean every output', () => {
    const all = v2(WEATHER_V2);
    const body = (outputs: string) => `{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5]}],"outputs":${outputs}}`;
    assert.equal(v2(body('null')), all);
    assert.equal(v2(body('[]')), all);
    const label = v2(body('[{"name":"label"}]'));
    assert.notEqual(label, all);
    const both = v2(body('[{"name":"label"},{"name":"probabilities"}]'));
    assert.notEqual(both, label);
    assert.equal(v2(body('[{"name":"probabilities","parameters":{"k":1}},{"name":"label"}]')), both);
  });

  it('tells apart everything that changes the answer: data, datatype, shape, name, version, protocol', () => {
    const base = v2(WEATHER_V2);
    const variants = [
      '{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.6]}]}',
      '{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP64","data":[0.3,15,5,2.5]}]}',
      '{"inputs":[{"name":"features","shape":[4,1],"datatype":"FP32","data":[0.3,15,5,2.5]}]}',
      '{"inputs":[{"name":"feature","shape":[1,4],"datatype":"FP32","data":[0.3,15,5,2.5]}]}',
      '{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[15,0.3,5,2.5]}]}',
    ];
    const keys = new Set([base, ...variants.map(v2)]);
    assert.equal(keys.size, variants.length + 1);
    const body: unknown = JSON.parse(WEATHER_V2);
    assert.notEqual(keyOf('v2', body, 4), base);
    assert.notEqual(keyOf('v2', body), base);
    assert.notEqual(keyOf('v2', body, '3'), base, 'version 3 and alias "3" are not the same thing');
    assert.notEqual(keyOf('v1', { instances: [[0.3, 15, 5, 2.5]] }, 3), keyOf('v2', { inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [0.3, 15, 5, 2.5] }] }, 3));
  });

  it('keeps -0 apart from 0 (float inputs keep the sign) and a string apart from a number', () => {
    const k = (data: unknown[]) => keyOf('v2', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data }] });
    assert.notEqual(k([-0]), k([0]));
    assert.notEqual(k(['1']), k([1]));
    assert.notEqual(k([true]), k(['t']));
    assert.notEqual(k([null]), k(['n']));
  });

  it('keeps nested and flat data apart (a miss, never a wrong answer)', () => {
    const k = (data: unknown[]) => keyOf('v2', { inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP32', data }] });
    assert.notEqual(k([[1, 2], [3, 4]]), k([1, 2, 3, 4]));
    assert.notEqual(k([[1, 2], [3, 4]]), k([[1], [2, 3, 4]]));
  });

  it('cannot be fooled by separators inside names and strings', () => {
    const k = (inputs: unknown[]) => keyOf('v2', { inputs });
    const pairs: [unknown[], unknown[]][] = [
      [[{ name: 'a', shape: [2], datatype: 'BYTES', data: ['b,c', 'd'] }], [{ name: 'a', shape: [2], datatype: 'BYTES', data: ['b', 'c,d'] }]],
      [[{ name: 'a"b', shape: [1], datatype: 'BYTES', data: ['c'] }], [{ name: 'a', shape: [1], datatype: 'BYTES', data: ['b"c'] }]],
      [[{ name: 'a;b', shape: [1], datatype: 'INT32', data: [1] }], [{ name: 'a', shape: [1], datatype: 'INT32', data: [1] }, { name: 'b', shape: [1], datatype: 'INT32', data: [1] }]],
      [[{ name: 'x', shape: [1], datatype: 'BYTES', data: ['a|*'] }], [{ name: 'x', shape: [1], datatype: 'BYTES', data: ['a'] }]],
    ];
    for (const [a, b] of pairs) assert.notEqual(k(a), k(b), JSON.stringify([a, b]));
  });

  it('answers undefined for bodies that are not V2 requests or nest absurdly deep', () => {
    for (const body of [null, 42, 'x', [], {}, { inputs: [] }, { inputs: {} }, { inputs: [42] }, { inputs: [{ shape: [1], datatype: 'FP32', data: [1] }] }, { inputs: [{ name: 'x', shape: 1, datatype: 'FP32', data: [1] }] }, { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: 1 }] }, { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [undefined] }] }, { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: 'label' }]) {
      assert.equal(keyOf('v2', body), undefined, JSON.stringify(body) ?? String(body));
    }
    let deep: unknown = [1];
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assert.equal(keyOf('v2', { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: deep }] }), undefined);
  });

  it('uses short encodings as the key itself and hashes long ones (SHA-256, base64) the same way every time', () => {
    const short = v2(WEATHER_V2)!;
    assert.notEqual(short[0], '#');
    // Protocol tag, version (tag + 8 bytes), input count, then name, datatype, shape and data, then "all outputs".
    assert.equal(short.length, 1 + 9 + 4 + (5 + 16) + (5 + 8) + (5 + 2 * 9) + (5 + 4 * 9) + 1);
    const data = Array.from({ length: 256 }, (_, i) => i / 7);
    const long1 = keyOf('v2', { inputs: [{ name: 'x', shape: [256], datatype: 'FP64', data }] })!;
    const long2 = keyOf('v2', { id: 'other', inputs: [{ shape: [256], name: 'x', datatype: 'FP64', data: data.slice() }] })!;
    assert.match(long1, /^#[A-Za-z0-9+/]{43}=$/);
    assert.equal(long2, long1);
    const changed = data.slice();
    changed[255] = 0;
    assert.notEqual(keyOf('v2', { inputs: [{ name: 'x', shape: [256], datatype: 'FP64', data: changed }] }), long1);
  });

  it('keys inputs larger than the 64 KiB scratch (hashed in pieces) exactly as consistently', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => i * 0.5);
    const a = keyOf('v2', { inputs: [{ name: 'img', shape: [20_000], datatype: 'FP32', data: big }] })!;
    assert.match(a, /^#/);
    assert.equal(keyOf('v2', { inputs: [{ name: 'img', shape: [20_000], datatype: 'FP32', data: big.slice() }] }), a);
    const changed = big.slice();
    changed[19_999] = 1;
    assert.notEqual(keyOf('v2', { inputs: [{ name: 'img', shape: [20_000], datatype: 'FP32', data: changed }] }), a);
    const longName = 'n'.repeat(40_000);
    assert.notEqual(keyOf('v2', { inputs: [{ name: longName, shape: [1], datatype: 'BYTES', data: ['a'] }] }), keyOf('v2', { inputs: [{ name: `${longName}x`, shape: [1], datatype: 'BYTES', data: ['a'] }] }));
    // A short body keyed right after a long one is not disturbed by what the long one left behind.
    assert.equal(v2(WEATHER_V2), keyOf('v2', JSON.parse(WEATHER_V2), 3));
  });

  it('keeps strings exactly, lone surrogates and characters beyond latin1 included', () => {
    const k = (s: string) => keyOf('v2', { inputs: [{ name: 'x', shape: [1], datatype: 'BYTES', data: [s] }] });
    const strings = ['\ud800', '\udc00', '\ufffd', 'é', 'e\u0301', '\u0000', '', 'ab', 'a\u0000b'];
    assert.equal(new Set(strings.map(k)).size, strings.length);
  });
});

describe('keyOf: what a V1 key covers', () => {
  const WEATHER_V1 = '{"instances":[{"precipitation":0.3,"temp_max":15,"temp_min":5,"wind":2.5}]}';

  it('does not care about key order within an instance, row by row', () => {
    const a = v1('{"instances":[{"a":1,"b":2},{"a":3,"b":4},{"b":6,"a":5}]}');
    assert.equal(v1('{"instances":[{"b":2,"a":1},{"b":4,"a":3},{"a":5,"b":6}]}'), a);
    assert.equal(v1(WEATHER_V1), v1('{"instances":[{"wind":2.5,"temp_min":5,"temp_max":15,"precipitation":0.3}]}'));
  });

  it('keeps rows apart whose keys differ though the previous row had the same count of keys', () => {
    assert.notEqual(v1('{"instances":[{"a":1,"b":2},{"a":1,"c":2}]}'), v1('{"instances":[{"a":1,"b":2},{"a":1,"b":2}]}'));
    assert.notEqual(v1('{"instances":[{"a":1,"b":2}]}'), v1('{"instances":[{"a":2,"b":1}]}'));
  });

  it('reads nothing but the instances, in order; arrays and objects are different rows', () => {
    assert.equal(v1('{"instances":[[1,2]],"signature_name":"x"}'), v1('{"instances":[[1,2]]}'));
    assert.notEqual(v1('{"instances":[[1,2],[3,4]]}'), v1('{"instances":[[3,4],[1,2]]}'));
    assert.notEqual(v1('{"instances":[{"a":1,"b":2}]}'), v1('{"instances":[[1,2]]}'));
    assert.equal(v1('{"instances":[[1.0,2e0]]}'), v1('{"instances":[[1,2]]}'));
    assert.notEqual(v1('{"instances":[{"a":-0}]}'), v1('{"instances":[{"a":0}]}'));
    assert.equal(v1('{"instances":[{"a":1.50}]}'), v1('{"instances":[{"a":1.5}]}'));
  });

  it('answers undefined for bodies that are not V1 requests', () => {
    for (const body of [null, [], {}, { instances: [] }, { instances: 'x' }]) assert.equal(keyOf('v1', body), undefined);
  });

  it('gives rows with the same keys in any order the same key, whatever the row before', () => {
    const a = v1('{"instances":[{"a":1,"b":2},{"a":3,"b":4}]}');
    assert.equal(v1('{"instances":[{"a":1,"b":2},{"b":4,"a":3}]}'), a);
    assert.equal(v1('{"instances":[{"b":2,"a":1},{"a":3,"b":4}]}'), a);
    assert.notEqual(v1('{"instances":[{"a":1,"b":2},{"a":3,"c":4}]}'), a);
    assert.notEqual(v1('{"instances":[{"a":1,"b":2},{"a":3,"b":4,"c":5}]}'), a);
    // A nested object between two rows is a header of its own.
    assert.notEqual(v1('{"instances":[{"a":{"x":1},"b":2},{"a":{"x":1},"b":2}]}'), v1('{"instances":[{"a":{"x":1},"b":2},{"x":{"x":1},"b":2}]}'));
  });

  it('keys the weather instance compactly: one row is well under the plain-key limit', () => {
    const k = keyOf('v1', JSON.parse(WEATHER_V1), 'stable')!;
    assert.notEqual(k[0], '#');
    assert.ok(k.length < 256, String(k.length));
  });
});

describe('ResponseCache', () => {
  it('answers what was set until the TTL passes, counting hits and misses', () => {
    const c = new ResponseCache<string>({ maxEntries: 10, ttlMs: 1000 });
    assert.equal(c.get('k', 0), undefined);
    c.set('k', 'v', 100);
    assert.equal(c.get('k', 100), 'v');
    assert.equal(c.get('k', 1099), 'v');
    assert.equal(c.has('k', 1099), true);
    assert.equal(c.get('k', 1100), undefined, 'expired at set + ttl');
    assert.deepEqual(c.stats(), { hits: 2, misses: 2, entries: 0, evictions: 0, expirations: 1, bytes: 0 });
  });

  it('evicts the least recently used entry beyond maxEntries; a hit on an older entry counts as a use', () => {
    const c = new ResponseCache<number>({ maxEntries: 3, ttlMs: 60_000 });
    c.set('a', 1, 0);
    c.set('b', 2, 0);
    c.set('c', 3, 0);
    assert.equal(c.get('a', 1), 1);
    c.set('d', 4, 2);
    assert.equal(c.has('b', 2), false, 'b was the least recently used');
    assert.deepEqual(['a', 'c', 'd'].map((k) => c.has(k, 3)), [true, true, true]);
    assert.equal(c.stats().evictions, 1);
    assert.equal(c.size, 3);
  });

  it('keeps an entry that is read, however many others come and go', () => {
    const c = new ResponseCache<number>({ maxEntries: 100, ttlMs: 60_000 });
    c.set('hot', 0, 0);
    for (let i = 0; i < 10_000; i++) {
      c.set(`cold${i}`, i, 0);
      assert.equal(c.get('hot', 0), 0, `lost the hot entry after ${i + 1} others`);
    }
    assert.equal(c.size, 100);
    assert.equal(c.stats().evictions, 10_001 - 100);
  });

  it('is exact LRU: an entry read survives maxEntries − 1 further insertions, wherever it was', () => {
    for (const readAfter of [0, 1, 10, 50, 98, 99]) {
      const c = new ResponseCache<number>({ maxEntries: 100, ttlMs: 60_000 });
      c.set('x', 0, 0);
      for (let i = 0; i < readAfter; i++) c.set(`a${i}`, i, 0);
      assert.equal(c.get('x', 0), 0);
      let survived = 0;
      while (c.has('x', 0)) c.set(`b${survived++}`, 0, 0);
      assert.equal(survived - 1, 99, `read after ${readAfter} insertions`);
    }
  });

  it('keeps its order through deletes, replacements and expiry in the middle', () => {
    const c = new ResponseCache<string>({ maxEntries: 4, ttlMs: 100 });
    for (const k of ['a', 'b', 'c', 'd']) c.set(k, k, 0);
    c.delete('b');
    c.set('c', 'c2', 0);
    c.get('a', 0);
    // Order, least recent first: d, c, a. Two more push out d, then c.
    c.set('e', 'e', 0);
    assert.equal(c.size, 4);
    c.set('f', 'f', 0);
    assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => c.has(k, 0)), [true, false, true, false, true, true]);
    c.set('g', 'g', 0);
    assert.equal(c.has('c', 0), false);
    assert.equal(c.prune(100), 4);
    assert.equal(c.size, 0);
    c.set('h', 'h', 200);
    assert.equal(c.get('h', 200), 'h', 'usable again after everything went');
  });

  it('replaces the value of a key set again, and restarts its TTL', () => {
    const c = new ResponseCache<string>({ maxEntries: 2, ttlMs: 100 });
    c.set('k', 'old', 0);
    c.set('k', 'new', 50);
    assert.equal(c.get('k', 120), 'new');
    assert.equal(c.size, 1);
  });

  it('counts an expired entry pushed out as an expiration, not an eviction', () => {
    const c = new ResponseCache<number>({ maxEntries: 1, ttlMs: 10 });
    c.set('a', 1, 0);
    c.set('b', 2, 50);
    assert.deepEqual({ evictions: c.stats().evictions, expirations: c.stats().expirations }, { evictions: 0, expirations: 1 });
  });

  it('bounds approximate bytes when maxBytes is set, evicting oldest first', () => {
    const c = new ResponseCache<string>({ maxEntries: 1000, ttlMs: 60_000, maxBytes: 1000, sizeOf: (v) => v.length });
    // Each entry: 200 (value) + 2 (key) + 96 overhead = 298 bytes; three fit in 1000, four do not.
    for (const k of ['a', 'b', 'c']) c.set(k, 'x'.repeat(200), 0);
    assert.equal(c.stats().bytes, 894);
    c.set('d', 'x'.repeat(200), 0);
    assert.equal(c.has('a', 0), false);
    assert.equal(c.size, 3);
    assert.equal(c.stats().bytes, 894);
    c.set('huge', 'x'.repeat(5000), 0);
    assert.equal(c.has('huge', 0), false, 'a value over the whole budget is not kept');
    assert.equal(c.size, 3, 'and evicts nothing');
    c.delete('b');
    assert.equal(c.stats().bytes, 596);
  });

  it('prunes expired entries on demand', () => {
    const c = new ResponseCache<number>({ maxEntries: 10, ttlMs: 100 });
    c.set('a', 1, 0);
    c.set('b', 2, 50);
    c.set('c', 3, 200);
    assert.equal(c.prune(160), 2);
    assert.equal(c.size, 1);
    assert.equal(c.get('c', 160), 3);
    c.clear();
    assert.equal(c.size, 0);
  });

  it('refuses options that cannot work', () => {
    assert.throws(() => new ResponseCache({ maxEntries: 0, ttlMs: 1 }), /maxEntries must be an integer ≥ 1/);
    assert.throws(() => new ResponseCache({ maxEntries: 1, ttlMs: -1 }), /ttlMs/);
    assert.throws(() => new ResponseCache({ maxEntries: 1, ttlMs: 1, maxBytes: 100 }), /maxBytes needs sizeOf/);
  });

  it('is built from spec.resilience.cache only when enabled, the TTL parsed', () => {
    assert.equal(responseCacheFor({ enabled: false, ttl: '5m', maxEntries: 10, serveHits: false }), undefined);
    const c = responseCacheFor<TensorMap>({ enabled: true, ttl: '5m', maxEntries: 10, serveHits: true })!;
    assert.equal(c.options.ttlMs, 300_000);
    assert.equal(c.options.maxEntries, 10);
    assert.throws(() => responseCacheFor({ enabled: true, ttl: 'a while', maxEntries: 10, serveHits: true }), /spec\.resilience\.cache\.ttl: "a while" is not a duration/);
  });

  it('end to end: a TensorMap cached under the key of one request answers the same request reworded', () => {
    const c = new ResponseCache<TensorMap>({ maxEntries: 10, ttlMs: 1000, maxBytes: 10_000, sizeOf: tensorMapBytes });
    const out: TensorMap = { label: { datatype: 'INT64', shape: [1], data: new BigInt64Array([1n]) } };
    c.set(v2(WEATHER_V2)!, out, 0);
    const again = v2('{"id":"z","inputs":[{"datatype":"FP32","name":"features","data":[0.3,15.0,5,2.50],"shape":[1,4]}]}')!;
    assert.equal(c.get(again, 10), out);
  });
});

describe('tensorMapBytes', () => {
  it('counts typed-array bytes and string characters', () => {
    const a = tensorMapBytes({ p: { datatype: 'FP32', shape: [2, 2], data: new Float32Array(4) } });
    assert.equal(a, 64 + 2 + 16 + 16);
    const b = tensorMapBytes({ s: { datatype: 'BYTES', shape: [2], data: ['ab', 'cde'] } });
    assert.equal(b, 64 + 2 + 8 + (16 + 4) + (16 + 6));
  });
});
