import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

test('parseDuration reads each unit and sums compound spellings', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1d2h3m4s5ms'), 86_400_000 + 7_200_000 + 180_000 + 4000 + 5);
});

test('parseDuration reads "ms" as milliseconds, not minutes followed by seconds', () => {
  assert.equal(parseDuration('1ms'), 1);
  assert.equal(parseDuration('2m1ms'), 120_001);
});

test('parseDuration takes a bare number, as text or as a number, as milliseconds', () => {
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration(1500), 1500);
  assert.equal(parseDuration(0), 0);
});

test('parseDuration accepts decimals and surrounding blanks, rounding to whole milliseconds', () => {
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0.25m'), 15_000);
  assert.equal(parseDuration('  30s '), 30_000);
  assert.equal(parseDuration('0.0004s'), 0);
});

test('parseDuration answers undefined for text that is not a duration', () => {
  for (const bad of ['5x', '', '   ', '1m30', 's', '-5s', '5 s', '1.5', '1h 30m', 'ms', '30S', '1e3ms', '+5s']) {
    assert.equal(parseDuration(bad), undefined, `"${bad}" is not a duration`);
  }
});

test('parseDuration refuses numbers that are negative or not finite', () => {
  assert.equal(parseDuration(-1), undefined);
  assert.equal(parseDuration(Number.NaN), undefined);
  assert.equal(parseDuration(Number.POSITIVE_INFINITY), undefined);
});

test('parseDuration keeps no state between calls (its sticky regex is reset)', () => {
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('5x'), undefined);
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
});

test('formatDuration writes the shortest exact spelling, largest unit first', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(1), '1ms');
  assert.equal(formatDuration(1500), '1s500ms');
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(86_400_000 + 1), '1d1ms');
});

test('formatDuration then parseDuration gives back the same milliseconds', () => {
  const samples = [0, 1, 999, 1000, 1001, 59_999, 60_000, 61_001, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 90_061_001, 7 * 86_400_000 + 123];
  for (let x = 1; x < 1e12; x = Math.floor(x * 3.7) + 11) samples.push(x);
  for (const ms of samples) assert.equal(parseDuration(formatDuration(ms)), ms, `${ms} → "${formatDuration(ms)}"`);
});

test('parseDuration then formatDuration gives the canonical spelling', () => {
  for (const [text, canonical] of [['90s', '1m30s'], ['60m', '1h'], ['1500ms', '1s500ms'], ['48h', '2d'], ['1h30m', '1h30m'], ['0ms', '0s']] as const) {
    assert.equal(formatDuration(parseDuration(text)!), canonical, text);
  }
});

test('formatDuration of a duration that rounds to 0 ms still reads back as a duration', () => {
  assert.equal(formatDuration(0.4), '0s');
  assert.equal(parseDuration(formatDuration(0.4)), 0);
});
