// Cost of recording one inference request's metrics (recordRequest + recordCompute + recordQueue).
// Run after a build: node dist/src/telemetry/bench-metrics.js [iterations]
// The prom-client line is the same four updates done with cached prom-client children, the approach
// metrics.ts replaced; it is here so a prom-client upgrade that closes the gap is noticed.
import { Counter, Histogram, Registry } from 'prom-client';
import { DURATION_BUCKETS, createMetrics } from './metrics.js';

const iterations = Number(process.argv[2] ?? 1e6);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`iterations must be a positive integer, got ${process.argv[2]}`);

// Realistic spread: latencies from 50 µs to ~1 s land in different buckets, so bucket search is not always the first.
const SAMPLES = Float64Array.from({ length: 1024 }, (_, i) => 0.00005 * 1.01 ** i);
const MODELS = Array.from({ length: 8 }, (_, i) => `model-${i}`);

function measure(label: string, run: (n: number) => void): void {
  run(Math.min(iterations, 100_000)); // let the JIT settle before timing
  const t0 = process.hrtime.bigint();
  run(iterations);
  const ns = Number(process.hrtime.bigint() - t0) / iterations;
  console.log(`${label.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/request`);
}

const m = createMetrics({ collectProcessMetrics: false });
measure('recordRequest+recordCompute+recordQueue, one model', (n) => {
  for (let i = 0; i < n; i++) {
    const s = SAMPLES[i & 1023]!;
    m.recordRequest('resnet', '3', 200, s);
    m.recordCompute('resnet', '3', s * 0.6);
    m.recordQueue('resnet', '3', s * 0.1);
  }
});
measure('recordRequest+recordCompute+recordQueue, 8 models mixed', (n) => {
  for (let i = 0; i < n; i++) {
    const s = SAMPLES[i & 1023]!;
    const model = MODELS[i & 7]!;
    m.recordRequest(model, '3', 200, s);
    m.recordCompute(model, '3', s * 0.6);
    m.recordQueue(model, '3', s * 0.1);
  }
});
const bound = m.forModel('resnet', '3');
measure('forModel(...).request+compute+queue', (n) => {
  for (let i = 0; i < n; i++) {
    const s = SAMPLES[i & 1023]!;
    bound.request(200, s);
    bound.compute(s * 0.6);
    bound.queue(s * 0.1);
  }
});

const registry = new Registry();
const labelNames = ['model', 'version'];
const histogram = (name: string) => new Histogram({ name, help: name, labelNames, buckets: [...DURATION_BUCKETS], registers: [registry] });
const requests = new Counter({ name: 'r_total', help: 'r', labelNames: [...labelNames, 'status'], registers: [registry] }).labels('resnet', '3', '200');
const requestDuration = histogram('a').labels('resnet', '3');
const computeDuration = histogram('b').labels('resnet', '3');
const queueDuration = histogram('c').labels('resnet', '3');
measure('baseline: cached prom-client children (inc + 3 observe)', (n) => {
  for (let i = 0; i < n; i++) {
    const s = SAMPLES[i & 1023]!;
    requests.inc();
    requestDuration.observe(s);
    computeDuration.observe(s * 0.6);
    queueDuration.observe(s * 0.1);
  }
});
