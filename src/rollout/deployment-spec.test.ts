import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ModelgateError } from '../errors/index.js';
import { packagePath } from '../paths.js';
import { normaliseArms, parseDeploymentFiles, validateDeploymentFile } from './deployment-spec.js';

// The file the README's worked canary applies, as shipped.
const README_EXAMPLE = readFileSync(packagePath('examples', 'weather', 'deployment.yaml'), 'utf8');

type Doc = { apiVersion?: unknown; kind?: unknown; metadata: Record<string, unknown>; spec: Record<string, unknown>; [k: string]: unknown };

function doc(spec: Record<string, unknown> = {}, name = 'weather'): Doc {
  return { apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name }, spec: { model: 'weather', arms: [{ version: 'production', weight: 100, role: 'stable' }], ...spec } };
}

/** Asserts that validating `value` fails with `code` and a message matching every pattern. */
function refused(value: unknown, code: string, ...patterns: RegExp[]): ModelgateError {
  let caught: unknown;
  try {
    validateDeploymentFile(value);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ModelgateError, `expected a ModelgateError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

function unreadable(text: string, ...patterns: RegExp[]): void {
  assert.throws(() => parseDeploymentFiles(text), (e: unknown) => {
    assert.ok(e instanceof ModelgateError, String(e));
    assert.equal(e.code, 'MG_ERR_DEPLOYMENT_FILE_UNREADABLE', e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('the README example Deployment', () => {
  test('validates and keeps what it says', () => {
    const [file, ...rest] = parseDeploymentFiles(README_EXAMPLE, 'weather.yaml');
    assert.equal(rest.length, 0);
    assert.equal(file!.metadata.name, 'weather');
    assert.equal(file!.spec.model, 'weather');
    assert.deepEqual(file!.spec.routingKey, { header: 'x-user-id' });
    assert.deepEqual(file!.spec.arms, [{ version: 'production', weight: 100, role: 'stable' }]);
    assert.deepEqual(file!.spec.strategy.canary, { analysisInterval: '30s', steps: [{ setWeight: 10 }, { analysis: {} }, { setWeight: 50 }, { pause: { duration: '1m' } }, { setWeight: 100 }] });
  });

  test('gets the documented defaults for what it leaves out', () => {
    const spec = parseDeploymentFiles(README_EXAMPLE)[0]!.spec;
    assert.equal(spec.analysis.minSamples, 50);
    assert.equal(spec.analysis.deadline, '5m');
    assert.equal(spec.analysis.onNoData, 'pause');
    assert.equal(spec.analysis.maxErrorRate, 0.05);
    assert.equal(spec.analysis.passScore, 95);
    assert.equal(spec.analysis.marginalScore, 75);
    assert.equal(spec.analysis.latency.allowedIncrease, 1.25);
    assert.equal(spec.analysis.srm.enabled, true);
    assert.equal(spec.bake, '24h');
    assert.equal(spec.gates.requireCard, true);
    assert.equal(spec.gates.requireOwner, true);
    assert.equal(spec.gates.requireReference, true);
    assert.equal(spec.gates.allowBreakingSignature, false);
    assert.deepEqual(spec.targeting, []);
    assert.equal(spec.shadow.tolerance, 1e-6);
  });

  test('gives default canary interval and approval count when a step omits them', () => {
    const spec = validateDeploymentFile(doc({ strategy: { canary: { steps: [{ approval: {} }] } } })).spec;
    assert.equal(spec.strategy.canary!.analysisInterval, '30s');
    assert.deepEqual(spec.strategy.canary!.steps, [{ approval: { required: 1 } }]);
  });

  test('leaves spec.batching unset when the file does not set it, so the server configuration applies', () => {
    const spec = validateDeploymentFile(doc()).spec;
    assert.equal(spec.batching, undefined);
  });

  test('does not change the input value it validates', () => {
    const value = doc();
    const before = JSON.stringify(value);
    validateDeploymentFile(value);
    assert.equal(JSON.stringify(value), before);
  });
});

describe('deployment validation names the field at fault', () => {
  test('another kind is refused by name', () => {
    refused({ ...doc(), kind: 'Model' }, 'MG_ERR_DEPLOYMENT_INVALID', /kind "Model" is not supported/, /kind: Deployment/);
  });

  test('a missing kind says the exact value to write', () => {
    const value: Doc = doc();
    delete value.kind;
    const e = refused(value, 'MG_ERR_DEPLOYMENT_INVALID', /kind: missing required field/);
    assert.doesNotMatch(e.message, /'deployment'/);
  });

  test('a wrong apiVersion is refused with the expected value', () => {
    refused({ ...doc(), apiVersion: 'modelgate/v2' }, 'MG_ERR_DEPLOYMENT_INVALID', /apiVersion: Expected 'modelgate\/v1' \(got "modelgate\/v2"\)/);
  });

  test('an unknown field names its path and lists the fields allowed there', () => {
    const e = refused(doc({ repicas: 3 }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.repicas: unknown field/, /allowed here: model, routingKey, arms, targeting, timeoutMs, batching, shadow, strategy, analysis, gates, bake/);
    assert.deepEqual(e.details?.problems, ['spec.repicas: unknown field (allowed here: model, routingKey, arms, targeting, timeoutMs, batching, shadow, strategy, analysis, gates, bake, monitoring, resilience, policy)']);
    refused(doc({ arms: [{ version: 'production', wieght: 100, weight: 100, role: 'stable' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms\[0\]\.wieght: unknown field \(allowed here: name, version, weight, role\)/);
    refused({ ...doc(), extra: true }, 'MG_ERR_DEPLOYMENT_INVALID', /extra: unknown field \(allowed here: apiVersion, kind, metadata, spec\)/);
    refused(doc({ analysis: { latency: { confidance: 0.9 } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.analysis\.latency\.confidance: unknown field/);
  });

  test('many problems are summarised after five, all kept in details', () => {
    const e = refused(doc({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }), 'MG_ERR_DEPLOYMENT_INVALID', /and 2 more$/);
    assert.equal((e.details?.problems as string[]).length, 7);
  });

  test('a step that is none of the four kinds lists the kinds', () => {
    refused(doc({ strategy: { canary: { steps: [{ setweight: 10 }] } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.canary\.steps\[0\]: a step is one of setWeight/);
  });

  test('stable and canary weights must sum to 100', () => {
    refused(doc({ arms: [{ version: 'production', weight: 90, role: 'stable' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms/, /sum to 90, not 100/);
    refused(doc({ arms: [{ version: 'production', weight: 80, role: 'stable' }, { version: 2, weight: 30, role: 'canary' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms/, /sum to 110/);
  });

  test('a shadow arm\'s weight is the mirrored share and is not counted in the 100', () => {
    const file = validateDeploymentFile(doc({ arms: [{ version: 'production', weight: 100, role: 'stable' }, { version: 2, weight: 50, role: 'shadow' }] }));
    assert.equal(file.spec.arms.length, 2);
    validateDeploymentFile(doc({ arms: [{ version: 1, weight: 70.1, role: 'stable' }, { version: 2, weight: 29.9, role: 'canary' }] }));
  });

  test('exactly one stable arm', () => {
    refused(doc({ arms: [{ name: 'a', version: 1, weight: 50, role: 'stable' }, { name: 'b', version: 2, weight: 50, role: 'stable' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms/, /exactly one arm with role: stable/);
    refused(doc({ arms: [{ version: 2, weight: 100, role: 'canary' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /exactly one arm with role: stable/);
  });

  test('at most one canary arm', () => {
    refused(
      doc({ arms: [{ version: 1, weight: 80, role: 'stable' }, { name: 'c1', version: 2, weight: 10, role: 'canary' }, { name: 'c2', version: 3, weight: 10, role: 'canary' }] }),
      'MG_ERR_DEPLOYMENT_INVALID',
      /spec\.arms/,
      /more than one canary arm/,
    );
  });

  test('arm names are unique (a missing name defaults to the role)', () => {
    refused(doc({ arms: [{ name: 'blue', version: 1, weight: 50, role: 'stable' }, { name: 'blue', version: 2, weight: 50, role: 'canary' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms\[1\]/, /two arms are named "blue"/);
    refused(doc({ arms: [{ version: 1, weight: 100, role: 'stable' }, { version: 2, weight: 5, role: 'shadow' }, { version: 3, weight: 5, role: 'shadow' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms\[2\]/, /two arms are named "shadow"/);
    assert.deepEqual(normaliseArms([{ version: 3, weight: 100, role: 'stable' }]), [{ name: 'stable', role: 'stable', version: '3', weight: 100 }]);
  });

  test('an arm version is a number from 1 or a valid alias', () => {
    refused(doc({ arms: [{ version: '0', weight: 100, role: 'stable' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms\[0\]\.version/, /numbered from 1/);
    refused(doc({ arms: [{ version: 'Prod!', weight: 100, role: 'stable' }] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.arms\[0\]\.version/, /Invalid alias/);
  });

  test('routingKey takes exactly one of header or input', () => {
    refused(doc({ routingKey: { header: 'x-user-id', input: 'user' } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.routingKey/, /exactly one of header or input/);
    refused(doc({ routingKey: {} }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.routingKey/, /exactly one of header or input/);
    assert.deepEqual(validateDeploymentFile(doc({ routingKey: { input: 'user' } })).spec.routingKey, { input: 'user' });
  });

  test('a targeting rule must name an existing arm that is not a shadow', () => {
    const arms = [{ version: 1, weight: 90, role: 'stable' }, { name: 'beta', version: 2, weight: 10, role: 'canary' }, { version: 3, weight: 20, role: 'shadow' }];
    const rule = (arm: string) => ({ name: 'testers', match: [{ header: 'x-beta', op: 'equals', value: '1' }], arm });
    validateDeploymentFile(doc({ arms, targeting: [rule('beta'), rule('stable')] }));
    refused(doc({ arms, targeting: [rule('beta'), rule('gamma')] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.targeting\[1\]\.arm/, /no arm named "gamma"/, /arms: stable, beta, shadow/);
    refused(doc({ arms, targeting: [rule('shadow')] }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.targeting\[0\]\.arm/, /"shadow" is a shadow arm/);
  });

  test('every duration is checked where it is written', () => {
    refused(doc({ strategy: { canary: { steps: [{ setWeight: 10 }, { pause: { duration: '5x' } }] } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.canary\.steps\[1\]\.pause\.duration: "5x" is not a duration/);
    refused(doc({ strategy: { canary: { steps: [{ analysis: { interval: '1m30' } }] } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.canary\.steps\[0\]\.analysis\.interval: "1m30"/);
    refused(doc({ strategy: { canary: { analysisInterval: 'soon', steps: [{ setWeight: 10 }] } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.canary\.analysisInterval/);
    refused(doc({ bake: '1 day' }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.bake: "1 day"/);
    refused(doc({ analysis: { deadline: '5mins' } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.analysis\.deadline/);
    refused(doc({ strategy: { blueGreen: { previewDuration: 'x' } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.blueGreen\.previewDuration/);
    refused(doc({ strategy: { blueGreen: { rollbackWindow: '10min' } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.blueGreen\.rollbackWindow/);
    refused(doc({ strategy: { shadow: { duration: '-1m' } } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.strategy\.shadow\.duration/);
    // A bare number is milliseconds.
    validateDeploymentFile(doc({ bake: 0, strategy: { canary: { steps: [{ pause: { duration: 1500 } }] } } }));
  });

  test('marginalScore may not exceed passScore', () => {
    refused(doc({ analysis: { passScore: 80, marginalScore: 90 } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.analysis/, /marginalScore \(90\) is above passScore \(80\)/);
    validateDeploymentFile(doc({ analysis: { passScore: 80, marginalScore: 80 } }));
  });

  test('analysis metrics may not redefine a built-in metric and need a bound to be judged by', () => {
    refused(doc({ analysis: { metrics: [{ name: 'error_rate', max: 0.1 }] } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.analysis\.metrics\[0\]\.name/, /"error_rate" is built in/);
    refused(doc({ analysis: { metrics: [{ name: 'drift_score', max: 0.2 }, { name: 'accuracy_delta' }] } }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.analysis\.metrics\[1\]/, /needs min, max or maxDegradation/);
    const spec = validateDeploymentFile(doc({ analysis: { metrics: [{ name: 'shadow_agreement' }, { name: 'accuracy_delta', maxDegradation: 0.02 }] } })).spec;
    assert.deepEqual(spec.analysis.metrics.map((m) => m.name), ['shadow_agreement', 'accuracy_delta']);
  });

  test('metadata.name and spec.model must be valid names', () => {
    refused(doc({}, 'Weather Service'), 'MG_ERR_DEPLOYMENT_INVALID', /metadata\.name "Weather Service" is not a valid name/);
    refused(doc({}, ''), 'MG_ERR_DEPLOYMENT_INVALID', /metadata\.name/);
    refused(doc({ model: 'W/x' }), 'MG_ERR_DEPLOYMENT_INVALID', /spec\.model "W\/x"/);
  });

  test('a document that is not an object is refused', () => {
    refused('hello', 'MG_ERR_DEPLOYMENT_INVALID', /\(document\): Expected object/);
    refused(null, 'MG_ERR_DEPLOYMENT_INVALID');
  });
});

describe('deployment files: documents, formats and unreadable input', () => {
  const yamlDoc = (name: string, weight = 100) => `apiVersion: modelgate/v1\nkind: Deployment\nmetadata: { name: ${name} }\nspec:\n  model: weather\n  arms: [{ version: production, weight: ${weight}, role: stable }]\n`;

  test('YAML documents separated by --- are each validated, in order', () => {
    const files = parseDeploymentFiles(`${yamlDoc('first')}---\n${yamlDoc('second')}`);
    assert.deepEqual(files.map((f) => f.metadata.name), ['first', 'second']);
  });

  test('empty YAML documents between separators are skipped', () => {
    const files = parseDeploymentFiles(`---\n# nothing here\n---\n${yamlDoc('only')}---\n`);
    assert.deepEqual(files.map((f) => f.metadata.name), ['only']);
  });

  test('an error in the second document names the document', () => {
    assert.throws(() => parseDeploymentFiles(`${yamlDoc('first')}---\n${yamlDoc('second', 90)}`, 'deploy.yaml'), (e: unknown) => e instanceof ModelgateError && e.code === 'MG_ERR_DEPLOYMENT_INVALID' && /deploy\.yaml \(document 2\)/.test(e.message) && /sum to 90/.test(e.message));
  });

  test('a JSON array holds several documents, a JSON object one', () => {
    const files = parseDeploymentFiles(JSON.stringify([doc({}, 'a'), doc({}, 'b')]));
    assert.deepEqual(files.map((f) => f.metadata.name), ['a', 'b']);
    assert.equal(parseDeploymentFiles(`  ${JSON.stringify(doc({}, 'c'))}\n`)[0]!.metadata.name, 'c');
  });

  test('a deployment defined twice in one file is refused', () => {
    assert.throws(() => parseDeploymentFiles(`${yamlDoc('twice')}---\n${yamlDoc('twice')}`, 'deploy.yaml'), (e: unknown) => e instanceof ModelgateError && e.code === 'MG_ERR_DEPLOYMENT_INVALID' && /deploy\.yaml defines deployment "twice" twice/.test(e.message));
    assert.throws(() => parseDeploymentFiles(JSON.stringify([doc({}, 'x'), doc({}, 'x')])), (e: unknown) => e instanceof ModelgateError && e.code === 'MG_ERR_DEPLOYMENT_INVALID');
  });

  test('an empty file, or one of comments only, is unreadable', () => {
    unreadable('', /holds no document/);
    unreadable('  \n\n', /holds no document/);
    unreadable('# just a comment\n', /holds no document/);
    unreadable('[]', /holds no document/);
  });

  test('invalid YAML is unreadable and names the document', () => {
    unreadable('apiVersion: modelgate/v1\nkind: [Deployment\nspec: 1\n', /document 1\) is not valid YAML or JSON/);
    unreadable(`${yamlDoc('ok')}---\na: b: c\n`, /document 2\) is not valid YAML or JSON/);
    unreadable('a: 1\na: 2\n', /not valid YAML/);
  });

  test('invalid JSON is unreadable', () => {
    unreadable('[{"apiVersion": "modelgate/v1",]', /not valid YAML or JSON/);
    unreadable('{"apiVersion"', /not valid YAML or JSON/);
  });

  test('a YAML document written in flow style is read as YAML', () => {
    const files = parseDeploymentFiles('{apiVersion: modelgate/v1, kind: Deployment, metadata: {name: flow}, spec: {model: weather, arms: [{version: production, weight: 100, role: stable}]}}');
    assert.equal(files[0]!.metadata.name, 'flow');
  });
});
