import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fingerprintOf, groupKeyOf, severityRank, silenceActive, silenceMatches, sinksFor } from './routing.js';

const ROUTE = { page: ['pd', 'chat'], ticket: ['jira'], escalate: ['boss'] };

test('the fingerprint is stable, short hex, and differs when source, deployment, version or key does', () => {
  const base = { source: 'drift' as const, deployment: 'weather', version: 2, key: 'temp_max' };
  const fp = fingerprintOf(base);
  assert.match(fp, /^[0-9a-f]{20}$/);
  assert.equal(fingerprintOf({ ...base }), fp);
  const others = [
    fingerprintOf({ ...base, source: 'latency' }),
    fingerprintOf({ ...base, deployment: 'other' }),
    fingerprintOf({ ...base, version: 3 }),
    fingerprintOf({ ...base, version: null }),
    fingerprintOf({ ...base, deployment: null }),
    fingerprintOf({ ...base, key: 'wind' }),
    fingerprintOf({ source: 'drift', deployment: 'weather', version: 2 }),
  ];
  assert.equal(new Set([fp, ...others]).size, others.length + 1);
  assert.equal(fingerprintOf({ source: 'drift', deployment: 'weather', version: 2 }), fingerprintOf({ source: 'drift', deployment: 'weather', version: 2, key: '' }), 'no key is the empty key');
  // Separators inside values cannot make two different conditions collide.
  assert.notEqual(fingerprintOf({ source: 'drift', deployment: 'a|b', version: null, key: 'c' }), fingerprintOf({ source: 'drift', deployment: 'a', version: null, key: 'b|c' }));
});

test('the group key is deployment/version with - for what is missing', () => {
  assert.equal(groupKeyOf('weather', 2), 'weather/2');
  assert.equal(groupKeyOf('weather', null), 'weather/-');
  assert.equal(groupKeyOf(null, null), '-/-');
});

test('SEV1 and SEV2 page, SEV3 makes a ticket, SEV4 is only logged; the log sink always gets it once', () => {
  assert.deepEqual(sinksFor(ROUTE, 'trigger', 'SEV1'), ['pd', 'chat', 'log']);
  assert.deepEqual(sinksFor(ROUTE, 'trigger', 'SEV2'), ['pd', 'chat', 'log']);
  assert.deepEqual(sinksFor(ROUTE, 'trigger', 'SEV3'), ['jira', 'log']);
  assert.deepEqual(sinksFor(ROUTE, 'trigger', 'SEV4'), ['log']);
  assert.deepEqual(sinksFor(ROUTE, 'escalate', 'SEV3'), ['boss', 'log']);
  assert.deepEqual(sinksFor({ ...ROUTE, page: ['log', 'pd'] }, 'trigger', 'SEV1'), ['log', 'pd'], 'a route naming log does not log twice');
  assert.deepEqual(sinksFor(undefined, 'trigger', 'SEV1'), ['log'], 'a route missing from the configuration still logs');
});

test('severity rank orders SEV1 as the most severe', () => {
  assert.deepEqual(['SEV3', 'SEV1', 'SEV4', 'SEV2'].map((s) => severityRank(s as 'SEV1')), [3, 1, 4, 2]);
});

test('a silence matches when every matcher it has matches; absent matchers match anything', () => {
  const a = { deployment: 'weather', source: 'drift', severity: 'SEV3' as const };
  assert.equal(silenceMatches({}, a), true);
  assert.equal(silenceMatches({ deployment: 'weather' }, a), true);
  assert.equal(silenceMatches({ deployment: 'weather', source: 'drift', severity: 'SEV3' }, a), true);
  assert.equal(silenceMatches({ deployment: 'other' }, a), false);
  assert.equal(silenceMatches({ deployment: 'weather', source: 'latency' }, a), false);
  assert.equal(silenceMatches({ deployment: 'weather', severity: 'SEV1' }, a), false);
  assert.equal(silenceMatches({ deployment: 'weather' }, { ...a, deployment: null }), false, 'an alert of no deployment is not silenced by a deployment matcher');
  assert.equal(silenceMatches({ severity: 'SEV3' }, { ...a, deployment: null }), true);
});

test('a silence is active from its start (inclusive) to its end (exclusive)', () => {
  const s = { startsAt: '2026-02-01T22:00:00.000Z', endsAt: '2026-02-02T01:00:00.000Z' };
  assert.equal(silenceActive(s, '2026-02-01T21:59:59.999Z'), false, 'scheduled, not yet active');
  assert.equal(silenceActive(s, '2026-02-01T22:00:00.000Z'), true);
  assert.equal(silenceActive(s, '2026-02-02T00:59:59.999Z'), true);
  assert.equal(silenceActive(s, '2026-02-02T01:00:00.000Z'), false);
});
