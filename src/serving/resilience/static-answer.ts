// The `static` fallback step: a fixed answer, one row of values per output repeated for every row of the
// request, as a TensorMap in the runtime layout so encodeInferResponse and encodeV1Response take it as they
// take a model's outputs.
import type { TensorDatatype } from '../../registry/signature.js';
import type { TensorData, TensorMap } from '../../runtime/types.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { setOwn } from '../protocol/codec.js';
import type { FallbackStep } from './resilience-spec.js';

export type StaticStep = Extract<FallbackStep, { kind: 'static' }>;

type StaticDatatype = 'FP32' | 'FP64' | 'INT32' | 'INT64' | 'BYTES' | 'BOOL';

interface PreparedOutput {
  name: string;
  datatype: StaticDatatype;
  width: number;
  row: TensorData;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Why `v` is not a value of `datatype`, or undefined when it is one. */
function badValue(datatype: StaticDatatype, v: unknown): string | undefined {
  switch (datatype) {
    case 'FP32': {
      if (typeof v !== 'number' || v - v !== 0) return 'an FP32 value must be a finite number';
      const f = Math.fround(v);
      return f - f === 0 ? undefined : 'it is beyond the FP32 range (±3.4028234663852886e38)';
    }
    case 'FP64':
      return typeof v === 'number' && v - v === 0 ? undefined : 'an FP64 value must be a finite number';
    case 'INT32':
      return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? undefined : `an INT32 value must be an integer from ${INT32_MIN} to ${INT32_MAX}`;
    case 'INT64':
      return typeof v === 'number' && Number.isSafeInteger(v) ? undefined : 'an INT64 value must be an integer from -9007199254740991 to 9007199254740991';
    case 'BYTES':
      return typeof v === 'string' ? undefined : 'a BYTES value must be a string';
    case 'BOOL':
      return typeof v === 'boolean' ? undefined : 'a BOOL value must be true or false';
  }
}

function allocate(datatype: StaticDatatype, n: number): TensorData {
  switch (datatype) {
    case 'FP32': return new Float32Array(n);
    case 'FP64': return new Float64Array(n);
    case 'INT32': return new Int32Array(n);
    case 'INT64': return new BigInt64Array(n);
    case 'BOOL': return new Uint8Array(n);
    case 'BYTES': return new Array<string>(n);
  }
}

function invalid(message: string, field: string): ModelgateError {
  return new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', message, { field });
}

/**
 * Checks a static step and returns the function that answers `rows` rows with it: each output of shape
 * [rows, data.length] holding its row of values `rows` times (a fresh TensorMap per call, so whoever keeps the
 * outputs may change them). Throws MG_ERR_DEPLOYMENT_INVALID naming the field, under `where` (e.g.
 * "spec.resilience.fallback[2]"), when a value does not fit its datatype or an output is named twice.
 */
export function staticAnswer(step: StaticStep, where = 'static fallback'): (rows: number) => TensorMap {
  const outputs: unknown = (step as { outputs?: unknown }).outputs;
  if (!Array.isArray(outputs) || outputs.length === 0) throw invalid(`${where}.outputs: a static step needs at least one output {name, datatype, data}.`, `${where}.outputs`);
  const prepared: PreparedOutput[] = [];
  const names = new Set<string>();
  for (let j = 0; j < outputs.length; j++) {
    const at = `${where}.outputs[${j}]`;
    const o = outputs[j] as Partial<StaticStep['outputs'][number]> | null;
    if (typeof o !== 'object' || o === null) throw invalid(`${at}: an output is an object {name, datatype, data}.`, at);
    const { name, datatype, data } = o;
    if (typeof name !== 'string' || name === '') throw invalid(`${at}.name: an output needs a non-empty name.`, `${at}.name`);
    if (names.has(name)) throw invalid(`${at}.name: output "${name}" is given twice; each output appears once.`, `${at}.name`);
    names.add(name);
    if (!isStaticDatatype(datatype)) throw invalid(`${at}.datatype: ${JSON.stringify(datatype)} is not one of FP32, FP64, INT32, INT64, BYTES, BOOL.`, `${at}.datatype`);
    if (!Array.isArray(data) || data.length === 0) throw invalid(`${at}.data: give one row of values (a non-empty array).`, `${at}.data`);
    const row = allocate(datatype, data.length);
    for (let k = 0; k < data.length; k++) {
      const v: unknown = data[k];
      const why = badValue(datatype, v);
      if (why !== undefined) throw invalid(`${at}.data[${k}]: ${JSON.stringify(v) ?? String(v)} does not fit output "${name}" (${datatype}): ${why}.`, `${at}.data[${k}]`);
      if (datatype === 'INT64') (row as BigInt64Array)[k] = BigInt(v as number);
      else if (datatype === 'BOOL') (row as Uint8Array)[k] = v === true ? 1 : 0;
      else (row as Float32Array | Float64Array | Int32Array | string[])[k] = v as never;
    }
    prepared.push({ name, datatype, width: data.length, row });
  }

  return (rows: number): TensorMap => {
    if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`staticAnswer: rows must be a non-negative integer, got ${rows}`);
    const out: TensorMap = {};
    for (let j = 0; j < prepared.length; j++) {
      const p = prepared[j]!;
      const w = p.width;
      const data = allocate(p.datatype, rows * w);
      if (Array.isArray(data)) {
        const row = p.row as string[];
        for (let r = 0; r < rows; r++) for (let k = 0; k < w; k++) data[r * w + k] = row[k]!;
      } else {
        const row = p.row as Exclude<TensorData, string[]>;
        // set() needs both arrays of one kind, which allocate() guarantees.
        for (let r = 0; r < rows; r++) (data as Float64Array).set(row as Float64Array, r * w);
      }
      setOwn(out, p.name, { datatype: p.datatype as TensorDatatype, shape: [rows, w], data });
    }
    return out;
  };
}

function isStaticDatatype(d: unknown): d is StaticDatatype {
  return d === 'FP32' || d === 'FP64' || d === 'INT32' || d === 'INT64' || d === 'BYTES' || d === 'BOOL';
}
