import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { packagePath } from '../../paths.js';
import type { ModelRuntime, RuntimeOptions, TensorMap } from '../types.js';
import { createJsRuntime, JS_RUNTIME_POLICY } from './js-runtime.js';
import { readJsModelSignature } from './read-js-signature.js';

const bytes = (source: string): Uint8Array => new TextEncoder().encode(source);

function options(js: Partial<RuntimeOptions['js']> = {}): RuntimeOptions {
  return {
    onnx: { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' },
    js: { maxOldGenerationSizeMb: 64, timeoutMs: 5000, ...js },
  };
}

// Label 1 when a row's features sum to more than 10. The first feature doubles as a switch for misbehaviour,
// so one module can test every failure and the recovery after it.
const THRESHOLD_MODEL = `
export const signature = {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'score', datatype: 'FP64', shape: [-1, 1] },
  ],
};
const keep = [];
function recurse(n) { return recurse(n + 1) + 1; }
export function predict({ features }, { outputs }) {
  const rows = features.shape[0];
  const first = features.data[0];
  if (first === -1) throw new Error('negative rainfall');
  if (first === -2) while (true) {}
  if (first === -3) for (;;) keep.push(new Array(1e5).fill(Math.random()));
  if (first === -4) return { label: { shape: [1], data: [1] }, score: { shape: [rows, 1], data: new Array(rows).fill(0) } };
  if (first === -5) return new Promise(() => setTimeout(() => { throw new Error('async boom'); }, 5));
  if (first === -6) setTimeout(() => { throw new Error('late boom'); }, 20);
  if (first === -7) return recurse(0);
  if (first === -8) return { label: { shape: [rows], data: new Array(rows).fill(0.5) }, score: { shape: [rows, 1], data: new Array(rows).fill(0) } };
  if (first === -9) return { lable: { shape: [rows], data: [] } };
  if (first === -10) process.exit(4);
  const label = [];
  const score = [];
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < 4; c++) sum += features.data[r * 4 + c];
    label.push(sum > 10 ? 1 : 0);
    score.push(sum);
  }
  const all = { label: { datatype: 'INT64', shape: [rows], data: label }, score: { shape: [rows, 1], data: score } };
  // Only what was asked for, as a model may do to save work.
  return Object.fromEntries(outputs.map((name) => [name, all[name]]));
}
`;

const rows = (...rs: number[][]): TensorMap => ({ features: { datatype: 'FP32', shape: [rs.length, 4], data: new Float32Array(rs.flat()) } });
const NORMAL = rows([1, 2, 3, 5]);

const runtimes: ModelRuntime[] = [];
after(async () => {
  for (const r of runtimes) await r.unload();
});

async function load(source: string, js: Partial<RuntimeOptions['js']> = {}): Promise<ModelRuntime> {
  const src = bytes(source);
  const runtime = await createJsRuntime(src, await readJsModelSignature(src), options(js));
  runtimes.push(runtime);
  return runtime;
}

async function fails(p: Promise<unknown>, code: string, message?: RegExp): Promise<ModelgateError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof ModelgateError, `expected a ModelgateError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

async function assertServes(runtime: ModelRuntime): Promise<void> {
  const out = await runtime.infer(NORMAL);
  assert.deepEqual(out.label?.data, new BigInt64Array([1n]));
}

describe('js runtime', () => {
  it('answers batches of 1 and 3, converting plain arrays to the declared typed arrays', async () => {
    const rt = await load(THRESHOLD_MODEL);
    const one = await rt.infer(rows([1, 1, 1, 1]));
    assert.deepEqual(one, {
      label: { datatype: 'INT64', shape: [1], data: new BigInt64Array([0n]) },
      score: { datatype: 'FP64', shape: [1, 1], data: new Float64Array([4]) },
    });
    const three = await rt.infer(rows([1, 1, 1, 1], [5, 5, 0.5, 0], [0, 0, 0, 10.5]));
    assert.deepEqual(three.label, { datatype: 'INT64', shape: [3], data: new BigInt64Array([0n, 1n, 1n]) });
    assert.deepEqual(three.score?.shape, [3, 1]);
  });

  it('returns only the outputs asked for, and tells predict which they are', async () => {
    const rt = await load(THRESHOLD_MODEL);
    const out = await rt.infer(rows([9, 9, 9, 9], [0, 0, 0, 0]), ['label']);
    assert.deepEqual(Object.keys(out), ['label']);
    assert.deepEqual(out.label?.data, new BigInt64Array([1n, 0n]));
    await fails(rt.infer(NORMAL, ['nope']), 'MG_ERR_INFER_UNKNOWN_OUTPUT');
  });

  it('supports an async predict', async () => {
    const rt = await load(`
      export const signature = { inputs: [{ name: 'x', datatype: 'INT32', shape: [-1] }], outputs: [{ name: 'y', datatype: 'INT32', shape: [-1] }] };
      export async function predict({ x }) {
        await new Promise((r) => setTimeout(r, 5));
        return { y: { shape: x.shape, data: Array.from(x.data, (v) => v * 2) } };
      }`);
    const [a, b] = await Promise.all([
      rt.infer({ x: { datatype: 'INT32', shape: [2], data: new Int32Array([1, 2]) } }),
      rt.infer({ x: { datatype: 'INT32', shape: [1], data: new Int32Array([21]) } }),
    ]);
    assert.deepEqual(a.y?.data, new Int32Array([2, 4]));
    assert.deepEqual(b.y?.data, new Int32Array([42]));
  });

  it('serves the rain-rule fixture', async () => {
    const src = readFileSync(packagePath('src', 'runtime', 'js', 'fixtures', 'rain-rule.mjs'));
    const rt = await createJsRuntime(src, await readJsModelSignature(src), options());
    runtimes.push(rt);
    await rt.warmup();
    const out = await rt.infer({ features: { datatype: 'FP32', shape: [3, 4], data: new Float32Array([0, 12.8, 5, 4.7, 10.9, 10.6, 2.8, 4.5, 0.8, 11.7, 7.2, 2.3]) } });
    assert.deepEqual(out.label?.data, new BigInt64Array([0n, 1n, 1n]));
    assert.deepEqual(out.probabilities, { datatype: 'FP32', shape: [3, 2], data: new Float32Array([1, 0, 0, 1, 0, 1]) });
  });

  it('leaves the caller\'s input arrays intact and the module\'s cached output arrays attached', async () => {
    const rt = await load(`
      export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [2] }] };
      const constant = new Float32Array([7, 8]);
      export function predict() { return { y: { shape: [2], data: constant } }; }`);
    const x = new Float32Array([1, 2]);
    for (let i = 0; i < 3; i++) assert.deepEqual((await rt.infer({ x: { datatype: 'FP32', shape: [2], data: x } })).y?.data, new Float32Array([7, 8]));
    assert.deepEqual(x, new Float32Array([1, 2]));
  });

  it('checks inputs against the signature before running anything', async () => {
    const rt = await load(THRESHOLD_MODEL);
    await fails(rt.infer({}), 'MG_ERR_INFER_MISSING_INPUT', /lacks input "features"/);
    await fails(rt.infer({ ...NORMAL, extra: { datatype: 'FP32', shape: [1], data: new Float32Array(1) } }), 'MG_ERR_INFER_UNKNOWN_INPUT');
    await fails(rt.infer({ features: { datatype: 'FP64', shape: [1, 4], data: new Float64Array(4) } }), 'MG_ERR_INFER_DATATYPE_MISMATCH');
    await fails(rt.infer({ features: { datatype: 'FP32', shape: [1, 5], data: new Float32Array(5) } }), 'MG_ERR_INFER_SHAPE_MISMATCH', /dimension 1 must be 4/);
    await fails(rt.infer({ features: { datatype: 'FP32', shape: [2, 4], data: new Float32Array(4) } }), 'MG_ERR_INFER_DATA_LENGTH');
  });

  it('fails only the request whose predict throws, and keeps the worker', async () => {
    const rt = await load(THRESHOLD_MODEL);
    const e = await fails(rt.infer(rows([-1, 0, 0, 0])), 'MG_ERR_INFER_RUNTIME_FAILED', /predict\(\) threw Error: negative rainfall \(model\.mjs:\d+:\d+\)/);
    assert.equal(e.details?.reason, 'predict_threw');
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 0);
  });

  it('fails a request whose predict overflows the stack, without a crash', async () => {
    const rt = await load(THRESHOLD_MODEL);
    await fails(rt.infer(rows([-7, 0, 0, 0])), 'MG_ERR_INFER_RUNTIME_FAILED', /RangeError: Maximum call stack size exceeded/);
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 0);
  });

  it('fails a request whose outputs do not match the declared signature', async () => {
    const rt = await load(THRESHOLD_MODEL);
    const e = await fails(
      rt.infer(rows([-4, 0, 0, 0], [1, 1, 1, 1], [1, 1, 1, 1])),
      'MG_ERR_INFER_RUNTIME_FAILED',
      /output "label" has shape \[1\], but dimension 0 \("batch"\) is 3 in input "features"/,
    );
    assert.equal(e.details?.reason, 'invalid_output');
    await fails(rt.infer(rows([-8, 0, 0, 0])), 'MG_ERR_INFER_RUNTIME_FAILED', /output "label" element 0 is 0\.5, not a 64-bit signed integer/);
    await fails(rt.infer(rows([-9, 0, 0, 0])), 'MG_ERR_INFER_RUNTIME_FAILED', /returned "lable", which is not a declared output \(outputs: label, score\)/);
    await assertServes(rt);
  });

  it('stops a runaway predict at the timeout, keeps the main thread responsive, and serves again on a fresh worker', async () => {
    const rt = await load(THRESHOLD_MODEL, { timeoutMs: 300 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      const started = Date.now();
      const runaway = rt.infer(rows([-2, 0, 0, 0]));
      // Queued behind the runaway one: it is not on the worker yet, so it survives the restart.
      const queued = rt.infer(NORMAL);
      await fails(runaway, 'MG_ERR_RUNTIME_JS_TIMEOUT', /did not answer within 300 ms/);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 290 && elapsed < 3000, `timed out after ${elapsed} ms`);
      assert.ok(ticks >= 5, `the main thread ticked ${ticks} times during the loop`);
      assert.deepEqual((await queued).label?.data, new BigInt64Array([1n]));
    } finally {
      clearInterval(ticker);
    }
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 1);
  });

  it('survives a predict that runs out of memory: CRASHED, then a fresh worker serves', async () => {
    const rt = await load(THRESHOLD_MODEL, { maxOldGenerationSizeMb: 32, timeoutMs: 30_000 });
    await fails(rt.infer(rows([-3, 0, 0, 0])), 'MG_ERR_RUNTIME_JS_CRASHED', /ran out of memory \(its heap limit is 32 MB/);
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 1);
  });

  it('survives an uncaught exception in an async callback and process.exit()', async () => {
    const rt = await load(THRESHOLD_MODEL);
    await fails(rt.infer(rows([-5, 0, 0, 0])), 'MG_ERR_RUNTIME_JS_CRASHED', /uncaught exception: Error: async boom/);
    await assertServes(rt);
    await fails(rt.infer(rows([-10, 0, 0, 0])), 'MG_ERR_RUNTIME_JS_CRASHED', /exited with code 4/);
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 2);
  });

  it('restarts a worker that crashes between requests', async () => {
    const rt = await load(THRESHOLD_MODEL);
    await rt.infer(rows([-6, 0, 0, 0]));
    for (let waited = 0; rt.describe().details.restarts === 0 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await assertServes(rt);
    assert.equal(rt.describe().details.restarts, 1);
  });

  it('gives up after repeated start failures and fails fast until unloaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-js-'));
    const flag = join(dir, 'broken');
    try {
      const rt = await load(`
        import { existsSync } from 'node:fs';
        if (existsSync(${JSON.stringify(flag)})) throw new Error('cannot start any more');
        ${THRESHOLD_MODEL}`);
      writeFileSync(flag, '');
      await fails(rt.infer(rows([-10, 0, 0, 0])), 'MG_ERR_RUNTIME_JS_CRASHED', /exited with code 4/);
      // Waits in the queue through the restarts with backoff, then fails with the runtime.
      await fails(rt.infer(NORMAL), 'MG_ERR_RUNTIME_JS_CRASHED', new RegExp(`failed ${JS_RUNTIME_POLICY.maxConsecutiveFailures} times in a row \\(last: .*cannot start any more`));
      assert.equal(rt.describe().details.state, 'broken');
      const started = Date.now();
      await fails(rt.infer(NORMAL), 'MG_ERR_RUNTIME_JS_CRASHED', /until the version is unloaded/);
      assert.ok(Date.now() - started < 50, 'fails fast');
      await rt.unload();
      await fails(rt.infer(NORMAL), 'MG_ERR_INFER_MODEL_NOT_READY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warms up with zeros, tolerating a predict that refuses them but not broken outputs', async () => {
    const rt = await load(THRESHOLD_MODEL);
    await rt.warmup();
    const picky = await load(`
      export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
      export function predict({ x }) {
        if (x.data.every((v) => v === 0)) throw new Error('all zeros');
        return { y: { shape: [x.shape[0]], data: new Float32Array(x.shape[0]) } };
      }`);
    await picky.warmup();
    const broken = await load(`
      export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] };
      export function predict({ x }) { return { y: { shape: [x.shape[0], 3], data: x.data } }; }`);
    await fails(broken.warmup(), 'MG_ERR_INFER_RUNTIME_FAILED', /rank 1/);
  });

  it('refuses to load a module that fails to load or declares another signature', async () => {
    const src = bytes(THRESHOLD_MODEL);
    const signature = await readJsModelSignature(src);
    const other = { ...signature, outputs: signature.outputs.slice(0, 1) };
    await fails(createJsRuntime(src, other, options()), 'MG_ERR_RUNTIME_LOAD_FAILED', /declares a different signature/);
    await fails(createJsRuntime(bytes(`throw new Error('no');\n${THRESHOLD_MODEL}`), signature, options()), 'MG_ERR_RUNTIME_LOAD_FAILED', /top-level code threw Error: no/);
  });

  it('describes itself and refuses requests once unloaded', async () => {
    const rt = await load(THRESHOLD_MODEL, { maxOldGenerationSizeMb: 48, timeoutMs: 1234 });
    assert.deepEqual(rt.describe(), {
      backend: 'js',
      details: { maxOldGenerationSizeMb: 48, timeoutMs: 1234, restarts: 0, maxYoungGenerationSizeMb: 6, stackSizeMb: 4, loadTimeoutMs: 5000, state: 'ready' },
    });
    await rt.unload();
    await rt.unload();
    await fails(rt.infer(NORMAL), 'MG_ERR_INFER_MODEL_NOT_READY');
    assert.equal(rt.describe().details.state, 'unloaded');
  });
});
