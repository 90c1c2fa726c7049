import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestView, routingKey } from './request-view.js';

const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];

const v2Body = (data: unknown, shape: unknown = [1, 4], extra: Record<string, unknown> = {}): unknown =>
  ({ inputs: [{ name: 'features', datatype: 'FP32', shape, data }], ...extra });

test('header reads lower-case names, folds a caller\'s upper-case name, and joins repeated headers', () => {
  const v = requestView({ 'x-user-id': 'u-1', 'x-multi': ['a', 'b'], 'x-one': ['only'], 'x-none': [], 'x-undef': undefined }, {}, 'v2', null);
  assert.equal(v.header('x-user-id'), 'u-1');
  assert.equal(v.header('X-User-Id'), 'u-1');
  assert.equal(v.header('x-multi'), 'a, b');
  assert.equal(v.header('x-one'), 'only');
  assert.equal(v.header('x-none'), undefined);
  assert.equal(v.header('x-undef'), undefined);
  assert.equal(v.header('x-missing'), undefined);
  // A plain headers object must not expose Object.prototype.
  assert.equal(v.header('constructor'), undefined);
});

test('V2 parameter reads request-level parameters only, and only own properties', () => {
  const body = { parameters: { tenant: 'acme', priority: 2, nested: { a: 1 } }, inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1], parameters: { tenant: 'other' } }] };
  const v = requestView({}, body, 'v2', null);
  assert.equal(v.parameter('tenant'), 'acme');
  assert.equal(v.parameter('priority'), 2);
  assert.deepEqual(v.parameter('nested'), { a: 1 });
  assert.equal(v.parameter('missing'), undefined);
  assert.equal(v.parameter('toString'), undefined);
  assert.equal(requestView({}, { inputs: [] }, 'v2', null).parameter('tenant'), undefined);
  assert.equal(requestView({}, { parameters: 'x' }, 'v2', null).parameter('tenant'), undefined);
  // KServe V1 has no request parameters.
  assert.equal(requestView({}, { parameters: { tenant: 'acme' }, instances: [] }, 'v1', null).parameter('tenant'), undefined);
});

test('V2 input is the first element of the named tensor, flat or nested', () => {
  const body = {
    inputs: [
      { name: 'user_id', datatype: 'BYTES', shape: [2], data: ['u-7', 'u-8'] },
      { name: 'amount', datatype: 'FP32', shape: [2, 1], data: [[12.5], [3]] },
      { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
      { name: 'deep', datatype: 'INT64', shape: [1, 1, 2], data: [[[9, 8]]] },
      { name: 'empty', datatype: 'FP32', shape: [0], data: [] },
    ],
  };
  const v = requestView({}, body, 'v2', null);
  assert.equal(v.input('user_id'), 'u-7');
  assert.equal(v.input('amount'), 12.5);
  assert.equal(v.input('flag'), true);
  assert.equal(v.input('deep'), 9);
  assert.equal(v.input('empty'), undefined);
  assert.equal(v.input('missing'), undefined);
});

test('V2 input falls back to a feature column of a single 2-D tensor, flat or nested', () => {
  const flat = requestView({}, v2Body([0.5, 21, 12, 3.5, 0, 19, 10, 2], [2, 4]), 'v2', FEATURES);
  assert.equal(flat.input('precipitation'), 0.5);
  assert.equal(flat.input('temp_min'), 12);
  assert.equal(flat.input('wind'), 3.5);
  assert.equal(flat.input('humidity'), undefined);
  // The tensor's own name still reads its first element.
  assert.equal(flat.input('features'), 0.5);
  const nested = requestView({}, v2Body([[0.5, 21, 12, 3.5], [0, 19, 10, 2]], [2, 4]), 'v2', FEATURES);
  assert.equal(nested.input('temp_max'), 21);
  // Without features, or with more than one input tensor, a feature name means nothing.
  assert.equal(requestView({}, v2Body([0.5, 21, 12, 3.5]), 'v2', null).input('temp_max'), undefined);
  const two = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }, { name: 'other', datatype: 'FP32', shape: [1], data: [0] }] };
  assert.equal(requestView({}, two, 'v2', FEATURES).input('temp_max'), undefined);
  // Flat data whose rows are not the features cannot be indexed by column.
  assert.equal(requestView({}, v2Body([1, 2, 3, 4, 5, 6], [2, 3]), 'v2', FEATURES).input('temp_max'), undefined);
  assert.equal(requestView({}, v2Body([1, 2, 3, 4]), 'v2', FEATURES).input('temp_max'), 2);
});

test('V1 input reads the first instance by key or by feature column', () => {
  const objects = requestView({}, { instances: [{ precipitation: 0, temp_max: 25.5, temp_min: 14, wind: 2.1 }, { temp_max: 1 }] }, 'v1', FEATURES);
  assert.equal(objects.input('temp_max'), 25.5);
  assert.equal(objects.input('missing'), undefined);
  assert.equal(objects.input('constructor'), undefined);
  const arrays = requestView({}, { instances: [[0, 25.5, 14, 2.1]] }, 'v1', FEATURES);
  assert.equal(arrays.input('wind'), 2.1);
  assert.equal(arrays.input('humidity'), undefined);
  assert.equal(requestView({}, { instances: [[0, 25.5, 14, 2.1]] }, 'v1', null).input('wind'), undefined);
  // Object rows do not need the feature order.
  assert.equal(requestView({}, { instances: [{ store: 'S-1' }] }, 'v1', null).input('store'), 'S-1');
});

test('a malformed body reads as absent values and never throws', () => {
  const bodies: unknown[] = [
    undefined, null, 42, 'text', [], [1, 2], {},
    { inputs: 'x' }, { inputs: [null, 3, 'a'] }, { inputs: [{ name: 'features' }] }, { inputs: [{ name: 'features', data: 'x' }] },
    { inputs: [{ name: 'features', data: [{ a: 1 }] }] }, { inputs: [{ name: 'features', data: [null] }] },
    { inputs: [{ name: 'features', shape: [1, 4], data: [[null, [1], {}, 'x']] }] },
    { inputs: [{ name: 'features', shape: 'x', data: [1, 2, 3, 4] }] },
    { instances: 'x' }, { instances: [] }, { instances: [null] }, { instances: [[[1, 2]]] }, { instances: [{ temp_max: [1] }] },
    { parameters: null }, { parameters: [1] },
  ];
  // A body nested deeper than any real tensor.
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  bodies.push({ inputs: [{ name: 'features', data: deep }] });
  for (const [i, body] of bodies.entries()) {
    for (const protocol of ['v1', 'v2'] as const) {
      for (const features of [null, FEATURES]) {
        const v = requestView({}, body, protocol, features);
        for (const name of ['features', 'temp_max', 'precipitation', 'x', '__proto__']) {
          assert.doesNotThrow(() => v.input(name));
          assert.doesNotThrow(() => v.parameter(name));
          const value = v.input(name);
          assert.ok(value === undefined || ['string', 'number', 'boolean'].includes(typeof value), `bodies[${i}] ${protocol} ${name}`);
        }
      }
    }
  }
});

test('routingKey prefers the header, falls back to the input, and stringifies numbers', () => {
  const body = { inputs: [{ name: 'customer_id', datatype: 'INT64', shape: [1], data: [1234] }, { name: 'name', datatype: 'BYTES', shape: [1], data: [''] }] };
  const withHeader = requestView({ 'x-user-id': 'u-9' }, body, 'v2', null);
  const without = requestView({ 'x-user-id': '' }, body, 'v2', null);
  assert.equal(routingKey({ header: 'x-user-id' }, withHeader), 'u-9');
  assert.equal(routingKey({ header: 'X-User-Id', input: 'customer_id' }, withHeader), 'u-9');
  assert.equal(routingKey({ header: 'x-user-id', input: 'customer_id' }, without), '1234');
  assert.equal(routingKey({ input: 'customer_id' }, without), '1234');
  assert.equal(routingKey({ header: 'x-user-id' }, without), undefined);
  assert.equal(routingKey({ input: 'name' }, without), undefined);
  assert.equal(routingKey({ input: 'missing' }, without), undefined);
  assert.equal(routingKey({}, withHeader), undefined);
  assert.equal(routingKey({ input: 'k' }, requestView({}, { instances: [{ k: 1.0 }] }, 'v1', null)), '1');
  assert.equal(routingKey({ input: 'k' }, requestView({}, { instances: [{ k: true }] }, 'v1', null)), undefined);
});
