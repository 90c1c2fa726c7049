// Guards the committed example models (examples/weather/v*/model.onnx) against drifting away from the
// contract other code relies on and from the numbers documented next to them. Nothing is retrained:
// if this fails after editing train-weather.ts, rerun the script and commit its outputs together.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { parse } from 'yaml';
import { packagePath } from '../src/paths.js';
import { decodeModel, ModelProto } from '../src/registry/onnx/onnx-proto.js';
import {
  binaryMetrics,
  featureMatrix,
  LABEL,
  labels,
  loadExamples,
  referenceCsv,
  splitByYear,
  V1_FEATURES,
  V2_FEATURES,
  type BinaryMetrics,
  type FeatureName,
} from './weather-data.js';
import { runOnnx, withSession } from './weather-runtime.js';

interface Metrics {
  versions: Record<string, { features: string[]; test: BinaryMetrics }>;
}

const metrics = JSON.parse(readFileSync(packagePath('examples', 'weather', 'metrics.json'), 'utf8')) as Metrics;
const { train, test } = splitByYear(loadExamples());

// Real days copied from seattle-weather.csv (the key is the date): a dry summer day, a wet winter day and a mild spring day, so both labels occur.
const ROWS: Record<string, number[]> = {
  '2014-07-15': [0, 31.1, 13.9, 2.3, 7],
  '2014-11-23': [11.9, 12.8, 5.6, 5.1, 11],
  '2015-04-04': [0, 12.8, 3.9, 1.7, 4],
};

const cases: { version: number; features: readonly FeatureName[] }[] = [
  { version: 1, features: V1_FEATURES },
  { version: 2, features: V2_FEATURES },
];

function checkOutputs(out: ort.InferenceSession.OnnxValueMapType, batch: number): { label: number[]; pRain: number[] } {
  assert.deepEqual(Object.keys(out).sort(), ['label', 'probabilities']);
  const label = out['label']!;
  const probabilities = out['probabilities']!;
  assert.equal(label.type, 'int64');
  assert.deepEqual(label.dims, [batch]);
  assert.equal(probabilities.type, 'float32');
  assert.deepEqual(probabilities.dims, [batch, 2]);
  const probs = probabilities.data as Float32Array;
  const labelsOut = Array.from(label.data as BigInt64Array, Number);
  const pRain: number[] = [];
  for (let i = 0; i < batch; i++) {
    const pNo = probs[2 * i]!;
    const pYes = probs[2 * i + 1]!;
    assert.ok(pNo >= 0 && pNo <= 1 && pYes >= 0 && pYes <= 1, `row ${i}: probabilities out of [0, 1]`);
    assert.ok(Math.abs(pNo + pYes - 1) < 1e-6, `row ${i}: probabilities sum to ${pNo + pYes}`);
    assert.equal(labelsOut[i], pYes > 0.5 ? 1 : 0, `row ${i}: label vs P(rain) ${pYes}`);
    pRain.push(pYes);
  }
  return { label: labelsOut, pRain };
}

for (const { version, features } of cases) {
  const dir = packagePath('examples', 'weather', `v${version}`);
  const modelPath = `${dir}/model.onnx`;
  const rows = Object.values(ROWS).map((r) => r.slice(0, features.length));

  describe(`examples/weather/v${version}`, () => {
    it('declares the ONNX contract: opset 17, IR 8, feature order and label in metadata', () => {
      const m = ModelProto.toObject(decodeModel(readFileSync(modelPath)), { longs: Number }) as {
        ir_version: number;
        producer_name: string;
        opset_import: { domain?: string; version: number }[];
        metadata_props: { key: string; value: string }[];
      };
      assert.equal(m.ir_version, 8);
      assert.equal(m.producer_name, 'modelgate-examples');
      assert.deepEqual(
        m.opset_import.map((o) => [o.domain ?? '', o.version]),
        [['', 17]],
      );
      const props = Object.fromEntries(m.metadata_props.map((p) => [p.key, p.value]));
      assert.deepEqual(JSON.parse(props['modelgate.features']!), features);
      assert.equal(props['modelgate.label'], LABEL);
    });

    it('has one input `features` [batch, F] and outputs `label`, `probabilities` for batches of 3 and 1', async () => {
      await withSession(modelPath, async (session) => {
        assert.deepEqual(session.inputNames, ['features']);
        assert.deepEqual(session.outputNames, ['label', 'probabilities']);
        const three = checkOutputs(
          await session.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [3, features.length]) }),
          3,
        );
        // The chosen days should not all land on one side of the threshold, or the label check proves little.
        assert.ok(three.label.includes(0) && three.label.includes(1), `labels ${three.label.join(',')}`);
        const one = checkOutputs(await session.run({ features: new ort.Tensor('float32', Float32Array.from(rows[1]!), [1, features.length]) }), 1);
        assert.ok(Math.abs(one.pRain[0]! - three.pRain[1]!) < 1e-6, 'a row scores the same alone and in a batch');
      });
    });

    it('reproduces the test-set metrics recorded in metrics.json', async () => {
      const recorded = metrics.versions[`v${version}`];
      assert.ok(recorded, `metrics.json has no v${version}`);
      assert.deepEqual(recorded.features, features);
      const out = await withSession(modelPath, (s) => runOnnx(s, featureMatrix(test, features)));
      const m = binaryMetrics(labels(test), out.pRain, out.label);
      for (const key of ['accuracy', 'precision', 'recall'] as const) {
        assert.ok(Math.abs(m[key] - recorded.test[key]) <= 1e-9, `${key}: model gives ${m[key]}, metrics.json says ${recorded.test[key]}`);
      }
      // float32 kernels may differ in the last bits between CPUs: label counts survive that, a mean of logs may move slightly.
      assert.ok(Math.abs(m.log_loss - recorded.test.log_loss) <= 1e-6, `log_loss ${m.log_loss} vs ${recorded.test.log_loss}`);
    });

    it('ships reference.csv as the training rows in the model feature order, and a card with the same accuracy', () => {
      assert.equal(readFileSync(`${dir}/reference.csv`, 'utf8'), referenceCsv(train, features));
      const card = parse(readFileSync(`${dir}/card.yaml`, 'utf8')) as {
        schema_version: string;
        model_details: { name: string; version: { name: string } };
        quantitative_analysis: { performance_metrics: { type: string; value: number; slice: string }[] };
      };
      assert.equal(card.schema_version, '0.0.2');
      assert.equal(card.model_details.name, 'weather');
      assert.equal(card.model_details.version.name, String(version));
      const accuracy = card.quantitative_analysis.performance_metrics.find((p) => p.type === 'accuracy' && p.slice.startsWith('test'));
      assert.ok(accuracy, 'card reports test accuracy');
      assert.ok(Math.abs(accuracy.value - metrics.versions[`v${version}`]!.test.accuracy) < 5e-5);
    });
  });
}
