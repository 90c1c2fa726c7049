import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate, version } from 'uuid';
import { requestId } from './request-id.js';

describe('request ids (UUIDv7)', () => {
  it('are valid version-7 UUIDs of the RFC 9562 variant, carrying the time they were made', () => {
    const before = Date.now();
    const id = requestId();
    const after = Date.now();
    assert.ok(validate(id), id);
    assert.equal(version(id), 7);
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms >= before && ms <= after, `${ms} not in [${before}, ${after}]`);
  });

  it('sort in the order they were made, and are unique, across many pool refills', () => {
    const ids = Array.from({ length: 20_000 }, () => requestId());
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('stay ordered when many fall in one millisecond, and when the clock steps back', () => {
    const t = Date.now() + 10_000;
    const ids = [...Array.from({ length: 5000 }, () => requestId(t)), requestId(t - 5000), requestId(t + 1)];
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    // 4096 per millisecond at most: the timestamp moved on rather than wrap the counter.
    assert.ok(parseInt(ids[4999]!.slice(0, 8) + ids[4999]!.slice(9, 13), 16) > t);
  });
});
