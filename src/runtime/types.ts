// The ModelRuntime interface: what the serving path needs from any backend (onnx, js, later remote).
import type { Signature, TensorDatatype } from '../registry/signature.js';

/** Tensor data in the layout onnxruntime uses: typed arrays for numbers, Uint8Array (0/1) for BOOL, strings for BYTES. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

export interface Tensor {
  datatype: TensorDatatype;
  /** Concrete dimensions (no symbols). */
  shape: number[];
  /** Row-major; length is the product of the shape. */
  data: TensorData;
}

export type TensorMap = Record<string, Tensor>;

export interface RuntimeDescription {
  backend: 'onnx' | 'js';
  /** e.g. onnxruntime version, or worker resource limits. */
  details: Record<string, unknown>;
}

export interface ModelRuntime {
  readonly signature: Signature;
  /**
   * True when the runtime executes one run at a time however many are handed to it (onnxruntime-node runs a
   * session on the event loop): a batcher then gathers requests behind a run of their kind instead of
   * starting runs beside it, which would only queue. Absent or false: runs may overlap (a js model's async
   * predict), so they start as slots allow.
   */
  readonly runsInSeries?: boolean;
  /** Runs a few representative inputs so the first real request does not pay for lazy initialisation. */
  warmup(): Promise<void>;
  /** `outputs` selects which outputs to compute (default all). Rejects with a ModelgateError on failure. */
  infer(inputs: TensorMap, outputs?: string[]): Promise<TensorMap>;
  /** Releases native memory or the worker. In-flight infer() calls must have settled first. */
  unload(): Promise<void>;
  describe(): RuntimeDescription;
}

/** Creates a runtime from artifact bytes whose hash the caller has already verified. */
export type RuntimeFactory = (bytes: Uint8Array, signature: Signature, options: RuntimeOptions) => Promise<ModelRuntime>;

export interface RuntimeOptions {
  onnx: {
    intraOpNumThreads: number;
    interOpNumThreads: number;
    graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
    executionMode: 'sequential' | 'parallel';
  };
  js: {
    /** Worker heap limit. */
    maxOldGenerationSizeMb: number;
    /** A predict() call that takes longer is abandoned and the worker restarted. */
    timeoutMs: number;
  };
}
