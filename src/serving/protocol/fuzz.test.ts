// Seeded fuzzing of both codecs: generated malformed requests must fail with a 4xx MG_ERR_INFER_* error
// and nothing else, and generated valid requests must decode to exactly the values sent. A failure prints
// the seed and case number so it can be replayed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dim, Signature, TensorDatatype } from '../../registry/signature.js';
import type { TensorData } from '../../runtime/types.js';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { decodeInferRequest, encodeInferResponse } from './v2.js';
import { decodeV1Instances } from './v1.js';
import { EXAMPLE, EXAMPLE_FEATURES, spec } from './test-support.js';
import { mulberry32 } from '../../random.js';

// Replay or explore with MODELGATE_FUZZ_SEED=<n>.
const SEED = Number(process.env.MODELGATE_FUZZ_SEED ?? 0x5eed_2024);


class Gen {
  private readonly next: () => number;
  constructor(seed: number) { this.next = mulberry32(seed); }
  float(): number { return this.next(); }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)] as T; }
  chance(p: number): boolean { return this.next() < p; }
  string(max = 12): string {
    const alphabet = 'abcxyz_-. "\\\u00e9\u{1F600}\u0000';
    let s = '';
    for (let i = this.int(0, max); i > 0; i--) s += this.pick([...alphabet]);
    return s;
  }
}

const DEEP: unknown[] = (() => {
  let v: unknown[] = [1];
  for (let i = 0; i < 100_000; i++) v = [v];
  return v;
})();

/** Any JSON-ish value, including some no JSON parser would produce. */
function randomValue(g: Gen, depth = 0): unknown {
  switch (g.int(0, depth > 2 ? 12 : 14)) {
    case 0: return null;
    case 1: return g.chance(0.5);
    case 2: return g.int(-1e6, 1e6);
    case 3: return g.pick([0, -0, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 64, 1e39, 0.5, -1]);
    case 4: return g.pick([NaN, Infinity, -Infinity, undefined, 1n, Symbol('s'), () => 1]);
    case 5: return g.string();
    case 6: return g.pick(['1e400', '-0', 'NaN', 'Infinity', '9223372036854775808', '0x10', '1.5', '', ' 1 ']);
    case 7: return 'x'.repeat(g.int(1000, 200_000));
    case 8: return [];
    case 9: return {};
    case 10: return JSON.parse('{"__proto__": {"inputs": []}, "constructor": {"prototype": {}}}');
    case 11: return g.chance(0.5) ? DEEP : [[[[[1]]]]];
    case 12: return g.float() * 1000 - 500;
    case 13: return Array.from({ length: g.int(1, 4) }, () => randomValue(g, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      // Own properties even for "__proto__", as JSON.parse makes them.
      for (let i = g.int(1, 3); i > 0; i--) {
        Object.defineProperty(o, g.pick(['name', 'shape', 'data', 'datatype', '__proto__', 'constructor', g.string(4)]), { value: randomValue(g, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

// ---- Signatures and valid requests -----------------------------------------------------------------

const ALL_JSON: TensorDatatype[] = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64', 'BYTES'];

const SIGNATURES: Signature[] = [
  EXAMPLE,
  {
    inputs: [spec('ids', 'INT64', ['batch', 3]), spec('mask', 'BOOL', ['batch']), spec('text', 'BYTES', ['batch', null]), spec('img', 'UINT8', ['batch', 2, 'side', 'side'])],
    outputs: [spec('out', 'FP32', ['batch'])],
  },
  {
    inputs: [spec('a', 'INT8', [2, 'n']), spec('b', 'UINT64', ['n']), spec('c', 'FP64', null), spec('d', 'INT16', []), spec('e', 'UINT32', [null, 1]), spec('f', 'INT32', ['m']), spec('g', 'UINT16', [1])],
    outputs: [spec('y', 'INT64', [2]), spec('z', 'BOOL', null)],
  },
];

interface Generated {
  body: { id?: string; inputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[]; outputs?: { name: string }[] };
  /** What each input must decode to. */
  expected: Record<string, { shape: number[]; values: unknown[] }>;
}

function randomElement(g: Gen, dt: TensorDatatype): { json: unknown; value: unknown } {
  switch (dt) {
    case 'BOOL': { const b = g.chance(0.5); return { json: b, value: b ? 1 : 0 }; }
    case 'BYTES': { const s = g.chance(0.05) ? 'y'.repeat(5000) : g.string(); return { json: s, value: s }; }
    case 'FP32': { const v = g.pick([0, -0, 3.4028234663852886e38, -1e-40, g.float() * 200 - 100]); return { json: v, value: Math.fround(v) }; }
    case 'FP64': { const v = g.pick([0, -0, 1.7976931348623157e308, 5e-324, g.float() * 2e6 - 1e6]); return { json: v, value: v }; }
    case 'INT64': {
      const big = g.pick([-(2n ** 63n), 2n ** 63n - 1n, BigInt(g.int(-1e9, 1e9)), 2n ** 53n + 1n, -9007199254740991n]);
      const safe = big >= -9007199254740991n && big <= 9007199254740991n;
      return { json: safe && g.chance(0.7) ? Number(big) : big.toString(), value: big };
    }
    case 'UINT64': {
      const big = g.pick([0n, 2n ** 64n - 1n, BigInt(g.int(0, 1e9)), 9007199254740991n]);
      const safe = big <= 9007199254740991n;
      return { json: safe && g.chance(0.7) ? Number(big) : big.toString(), value: big };
    }
    default: {
      const ranges: Record<string, [number, number]> = {
        INT8: [-128, 127], INT16: [-32768, 32767], INT32: [-2147483648, 2147483647], UINT8: [0, 255], UINT16: [0, 65535], UINT32: [0, 4294967295],
      };
      const [lo, hi] = ranges[dt]!;
      const v = g.pick([lo, hi, 0, g.int(lo, hi)]);
      return { json: v, value: v };
    }
  }
}

function nestAs(flat: unknown[], shape: number[]): unknown[] {
  if (shape.length <= 1) return flat;
  const [first, ...rest] = shape as [number, ...number[]];
  const per = flat.length / first;
  return Array.from({ length: first }, (_, i) => nestAs(flat.slice(i * per, (i + 1) * per), rest));
}

/** A valid request for `sig`. With `nonEmpty`, every dimension is at least 1 (so changing one always changes the count). */
function validRequest(g: Gen, sig: Signature, nonEmpty: boolean): Generated {
  const sizes = new Map<string, number>();
  const min = nonEmpty ? 1 : 0;
  const sizeOf = (d: Dim): number => {
    if (typeof d === 'number') return d;
    if (typeof d === 'string') {
      if (!sizes.has(d)) sizes.set(d, g.int(min, 4));
      return sizes.get(d)!;
    }
    return g.int(min, 3);
  };
  const inputs: Generated['body']['inputs'] = [];
  const expected: Generated['expected'] = {};
  for (const s of sig.inputs) {
    const shape = s.shape === null ? Array.from({ length: g.int(0, 3) }, () => g.int(min, 3)) : s.shape.map(sizeOf);
    const count = shape.reduce((a, b) => a * b, 1);
    const json: unknown[] = [];
    const values: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const e = randomElement(g, s.datatype!);
      json.push(e.json);
      values.push(e.value);
    }
    const nested = shape.length >= 2 && count > 0 && g.chance(0.5);
    inputs.push({ name: s.name, shape, datatype: s.datatype!, data: nested ? nestAs(json, shape) : json });
    expected[s.name] = { shape, values };
  }
  // Any order of inputs is valid.
  for (let i = inputs.length - 1; i > 0; i--) {
    const j = g.int(0, i);
    [inputs[i], inputs[j]] = [inputs[j]!, inputs[i]!];
  }
  const body: Generated['body'] = { inputs };
  if (g.chance(0.3)) body.id = g.string();
  if (g.chance(0.3) && sig.outputs.length > 0) body.outputs = [{ name: g.pick(sig.outputs).name }];
  return { body, expected };
}

// ---- Mutations that make a valid request invalid ---------------------------------------------------

type Mutation = (g: Gen, body: Record<string, unknown>, sig: Signature) => unknown;

const inputsOf = (body: Record<string, unknown>): Record<string, unknown>[] => body.inputs as Record<string, unknown>[];
const anyInput = (g: Gen, body: Record<string, unknown>): Record<string, unknown> => g.pick(inputsOf(body));
const specOf = (sig: Signature, name: unknown) => sig.inputs.find((s) => s.name === name)!;

/** Values that no element of `dt` may hold. */
function badElement(g: Gen, dt: string): unknown {
  // Arrays only as [] or DEEP: a short array could complete a nesting when every dimension is 1.
  const common: unknown[] = [null, undefined, {}, [], DEEP, NaN, Infinity, -Infinity, Symbol('x'), 1n];
  const numeric: unknown[] = [...common, true, false, '1', '1e400', '-0', 'NaN', '', 'x'.repeat(100_000)];
  const intOnly: unknown[] = [0.5, -1.5, 1e-300];
  switch (dt) {
    case 'BOOL': return g.pick([...common, 0, 1, 'true', 'false', -0, 'x'.repeat(100_000)]);
    case 'BYTES': return g.pick([...common, 0, -0, true, 2 ** 31]);
    case 'FP32': return g.pick([...numeric, 1e39, -1e39, 3.5e38, Number.MAX_VALUE]);
    case 'FP64': return g.pick(numeric);
    case 'INT8': return g.pick([...numeric, ...intOnly, 128, -129, 1e10]);
    case 'INT16': return g.pick([...numeric, ...intOnly, 32768, -32769]);
    case 'INT32': return g.pick([...numeric, ...intOnly, 2 ** 31, -(2 ** 31) - 1]);
    case 'UINT8': return g.pick([...numeric, ...intOnly, -1, 256]);
    case 'UINT16': return g.pick([...numeric, ...intOnly, -1, 65536]);
    case 'UINT32': return g.pick([...numeric, ...intOnly, -1, 2 ** 32]);
    case 'INT64': return g.pick([...common, true, 0.5, 2 ** 53, -(2 ** 63), 1e30, '9223372036854775808', '-9223372036854775809', '1e3', '+1', '01', ' 1', '1'.repeat(50)]);
    case 'UINT64': return g.pick([...common, true, 0.5, -1, 2 ** 64, '-1', '18446744073709551616', '-0', '1.0', '0x1']);
    default: return Symbol('unreachable');
  }
}

/** Replaces a random element of (possibly nested) data; returns false when the data has none. */
function replaceElement(g: Gen, data: unknown[], value: unknown): boolean {
  let arr = data;
  if (arr.length === 0) return false;
  while (Array.isArray(arr[0])) {
    const next = g.pick(arr) as unknown[];
    if (next.length === 0) return false;
    arr = next;
  }
  arr[g.int(0, arr.length - 1)] = value;
  return true;
}

const MUTATIONS: Record<string, Mutation> = {
  bodyNotObject: (g) => g.pick([null, undefined, 0, 'inputs', true, [], [{}], DEEP, () => 1]),
  bodyRandom: (g) => { const v = randomValue(g); return v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...(v as object), inputs: g.pick([null, 1, 'x', {}, []]) } : v; },
  inputsWrong: (g, b) => ({ ...b, inputs: g.pick([undefined, null, [], {}, 'features', 1, true, { 0: b.inputs, length: 1 }]) }),
  protoBody: (g, b) => JSON.parse(`{"__proto__": ${JSON.stringify({ inputs: [] })}, "constructor": ${g.chance(0.5) ? '{}' : '1'}, "x": ${JSON.stringify(Object.keys(b))}}`),
  inputNotObject: (g, b) => { inputsOf(b)[g.int(0, inputsOf(b).length - 1)] = g.pick([null, 1, 'x', [], DEEP, true]) as never; return b; },
  dropField: (g, b) => { delete anyInput(g, b)[g.pick(['name', 'shape', 'datatype', 'data'])]; return b; },
  fieldWrongType: (g, b) => {
    const input = anyInput(g, b);
    const field = g.pick(['name', 'shape', 'datatype', 'data']);
    const wrong: Record<string, unknown[]> = {
      name: [null, 1, [], {}, true, ['features']],
      shape: [null, 1, 'batch', {}, true, [-1], [1.5], ['1'], [null], [2 ** 53], [NaN], [[1]]],
      datatype: [null, 1, [], {}, true, ['FP32']],
      data: [null, 1, 'data', {}, true, 'AAAA'],
    };
    input[field] = g.pick(wrong[field]!);
    return b;
  },
  binaryExtension: (g, b) => { const i = anyInput(g, b); delete i.data; i.parameters = { binary_data_size: g.int(0, 100) }; return b; },
  unknownInputName: (g, b) => { anyInput(g, b).name = g.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '', ' features', 'x'.repeat(100_000), g.string() + '!']); return b; },
  duplicateInput: (g, b) => { inputsOf(b).push(structuredClone(anyInput(g, b))); return b; },
  dropInput: (g, b) => { inputsOf(b).splice(g.int(0, inputsOf(b).length - 1), 1); return b; },
  wrongDatatype: (g, b, sig) => {
    const input = anyInput(g, b);
    const spec = specOf(sig, input.name);
    input.datatype = g.pick([...ALL_JSON.filter((d) => d !== spec.datatype), 'FP16', 'BF16', 'fp32', 'FLOAT', 'STRING', '', 'x'.repeat(10_000)]);
    return b;
  },
  changeDimension: (g, b) => {
    const input = anyInput(g, b);
    const shape = input.shape as number[];
    if (shape.length === 0) shape.push(2);
    else { const d = g.int(0, shape.length - 1); shape[d] = (shape[d] as number) + g.int(1, 3); }
    return b;
  },
  hugeDimension: (g, b) => { const input = anyInput(g, b); (input.shape as number[]).push(g.pick([2 ** 32, 2 ** 52, 2 ** 40])); return b; },
  addDimension: (g, b) => { const input = anyInput(g, b); (input.shape as number[]).push(g.int(2, 5)); return b; },
  negativeDimension: (g, b) => { const input = anyInput(g, b); (input.shape as number[]).push(g.pick([-1, -0.5, 0.5, 1e-9])); return b; },
  dropElement: (g, b) => {
    const input = inputsOf(b).find((i) => (i.data as unknown[]).length > 0 && !Array.isArray((i.data as unknown[])[0]));
    if (!input) return MUTATIONS.extraElement!(g, b, undefined as never);
    (input.data as unknown[]).splice(g.int(0, (input.data as unknown[]).length - 1), 1);
    return b;
  },
  extraElement: (g, b) => {
    const input = anyInput(g, b);
    (input.data as unknown[]).push((input.data as unknown[]).length > 0 ? structuredClone((input.data as unknown[])[0]) : 1);
    return b;
  },
  badElement: (g, b) => {
    const input = inputsOf(b).find((i) => (i.shape as number[]).every((d) => d > 0));
    if (!input || !replaceElement(g, input.data as unknown[], badElement(g, input.datatype as string))) {
      return { ...b, inputs: [] };
    }
    return b;
  },
  deepenElement: (g, b) => {
    const input = anyInput(g, b);
    // Deeper than any signature's rank (4), so it cannot be mistaken for a valid nesting.
    if (!replaceElement(g, input.data as unknown[], g.chance(0.2) ? DEEP : [[[[[g.int(0, 1)]]]]])) (input.data as unknown[]).push([[1]]);
    return b;
  },
  raggedNesting: (g, b) => {
    const input = inputsOf(b).find((i) => Array.isArray((i.data as unknown[])[0]) && ((i.data as unknown[])[0] as unknown[]).length > 0);
    if (!input) return { ...b, inputs: null };
    const rows = input.data as unknown[][];
    (g.pick(rows) as unknown[]).pop();
    return b;
  },
  deepWrap: (g, b) => { const input = anyInput(g, b); input.data = g.chance(0.5) ? DEEP : [DEEP, ...(input.data as unknown[])]; return b; },
  outputsWrong: (g, b) => ({ ...b, outputs: g.pick(['label', 1, {}, true, [null], ['label'], [{}], [{ name: 1 }], [{ name: 'nope' }], [{ name: '__proto__' }], [{ name: 'constructor' }], [{ name: 'x'.repeat(50_000) }], [{ name: 'label', parameters: [] }]]) }),
  outputsDuplicate: (_g, b, sig) => ({ ...b, outputs: [{ name: sig.outputs[0]!.name }, { name: sig.outputs[0]!.name }] }),
  idWrong: (g, b) => ({ ...b, id: g.pick([1, true, {}, [], ['id'], 0, -0, NaN]) }),
  parametersWrong: (g, b) => {
    const bad = g.pick([[], 'p', 1, true, { a: {} }, { a: [] }, { a: null }, { a: NaN }, JSON.parse('{"__proto__": {"polluted": 1}}'), { constructor: { prototype: { polluted: 1 } } }]);
    if (g.chance(0.5)) return { ...b, parameters: bad };
    anyInput(g, b).parameters = bad;
    return b;
  },
  protoInput: (g, b) => {
    const i = g.int(0, inputsOf(b).length - 1);
    inputsOf(b)[i] = JSON.parse(`{"__proto__": ${JSON.stringify(inputsOf(b)[i])}}`);
    return b;
  },
  batchMismatch: (g, b, sig) => {
    // Signature 1 shares "batch" across all inputs: move one input's batch off the others'.
    if (sig !== SIGNATURES[1]) return { ...b, inputs: {} };
    const input = anyInput(g, b);
    (input.shape as number[])[0] = ((input.shape as number[])[0] as number) + 1;
    return b;
  },
};

/** Codes each mutation may legitimately produce, to catch a right class but wrong code. */
const EXPECTED: Record<string, string[]> = {
  inputsWrong: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  protoBody: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  inputNotObject: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  dropField: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  fieldWrongType: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  binaryExtension: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  unknownInputName: ['MG_ERR_INFER_UNKNOWN_INPUT', 'MG_ERR_INFER_MALFORMED_REQUEST'],
  duplicateInput: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  dropInput: ['MG_ERR_INFER_MISSING_INPUT', 'MG_ERR_INFER_MALFORMED_REQUEST'],
  wrongDatatype: ['MG_ERR_INFER_DATATYPE_MISMATCH', 'MG_ERR_INFER_UNSUPPORTED_DATATYPE'],
  changeDimension: ['MG_ERR_INFER_SHAPE_MISMATCH', 'MG_ERR_INFER_DATA_LENGTH'],
  hugeDimension: ['MG_ERR_INFER_SHAPE_MISMATCH', 'MG_ERR_INFER_DATA_LENGTH'],
  addDimension: ['MG_ERR_INFER_SHAPE_MISMATCH', 'MG_ERR_INFER_DATA_LENGTH'],
  negativeDimension: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  dropElement: ['MG_ERR_INFER_DATA_LENGTH'],
  extraElement: ['MG_ERR_INFER_DATA_LENGTH'],
  badElement: ['MG_ERR_INFER_INVALID_VALUE', 'MG_ERR_INFER_DATA_LENGTH', 'MG_ERR_INFER_MALFORMED_REQUEST'],
  deepenElement: ['MG_ERR_INFER_DATA_LENGTH'],
  raggedNesting: ['MG_ERR_INFER_DATA_LENGTH', 'MG_ERR_INFER_MALFORMED_REQUEST'],
  deepWrap: ['MG_ERR_INFER_DATA_LENGTH'],
  outputsWrong: ['MG_ERR_INFER_MALFORMED_REQUEST', 'MG_ERR_INFER_UNKNOWN_OUTPUT'],
  outputsDuplicate: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  idWrong: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  parametersWrong: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  protoInput: ['MG_ERR_INFER_MALFORMED_REQUEST'],
  batchMismatch: ['MG_ERR_INFER_SHAPE_MISMATCH', 'MG_ERR_INFER_MALFORMED_REQUEST'],
};

function assertInferError(e: unknown, context: string, allowed?: string[]): void {
  assert.ok(e instanceof ModelgateError, `${context}: threw ${e === undefined ? 'nothing' : String(e)}`);
  assert.ok(e.code.startsWith('MG_ERR_INFER_'), `${context}: code ${e.code}`);
  assert.ok(e.status >= 400 && e.status < 500, `${context}: status ${e.status}`);
  if (allowed) assert.ok(allowed.includes(e.code), `${context}: ${e.code} (${e.message}) not in ${allowed.join(', ')}`);
  assert.ok(e.message.length < 1000, `${context}: message of ${e.message.length} characters`);
  assert.ok(JSON.stringify(e.toJSON()).length < 2000, `${context}: error body of ${JSON.stringify(e.toJSON()).length} characters`);
}

function expectedData(dt: TensorDatatype, values: unknown[]): TensorData {
  switch (dt) {
    case 'BYTES': return values as string[];
    case 'INT64': return BigInt64Array.from(values as bigint[]);
    case 'UINT64': return BigUint64Array.from(values as bigint[]);
    case 'FP32': return Float32Array.from(values as number[]);
    case 'FP64': return Float64Array.from(values as number[]);
    case 'INT8': return Int8Array.from(values as number[]);
    case 'INT16': return Int16Array.from(values as number[]);
    case 'INT32': return Int32Array.from(values as number[]);
    case 'UINT16': return Uint16Array.from(values as number[]);
    case 'UINT32': return Uint32Array.from(values as number[]);
    default: return Uint8Array.from(values as number[]);
  }
}

describe('fuzz: V2 decodeInferRequest', () => {
  it('rejects 3,000 malformed requests with a 4xx MG_ERR_INFER_* ModelgateError', () => {
    const g = new Gen(SEED);
    const names = Object.keys(MUTATIONS);
    const seen = new Map<string, number>();
    for (let n = 0; n < 3000; n++) {
      const sig = g.pick(SIGNATURES);
      const { body } = validRequest(g, sig, true);
      const kind = names[n % names.length]!;
      const mutated = MUTATIONS[kind]!(g, body as unknown as Record<string, unknown>, sig);
      let caught: unknown;
      try {
        decodeInferRequest(mutated, sig);
      } catch (e) {
        caught = e;
      }
      assertInferError(caught, `seed ${SEED}, case ${n} (${kind})`, EXPECTED[kind]);
      const code = (caught as ModelgateError).code;
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
    // The mutations reach every request-side error code.
    for (const code of ['MALFORMED_REQUEST', 'UNKNOWN_INPUT', 'MISSING_INPUT', 'DATATYPE_MISMATCH', 'UNSUPPORTED_DATATYPE', 'SHAPE_MISMATCH', 'DATA_LENGTH', 'INVALID_VALUE', 'UNKNOWN_OUTPUT']) {
      assert.ok((seen.get(`MG_ERR_INFER_${code}`) ?? 0) > 0, `no case produced MG_ERR_INFER_${code}`);
    }
  });

  it('rejects 1,000 random JSON values as bodies and as inputs', () => {
    const g = new Gen(SEED + 1);
    for (let n = 0; n < 1000; n++) {
      const sig = g.pick(SIGNATURES);
      const body = n % 2 === 0 ? randomValue(g) : { inputs: Array.from({ length: g.int(1, 3) }, () => randomValue(g)), outputs: g.chance(0.3) ? randomValue(g) : undefined };
      let caught: unknown;
      try {
        decodeInferRequest(body, sig);
      } catch (e) {
        caught = e;
      }
      assertInferError(caught, `seed ${SEED + 1}, case ${n}`);
    }
  });

  it('decodes 1,000 valid requests to exactly the values sent, and encodes them back', () => {
    const g = new Gen(SEED + 2);
    for (let n = 0; n < 1000; n++) {
      const sig = g.pick(SIGNATURES);
      const { body, expected } = validRequest(g, sig, false);
      const context = `seed ${SEED + 2}, case ${n}`;
      const d = decodeInferRequest(body, sig);
      assert.equal(d.id, body.id, context);
      assert.deepEqual(d.outputs, body.outputs?.map((o) => o.name), context);
      assert.deepEqual(Object.keys(d.inputs), sig.inputs.map((s) => s.name), context);
      for (const s of sig.inputs) {
        const t = d.inputs[s.name]!;
        assert.equal(t.datatype, s.datatype, context);
        assert.deepEqual(t.shape, expected[s.name]!.shape, context);
        assert.deepEqual(t.data, expectedData(s.datatype!, expected[s.name]!.values), `${context}: ${s.name}`);
      }
      const first = sig.inputs.every((s) => s.shape !== null && s.shape.length > 0 && typeof s.shape[0] !== 'number');
      const sizes = new Set(sig.inputs.map((s) => expected[s.name]!.shape[0]));
      assert.equal(d.batchSize, first && sizes.size === 1 ? [...sizes][0] : undefined, context);
      // Decoded from the response object itself: JSON text would turn -0 into 0.
      const res = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'x', outputs: d.inputs });
      assert.doesNotThrow(() => JSON.stringify(res), context);
      assert.deepEqual(decodeInferRequest({ inputs: res.outputs }, sig).inputs, d.inputs, `${context}: round trip`);
    }
  });
});

describe('fuzz: V1 decodeV1Instances', () => {
  it('rejects 1,000 malformed V1 bodies with a 4xx MG_ERR_INFER_* ModelgateError', () => {
    const g = new Gen(SEED + 3);
    const F = EXAMPLE_FEATURES;
    for (let n = 0; n < 1000; n++) {
      const rows: unknown[] = Array.from({ length: g.int(1, 4) }, () =>
        g.chance(0.5) ? F.map(() => g.float()) : Object.fromEntries(F.map((f) => [f, g.float()])));
      const r = g.int(0, rows.length - 1);
      let body: unknown = { instances: rows };
      switch (n % 8) {
        case 0: body = randomValue(g); if (body !== null && typeof body === 'object' && !Array.isArray(body)) (body as Record<string, unknown>).instances = g.pick([null, [], {}, 'x']); break;
        case 1: rows[r] = g.pick([null, 1, 'row', true, DEEP]); break;
        case 2: if (Array.isArray(rows[r])) (rows[r] as unknown[]).pop(); else delete (rows[r] as Record<string, unknown>)[g.pick(F)]; break;
        case 3: if (Array.isArray(rows[r])) (rows[r] as unknown[]).push(1); else (rows[r] as Record<string, unknown>)[g.pick(['__proto__x', 'month', 'constructor', 'x'.repeat(10_000)])] = 1; break;
        case 4: if (Array.isArray(rows[r])) (rows[r] as unknown[])[g.int(0, 3)] = badElement(g, 'FP32'); else (rows[r] as Record<string, unknown>)[g.pick(F)] = badElement(g, 'FP32'); break;
        case 5: rows[r] = JSON.parse(`{"__proto__": ${JSON.stringify(Object.fromEntries(F.map((f) => [f, 1])))}}`); break;
        case 6: rows[r] = DEEP; break;
        default: body = { instances: { length: 1, 0: rows[0] } };
      }
      let caught: unknown;
      try {
        decodeV1Instances(body, F, EXAMPLE);
      } catch (e) {
        caught = e;
      }
      assertInferError(caught, `seed ${SEED + 3}, case ${n}`);
    }
  });

  it('decodes 500 valid V1 bodies to the rows sent', () => {
    const g = new Gen(SEED + 4);
    const sig: Signature = { inputs: [spec('x', 'INT64', ['batch', 3])], outputs: [] };
    const F = ['a', 'b', 'c'];
    for (let n = 0; n < 500; n++) {
      const values: bigint[] = [];
      const instances = Array.from({ length: g.int(1, 6) }, () => {
        const els = F.map(() => randomElement(g, 'INT64'));
        for (const e of els) values.push(e.value as bigint);
        return g.chance(0.5) ? els.map((e) => e.json) : Object.fromEntries(F.map((f, i) => [f, els[i]!.json]).reverse());
      });
      const { inputs, rows } = decodeV1Instances({ instances }, F, sig);
      assert.equal(rows, instances.length);
      assert.deepEqual(inputs.x!.shape, [rows, 3]);
      assert.deepEqual(inputs.x!.data, BigInt64Array.from(values), `seed ${SEED + 4}, case ${n}`);
    }
  });
});
