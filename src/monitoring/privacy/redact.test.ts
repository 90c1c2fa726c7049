// Checks redaction end to end on the shared PII corpus (every value replaced by its own token, standalone and in a
// sentence; look-alikes untouched) and the field rules, hashing, immutability and counters of compileRedactor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { NOT_PII, PII_CORPUS } from '../../testing/pii-corpus.js';
import { isModelgateError } from '../../errors/index.js';
import { DETECTOR_NAMES, DETECTOR_TOKENS, compileRedactor, hashValue, type DetectorName } from './redact.js';

const SALT = 'test-salt';

test('the corpus has at least five samples of every detector, each embedded once in its sentence', () => {
  for (const name of DETECTOR_NAMES) {
    assert.ok(PII_CORPUS.filter((s) => s.kind === name).length >= 5, name);
  }
  for (const sample of PII_CORPUS) {
    assert.equal(sample.embedded.split(sample.value).length, 2, sample.embedded);
  }
});

test('every corpus value is replaced by its own token when it is the whole string', () => {
  const r = compileRedactor({ salt: SALT });
  for (const { kind, value } of PII_CORPUS) {
    assert.equal(r.scrub(value), DETECTOR_TOKENS[kind], `${kind}: ${value}`);
  }
});

test('every corpus value is replaced by its own token inside a sentence, and the rest of the sentence is kept', () => {
  const r = compileRedactor({ salt: SALT });
  for (const { kind, value, embedded } of PII_CORPUS) {
    assert.equal(r.scrub(embedded), embedded.replace(value, DETECTOR_TOKENS[kind]), `${kind}: ${embedded}`);
  }
});

test('no raw value, nor the digits of a separated card or IBAN, survives redaction of a payload', () => {
  const r = compileRedactor({ salt: SALT });
  const payload = { inputs: PII_CORPUS.map((s) => s.embedded), notes: PII_CORPUS.map((s) => s.value).join(' | ') };
  const text = JSON.stringify(r.redact(payload));
  for (const { kind, value } of PII_CORPUS) {
    assert.ok(!text.includes(value), `${kind} survived: ${value}`);
    const compact = value.replace(/[ -]/g, '');
    if (kind === 'credit_card' || kind === 'iban') assert.ok(!text.includes(compact), `${kind} digits survived: ${compact}`);
  }
});

test('values that only look like PII (numbers, dates, versions, invalid checksums) are left unchanged', () => {
  const r = compileRedactor({ salt: SALT });
  for (const value of NOT_PII) {
    assert.equal(r.scrub(value), value);
    assert.equal(r.scrub(`value ${value} end`), `value ${value} end`);
  }
  assert.deepEqual(r.redact({ features: NOT_PII }), { features: NOT_PII });
  assert.deepEqual(r.counts(), Object.fromEntries(DETECTOR_NAMES.map((n) => [n, 0])));
});

test('numbers, booleans and null are never touched by the detectors', () => {
  const r = compileRedactor({ salt: SALT });
  const input = { amount: 4111111111111111, ssn: 123456789, ratio: 12.8, year: 2014, ok: true, missing: null };
  assert.deepEqual(r.redact(input), input);
});

test('arrays of strings, nested arrays and keys are scanned', () => {
  const r = compileRedactor({ salt: SALT });
  const out = r.redact({
    inputs: [['jane.doe@example.com', 'ok'], ['call 555-123-4567', 3.5]],
    'a@example.com': 1,
    'b@example.com': 2,
    plain: 'x',
  });
  assert.deepEqual(out, {
    inputs: [['<EMAIL>', 'ok'], ['call <PHONE>', 3.5]],
    '<EMAIL>': 1,
    '<EMAIL>#2': 2,
    plain: 'x',
  });
});

test('drop removes the field at any depth, matching the key case-insensitively', () => {
  const r = compileRedactor({ salt: SALT, fields: { Email: 'drop' } });
  const out = r.redact({ email: 'a@example.com', user: { EMAIL: 'b@example.com', name: 'Ann' }, list: [{ eMail: 'c' }] });
  assert.deepEqual(out, { user: { name: 'Ann' }, list: [{}] });
});

test('hash is HMAC-SHA256 of the value, 32 hex chars after "h:", stable for a salt and different across salts', () => {
  const expected = 'h:' + createHmac('sha256', SALT).update('user-42').digest('hex').slice(0, 32);
  assert.equal(hashValue(SALT, 'user-42'), expected);
  assert.match(expected, /^h:[0-9a-f]{32}$/);
  const a = compileRedactor({ salt: SALT, fields: { user_id: 'hash' } });
  const b = compileRedactor({ salt: 'another-salt', fields: { user_id: 'hash' } });
  const input = { meta: { USER_ID: 'user-42' } };
  assert.deepEqual(a.redact(input), { meta: { USER_ID: expected } });
  assert.deepEqual(a.redact(input), a.redact(structuredClone(input)));
  assert.notDeepEqual(b.redact(input), a.redact(input));
  assert.notEqual(hashValue('another-salt', 'user-42'), expected);
});

test('hash of a non-string hashes its JSON text; null stays null', () => {
  const r = compileRedactor({ salt: SALT, fields: { id: 'hash', profile: 'hash', gone: 'hash' } });
  const out = r.redact({ id: 42, profile: { email: 'a@example.com' }, gone: null });
  assert.deepEqual(out, {
    id: hashValue(SALT, '42'),
    profile: hashValue(SALT, '{"email":"a@example.com"}'),
    gone: null,
  });
});

test('mask keeps the type shape: stars (last 4 kept past 8 chars), 0, false, null, element-wise containers', () => {
  const r = compileRedactor({ salt: SALT, fields: { card: 'mask', name: 'mask', details: 'mask' } });
  const out = r.redact({
    card: '4111 1111 1111 1111',
    name: 'Ann Lee',
    details: { age: 41, vip: true, note: null, tags: ['abcdefghij', 'xy'], when: new Date('2014-03-01T00:00:00Z') },
    other: 7,
  });
  assert.deepEqual(out, {
    card: '***************1111',
    name: '*******',
    details: { age: 0, vip: false, note: null, tags: ['******ghij', '**'], when: '********************000Z' },
    other: 7,
  });
});

test('keep copies the subtree without detectors, yet nested field rules still apply', () => {
  const r = compileRedactor({ salt: SALT, fields: { contact: 'keep', secret: 'drop' } });
  const out = r.redact({ contact: { email: 'a@example.com', 'b@example.com': 1, secret: 'x' }, email: 'a@example.com' });
  assert.deepEqual(out, { contact: { email: 'a@example.com', 'b@example.com': 1 }, email: '<EMAIL>' });
});

test('a named field is not scanned as a key, and other fields of the same object still are', () => {
  const r = compileRedactor({ salt: SALT, fields: { '555-123-4567': 'keep' } });
  assert.deepEqual(r.redact({ '555-123-4567': 'x', '555-123-4568': 'y' }), { '555-123-4567': 'x', '<PHONE>': 'y' });
});

test('redact never mutates its input', () => {
  const r = compileRedactor({ salt: SALT, fields: { email: 'drop', id: 'hash', name: 'mask' } });
  const input = { email: 'a@example.com', id: 7, name: 'Ann Lee', inputs: [{ text: 'SSN 123-45-6789' }], 'b@example.com': 1 };
  const before = structuredClone(input);
  const out = r.redact(input) as { inputs: { text: string }[] };
  assert.deepEqual(input, before);
  assert.notEqual(out.inputs, input.inputs);
  assert.notEqual(out.inputs[0], input.inputs[0]);
});

test('a "__proto__" key from JSON stays an own property and never becomes the prototype', () => {
  const r = compileRedactor({ salt: SALT });
  const out = r.redact(JSON.parse('{"__proto__": {"polluted": "jane.doe@example.com"}}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: '<EMAIL>' });
  assert.equal((out as { polluted?: unknown }).polluted, undefined);
});

test('detectors can be switched off or chosen, and the chosen ones still run in priority order', () => {
  const none = compileRedactor({ salt: SALT, detectors: false });
  assert.equal(none.scrub('jane.doe@example.com 123-45-6789'), 'jane.doe@example.com 123-45-6789');
  const some = compileRedactor({ salt: SALT, detectors: ['phone', 'email'] });
  assert.equal(some.scrub('jane.doe@example.com 123-45-6789 555-123-4567'), '<EMAIL> 123-45-6789 <PHONE>');
  const both = compileRedactor({ salt: SALT, detectors: ['phone', 'credit_card'] });
  assert.equal(both.scrub('+4111 1111 1111 1111'), '+<CREDIT_CARD>');
});

test('counts tell how many replacements each detector made, across scrub and redact', () => {
  const r = compileRedactor({ salt: SALT });
  r.scrub('a@example.com and b@example.com');
  r.redact({ x: ['123-45-6789', 'from 10.0.0.1'], 'c@example.com': 'DE89370400440532013000' });
  const counts = r.counts();
  const expected: Record<DetectorName, number> = { email: 3, phone: 0, credit_card: 0, iban: 1, ip: 1, ssn: 1 };
  assert.deepEqual(counts, expected);
  counts.email = 99;
  assert.equal(r.counts().email, 3, 'counts() returns a copy');
});

test('a policy with an empty salt, an unknown rule or detector, or clashing spellings is refused', () => {
  const refused = (f: () => unknown) => assert.throws(f, (e: unknown) => isModelgateError(e) && e.code === 'MG_ERR_CONFIG_INVALID');
  refused(() => compileRedactor({ salt: '' }));
  refused(() => hashValue('', 'x'));
  refused(() => compileRedactor({ salt: SALT, fields: { a: 'erase' as never } }));
  refused(() => compileRedactor({ salt: SALT, detectors: ['email', 'passport' as never] }));
  refused(() => compileRedactor({ salt: SALT, fields: { Email: 'drop', email: 'hash' } }));
  assert.doesNotThrow(() => compileRedactor({ salt: SALT, fields: { Email: 'drop', email: 'drop' } }));
});
