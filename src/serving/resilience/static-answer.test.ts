import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { encodeInferResponse } from '../protocol/v2.js';
import { encodeV1Response } from '../protocol/v1.js';
import { staticAnswer, type StaticStep } from './static-answer.js';

const WEATHER: StaticStep = {
  kind: 'static',
  outputs: [
    { name: 'label', datatype: 'INT64', data: [0] },
    { name: 'probabilities', datatype: 'FP32', data: [0.5, 0.5] },
  ],
};

/** The ModelgateError `fn` throws, checked for the deployment code. */
function invalid(fn: () => unknown): ModelgateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ModelgateError, String(e));
    assert.equal(e.code, 'MG_ERR_DEPLOYMENT_INVALID');
    return e;
  }
  assert.fail('expected MG_ERR_DEPLOYMENT_INVALID');
}

describe('staticAnswer', () => {
  it('repeats the row for every request row, shape [rows, data.length], in the runtime layout', () => {
    const answer = staticAnswer(WEATHER)(3);
    assert.deepEqual(Object.keys(answer), ['label', 'probabilities']);
    assert.deepEqual(answer.label, { datatype: 'INT64', shape: [3, 1], data: new BigInt64Array([0n, 0n, 0n]) });
    assert.deepEqual(answer.probabilities, { datatype: 'FP32', shape: [3, 2], data: new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) });
  });

  it('holds every datatype as the runtime does: typed arrays, Uint8Array 0/1 for BOOL, strings for BYTES', () => {
    const answer = staticAnswer({
      kind: 'static',
      outputs: [
        { name: 'f64', datatype: 'FP64', data: [0.1, -2] },
        { name: 'i32', datatype: 'INT32', data: [-7] },
        { name: 'ok', datatype: 'BOOL', data: [true, false] },
        { name: 'text', datatype: 'BYTES', data: ['unknown', 'n/a'] },
      ],
    })(2);
    assert.deepEqual(answer.f64!.data, new Float64Array([0.1, -2, 0.1, -2]));
    assert.deepEqual(answer.i32!.data, new Int32Array([-7, -7]));
    assert.deepEqual(answer.ok!.data, new Uint8Array([1, 0, 1, 0]));
    assert.deepEqual(answer.text!.data, ['unknown', 'n/a', 'unknown', 'n/a']);
    assert.deepEqual(answer.text!.shape, [2, 2]);
  });

  it('encodes through the V2 and V1 encoders like a model answer', () => {
    const answer = staticAnswer({
      kind: 'static',
      outputs: [
        { name: 'label', datatype: 'BYTES', data: ['sun'] },
        { name: 'probabilities', datatype: 'FP32', data: [0.25, 0.75] },
        { name: 'ok', datatype: 'BOOL', data: [false] },
      ],
    });
    const v2 = encodeInferResponse({ modelName: 'weather', modelVersion: 'fallback', id: 'r1', outputs: answer(2) });
    assert.deepEqual(JSON.parse(JSON.stringify(v2)), {
      model_name: 'weather',
      model_version: 'fallback',
      id: 'r1',
      outputs: [
        { name: 'label', shape: [2, 1], datatype: 'BYTES', data: ['sun', 'sun'] },
        { name: 'probabilities', shape: [2, 2], datatype: 'FP32', data: [0.25, 0.75, 0.25, 0.75] },
        { name: 'ok', shape: [2, 1], datatype: 'BOOL', data: [false, false] },
      ],
    });
    assert.deepEqual(encodeV1Response(answer(2), 2), {
      predictions: [
        { label: 'sun', probabilities: [0.25, 0.75], ok: false },
        { label: 'sun', probabilities: [0.25, 0.75], ok: false },
      ],
    });
    const single = staticAnswer({ kind: 'static', outputs: [{ name: 'label', datatype: 'INT64', data: [3] }] });
    assert.deepEqual(encodeV1Response(single(2), 2), { predictions: [3, 3] });
  });

  it('returns fresh tensors on every call, so a caller that keeps one cannot change the next', () => {
    const answer = staticAnswer(WEATHER);
    const a = answer(1);
    (a.probabilities!.data as Float32Array)[0] = 9;
    assert.equal((answer(1).probabilities!.data as Float32Array)[0], 0.5);
    assert.notEqual(answer(1).label, answer(1).label);
  });

  it('answers zero rows with empty tensors, and refuses a row count that is not one', () => {
    const answer = staticAnswer(WEATHER);
    assert.deepEqual(answer(0).probabilities, { datatype: 'FP32', shape: [0, 2], data: new Float32Array(0) });
    assert.throws(() => answer(-1), /rows must be a non-negative integer, got -1/);
    assert.throws(() => answer(1.5), RangeError);
  });

  it('keeps an output named "__proto__" as an output', () => {
    const answer = staticAnswer({ kind: 'static', outputs: [{ name: '__proto__', datatype: 'INT32', data: [1] }] })(1);
    assert.deepEqual(Object.keys(answer), ['__proto__']);
    assert.equal(Object.getPrototypeOf(answer), Object.prototype);
  });

  it('names the field of a value that does not fit its datatype', () => {
    const step = (datatype: string, data: unknown[]) => ({ kind: 'static', outputs: [{ name: 'ok', datatype: 'INT32', data: [1] }, { name: 'out', datatype, data }] }) as unknown as StaticStep;
    const cases: [string, unknown[], RegExp][] = [
      ['FP32', [1, 'x'], /^spec\.resilience\.fallback\[2\]\.outputs\[1\]\.data\[1\]: "x" does not fit output "out" \(FP32\): an FP32 value must be a finite number\.$/],
      ['FP32', [1e39], /data\[0\]: 1e\+39 does not fit output "out" \(FP32\).*beyond the FP32 range/],
      ['FP64', [true], /data\[0\]: true does not fit output "out" \(FP64\)/],
      ['INT32', [1.5], /data\[0\]: 1\.5 does not fit output "out" \(INT32\).*an integer from -2147483648 to 2147483647/],
      ['INT32', [2 ** 31], /data\[0\]: 2147483648 does not fit output "out" \(INT32\)/],
      ['INT64', [2 ** 53], /data\[0\]: 9007199254740992 does not fit output "out" \(INT64\)/],
      ['INT64', ['5'], /data\[0\]: "5" does not fit output "out" \(INT64\)/],
      ['BYTES', ['a', 3], /data\[1\]: 3 does not fit output "out" \(BYTES\).*must be a string/],
      ['BOOL', [0], /data\[0\]: 0 does not fit output "out" \(BOOL\).*true or false/],
    ];
    for (const [datatype, data, message] of cases) {
      const e = invalid(() => staticAnswer(step(datatype, data), 'spec.resilience.fallback[2]'));
      assert.match(e.message, message);
      assert.match(String(e.details?.field), /^spec\.resilience\.fallback\[2\]\.outputs\[1\]\.data\[\d\]$/);
    }
  });

  it('names the field of a malformed output: datatype, empty data, a name given twice, no outputs', () => {
    const bad = (outputs: unknown) => invalid(() => staticAnswer({ kind: 'static', outputs } as unknown as StaticStep)).message;
    assert.match(bad([{ name: 'x', datatype: 'FP16', data: [1] }]), /^static fallback\.outputs\[0\]\.datatype: "FP16" is not one of FP32, FP64, INT32, INT64, BYTES, BOOL\.$/);
    assert.match(bad([{ name: 'x', datatype: 'FP32', data: [] }]), /outputs\[0\]\.data: give one row of values/);
    assert.match(bad([{ name: 'x', datatype: 'FP32', data: [1] }, { name: 'x', datatype: 'FP32', data: [2] }]), /outputs\[1\]\.name: output "x" is given twice/);
    assert.match(bad([{ name: '', datatype: 'FP32', data: [1] }]), /outputs\[0\]\.name: an output needs a non-empty name/);
    assert.match(bad([null]), /outputs\[0\]: an output is an object/);
    assert.match(bad([]), /^static fallback\.outputs: a static step needs at least one output/);
  });
});
