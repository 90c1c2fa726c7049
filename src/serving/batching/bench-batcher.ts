// Throughput of dynamic batching against one-request-per-run on a real onnxruntime session.
//
// The model is an MLP built here (x [batch, 256] → Gemm 1024 → Relu → Gemm 1024 → Relu → Gemm 10, FP32,
// seeded weights, ~5 MB), so a single-row call costs about as much as streaming its weights once: the
// per-call cost batching amortises. 64 callers each send one-row requests in a closed loop.
//
//   npm run build && node dist/src/serving/batching/bench-batcher.js [--seconds 5] [--callers 64] [--threads 1,2]
//
// It is a script, not a test: figures depend on the machine.
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { encodeModel, OnnxDataType, tensorValueInfo, type TensorInit } from '../../registry/onnx/onnx-proto.js';
import type { TensorMap } from '../../runtime/types.js';
import { DirectRunner, DynamicBatcher, type InferenceRunner, type RunFunction } from './batcher.js';
import { mulberry32 } from '../../random.js';

const IN = 256;
const HIDDEN = 1024;
const OUT = 10;


function buildMlp(seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  const init = (name: string, dims: number[]): TensorInit => {
    const n = dims.reduce((a, b) => a * b, 1);
    // Glorot-uniform, so activations stay in range through the layers
    const scale = Math.sqrt(6 / (dims[0]! + (dims[1] ?? dims[0]!)));
    const values = Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);
    return { name, data_type: OnnxDataType.FLOAT, dims, raw_data: new Uint8Array(values.buffer) };
  };
  const gemm = (a: string, w: string, b: string, out: string) => ({ op_type: 'Gemm', input: [a, w, b], output: [out] });
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'modelgate-bench',
    graph: {
      name: 'mlp',
      node: [
        gemm('x', 'w1', 'b1', 'h1'),
        { op_type: 'Relu', input: ['h1'], output: ['r1'] },
        gemm('r1', 'w2', 'b2', 'h2'),
        { op_type: 'Relu', input: ['h2'], output: ['r2'] },
        gemm('r2', 'w3', 'b3', 'y'),
      ],
      initializer: [init('w1', [IN, HIDDEN]), init('b1', [HIDDEN]), init('w2', [HIDDEN, HIDDEN]), init('b2', [HIDDEN]), init('w3', [HIDDEN, OUT]), init('b3', [OUT])],
      input: [tensorValueInfo('x', OnnxDataType.FLOAT, ['batch', IN])],
      output: [tensorValueInfo('y', OnnxDataType.FLOAT, ['batch', OUT])],
    },
  });
}

function runFor(session: ort.InferenceSession): RunFunction {
  return async (inputs, outputs) => {
    const x = inputs.x!;
    const res = await session.run({ x: new ort.Tensor('float32', x.data as Float32Array, x.shape) }, outputs ?? ['y']);
    const y = res.y as ort.Tensor;
    return { y: { datatype: 'FP32', shape: y.dims.map(Number), data: y.data as Float32Array } };
  };
}

function row(seed: number): TensorMap {
  const rnd = mulberry32(seed);
  return { x: { datatype: 'FP32', shape: [1, IN], data: Float32Array.from({ length: IN }, () => rnd() * 2 - 1) } };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  rowsPerSecond: number;
  p50: number;
  p99: number;
  meanBatch: number;
}

async function load(runner: InferenceRunner, batches: number[], callers: number, seconds: number): Promise<Result> {
  const inputs = Array.from({ length: callers }, (_, i) => row(1000 + i));
  const latencies: number[] = [];
  let rows = 0;
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  await Promise.all(
    inputs.map(async (input) => {
      while (performance.now() < stopAt) {
        const s = performance.now();
        await runner.submit(input, 1, { deadline: Date.now() + 60_000 });
        latencies.push(performance.now() - s);
        rows++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await runner.drain();
  latencies.sort((a, b) => a - b);
  return {
    rowsPerSecond: rows / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    meanBatch: batches.length ? batches.reduce((a, b) => a + b, 0) / batches.length : 1,
  };
}

type RunnerKind = { name: string; make: (run: RunFunction, batches: number[]) => InferenceRunner };

const direct = (conc: number): RunnerKind => ({
  name: `direct  runs=${conc}`,
  make: (run, batches) => new DirectRunner({ run, maxQueueSize: 4096, maxConcurrentRuns: conc, onBatch: (b) => batches.push(b.size) }),
});
const batched = (conc: number, delayMs = 2): RunnerKind => ({
  name: `batched runs=${conc}${delayMs === 2 ? '' : ` delay=${delayMs}`}`,
  make: (run, batches) =>
    new DynamicBatcher({ run, maxBatchSize: 64, maxQueueDelayMs: delayMs, maxQueueSize: 4096, maxConcurrentRuns: conc, onBatch: (b) => batches.push(b.size) }),
});

/** Batched answers must be the rows a lone run gives, on the real model too. */
async function checkSplit(run: RunFunction): Promise<void> {
  const b = new DynamicBatcher({ run, maxBatchSize: 64, maxQueueDelayMs: 2, maxQueueSize: 64 });
  const inputs = Array.from({ length: 8 }, (_, i) => row(i));
  const together = await Promise.all(inputs.map((x) => b.submit(x, 1, { deadline: Date.now() + 10_000 })));
  for (let i = 0; i < inputs.length; i++) {
    const alone = (await run(inputs[i]!)).y!.data as Float32Array;
    const got = together[i]!.y!.data as Float32Array;
    const diff = Math.max(...alone.map((v, k) => Math.abs(v - got[k]!)));
    if (!(diff < 1e-4)) throw new Error(`row ${i}: batched output differs from a lone run by ${diff}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, callers: { type: 'string', default: '64' }, threads: { type: 'string', default: '1,2' } } });
  const seconds = Number(values.seconds);
  const callers = Number(values.callers);
  const model = buildMlp(42);
  console.log(`onnxruntime-node ${ort.env.versions.node}; model ${(model.length / 1e6).toFixed(1)} MB; ${callers} callers × 1-row requests, ${seconds} s each`);
  for (const threads of values.threads.split(',').map(Number)) {
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const run = runFor(session);
    for (let i = 0; i < 20; i++) await run(row(i));
    await checkSplit(run);
    console.log(`\nintraOpNumThreads=${threads}`);
    for (const n of [1, 64]) {
      const x: TensorMap = { x: { datatype: 'FP32', shape: [n, IN], data: new Float32Array(n * IN).fill(0.5) } };
      const reps = 200;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await run(x);
      console.log(`  one run of ${String(n).padStart(2)} rows: ${((performance.now() - t0) / reps).toFixed(3)} ms`);
    }
    const results = new Map<string, Result>();
    for (const kind of [direct(1), direct(2), batched(1), batched(2), batched(4)]) {
      const batches: number[] = [];
      const r = await load(kind.make(run, batches), batches, callers, seconds);
      results.set(kind.name, r);
      console.log(
        `  ${kind.name.padEnd(16)} ${r.rowsPerSecond.toFixed(0).padStart(7)} rows/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   mean batch ${r.meanBatch.toFixed(1)}`,
      );
    }
    const base = results.get(direct(1).name)!.rowsPerSecond;
    const best = Math.max(results.get(direct(1).name)!.rowsPerSecond, results.get(direct(2).name)!.rowsPerSecond);
    console.log(`  ratio batched runs=1 / direct runs=1: ${(results.get(batched(1).name)!.rowsPerSecond / base).toFixed(2)}×; over the better direct: ${(results.get(batched(1).name)!.rowsPerSecond / best).toFixed(2)}×`);

    // light load: one caller, so every request finds the batcher idle and must not wait for the delay
    const lightSeconds = Math.min(2, seconds);
    for (const kind of [direct(1), batched(1), batched(1, 10_000)]) {
      const batches: number[] = [];
      const r = await load(kind.make(run, batches), batches, 1, lightSeconds);
      console.log(`  1 caller  ${kind.name.padEnd(22)} p50 ${r.p50.toFixed(3)} ms   p99 ${r.p99.toFixed(3)} ms   ${r.rowsPerSecond.toFixed(0)} rows/s`);
    }
    await session.release();
  }
}

await main();
