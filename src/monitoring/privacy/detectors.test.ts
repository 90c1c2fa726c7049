// Checks the detectors' boundaries one shape at a time (what each takes, what it leaves, who wins an overlap) and
// that adversarial 100 kB strings finish: the patterns are meant to be linear, so these would hang otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETECTOR_NAMES, scrubText, selectDetectors, type DetectorName } from './detectors.js';

function scrub(text: string, names: readonly DetectorName[] = DETECTOR_NAMES): string {
  const hits = Object.fromEntries(DETECTOR_NAMES.map((n) => [n, 0])) as Record<DetectorName, number>;
  return scrubText(text, selectDetectors(names), hits);
}

test('email: needs a dotted domain with a letter TLD; the whole local part goes', () => {
  assert.equal(scrub('x a.b-c+d@mx.example.travel y'), 'x <EMAIL> y');
  assert.equal(scrub('user@localhost'), 'user@localhost');
  assert.equal(scrub('user@10.0.0.1'), 'user@<IP>');
  assert.equal(scrub('@example.com'), '@example.com');
  assert.equal(scrub(`${'a'.repeat(100)}@example.com`), '<EMAIL>');
});

test('credit card: Luhn and a payment-network prefix are required; a trailing group is left out', () => {
  assert.equal(scrub('4111111111111111'), '<CREDIT_CARD>');
  assert.equal(scrub('4111111111111112'), '4111111111111112');
  assert.equal(scrub('4111 1111 1111 1111 2024'), '<CREDIT_CARD> 2024');
  assert.equal(scrub('2024 4111 1111 1111 1111'), '2024 <CREDIT_CARD>');
  assert.equal(scrub('4111-1111 1111-1111'), '4111-1111 1111-1111', 'mixed separators');
  assert.equal(scrub('41111111111111110'), '41111111111111110', '17 digits that are not a card are not trimmed to one');
  assert.equal(scrub('1393632002000'), '1393632002000', 'Luhn-valid epoch ms');
  assert.equal(scrub('20140301103008'), '20140301103008', 'Luhn-valid compact timestamp');
  assert.equal(scrub('2200000000000004'), '<CREDIT_CARD>', 'Mir');
  assert.equal(scrub('0.4111111111111111'), '0.4111111111111111');
  assert.equal(scrub('4111111111111111.'), '<CREDIT_CARD>.');
});

test('IBAN: checksum and country length decide, with or without spaces, lower case too', () => {
  assert.equal(scrub('de89 3704 0044 0532 0130 00'), '<IBAN>');
  assert.equal(scrub('DE89370400440532013000X'), 'DE89370400440532013000X');
  assert.equal(scrub('DE8937040044053201300012'), 'DE8937040044053201300012', 'longer than the country allows');
  assert.equal(scrub('XX89370400440532013000'), 'XX89370400440532013000', 'unknown country');
  assert.equal(scrub('BE68 5390 0754 7034 fromage'), '<IBAN> fromage');
  assert.equal(scrub('DE89 3704 0044 0532 0130 00', ['credit_card', 'iban']), '<IBAN>', 'IBAN wins over the card inside it');
});

test('SSN: SSA rules on area, group and serial; no bare nine digits; not inside a longer dashed number', () => {
  assert.equal(scrub('123-45-6789'), '<SSN>');
  for (const s of ['666-45-6789', '000-45-6789', '912-45-6789', '123-00-6789', '123-45-0000', '123456789', '123 45 6789']) {
    assert.equal(scrub(s), s);
  }
  assert.equal(scrub('1-123-45-6789'), '1-123-45-6789');
  assert.equal(scrub('123-45-6789-1'), '123-45-6789-1');
});

test('IP: valid octets only, not inside longer dotted runs; IPv6 forms checked by the parser', () => {
  assert.equal(scrub('0.0.0.0 and 255.255.255.255'), '<IP> and <IP>');
  for (const s of ['256.1.1.1', '1.2.3.4.5', 'v1.2.3.4', '1.2.3', '01.02.03.04', '10:30', '1:2:3:4:5:6:7:8:9', 'a::b', 'std::map']) {
    assert.equal(scrub(s), s);
  }
  assert.equal(scrub('cafe::beef 42 a::b'), 'cafe::beef 42 a::b', 'IPv6 without a digit');
  assert.equal(scrub('::1'), '<IP>');
  assert.equal(scrub('1:2:3:4:5:6:7:8'), '<IP>');
  assert.equal(scrub('fe80::1%eth0'), '<IP>%eth0');
  assert.equal(scrub('10.0.0.1-10.0.0.9'), '<IP>-<IP>');
  assert.equal(scrub('2014-03-01T10:30:00Z'), '2014-03-01T10:30:00Z');
});

test('phone: needs a leading + or North American separators; loses to IBAN, card and SSN', () => {
  assert.equal(scrub('+44 (0)20 7946 0958'), '<PHONE>');
  assert.equal(scrub('+44 20 7946 0958 1234 5678'), '<PHONE> 1234 5678', 'digits past 15 are not part of it');
  assert.equal(scrub('+1234567'), '+1234567', 'seven digits');
  assert.equal(scrub('+1234567890123456'), '+1234567890123456', 'sixteen digits');
  assert.equal(scrub('+1234.5678'), '+1234.5678', 'signed decimal');
  assert.equal(scrub('+1234 (5678) 9012345678'), '+1234 (5678) 9012345678', 'never cut inside parentheses');
  assert.equal(scrub('5551234567'), '5551234567');
  assert.equal(scrub('555 123 4567'), '555 123 4567');
  assert.equal(scrub('555-123.4567'), '555-123.4567');
  assert.equal(scrub('2+12345678'), '2+12345678');
  assert.equal(scrub('+4111 1111 1111 1111'), '+<CREDIT_CARD>');
  assert.equal(scrub('+123-45-6789'), '+<SSN>');
});

test('replacements are counted per detector', () => {
  const hits = Object.fromEntries(DETECTOR_NAMES.map((n) => [n, 0])) as Record<DetectorName, number>;
  scrubText('a@example.com 10.0.0.1 10.0.0.2 +44 20 7946 0958', selectDetectors(DETECTOR_NAMES), hits);
  assert.deepEqual(hits, { email: 1, iban: 0, credit_card: 0, ssn: 0, ip: 2, phone: 1 });
});

test('adversarial 100 kB strings complete (the patterns are linear)', () => {
  const n = 100_000;
  const fill = (unit: string) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
  let seed = 7;
  const random = Array.from({ length: n }, () => {
    seed = (seed * 48271) % 2147483647;
    return '0123456789 .-:@+()aAfFx'[seed % 23];
  }).join('');
  const inputs = [
    fill('a'),
    fill('a') + '@',
    'a@' + fill('a.'),
    fill('a@a.'),
    fill('a.') + '@' + fill('b-'),
    fill('1'),
    fill('1 '),
    fill('1-'),
    fill('4111 '),
    fill('4111-1111-'),
    fill('1.'),
    fill('255.'),
    fill(':'),
    fill('1:'),
    fill('ffff:'),
    fill('::1.'),
    fill('+1 '),
    fill('+1'),
    '+' + fill('1 '),
    '+1' + fill(' (1)1'),
    fill('(555) '),
    fill('555-'),
    fill('GB82 '),
    fill('AB12'),
    'GB82' + fill(' WEST'),
    fill('123-45-'),
    random,
  ];
  for (const input of inputs) {
    const out = scrub(input);
    assert.equal(typeof out, 'string');
  }
});
