// The onnx backend: onnxruntime-node sessions behind the ModelRuntime interface.
import ort from 'onnxruntime-node';
import { ModelgateError } from '../../errors/index.js';
import type { Signature, TensorDatatype, TensorSpec } from '../../registry/signature.js';
import { allocate, isJsonDatatype } from '../../serving/protocol/codec.js';
import type { ModelRuntime, RuntimeOptions, Tensor, TensorData, TensorMap } from '../types.js';

type OrtType = ort.Tensor['type'];

const TO_ORT: Partial<Record<TensorDatatype, OrtType>> = {
  FP32: 'float32',
  FP64: 'float64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  BOOL: 'bool',
  BYTES: 'string',
};
const FROM_ORT: Partial<Record<string, TensorDatatype>> = Object.fromEntries(Object.entries(TO_ORT).map(([k, v]) => [v, k as TensorDatatype]));

export async function createOnnxRuntime(bytes: Uint8Array, signature: Signature, options: RuntimeOptions): Promise<ModelRuntime> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.onnx.intraOpNumThreads,
      interOpNumThreads: options.onnx.interOpNumThreads,
      graphOptimizationLevel: options.onnx.graphOptimizationLevel,
      executionMode: options.onnx.executionMode,
    });
  } catch (cause) {
    throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', `onnxruntime could not load the model: ${(cause as Error).message}`, undefined, { cause });
  }
  // onnxruntime-node returns tensors only; sequence and map outputs (e.g. sklearn's ZipMap) are left out by default.
  const tensorOutputs = signature.outputs.filter((o) => o.kind === 'tensor').map((o) => o.name);
  if (tensorOutputs.length === 0) {
    await session.release();
    throw new ModelgateError('MG_ERR_RUNTIME_LOAD_FAILED', 'The model has no tensor outputs; onnxruntime-node can only return tensors. Re-export without ZipMap (e.g. skl2onnx option zipmap=False).');
  }

  // Runs are answered a group at a time (see RunGroup).
  const timer = new RunTimer();
  let group = new RunGroup(timer);

  return {
    signature,
    runsInSeries: true,
    async warmup() {
      const inputs: TensorMap = {};
      for (const spec of signature.inputs) inputs[spec.name] = zeros(spec);
      await run(inputs, tensorOutputs);
    },
    infer(inputs, outputs) {
      return run(inputs, outputs ?? tensorOutputs);
    },
    async unload() {
      await session.release();
    },
    describe() {
      return {
        backend: 'onnx',
        details: { onnxruntime: ort.env.versions.node, intraOpNumThreads: options.onnx.intraOpNumThreads, graphOptimizationLevel: options.onnx.graphOptimizationLevel },
      };
    },
  };

  function run(inputs: TensorMap, outputs: string[]): Promise<TensorMap> {
    let feeds: Record<string, ort.Tensor>;
    try {
      feeds = toFeeds(inputs);
    } catch (e) {
      // as a rejection, like any other failure of a run
      return Promise.reject(e);
    }
    const g = group.closed ? (group = new RunGroup(timer)) : group;
    return g.add(session.run(feeds, outputs), (result) => toTensors(result, outputs));
  }
}

function toFeeds(inputs: TensorMap): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) {
    const type = TO_ORT[t.datatype];
    if (!type) throw new ModelgateError('MG_ERR_INFER_UNSUPPORTED_DATATYPE', `input "${name}": ${t.datatype} is not supported by the onnx backend.`);
    feeds[name] = new ort.Tensor(type, t.data as never, t.shape);
  }
  return feeds;
}

function toTensors(result: ort.InferenceSession.OnnxValueMapType, outputs: string[]): TensorMap {
  const out: TensorMap = {};
  for (const name of outputs) {
    const t = result[name] as ort.Tensor | undefined;
    if (!t) continue;
    const datatype = FROM_ORT[t.type];
    if (!datatype) throw new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', `output "${name}" has type ${t.type}, which cannot be returned as JSON.`);
    out[name] = { datatype, shape: t.dims.map(Number), data: t.data as TensorData } satisfies Tensor;
  }
  return out;
}

/**
 * Runs started together, answered together.
 *
 * onnxruntime-node runs a model synchronously on the main thread, each run() in a setImmediate of its own;
 * every run started in one turn of the event loop executes in that turn's check phase. Left alone, each
 * run's answer (promise chain, JSON, socket write, log line) is sent between one run and the next, so
 * onnxruntime's native code and the HTTP path keep evicting each other from the CPU caches. Holding the
 * answers until the group's last run is done lets the runs go back to back and the answers go out in one
 * burst. On the example model (~20 µs a run) under 32 connections this cut the gateway's main-thread CPU
 * per request from ~175 to ~115 µs (npm run bench:serve), and a bare Fastify server's from 74 to 51 µs.
 *
 * A group takes runs until its first one finishes; runs started after that form the next group. Every
 * member's run executes in the check phase after it was started, or the one after that if it was started
 * inside a check phase before the group's first run finished, so no answer waits more than about one turn.
 *
 * Holding only pays when runs are short. For a model whose runs take milliseconds the cache effect is
 * noise and holding would add whole runs to latency, so answers are held only while the last measured run
 * (the time between two answers of one group) took under HOLD_BELOW_MS; otherwise each goes out as its run ends.
 */
const HOLD_BELOW_MS = 1;

class RunTimer {
  /** Duration of the last run measured, in ms; 0 until one is, so a new model starts out holding. */
  lastRunMs = 0;
}

class RunGroup {
  closed = false;
  private pending = 0;
  private held: (() => void)[] = [];
  private lastDone = 0;

  constructor(private readonly timer: RunTimer) {}

  add(run: Promise<ort.InferenceSession.OnnxValueMapType>, convert: (r: ort.InferenceSession.OnnxValueMapType) => TensorMap): Promise<TensorMap> {
    this.pending++;
    return new Promise<TensorMap>((resolve, reject) => {
      run.then(
        (result) => this.done(() => {
          try {
            resolve(convert(result));
          } catch (e) {
            reject(e);
          }
        }),
        (cause: unknown) => this.done(() => reject(new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', `onnxruntime failed: ${(cause as Error).message}`, undefined, { cause }))),
      );
    });
  }

  private done(answer: () => void): void {
    const now = performance.now();
    // Between two answers of one group there is one run (and the few microtasks that hand its result over).
    if (this.closed) this.timer.lastRunMs = now - this.lastDone;
    this.closed = true;
    this.lastDone = now;
    this.held.push(answer);
    if (--this.pending > 0 && this.timer.lastRunMs < HOLD_BELOW_MS) return;
    const answers = this.held;
    this.held = [];
    for (const a of answers) a();
  }
}

/** A zero tensor for warm-up: dynamic dimensions become 1; types JSON cannot carry warm up as FP32 (and may fail, which is logged). */
function zeros(spec: TensorSpec): Tensor {
  const shape = (spec.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = shape.reduce((a, b) => a * b, 1);
  const datatype = isJsonDatatype(spec.datatype) ? spec.datatype : 'FP32';
  const data = allocate(datatype, n);
  if (Array.isArray(data)) data.fill('');
  return { datatype, shape, data };
}
