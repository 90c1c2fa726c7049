// The ModelRuntime for js models: one long-lived worker thread per loaded version runs the module's
// predict(). A module that throws, loops or eats memory fails its own requests and gets a fresh worker;
// the gateway's thread never runs model code.
import type { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../../errors/codes.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { Signature } from '../../registry/signature.js';
import type { ModelRuntime, RuntimeDescription, RuntimeOptions, TensorMap } from '../types.js';
import { asWorkerMessage, moduleDataUrl, type InferMessage, type WorkerMessage } from './js-protocol.js';
import { JsSignatureError, normaliseJsSignature, sameJsSignature } from './js-signature.js';
import { copyForTransfer, TensorProblem, verifyTensor, zeroTensor, type DimBindings, type TensorProblemKind } from './js-tensors.js';
import { describeWorkerExit, resourceLimitsFor, spawnJsWorker, type JsWorkerLimits } from './js-worker-host.js';

/** Restart policy. Exported so tests and docs quote the same numbers. */
export const JS_RUNTIME_POLICY = {
  /** Start failures (or crashes with no request running) in a row after which the runtime gives up until unloaded. */
  maxConsecutiveFailures: 5,
  /** Delay before the n-th consecutive restart: base · 2^(n-1), capped. */
  restartBackoffBaseMs: 100,
  restartBackoffMaxMs: 5000,
  /** Module top-level code gets at least this long to finish, however short timeoutMs is. */
  minLoadTimeoutMs: 5000,
} as const;

type State = 'starting' | 'ready' | 'restarting' | 'broken' | 'unloaded';

interface Request {
  id: number;
  inputs: TensorMap;
  transfer: ArrayBuffer[];
  outputs: string[];
  /** Named dimension sizes the inputs fixed; the outputs must agree. */
  dims: DimBindings;
  resolve: (outputs: TensorMap) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** The 'error' event that precedes an 'exit' (uncaught exception, out of memory). */
  error: unknown;
  loadTimer: NodeJS.Timeout | undefined;
}

const INPUT_PROBLEM_CODES: Record<TensorProblemKind, ErrorCode> = {
  datatype: 'MG_ERR_INFER_DATATYPE_MISMATCH',
  shape: 'MG_ERR_INFER_SHAPE_MISMATCH',
  length: 'MG_ERR_INFER_DATA_LENGTH',
  value: 'MG_ERR_INFER_INVALID_VALUE',
};

class JsRuntime implements ModelRuntime {
  readonly signature: Signature;
  private readonly spec: Signature;
  private readonly moduleUrl: string;
  private readonly limits: JsWorkerLimits;
  private readonly timeoutMs: number;
  private readonly loadTimeoutMs: number;

  private state: State = 'starting';
  private slot: Slot | null = null;
  private readonly queue: Request[] = [];
  // Requests go to the worker one at a time: its single thread runs one predict() at a time anyway, and this
  // way the timeout measures predict() itself, and a runaway request takes only itself down, not the queue.
  private inFlight: Request | null = null;
  private nextId = 1;
  private started = false;
  private restarts = 0;
  private consecutiveFailures = 0;
  private lastFailure = '';
  private restartTimer: NodeJS.Timeout | undefined;
  private firstStart: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(moduleUrl: string, signature: Signature, spec: Signature, limits: JsWorkerLimits, timeoutMs: number) {
    this.moduleUrl = moduleUrl;
    this.signature = signature;
    this.spec = spec;
    this.limits = limits;
    this.timeoutMs = timeoutMs;
    this.loadTimeoutMs = Math.max(timeoutMs, JS_RUNTIME_POLICY.minLoadTimeoutMs);
  }

  /** Starts the first worker; rejects with MG_ERR_RUNTIME_LOAD_FAILED if the module does not load. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.firstStart = { resolve, reject };
      this.startWorker();
    });
  }

  async warmup(): Promise<void> {
    const inputs: TensorMap = {};
    for (const spec of this.spec.inputs) inputs[spec.name] = zeroTensor(spec);
    try {
      await this.infer(inputs);
    } catch (e) {
      // A model may reasonably refuse all-zero input; that says nothing about its health. Crashes, timeouts
      // and outputs that break the signature do.
      if (e instanceof ModelgateError && e.code === 'MG_ERR_INFER_RUNTIME_FAILED' && e.details?.reason === 'predict_threw') return;
      throw e;
    }
  }

  infer(inputs: TensorMap, outputs?: string[]): Promise<TensorMap> {
    if (this.state === 'unloaded') {
      return Promise.reject(new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', 'The js model version has been unloaded.'));
    }
    if (this.state === 'broken') return Promise.reject(this.brokenError());
    let prepared: Pick<Request, 'inputs' | 'transfer' | 'outputs' | 'dims'>;
    try {
      prepared = this.prepare(inputs, outputs);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise<TensorMap>((resolve, reject) => {
      this.queue.push({ ...prepared, id: this.nextId++, resolve, reject });
      this.pump();
    });
  }

  async unload(): Promise<void> {
    if (this.state === 'unloaded') return;
    this.state = 'unloaded';
    clearTimeout(this.restartTimer);
    this.failAll(() => new ModelgateError('MG_ERR_INFER_MODEL_NOT_READY', 'The js model version was unloaded before this request ran.'));
    const slot = this.slot;
    this.slot = null;
    if (slot) {
      clearTimeout(slot.loadTimer);
      await slot.worker.terminate().catch(() => undefined);
    }
  }

  describe(): RuntimeDescription {
    const { maxOldGenerationSizeMb, maxYoungGenerationSizeMb, stackSizeMb } = resourceLimitsFor(this.limits);
    return {
      backend: 'js',
      details: {
        maxOldGenerationSizeMb,
        timeoutMs: this.timeoutMs,
        restarts: this.restarts,
        maxYoungGenerationSizeMb,
        stackSizeMb,
        loadTimeoutMs: this.loadTimeoutMs,
        state: this.state,
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Requests

  /** Checks the request against the signature and copies its tensors, which are then the worker's to own. */
  private prepare(inputs: TensorMap, outputs: string[] | undefined): Pick<Request, 'inputs' | 'transfer' | 'outputs' | 'dims'> {
    if (typeof inputs !== 'object' || inputs === null) throw new ModelgateError('MG_ERR_INFER_MISSING_INPUT', 'infer() was called without inputs.');
    const declaredInputs = new Set(this.spec.inputs.map((s) => s.name));
    for (const name of Object.keys(inputs)) {
      if (!declaredInputs.has(name)) {
        throw new ModelgateError('MG_ERR_INFER_UNKNOWN_INPUT', `The model has no input "${name}"; its inputs are ${[...declaredInputs].join(', ')}.`);
      }
    }
    const dims: DimBindings = new Map();
    const checked: TensorMap = {};
    for (const spec of this.spec.inputs) {
      const t = inputs[spec.name];
      if (t === undefined) throw new ModelgateError('MG_ERR_INFER_MISSING_INPUT', `The request lacks input "${spec.name}".`);
      try {
        checked[spec.name] = verifyTensor(`input "${spec.name}"`, spec, t, dims);
      } catch (e) {
        if (e instanceof TensorProblem) throw new ModelgateError(INPUT_PROBLEM_CODES[e.kind], `${e.message}.`);
        throw e;
      }
    }
    const declaredOutputs = this.spec.outputs.map((s) => s.name);
    let wanted = declaredOutputs;
    if (outputs !== undefined && outputs.length > 0) {
      for (const name of outputs) {
        if (!declaredOutputs.includes(name)) {
          throw new ModelgateError('MG_ERR_INFER_UNKNOWN_OUTPUT', `The model has no output "${name}"; its outputs are ${declaredOutputs.join(', ')}.`);
        }
      }
      wanted = declaredOutputs.filter((n) => outputs.includes(n));
    }
    const { tensors, transfer } = copyForTransfer(checked);
    return { inputs: tensors, transfer, outputs: wanted, dims };
  }

  private pump(): void {
    const slot = this.slot;
    if (this.state !== 'ready' || this.inFlight !== null || slot === null || !slot.ready) return;
    const req = this.queue.shift();
    if (req === undefined) return;
    this.inFlight = req;
    req.timer = setTimeout(() => this.onRequestTimeout(req), this.timeoutMs);
    const message: InferMessage = { type: 'infer', id: req.id, inputs: req.inputs, outputs: req.outputs };
    try {
      slot.worker.postMessage(message, req.transfer);
    } catch (e) {
      this.inFlight = null;
      clearTimeout(req.timer);
      req.reject(new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', `The request could not be sent to the js model's worker: ${e instanceof Error ? e.message : String(e)}.`));
      this.pump();
    }
  }

  private onAnswer(m: Extract<WorkerMessage, { type: 'result' | 'predict-error' }>): void {
    const req = this.inFlight;
    if (req === null || req.id !== m.id) return;
    this.inFlight = null;
    clearTimeout(req.timer);
    this.consecutiveFailures = 0;
    if (m.type === 'predict-error') {
      req.reject(new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', `The js model failed: ${m.message}.`, { reason: m.reason }));
    } else {
      try {
        req.resolve(this.checkOutputs(req, m.outputs));
      } catch (e) {
        req.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.pump();
  }

  /** The worker converted and checked the outputs already; module code shares its thread, so look again. */
  private checkOutputs(req: Request, outputs: TensorMap): TensorMap {
    const result: TensorMap = {};
    for (const spec of this.spec.outputs) {
      if (!req.outputs.includes(spec.name)) continue;
      try {
        result[spec.name] = verifyTensor(`output "${spec.name}"`, spec, outputs[spec.name], req.dims);
      } catch (e) {
        const why = e instanceof TensorProblem ? e.message : String(e);
        throw new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', `The js model failed: its worker answered with outputs that do not match the signature: ${why}.`, {
          reason: 'invalid_output',
        });
      }
    }
    return result;
  }

  private onRequestTimeout(req: Request): void {
    if (this.inFlight !== req) return;
    this.inFlight = null;
    if (this.slot) this.detach(this.slot);
    req.reject(
      new ModelgateError(
        'MG_ERR_RUNTIME_JS_TIMEOUT',
        `The js model did not answer within ${this.timeoutMs} ms (runtime.js.timeoutMs); its worker was stopped and is being restarted.`,
      ),
    );
    this.lastFailure = `a prediction ran longer than ${this.timeoutMs} ms`;
    // Not counted as a failure: a slow input says nothing about whether the module can start.
    this.scheduleRestart();
  }

  private failAll(error: () => Error): void {
    const pending = this.inFlight ? [this.inFlight, ...this.queue] : [...this.queue];
    this.inFlight = null;
    this.queue.length = 0;
    for (const req of pending) {
      clearTimeout(req.timer);
      req.reject(error());
    }
  }

  private brokenError(): ModelgateError {
    return new ModelgateError(
      'MG_ERR_RUNTIME_JS_CRASHED',
      `The js model's worker failed ${this.consecutiveFailures} times in a row (last: ${this.lastFailure}); ` +
        'its requests fail until the version is unloaded and loaded again.',
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // The worker's life

  private startWorker(): void {
    this.restartTimer = undefined;
    if (this.state === 'unloaded' || this.state === 'broken') return;
    if (this.started) this.restarts++;
    this.started = true;
    this.state = this.firstStart ? 'starting' : 'restarting';
    let worker: Worker;
    try {
      worker = spawnJsWorker(this.moduleUrl, this.limits);
    } catch (e) {
      this.startFailed(e instanceof Error ? e.message : String(e));
      return;
    }
    // An idle model must not keep the process alive; pending requests and loads hold timers that do.
    worker.unref();
    const slot: Slot = { worker, ready: false, error: undefined, loadTimer: undefined };
    this.slot = slot;
    slot.loadTimer = setTimeout(() => {
      if (slot !== this.slot) return;
      this.detach(slot);
      this.startFailed(`its top-level code did not finish within ${this.loadTimeoutMs} ms`);
    }, this.loadTimeoutMs);
    worker.on('message', (raw: unknown) => this.onMessage(slot, raw));
    worker.on('error', (e: unknown) => {
      slot.error ??= e;
    });
    worker.on('exit', (code: number) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, raw: unknown): void {
    if (slot !== this.slot) return;
    const m = asWorkerMessage(raw);
    if (m === null) return;
    if (m.type === 'result' || m.type === 'predict-error') {
      this.onAnswer(m);
    } else if (m.type === 'load-error') {
      if (slot.ready) return;
      this.detach(slot);
      this.startFailed(m.message);
    } else if (!slot.ready) {
      let reported: Signature | null = null;
      try {
        reported = normaliseJsSignature(m.signature);
      } catch {
        reported = null;
      }
      if (reported === null || !sameJsSignature(reported, this.spec)) {
        // Deterministic for a given module, so retrying would only fail again.
        this.detach(slot);
        this.giveUp('the module declares a different signature from the one registered for this version');
        return;
      }
      slot.ready = true;
      clearTimeout(slot.loadTimer);
      this.state = 'ready';
      const first = this.firstStart;
      this.firstStart = null;
      first?.resolve();
      this.pump();
    }
  }

  private onExit(slot: Slot, code: number): void {
    if (slot !== this.slot) return;
    this.slot = null;
    clearTimeout(slot.loadTimer);
    const why = describeWorkerExit(slot.error, code, this.limits, this.moduleUrl, slot.ready ? 'serving' : 'loading');
    if (!slot.ready) {
      this.startFailed(`the module stopped its worker while loading: ${why}`);
      return;
    }
    const req = this.inFlight;
    if (req !== null) {
      this.inFlight = null;
      clearTimeout(req.timer);
      req.reject(new ModelgateError('MG_ERR_RUNTIME_JS_CRASHED', `The js model's worker crashed while computing this prediction: ${why}. It is being restarted.`));
    } else {
      // Nothing was running, so the module brought this on itself (a timer that throws, say): count it, or a
      // module that always does so would be restarted forever.
      this.consecutiveFailures++;
    }
    this.lastFailure = `the worker crashed: ${why}`;
    this.scheduleRestart();
  }

  /** Stops a worker this runtime no longer wants; its 'exit' is then ignored. */
  private detach(slot: Slot): void {
    if (this.slot === slot) this.slot = null;
    clearTimeout(slot.loadTimer);
    slot.worker.terminate().catch(() => undefined);
  }

  private startFailed(reason: string): void {
    this.lastFailure = reason;
    if (this.firstStart) {
      this.giveUp(reason);
      return;
    }
    this.consecutiveFailures++;
    this.scheduleRestart();
  }

  /** The first start failed, or the module can never serve this version: no more restarts. */
  private giveUp(reason: string): void {
    this.lastFailure = reason;
    const first = this.firstStart;
    this.firstStart = null;
    if (first) {
      this.state = 'unloaded';
      first.reject(new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', `The js model failed to load: ${reason}.`));
      return;
    }
    this.state = 'broken';
    this.failAll(() => new ModelgateError('MG_ERR_RUNTIME_JS_CRASHED', `The js model cannot serve: ${reason}; its requests fail until the version is unloaded and loaded again.`));
  }

  private scheduleRestart(): void {
    if (this.state === 'unloaded' || this.state === 'broken') return;
    if (this.consecutiveFailures >= JS_RUNTIME_POLICY.maxConsecutiveFailures) {
      this.state = 'broken';
      this.failAll(() => this.brokenError());
      return;
    }
    this.state = 'restarting';
    const n = this.consecutiveFailures;
    const delay = n === 0 ? 0 : Math.min(JS_RUNTIME_POLICY.restartBackoffBaseMs * 2 ** (n - 1), JS_RUNTIME_POLICY.restartBackoffMaxMs);
    if (delay === 0) this.startWorker();
    else this.restartTimer = setTimeout(() => this.startWorker(), delay);
  }
}

function positive(name: string, x: number): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new RangeError(`options.js.${name} must be a positive number, got ${String(x)}`);
  return x;
}

/**
 * Loads a js model: starts its worker and resolves once the module has loaded and declared `signature`.
 * `source` is the module's bytes (already verified against their hash); `signature` is the one registered
 * for the version, which the module must still declare.
 * @throws ModelgateError MG_ERR_RUNTIME_LOAD_FAILED when the module does not load or its signature differs.
 */
export async function createJsRuntime(source: Uint8Array, signature: Signature, options: RuntimeOptions): Promise<ModelRuntime> {
  const maxOldGenerationSizeMb = positive('maxOldGenerationSizeMb', options.js.maxOldGenerationSizeMb);
  const timeoutMs = positive('timeoutMs', options.js.timeoutMs);
  let spec: Signature;
  try {
    spec = normaliseJsSignature(signature);
  } catch (e) {
    const why = e instanceof JsSignatureError ? e.message : String(e);
    throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', `The js model failed to load: its registered signature is not one a js model can have: ${why}.`);
  }
  if (source.byteLength === 0) throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', 'The js model failed to load: its module is empty.');
  const runtime = new JsRuntime(moduleDataUrl(source), signature, spec, { maxOldGenerationSizeMb }, timeoutMs);
  await runtime.start();
  return runtime;
}
