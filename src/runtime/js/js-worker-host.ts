// Starting a js model's worker thread, and putting why it stopped into words.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { describeThrown, type JsWorkerData } from './js-protocol.js';

/** The compiled worker entry, next to this file's compiled form (dist/src/runtime/js/js-worker.js). */
export const WORKER_URL = new URL('./js-worker.js', import.meta.url);

export interface JsWorkerLimits {
  maxOldGenerationSizeMb: number;
}

/**
 * The worker's V8 limits. The young generation scales with the heap (V8's own default is 16-32 MB, too much
 * for a 32 MB heap, too little to matter above that); the stack stays at V8's usual 4 MB, so deep recursion
 * is a RangeError inside predict(), which fails one request, rather than a crash.
 */
export function resourceLimitsFor(limits: JsWorkerLimits): Required<Pick<ResourceLimits, 'maxOldGenerationSizeMb' | 'maxYoungGenerationSizeMb' | 'stackSizeMb'>> {
  const old = limits.maxOldGenerationSizeMb;
  return {
    maxOldGenerationSizeMb: old,
    maxYoungGenerationSizeMb: Math.min(32, Math.max(4, Math.round(old / 8))),
    stackSizeMb: 4,
  };
}

let workerScriptChecked = false;

/** Starts a worker that imports the module at `moduleUrl`. Listeners are the caller's to attach. */
export function spawnJsWorker(moduleUrl: string, limits: JsWorkerLimits): Worker {
  if (!workerScriptChecked) {
    // Without this a missing build output would surface as the model's fault ("failed to load").
    if (!existsSync(fileURLToPath(WORKER_URL))) {
      throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', `The js runtime's worker script is missing (${fileURLToPath(WORKER_URL)}); rebuild Modelgate (npm run build).`);
    }
    workerScriptChecked = true;
  }
  const data: JsWorkerData = { moduleUrl };
  return new Worker(WORKER_URL, {
    workerData: data,
    resourceLimits: resourceLimitsFor(limits),
    // Model code gets none of the gateway's environment: it holds database URLs and keys.
    env: {},
    argv: [],
    name: 'modelgate-js-model',
  });
}

/** Why a worker stopped, from its 'error' event (if any) and exit code. */
export function describeWorkerExit(
  error: unknown,
  exitCode: number,
  limits: JsWorkerLimits,
  moduleUrl: string,
  phase: 'loading' | 'serving',
): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `it ran out of memory (its heap limit is ${limits.maxOldGenerationSizeMb} MB, runtime.js.maxOldGenerationSizeMb)`;
  }
  if (error !== undefined) return `an uncaught exception: ${describeThrown(error, moduleUrl)}`;
  if (exitCode === 13 && phase === 'loading') {
    // Node's exit code for a top-level await that can never settle (the worker entry awaits the module).
    return 'it exited with code 13: the top-level code awaits a promise that can never settle (or called process.exit(13))';
  }
  if (exitCode === 0) {
    return phase === 'loading'
      ? 'it exited (the top-level code called process.exit(), or awaits a promise that can never settle)'
      : 'it exited (the module called process.exit())';
  }
  return `it exited with code ${exitCode} (the module called process.exit(${exitCode})?)`;
}
