// Turns the trained weather models into ONNX graphs that follow Modelgate's example contract:
// input `features` FLOAT [batch, F]; outputs `label` INT64 [batch] and `probabilities` FLOAT [batch, 2]
// (P(no rain), P(rain)); opset 17, IR version 8; the feature order in metadata_props.
// Preprocessing lives in the graph so API callers send raw observations, not standardised ones.
import {
  encodeModel,
  OnnxAttributeType,
  OnnxDataType,
  type AttributeInit,
  type ModelInit,
  type NodeInit,
  type TensorInit,
  type ValueInfoInit,
} from '../src/registry/onnx/onnx-proto.js';
import { LABEL, type FeatureName } from './weather-data.js';
import type { LogisticModel, MlpModel, WeatherModel } from './weather-learn.js';

export const IR_VERSION = 8;
export const OPSET = 17;
export const PRODUCER_NAME = 'modelgate-examples';
// Bumped by hand when the graph layout changes, never from package.json, so a release alone does not
// change the committed bytes.
export const PRODUCER_VERSION = '1.0.0';
export const BATCH = 'batch';

function floatTensor(name: string, dims: number[], values: number[]): TensorInit {
  return { name, dims, data_type: OnnxDataType.FLOAT, float_data: values };
}

function int64Tensor(name: string, dims: number[], values: number[]): TensorInit {
  return { name, dims, data_type: OnnxDataType.INT64, int64_data: values };
}

function intAttr(name: string, value: number): AttributeInit {
  return { name, type: OnnxAttributeType.INT, i: value };
}

function node(op_type: string, input: string[], output: string[], attribute: AttributeInit[] = []): NodeInit {
  return { name: output[0]!, op_type, input, output, attribute };
}

function tensorInfo(name: string, elemType: number, dims: (number | string)[], doc_string: string): ValueInfoInit {
  return {
    name,
    doc_string,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/**
 * The shared tail: from a [batch, 1] logit to both outputs. `label` is derived from the very float32
 * probability the caller receives, so label == (p_rain > 0.5) holds exactly, not just approximately.
 */
function headNodes(logit: string): { nodes: NodeInit[]; initializers: TensorInit[] } {
  return {
    initializers: [floatTensor('one', [], [1]), floatTensor('threshold', [], [0.5]), int64Tensor('squeeze_axes', [1], [1])],
    nodes: [
      node('Sigmoid', [logit], ['p_rain']),
      node('Sub', ['one', 'p_rain'], ['p_no_rain']),
      node('Concat', ['p_no_rain', 'p_rain'], ['probabilities'], [intAttr('axis', 1)]),
      node('Greater', ['p_rain', 'threshold'], ['is_rain']),
      node('Cast', ['is_rain'], ['label_column'], [intAttr('to', OnnxDataType.INT64)]),
      node('Squeeze', ['label_column', 'squeeze_axes'], ['label']),
    ],
  };
}

function logisticGraph(m: LogisticModel): { nodes: NodeInit[]; initializers: TensorInit[] } {
  const f = m.weights.length;
  return {
    initializers: [
      floatTensor('mean', [f], m.standardiser.mean),
      floatTensor('std', [f], m.standardiser.std),
      floatTensor('weights', [f, 1], m.weights),
      floatTensor('bias', [1], [m.bias]),
    ],
    nodes: [
      node('Sub', ['features', 'mean'], ['centred']),
      node('Div', ['centred', 'std'], ['standardised']),
      node('MatMul', ['standardised', 'weights'], ['weighted']),
      node('Add', ['weighted', 'bias'], ['logit']),
    ],
  };
}

function mlpGraph(m: MlpModel): { nodes: NodeInit[]; initializers: TensorInit[] } {
  const weather = m.standardiser.mean.length;
  const nIn = m.w1.length;
  const hidden = m.b1.length;
  return {
    initializers: [
      int64Tensor('weather_start', [1], [0]),
      int64Tensor('weather_end', [1], [weather]),
      int64Tensor('month_start', [1], [weather]),
      int64Tensor('month_end', [1], [weather + 1]),
      int64Tensor('column_axis', [1], [1]),
      floatTensor('mean', [weather], m.standardiser.mean),
      floatTensor('std', [weather], m.standardiser.std),
      // The very float32 constant mlpInputs() uses, so the JS cross-check compares like with like.
      floatTensor('radians_per_month', [], [Math.fround((2 * Math.PI) / 12)]),
      floatTensor('w1', [nIn, hidden], m.w1.flat()),
      floatTensor('b1', [hidden], m.b1),
      floatTensor('w2', [hidden, 1], m.w2),
      floatTensor('b2', [1], [m.b2]),
    ],
    nodes: [
      node('Slice', ['features', 'weather_start', 'weather_end', 'column_axis'], ['weather']),
      node('Slice', ['features', 'month_start', 'month_end', 'column_axis'], ['month']),
      node('Sub', ['weather', 'mean'], ['centred']),
      node('Div', ['centred', 'std'], ['standardised']),
      node('Mul', ['month', 'radians_per_month'], ['month_angle']),
      node('Sin', ['month_angle'], ['month_sin']),
      node('Cos', ['month_angle'], ['month_cos']),
      node('Concat', ['standardised', 'month_sin', 'month_cos'], ['hidden_input'], [intAttr('axis', 1)]),
      node('MatMul', ['hidden_input', 'w1'], ['hidden_weighted']),
      node('Add', ['hidden_weighted', 'b1'], ['hidden_pre']),
      node('Relu', ['hidden_pre'], ['hidden']),
      node('MatMul', ['hidden', 'w2'], ['weighted']),
      node('Add', ['weighted', 'b2'], ['logit']),
    ],
  };
}

export interface ExportInfo {
  /** The registry version this file becomes (also ModelProto.model_version). */
  version: number;
  features: readonly FeatureName[];
  /** Goes into the graph's doc_string; what a person inspecting the file should know. */
  description: string;
}

export function buildModel(m: WeatherModel, info: ExportInfo): ModelInit {
  const body = m.kind === 'logistic' ? logisticGraph(m) : mlpGraph(m);
  const head = headNodes('logit');
  const f = info.features.length;
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: PRODUCER_NAME,
    producer_version: PRODUCER_VERSION,
    model_version: info.version,
    doc_string: info.description,
    metadata_props: [
      { key: 'modelgate.features', value: JSON.stringify(info.features) },
      { key: 'modelgate.label', value: LABEL },
    ],
    graph: {
      name: `weather_v${info.version}`,
      doc_string: info.description,
      node: [...body.nodes, ...head.nodes],
      initializer: [...body.initializers, ...head.initializers],
      input: [tensorInfo('features', OnnxDataType.FLOAT, [BATCH, f], `Raw observations in this order: ${info.features.join(', ')}.`)],
      output: [
        tensorInfo('label', OnnxDataType.INT64, [BATCH], '1 when P(rain tomorrow) > 0.5, else 0.'),
        tensorInfo('probabilities', OnnxDataType.FLOAT, [BATCH, 2], 'Columns: P(no rain tomorrow), P(rain tomorrow).'),
      ],
    },
  };
}

export function encodeWeatherModel(m: WeatherModel, info: ExportInfo): Uint8Array {
  return encodeModel(buildModel(m, info));
}
