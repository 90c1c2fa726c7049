import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DURATION_BUCKETS, createMetrics, normaliseStatus } from './metrics.js';

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const promtool = findOnPath('promtool');
if (promtool === undefined) {
  console.log('NOTICE: promtool not installed: the `promtool check metrics` tests are skipped (Debian package: prometheus).');
}

function lines(text: string, metric: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(metric + '{') || l.startsWith(metric + ' '));
}

function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  assert.ok(line, `no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

function exercise(m: ReturnType<typeof createMetrics>): void {
  m.recordRequest('resnet', 3, 200, 0.012);
  m.recordRequest('resnet', 3, 200, 0.00005);
  m.recordRequest('resnet', 3, 503, 12);
  m.recordRequest('missing', null, 404, 0.0003);
  m.recordCompute('resnet', 3, 0.008);
  m.recordQueue('resnet', 3, 0.002);
  m.recordBatch('resnet', 3, 8);
  m.recordBatch('resnet', 3, 1000);
  m.modelLoaded('resnet', 3, 'onnx', 1.7);
  m.modelLoaded('iris', '1', 'js', 0.04);
  m.modelUnloaded('iris', '1', 'js');
  m.modelLoadFailed('broken', 2);
  m.setVersionSource(() => [
    { model: 'resnet', version: 3, depth: 4, merging: true },
    { model: 'iris', version: undefined, depth: 0, merging: false },
  ]);
}

test('requests, durations and batch sizes appear with their labels and _total', async () => {
  const m = createMetrics({ collectProcessMetrics: false });
  exercise(m);
  const text = await m.metricsText();

  assert.match(text, /^# HELP modelgate_inference_requests_total \S/m);
  assert.match(text, /^# TYPE modelgate_inference_requests_total counter$/m);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="resnet",version="3",status="200"}'), 2);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="resnet",version="3",status="503"}'), 1);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="missing",version="none",status="404"}'), 1);

  for (const h of ['request', 'compute', 'queue']) {
    assert.match(text, new RegExp(`^# TYPE modelgate_inference_${h}_duration_seconds histogram$`, 'm'));
  }
  const req = 'modelgate_inference_request_duration_seconds';
  assert.equal(valueOf(text, `${req}_bucket{model="resnet",version="3",le="0.0001"}`), 1);
  assert.equal(valueOf(text, `${req}_bucket{model="resnet",version="3",le="0.01"}`), 1);
  assert.equal(valueOf(text, `${req}_bucket{model="resnet",version="3",le="0.025"}`), 2);
  assert.equal(valueOf(text, `${req}_bucket{model="resnet",version="3",le="10"}`), 2);
  assert.equal(valueOf(text, `${req}_bucket{model="resnet",version="3",le="+Inf"}`), 3);
  assert.equal(valueOf(text, `${req}_count{model="resnet",version="3"}`), 3);
  assert.ok(Math.abs(valueOf(text, `${req}_sum{model="resnet",version="3"}`) - 12.01205) < 1e-9);

  assert.equal(valueOf(text, 'modelgate_inference_compute_duration_seconds_count{model="resnet",version="3"}'), 1);
  assert.equal(valueOf(text, 'modelgate_inference_queue_duration_seconds_bucket{model="resnet",version="3",le="0.0025"}'), 1);
  // A model that was only ever a 404 has no compute series at all.
  assert.equal(lines(text, 'modelgate_inference_compute_duration_seconds_count').length, 1);

  assert.equal(valueOf(text, 'modelgate_batch_size_bucket{model="resnet",version="3",le="8"}'), 1);
  assert.equal(valueOf(text, 'modelgate_batch_size_bucket{model="resnet",version="3",le="256"}'), 1);
  assert.equal(valueOf(text, 'modelgate_batch_size_bucket{model="resnet",version="3",le="+Inf"}'), 2);
});

test('duration histograms have every bucket from 100 µs to 10 s, in order', async () => {
  const m = createMetrics({ collectProcessMetrics: false });
  m.recordRequest('m', 1, 200, 0.5);
  m.recordCompute('m', 1, 0.5);
  m.recordQueue('m', 1, 0.5);
  const text = await m.metricsText();
  assert.deepEqual(DURATION_BUCKETS, [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  for (const h of ['request', 'compute', 'queue']) {
    const les = lines(text, `modelgate_inference_${h}_duration_seconds_bucket`).map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    assert.deepEqual(les, [...DURATION_BUCKETS.map(String), '+Inf']);
  }
});

test('model lifecycle, queue depth and build info', async () => {
  const m = createMetrics({ collectProcessMetrics: false, version: '9.9.9' });
  exercise(m);
  let text = await m.metricsText();
  assert.equal(valueOf(text, 'modelgate_model_loaded{model="resnet",version="3",backend="onnx"}'), 1);
  assert.equal(lines(text, 'modelgate_model_loaded').filter((l) => l.includes('iris')).length, 0, 'unloaded model still listed');
  assert.equal(valueOf(text, 'modelgate_model_load_duration_seconds_count{model="iris",version="1",backend="js"}'), 1);
  assert.equal(valueOf(text, 'modelgate_model_load_duration_seconds_bucket{le="2.5",model="resnet",version="3",backend="onnx"}'), 1);
  assert.match(text, /le="0\.01"/);
  assert.match(text, /le="120"/);
  assert.equal(valueOf(text, 'modelgate_model_load_failures_total{model="broken",version="2"}'), 1);
  assert.equal(valueOf(text, 'modelgate_build_info{version="9.9.9"}'), 1);
  assert.equal(valueOf(text, 'modelgate_queue_depth{model="resnet",version="3"}'), 4);
  assert.equal(valueOf(text, 'modelgate_queue_depth{model="iris",version="none"}'), 0);
  assert.equal(valueOf(text, 'modelgate_batching_merging{model="resnet",version="3"}'), 1);
  assert.equal(valueOf(text, 'modelgate_batching_merging{model="iris",version="none"}'), 0);

  // The source is read at every scrape: a model that left the serving layer leaves the gauge.
  let depth = 7;
  m.setVersionSource(() => [{ model: 'resnet', version: 3, depth }]);
  depth = 2;
  text = await m.metricsText();
  assert.equal(valueOf(text, 'modelgate_queue_depth{model="resnet",version="3"}'), 2);
  assert.equal(lines(text, 'modelgate_queue_depth').length, 1);
  assert.equal(lines(text, 'modelgate_batching_merging').length, 0, 'not reported when the source leaves it out');

  m.setVersionSource(() => {
    throw new Error('serving layer bug');
  });
  text = await m.metricsText();
  assert.equal(lines(text, 'modelgate_queue_depth').length, 0);
  assert.equal(lines(text, 'modelgate_batching_merging').length, 0);
  assert.equal(valueOf(text, 'modelgate_build_info{version="9.9.9"}'), 1, 'a failing source must not break the scrape');
});

test('status codes are normalised so they cannot add series without bound', async () => {
  assert.equal(normaliseStatus(200), '200');
  assert.equal(normaliseStatus(404), '404');
  assert.equal(normaliseStatus(499), '499');
  assert.equal(normaliseStatus(418), '4xx');
  assert.equal(normaliseStatus(299), '2xx');
  assert.equal(normaliseStatus(599), '5xx');
  assert.equal(normaliseStatus(0), 'unknown');
  assert.equal(normaliseStatus(600), 'unknown');
  assert.equal(normaliseStatus(-1), 'unknown');
  assert.equal(normaliseStatus(Number.NaN), 'unknown');

  const folded4xx = Array.from({ length: 100 }, (_, i) => normaliseStatus(400 + i)).filter((s) => s === '4xx').length;
  assert.ok(folded4xx > 50);
  const m = createMetrics({ collectProcessMetrics: false });
  for (let code = 0; code < 1000; code++) m.recordRequest('m', 1, code, 0.001);
  const text = await m.metricsText();
  const statuses = lines(text, 'modelgate_inference_requests_total').map((l) => /status="([^"]+)"/.exec(l)?.[1]);
  assert.ok(statuses.length <= 34, `${statuses.length} status series`);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="m",version="1",status="4xx"}'), folded4xx);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="m",version="1",status="unknown"}'), 100 + 400);
});

test('unusable values are not observed; requests with them still count', async () => {
  const m = createMetrics({ collectProcessMetrics: false });
  m.recordRequest('m', 1, 200, Number.NaN);
  m.recordRequest('m', 1, 200, -1);
  m.recordRequest('m', 1, 200, Infinity);
  m.recordCompute('m', 1, Number.NaN);
  m.recordBatch('m', 1, -3);
  const text = await m.metricsText();
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="m",version="1",status="200"}'), 3);
  assert.doesNotMatch(text, /duration_seconds_(bucket|sum|count)\{/);
  assert.doesNotMatch(text, /NaN|Nan/);
});

test('forModel binds the labels once and records into the same series', async () => {
  const m = createMetrics({ collectProcessMetrics: false });
  const r = m.forModel('resnet', 3);
  assert.equal(r.version, '3');
  r.request(200, 0.01);
  m.recordRequest('resnet', '3', 200, 0.01);
  r.compute(0.004);
  r.queue(0.001);
  r.batch(4);
  const text = await m.metricsText();
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="resnet",version="3",status="200"}'), 2);
  assert.equal(valueOf(text, 'modelgate_batch_size_bucket{model="resnet",version="3",le="4"}'), 1);
});

test('(model, version) pairs past maxSeries fold into __other__', async () => {
  const m = createMetrics({ collectProcessMetrics: false, maxSeries: 2 });
  m.recordRequest('a', 1, 200, 0.01);
  m.recordRequest('b', 1, 200, 0.01);
  m.recordRequest('c', 1, 200, 0.01);
  m.recordRequest('a', 2, 200, 0.01);
  m.recordRequest('a', 1, 200, 0.01);
  const text = await m.metricsText();
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="a",version="1",status="200"}'), 2);
  assert.equal(valueOf(text, 'modelgate_inference_requests_total{model="__other__",version="__other__",status="200"}'), 2);
  assert.equal(lines(text, 'modelgate_inference_requests_total').length, 3);
});

test('each instance has its own registry; prefix applies to every metric', async () => {
  const a = createMetrics({ collectProcessMetrics: false });
  const b = createMetrics({ collectProcessMetrics: true, prefix: 'gw_' });
  a.recordRequest('only-a', 1, 200, 0.01);
  const textB = await b.metricsText();
  assert.doesNotMatch(textB, /only-a/);
  assert.doesNotMatch(textB, /^modelgate_/m);
  assert.match(textB, /^# TYPE gw_inference_requests_total counter$/m);
  assert.match(textB, /^# TYPE gw_process_cpu_seconds_total counter$/m);
  assert.equal(a.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  assert.throws(() => createMetrics({ prefix: 'bad-prefix' }), TypeError);
  assert.throws(() => createMetrics({ maxSeries: 0 }), TypeError);
});

test('process metrics: no gauge ends in _total, the per-type active handle gauges stay', async () => {
  const m = createMetrics();
  const text = await m.metricsText();
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1]!, x[2]!]));
  assert.equal(types.get('modelgate_process_cpu_seconds_total'), 'counter');
  assert.equal(types.get('modelgate_nodejs_active_handles'), 'gauge');
  assert.equal(types.get('modelgate_nodejs_eventloop_lag_seconds'), 'gauge');
  for (const [name, type] of types) {
    if (name.endsWith('_total')) assert.equal(type, 'counter', `${name} is a ${type} ending in _total`);
  }
  assert.ok(!types.has('modelgate_nodejs_active_handles_total'));
});

function checkMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('promtool check metrics accepts the output with no warnings', { skip: promtool === undefined ? 'promtool not installed' : false }, async () => {
  const m = createMetrics();
  exercise(m);
  m.recordRequest('name with "quotes", \\ and\nnewline', 'v1', 200, 0.01);
  m.recordRequest('ünïcode', 'ß', 418, 0.01);
  // Let the event-loop and GC collectors see some activity so their series are not empty.
  const junk = Array.from({ length: 200_000 }, (_, i) => ({ i }));
  assert.equal(junk.length, 200_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const text = await m.metricsText();
  const r = checkMetrics(text);
  assert.equal(r.output, '', `promtool said:\n${r.output}`);
  assert.equal(r.status, 0);
});

test('promtool accepts a fresh instance with nothing recorded', { skip: promtool === undefined ? 'promtool not installed' : false }, async () => {
  const r = checkMetrics(await createMetrics().metricsText());
  assert.equal(r.output, '', `promtool said:\n${r.output}`);
  assert.equal(r.status, 0);
});

test('promtool would have rejected prom-client defaults as they come (guards the workaround)', { skip: promtool === undefined ? 'promtool not installed' : false }, async () => {
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'modelgate_' });
  const r = checkMetrics(await registry.metrics());
  assert.notEqual(r.status, 0);
  assert.match(r.output, /nodejs_active_handles_total non-counter metrics should not have "_total" suffix/);
});
