import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCard } from './parse-card.js';
import { renderCardMarkdown } from './render-card.js';
import { RAIN_CARD_YAML } from './test-fixtures.js';

describe('renderCardMarkdown', () => {
  const card = parseCard(RAIN_CARD_YAML);

  it('renders the whole card with a metrics table', () => {
    const md = renderCardMarkdown(card, { model: 'rain-classifier', version: 3, revision: 2 });
    assert.ok(md.startsWith('# Seattle next-day rain classifier\n\n_Model `rain-classifier`, version 3, card revision 2_\n\nPredicts whether'));
    const table = [
      '| Metric | Value | Slice | Confidence interval |',
      '| --- | --- | --- | --- |',
      '| accuracy | 0.81 | — | 0.77 – 0.85 |',
      '| auc | 0.87 | — | — |',
      '| accuracy | 0.76 | winter | — |',
      '| recall | 0.89 | winter | — |',
      '| false positive rate | 0.14 | — | — |',
    ].join('\n');
    assert.ok(md.includes(table), md);
    for (const expected of [
      '- **Version:** 1.2.0, released 2024-05-02',
      '### Owners\n\n- Forecasting ML team — forecasting-ml@example.com\n- Dana Whitfield — dana.whitfield@example.com',
      '### Licenses\n\n- Apache-2.0',
      '- <https://xgboost.readthedocs.io/>',
      '- Forecasting ML team (2024). Seattle next-day rain classifier, version 1.2.0. (APA)',
      '- **Architecture:** Gradient-boosted decision trees (200 trees, depth 4), exported to ONNX',
      '- **Input format:** float32 tensor [batch, 5]',
      '#### Seattle weather 2012-2014 (training)',
      '- **Sensitive data:** none declared',
      '- **Graphics:** Rain vs. dry days',
      '### Graphics\n\nEvaluation on 2015.\n\n- ROC curve',
      '### Limitations\n\n- Trained on four years',
      '- **Over-reliance for safety decisions** — Mitigation: The output is labelled as a planning aid',
    ]) {
      assert.ok(md.includes(expected), `missing ${JSON.stringify(expected)} in\n${md}`);
    }
    // Graphics are named, never inlined.
    assert.doesNotMatch(md, /iVBORw0KGgo/);
  });

  it('skips empty sections and the interval column when no metric has one', () => {
    const md = renderCardMarkdown(
      parseCard('model_details:\n  name: Tiny\n  owners: []\n  overview: "  "\nquantitative_analysis:\n  performance_metrics:\n    - type: auc\n      value: 0.7\nconsiderations:\n  limitations:\n    - description: ""\n'),
    );
    assert.equal(md, '# Tiny\n\n## Quantitative analysis\n\n### Performance metrics\n\n| Metric | Value | Slice |\n| --- | --- | --- |\n| auc | 0.7 | — |\n');
  });

  it('falls back to the model name and escapes pipes in table cells', () => {
    const md = renderCardMarkdown(
      parseCard('quantitative_analysis:\n  performance_metrics:\n    - type: "precision|recall"\n      slice: "a\\nb"\n'),
      { model: 'rain', version: 1 },
    );
    assert.ok(md.startsWith('# rain v1\n\n_Model `rain`, version 1_\n'));
    assert.ok(md.includes('| precision\\|recall | — | a<br>b |'), md);
  });

  it('renders a minimal card as just a title', () => {
    assert.equal(renderCardMarkdown(parseCard('{}')), '# Model card\n');
  });
});
