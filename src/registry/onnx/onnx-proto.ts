// The ONNX protobuf schema as a protobufjs reflection root, so Modelgate can read and write .onnx files
// without generated code or a protoc step.
//
// Field numbers and types follow onnx/onnx `onnx/onnx.proto3` (generated from onnx.in.proto; checked
// against onnx/onnx commit 64209faab4da3d679f2d46c7f725f6f2b779279b, IR version 10). Only the numbers
// matter on the wire, so a model written by any ONNX version decodes with this schema; fields added by
// later versions are skipped as unknown.
//
// Field names keep the proto's snake_case (`ir_version`, `opset_import`, …) rather than protobufjs'
// default camelCase, so objects look like the ONNX documentation and onnx.helper in Python.
import protobuf from 'protobufjs';

export const ONNX_PROTO3 = `
syntax = "proto3";
package onnx;

enum Version {
  _START_VERSION = 0;
  IR_VERSION_2017_10_10 = 1;
  IR_VERSION_2017_10_30 = 2;
  IR_VERSION_2017_11_3 = 3;
  IR_VERSION_2019_1_22 = 4;
  IR_VERSION_2019_3_18 = 5;
  IR_VERSION_2019_9_19 = 6;
  IR_VERSION_2020_5_8 = 7;
  IR_VERSION_2021_7_30 = 8;
  IR_VERSION_2023_5_5 = 9;
  IR_VERSION = 10;
}

message AttributeProto {
  reserved 12, 16 to 19;
  reserved "v";
  enum AttributeType {
    UNDEFINED = 0;
    FLOAT = 1;
    INT = 2;
    STRING = 3;
    TENSOR = 4;
    GRAPH = 5;
    SPARSE_TENSOR = 11;
    TYPE_PROTO = 13;
    FLOATS = 6;
    INTS = 7;
    STRINGS = 8;
    TENSORS = 9;
    GRAPHS = 10;
    SPARSE_TENSORS = 12;
    TYPE_PROTOS = 14;
  }
  string name = 1;
  string ref_attr_name = 21;
  string doc_string = 13;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  GraphProto g = 6;
  SparseTensorProto sparse_tensor = 22;
  TypeProto tp = 14;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated SparseTensorProto sparse_tensors = 23;
  repeated TypeProto type_protos = 15;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
  repeated StringStringEntryProto metadata_props = 4;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  string overload = 8;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  repeated StringStringEntryProto metadata_props = 9;
}

message TrainingInfoProto {
  GraphProto initialization = 1;
  GraphProto algorithm = 2;
  repeated StringStringEntryProto initialization_binding = 3;
  repeated StringStringEntryProto update_binding = 4;
}

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
  repeated TrainingInfoProto training_info = 20;
  repeated FunctionProto functions = 25;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message TensorAnnotation {
  string tensor_name = 1;
  repeated StringStringEntryProto quant_parameter_tensor_names = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
  repeated TensorAnnotation quantization_annotation = 14;
  repeated StringStringEntryProto metadata_props = 16;
  reserved 3, 4, 6 to 9;
  reserved "ir_version", "producer_version", "producer_tag", "domain";
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0;
    FLOAT = 1;
    UINT8 = 2;
    INT8 = 3;
    UINT16 = 4;
    INT16 = 5;
    INT32 = 6;
    INT64 = 7;
    STRING = 8;
    BOOL = 9;
    FLOAT16 = 10;
    DOUBLE = 11;
    UINT32 = 12;
    UINT64 = 13;
    COMPLEX64 = 14;
    COMPLEX128 = 15;
    BFLOAT16 = 16;
    FLOAT8E4M3FN = 17;
    FLOAT8E4M3FNUZ = 18;
    FLOAT8E5M2 = 19;
    FLOAT8E5M2FNUZ = 20;
    UINT4 = 21;
    INT4 = 22;
  }
  repeated int64 dims = 1;
  int32 data_type = 2;
  message Segment {
    int64 begin = 1;
    int64 end = 2;
  }
  Segment segment = 3;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  string doc_string = 12;
  bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation {
    DEFAULT = 0;
    EXTERNAL = 1;
  }
  DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
  repeated StringStringEntryProto metadata_props = 16;
}

message SparseTensorProto {
  TensorProto values = 1;
  TensorProto indices = 2;
  repeated int64 dims = 3;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    string denotation = 3;
  };
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  message Sequence {
    TypeProto elem_type = 1;
  };
  message Map {
    int32 key_type = 1;
    TypeProto value_type = 2;
  };
  message Optional {
    TypeProto elem_type = 1;
  };
  message SparseTensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
    Sequence sequence_type = 4;
    Map map_type = 5;
    Optional optional_type = 9;
    SparseTensor sparse_tensor_type = 8;
  }
  string denotation = 6;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}

enum OperatorStatus {
  EXPERIMENTAL = 0;
  STABLE = 1;
}

message FunctionProto {
  string name = 1;
  reserved 2;
  reserved "since_version";
  reserved 3;
  reserved "status";
  repeated string input = 4;
  repeated string output = 5;
  repeated string attribute = 6;
  repeated AttributeProto attribute_proto = 11;
  repeated NodeProto node = 7;
  string doc_string = 8;
  repeated OperatorSetIdProto opset_import = 9;
  string domain = 10;
  string overload = 13;
  repeated ValueInfoProto value_info = 12;
  repeated StringStringEntryProto metadata_props = 14;
}

option optimize_for = LITE_RUNTIME;
`;

/** The reflection root holding every message of package `onnx`. */
export const onnxRoot: protobuf.Root = protobuf.parse(ONNX_PROTO3, { keepCase: true }).root;

const type = (name: string): protobuf.Type => onnxRoot.lookupType(`onnx.${name}`);

export const ModelProto = type('ModelProto');
export const GraphProto = type('GraphProto');
export const NodeProto = type('NodeProto');
export const AttributeProto = type('AttributeProto');
export const TensorProto = type('TensorProto');
export const SparseTensorProto = type('SparseTensorProto');
export const ValueInfoProto = type('ValueInfoProto');
export const TypeProto = type('TypeProto');
export const TensorShapeProto = type('TensorShapeProto');
export const OperatorSetIdProto = type('OperatorSetIdProto');
export const StringStringEntryProto = type('StringStringEntryProto');
export const FunctionProto = type('FunctionProto');
export const TrainingInfoProto = type('TrainingInfoProto');

/** TensorProto.DataType: the element type numbers used by TypeProto.Tensor.elem_type and TensorProto.data_type. */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
} as const;
export type OnnxDataTypeName = keyof typeof OnnxDataType;
export type OnnxDataTypeValue = (typeof OnnxDataType)[OnnxDataTypeName];

/** AttributeProto.AttributeType values, for writing node attributes. */
export const OnnxAttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** The name of a TensorProto.DataType number, or `undefined` for a number this schema does not know. */
export function onnxDataTypeName(value: number): OnnxDataTypeName | undefined {
  return (Object.keys(OnnxDataType) as OnnxDataTypeName[]).find((k) => OnnxDataType[k] === value);
}

// Plain-object shapes for writing models. Every field is optional, as in proto3; int64 fields take a
// number (or a protobufjs Long / decimal string for values beyond 2^53).

export type Int64 = number | string | protobuf.Long;

export interface StringStringEntryInit { key?: string; value?: string }
export interface OperatorSetIdInit { domain?: string; version?: Int64 }
export interface DimensionInit { dim_value?: Int64; dim_param?: string; denotation?: string }
export interface TensorShapeInit { dim?: DimensionInit[] }
export interface TypeInit {
  tensor_type?: { elem_type?: number; shape?: TensorShapeInit };
  sequence_type?: { elem_type?: TypeInit };
  map_type?: { key_type?: number; value_type?: TypeInit };
  optional_type?: { elem_type?: TypeInit };
  sparse_tensor_type?: { elem_type?: number; shape?: TensorShapeInit };
  denotation?: string;
}
export interface ValueInfoInit { name?: string; type?: TypeInit; doc_string?: string; metadata_props?: StringStringEntryInit[] }
export interface TensorInit {
  dims?: Int64[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryInit[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: Int64[];
}
export interface AttributeInit {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorInit;
  g?: GraphInit;
  tp?: TypeInit;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorInit[];
  graphs?: GraphInit[];
}
export interface NodeInit {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: AttributeInit[];
  doc_string?: string;
}
export interface GraphInit {
  node?: NodeInit[];
  name?: string;
  initializer?: TensorInit[];
  sparse_initializer?: { values?: TensorInit; indices?: TensorInit; dims?: Int64[] }[];
  doc_string?: string;
  input?: ValueInfoInit[];
  output?: ValueInfoInit[];
  value_info?: ValueInfoInit[];
  metadata_props?: StringStringEntryInit[];
}
export interface ModelInit {
  ir_version?: Int64;
  opset_import?: OperatorSetIdInit[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphInit;
  metadata_props?: StringStringEntryInit[];
}

/**
 * A graph input/output of tensor type: `shape` entries are a fixed size, a symbolic name (dim_param) or
 * null for an unknown dimension; a null or absent `shape` leaves the rank unknown.
 */
export function tensorValueInfo(name: string, elemType: number, shape?: readonly (number | string | null)[] | null): ValueInfoInit {
  const tensor: NonNullable<TypeInit['tensor_type']> = { elem_type: elemType };
  if (shape) {
    tensor.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})) };
  }
  return { name, type: { tensor_type: tensor } };
}

/** Serialize a ModelProto given as a plain object (snake_case field names, as in onnx.proto). */
export function encodeModel(model: ModelInit): Uint8Array {
  return ModelProto.encode(ModelProto.fromObject(model as Record<string, unknown>)).finish();
}

/**
 * Decode a whole ModelProto (weights included, as views into `bytes`, not copies). Throws protobufjs'
 * own errors; use readOnnxModel from read-onnx.ts for user-supplied files.
 */
export function decodeModel(bytes: Uint8Array): protobuf.Message {
  return ModelProto.decode(bytes);
}

/** A protobufjs int64 (Long or number) as a JS number; values beyond 2^53 lose precision. */
export function int64ToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as protobuf.Long;
    return l.unsigned ? (l.high >>> 0) * 2 ** 32 + (l.low >>> 0) : l.high * 2 ** 32 + (l.low >>> 0);
  }
  return 0;
}
