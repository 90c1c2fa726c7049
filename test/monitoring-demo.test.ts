// The monitoring demo (scripts/demo/monitoring-demo.ts) on the real gateway, in --quick form: what it prints
// must hold. Shifts are recomputed here from the raw rows, so the test follows the data, not a list of names.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadExamples, TRAIN_YEARS, V1_FEATURES, type Example } from '../examples/weather-data.js';
import { driftReport } from '../src/monitoring/drift/report.js';
import { PHASES, runDemo, type DemoSummary } from '../scripts/demo/monitoring-demo.js';

const examples = loadExamples();
const reference = examples.filter((e) => (TRAIN_YEARS as readonly number[]).includes(e.year));

/** The days the demo sends for a phase in --quick. */
function daysOf(i: number): Example[] {
  const plan = PHASES[i]!;
  return examples.filter((e) => e.date >= plan.from && e.date <= plan.to).filter((_, k) => k % plan.quickEvery === 0);
}

/** (mean − reference mean) / reference population sd, written out independently of the demo's helper. */
function meanShift(rows: readonly Example[], f: (typeof V1_FEATURES)[number]): number {
  const m = (xs: readonly Example[]) => xs.reduce((s, e) => s + e[f], 0) / xs.length;
  const refMean = m(reference);
  const sd = Math.sqrt(reference.reduce((s, e) => s + (e[f] - refMean) ** 2, 0) / reference.length);
  return (m(rows) - refMean) / sd;
}

function rawKsP(rows: readonly Example[], f: (typeof V1_FEATURES)[number]): number {
  const col = (xs: readonly Example[]) => [{ name: f, numbers: Float64Array.from(xs.map((e) => e[f])) }];
  return driftReport(col(reference), col(rows)).features[0]!.p_value!;
}

describe('monitoring demo (--quick)', () => {
  let s: DemoSummary;
  before(async () => {
    s = await runDemo({ quick: true });
  });

  it('replays every planned day through the gateway and profiles each phase in its own window', () => {
    assert.equal(s.phases.length, PHASES.length);
    for (const [i, ph] of s.phases.entries()) {
      const days = daysOf(i);
      assert.equal(ph.rows, days.length, ph.name);
      assert.equal(ph.live_rows, days.length, `${ph.name}: the live window holds this phase's rows and no other's`);
      assert.deepEqual(ph.period, { from: days[0]!.date, to: days.at(-1)!.date });
      assert.ok(Date.parse(ph.window.from) >= (i > 0 ? Date.parse(s.phases[i - 1]!.window.to) : 0), 'windows do not overlap');
    }
  });

  it('finds no drift when the traffic is the reference\'s own distribution', () => {
    const control = s.phases[0]!;
    assert.equal(control.dataset_drift, false, JSON.stringify(control.features));
    assert.deepEqual(control.drifted, []);
    assert.equal(control.drift_share, 0);
  });

  it('flags, in the later season, every feature whose mean really moved', () => {
    const summer = s.phases.at(-1)!;
    const rows = daysOf(s.phases.length - 1);
    const moved = V1_FEATURES.filter((f) => Math.abs(meanShift(rows, f)) >= 0.25);
    assert.ok(moved.length >= 2, `the later season moved on few features: ${JSON.stringify(summer.mean_shift)}`);
    for (const f of moved) assert.ok(summer.drifted.includes(f), `${f} moved by ${meanShift(rows, f).toFixed(2)} sd but was not flagged (flagged: ${summer.drifted.join(', ')})`);
    assert.equal(summer.dataset_drift, true);
  });

  it('reports the shifts it prints from the raw rows, and flags nothing the raw rows do not support', () => {
    let quiet = 0;
    for (const [i, ph] of s.phases.entries()) {
      const rows = daysOf(i);
      for (const f of V1_FEATURES) {
        assert.ok(Math.abs(ph.mean_shift[f]! - meanShift(rows, f)) < 1e-9, `${ph.name} ${f}: printed shift ${ph.mean_shift[f]} vs ${meanShift(rows, f)}`);
        const p = rawKsP(rows, f);
        // Far from the 0.05 threshold the sketch-based live test must say what the exact test says.
        if (p > 0.2) {
          if (i > 0) quiet++;
          assert.ok(!ph.drifted.includes(f), `${ph.name}: ${f} flagged although its raw KS p is ${p.toFixed(3)} (shift ${meanShift(rows, f).toFixed(2)} sd)`);
        }
        if (p < 0.01) assert.ok(ph.drifted.includes(f), `${ph.name}: ${f} not flagged although its raw KS p is ${p.toExponential(2)}`);
        // A feature flagged while its mean stood still must have changed its spread instead.
        if (ph.drifted.includes(f) && Math.abs(ph.mean_shift[f]!) < 0.1) {
          assert.ok(Math.abs(Math.log(ph.features[f]!.sd_ratio)) > 0.2, `${ph.name}: ${f} flagged with neither its mean nor its spread moved`);
        }
      }
      assert.equal(ph.dataset_drift, ph.offline_dataset_drift, `${ph.name}: live and raw dataset verdicts`);
    }
    assert.ok(quiet > 0, 'some held-out feature did not move, so "not elsewhere" was actually checked');
  });

  it('joins every late label it sent, and the server\'s accuracy is the one the responses give', () => {
    for (const ph of s.phases) {
      assert.ok(ph.labels_sent > 0 && ph.labels_sent < ph.rows, `${ph.name}: ${ph.labels_sent} labels for ${ph.rows} rows (some are meant to be lost)`);
      assert.equal(ph.labelled, ph.labels_sent, `${ph.name}: labelled vs sent`);
      assert.equal(typeof ph.accuracy, 'number', `${ph.name}: accuracy reported`);
      assert.ok(ph.accuracy! > 0 && ph.accuracy! < 1);
      assert.ok(Math.abs(ph.accuracy! - ph.accuracy_from_responses!) < 1e-12, `${ph.name}: server ${ph.accuracy} vs responses ${ph.accuracy_from_responses}`);
      assert.equal(ph.concept_degraded, ph.labelled >= 50 && ph.concept_checks.some((c) => c.degraded), `${ph.name}: concept verdict follows its checks`);
      assert.equal(ph.concept_checks.find((c) => c.metric === 'accuracy')?.reference, s.card_accuracy);
    }
  });

  it('checks its claim that no held-out year is like the reference', () => {
    assert.equal(s.held_out_years.spans, 13);
    assert.equal(s.held_out_years.dataset_drift, s.held_out_years.spans);
    assert.ok(s.held_out_years.temp_max_shift.min > 0);
  });
});
