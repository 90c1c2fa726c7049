// npm run bench:resilience [-- --rounds 7 --ms 200]
//
// What the request-path degradation primitives of src/serving/resilience cost per request, in ns/op (median
// over rounds, each round `--ms` long after a warm-up): the circuit breaker (allow + success, alone and
// through the Breakers registry), the retry budget, the response cache key of a weather-sized V1 and V2 body
// (4 features; 64 rows for scale) and a cache hit, topConfidence and the static answer. A hit is compared with
// hashing every key with SHA-256, which is why short encodings are used as keys as they are.
// JSON.parse of the body and performance.now() are printed for scale: the caller pays them anyway.
import { hash } from 'node:crypto';
import type { TensorMap } from '../../src/runtime/types.js';
import { breakerKey, Breakers, CircuitBreaker, type CircuitBreakerSpec } from '../../src/serving/resilience/circuit-breaker.js';
import { backoffMs, RetryBudget } from '../../src/serving/resilience/retry-budget.js';
import { keyOf, ResponseCache } from '../../src/serving/resilience/response-cache.js';
import { topConfidence } from '../../src/serving/resilience/confidence.js';
import { staticAnswer } from '../../src/serving/resilience/static-answer.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const rounds = Number(args.get('rounds') ?? 7);
const roundMs = Number(args.get('ms') ?? 200);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// A sink the optimiser cannot see through, so no benchmarked call is eliminated as dead code.
let sink = 0;
const results = new Map<string, number>();

/** `fn(i)` is one operation; i counts up, so callers can derive a moving clock from it. */
function bench(name: string, fn: (i: number) => unknown, id = name): number {
  let i = 0;
  const run = (ms: number): number => {
    let ops = 0;
    const start = performance.now();
    const end = start + ms;
    let now = start;
    while (now < end) {
      for (let k = 0; k < 1000; k++) if (fn(i++) !== undefined) sink++;
      ops += 1000;
      now = performance.now();
    }
    return ((now - start) * 1e6) / ops;
  };
  run(Math.max(100, roundMs));
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) perRound.push(run(roundMs));
  const m = median(perRound);
  results.set(id, m);
  const lo = Math.min(...perRound);
  const hi = Math.max(...perRound);
  console.log(`${name.padEnd(56)} ${m.toFixed(1).padStart(9)} ns/op   (${lo.toFixed(1)}–${hi.toFixed(1)})`);
  return m;
}

const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
const row = (i: number) => [(i % 7) * 0.3, 15 + (i % 13), 5 + (i % 11), 2.5 + (i % 5) * 0.75];
function bodies(rows: number) {
  const data = Array.from({ length: rows }, (_, i) => row(i));
  const v2Text = JSON.stringify({ id: 'bench-1', inputs: [{ name: 'features', shape: [rows, 4], datatype: 'FP32', data: data.flat() }] });
  const v1Text = JSON.stringify({ instances: data.map((r) => Object.fromEntries(FEATURES.map((f, j) => [f, r[j]]))) });
  return { v2Text, v1Text, v2: JSON.parse(v2Text) as unknown, v1: JSON.parse(v1Text) as unknown };
}
function outputs(rows: number): TensorMap {
  const probabilities = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    const p = 1 / (1 + Math.exp(-((i % 10) - 5)));
    probabilities[2 * i] = 1 - p;
    probabilities[2 * i + 1] = p;
  }
  return { label: { datatype: 'INT64', shape: [rows], data: new BigInt64Array(rows) }, probabilities: { datatype: 'FP32', shape: [rows, 2], data: probabilities } };
}

console.log(`node ${process.version}, ${rounds} rounds of ${roundMs} ms per case: median ns/op (min–max)\n`);

console.log('circuit breaker');
const SPEC: CircuitBreakerSpec = { enabled: true, window: '30s', minRequests: 20, errorRate: 0.5, consecutiveFailures: 5, openFor: '30s', halfOpenProbes: 3 };
const breaker = new CircuitBreaker({ windowMs: 30_000, minRequests: 20, errorRate: 0.5, consecutiveFailures: 5, openForMs: 30_000, halfOpenProbes: 3 });
// The clock moves 0.01 ms an operation, so buckets turn over as they would at 100 000 requests/s.
bench('  allow + success (closed)', (i) => {
  const t = i * 0.01;
  if (breaker.allow(t)) breaker.success(t);
  return undefined;
});
const mixed = new CircuitBreaker({ windowMs: 30_000, minRequests: 20, errorRate: 0.5, consecutiveFailures: 5, openForMs: 30_000, halfOpenProbes: 3 });
bench('  allow + success/failure (1 in 10 fails, stays closed)', (i) => {
  const t = i * 0.01;
  if (mixed.allow(t)) {
    if (i % 10 === 0) mixed.failure(t);
    else mixed.success(t);
  }
  return undefined;
});
const openBreaker = new CircuitBreaker({ windowMs: 30_000, minRequests: 20, errorRate: 0.5, consecutiveFailures: 1, openForMs: 1e12, halfOpenProbes: 3 });
openBreaker.failure(0);
bench('  allow (open: refused)', (i) => (openBreaker.allow(i) ? 1 : undefined));
const registry = new Breakers();
const key = breakerKey('weather', 3);
bench('  Breakers.get(key, spec) + allow + success', (i) => {
  const b = registry.get(key, SPEC)!;
  const t = i * 0.01;
  if (b.allow(t)) b.success(t);
  return undefined;
});
bench('  breakerKey(model, version) (a string per call)', (i) => breakerKey('weather', i & 7));

console.log('\nretry budget');
const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1 });
bench('  recordRequest', (i) => {
  budget.recordRequest(i * 0.01);
  return undefined;
});
const failing = new RetryBudget({ ratio: 0.1, minPerSecond: 1 });
bench('  recordRequest + tryRetry (every request fails)', (i) => {
  const t = i * 0.01;
  failing.recordRequest(t);
  return failing.tryRetry(t) ? 1 : undefined;
});
bench('  backoffMs', (i) => backoffMs(1 + (i & 3), 25, 250));

console.log('\nresponse cache (weather model, 4 features)');
for (const rows of [1, 64]) {
  const b = bodies(rows);
  console.log(`  ${rows} row${rows === 1 ? '' : 's'}: V2 body ${b.v2Text.length} B, V1 body ${b.v1Text.length} B; key lengths V2 ${keyOf('v2', b.v2, 3)!.length}, V1 ${keyOf('v1', b.v1, 3)!.length}`);
  const cache = new ResponseCache<TensorMap>({ maxEntries: 10_000, ttlMs: 300_000 });
  const out = outputs(rows);
  const k2 = keyOf('v2', b.v2, 3)!;
  const k1 = keyOf('v1', b.v1, 3)!;
  cache.set(k2, out, 0);
  cache.set(k1, out, 0);
  bench(`    V2 keyOf`, () => keyOf('v2', b.v2, 3));
  bench(`    V2 keyOf + get (hit)`, () => cache.get(keyOf('v2', b.v2, 3)!, 1), `v2-hit-${rows}`);
  bench(`    V1 keyOf`, () => keyOf('v1', b.v1, 3));
  bench(`    V1 keyOf + get (hit)`, () => cache.get(keyOf('v1', b.v1, 3)!, 1));
  if (rows === 1) {
    // What hashing every key (rather than using short encodings as they are) would cost on top.
    const hashed = new ResponseCache<TensorMap>({ maxEntries: 10_000, ttlMs: 300_000 });
    hashed.set(`#${hash('sha256', Buffer.from(k2, 'latin1'), 'base64')}`, out, 0);
    bench(`    alternative: V2 keyOf + sha256 of it + get`, () => hashed.get(`#${hash('sha256', Buffer.from(keyOf('v2', b.v2, 3)!, 'latin1'), 'base64')}`, 1), 'v2-hit-sha256');
    bench(`    V2 get (hit, key already made)`, () => cache.get(k2, 1));
    bench(`    V2 miss: keyOf + get`, (i) => cache.get(keyOf('v2', { inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [i, 1, 2, 3] }] }, 3)!, 1));
  }
  bench(`    for scale: JSON.parse of the V2 body`, () => JSON.parse(b.v2Text));
}
const setCache = new ResponseCache<number>({ maxEntries: 10_000, ttlMs: 300_000 });
bench('  set (10 000 entries, evicting)', (i) => {
  setCache.set(`k${i}`, i, 0);
  return undefined;
});

console.log('\nconfidence and static answer');
for (const rows of [1, 64]) {
  const out = outputs(rows);
  bench(`  topConfidence, ${rows} row${rows === 1 ? '' : 's'} (found by the name "probabilities")`, () => topConfidence(out, rows));
}
const byValues: TensorMap = { label: outputs(1).label!, scores: outputs(1).probabilities! };
bench('  topConfidence, 1 row (found by row sums)', () => topConfidence(byValues, 1));
const answer = staticAnswer({ kind: 'static', outputs: [{ name: 'label', datatype: 'INT64', data: [0] }, { name: 'probabilities', datatype: 'FP32', data: [0.5, 0.5] }] });
bench('  staticAnswer(…)(1)', () => answer(1));

console.log('\nfor scale');
bench('  performance.now()', () => performance.now());

const ratio = (a: string, b: string) => (results.get(a)! / results.get(b)!).toFixed(2);
console.log(`\nV2 1-row hit: plain key ${ratio('v2-hit-1', 'v2-hit-sha256')}× the time of a SHA-256 key; 64 rows cost ${ratio('v2-hit-64', 'v2-hit-1')}× one row`);
if (sink < 0) console.log(sink);
