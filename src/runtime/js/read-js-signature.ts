// Reads a js model's signature by loading the module in a short-lived worker: registering a model must not
// run its code in the gateway's thread, where an endless loop or a memory hog would take the gateway down.
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { Signature } from '../../registry/signature.js';
import { asWorkerMessage, moduleDataUrl } from './js-protocol.js';
import { JsSignatureError, normaliseJsSignature } from './js-signature.js';
import { describeWorkerExit, spawnJsWorker } from './js-worker-host.js';

export interface ReadJsSignatureOptions {
  /** How long the module's top-level code may take. Default 5000. */
  timeoutMs?: number;
  /** The worker's heap limit while the module loads. Default 128. */
  maxOldGenerationSizeMb?: number;
}

export const READ_JS_SIGNATURE_DEFAULTS = { timeoutMs: 5000, maxOldGenerationSizeMb: 128 } as const;

function invalid(why: string): ModelgateError {
  return new ModelgateError('MG_ERR_RUNTIME_JS_INVALID_MODULE', `Invalid js model: ${why}${/[.!?]$/.test(why) ? '' : '.'}`);
}

function positive(name: string, x: number): number {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`${name} must be a positive number, got ${x}`);
  return x;
}

/**
 * Loads the ES module in `source` in a worker thread and returns its declared signature, normalised.
 * @throws ModelgateError MG_ERR_RUNTIME_JS_INVALID_MODULE when the bytes are not a module that keeps the
 *   contract (see README.md): not UTF-8 JavaScript, a syntax error, a missing export, a malformed signature,
 *   top-level code that throws, runs out of memory or does not finish within `timeoutMs`.
 */
export async function readJsModelSignature(source: Uint8Array, options: ReadJsSignatureOptions = {}): Promise<Signature> {
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? READ_JS_SIGNATURE_DEFAULTS.timeoutMs);
  const limits = { maxOldGenerationSizeMb: positive('maxOldGenerationSizeMb', options.maxOldGenerationSizeMb ?? READ_JS_SIGNATURE_DEFAULTS.maxOldGenerationSizeMb) };
  if (source.byteLength === 0) throw invalid('the file is empty');
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    throw invalid('the file is not UTF-8 text, so it is not a JavaScript module');
  }
  const moduleUrl = moduleDataUrl(source);
  const worker = spawnJsWorker(moduleUrl, limits);

  return new Promise<Signature>((resolve, reject) => {
    let settled = false;
    let workerError: unknown;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Settle once the thread is gone, so a caller never sees a result while model code still runs.
      worker.terminate().then(settle, settle);
    };
    const timer = setTimeout(() => {
      finish(() => reject(invalid(`its top-level code did not finish within ${timeoutMs} ms (an endless loop, or a wait that never ends)`)));
    }, timeoutMs);

    worker.on('message', (raw: unknown) => {
      const m = asWorkerMessage(raw);
      if (m?.type === 'ready') {
        let signature: Signature;
        try {
          // The worker's code shares its thread with the module, so its answer is checked again here.
          signature = normaliseJsSignature(m.signature);
        } catch (e) {
          const why = e instanceof JsSignatureError ? e.message : String(e);
          finish(() => reject(invalid(`the exported signature is invalid: ${why}`)));
          return;
        }
        finish(() => resolve(signature));
      } else if (m?.type === 'load-error') {
        finish(() => reject(invalid(m.message)));
      }
    });
    worker.on('error', (e: unknown) => {
      workerError = e;
    });
    worker.on('exit', (code: number) => {
      const why = describeWorkerExit(workerError, code, limits, moduleUrl, 'loading');
      finish(() => reject(invalid(`the module stopped its worker before it finished loading: ${why}`)));
    });
  });
}
