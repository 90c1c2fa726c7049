import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelgateError } from '../errors/index.js';
import { validateDeploymentFile, type DeploymentSpec } from './deployment-spec.js';
import { compilePlan, describeStep, type StrategyName } from './rollout-plan.js';

/** A validated spec (defaults filled, as the store keeps it) with the given strategy and extra fields. */
function spec(strategy: Record<string, unknown>, extra: Record<string, unknown> = {}): DeploymentSpec {
  return validateDeploymentFile({ apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name: 'weather' }, spec: { model: 'weather', arms: [{ version: 'production', weight: 100, role: 'stable' }], strategy, ...extra } }).spec;
}

function refusedStrategy(s: DeploymentSpec, strategy: StrategyName, pattern: RegExp): void {
  assert.throws(() => compilePlan(s, strategy), (e: unknown) => e instanceof ModelgateError && e.code === 'MG_ERR_ROLLOUT_INVALID_STRATEGY' && pattern.test(e.message));
}

test('canary steps compile in order and end with a promote that keeps the old version for the bake', () => {
  const plan = compilePlan(
    spec({ canary: { analysisInterval: '30s', steps: [{ setWeight: 10 }, { pause: { duration: '1m' } }, { pause: {} }, { analysis: {} }, { analysis: { interval: '2m' } }, { approval: { required: 2 } }, { setWeight: 100 }] } }, { bake: '1h' }),
    'canary',
  );
  assert.deepEqual(plan, {
    strategy: 'canary',
    analysisIntervalMs: 30_000,
    steps: [
      { kind: 'setWeight', weight: 10 },
      { kind: 'pause', durationMs: 60_000 },
      { kind: 'pause', durationMs: null },
      { kind: 'analysis', intervalMs: 30_000 },
      { kind: 'analysis', intervalMs: 120_000 },
      { kind: 'approval', required: 2 },
      { kind: 'setWeight', weight: 100 },
      { kind: 'promote', standbyMs: 3_600_000 },
    ],
  });
});

test('a canary analysis step without an interval judges over the canary analysisInterval', () => {
  const plan = compilePlan(spec({ canary: { analysisInterval: '45s', steps: [{ analysis: {} }] } }), 'canary');
  assert.deepEqual(plan.steps[0], { kind: 'analysis', intervalMs: 45_000 });
  assert.equal(plan.analysisIntervalMs, 45_000);
});

test('an approval step written as approval: {} needs one approval, and the default bake is 24h', () => {
  const plan = compilePlan(spec({ canary: { steps: [{ approval: {} }] } }), 'canary');
  assert.deepEqual(plan.steps, [{ kind: 'approval', required: 1 }, { kind: 'promote', standbyMs: 86_400_000 }]);
  assert.equal(plan.analysisIntervalMs, 30_000);
});

test('a zero bake promotes without keeping a standby', () => {
  const plan = compilePlan(spec({ canary: { steps: [{ setWeight: 50 }] } }, { bake: '0s' }), 'canary');
  assert.deepEqual(plan.steps.at(-1), { kind: 'promote', standbyMs: 0 });
});

test('strategy canary without a canary section is refused with MG_ERR_ROLLOUT_INVALID_STRATEGY', () => {
  refusedStrategy(spec({}), 'canary', /spec\.strategy\.canary/);
  refusedStrategy(spec({ blueGreen: {} }), 'canary', /--strategy blue-green/);
});

test('an unknown strategy name is refused with MG_ERR_ROLLOUT_INVALID_STRATEGY', () => {
  refusedStrategy(spec({ canary: { steps: [{ setWeight: 10 }] } }), 'linear' as StrategyName, /Unknown strategy "linear"/);
});

test('blue-green with a preview mirrors traffic, judges it over the preview duration, then promotes', () => {
  const plan = compilePlan(spec({ blueGreen: { previewPercent: 25, previewDuration: '2m', analysisInterval: '10s', rollbackWindow: '30m' } }, { bake: '10m' }), 'blue-green');
  assert.deepEqual(plan, {
    strategy: 'blue-green',
    analysisIntervalMs: 10_000,
    steps: [{ kind: 'shadow', percent: 25 }, { kind: 'analysis', intervalMs: 120_000 }, { kind: 'promote', standbyMs: 1_800_000 }],
  });
});

test('blue-green keeps the old version for the longer of the rollback window and the bake', () => {
  const plan = compilePlan(spec({ blueGreen: { rollbackWindow: '10m' } }, { bake: '2h' }), 'blue-green');
  assert.deepEqual(plan.steps.at(-1), { kind: 'promote', standbyMs: 7_200_000 });
});

test('blue-green without a preview waits the preview duration instead of mirroring', () => {
  const plan = compilePlan(spec({ blueGreen: { previewPercent: 0, previewDuration: '90s' } }, { bake: '0s' }), 'blue-green');
  assert.deepEqual(plan.steps, [{ kind: 'pause', durationMs: 90_000 }, { kind: 'promote', standbyMs: 600_000 }]);
});

test('blue-green with approvals asks for them after the preview, before the switch', () => {
  const plan = compilePlan(spec({ blueGreen: { approval: 2 } }), 'blue-green');
  assert.deepEqual(plan.steps.map((s) => s.kind), ['shadow', 'analysis', 'approval', 'promote']);
  assert.deepEqual(plan.steps[2], { kind: 'approval', required: 2 });
});

test('blue-green without a blueGreen section uses the documented defaults', () => {
  const plan = compilePlan(spec({ canary: { steps: [{ setWeight: 10 }] } }, { bake: '1m' }), 'blue-green');
  assert.deepEqual(plan, {
    strategy: 'blue-green',
    analysisIntervalMs: 30_000,
    steps: [{ kind: 'shadow', percent: 100 }, { kind: 'analysis', intervalMs: 60_000 }, { kind: 'promote', standbyMs: 600_000 }],
  });
});

test('shadow-then-canary mirrors for the shadow duration, ends the shadow, then runs the canary steps', () => {
  const plan = compilePlan(spec({ shadow: { percent: 40, duration: '5m' }, canary: { analysisInterval: '20s', steps: [{ setWeight: 20 }, { analysis: {} }] } }, { bake: '1h' }), 'shadow');
  assert.deepEqual(plan, {
    strategy: 'shadow',
    analysisIntervalMs: 20_000,
    steps: [
      { kind: 'shadow', percent: 40 },
      { kind: 'analysis', intervalMs: 300_000 },
      { kind: 'shadow', percent: 0 },
      { kind: 'setWeight', weight: 20 },
      { kind: 'analysis', intervalMs: 20_000 },
      { kind: 'promote', standbyMs: 3_600_000 },
    ],
  });
});

test('shadow-then-canary without a canary section uses the default canary steps', () => {
  const plan = compilePlan(spec({ shadow: {} }), 'shadow');
  assert.deepEqual(plan.steps, [
    { kind: 'shadow', percent: 100 },
    { kind: 'analysis', intervalMs: 60_000 },
    { kind: 'shadow', percent: 0 },
    { kind: 'setWeight', weight: 10 },
    { kind: 'analysis', intervalMs: 30_000 },
    { kind: 'setWeight', weight: 50 },
    { kind: 'analysis', intervalMs: 30_000 },
    { kind: 'promote', standbyMs: 86_400_000 },
  ]);
  assert.equal(plan.analysisIntervalMs, 30_000);
});

test('shadow-then-canary without any strategy section uses the default shadow and canary', () => {
  const plan = compilePlan(spec({}), 'shadow');
  assert.deepEqual(plan.steps.slice(0, 3), [{ kind: 'shadow', percent: 100 }, { kind: 'analysis', intervalMs: 60_000 }, { kind: 'shadow', percent: 0 }]);
  assert.equal(plan.steps.length, 8);
});

test('every plan ends with exactly one promote step', () => {
  const s = spec({ canary: { steps: [{ setWeight: 10 }, { setWeight: 100 }] }, blueGreen: {}, shadow: {} });
  for (const strategy of ['canary', 'blue-green', 'shadow'] as const) {
    const plan = compilePlan(s, strategy);
    assert.equal(plan.steps.at(-1)?.kind, 'promote', strategy);
    assert.equal(plan.steps.filter((x) => x.kind === 'promote').length, 1, strategy);
  }
});

test('compiling copies the steps, so editing the spec afterwards does not change the plan', () => {
  const s = spec({ canary: { steps: [{ setWeight: 10 }] } });
  const plan = compilePlan(s, 'canary');
  (s.strategy.canary!.steps[0] as { setWeight: number }).setWeight = 90;
  assert.deepEqual(plan.steps[0], { kind: 'setWeight', weight: 10 });
});

test('describeStep says what each step does', () => {
  assert.equal(describeStep({ kind: 'setWeight', weight: 25 }), 'setWeight 25');
  assert.equal(describeStep({ kind: 'shadow', percent: 50 }), 'shadow 50%');
  assert.equal(describeStep({ kind: 'shadow', percent: 0 }), 'end shadow');
  assert.equal(describeStep({ kind: 'pause', durationMs: null }), 'pause (until resumed)');
  assert.equal(describeStep({ kind: 'pause', durationMs: 90_000 }), 'pause 90s');
  assert.equal(describeStep({ kind: 'analysis', intervalMs: 30_000 }), 'analysis 30s');
  assert.equal(describeStep({ kind: 'approval', required: 2 }), 'approval ×2');
  assert.equal(describeStep({ kind: 'promote', standbyMs: 0 }), 'promote');
});
