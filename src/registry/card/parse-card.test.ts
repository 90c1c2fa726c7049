import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelgateError } from '../../errors/index.js';
import { parseCard, validateCard } from './parse-card.js';
import { RAIN_CARD_JSON, RAIN_CARD_YAML } from './test-fixtures.js';

/** Runs fn, expects a ModelgateError with that code, and returns it for further checks. */
function expectCardError(fn: () => unknown, code: 'MG_ERR_CARD_UNREADABLE' | 'MG_ERR_CARD_INVALID'): ModelgateError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ModelgateError, `expected a ModelgateError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but nothing was thrown`);
}

function problems(e: ModelgateError): { path: string; message: string }[] {
  return (e.details as { problems: { path: string; message: string }[] }).problems;
}

describe('parseCard', () => {
  it('parses a complete YAML card', () => {
    const card = parseCard(RAIN_CARD_YAML, 'rain.yaml');
    assert.equal(card.schema_version, '0.0.2');
    assert.equal(card.model_details?.name, 'Seattle next-day rain classifier');
    assert.deepEqual(card.model_details?.owners?.[0], { name: 'Forecasting ML team', contact: 'forecasting-ml@example.com' });
    // An unquoted YAML date stays text: the card schema types it as a string.
    assert.equal(card.model_details?.version?.date, '2024-05-02');
    assert.deepEqual(card.model_details?.licenses, [{ identifier: 'Apache-2.0' }]);
    assert.equal(card.model_parameters?.data?.length, 2);
    assert.deepEqual(card.model_parameters?.data?.[0]?.sensitive, { sensitive_data: [] });
    const metrics = card.quantitative_analysis?.performance_metrics ?? [];
    assert.equal(metrics.length, 5);
    assert.deepEqual(metrics[0], { type: 'accuracy', value: 0.81, confidence_interval: { lower_bound: 0.77, upper_bound: 0.85 } });
    assert.deepEqual(metrics[2], { type: 'accuracy', slice: 'winter', value: 0.76 });
    assert.equal(card.considerations?.ethical_considerations?.[0]?.name, 'Over-reliance for safety decisions');
  });

  it('parses a JSON card and fills in schema_version', () => {
    const card = parseCard(RAIN_CARD_JSON, 'rain.json');
    assert.equal(card.schema_version, '0.0.2');
    assert.equal(Object.keys(card)[0], 'schema_version');
    assert.equal(card.model_details?.version?.name, '1.1.0');
    assert.equal(card.quantitative_analysis?.performance_metrics?.[1]?.slice, 'winter');
  });

  it('parses tab-indented JSON, which block YAML would not allow', () => {
    const card = parseCard('{\n\t"model_details": {\n\t\t"name": "x"\n\t}\n}');
    assert.equal(card.model_details?.name, 'x');
  });

  it('accepts an empty mapping and a license given as custom text', () => {
    assert.deepEqual(parseCard('{}'), { schema_version: '0.0.2' });
    const card = parseCard('model_details:\n  licenses:\n    - custom_text: Internal use only.\n');
    assert.deepEqual(card.model_details?.licenses, [{ custom_text: 'Internal use only.' }]);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const text = 'model_details:\n  name: Rain\n owners:\n    - name: x\n';
    const e = expectCardError(() => parseCard(text, 'rain.yaml'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(e.message, /^Model card rain\.yaml is not valid YAML or JSON: line 3, column 1: All mapping items must start at the same column$/);
    assert.equal(e.details?.line, 3);
    assert.equal(e.details?.column, 1);
    assert.equal(e.details?.reason, 'BAD_INDENT');
    assert.equal(e.details?.source, 'rain.yaml');
  });

  it('reports broken JSON with its position', () => {
    const e = expectCardError(() => parseCard('{\n  "model_details": {"name": "x",, }\n}'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(e.message, /line 2, column \d+/);
  });

  it('rejects duplicate keys instead of keeping the last one silently', () => {
    const e = expectCardError(() => parseCard('model_details:\n  name: a\n  name: b\n'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(e.message, /line 3/);
  });

  it('rejects a card that is not a mapping', () => {
    const list = expectCardError(() => parseCard('- model_details: {}\n', 'card.yaml'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(list.message, /card\.yaml must be a mapping .* but it is a list/);
    const scalar = expectCardError(() => parseCard('just some text'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(scalar.message, /but it is string "just some text"/);
    const empty = expectCardError(() => parseCard('# nothing but a comment\n'), 'MG_ERR_CARD_UNREADABLE');
    assert.match(empty.message, /is empty/);
  });

  it('rejects an unknown top-level field and suggests the intended one', () => {
    const e = expectCardError(() => parseCard('model_detials:\n  name: Rain\n', 'rain.yaml'), 'MG_ERR_CARD_INVALID');
    assert.match(e.message, /^Model card rain\.yaml does not follow the Model Card Toolkit schema v0\.0\.2 \(1 problem\): /);
    assert.match(e.message, /model_detials: unknown field; did you mean "model_details"\?/);
    assert.deepEqual(problems(e).map((p) => p.path), ['model_detials']);
  });

  it('rejects an unknown nested field', () => {
    const text = 'model_details:\n  owners:\n    - name: a\n      contcat: a@example.com\n';
    const e = expectCardError(() => parseCard(text), 'MG_ERR_CARD_INVALID');
    assert.match(e.message, /model_details\.owners\[0\]\.contcat: unknown field; did you mean "contact"\?/);
  });

  it('names the path of a wrong type deep inside the card', () => {
    const text = 'model_details:\n  owners:\n    - name: Forecasting ML team\n      contact: 42\n';
    const e = expectCardError(() => parseCard(text), 'MG_ERR_CARD_INVALID');
    assert.match(e.message, /model_details\.owners\[0\]\.contact: expected string, got number 42/);
    assert.deepEqual(problems(e), [
      { path: 'model_details.owners[0].contact', message: 'expected string, got number 42 (put it in quotes to keep it as text)' },
    ]);
  });

  it('requires a type on every performance metric', () => {
    const text = 'quantitative_analysis:\n  performance_metrics:\n    - type: accuracy\n      value: 0.8\n    - value: 0.9\n      slice: winter\n';
    const e = expectCardError(() => parseCard(text), 'MG_ERR_CARD_INVALID');
    assert.deepEqual(problems(e), [{ path: 'quantitative_analysis.performance_metrics[1].type', message: 'missing required field' }]);
    assert.match(e.message, /quantitative_analysis\.performance_metrics\[1\]\.type: missing required field/);
  });

  it('explains a metric value written as text', () => {
    const e = expectCardError(() => parseCard('quantitative_analysis:\n  performance_metrics:\n    - type: auc\n      value: "0.87"\n'), 'MG_ERR_CARD_INVALID');
    assert.match(e.message, /performance_metrics\[0\]\.value: expected number, got string "0\.87" \(write it without quotes\)/);
  });

  it('explains a license that has both, neither or a wrongly typed identifier', () => {
    const both = expectCardError(() => parseCard('model_details:\n  licenses:\n    - identifier: MIT\n      custom_text: Mine.\n'), 'MG_ERR_CARD_INVALID');
    assert.match(both.message, /model_details\.licenses\[0\]: give only one of identifier or custom_text/);
    const neither = expectCardError(() => parseCard('model_details:\n  licenses:\n    - {}\n'), 'MG_ERR_CARD_INVALID');
    assert.match(neither.message, /model_details\.licenses\[0\]: needs identifier or custom_text/);
    const typed = expectCardError(() => parseCard('model_details:\n  licenses:\n    - identifier: 2\n'), 'MG_ERR_CARD_INVALID');
    assert.match(typed.message, /model_details\.licenses\[0\]\.identifier: expected string, got number 2 \(put it in quotes/);
    const plain = expectCardError(() => parseCard('model_details:\n  licenses:\n    - Apache-2.0\n'), 'MG_ERR_CARD_INVALID');
    assert.match(plain.message, /model_details\.licenses\[0\]: expected a mapping with identifier or custom_text, got string "Apache-2\.0"/);
  });

  it('explains an empty section and an unsupported schema version', () => {
    const e = expectCardError(() => parseCard('schema_version: "0.0.1"\nconsiderations:\n'), 'MG_ERR_CARD_INVALID');
    assert.deepEqual(problems(e), [
      { path: 'schema_version', message: 'unsupported schema version "0.0.1": only "0.0.2" is supported' },
      { path: 'considerations', message: 'expected a mapping, got an empty value (null)' },
    ]);
  });

  it('lists at most ten problems in the message and all of them in the details', () => {
    const owners = Array.from({ length: 12 }, (_, i) => `    - name: owner${i}\n      contact: ${i}\n`).join('');
    const e = expectCardError(() => parseCard(`model_details:\n  owners:\n${owners}`), 'MG_ERR_CARD_INVALID');
    assert.equal(problems(e).length, 12);
    assert.match(e.message, /\(12 problems\)/);
    assert.match(e.message, /owners\[9\]\.contact: expected string, got number 9 \(put it in quotes to keep it as text\); and 2 more$/);
    assert.doesNotMatch(e.message, /owners\[10\]/);
  });
});

describe('validateCard', () => {
  it('returns a normalised copy and leaves its input alone', () => {
    const input = { model_details: { name: 'Rain', owners: [{ name: 'a' }] } };
    const card = validateCard(input);
    assert.deepEqual(card, { schema_version: '0.0.2', model_details: { name: 'Rain', owners: [{ name: 'a' }] } });
    assert.equal('schema_version' in input, false);
    card.model_details!.owners![0]!.name = 'changed';
    assert.equal(input.model_details.owners[0]!.name, 'a');
  });

  it('fills schema_version even when it is present but undefined', () => {
    assert.deepEqual(validateCard({ schema_version: undefined }), { schema_version: '0.0.2' });
  });

  it('rejects values that are not cards', () => {
    const e = expectCardError(() => validateCard([1, 2]), 'MG_ERR_CARD_INVALID');
    assert.match(e.message, /\(card\): expected a mapping, got a list/);
  });
});
