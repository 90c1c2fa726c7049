// Micro-benchmark of the inference codecs on the example signature (features FP32 [batch,4] → label INT64
// [batch], probabilities FP32 [batch,2]), for batches of 1 and 64 rows. Not a test: run it after a build,
//   node dist/src/serving/protocol/bench-codec.js [seconds per case, default 1]
// JSON.parse/stringify of the same bodies are printed alongside, as the floor the HTTP layer pays anyway.
import type { TensorMap } from '../../runtime/types.js';
import { decodeInferRequest, encodeInferResponse } from './v2.js';
import { decodeV1Instances, encodeV1Response } from './v1.js';
import { EXAMPLE, EXAMPLE_FEATURES } from './test-support.js';

const seconds = Number(process.argv[2] ?? 1);

function row(i: number): number[] {
  return [(i % 7) * 0.3, 15 + (i % 13), 5 + (i % 11), 2.5 + (i % 5) * 0.75];
}

function outputsFor(rows: number): TensorMap {
  const label = new BigInt64Array(rows);
  const probabilities = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    const p = 1 / (1 + Math.exp(-(i % 10 - 5)));
    label[i] = p > 0.5 ? 1n : 0n;
    probabilities[2 * i] = 1 - p;
    probabilities[2 * i + 1] = p;
  }
  return { label: { datatype: 'INT64', shape: [rows], data: label }, probabilities: { datatype: 'FP32', shape: [rows, 2], data: probabilities } };
}

// A sink the optimiser cannot see through, so no benchmarked call is eliminated as dead code.
let sink = 0;

function bench(name: string, fn: () => unknown): void {
  const warmUntil = performance.now() + Math.min(300, seconds * 300);
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i++) fn();
  let ops = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) if (fn() !== undefined) sink++;
    ops += 100;
    now = performance.now();
  }
  const perOp = ((now - start) * 1000) / ops;
  console.log(`${name.padEnd(44)} ${Math.round(ops / ((now - start) / 1000)).toLocaleString('en-US').padStart(12)} ops/s ${perOp.toFixed(2).padStart(9)} µs/op`);
}

console.log(`node ${process.version}, ${seconds}s per case\n`);
for (const rows of [1, 64]) {
  const data: number[][] = [];
  for (let i = 0; i < rows; i++) data.push(row(i));
  const v2Text = JSON.stringify({ id: 'bench', inputs: [{ name: 'features', shape: [rows, 4], datatype: 'FP32', data: data.flat() }] });
  const v2NestedText = JSON.stringify({ id: 'bench', inputs: [{ name: 'features', shape: [rows, 4], datatype: 'FP32', data }] });
  const v1Text = JSON.stringify({ instances: data.map((r) => Object.fromEntries(EXAMPLE_FEATURES.map((f, j) => [f, r[j]]))) });
  const v2Body: unknown = JSON.parse(v2Text);
  const v2Nested: unknown = JSON.parse(v2NestedText);
  const v1Body: unknown = JSON.parse(v1Text);
  const outputs = outputsFor(rows);
  const encode = (): unknown => encodeInferResponse({ modelName: 'weather', modelVersion: '2', id: 'bench', outputs });

  console.log(`batch of ${rows} (V2 body ${v2Text.length} B, V1 body ${v1Text.length} B)`);
  bench('  V2 decode (flat data)', () => decodeInferRequest(v2Body, EXAMPLE));
  bench('  V2 decode (nested data)', () => decodeInferRequest(v2Nested, EXAMPLE));
  bench('  V2 encode', encode);
  bench('  V2 decode + encode', () => {
    const d = decodeInferRequest(v2Body, EXAMPLE);
    return d.inputs.features ? encode() : undefined;
  });
  bench('  V1 decode + encode (objects)', () => {
    const d = decodeV1Instances(v1Body, EXAMPLE_FEATURES, EXAMPLE);
    return encodeV1Response(outputs, d.rows);
  });
  const encoded = encode();
  bench('  for scale: JSON.parse request text', () => JSON.parse(v2Text));
  bench('  for scale: JSON.stringify response', () => JSON.stringify(encoded));
  console.log('');
}
if (sink < 0) console.log(sink);
