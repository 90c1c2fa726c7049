// Trains the two example models Modelgate registers as versions 1 and 2 of `weather`, exports them to
// ONNX, checks the exported files against the JS models with onnxruntime-node, and writes each
// version's model card and drift reference data plus examples/weather/metrics.json.
//
// Rerunning reproduces the committed files byte for byte (no clock, no unseeded randomness), which is
// what lets tests use the committed .onnx files instead of retraining. See examples/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { stringify } from 'yaml';
import { packagePath, packageRoot } from '../src/paths.js';
import {
  binaryMetrics,
  DATASET_PATH,
  featureMatrix,
  LABEL,
  labels,
  loadExamples,
  logLoss,
  referenceCsv,
  splitByYear,
  TEST_YEARS,
  TRAIN_YEARS,
  V1_FEATURES,
  V2_FEATURES,
  type BinaryMetrics,
  type Example,
  type FeatureName,
} from './weather-data.js';
import { fitLogistic, fitMlp, predict, type WeatherModel } from './weather-learn.js';
import { encodeWeatherModel, IR_VERSION, OPSET } from './weather-onnx.js';
import { runOnnx, withSession } from './weather-runtime.js';

// A constant, not today's date: the card is regenerated on every run and must not change unless the model does.
const RELEASE_DATE = '2026-11-23';
const MODEL_NAME = 'weather';
const DATASET_LINK = 'https://github.com/vega/vega-datasets';
const NOAA_LINK = 'https://www.ncdc.noaa.gov/cdo-web/datatools/records';
/** How close the float32 ONNX probabilities must be to the float64 JS forward pass. */
const TOLERANCE = 1e-5;

// v2's hyperparameters were picked on a 2012-train / 2013-validation split of the training years
// (hidden 8/12/16, 500–4000 epochs, weight decay 0–0.1): without weight decay the network overfits
// badly; 0.01 was clearly best. The test years 2014–2015 played no part in the choice.
const MLP_OPTIONS = { hidden: 8, epochs: 2000, learningRate: 0.01, weightDecay: 0.01, seed: 42 };
// Newton's method on a concave objective: 25 steps is far past convergence on ~730 rows.
const LOGISTIC_OPTIONS = { iterations: 25 };

interface VersionSpec {
  version: number;
  features: readonly FeatureName[];
  fit: (x: number[][], y: number[]) => WeatherModel;
  architecture: string;
  overview: string;
  diff: string;
  inputFormat: string;
  /** Given every version's measured metrics, so comparisons in the card are never stale text. */
  tradeoffs: (measured: Map<number, VersionResult>) => string[];
}

const TASK = 'Predicts whether it will rain in Seattle tomorrow (any measurable precipitation) from today\'s daily weather observations.';
const OUTPUT_FORMAT =
  'Two outputs per row. `label`: INT64 tensor [batch], 1 = rain tomorrow (P(rain) > 0.5), 0 = no rain. ' +
  '`probabilities`: FP32 tensor [batch, 2], columns P(no rain tomorrow), P(rain tomorrow); each row sums to 1.';

const THRESHOLD_TRADEOFF =
  'A fixed 0.5 threshold for `label`; callers that care more about missed rain than false alarms (or the reverse) should threshold `probabilities` themselves.';
const WIND = 'wind (km/h according to the dataset\'s documentation)';

const VERSIONS: VersionSpec[] = [
  {
    version: 1,
    features: V1_FEATURES,
    fit: (x, y) => fitLogistic(x, y, LOGISTIC_OPTIONS),
    architecture:
      'Logistic regression on 4 features standardised with the training-set mean and standard deviation ' +
      '(the standardisation is part of the ONNX graph). Unregularised maximum likelihood, fitted by ' +
      `${LOGISTIC_OPTIONS.iterations} Newton (IRLS) iterations; deterministic.`,
    overview: `${TASK} Version 1: a logistic regression on precipitation, maximum and minimum temperature, and wind.`,
    diff: 'First version.',
    inputFormat:
      'One input `features`: FP32 tensor [batch, 4], raw (unscaled) values in the order ' +
      `precipitation (mm), temp_max (°C), temp_min (°C), ${WIND}.`,
    tradeoffs: () => [
      'Linear in the standardised features, so it cannot represent seasonality or interactions; in exchange it is tiny, fully interpretable and fast.',
      THRESHOLD_TRADEOFF,
    ],
  },
  {
    version: 2,
    features: V2_FEATURES,
    fit: (x, y) => fitMlp(x, y, MLP_OPTIONS),
    architecture:
      `Multi-layer perceptron: the 4 weather features standardised with training statistics, plus sin and cos of 2π·month/12 ` +
      `(computed inside the ONNX graph), into one hidden layer of ${MLP_OPTIONS.hidden} ReLU units and a sigmoid output. ` +
      `Trained with full-batch Adam (learning rate ${MLP_OPTIONS.learningRate}, ${MLP_OPTIONS.epochs} epochs) on mean log loss ` +
      `plus L2 weight decay ${MLP_OPTIONS.weightDecay}, weights initialised from a seeded PRNG (seed ${MLP_OPTIONS.seed}); deterministic.`,
    overview: `${TASK} Version 2: a small neural network that also sees the month, so it can learn Seattle's wet and dry seasons.`,
    diff:
      'Adds a fifth input, `month` (1-12), and replaces the logistic regression with a one-hidden-layer MLP. ' +
      'The input shape changes from [batch, 4] to [batch, 5], so clients of version 1 must send the month too.',
    inputFormat:
      'One input `features`: FP32 tensor [batch, 5], raw (unscaled) values in the order ' +
      `precipitation (mm), temp_max (°C), temp_min (°C), ${WIND}, month (1-12, of the day observed).`,
    tradeoffs: (measured) => {
      const v1 = measured.get(1)!.test;
      const v2 = measured.get(2)!.test;
      const f = (n: number) => n.toFixed(4);
      return [
        `More parameters than version 1 (a hidden layer, and the month as an extra input) and harder to interpret. On the test years ` +
          `its log loss is ${f(v2.log_loss)} against version 1's ${f(v1.log_loss)} and its accuracy ${f(v2.accuracy)} against ${f(v1.accuracy)}.`,
        THRESHOLD_TRADEOFF,
      ];
    },
  },
];

interface VersionResult {
  spec: VersionSpec;
  train: BinaryMetrics;
  test: BinaryMetrics;
  maxAbsDiff: number;
}

const rel = (p: string): string => relative(packageRoot, p);

function write(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  console.log(`wrote ${rel(path)}`);
}

/** Scores the written file with onnxruntime-node and cross-checks it against the JS model. */
async function evaluate(path: string, model: WeatherModel, sets: { train: Example[]; test: Example[] }, features: readonly FeatureName[]) {
  return withSession(path, async (session) => {
    let maxAbsDiff = 0;
    const score = async (rows: Example[]): Promise<BinaryMetrics> => {
      const x = featureMatrix(rows, features);
      const out = await runOnnx(session, x);
      for (let i = 0; i < x.length; i++) {
        const pRain = out.pRain[i]!;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(pRain - predict(model, x[i]!)));
        if (out.label[i] !== (pRain > 0.5 ? 1 : 0)) throw new Error(`${rel(path)}: row ${i}: label ${out.label[i]} disagrees with P(rain) ${pRain}`);
        if (Math.abs(out.pNoRain[i]! + pRain - 1) > 1e-6) throw new Error(`${rel(path)}: row ${i}: probabilities do not sum to 1`);
      }
      return binaryMetrics(labels(rows), out.pRain, out.label);
    };
    const train = await score(sets.train);
    const test = await score(sets.test);
    if (!(maxAbsDiff <= TOLERANCE)) throw new Error(`${rel(path)}: ONNX and JS probabilities differ by ${maxAbsDiff} (> ${TOLERANCE})`);
    return { train, test, maxAbsDiff };
  });
}

const round4 = (n: number): number => Math.round(n * 1e4) / 1e4;
const yearsLabel = (years: readonly number[]): string => `${years[0]}-${years[years.length - 1]}`;

function card(r: VersionResult, measured: Map<number, VersionResult>, counts: { train: number; test: number; testRainRate: number }, baselineAccuracy: number): string {
  const { spec } = r;
  const trainSlice = `train (${yearsLabel(TRAIN_YEARS)}, ${counts.train} days)`;
  const testSlice = `test (${yearsLabel(TEST_YEARS)}, ${counts.test} days)`;
  const metrics = (m: BinaryMetrics, slice: string) =>
    (['accuracy', 'precision', 'recall', 'log_loss', 'roc_auc'] as const).map((type) => ({ type, value: round4(m[type]), slice }));
  const dataDescription = (years: readonly number[], n: number, role: string) =>
    `Daily Seattle weather observations (precipitation, max/min temperature, wind) from vega-datasets' seattle-weather.csv, ` +
    `years ${yearsLabel(years)}: ${n} days, each paired with whether the following day had precipitation > 0. ${role} ` +
    `Source: NOAA National Climatic Data Center; licence as stated by vega-datasets: U.S. Government Dataset (https://www.usa.gov/government-works).`;

  // Field names and nesting follow the Model Card Toolkit schema v0.0.2
  // (tensorflow/model-card-toolkit, model_card_toolkit/schema/v0.0.2/model_card.schema.json).
  const doc = {
    schema_version: '0.0.2',
    model_details: {
      name: MODEL_NAME,
      overview: spec.overview,
      documentation:
        `Example model shipped with Modelgate (examples/README.md), reproducible with examples/train-weather.ts. ` +
        `The ONNX file takes one input \`features\` (FP32 [batch, ${spec.features.length}]) and returns \`label\` and \`probabilities\`; ` +
        `the feature order is also stored in the file's metadata_props under modelgate.features. ` +
        `reference.csv next to this card holds the training rows (features plus ${LABEL}) for drift monitoring.`,
      owners: [{ name: 'Modelgate maintainers', contact: 'Modelgate repository, examples/README.md' }],
      version: { name: String(spec.version), date: RELEASE_DATE, diff: spec.diff },
      licenses: [{ identifier: 'Apache-2.0' }],
      references: [{ reference: DATASET_LINK }, { reference: NOAA_LINK }],
      citations: [
        {
          style: 'text',
          citation: 'NOAA National Climatic Data Center, daily weather records for Seattle, WA (2012-2015), as packaged in vega-datasets (data/seattle-weather.csv).',
        },
      ],
    },
    model_parameters: {
      model_architecture: spec.architecture,
      data: [
        {
          name: `seattle-weather ${yearsLabel(TRAIN_YEARS)} (training)`,
          link: DATASET_LINK,
          sensitive: { sensitive_data: [] },
          description: dataDescription(TRAIN_YEARS, counts.train, 'Used for training and for the standardisation statistics.'),
        },
        {
          name: `seattle-weather ${yearsLabel(TEST_YEARS)} (evaluation)`,
          link: DATASET_LINK,
          sensitive: { sensitive_data: [] },
          description: dataDescription(
            TEST_YEARS,
            counts.test,
            `Held out; used only for the reported test metrics. Rain-tomorrow rate ${round4(counts.testRainRate)}. The last day of 2015 has no next day and is dropped.`,
          ),
        },
      ],
      input_format: spec.inputFormat,
      output_format: OUTPUT_FORMAT,
    },
    quantitative_analysis: {
      performance_metrics: [
        ...metrics(r.test, testSlice),
        { type: 'majority_class_baseline_accuracy', value: round4(baselineAccuracy), slice: testSlice },
        ...metrics(r.train, trainSlice),
      ],
    },
    considerations: {
      users: [
        { description: 'Developers and operators trying Modelgate: registering, serving, canarying and monitoring a real model.' },
        { description: 'Authors of Modelgate tests that need a small, real, deterministic ONNX model.' },
      ],
      use_cases: [
        { description: 'Demonstrating model serving over the Open Inference Protocol, version comparison (canary of version 2 against version 1) and input drift monitoring against reference.csv.' },
      ],
      limitations: [
        { description: 'Trained on two years of one weather station (Seattle, 2012-2013, about 730 rows); not valid for other places, other periods, or as a weather forecast anyone should rely on.' },
        { description: 'Only today\'s observations are used: no pressure, humidity, cloud cover or multi-day history, so accuracy is modest.' },
        { description: 'Rain is defined as any precipitation > 0 on the next day, whatever the amount; the label says nothing about how much rain.' },
        { description: 'Inputs outside the training range (e.g. other climates, wrong units such as °F) are not rejected by the model and give meaningless probabilities.' },
      ],
      tradeoffs: spec.tradeoffs(measured).map((description) => ({ description })),
      ethical_considerations: [
        {
          name: 'Over-reliance on a toy forecast for decisions that matter (safety, agriculture, events).',
          mitigation_strategy: 'Documented as a demonstration model only; use an official forecast service for real decisions.',
        },
        {
          name: 'Privacy.',
          mitigation_strategy: 'None needed: the data are public, city-level daily weather observations with no personal data.',
        },
      ],
    },
  };
  return stringify(doc, { lineWidth: 0, version: '1.1' });
}

async function main(): Promise<void> {
  const { train, test } = splitByYear(loadExamples());
  const yTrain = labels(train);
  const yTest = labels(test);
  console.log(`${rel(DATASET_PATH)}: ${train.length} training days (${yearsLabel(TRAIN_YEARS)}), ${test.length} test days (${yearsLabel(TEST_YEARS)})`);

  const trainRainRate = yTrain.reduce<number>((a, b) => a + b, 0) / yTrain.length;
  const testRainRate = yTest.reduce<number>((a, b) => a + b, 0) / yTest.length;
  const majority = trainRainRate >= 0.5 ? 1 : 0;
  const baseline = {
    rule: `always predict the training years' majority class (${majority === 1 ? 'rain' : 'no rain'}); log loss uses the training rain rate as a constant P(rain)`,
    majority_class: majority,
    train_rain_rate: trainRainRate,
    test: {
      accuracy: yTest.filter((y) => y === majority).length / yTest.length,
      log_loss: logLoss(yTest, yTest.map(() => trainRainRate)),
    },
  };

  const results: VersionResult[] = [];
  for (const spec of VERSIONS) {
    const dir = packagePath('examples', MODEL_NAME, `v${spec.version}`);
    const model = spec.fit(featureMatrix(train, spec.features), yTrain);
    const onnxPath = `${dir}/model.onnx`;
    write(onnxPath, encodeWeatherModel(model, { version: spec.version, features: spec.features, description: spec.overview }));
    write(`${dir}/reference.csv`, referenceCsv(train, spec.features));
    results.push({ spec, ...(await evaluate(onnxPath, model, { train, test }, spec.features)) });
  }
  const measured = new Map(results.map((r) => [r.spec.version, r]));
  for (const r of results) {
    const path = packagePath('examples', MODEL_NAME, `v${r.spec.version}`, 'card.yaml');
    write(path, card(r, measured, { train: train.length, test: test.length, testRainRate }, baseline.test.accuracy));
  }

  const metrics = {
    dataset: {
      path: rel(DATASET_PATH),
      label: `${LABEL}: next day's precipitation > 0`,
      train_years: TRAIN_YEARS,
      test_years: TEST_YEARS,
      train_rows: train.length,
      test_rows: test.length,
      test_rain_rate: testRainRate,
    },
    computed_with: `onnxruntime-node on the exported model.onnx files (opset ${OPSET}, IR ${IR_VERSION}); positive class = rain`,
    baseline,
    versions: Object.fromEntries(
      results.map((r) => [`v${r.spec.version}`, { version: r.spec.version, features: r.spec.features, train: r.train, test: r.test }]),
    ),
  };
  write(packagePath('examples', MODEL_NAME, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');

  const f = (n: number) => n.toFixed(4);
  console.log('\n| model | accuracy | precision | recall | log loss | ROC AUC |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const t = r.test;
    console.log(`| v${r.spec.version} | ${f(t.accuracy)} | ${f(t.precision)} | ${f(t.recall)} | ${f(t.log_loss)} | ${f(t.roc_auc)} |`);
    console.log(`  (v${r.spec.version} max |P_onnx - P_js| = ${r.maxAbsDiff.toExponential(2)})`);
  }
  console.log(`| baseline (${majority === 1 ? 'always rain' : 'never rain'}) | ${f(baseline.test.accuracy)} | | | ${f(baseline.test.log_loss)} | 0.5 |`);
  const [v1, v2] = results;
  if (v1 && v2) {
    console.log(
      v2.test.log_loss < v1.test.log_loss
        ? `v2 beats v1 on test log loss (${f(v2.test.log_loss)} < ${f(v1.test.log_loss)})`
        : `v2 does NOT beat v1 on test log loss (${f(v2.test.log_loss)} >= ${f(v1.test.log_loss)})`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
