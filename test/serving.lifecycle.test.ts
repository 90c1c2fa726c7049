// Lifecycle end to end: js models in worker threads (crash and runaway isolation), a bounded queue that
// answers 503 + Retry-After, and SIGTERM draining in-flight requests before exiting 0 — on the real binary.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packagePath } from '../src/paths.js';
import { runCli, spawnServe, type Run } from './cli-helpers.js';
import { tempHome, V1 } from './helpers.js';
import { post } from './serving-helpers.js';

const SLOW = packagePath('test', 'fixtures', 'slow-echo.mjs');

function cli(home: string, args: string[]): Run {
  return runCli(join(home, '.modelgate'), args, { cwd: home });
}

const serve = async (home: string) => {
  const s = await spawnServe(join(home, '.modelgate'), { cwd: home });
  return { ...s, key: readFileSync(join(home, '.modelgate', 'admin.key'), 'utf8').trim() };
};

const x = (ms: number) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [ms] }] });

describe('gateway lifecycle on the real binary', () => {
  const t = tempHome('mg-life-');
  let s: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    writeFileSync(join(t.home, 'modelgate.yaml'), [
      'serving:',
      '  maxQueueSize: 2',
      '  maxConcurrentRuns: 1',
      '  pollIntervalMs: 100',
      'runtime:',
      '  js: { timeoutMs: 1500, maxOldGenerationSizeMb: 64 }',
      '',
    ].join('\n'));
    for (const [args, what] of [
      [['models', 'register', 'slow', SLOW], 'register js'],
      [['models', 'alias', 'set', 'slow', 'production', '1'], 'alias slow'],
      [['models', 'register', 'weather', V1.model], 'register weather'],
      [['models', 'alias', 'set', 'weather', 'production', '1'], 'alias weather'],
    ] as const) {
      const r = cli(t.home, [...args]);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    }
    s = await serve(t.home);
  });
  after(() => {
    if (s?.proc.exitCode === null) s.proc.kill('SIGKILL');
    t.cleanup();
  });

  it('serves a js model from a worker thread', async () => {
    const r = await post(`${s.url}/v2/models/slow/infer`, x(5), s.key);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.outputs[0].data, [5]);
    const meta = (await (await fetch(`${s.url}/v2/models/slow`)).json()) as { platform: string };
    assert.equal(meta.platform, 'modelgate_js');
  });

  it('fails a runaway js prediction with a timeout while the gateway keeps serving', async () => {
    const runaway = post(`${s.url}/v2/models/slow/infer`, x(-1), s.key);
    const meanwhile = await post(`${s.url}/v2/models/weather/infer`, { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0, 12.8, 5, 4.7] }] }, s.key);
    assert.equal(meanwhile.status, 200, 'other models answer while a js worker spins');
    const r = await runaway;
    assert.equal(r.status, 504);
    assert.equal(r.body.code, 'MG_ERR_RUNTIME_JS_TIMEOUT');
    const after = await post(`${s.url}/v2/models/slow/infer`, x(1), s.key);
    assert.equal(after.status, 200, 'the worker was restarted');
  });

  it('answers 503 with Retry-After when the queue is full, never growing without bound', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => post(`${s.url}/v2/models/slow/infer`, x(250), s.key)));
    const full = results.filter((r) => r.status === 503);
    assert.ok(full.length >= 1, `some refused: ${results.map((r) => r.status).join(',')}`);
    for (const r of full) {
      assert.equal(r.body.code, 'MG_ERR_INFER_QUEUE_FULL');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    assert.ok(results.some((r) => r.status === 200));
    assert.ok(results.every((r) => r.status === 200 || r.status === 503));
  });

  it('writes one JSON log line per request, without tensor data or keys', async () => {
    // logs are buffered and flushed at least once a second
    await new Promise((r) => setTimeout(r, 1500));
    const lines = s.logs().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const inference = lines.filter((l) => l.msg === 'inference');
    assert.ok(inference.length >= 5);
    assert.ok(inference.every((l) => typeof l.model === 'string' && typeof l.status === 'number' && typeof l.ms === 'number'));
    assert.doesNotMatch(s.logs(), /12\.8|"data"/, 'no tensor data');
    assert.ok(!s.logs().includes(s.key), 'no keys');
  });

  it('drains in-flight requests on SIGTERM, refuses new ones, and exits 0', async () => {
    const inflight = post(`${s.url}/v2/models/slow/infer`, x(1000), s.key);
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)));
    s.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await post(`${s.url}/v2/models/slow/infer`, x(1), s.key).catch((e: Error) => ({ status: 0, error: e.message }));
    assert.ok(late.status === 0 || late.status === 503, `a new request is refused (${late.status})`);
    const r = await inflight;
    assert.equal(r.status, 200, 'the in-flight request finished');
    assert.deepEqual(r.body.outputs[0].data, [1000]);
    assert.equal(await exited, 0);
  });
});
