// Shared by the protocol tests: signatures and an assertion on ModelgateError codes.
import assert from 'node:assert/strict';
import type { Dim, Signature, TensorDatatype, TensorSpec } from '../../registry/signature.js';
import type { ErrorCode } from '../../errors/codes.js';
import { ModelgateError } from '../../errors/modelgate-error.js';

export function spec(name: string, datatype: TensorDatatype | null, shape: Dim[] | null, kind: TensorSpec['kind'] = 'tensor'): TensorSpec {
  return { name, kind, datatype, shape, onnxType: `tensor(${datatype ?? 'unknown'})` };
}

/** The example weather models' signature (examples/README.md). */
export const EXAMPLE: Signature = {
  inputs: [spec('features', 'FP32', ['batch', 4])],
  outputs: [spec('label', 'INT64', ['batch']), spec('probabilities', 'FP32', ['batch', 2])],
};

export const EXAMPLE_FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];

/** Asserts that fn throws a ModelgateError with `code` (and a message matching `message`, if given). */
export function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp | string): ModelgateError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ModelgateError, `expected a ModelgateError ${code}, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}
