// The model signature: what a version takes and returns, read from the artifact itself.
// Datatypes use the Open Inference Protocol (KServe V2) names, since that is what the data plane speaks.

export type TensorDatatype =
  | 'BOOL'
  | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'BF16' | 'FP32' | 'FP64'
  | 'BYTES';

/** A dimension: a fixed size, a symbolic name (ONNX dim_param, e.g. "batch"), or null when unknown. */
export type Dim = number | string | null;

export interface TensorSpec {
  name: string;
  /**
   * 'tensor' for plain tensors; ONNX also allows sequences, maps and optionals (e.g. sklearn's ZipMap output).
   * For those, datatype/shape describe the element tensor where there is one.
   */
  kind: 'tensor' | 'sequence' | 'map' | 'optional' | 'sparse_tensor';
  /** null when the element type is not a tensor type Modelgate knows (e.g. a map's value type). */
  datatype: TensorDatatype | null;
  /** null when the rank itself is unknown. */
  shape: Dim[] | null;
  /** Human-readable type, e.g. "tensor(float)" or "seq(map(int64,tensor(float)))". */
  onnxType: string;
  docString?: string;
}

export interface Signature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** What the ONNX file says about itself besides the signature. */
export interface OnnxModelInfo {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graphName: string;
  docString: string;
  /** The model's metadata_props. */
  metadataProps: Record<string, string>;
}

export interface SignatureChange {
  side: 'input' | 'output';
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** What changed, e.g. "datatype FP32 → FP64", "shape [batch,4] → [batch,5]". */
  details: string[];
  /** True when a client or a caller built for the old version can break. */
  breaking: boolean;
}
