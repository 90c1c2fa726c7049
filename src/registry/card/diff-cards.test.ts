import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelCard } from './card-schema.js';
import { diffCards, metricDeltas } from './diff-cards.js';
import { parseCard } from './parse-card.js';
import { RAIN_CARD_JSON, RAIN_CARD_YAML } from './test-fixtures.js';

const base = (): ModelCard => parseCard(RAIN_CARD_YAML);

describe('diffCards', () => {
  it('reports nothing for equal cards', () => {
    assert.deepEqual(diffCards(base(), base()), []);
    assert.deepEqual(diffCards(null, null), []);
  });

  it('matches metrics by type and slice, so inserting one reports only that one', () => {
    const next = base();
    next.quantitative_analysis!.performance_metrics!.unshift({ type: 'precision', value: 0.74 });
    assert.deepEqual(diffCards(base(), next), [
      { path: 'quantitative_analysis.performance_metrics[type=precision]', change: 'added', after: { type: 'precision', value: 0.74 } },
    ]);
  });

  it('reports a changed, a removed and an added metric by key', () => {
    const next = base();
    const metrics = next.quantitative_analysis!.performance_metrics!;
    metrics[2]!.value = 0.79; // accuracy on the winter slice
    metrics.splice(1, 1); // auc
    metrics.push({ type: 'accuracy', slice: 'dry season', value: 0.84 });
    assert.deepEqual(diffCards(base(), next), [
      { path: 'quantitative_analysis.performance_metrics[type=auc]', change: 'removed', before: { type: 'auc', value: 0.87 } },
      { path: 'quantitative_analysis.performance_metrics[type=accuracy,slice=winter].value', change: 'changed', before: 0.76, after: 0.79 },
      {
        path: 'quantitative_analysis.performance_metrics[type=accuracy,slice=dry season]',
        change: 'added',
        after: { type: 'accuracy', slice: 'dry season', value: 0.84 },
      },
    ]);
  });

  it('reports field changes with dotted paths, owners by name and lists of descriptions by content', () => {
    const next = base();
    next.model_details!.version!.name = '1.3.0';
    next.model_details!.owners!.reverse();
    next.model_details!.owners!.push({ name: 'Sam Ortiz' });
    next.model_details!.owners!.find((o) => o.name === 'Dana Whitfield')!.contact = 'dana@example.com';
    next.considerations!.limitations![1]!.description = 'Snow and fog days are rare and treated as dry.';
    next.considerations!.use_cases!.unshift({ description: 'Daily rain alerts for a commuter app.' });
    delete next.model_parameters!.data![0]!.sensitive;
    assert.deepEqual(diffCards(base(), next), [
      { path: 'model_details.owners[name=Dana Whitfield].contact', change: 'changed', before: 'dana.whitfield@example.com', after: 'dana@example.com' },
      { path: 'model_details.owners[name=Sam Ortiz]', change: 'added', after: { name: 'Sam Ortiz' } },
      { path: 'model_details.version.name', change: 'changed', before: '1.2.0', after: '1.3.0' },
      { path: 'model_parameters.data[name=Seattle weather 2012-2014 (training)].sensitive', change: 'removed', before: { sensitive_data: [] } },
      { path: 'considerations.use_cases[0]', change: 'added', after: { description: 'Daily rain alerts for a commuter app.' } },
      {
        path: 'considerations.limitations[1].description',
        change: 'changed',
        before: 'Snow and fog days are rare (under 9% combined) and treated as dry.',
        after: 'Snow and fog days are rare and treated as dry.',
      },
    ]);
  });

  it('treats a missing card as empty', () => {
    const card = parseCard(RAIN_CARD_JSON);
    const changes = diffCards(null, card);
    assert.deepEqual(changes.map((c) => [c.path, c.change]), [
      ['schema_version', 'added'],
      ['model_details', 'added'],
      ['quantitative_analysis', 'added'],
    ]);
    assert.deepEqual(changes[1]!.after, card.model_details);
    assert.deepEqual(diffCards(card, null).map((c) => c.change), ['removed', 'removed', 'removed']);
  });

  it('compares metrics repeated under the same key by content', () => {
    const a = parseCard('quantitative_analysis:\n  performance_metrics:\n    - {type: auc, value: 0.8}\n    - {type: auc, value: 0.81}\n');
    const b = parseCard('quantitative_analysis:\n  performance_metrics:\n    - {type: auc, value: 0.8}\n    - {type: auc, value: 0.82}\n');
    assert.deepEqual(diffCards(a, b), [
      { path: 'quantitative_analysis.performance_metrics[1].value', change: 'changed', before: 0.81, after: 0.82 },
    ]);
  });
});

describe('metricDeltas', () => {
  it('gives before, after and delta for metrics present in both cards', () => {
    const older = parseCard(RAIN_CARD_JSON);
    const newer = base();
    assert.deepEqual(metricDeltas(older, newer), [
      { type: 'accuracy', before: 0.78, after: 0.81, delta: 0.03 },
      { type: 'accuracy', slice: 'winter', before: 0.74, after: 0.76, delta: 0.02 },
    ]);
    assert.deepEqual(metricDeltas(newer, older), [
      { type: 'accuracy', before: 0.81, after: 0.78, delta: -0.03 },
      { type: 'accuracy', slice: 'winter', before: 0.76, after: 0.74, delta: -0.02 },
    ]);
  });

  it('skips metrics without a numeric value and cards that are missing', () => {
    const a = parseCard('quantitative_analysis:\n  performance_metrics:\n    - {type: auc}\n    - {type: f1, value: 0.5}\n');
    const b = parseCard('quantitative_analysis:\n  performance_metrics:\n    - {type: auc, value: 0.9}\n    - {type: f1, value: 0.5}\n');
    assert.deepEqual(metricDeltas(a, b), [{ type: 'f1', before: 0.5, after: 0.5, delta: 0 }]);
    assert.deepEqual(metricDeltas(null, b), []);
  });
});
