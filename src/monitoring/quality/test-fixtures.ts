// Labelled records that Python rebuilds exactly: the twins of binary_records, multiclass_records and
// regression_records in reference-values.py, so its numpy reference values are for the very same data.
// Only + * / and floor touch the generator's output, which IEEE 754 rounds alike in Python and V8. Also
// assertJsonSafe, the check that an output holds no NaN or Infinity and survives JSON unchanged.
import assert from 'node:assert/strict';
import { uniform } from '../../testing/reference-samples.js';
import type { LabelledRecord } from './labelled-metrics.js';

const REGIONS = ['eu', 'us', 'apac'] as const;
const DEVICES = ['mobile', 'desktop'] as const;
const GROUPS = ['a', 'b', 'c'] as const;
const CLASSES = ['cat', 'dog', 'bird'] as const;

function pick<T>(values: readonly T[], u: number): T {
  return values[Math.floor(u * values.length)] as T;
}

/**
 * 60 records, positive class 1: scores in steps of 0.05 (ties, and values on the bin edges), every 10th one
 * unscored, the device unknown on every 15th; labels follow the score, predictions are score >= 0.5 with 10%
 * flipped. Slices region (3 values) and device (2); sensitive attribute group (a, b, c).
 */
export function binaryRecords(): LabelledRecord[] {
  const u = uniform(101, 60 * 6);
  return Array.from({ length: 60 }, (_, i) => {
    const [u0, u1, u2, u3, u4, u5] = u.slice(6 * i, 6 * i + 6) as [number, number, number, number, number, number];
    const score = Math.floor(u0 * 21) / 20;
    const label = u1 < 0.15 + 0.7 * score ? 1 : 0;
    let prediction = score >= 0.5 ? 1 : 0;
    if (u2 < 0.1) prediction = 1 - prediction;
    const slice: Record<string, string> = { region: pick(REGIONS, u3), group: pick(GROUPS, u5) };
    if (i % 15 !== 4) slice.device = pick(DEVICES, u4);
    return { prediction, label, score: i % 10 === 7 ? undefined : score, slice };
  });
}

/** 36 records over cat/dog/bird, with 'fish' predicted now and then but never a label; score = P(cat). */
export function multiclassRecords(): LabelledRecord[] {
  const u = uniform(202, 36 * 5);
  return Array.from({ length: 36 }, (_, i) => {
    const [u0, u1, u2, u3, u4] = u.slice(5 * i, 5 * i + 5) as [number, number, number, number, number];
    const label = pick(CLASSES, u0);
    const prediction = u1 < 0.6 ? label : u2 < 0.2 ? 'fish' : pick(CLASSES, u3);
    const base = Math.floor(u4 * 10) / 20;
    return { prediction, label, score: prediction === 'cat' ? 0.5 + base : base };
  });
}

/** 50 records: labels in steps of 0.1 on [0, 100), predictions off by −8 to +12 (a positive bias). */
export function regressionRecords(): LabelledRecord[] {
  const u = uniform(303, 50 * 2);
  return Array.from({ length: 50 }, (_, i) => {
    const label = Math.floor((u[2 * i] as number) * 1000) / 10;
    return { prediction: label + Math.floor((u[2 * i + 1] as number) * 200) / 10 - 8, label };
  });
}

/** Every number finite (JSON.stringify would silently turn NaN and Infinity into null). */
export function assertJsonSafe(value: unknown, path = 'value'): void {
  if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`);
  else if (Array.isArray(value)) value.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) assertJsonSafe(v, `${path}.${k}`);
  else assert.ok(value === null || typeof value === 'string' || typeof value === 'boolean', `${path} is ${typeof value}`);
  assert.deepEqual(JSON.parse(JSON.stringify(value)), value, `${path} changes through JSON`);
}
