// Reads the signature (inputs, outputs) and the self-description of an ONNX model from its bytes.
import protobuf from 'protobufjs';
import { ModelgateError } from '../../errors/modelgate-error.js';
import type { Dim, OnnxModelInfo, Signature, TensorDatatype, TensorSpec } from '../signature.js';
import { ModelProto as onnxModelType, OnnxDataType, onnxDataTypeName, onnxRoot } from './onnx-proto.js';

// A copy of the schema without the parts a signature never needs (nodes, weights, training graphs, local
// functions). protobufjs skips the bytes of unknown fields without allocating, so a 100 MB model costs
// the handful of objects that describe its inputs and outputs, and truncation inside the skipped parts is
// still detected because skipping checks bounds like reading does.
const signatureRoot = protobuf.Root.fromJSON(onnxRoot.toJSON());
function dropFields(typeName: string, keep: readonly string[]): void {
  const t = signatureRoot.lookupType(`onnx.${typeName}`);
  for (const field of t.fieldsArray) if (!keep.includes(field.name)) t.remove(field);
}
dropFields('ModelProto', ['ir_version', 'opset_import', 'producer_name', 'producer_version', 'domain', 'model_version', 'doc_string', 'graph', 'metadata_props']);
dropFields('GraphProto', ['name', 'doc_string', 'input', 'output', 'initializer', 'sparse_initializer']);
dropFields('TensorProto', ['name']);
dropFields('SparseTensorProto', ['values']);
const SignatureModelProto = signatureRoot.lookupType('onnx.ModelProto');

// Plain-object views of the decoded messages (toObject with defaults off: absent fields are absent).
interface PDim { dim_value?: number; dim_param?: string }
interface PShape { dim?: PDim[] }
interface PType {
  tensor_type?: { elem_type?: number; shape?: PShape };
  sparse_tensor_type?: { elem_type?: number; shape?: PShape };
  sequence_type?: { elem_type?: PType };
  map_type?: { key_type?: number; value_type?: PType };
  optional_type?: { elem_type?: PType };
}
interface PValueInfo { name?: string; type?: PType; doc_string?: string }
interface PGraph {
  name?: string;
  input?: PValueInfo[];
  output?: PValueInfo[];
  initializer?: { name?: string }[];
  sparse_initializer?: { values?: { name?: string } }[];
}
interface PModel {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: PGraph;
  metadata_props?: { key?: string; value?: string }[];
}

const V2_DATATYPES: Partial<Record<number, TensorDatatype>> = {
  [OnnxDataType.FLOAT]: 'FP32',
  [OnnxDataType.DOUBLE]: 'FP64',
  [OnnxDataType.FLOAT16]: 'FP16',
  [OnnxDataType.BFLOAT16]: 'BF16',
  [OnnxDataType.INT8]: 'INT8',
  [OnnxDataType.INT16]: 'INT16',
  [OnnxDataType.INT32]: 'INT32',
  [OnnxDataType.INT64]: 'INT64',
  [OnnxDataType.UINT8]: 'UINT8',
  [OnnxDataType.UINT16]: 'UINT16',
  [OnnxDataType.UINT32]: 'UINT32',
  [OnnxDataType.UINT64]: 'UINT64',
  [OnnxDataType.BOOL]: 'BOOL',
  [OnnxDataType.STRING]: 'BYTES',
};

/** The V2 datatype for an ONNX TensorProto.DataType number, or null when V2 has none (complex, float8, int4…). */
export function v2Datatype(elemType: number | undefined): TensorDatatype | null {
  return V2_DATATYPES[elemType ?? 0] ?? null;
}

/** ONNX's own spelling of an element type, as in "tensor(float)". */
function elemTypeName(elemType: number | undefined): string {
  const name = onnxDataTypeName(elemType ?? 0);
  return name === undefined ? `unknown${elemType ?? 0}` : name.toLowerCase();
}

function readShape(shape: PShape | undefined): Dim[] | null {
  if (shape === undefined) return null;
  return (shape.dim ?? []).map((d): Dim => {
    if (d.dim_value !== undefined) return d.dim_value;
    if (d.dim_param !== undefined && d.dim_param !== '') return d.dim_param;
    return null;
  });
}

type TypeDescription = Pick<TensorSpec, 'kind' | 'datatype' | 'shape' | 'onnxType'>;

function describeType(t: PType | undefined): TypeDescription {
  if (t?.tensor_type) {
    const { elem_type, shape } = t.tensor_type;
    return { kind: 'tensor', datatype: v2Datatype(elem_type), shape: readShape(shape), onnxType: `tensor(${elemTypeName(elem_type)})` };
  }
  if (t?.sparse_tensor_type) {
    const { elem_type, shape } = t.sparse_tensor_type;
    return { kind: 'sparse_tensor', datatype: v2Datatype(elem_type), shape: readShape(shape), onnxType: `sparse_tensor(${elemTypeName(elem_type)})` };
  }
  // A sequence or optional of tensors is described by its element tensor; a map has no single element
  // tensor (keys and values are separate), so it gets none.
  if (t?.sequence_type) {
    const inner = describeType(t.sequence_type.elem_type);
    return { ...elementOf(inner), kind: 'sequence', onnxType: `seq(${inner.onnxType})` };
  }
  if (t?.optional_type) {
    const inner = describeType(t.optional_type.elem_type);
    return { ...elementOf(inner), kind: 'optional', onnxType: `optional(${inner.onnxType})` };
  }
  if (t?.map_type) {
    const value = describeType(t.map_type.value_type);
    return { kind: 'map', datatype: null, shape: null, onnxType: `map(${elemTypeName(t.map_type.key_type)},${value.onnxType})` };
  }
  return { kind: 'tensor', datatype: null, shape: null, onnxType: 'unknown' };
}

function elementOf(inner: TypeDescription): Pick<TensorSpec, 'datatype' | 'shape'> {
  return inner.kind === 'map' ? { datatype: null, shape: null } : { datatype: inner.datatype, shape: inner.shape };
}

function toSpec(v: PValueInfo): TensorSpec {
  const spec: TensorSpec = { name: v.name ?? '', ...describeType(v.type) };
  if (v.doc_string) spec.docString = v.doc_string;
  return spec;
}

// ---------------------------------------------------------------------------------------------------
// Telling "not ONNX" from "ONNX cut short". protobufjs reports both with the same RangeError, and random
// bytes often decode "successfully" into nonsense, so the decision is made from the wire format itself:
// a truncated model is a well-formed ModelProto prefix (the first field ir_version, as every ONNX writer
// emits it) whose last field runs past the end of the file.

/**
 * Reads a varint at `pos`: its value and the position after it, undefined when it runs past `limit`,
 * null when it is longer than the 10 bytes a varint can have.
 */
function readVarint(bytes: Uint8Array, pos: number, limit: number): { value: number; next: number } | undefined | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) return undefined;
    const b = bytes[pos++] as number;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: pos };
  }
  return null;
}

const MODEL_FIELDS: ReadonlyMap<number, { name: string; wireType: number }> = new Map([
  [1, { name: 'ir_version', wireType: 0 }],
  [2, { name: 'producer_name', wireType: 2 }],
  [3, { name: 'producer_version', wireType: 2 }],
  [4, { name: 'domain', wireType: 2 }],
  [5, { name: 'model_version', wireType: 0 }],
  [6, { name: 'doc_string', wireType: 2 }],
  [7, { name: 'graph', wireType: 2 }],
  [8, { name: 'opset_import', wireType: 2 }],
  [14, { name: 'metadata_props', wireType: 2 }],
  [20, { name: 'training_info', wireType: 2 }],
  [25, { name: 'functions', wireType: 2 }],
]);

const MAX_IR_VERSION = 255;

interface TopLevelScan {
  /** 'clean': fields end exactly at the end of the bytes; 'overrun': the last field needs more bytes. */
  end: 'clean' | 'overrun' | 'invalid';
  /** Field numbers of the complete fields, in file order. */
  fields: number[];
  /** The field being read when the bytes ran out (only for 'overrun'). */
  overrunField?: number;
  /** For 'overrun' inside a length-delimited field: the size the file would need at least. */
  expectedAtLeast?: number;
  /** True when a field number not in ModelProto was seen (a newer ONNX, or garbage). */
  unknownFields: boolean;
  /** true when the first tag was ir_version (varint): all ONNX writers start with it. */
  startsWithIrVersion: boolean;
  irVersion?: number;
  invalidReason?: string;
}

function scanTopLevel(bytes: Uint8Array): TopLevelScan {
  const len = bytes.length;
  let pos = 0;
  const scan: TopLevelScan = { end: 'clean', fields: [], unknownFields: false, startsWithIrVersion: false };
  const varint = (): number | undefined | null => {
    const r = readVarint(bytes, pos, len);
    if (r) pos = r.next;
    return r && r.value;
  };

  while (pos < len) {
    const tagAt = pos;
    const tag = varint();
    if (tag === undefined) return { ...scan, end: 'overrun' };
    if (tag === null) return { ...scan, end: 'invalid', invalidReason: `malformed field tag at byte ${tagAt}` };
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    const known = MODEL_FIELDS.get(field);
    if (tagAt === 0) scan.startsWithIrVersion = field === 1 && wireType === 0;
    if (field === 0 || (known && known.wireType !== wireType) || (!known && ![0, 1, 2, 5].includes(wireType))) {
      return { ...scan, end: 'invalid', invalidReason: `byte ${tagAt} is not a ModelProto field (field ${field}, wire type ${wireType})` };
    }
    if (!known) scan.unknownFields = true;
    const overrun = (expectedAtLeast?: number): TopLevelScan => ({ ...scan, end: 'overrun', overrunField: field, expectedAtLeast });
    if (wireType === 0) {
      const v = varint();
      if (v === undefined) return overrun();
      if (v === null) return { ...scan, end: 'invalid', invalidReason: `malformed varint at byte ${tagAt}` };
      if (field === 1) scan.irVersion = v;
    } else if (wireType === 1 || wireType === 5) {
      const size = wireType === 1 ? 8 : 4;
      if (pos + size > len) return overrun(pos + size);
      pos += size;
    } else {
      const size = varint();
      if (size === undefined) return overrun();
      if (size === null) return { ...scan, end: 'invalid', invalidReason: `malformed length at byte ${tagAt}` };
      if (pos + size > len) return overrun(pos + size);
      pos += size;
    }
    scan.fields.push(field);
  }
  return scan;
}

// The top-level scan alone would let a few random files in a thousand that happen to start like
// ir_version pass as "truncated". So before calling a file truncated, its whole prefix is walked against
// the schema: every tag, at every depth, must be a field of the enclosing message with a wire type that
// field can have, every complete nested message must end exactly where its length says, and strings
// (names, producer, doc strings) must be text.

/** UTF-8 text without control characters other than tab and line breaks; `partial` allows a cut last character. */
function isText(bytes: Uint8Array, partial: boolean): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: partial });
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

interface FieldRule { wireTypes: ReadonlySet<number>; message?: protobuf.Type; text?: boolean }
const fieldRules = new Map<protobuf.Type, Map<number, FieldRule>>();

function rulesOf(type: protobuf.Type): Map<number, FieldRule> {
  let rules = fieldRules.get(type);
  if (rules) return rules;
  rules = new Map();
  fieldRules.set(type, rules);
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      rules.set(field.id, { wireTypes: new Set([2]), message: resolved });
      continue;
    }
    const scalar = resolved instanceof protobuf.Enum ? 0 : (protobuf.types.basic as Record<string, number | undefined>)[field.type];
    const wireTypes = new Set<number>(scalar === undefined ? [] : [scalar]);
    // Repeated scalars may be written packed or not, whatever the .proto says.
    if (field.repeated && (protobuf.types.packed as Record<string, number | undefined>)[field.type] !== undefined) wireTypes.add(2);
    rules.set(field.id, { wireTypes, text: field.type === 'string' });
  }
  return rules;
}

interface WalkStats { known: number; unknown: number }
type WalkEnd = 'clean' | 'overrun' | 'invalid';
const MAX_DEPTH = 64;

/**
 * Walks one message in bytes[pos, limit). `past` is what reading beyond `limit` means: the data ran out
 * ('overrun') or a field overflows its enclosing message ('invalid'); `atLimit` is the result when the
 * fields end exactly at `limit`.
 */
function walkMessage(bytes: Uint8Array, pos: number, limit: number, type: protobuf.Type, past: WalkEnd, atLimit: WalkEnd, depth: number, stats: WalkStats): WalkEnd {
  if (depth > MAX_DEPTH) return 'invalid';
  const rules = rulesOf(type);
  const varint = (): number | undefined | null => {
    const r = readVarint(bytes, pos, limit);
    if (r) pos = r.next;
    return r && r.value;
  };
  while (pos < limit) {
    const tag = varint();
    if (tag === undefined) return past;
    if (tag === null) return 'invalid';
    const id = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (id === 0 || wireType === 3 || wireType === 4 || wireType > 5) return 'invalid';
    const rule = rules.get(id);
    if (rule && !rule.wireTypes.has(wireType)) return 'invalid';
    if (rule) stats.known++;
    else stats.unknown++;
    if (wireType === 0) {
      const v = varint();
      if (v === undefined) return past;
      if (v === null) return 'invalid';
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
      if (pos > limit) return past;
    } else {
      const size = varint();
      if (size === undefined) return past;
      if (size === null) return 'invalid';
      const end = pos + size;
      if (end > limit && past === 'invalid') return 'invalid';
      if (rule?.text && !isText(bytes.subarray(pos, Math.min(end, limit)), end > limit)) return 'invalid';
      if (rule?.message) {
        const inner = end > limit
          ? walkMessage(bytes, pos, limit, rule.message, 'overrun', 'overrun', depth + 1, stats)
          : walkMessage(bytes, pos, end, rule.message, 'invalid', 'clean', depth + 1, stats);
        if (inner !== 'clean') return inner;
      } else if (end > limit) {
        return past;
      }
      pos = end;
    }
  }
  return atLimit;
}

/** Whether the bytes are a prefix of a well-formed ModelProto that the file ends in the middle of. */
function prefixIsModelProto(bytes: Uint8Array): boolean {
  const stats: WalkStats = { known: 0, unknown: 0 };
  const end = walkMessage(bytes, 0, bytes.length, onnxModelType, 'overrun', 'clean', 0, stats);
  // Fields this schema does not know are tolerated (a newer ONNX), but only as a small minority.
  return end === 'overrun' && stats.unknown * 10 <= stats.known;
}

function plausibleIrVersion(v: number | undefined): boolean {
  return v !== undefined && Number.isInteger(v) && v >= 1 && v <= MAX_IR_VERSION;
}

/** A well-formed ModelProto prefix that runs past the end of the bytes. */
function looksTruncated(bytes: Uint8Array, scan: TopLevelScan): boolean {
  if (scan.end !== 'overrun' || !scan.startsWithIrVersion || scan.unknownFields) return false;
  // Cut inside the ir_version varint itself: nothing more to check.
  if (scan.fields.length === 0) return true;
  return plausibleIrVersion(scan.irVersion) && prefixIsModelProto(bytes);
}

/** A complete ModelProto prefix that stops, at a field boundary, before the fields every writer emits last. */
function looksCutAtBoundary(scan: TopLevelScan): boolean {
  if (scan.end !== 'clean' || !scan.startsWithIrVersion || scan.unknownFields) return false;
  const ascending = scan.fields.every((f, i) => i === 0 || f > (scan.fields[i - 1] as number));
  return ascending && Math.max(...scan.fields) < 8;
}

function describeBytes(bytes: Uint8Array, detail?: string): string {
  const head = bytes.subarray(0, 512);
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return 'it is a ZIP archive (e.g. a PyTorch .pt or Keras .keras file)';
  }
  if (head[0] === 0x89 && head[1] === 0x48 && head[2] === 0x44 && head[3] === 0x46) return 'it is an HDF5 file (e.g. a Keras .h5 file)';
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8');
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text.slice(0, text.length - 3))) {
    const start = text.slice(0, 40).replace(/\s+/g, ' ').trim();
    return `it is a text file (it starts with "${start}")`;
  }
  return `its bytes do not decode as an ONNX ModelProto${detail ? ` (${detail})` : ''}`;
}

function notOnnx(reason: string, cause?: unknown): ModelgateError {
  return new ModelgateError(
    'MG_ERR_ARTIFACT_NOT_ONNX',
    `The artifact is not an ONNX model: ${reason}. Export the model to ONNX (a serialized ModelProto) and register the .onnx file.`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

function truncated(bytes: Uint8Array, scan: TopLevelScan): ModelgateError {
  const fieldName = scan.overrunField === undefined ? undefined : MODEL_FIELDS.get(scan.overrunField)?.name;
  const where = fieldName ? ` in the middle of the model's ${fieldName}` : '';
  const expected = scan.expectedAtLeast ? ` (it should be at least ${scan.expectedAtLeast} bytes)` : '';
  return new ModelgateError(
    'MG_ERR_ARTIFACT_TRUNCATED',
    `The ONNX file ends after ${bytes.length} bytes${where}${expected}: it was cut off while copying or downloading. Copy it again and check its size.`,
    { size: bytes.length, ...(scan.expectedAtLeast ? { expectedAtLeast: scan.expectedAtLeast } : {}) },
  );
}

function decode(bytes: Uint8Array): PModel {
  if (bytes.length === 0) throw notOnnx('the file is empty (0 bytes)');
  const scan = scanTopLevel(bytes);
  if (looksTruncated(bytes, scan)) throw truncated(bytes, scan);
  if (scan.end !== 'clean') throw notOnnx(describeBytes(bytes, scan.invalidReason));

  let model: PModel;
  try {
    const message = SignatureModelProto.decode(bytes);
    model = SignatureModelProto.toObject(message, { longs: Number, enums: Number, defaults: false }) as PModel;
  } catch (e) {
    // The top level is well-formed, so the damage is inside a field: corrupted, not cut short.
    throw notOnnx(describeBytes(bytes, e instanceof Error ? e.message : String(e)), e);
  }

  if (!plausibleIrVersion(model.ir_version)) {
    throw notOnnx(model.ir_version === undefined ? describeBytes(bytes, 'no ir_version') : `ir_version ${model.ir_version} is not an ONNX IR version`);
  }
  // Opset imports are mandatory from IR version 3 on and are written after the graph.
  if ((model.opset_import ?? []).length === 0 && (model.ir_version as number) >= 3) {
    if (looksCutAtBoundary(scan)) throw truncated(bytes, scan);
    throw notOnnx('it has no opset_import, which every ONNX model of IR version 3 or later declares');
  }
  return model;
}

/**
 * Read an ONNX model's signature and self-description. Inputs exclude graph initializers (old exporters
 * list the weights as inputs too). Throws ModelgateError MG_ERR_ARTIFACT_NOT_ONNX, MG_ERR_ARTIFACT_TRUNCATED
 * or MG_ERR_ARTIFACT_NO_GRAPH.
 */
export function readOnnxModel(bytes: Uint8Array): { signature: Signature; info: OnnxModelInfo } {
  const model = decode(bytes);
  const graph = model.graph;
  if (!graph) throw new ModelgateError('MG_ERR_ARTIFACT_NO_GRAPH', 'The ONNX model has no graph. Re-export the model.');

  const initializers = new Set<string>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.add(t.name);
  for (const t of graph.sparse_initializer ?? []) if (t.values?.name) initializers.add(t.values.name);
  const declaredInputs = graph.input ?? [];
  const inputs = declaredInputs.filter((v) => !initializers.has(v.name ?? '')).map(toSpec);
  const outputs = (graph.output ?? []).map(toSpec);
  const graphName = graph.name ? `"${graph.name}"` : '';

  if (inputs.length === 0) {
    const why = declaredInputs.length === 0 ? 'declares no inputs' : `lists only initializers (weights) as inputs (${declaredInputs.length})`;
    throw new ModelgateError('MG_ERR_ARTIFACT_NO_GRAPH', `The ONNX model's graph ${graphName}${graphName ? ' ' : ''}${why}, so it cannot be called. Re-export the model.`);
  }
  if (outputs.length === 0) {
    throw new ModelgateError('MG_ERR_ARTIFACT_NO_GRAPH', `The ONNX model's graph ${graphName}${graphName ? ' ' : ''}declares no outputs. Re-export the model.`);
  }

  const info: OnnxModelInfo = {
    irVersion: model.ir_version as number,
    opsetImports: (model.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    producerName: model.producer_name ?? '',
    producerVersion: model.producer_version ?? '',
    graphName: graph.name ?? '',
    docString: model.doc_string ?? '',
    metadataProps: Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
  return { signature: { inputs, outputs }, info };
}
