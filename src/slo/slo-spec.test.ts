import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { packagePath } from '../paths.js';
import { ERROR_CODES } from '../errors/index.js';
import { parseSloFiles, SloSpecError, validateSloDocument } from './slo-spec.js';

const EXAMPLE = readFileSync(packagePath('src', 'slo', 'testdata', 'weather-slo.yaml'), 'utf8');

function doc(spec: Record<string, unknown> = {}, name = 'weather-availability'): Record<string, unknown> {
  return { apiVersion: 'modelgate/v1', kind: 'SLO', metadata: { name }, spec: { deployment: 'weather', sli: { type: 'availability' }, objective: 0.999, ...spec } };
}

function refused(value: unknown, ...patterns: RegExp[]): SloSpecError {
  let caught: unknown;
  try {
    validateSloDocument(value);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SloSpecError, `expected an SloSpecError, got ${String(caught)}`);
  assert.equal(caught.code, 'MG_ERR_SLO_INVALID');
  assert.equal(caught.status, 400);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

describe('SLO file', () => {
  test('the shipped example validates and gets the SRE workbook defaults', () => {
    const [slo, ...rest] = parseSloFiles(EXAMPLE);
    assert.equal(rest.length, 0);
    assert.ok(slo);
    assert.equal(slo.name, 'weather-availability');
    assert.equal(slo.deployment, 'weather');
    assert.deepEqual(slo.sli, { type: 'availability' });
    assert.equal(slo.errorBudget, 0.001);
    assert.equal(slo.windowMs, 28 * 86_400_000);
    assert.equal(slo.degradedCountsAsBad, true);
    assert.deepEqual(slo.alerting.page.map((r) => [r.long, r.short, r.burnRate]), [['1h', '5m', 14.4], ['6h', '30m', 6]]);
    assert.deepEqual(slo.alerting.ticket.map((r) => [r.longMs, r.shortMs, r.burnRate]), [[86_400_000, 7_200_000, 3], [3 * 86_400_000, 21_600_000, 1]]);
    assert.equal(slo.alerting.budgetLowTicket, 0.25);
  });

  test('the window defaults to 28d and a partial alerting section keeps the other defaults', () => {
    const slo = validateSloDocument(doc({ alerting: { page: [{ long: '2h', short: '10m', burnRate: 10 }] } }));
    assert.equal(slo.window, '28d');
    assert.deepEqual(slo.alerting.page, [{ long: '2h', short: '10m', longMs: 7_200_000, shortMs: 600_000, burnRate: 10 }]);
    assert.equal(slo.alerting.ticket.length, 2);
  });

  test('several documents separated by --- parse, and JSON is read too', () => {
    const yaml = `${EXAMPLE}\n---\napiVersion: modelgate/v1\nkind: SLO\nmetadata: { name: weather-latency }\nspec: { deployment: weather, sli: { type: latency, thresholdMs: 250 }, objective: 0.99, window: 7d }\n`;
    assert.deepEqual(parseSloFiles(yaml).map((s) => s.name), ['weather-availability', 'weather-latency']);
    assert.equal(parseSloFiles(JSON.stringify([doc()]))[0]!.objective, 0.999);
  });

  test('a name used twice in one file is refused', () => {
    assert.throws(() => parseSloFiles(`${EXAMPLE}\n---\n${EXAMPLE}`), (e: unknown) => e instanceof SloSpecError && /defines SLO "weather-availability" twice/.test(e.message));
  });

  test('an objective outside (0, 1) is refused with the SLO name and field path', () => {
    const e = refused(doc({ objective: 1.2 }));
    assert.equal(e.message.startsWith('weather-availability: spec.objective: must be < 1 (got 1.2)'), true, e.message);
    refused(doc({ objective: 1 }), /spec\.objective: must be < 1/);
    refused(doc({ objective: 0 }), /spec\.objective: must be > 0/);
  });

  test('a window shorter than 1h, or not a duration, is refused', () => {
    refused(doc({ window: '30m', alerting: { page: [], ticket: [] } }), /spec\.window: must be at least 1h/);
    refused(doc({ window: 'a month' }), /spec\.window: "a month" is not a duration/);
  });

  test('latency needs a positive thresholdMs that is a histogram bucket', () => {
    refused(doc({ sli: { type: 'latency' } }), /spec\.sli\.thresholdMs: latency needs thresholdMs/);
    refused(doc({ sli: { type: 'latency', thresholdMs: 0 } }), /spec\.sli\.thresholdMs: must be > 0/);
    refused(doc({ sli: { type: 'latency', thresholdMs: 300 } }), /300 is not a request-duration histogram bucket; use one of .*250, 500/);
    assert.deepEqual(validateSloDocument(doc({ sli: { type: 'latency', thresholdMs: 0.1 } })).sli, { type: 'latency', thresholdMs: 0.1 });
    refused(doc({ sli: { type: 'availability', thresholdMs: 250 } }), /thresholdMs: only applies to type: latency/);
  });

  test('accuracy needs minAccuracy in (0, 1]; an unknown SLI type lists the types', () => {
    refused(doc({ sli: { type: 'accuracy' } }), /spec\.sli\.minAccuracy: accuracy needs minAccuracy/);
    refused(doc({ sli: { type: 'accuracy', minAccuracy: 1.5 } }), /minAccuracy: must be in \(0, 1\]/);
    refused(doc({ sli: { type: 'uptime' } }), /spec\.sli\.type: must be one of availability, latency, drift_free, accuracy, fallback_rate/);
  });

  test('an alert row needs short < long, a positive burn rate and a long window within the SLO window', () => {
    refused(doc({ alerting: { page: [{ long: '5m', short: '1h', burnRate: 14.4 }] } }), /spec\.alerting\.page\[0\]: short \(1h\) must be shorter than long \(5m\)/);
    refused(doc({ alerting: { page: [{ long: '1h', short: '1h', burnRate: 14.4 }] } }), /short \(1h\) must be shorter/);
    refused(doc({ alerting: { ticket: [{ long: '1d', short: '2h', burnRate: 0 }] } }), /spec\.alerting\.ticket\[0\]\.burnRate: must be > 0 \(got 0\)/);
    refused(doc({ window: '1d' }), /spec\.alerting\.ticket\[1\]\.long: 3d is longer than the SLO window \(1d\)/);
    refused(doc({ alerting: { budgetLowTicket: 1 } }), /budgetLowTicket: must be at least 0 and below 1/);
  });

  test('unknown fields, a missing deployment and another kind are refused naming the path', () => {
    refused(doc({ objectiv: 0.99 }), /weather-availability: not a valid SLO: spec.objectiv: unknown field/);
    const noDeployment = doc();
    delete (noDeployment.spec as Record<string, unknown>).deployment;
    refused(noDeployment, /spec\.deployment: missing required field/);
    refused({ ...doc(), kind: 'Deployment' }, /kind "Deployment" is not an SLO/);
  });

  test('the error code carries a status and a message that says what to do', () => {
    assert.equal(ERROR_CODES.MG_ERR_SLO_INVALID.status, 400);
    assert.match(ERROR_CODES.MG_ERR_SLO_INVALID.message, /Fix the field named in the message/);
  });
});
