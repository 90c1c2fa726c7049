// The KServe V1 codec for tabular models: {"instances": [...]} rows → the model's single [rows, features]
// input, and output tensors → {"predictions": [...]}, one per row.
//
// An instance is either an object keyed by feature name (every feature required, no other keys) or an
// array of values in feature order; both may be mixed in one request. Values follow the V2 rules of
// codec.ts: no coercion, INT64/UINT64 as safe JSON integers or decimal strings, FP32 range checked.
import type { Signature } from '../../registry/signature.js';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { formatShape } from '../../registry/onnx/signature-diff.js';
import {
  allocate, clip, describeValue, fillValues, infer, isNumericDatatype, isRecord, quote, setOwn, toJsonArray, valueError,
  type JsonDatatype,
} from './codec.js';

interface V1Model {
  features: string[];
  inputName: string;
  datatype: JsonDatatype;
  /** The fixed number of rows, or -1 when the first dimension is symbolic or unknown. */
  fixedRows: number;
  /** Some feature name is also a property of Object.prototype ("constructor", "toString"…), so a plain read could find an inherited value. */
  inheritedNames: boolean;
}

// Keyed by signature (immutable once read); the feature list is compared on each use since callers may pass a new array.
const v1Cache = new WeakMap<Signature, V1Model>();

function v1Model(features: string[], signature: Signature): V1Model {
  const cached = v1Cache.get(signature);
  if (cached !== undefined && sameStrings(cached.features, features)) return cached;
  const unsupported = (why: string): ModelgateError =>
    infer('MG_ERR_INFER_V1_UNSUPPORTED', `V1 instances need a model with exactly one 2-D numeric input [batch, ${features.length}]: ${why}. Use the V2 endpoint.`);
  if (!Array.isArray(features) || features.length === 0) throw unsupported('the model has no recorded feature order');
  if (new Set(features).size !== features.length) throw unsupported('the recorded feature order names a feature twice');
  if (signature.inputs.length !== 1) throw unsupported(`this model has ${signature.inputs.length} inputs`);
  const spec = signature.inputs[0]!;
  if (spec.datatype === 'FP16' || spec.datatype === 'BF16') {
    throw infer('MG_ERR_INFER_UNSUPPORTED_DATATYPE', `input ${quote(spec.name)} is ${spec.datatype}, which cannot be sent as JSON (it needs the binary data extension, which is not supported)`, { input: spec.name });
  }
  if (spec.kind !== 'tensor' || !isNumericDatatype(spec.datatype)) {
    throw unsupported(`its input ${quote(spec.name)} is ${spec.datatype ?? spec.onnxType}, not a numeric tensor`);
  }
  const shape = spec.shape;
  if (shape === null || shape.length !== 2) throw unsupported(`its input ${quote(spec.name)} has shape ${formatShape(shape)}`);
  const [rowsDim, colsDim] = shape as [unknown, unknown];
  if (typeof colsDim === 'number' && colsDim >= 0 && colsDim !== features.length) {
    throw unsupported(`its input ${quote(spec.name)} has shape ${formatShape(shape)}, but ${features.length} features are recorded`);
  }
  const model: V1Model = {
    features,
    inputName: spec.name,
    datatype: spec.datatype,
    fixedRows: typeof rowsDim === 'number' && rowsDim >= 0 ? rowsDim : -1,
    inheritedNames: features.some((f) => f in Object.prototype),
  };
  v1Cache.set(signature, model);
  return model;
}

function sameStrings(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (!Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Validates a parsed V1 predict request and builds the model's single input tensor [rows, features.length].
 * Throws only ModelgateError (MG_ERR_INFER_*), whatever `body` is.
 */
/**
 * `tolerated`: feature names an object row may carry that this model does not take (a deployment whose arms
 * take different features lets each arm read the ones it knows); any other unknown name is refused.
 */
export function decodeV1Instances(body: unknown, features: string[], signature: Signature, tolerated?: ReadonlySet<string>): { inputs: TensorMap; rows: number } {
  const m = v1Model(features, signature);
  try {
    return decodeInstances(body, m, tolerated);
  } catch (e) {
    if (e instanceof ModelgateError) throw e;
    throw new ModelgateError('MG_ERR_INFER_MALFORMED_REQUEST', 'The request could not be read as a V1 predict request {"instances": [...]}.', undefined, { cause: e });
  }
}

function decodeInstances(body: unknown, m: V1Model, tolerated: ReadonlySet<string> | undefined): { inputs: TensorMap; rows: number } {
  if (!isRecord(body)) throw infer('MG_ERR_INFER_MALFORMED_REQUEST', `A V1 predict request is a JSON object {"instances": [...]}, got ${describeValue(body)}.`);
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length === 0) {
    throw infer('MG_ERR_INFER_MALFORMED_REQUEST', `"instances" must be a non-empty array of rows, got ${describeValue(instances)}.`, { field: 'instances' });
  }
  const rows = instances.length;
  const { features, datatype } = m;
  const width = features.length;
  if (m.fixedRows >= 0 && rows !== m.fixedRows) {
    throw infer('MG_ERR_INFER_SHAPE_MISMATCH', `input ${quote(m.inputName)} takes exactly ${m.fixedRows} row${m.fixedRows === 1 ? '' : 's'}, got ${rows} instances`, { input: m.inputName, expected: m.fixedRows, got: rows });
  }
  const data = allocate(datatype, rows * width);
  // Object rows are copied into one reused array so every row goes through the same typed fill loop.
  const scratch = new Array<unknown>(width);
  for (let r = 0; r < rows; r++) {
    const inst: unknown = instances[r];
    let src: readonly unknown[];
    if (Array.isArray(inst)) {
      if (inst.length !== width) {
        throw infer('MG_ERR_INFER_DATA_LENGTH', `instance ${r} has ${inst.length} value${inst.length === 1 ? '' : 's'}, expected ${width} (${featureList(features)})`, { instance: r, expected: width, got: inst.length });
      }
      src = inst;
    } else if (isRecord(inst)) {
      for (let j = 0; j < width; j++) {
        const f = features[j] as string;
        const v = inst[f];
        if ((v === undefined || m.inheritedNames) && !Object.hasOwn(inst, f)) {
          throw infer('MG_ERR_INFER_MISSING_INPUT', `instance ${r} lacks feature ${quote(f)}; every instance needs ${featureList(features)}`, { instance: r, feature: f });
        }
        scratch[j] = v;
      }
      let keys = 0;
      for (const _k in inst) keys++;
      if (keys !== width) {
        const known = new Set(features);
        const unknown = Object.keys(inst).filter((k) => !known.has(k) && !tolerated?.has(k));
        if (unknown.length > 0) {
          throw infer('MG_ERR_INFER_UNKNOWN_INPUT', `instance ${r} has unknown feature${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 10).map(quote).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}; the model takes ${featureList(features)}`, { instance: r, unknown: unknown.slice(0, 10).map(clip) });
        }
      }
      src = scratch;
    } else {
      throw infer('MG_ERR_INFER_MALFORMED_REQUEST', `instance ${r} is ${describeValue(inst)}; an instance is an object keyed by feature name or an array of ${width} values in feature order`, { instance: r });
    }
    const bad = fillValues(datatype, src, width, data, r * width);
    if (bad >= 0) {
      throw valueError(`instance ${r}, feature ${quote(features[bad] as string)}: value`, datatype, src[bad], { instance: r, feature: features[bad], index: r * width + bad });
    }
  }
  const inputs: TensorMap = {};
  setOwn<Tensor>(inputs, m.inputName, { datatype, shape: [rows, width], data });
  return { inputs, rows };
}

function featureList(features: string[]): string {
  const shown = features.slice(0, 12).map(quote).join(', ');
  return features.length > 12 ? `${shown} and ${features.length - 12} more` : shown;
}

/**
 * One prediction per row: with a single output, its row (a scalar when the row is one element, else an
 * array nested as the output's remaining dimensions); with several, an object {outputName: row value}.
 * An output whose first dimension is not `rows` is a model fault: MG_ERR_INFER_RUNTIME_FAILED.
 */
export function encodeV1Response(outputs: TensorMap, rows: number): { predictions: unknown[] } {
  const names = Object.keys(outputs);
  const columns: { name: string; flat: unknown[]; inner: number[]; per: number }[] = [];
  for (const name of names) {
    const t = outputs[name] as Tensor;
    if (t.shape.length === 0 || t.shape[0] !== rows) {
      throw infer('MG_ERR_INFER_RUNTIME_FAILED', `output ${quote(name)} has shape ${formatShape(t.shape)}, which does not have one row per instance (${rows})`, { output: name });
    }
    const inner = t.shape.slice(1);
    let per = 1;
    for (const d of inner) per *= d;
    columns.push({ name, flat: toJsonArray(t), inner, per });
  }
  const predictions = new Array<unknown>(rows);
  for (let r = 0; r < rows; r++) {
    if (columns.length === 1) {
      predictions[r] = rowValue(columns[0]!, r);
    } else {
      const obj: Record<string, unknown> = {};
      for (const col of columns) setOwn(obj, col.name, rowValue(col, r));
      predictions[r] = obj;
    }
  }
  return { predictions };
}

function rowValue(col: { flat: unknown[]; inner: number[]; per: number }, r: number): unknown {
  if (col.per === 1) return col.flat[r];
  return nest(col.flat, r * col.per, col.inner, 0);
}

/** The row-major block at `start` shaped as `dims[depth..]`; depth is bounded by the model's output rank. */
function nest(flat: unknown[], start: number, dims: number[], depth: number): unknown[] {
  const len = dims[depth] as number;
  if (depth === dims.length - 1) return flat.slice(start, start + len);
  let stride = 1;
  for (let d = depth + 1; d < dims.length; d++) stride *= dims[d] as number;
  const out = new Array<unknown>(len);
  for (let i = 0; i < len; i++) out[i] = nest(flat, start + i * stride, dims, depth + 1);
  return out;
}
