import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateDeploymentFile } from '../rollout/deployment-spec.js';
import { monitoringOf, MonitoringSchema } from './monitoring-spec.js';
import { DETECTOR_NAMES } from './privacy/redact.js';

const doc = (monitoring: unknown) => ({
  apiVersion: 'modelgate/v1',
  kind: 'Deployment',
  metadata: { name: 'weather' },
  spec: { model: 'weather', arms: [{ version: 1, weight: 100, role: 'stable' }], monitoring },
});

const refused = (monitoring: unknown): string => {
  try {
    validateDeploymentFile(doc(monitoring));
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'MG_ERR_DEPLOYMENT_INVALID');
    return (e as Error).message;
  }
  assert.fail('accepted');
};

describe('the monitoring section of a deployment', () => {
  it('is on by default, with a 1% sample, 30 days of retention and an hour\'s drift window', () => {
    const m = validateDeploymentFile(doc(undefined)).spec.monitoring;
    assert.equal(m.enabled, true);
    assert.equal(m.sample, 0.01);
    assert.equal(m.retention, '30d');
    assert.equal(m.drift.window, '1h');
    assert.equal(m.dataQuality.action, 'allow');
    assert.deepEqual(monitoringOf({}), m, 'deployments stored before the section existed read the same defaults');
  });

  it('names the field at fault', () => {
    assert.match(refused({ retention: 'forever' }), /spec\.monitoring\.retention: "forever" is not a duration/);
    assert.match(refused({ sample: 2 }), /sample/);
    assert.match(refused({ slices: [{ name: 'r', header: 'x', input: 'y' }] }), /slices\[0\]: takes exactly one of header or input/);
    assert.match(refused({ sensitive: ['sex'] }), /sensitive\[0\]: "sex" is not a slice/);
    assert.match(refused({ drift: { window: '30s', bucket: '1m' } }), /shorter than a bucket/);
    assert.match(refused({ redact: { fields: { Email: 'drop', email: 'hash' } } }), /spec\.monitoring\.redact/);
  });

  it('offers exactly the detectors the redactor has', () => {
    const union = (MonitoringSchema.properties.redact.properties.detectors.anyOf[1] as { items: { anyOf: { const: string }[] } }).items.anyOf.map((x) => x.const);
    assert.deepEqual([...union].sort(), [...DETECTOR_NAMES].sort());
  });
});
