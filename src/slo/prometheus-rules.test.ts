import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { packagePath } from '../paths.js';
import { BUDGET_LOW_ALERT, generateRules, PAGE_ALERT, planRules, type AlertingRule, type RecordingRule } from './prometheus-rules.js';
import { parseSloFiles, validateSloDocument, type SloSpec } from './slo-spec.js';

const TESTDATA = packagePath('src', 'slo', 'testdata');
const example = (): SloSpec[] => parseSloFiles(readFileSync(join(TESTDATA, 'weather-slo.yaml'), 'utf8'), 'weather-slo.yaml');

function slo(name: string, spec: Record<string, unknown>): SloSpec {
  return validateSloDocument({ apiVersion: 'modelgate/v1', kind: 'SLO', metadata: { name }, spec: { deployment: 'weather', objective: 0.99, ...spec } });
}
const latency = () => slo('weather-latency', { sli: { type: 'latency', thresholdMs: 250 }, window: '7d' });

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const hasPromtool = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasPromtool) console.log(`NOTICE: ${PROMTOOL} not found; the promtool checks of the SLO rules are skipped. Install Prometheus' promtool to run them.`);

const dir = mkdtempSync(join(tmpdir(), 'modelgate-slo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function promtool(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function rulesOf(text: string): (RecordingRule | AlertingRule)[] {
  const doc = parse(text) as { groups: { name: string; rules: (RecordingRule | AlertingRule)[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

describe('Prometheus rules for SLOs', () => {
  test('the committed weather-slo.rules.yml is a fresh generation of weather-slo.yaml', () => {
    // After changing the SLO file or the generator, rewrite it: UPDATE_SLO_RULES=1 node --test dist/src/slo/prometheus-rules.test.js
    const file = join(TESTDATA, 'weather-slo.rules.yml');
    if (process.env.UPDATE_SLO_RULES === '1') writeFileSync(file, generateRules(example()));
    assert.equal(readFileSync(file, 'utf8'), generateRules(example()));
  });

  test('availability records an error ratio per window, labelled with slo and deployment', () => {
    const rules = rulesOf(generateRules(example()));
    const records = rules.filter((r): r is RecordingRule => 'record' in r);
    assert.deepEqual(
      records.filter((r) => r.record.startsWith('slo:sli_error:ratio_rate')).map((r) => r.record.replace('slo:sli_error:ratio_rate', '')),
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '28d'],
    );
    for (const r of records) assert.deepEqual(r.labels, { slo: 'weather-availability', deployment: 'weather' });
    const r5m = records.find((r) => r.record === 'slo:sli_error:ratio_rate5m')!;
    assert.match(r5m.expr, /outcome="error"\}\[5m\]/);
    assert.match(r5m.expr, /outcome=~"ok\|error"\}\[5m\]/);
    // Answers given while switched to the fallback reach no arm: they are added as bad events and to the total.
    assert.match(r5m.expr, /\+ \(sum\(rate\(modelgate_deployment_degraded_total\{deployment="weather",cause=~"switch\|data_quality"\}\[5m\]\)\) or vector\(0\)\)\) \/ \(sum/);
    assert.doesNotMatch(r5m.expr, /cause="failure"/);
    assert.equal(records.find((r) => r.record === 'slo:objective:ratio')!.expr, 'vector(0.999)');
    assert.equal(records.find((r) => r.record === 'slo:error_budget:ratio')!.expr, 'vector(0.001)');
  });

  test('the page alert is the or of both page rows, each needing its long and short window', () => {
    const page = rulesOf(generateRules(example())).find((r): r is AlertingRule => 'alert' in r && r.alert === PAGE_ALERT)!;
    assert.equal(
      page.expr,
      '((slo:sli_error:ratio_rate1h{slo="weather-availability"} > (14.4 * 0.001)) and (slo:sli_error:ratio_rate5m{slo="weather-availability"} > (14.4 * 0.001))) or ((slo:sli_error:ratio_rate6h{slo="weather-availability"} > (6 * 0.001)) and (slo:sli_error:ratio_rate30m{slo="weather-availability"} > (6 * 0.001)))',
    );
    assert.deepEqual(page.labels, { severity: 'page', slo: 'weather-availability', deployment: 'weather' });
    assert.ok(page.annotations.summary);
  });

  test('degradedCountsAsBad: false takes the arm failures the fallback chain answered off the bad events', () => {
    const s = slo('weather-lenient', { sli: { type: 'availability' }, degradedCountsAsBad: false });
    const r1h = rulesOf(generateRules([s])).find((r): r is RecordingRule => 'record' in r && r.record === 'slo:sli_error:ratio_rate1h')!;
    assert.match(r1h.expr, /^\(\(sum\(rate\(modelgate_deployment_requests_total\{deployment="weather",outcome="error"\}\[1h\]\)\) or vector\(0\)\) - \(sum\(rate\(modelgate_deployment_degraded_total\{deployment="weather",cause="failure"\}\[1h\]\)\) or vector\(0\)\)\) \//);
  });

  test('latency counts requests above the le bucket of thresholdMs, for the model label of the deployment', () => {
    const rules = rulesOf(generateRules([latency()]));
    const r1h = rules.find((r) => 'record' in r && r.record === 'slo:sli_error:ratio_rate1h')!;
    assert.equal(
      r1h.expr,
      '(sum(rate(modelgate_inference_request_duration_seconds_count{model="weather"}[1h])) - sum(rate(modelgate_inference_request_duration_seconds_bucket{model="weather",le="0.25"}[1h]))) / sum(rate(modelgate_inference_request_duration_seconds_count{model="weather"}[1h]))',
    );
    // The 7d window is the longest: nothing longer is recorded.
    assert.ok(rules.some((r) => 'record' in r && r.record === 'slo:sli_error:ratio_rate7d'));
    assert.ok(!rules.some((r) => 'record' in r && r.record === 'slo:sli_error:ratio_rate28d'));
  });

  test('drift and accuracy SLIs average an instant bad-or-not series; fallback_rate counts every degraded answer', () => {
    const drift = slo('weather-drift', { sli: { type: 'drift_free' } });
    const acc = slo('weather-accuracy', { sli: { type: 'accuracy', minAccuracy: 0.9 } });
    const fallback = slo('weather-fallback', { sli: { type: 'fallback_rate' } });
    const plan = planRules([drift, acc, fallback]);
    assert.equal(plan.groups.length, 3);
    assert.deepEqual(plan.skipped, []);
    const [d, a] = plan.groups.map((g) => g.rules as RecordingRule[]);
    assert.equal(d![0]!.expr, 'max(modelgate_dataset_drift{deployment="weather"})');
    assert.equal(a![0]!.expr, 'min(modelgate_model_quality{deployment="weather",metric="accuracy"}) < bool 0.9');
    assert.equal(d!.find((r) => r.record === 'slo:sli_error:ratio_rate1h')!.expr, 'avg_over_time(slo:sli_error:instant{slo="weather-drift"}[1h])');
    const f1h = (plan.groups[2]!.rules as RecordingRule[]).find((r) => r.record === 'slo:sli_error:ratio_rate1h')!;
    assert.equal(
      f1h.expr,
      '(sum(rate(modelgate_deployment_degraded_total{deployment="weather"}[1h])) or vector(0)) / (sum(rate(modelgate_deployment_requests_total{deployment="weather",outcome=~"ok|error"}[1h])) + (sum(rate(modelgate_deployment_degraded_total{deployment="weather",cause=~"switch|data_quality"}[1h])) or vector(0)))',
    );
  });

  test('the budget-low alert fires under budgetLowTicket of the budget left', () => {
    const s = slo('weather-low', { sli: { type: 'availability' }, alerting: { budgetLowTicket: 0.1 } });
    const low = rulesOf(generateRules([s])).find((r): r is AlertingRule => 'alert' in r && r.alert === BUDGET_LOW_ALERT)!;
    assert.equal(low.expr, 'slo:error_budget_remaining:ratio{slo="weather-low"} < 0.1');
    assert.equal(low.labels.severity, 'ticket');
  });

  test('promtool check rules accepts the rules of every SLI type', { skip: !hasPromtool && 'promtool not installed' }, () => {
    const all = [
      ...example(),
      latency(),
      slo('weather-drift', { sli: { type: 'drift_free' } }),
      slo('weather-accuracy', { sli: { type: 'accuracy', minAccuracy: 0.9 }, alerting: { page: [], ticket: [{ long: '1d', short: '2h', burnRate: 2 }] } }),
      slo('weather-fallback', { sli: { type: 'fallback_rate' }, objective: 0.99 }),
      slo('weather-lenient', { sli: { type: 'availability' }, degradedCountsAsBad: false }),
    ];
    const file = join(dir, 'all.rules.yml');
    writeFileSync(file, generateRules(all, { interval: '30s' }));
    const r = promtool('check', 'rules', file);
    assert.ok(r.ok, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  test('promtool test rules: a 5xx burst pages at the right minute, a slow trickle never pages', { skip: !hasPromtool && 'promtool not installed' }, () => {
    const r = promtool('test', 'rules', join(TESTDATA, 'weather-slo.rules.test.yml'));
    assert.ok(r.ok, r.output);
  });
});
