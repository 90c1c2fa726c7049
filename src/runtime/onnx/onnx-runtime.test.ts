// The onnx backend answers runs started together as a group (RunGroup); each caller must still get its own
// outputs, and a failing run must fail only its own caller.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { packagePath } from '../../paths.js';
import { readOnnxModel } from '../../registry/onnx/read-onnx.js';
import { ModelgateError } from '../../errors/index.js';
import type { RuntimeOptions, Tensor, TensorMap } from '../types.js';
import { createOnnxRuntime } from './onnx-runtime.js';

const OPTIONS: RuntimeOptions = {
  onnx: { intraOpNumThreads: 1, interOpNumThreads: 0, graphOptimizationLevel: 'all', executionMode: 'sequential' },
  js: { maxOldGenerationSizeMb: 64, timeoutMs: 1000 },
};

async function weather() {
  const bytes = readFileSync(packagePath('examples', 'weather', 'v1', 'model.onnx'));
  return createOnnxRuntime(bytes, readOnnxModel(bytes).signature, OPTIONS);
}

const row = (i: number): TensorMap => ({ features: { datatype: 'FP32', shape: [1, 4], data: Float32Array.from([i % 3, 5 + i, 10 - (i % 7), i / 10]) } });
const plain = (m: TensorMap) => Object.fromEntries(Object.entries(m).map(([k, t]: [string, Tensor]) => [k, { ...t, data: Array.from(t.data as ArrayLike<unknown>) }]));

describe('onnx runtime: runs answered in groups', () => {
  it('gives each of many concurrent callers the outputs of its own inputs', async () => {
    const rt = await weather();
    try {
      const one: unknown[] = [];
      for (let i = 0; i < 40; i++) one.push(plain(await rt.infer(row(i))));
      const together = await Promise.all(Array.from({ length: 40 }, (_, i) => rt.infer(row(i))));
      assert.deepEqual(together.map(plain), one);
    } finally {
      await rt.unload();
    }
  });

  it('fails only the run that failed, with an inference error', async () => {
    const rt = await weather();
    try {
      const bad: TensorMap = { features: { datatype: 'FP32', shape: [1, 3], data: Float32Array.from([1, 2, 3]) } };
      const results = await Promise.allSettled([rt.infer(row(1)), rt.infer(bad), rt.infer(row(2))]);
      assert.equal(results[0]!.status, 'fulfilled');
      assert.equal(results[2]!.status, 'fulfilled');
      assert.equal(results[1]!.status, 'rejected');
      const e = (results[1] as PromiseRejectedResult).reason as ModelgateError;
      assert.ok(e instanceof ModelgateError);
      assert.equal(e.code, 'MG_ERR_INFER_RUNTIME_FAILED');
    } finally {
      await rt.unload();
    }
  });

  it('rejects (never throws) when the inputs cannot even be made into tensors', async () => {
    const rt = await weather();
    try {
      const wrongLength: TensorMap = { features: { datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2]) } };
      const p = rt.infer(wrongLength);
      assert.ok(p instanceof Promise);
      await assert.rejects(p);
      assert.equal((await rt.infer(row(3))).label!.shape[0], 1, 'still serves afterwards');
    } finally {
      await rt.unload();
    }
  });
});
