import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestView, routingKey } from '../rollout/traffic/request-view.js';
import { monitoringOf } from './monitoring-spec.js';
import { subjectReader } from './observe.js';

describe('the subject of a monitored request', () => {
  const spec = monitoringOf({ model: 'm', arms: [{ version: 1, weight: 100, role: 'stable' }], monitoring: { enabled: true } } as never);
  const body = { inputs: [{ name: 'user', datatype: 'BYTES', shape: [1], data: ['from-body'] }] };
  const cases: Record<string, string | string[] | undefined>[] = [{ 'x-user-id': 'u1' }, { 'x-user-id': ['a', 'b'] }, { 'x-user-id': ['only'] }, { 'x-user-id': [] }, { 'x-user-id': '' }, {}];

  it('read from a header straight is what the routing key reads, for every shape of header', () => {
    const read = subjectReader(spec, { header: 'X-User-Id' });
    for (const h of cases) assert.equal(read(h, body, 'v2', null), routingKey({ header: 'x-user-id' }, requestView(h, body, 'v2', null)), JSON.stringify(h));
    assert.equal(read({ 'x-user-id': ['a', 'b'] }, body, 'v2', null), 'a, b');
    assert.equal(read({ 'x-user-id': '' }, body, 'v2', null), undefined);
  });

  it('falls back from the header to the input as the routing key does, and monitoring.subject wins over routing', () => {
    const both = subjectReader(spec, { header: 'x-user-id', input: 'user' });
    assert.equal(both({ 'x-user-id': 'u1' }, body, 'v2', null), 'u1');
    assert.equal(both({}, body, 'v2', null), 'from-body');
    const own = subjectReader({ ...spec, subject: { header: 'x-account' } }, { header: 'x-user-id' });
    assert.equal(own({ 'x-user-id': 'u1', 'x-account': 'acct' }, body, 'v2', null), 'acct');
    assert.equal(subjectReader(spec, undefined)({ 'x-user-id': 'u1' }, body, 'v2', null), undefined);
  });
});
