// The "will it rain tomorrow in Seattle?" data set and the metrics reported for it.
// Shared by the training script and by the test that re-checks the committed models, so both read
// the rows, split the years and score predictions the same way.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { packagePath } from '../src/paths.js';

export const DATASET_PATH = packagePath('node_modules', 'vega-datasets', 'data', 'seattle-weather.csv');

export const LABEL = 'rain_tomorrow';
export const V1_FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const;
export const V2_FEATURES = [...V1_FEATURES, 'month'] as const;
export type FeatureName = (typeof V2_FEATURES)[number];

export const TRAIN_YEARS = [2012, 2013] as const;
export const TEST_YEARS = [2014, 2015] as const;

/** One day's observations with tomorrow's outcome. */
export interface Example {
  date: string;
  year: number;
  precipitation: number;
  temp_max: number;
  temp_min: number;
  wind: number;
  month: number;
  /** 1 when the next day's precipitation is above zero. */
  rain_tomorrow: 0 | 1;
}

interface RawRow {
  date: string;
  precipitation: string;
  temp_max: string;
  temp_min: string;
  wind: string;
}

function num(value: string, column: string, date: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${DATASET_PATH}: ${column} on ${date} is not a number: ${JSON.stringify(value)}`);
  return n;
}

const DAY_MS = 86_400_000;

/**
 * Reads the CSV into one example per day that has a following day. The label needs tomorrow's row,
 * so a gap in the dates would silently pair a day with the wrong outcome: that is an error instead.
 */
export function loadExamples(path: string = DATASET_PATH): Example[] {
  const rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true }) as RawRow[];
  const out: Example[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const today = rows[i]!;
    const tomorrow = rows[i + 1]!;
    if (Date.parse(tomorrow.date) - Date.parse(today.date) !== DAY_MS) {
      throw new Error(`${path}: ${tomorrow.date} does not follow ${today.date}; the next-day label needs consecutive days`);
    }
    out.push({
      date: today.date,
      year: Number(today.date.slice(0, 4)),
      precipitation: num(today.precipitation, 'precipitation', today.date),
      temp_max: num(today.temp_max, 'temp_max', today.date),
      temp_min: num(today.temp_min, 'temp_min', today.date),
      wind: num(today.wind, 'wind', today.date),
      month: Number(today.date.slice(5, 7)),
      rain_tomorrow: num(tomorrow.precipitation, 'precipitation', tomorrow.date) > 0 ? 1 : 0,
    });
  }
  return out;
}

export function splitByYear(examples: Example[]): { train: Example[]; test: Example[] } {
  const inYears = (years: readonly number[]) => (e: Example) => years.includes(e.year);
  return { train: examples.filter(inYears(TRAIN_YEARS)), test: examples.filter(inYears(TEST_YEARS)) };
}

/** The feature matrix in the given column order, row-major, as the model's `features` input expects. */
export function featureMatrix(examples: Example[], features: readonly FeatureName[]): number[][] {
  return examples.map((e) => features.map((f) => e[f]));
}

/** Drift-monitoring reference data: the model's feature columns in its order, then the label (0/1). */
export function referenceCsv(rows: Example[], features: readonly FeatureName[]): string {
  const lines = [[...features, LABEL].join(',')];
  for (const e of rows) lines.push([...features.map((f) => String(e[f])), String(e[LABEL])].join(','));
  return lines.join('\n') + '\n';
}

export function labels(examples: Example[]): (0 | 1)[] {
  return examples.map((e) => e.rain_tomorrow);
}

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  log_loss: number;
  roc_auc: number;
}

// Keeps log loss finite when a model is (wrongly) certain; the same clip scikit-learn used for years.
const EPS = 1e-15;

export function accuracy(y: readonly number[], predicted: readonly number[]): number {
  let hits = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === predicted[i]) hits++;
  return hits / y.length;
}

export function logLoss(y: readonly number[], pRain: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const p = Math.min(Math.max(pRain[i]!, EPS), 1 - EPS);
    sum -= y[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / y.length;
}

/** Mann–Whitney form of the ROC AUC; tied scores share their average rank, so ties count one half. */
export function rocAuc(y: readonly number[], score: readonly number[]): number {
  const order = score.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s || a.i - b.i);
  let rankSumPositive = 0;
  let positives = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.s === order[start]!.s) end++;
    const averageRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (y[order[k]!.i] === 1) {
        rankSumPositive += averageRank;
        positives++;
      }
    }
    start = end + 1;
  }
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Metrics for "rain" as the positive class; `predicted` is the model's own label output. */
export function binaryMetrics(y: readonly number[], pRain: readonly number[], predicted: readonly number[]): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    if (predicted[i] === 1 && y[i] === 1) tp++;
    else if (predicted[i] === 1) fp++;
    else if (y[i] === 1) fn++;
  }
  return {
    accuracy: accuracy(y, predicted),
    // A model that never predicts rain has no precision to speak of; 0 rather than NaN keeps the JSON valid.
    precision: tp + fp === 0 ? 0 : tp / (tp + fp),
    recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    log_loss: logLoss(y, pRain),
    roc_auc: rocAuc(y, pRain),
  };
}
