// The rollout contract: deployments, the traffic ledger, rollouts, the controller, freezes and approvals behave
// the same on SQLite and on PostgreSQL. The controller is driven tick by tick, with no server and no timer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { AppContext } from '../src/context.js';
import { listAudit } from '../src/governance/audit.js';
import { RolloutController } from '../src/rollout/rollout-controller.js';
import { DIALECTS, principal, rejection, V1, V2 } from './helpers.js';

const admin = principal('admin');
const alice = principal('operator', [], 'test:alice');
const bob = principal('approver', [], 'test:bob');
const carol = principal('approver', [], 'test:carol');
const viewer = principal('viewer', [], 'test:viewer');
const scoped = principal('operator', ['other-*'], 'test:scoped');
const OWNER = 'team <a@b.c>';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const card = (p: string) => ({ text: readFileSync(p, 'utf8'), source: p });

/** A Deployment document, stable on the production alias. */
function deployment(name: string, spec: Record<string, unknown> = {}, model = name): Record<string, unknown> {
  return { apiVersion: 'modelgate/v1', kind: 'Deployment', metadata: { name }, spec: { model, routingKey: { header: 'x-user-id' }, arms: [{ version: 'production', weight: 100, role: 'stable' }], ...spec } };
}

/** A deployment whose canary runs `steps`; v2 adds an input feature, which these deployments allow. */
function canaryDeployment(name: string, steps: unknown[], spec: Record<string, unknown> = {}): Record<string, unknown> {
  return deployment(name, { strategy: { canary: { analysisInterval: '30s', steps } }, gates: { allowBreakingSignature: true }, bake: '1m', ...spec });
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

/** 100 latencies around 10–15 ms, the same spread for every arm. */
const LATENCIES = JSON.stringify(Array.from({ length: 100 }, (_, i) => 10 + ((i * 37) % 100) / 20));

for (const dialect of DIALECTS) {
  describe(`rollout store contract: ${dialect.name}`, { skip: dialect.skip }, () => {
    let ctx: AppContext;
    let cleanup: () => Promise<void>;
    let controller: RolloutController;

    /** v1 (production) and v2 of `model`, both with card, reference profile and owner. */
    async function registerPair(model: string): Promise<void> {
      await ctx.registry.register(admin, { name: model, artifact: { path: V1.model }, card: card(V1.card), reference: { path: V1.reference }, owner: OWNER });
      await ctx.registry.register(admin, { name: model, artifact: { path: V2.model }, card: card(V2.card), reference: { path: V2.reference }, owner: OWNER });
      await ctx.registry.setAlias(admin, model, 'production', '1');
    }

    /** A model of its own (rollouts move its production alias), a deployment of it, and a started rollout. */
    async function startRollout(name: string, steps: unknown[], spec: Record<string, unknown> = {}) {
      await registerPair(name);
      await ctx.deployments.apply(alice, [canaryDeployment(name, steps, spec)]);
      return ctx.rollouts.start(alice, name, { to: '2' });
    }

    const status = (name: string) => ctx.rollouts.status(admin, name);
    const production = async (model: string) => (await ctx.registry.getModel(admin, model)).aliases.production;
    const ledger = async (name: string) => (await ctx.deployments.history(admin, name)).entries.reverse();
    const ledgerCounts = async (name: string) => countBy((await ctx.store.db.selectFrom('traffic_ledger').select('action').where('deployment', '=', name).execute()).map((r) => r.action));
    const auditCounts = async (name: string) => countBy((await listAudit(ctx.store.db, { target: `deployment/${name}`, limit: 1000 })).map((e) => e.action));

    /** Ticks while the rollout is in one of `phases` (at most `max` ticks), returning its status. */
    async function tickWhile(name: string, phases: string[], max = 30) {
      let s = await status(name);
      for (let i = 0; i < max && phases.includes(s.phase); i++) {
        await controller.tick();
        s = await status(name);
        if (phases.includes(s.phase)) await sleep(5);
      }
      return s;
    }

    async function insertStats(name: string, rows: { role: string; version: number; requests: number; errors: number }[]): Promise<void> {
      const at = new Date().toISOString();
      await ctx.store.db
        .insertInto('arm_stats')
        .values(rows.map((r) => ({ deployment: name, arm: r.role, role: r.role, version: r.version, at, replica: 'synthetic', requests: r.requests, errors: r.errors, latencies: LATENCIES, shadow: null })))
        .execute();
    }

    before(async () => {
      ({ ctx, cleanup } = await dialect.open());
      await registerPair('weather');
      controller = new RolloutController({ store: ctx.store, logger: ctx.logger, tickMs: 1_000_000 });
    });
    after(async () => {
      await controller?.stop();
      await cleanup?.();
    });

    describe('apply', () => {
      it('creates a deployment with one ledger entry (apply) and a deployment.create audit event', async () => {
        const [result] = await ctx.deployments.apply(alice, [deployment('weather')]);
        assert.equal(result!.name, 'weather');
        assert.equal(result!.action, 'created');
        assert.equal(result!.dryRun, false);
        assert.deepEqual(result!.weights, { 1: 100 });
        const entries = await ledger('weather');
        assert.deepEqual(entries.map((e) => [e.action, e.actor, e.weights]), [['apply', alice.actor, { 1: 100 }]]);
        const audit = await auditCounts('weather');
        assert.equal(audit['deployment.create'], 1);
        const info = await ctx.deployments.get(viewer, 'weather');
        assert.equal(info.generation, 1);
        assert.equal(info.model, 'weather');
        assert.deepEqual(info.weights, { 1: 100 });
        assert.equal(info.createdBy, alice.actor);
        assert.equal(info.rollout, null);
        assert.deepEqual((await ctx.deployments.list(viewer)).map((d) => d.name), ['weather']);
      });

      it('re-applying an unchanged file writes nothing', async () => {
        const audit = await auditCounts('weather');
        const [result] = await ctx.deployments.apply(alice, [deployment('weather')]);
        assert.equal(result!.action, 'unchanged');
        assert.deepEqual(result!.changes, []);
        assert.equal((await ledger('weather')).length, 1);
        assert.deepEqual(await auditCounts('weather'), audit);
        assert.equal((await ctx.deployments.get(admin, 'weather')).generation, 1);
      });

      it('changing the arms configures the deployment, with a ledger entry and a new generation', async () => {
        await sleep(5);
        const [result] = await ctx.deployments.apply(alice, [deployment('weather', { arms: [{ version: 'production', weight: 90, role: 'stable' }, { version: 2, weight: 10, role: 'canary' }] })]);
        assert.equal(result!.action, 'configured');
        assert.ok(result!.changes.some((c) => c.path.startsWith('spec.arms')), JSON.stringify(result!.changes));
        assert.deepEqual(result!.weights, { 1: 90, 2: 10 });
        const entries = await ledger('weather');
        assert.deepEqual(entries.map((e) => [e.action, e.weights]), [['apply', { 1: 100 }], ['apply', { 1: 90, 2: 10 }]]);
        const info = await ctx.deployments.get(admin, 'weather');
        assert.equal(info.generation, 2);
        assert.deepEqual(info.weights, { 1: 90, 2: 10 });
        assert.equal((await auditCounts('weather'))['deployment.apply'], 1);
      });

      it('a dry run (and diff) reports the change but writes nothing', async () => {
        const audit = await auditCounts('weather');
        const [dry] = await ctx.deployments.apply(alice, [deployment('weather')], { dryRun: true });
        assert.equal(dry!.action, 'configured');
        assert.equal(dry!.dryRun, true);
        assert.deepEqual(dry!.weights, { 1: 100 });
        const [diff] = await ctx.deployments.diff(alice, [deployment('weather')]);
        assert.equal(diff!.action, 'configured');
        assert.deepEqual(diff!.changes, dry!.changes);
        const [fresh] = await ctx.deployments.apply(alice, [deployment('weather-new', {}, 'weather')], { dryRun: true });
        assert.equal(fresh!.action, 'created');
        assert.equal((await ledger('weather')).length, 2);
        const info = await ctx.deployments.get(admin, 'weather');
        assert.equal(info.generation, 2);
        assert.deepEqual(info.weights, { 1: 90, 2: 10 });
        assert.deepEqual(await auditCounts('weather'), audit);
        assert.equal((await rejection(() => ctx.deployments.get(admin, 'weather-new'))).code, 'MG_ERR_DEPLOYMENT_NOT_FOUND');
      });

      it('an arm naming a missing alias, a missing version or an archived version is refused', async () => {
        const missingAlias = await rejection(() => ctx.deployments.apply(alice, [deployment('weather', { arms: [{ version: 'staging', weight: 100, role: 'stable' }] })]));
        assert.equal(missingAlias.code, 'MG_ERR_DEPLOYMENT_INVALID');
        assert.match(missingAlias.message, /spec\.arms\[0\]\.version/);
        assert.match(missingAlias.message, /no alias "staging"/);
        const missingVersion = await rejection(() => ctx.deployments.apply(alice, [deployment('weather', { arms: [{ version: 99, weight: 100, role: 'stable' }] })]));
        assert.equal(missingVersion.code, 'MG_ERR_DEPLOYMENT_INVALID');
        assert.match(missingVersion.message, /no version 99/);
        await ctx.registry.register(admin, { name: 'weather', artifact: { path: V1.model }, owner: OWNER });
        await ctx.registry.archive(admin, 'weather@3');
        const archived = await rejection(() => ctx.deployments.apply(alice, [deployment('weather', { arms: [{ version: 'production', weight: 50, role: 'stable' }, { version: 3, weight: 50, role: 'canary' }] })]));
        assert.equal(archived.code, 'MG_ERR_DEPLOYMENT_INVALID');
        assert.match(archived.message, /spec\.arms\[1\]\.version/);
        assert.match(archived.message, /archived/);
        assert.equal((await ledger('weather')).length, 2, 'a refused apply writes nothing');
        const unknownModel = await rejection(() => ctx.deployments.apply(alice, [deployment('ghost')]));
        assert.equal(unknownModel.code, 'MG_ERR_MODEL_NOT_FOUND');
      });

      it('all documents are validated before any is written', async () => {
        const refused = await rejection(() => ctx.deployments.apply(alice, [deployment('batch-ok', {}, 'weather'), deployment('batch-bad', { arms: [{ version: 'staging', weight: 100, role: 'stable' }] }, 'weather')]));
        assert.equal(refused.code, 'MG_ERR_DEPLOYMENT_INVALID');
        assert.equal((await rejection(() => ctx.deployments.get(admin, 'batch-ok'))).code, 'MG_ERR_DEPLOYMENT_NOT_FOUND');
      });

      it('a viewer cannot apply, diff, kill or delete', async () => {
        assert.equal((await rejection(() => ctx.deployments.apply(viewer, [deployment('weather')]))).code, 'MG_ERR_AUTH_FORBIDDEN');
        assert.equal((await rejection(() => ctx.deployments.diff(viewer, [deployment('weather')]))).code, 'MG_ERR_AUTH_FORBIDDEN');
        assert.equal((await rejection(() => ctx.deployments.kill(viewer, 'weather', true))).code, 'MG_ERR_AUTH_FORBIDDEN');
        assert.equal((await rejection(() => ctx.deployments.remove(viewer, 'weather'))).code, 'MG_ERR_AUTH_FORBIDDEN');
        assert.equal((await ledger('weather')).length, 2);
      });

      it('a key scoped to another model can neither see nor change the deployment', async () => {
        assert.deepEqual((await ctx.deployments.list(scoped)).map((d) => d.name), []);
        for (const fn of [
          () => ctx.deployments.get(scoped, 'weather'),
          () => ctx.deployments.history(scoped, 'weather'),
          () => ctx.deployments.apply(scoped, [deployment('weather')]),
          () => ctx.deployments.kill(scoped, 'weather', true),
          () => ctx.deployments.remove(scoped, 'weather'),
          () => ctx.rollouts.check(scoped, 'weather', '2'),
          () => ctx.rollouts.start(scoped, 'weather', { to: '2' }),
        ]) {
          assert.equal((await rejection(fn)).code, 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE');
        }
        assert.equal((await ledger('weather')).length, 2);
      });

      it(
        'a key scoped to another model cannot take over an existing deployment by pointing it at its own model',
        async () => {
          await ctx.registry.register(admin, { name: 'other-x', artifact: { path: V1.model }, owner: OWNER });
          await ctx.registry.setAlias(admin, 'other-x', 'production', '1');
          await ctx.deployments.apply(alice, [deployment('owned', {}, 'weather')]);
          const refused = await rejection(() => ctx.deployments.apply(scoped, [deployment('owned', {}, 'other-x')]));
          assert.equal(refused.code, 'MG_ERR_AUTH_MODEL_OUT_OF_SCOPE');
          assert.equal((await ctx.deployments.get(admin, 'owned')).model, 'weather');
        },
      );

      it(
        'pointing a deployment at another model is a traffic change and is recorded in the ledger',
        async () => {
          await ctx.registry.register(admin, { name: 'other-y', artifact: { path: V1.model }, owner: OWNER });
          await ctx.registry.setAlias(admin, 'other-y', 'production', '1');
          await ctx.deployments.apply(alice, [deployment('repoint', {}, 'weather')]);
          const [result] = await ctx.deployments.apply(alice, [deployment('repoint', {}, 'other-y')]);
          assert.equal(result!.action, 'configured');
          assert.equal((await ledger('repoint')).length, 2);
        },
      );
    });

    describe('history', () => {
      it('answers with the entry in force at a time: none before creation, the earlier one between two changes', async () => {
        const beforeCreation = new Date().toISOString();
        await sleep(5);
        await ctx.deployments.apply(alice, [deployment('hist', {}, 'weather')]);
        await sleep(10);
        await ctx.deployments.apply(alice, [deployment('hist', { arms: [{ version: 'production', weight: 70, role: 'stable' }, { version: 2, weight: 30, role: 'canary' }] }, 'weather')]);
        const [first, second] = await ledger('hist');
        assert.ok(first && second && first.at < second.at);
        assert.deepEqual((await ctx.deployments.history(viewer, 'hist', beforeCreation)).entries, []);
        const between = new Date(Date.parse(second.at) - 1).toISOString();
        const atBetween = await ctx.deployments.history(viewer, 'hist', between);
        assert.deepEqual(atBetween.entries.map((e) => [e.id, e.weights]), [[first.id, { 1: 100 }]]);
        assert.equal(atBetween.at, between);
        assert.deepEqual((await ctx.deployments.history(viewer, 'hist', first.at)).entries.map((e) => e.id), [first.id]);
        assert.deepEqual((await ctx.deployments.history(viewer, 'hist', second.at)).entries.map((e) => e.id), [second.id]);
        assert.deepEqual((await ctx.deployments.history(viewer, 'hist', '2999-01-01T00:00:00Z')).entries.map((e) => e.weights), [{ 1: 70, 2: 30 }]);
        // A time with an offset means the same instant.
        const shifted = new Date(Date.parse(second.at) - 1).toISOString().replace('Z', '+00:00');
        assert.deepEqual((await ctx.deployments.history(viewer, 'hist', shifted)).entries.map((e) => e.id), [first.id]);
        const all = await ctx.deployments.history(viewer, 'hist');
        assert.deepEqual(all.entries.map((e) => e.id), [second.id, first.id], 'newest first');
        assert.equal(all.at, null);
      });

      it('refuses a time that is not ISO 8601 with MG_ERR_HISTORY_INVALID_TIME', async () => {
        for (const bad of ['yesterday', '2026-13-45T00:00:00Z', '12/01/2026', '']) {
          assert.equal((await rejection(() => ctx.deployments.history(viewer, 'hist', bad))).code, 'MG_ERR_HISTORY_INVALID_TIME', bad);
        }
      });

      it('knows deployments that never existed, and keeps the history of a deleted one', async () => {
        assert.equal((await rejection(() => ctx.deployments.history(viewer, 'never'))).code, 'MG_ERR_DEPLOYMENT_NOT_FOUND');
        await ctx.deployments.apply(alice, [deployment('short-lived', {}, 'weather')]);
        await ctx.deployments.remove(alice, 'short-lived');
        assert.deepEqual((await ctx.deployments.history(viewer, 'short-lived')).entries.map((e) => [e.action, e.weights]), [['delete', {}], ['apply', { 1: 100 }]]);
        assert.equal((await auditCounts('short-lived'))['deployment.delete'], 1);
      });
    });

    describe('kill switch', () => {
      it('sends all traffic to stable (kill) and gives the weights back (kill.off)', async () => {
        await ctx.deployments.apply(alice, [deployment('killable', { arms: [{ version: 'production', weight: 80, role: 'stable' }, { version: 2, weight: 20, role: 'canary' }] }, 'weather')]);
        const killed = await ctx.deployments.kill(alice, 'killable', true, 'incident drill');
        assert.equal(killed.killSwitch, true);
        assert.deepEqual(killed.weights, { 1: 100 });
        const lifted = await ctx.deployments.kill(alice, 'killable', false);
        assert.equal(lifted.killSwitch, false);
        assert.deepEqual(lifted.weights, { 1: 80, 2: 20 });
        const entries = await ledger('killable');
        assert.deepEqual(entries.map((e) => [e.action, e.weights]), [['apply', { 1: 80, 2: 20 }], ['kill', { 1: 100 }], ['kill.off', { 1: 80, 2: 20 }]]);
        assert.equal(entries[1]!.reason, 'incident drill');
        const audit = await auditCounts('killable');
        assert.equal(audit['deployment.kill'], 1);
        assert.equal(audit['deployment.kill.off'], 1);
      });

      it('killing during a rollout aborts it in the same step, and no rollout starts while it is on', async () => {
        await startRollout('wx-kill', [{ setWeight: 50 }, { pause: {} }]);
        const paused = await tickWhile('wx-kill', ['Progressing']);
        assert.equal(paused.phase, 'Paused');
        assert.deepEqual(paused.weights, { 1: 50, 2: 50 });
        const killed = await ctx.deployments.kill(alice, 'wx-kill', true, 'bad canary');
        assert.deepEqual(killed.weights, { 1: 100 });
        assert.equal(killed.rollout?.phase, 'Aborted');
        const s = await status('wx-kill');
        assert.equal(s.phase, 'Aborted');
        assert.match(s.message ?? '', /kill switch/);
        assert.ok(s.finishedAt);
        assert.deepEqual((await ledger('wx-kill')).map((e) => e.action), ['apply', 'step', 'kill']);
        assert.equal((await auditCounts('wx-kill'))['rollout.abort'], 1);
        await controller.tick();
        assert.deepEqual((await ledger('wx-kill')).map((e) => e.action), ['apply', 'step', 'kill'], 'the controller leaves an aborted rollout alone');
        assert.equal((await rejection(() => ctx.rollouts.start(alice, 'wx-kill', { to: '2' }))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
        const lifted = await ctx.deployments.kill(alice, 'wx-kill', false);
        assert.deepEqual(lifted.weights, { 1: 100 }, 'the canary arm does not come back when the switch is lifted');
        assert.equal(await production('wx-kill'), 1);
      });
    });

    describe('starting rollouts', () => {
      it('check lists every gate with evidence and fails the signature gate for v1 → v2', async () => {
        await ctx.deployments.apply(alice, [deployment('gated', { strategy: { canary: { steps: [{ setWeight: 50 }] } } }, 'weather')]);
        const report = await ctx.rollouts.check(viewer, 'gated', '2');
        assert.equal(report.passed, false);
        assert.equal(report.candidate, 2);
        assert.equal(report.stable, 1);
        const byName = new Map(report.items.map((i) => [i.name, i]));
        for (const name of ['active', 'card', 'owner', 'reference profile', 'signature compatible with stable', 'SLO and alert route']) assert.ok(byName.has(name), `the checklist has ${name}`);
        for (const i of report.items) assert.ok(i.evidence.length > 0, `${i.name} has evidence`);
        assert.equal(byName.get('active')!.status, 'pass');
        assert.equal(byName.get('card')!.status, 'pass');
        assert.equal(byName.get('reference profile')!.status, 'pass');
        assert.equal(byName.get('owner')!.status, 'pass');
        assert.match(byName.get('owner')!.evidence, /team <a@b\.c>/);
        const signature = byName.get('signature compatible with stable')!;
        assert.equal(signature.status, 'fail');
        assert.match(signature.evidence, /input/);
        assert.deepEqual(report.items.filter((i) => i.status === 'fail').map((i) => i.name), ['signature compatible with stable']);
        const refused = await rejection(() => ctx.rollouts.start(alice, 'gated', { to: '2' }));
        assert.equal(refused.code, 'MG_ERR_ROLLOUT_GATES_FAILED');
        assert.match(refused.message, /signature compatible with stable/);
      });

      it('gates.allowBreakingSignature: true lets the signature change through, recorded as allowed', async () => {
        await ctx.deployments.apply(alice, [deployment('gated', { strategy: { canary: { steps: [{ setWeight: 50 }] } }, gates: { allowBreakingSignature: true } }, 'weather')]);
        const report = await ctx.rollouts.check(viewer, 'gated', '2');
        assert.equal(report.passed, true);
        const signature = report.items.find((i) => i.name === 'signature compatible with stable')!;
        assert.equal(signature.status, 'skip');
        assert.match(signature.evidence, /allowed by gates\.allowBreakingSignature/);
      });

      it('start refuses the stable version and unknown versions with MG_ERR_ROLLOUT_INVALID_TARGET', async () => {
        for (const to of ['1', 'v1', 'production', '99', 'nightly']) {
          assert.equal((await rejection(() => ctx.rollouts.start(alice, 'gated', { to }))).code, 'MG_ERR_ROLLOUT_INVALID_TARGET', to);
        }
        assert.equal((await rejection(() => ctx.rollouts.start(alice, 'gated', { to: '3' }))).code, 'MG_ERR_ROLLOUT_INVALID_TARGET', 'archived');
        assert.equal((await rejection(() => ctx.rollouts.start(viewer, 'gated', { to: '2' }))).code, 'MG_ERR_AUTH_FORBIDDEN');
        assert.equal((await rejection(() => ctx.rollouts.status(admin, 'gated'))).code, 'MG_ERR_ROLLOUT_NOT_FOUND');
      });

      it('a second start while one runs is refused with MG_ERR_ROLLOUT_IN_PROGRESS', async () => {
        const started = await ctx.rollouts.start(alice, 'gated', { to: '2', reason: 'quarterly retrain' });
        assert.equal(started.phase, 'Progressing');
        assert.equal(started.step, 0);
        assert.equal(started.fromVersion, 1);
        assert.equal(started.toVersion, 2);
        assert.equal(started.createdBy, alice.actor);
        assert.deepEqual(started.steps.map((s) => s.description), ['setWeight 50', 'promote']);
        assert.equal((await rejection(() => ctx.rollouts.start(alice, 'gated', { to: '2' }))).code, 'MG_ERR_ROLLOUT_IN_PROGRESS');
        const both = await Promise.allSettled([ctx.rollouts.start(alice, 'gated', { to: '2' }), ctx.rollouts.start(bob, 'gated', { to: '2' })]);
        assert.ok(both.every((r) => r.status === 'rejected'));
        assert.equal((await auditCounts('gated'))['rollout.start'], 1);
      });

      it('during a rollout the arms cannot change by apply, but other fields can', async () => {
        const gen = (await ctx.deployments.get(admin, 'gated')).generation;
        const armsChange = await rejection(() => ctx.deployments.apply(alice, [deployment('gated', { arms: [{ version: 'production', weight: 90, role: 'stable' }, { version: 2, weight: 10, role: 'canary' }], strategy: { canary: { steps: [{ setWeight: 50 }] } }, gates: { allowBreakingSignature: true } }, 'weather')]));
        assert.equal(armsChange.code, 'MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE');
        const entries = (await ledger('gated')).length;
        const [ok] = await ctx.deployments.apply(alice, [deployment('gated', { strategy: { canary: { steps: [{ setWeight: 50 }] } }, gates: { allowBreakingSignature: true }, analysis: { minSamples: 200 } }, 'weather')]);
        assert.equal(ok!.action, 'configured');
        assert.deepEqual(ok!.changes.map((c) => c.path), ['spec.analysis.minSamples']);
        const info = await ctx.deployments.get(admin, 'gated');
        assert.equal(info.generation, gen + 1);
        assert.equal(info.spec.analysis.minSamples, 200);
        assert.equal((await ledger('gated')).length, entries, 'no traffic change');
        assert.equal((await rejection(() => ctx.deployments.remove(alice, 'gated'))).code, 'MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE');
        const aborted = await ctx.rollouts.abort(alice, 'gated', 'done testing');
        assert.equal(aborted.phase, 'Aborted');
        assert.deepEqual(aborted.weights, { 1: 100 });
        assert.equal((await ledger('gated')).at(-1)!.action, 'abort');
        assert.equal((await rejection(() => ctx.rollouts.abort(alice, 'gated'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
      });

      it(
        'during a rollout, the same arms written with their keys in another order are not an arms change',
        async () => {
          await startRollout('wx-order', [{ setWeight: 50 }, { pause: {} }]);
          const reordered = canaryDeployment('wx-order', [{ setWeight: 50 }, { pause: {} }], { arms: [{ role: 'stable', weight: 100, version: 'production' }], analysis: { minSamples: 80 } });
          const [result] = await ctx.deployments.apply(alice, [reordered]);
          assert.equal(result!.action, 'configured');
          assert.deepEqual(result!.changes.map((c) => c.path), ['spec.analysis.minSamples']);
          await ctx.rollouts.abort(alice, 'wx-order');
        },
      );

      it('applying several documents writes none of them when one cannot be applied (a rollout blocks its arms)', async () => {
        await startRollout('wx-multi', [{ setWeight: 50 }, { pause: {} }]);
        const refused = await rejection(() => ctx.deployments.apply(alice, [deployment('multi-first', {}, 'wx-multi'), canaryDeployment('wx-multi', [{ setWeight: 50 }, { pause: {} }], { arms: [{ version: 'production', weight: 90, role: 'stable' }, { version: 2, weight: 10, role: 'canary' }] })]));
        assert.equal(refused.code, 'MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE');
        assert.equal((await rejection(() => ctx.deployments.get(admin, 'multi-first'))).code, 'MG_ERR_DEPLOYMENT_NOT_FOUND');
        assert.equal((await rejection(() => ctx.deployments.history(admin, 'multi-first'))).code, 'MG_ERR_DEPLOYMENT_NOT_FOUND', 'no ledger entry either');
        await ctx.rollouts.abort(alice, 'wx-multi');
      });
    });

    describe('the controller', () => {
      it('walks setWeight 25, pause 0s, setWeight 50 to Succeeded and moves production to the candidate', async () => {
        await startRollout('wx-chain', [{ setWeight: 25 }, { pause: { duration: '0s' } }, { setWeight: 50 }]);
        const done = await tickWhile('wx-chain', ['Progressing']);
        assert.equal(done.phase, 'Succeeded', done.message ?? '');
        assert.ok(done.steps.every((s) => s.state === 'done'));
        const entries = await ledger('wx-chain');
        assert.deepEqual(entries.map((e) => e.action), ['apply', 'step', 'step', 'promote']);
        assert.deepEqual(entries.map((e) => e.weights), [{ 1: 100 }, { 1: 75, 2: 25 }, { 1: 50, 2: 50 }, { 2: 100 }]);
        assert.ok(entries.slice(1).every((e) => e.rolloutId === done.id && e.actor === 'system:rollout-controller'));
        assert.equal(await production('wx-chain'), 2);
        assert.deepEqual(done.weights, { 2: 100 });
        const audit = await auditCounts('wx-chain');
        assert.equal(audit['rollout.step'], 2);
        assert.equal(audit['rollout.promote'], 1);
      });

      it('a pause without a duration waits for resume; promote skips an analysis step', async () => {
        await startRollout('wx-resume', [{ setWeight: 20 }, { pause: {} }, { analysis: {} }, { setWeight: 40 }]);
        const paused = await tickWhile('wx-resume', ['Progressing']);
        assert.equal(paused.phase, 'Paused');
        assert.equal(paused.pausedBy, 'step');
        assert.equal(paused.step, 1);
        await controller.tick();
        assert.equal((await status('wx-resume')).phase, 'Paused', 'ticks do not end an open pause');
        assert.equal((await rejection(() => ctx.rollouts.resume(viewer, 'wx-resume'))).code, 'MG_ERR_AUTH_FORBIDDEN');
        const resumed = await ctx.rollouts.resume(alice, 'wx-resume');
        assert.equal(resumed.phase, 'Progressing');
        assert.equal(resumed.step, 2);
        await controller.tick();
        const analysing = await status('wx-resume');
        assert.equal(analysing.step, 2, 'the analysis step waits its 30s interval');
        const skipped = await ctx.rollouts.promote(alice, 'wx-resume');
        assert.equal(skipped.step, 3);
        const done = await tickWhile('wx-resume', ['Progressing']);
        assert.equal(done.phase, 'Succeeded', done.message ?? '');
        assert.deepEqual((await ledger('wx-resume')).map((e) => e.weights), [{ 1: 100 }, { 1: 80, 2: 20 }, { 1: 60, 2: 40 }, { 2: 100 }]);
        assert.equal((await rejection(() => ctx.rollouts.resume(alice, 'wx-resume'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
      });

      it('two controllers ticking at once apply every step exactly once', async () => {
        await startRollout('wx-race', [{ setWeight: 10 }, { pause: { duration: '15ms' } }, { setWeight: 30 }, { pause: { duration: '15ms' } }, { setWeight: 60 }, { pause: { duration: '15ms' } }], { bake: '0s' });
        const a = new RolloutController({ store: ctx.store, logger: ctx.logger, tickMs: 1_000_000 });
        const b = new RolloutController({ store: ctx.store, logger: ctx.logger, tickMs: 1_000_000 });
        try {
          let s = await status('wx-race');
          for (let i = 0; i < 100 && s.phase === 'Progressing'; i++) {
            await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
            s = await status('wx-race');
            await sleep(3);
          }
          assert.equal(s.phase, 'Succeeded', s.message ?? '');
          await Promise.all([a.tick(), b.tick()]);
        } finally {
          await a.stop();
          await b.stop();
        }
        assert.deepEqual(await ledgerCounts('wx-race'), { apply: 1, step: 3, promote: 1 });
        assert.deepEqual((await ledger('wx-race')).map((e) => e.weights), [{ 1: 100 }, { 1: 90, 2: 10 }, { 1: 70, 2: 30 }, { 1: 40, 2: 60 }, { 2: 100 }]);
        assert.deepEqual(await auditCounts('wx-race'), { 'deployment.create': 1, 'rollout.start': 1, 'rollout.step': 3, 'rollout.promote': 1 });
        const aliasMoves = await listAudit(ctx.store.db, { target: 'model/wx-race', action: 'model.alias.set', limit: 100 });
        assert.deepEqual(aliasMoves.map((e) => [e.actor, e.details]), [['system:rollout-controller', { alias: 'production', from: 1, to: 2 }], [admin.actor, { alias: 'production', from: null, to: 1 }]], 'production moved once');
        const history = await ctx.registry.listAliases(admin, 'wx-race');
        assert.deepEqual(history.history.map((h) => [h.fromVersion, h.toVersion]), [[null, 1], [1, 2]]);
      });

      it('an analysis step without statistics waits (nodata) until the deadline, then rolls back when onNoData is fail', async () => {
        await startRollout('wx-nodata', [{ setWeight: 50 }, { analysis: { interval: '1ms' } }], { analysis: { deadline: '1s', onNoData: 'fail' } });
        await controller.tick();
        let s = await status('wx-nodata');
        for (let i = 0; i < 20 && s.analyses.length === 0; i++) {
          await sleep(10);
          await controller.tick();
          s = await status('wx-nodata');
        }
        assert.equal(s.phase, 'Progressing', s.message ?? '');
        assert.equal(s.step, 1);
        const record = s.analyses.at(-1)!;
        assert.equal(record.verdict, 'nodata');
        assert.equal(record.kind, 'step');
        assert.equal(record.step, 1);
        assert.match(record.reason, /not enough data/);
        assert.deepEqual(s.weights, { 1: 50, 2: 50 });
        await sleep(Math.max(0, Date.parse(s.stepStartedAt) + 1000 + 20 - Date.now()));
        await controller.tick();
        s = await status('wx-nodata');
        assert.equal(s.phase, 'RolledBack', s.message ?? '');
        assert.match(s.message ?? '', /not enough data within 1s/);
        assert.deepEqual((await ledger('wx-nodata')).map((e) => e.action), ['apply', 'step', 'rollback']);
        assert.deepEqual(s.weights, { 1: 100 });
        assert.equal(await production('wx-nodata'), 1);
      });

      it('with onNoData pause, an analysis without statistics pauses at the deadline (pausedBy analysis)', async () => {
        await startRollout('wx-nodata-pause', [{ setWeight: 50 }, { analysis: { interval: '1ms' } }], { analysis: { deadline: '1s', onNoData: 'pause' } });
        await controller.tick();
        let s = await status('wx-nodata-pause');
        for (let i = 0; i < 20 && s.analyses.length === 0; i++) {
          await sleep(10);
          await controller.tick();
          s = await status('wx-nodata-pause');
        }
        assert.equal(s.phase, 'Progressing');
        assert.equal(s.analyses.at(-1)!.verdict, 'nodata');
        await sleep(Math.max(0, Date.parse(s.stepStartedAt) + 1000 + 20 - Date.now()));
        await controller.tick();
        s = await status('wx-nodata-pause');
        assert.equal(s.phase, 'Paused', s.message ?? '');
        assert.equal(s.pausedBy, 'analysis');
        assert.deepEqual(s.weights, { 1: 50, 2: 50 }, 'a pause keeps the traffic as it is');
        assert.equal((await auditCounts('wx-nodata-pause'))['rollout.pause'], 1);
        await controller.tick();
        assert.equal((await status('wx-nodata-pause')).phase, 'Paused');
        assert.equal((await auditCounts('wx-nodata-pause'))['rollout.pause'], 1, 'a paused rollout is not paused again');
        await ctx.rollouts.abort(alice, 'wx-nodata-pause');
      });

      it('a canary erring on 40% of requests fails its analysis and is rolled back to stable', async () => {
        await startRollout('wx-bad', [{ setWeight: 50 }, { analysis: { interval: '1ms' } }]);
        await controller.tick();
        const s0 = await status('wx-bad');
        assert.equal(s0.phase, 'Progressing');
        assert.equal(s0.step, 1);
        await sleep(10);
        await insertStats('wx-bad', [{ role: 'stable', version: 1, requests: 500, errors: 0 }, { role: 'canary', version: 2, requests: 500, errors: 200 }]);
        await sleep(10);
        const done = await tickWhile('wx-bad', ['Progressing'], 5);
        assert.equal(done.phase, 'RolledBack', done.message ?? '');
        const record = done.analyses.at(-1)!;
        assert.equal(record.verdict, 'fail');
        assert.equal(record.metrics.find((m) => m.name === 'error_rate')?.classification, 'High');
        assert.deepEqual(record.metrics.find((m) => m.name === 'error_rate')?.samples, { stable: 500, canary: 500 });
        const entries = await ledger('wx-bad');
        assert.deepEqual(entries.map((e) => e.action), ['apply', 'step', 'rollback']);
        assert.deepEqual(entries.at(-1)!.weights, { 1: 100 });
        assert.equal(await production('wx-bad'), 1);
        assert.equal((await auditCounts('wx-bad'))['rollout.rollback'], 1);
      });

      it('a healthy canary passes its analysis on the same evidence and is promoted', async () => {
        await startRollout('wx-good', [{ setWeight: 50 }, { analysis: { interval: '1ms' } }]);
        await controller.tick();
        assert.equal((await status('wx-good')).step, 1);
        await sleep(10);
        await insertStats('wx-good', [{ role: 'stable', version: 1, requests: 500, errors: 0 }, { role: 'canary', version: 2, requests: 500, errors: 0 }]);
        await sleep(10);
        const done = await tickWhile('wx-good', ['Progressing'], 5);
        assert.equal(done.phase, 'Succeeded', `${done.message}: ${JSON.stringify(done.analyses.at(-1))}`);
        const passed = done.analyses.filter((a) => a.verdict === 'pass');
        assert.equal(passed.length, 1);
        assert.equal(passed[0]!.score, 100);
        assert.deepEqual((await ledger('wx-good')).map((e) => e.action), ['apply', 'step', 'promote']);
        assert.equal(await production('wx-good'), 2);
        assert.equal((await auditCounts('wx-good'))['rollout.analysis'], 1);
      });

      it('a guard after a traffic change judges only traffic from after the change', async () => {
        // The guard ran during the 10% step; a tick soon after the switch to 50% once judged the last interval,
        // which reached back into the 10% split (a share the canary no longer had, and its first moments).
        const steps = [{ setWeight: 10 }, { pause: { duration: '450ms' } }, { setWeight: 50 }, { pause: {} }];
        await startRollout('wx-guard', steps, { strategy: { canary: { analysisInterval: '300ms', steps } } });
        await controller.tick();
        await sleep(350);
        await controller.tick();
        assert.ok((await status('wx-guard')).analyses.some((a) => a.kind === 'guard'), 'the guard judged the 10% split');
        await sleep(150);
        await tickWhile('wx-guard', ['Progressing'], 5);
        const switched = (await ledger('wx-guard')).find((e) => e.action === 'step' && e.weights['2'] === 50);
        assert.ok(switched, 'the 50% step was applied');
        await sleep(200);
        await controller.tick();
        await sleep(150);
        await controller.tick();
        const after = (await status('wx-guard')).analyses.filter((a) => a.kind === 'guard' && Date.parse(a.at) > Date.parse(switched.at));
        assert.ok(after.length >= 1, 'the guard judged the 50% split');
        for (const a of after) assert.ok(Date.parse(a.window.from) >= Date.parse(switched.at), `guard window ${a.window.from}..${a.window.to} starts before the switch at ${switched.at}`);
        await ctx.rollouts.abort(alice, 'wx-guard');
      });
    });

    describe('release freezes', () => {
      it('a freeze blocks start; an approver may override it with a reason, which is recorded', async () => {
        await registerPair('wx-freeze');
        await ctx.deployments.apply(alice, [canaryDeployment('wx-freeze', [{ setWeight: 50 }])]);
        await ctx.rollouts.setFreeze(alice, '*', 'holiday season');
        try {
          assert.deepEqual((await ctx.rollouts.listFreezes(viewer)).map((f) => [f.scope, f.reason, f.setBy]), [['*', 'holiday season', alice.actor]]);
          const frozen = await rejection(() => ctx.rollouts.start(alice, 'wx-freeze', { to: '2' }));
          assert.equal(frozen.code, 'MG_ERR_ROLLOUT_FROZEN');
          assert.match(frozen.message, /holiday season/);
          assert.equal((await rejection(() => ctx.rollouts.start(alice, 'wx-freeze', { to: '2', overrideFreeze: 'hotfix' }))).code, 'MG_ERR_AUTH_FORBIDDEN', 'an operator cannot override');
          assert.equal((await rejection(() => ctx.rollouts.start(bob, 'wx-freeze', { to: '2', overrideFreeze: '  ' }))).code, 'MG_ERR_REQUEST_INVALID', 'an override needs a reason');
          const started = await ctx.rollouts.start(bob, 'wx-freeze', { to: '2', overrideFreeze: 'hotfix for a broken feature' });
          assert.equal(started.phase, 'Progressing');
          assert.deepEqual(started.overrides.map((o) => [o.kind, o.actor, o.reason]), [['freeze', bob.actor, 'hotfix for a broken feature']]);
          const startEvent = (await listAudit(ctx.store.db, { target: 'deployment/wx-freeze', action: 'rollout.start' }))[0]!;
          assert.deepEqual(startEvent.details.overrides, [{ kind: 'freeze', reason: 'hotfix for a broken feature' }]);
          // The override given after the freeze also lets the promotion through.
          const done = await tickWhile('wx-freeze', ['Progressing']);
          assert.equal(done.phase, 'Succeeded', done.message ?? '');
          assert.equal(await production('wx-freeze'), 2);
        } finally {
          await ctx.rollouts.liftFreeze(alice, '*');
        }
        assert.deepEqual(await ctx.rollouts.listFreezes(viewer), []);
      });

      it('a freeze set during a rollout holds it at the promote step (pausedBy freeze); lifting it lets the next tick promote', async () => {
        await startRollout('wx-hold', [{ setWeight: 50 }]);
        await ctx.rollouts.setFreeze(alice, 'wx-hold', 'incident in progress');
        try {
          const held = await tickWhile('wx-hold', ['Progressing']);
          assert.equal(held.phase, 'Paused');
          assert.equal(held.pausedBy, 'freeze');
          assert.equal(held.steps[held.step]!.description, 'promote');
          assert.match(held.message ?? '', /incident in progress/);
          assert.equal(await production('wx-hold'), 1);
          await controller.tick();
          assert.equal((await status('wx-hold')).phase, 'Paused');
          assert.equal((await auditCounts('wx-hold'))['rollout.pause'], 1);
          assert.equal((await rejection(() => ctx.rollouts.resume(alice, 'wx-hold'))).code, 'MG_ERR_ROLLOUT_FROZEN');
        } finally {
          assert.equal((await ctx.rollouts.liftFreeze(alice, 'wx-hold')).lifted, true);
        }
        await controller.tick();
        const done = await status('wx-hold');
        assert.equal(done.phase, 'Succeeded', done.message ?? '');
        assert.equal(await production('wx-hold'), 2);
        assert.equal((await ctx.rollouts.liftFreeze(alice, 'wx-hold')).lifted, false);
      });
    });

    describe('approvals', () => {
      it('need N distinct approvers other than the creator before the controller goes on', async () => {
        await startRollout('wx-approve', [{ setWeight: 50 }, { approval: { required: 2 } }]);
        const waiting = await tickWhile('wx-approve', ['Progressing']);
        assert.equal(waiting.phase, 'AwaitingApproval');
        assert.equal(waiting.step, 1);
        const self = await rejection(() => ctx.rollouts.approve({ ...bob, actor: alice.actor }, 'wx-approve'));
        assert.equal(self.code, 'MG_ERR_ROLLOUT_APPROVAL_REFUSED', 'the creator cannot approve');
        assert.equal((await rejection(() => ctx.rollouts.approve(alice, 'wx-approve'))).code, 'MG_ERR_AUTH_FORBIDDEN', 'an operator cannot approve');
        assert.equal((await rejection(() => ctx.rollouts.promote(alice, 'wx-approve'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE', 'promote does not skip approvals');
        const first = await ctx.rollouts.approve(bob, 'wx-approve', 'looks good');
        assert.deepEqual(first.approvals.map((a) => [a.step, a.actor, a.reason]), [[1, bob.actor, 'looks good']]);
        assert.equal((await rejection(() => ctx.rollouts.approve(bob, 'wx-approve'))).code, 'MG_ERR_ROLLOUT_APPROVAL_REFUSED', 'one approval per approver');
        await controller.tick();
        assert.equal((await status('wx-approve')).phase, 'AwaitingApproval', 'one approval of two is not enough');
        await ctx.rollouts.approve(carol, 'wx-approve');
        const done = await tickWhile('wx-approve', ['AwaitingApproval', 'Progressing']);
        assert.equal(done.phase, 'Succeeded', done.message ?? '');
        assert.equal(await production('wx-approve'), 2);
        assert.equal((await auditCounts('wx-approve'))['rollout.approve'], 2);
        assert.equal((await rejection(() => ctx.rollouts.approve(carol, 'wx-approve'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
      });

      it('the same approver approving twice at once counts once', async () => {
        await startRollout('wx-approve-race', [{ approval: { required: 2 } }]);
        await tickWhile('wx-approve-race', ['Progressing']);
        const results = await Promise.allSettled([ctx.rollouts.approve(bob, 'wx-approve-race'), ctx.rollouts.approve(bob, 'wx-approve-race')]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        const s = await status('wx-approve-race');
        assert.equal(s.approvals.length, 1);
        await controller.tick();
        assert.equal((await status('wx-approve-race')).phase, 'AwaitingApproval');
        await ctx.rollouts.abort(alice, 'wx-approve-race');
      });
    });

    describe('rollback after promotion', () => {
      it('during the bake, a promoted version that starts failing is rolled back by the controller on its own', async () => {
        await startRollout('wx-bake-auto', [{ setWeight: 50 }], { strategy: { canary: { analysisInterval: '50ms', steps: [{ setWeight: 50 }] } }, bake: '1h', analysis: { minSamples: 20 } });
        const done = await tickWhile('wx-bake-auto', ['Progressing']);
        assert.equal(done.phase, 'Succeeded');
        assert.equal(await production('wx-bake-auto'), 2);
        // No traffic before promotion, so no baseline: the absolute bound still applies.
        await sleep(60);
        // Each bake analysis reads the last 50 ms: the failing traffic is written just before each tick, so a
        // tick delayed on a loaded machine still finds it (a tick that finds none passes and waits 50 ms more).
        let back = await status('wx-bake-auto');
        for (let i = 0; i < 40 && back.phase === 'Succeeded'; i++) {
          await insertStats('wx-bake-auto', [{ role: 'stable', version: 2, requests: 500, errors: 200 }]);
          await controller.tick();
          back = await status('wx-bake-auto');
          if (back.phase === 'Succeeded') await sleep(20);
        }
        assert.equal(back.phase, 'RolledBack', back.message ?? '');
        assert.match(back.message!, /automatic rollback during bake/);
        assert.equal(await production('wx-bake-auto'), 1);
        assert.deepEqual((await ledger('wx-bake-auto')).map((e) => e.action), ['apply', 'step', 'promote', 'rollback']);
        assert.equal(back.analyses.at(-1)!.kind, 'bake');
      });

      it('during the bake, rollback moves production back and the ledger records it', async () => {
        await startRollout('wx-bake', [{ setWeight: 50 }], { bake: '1h' });
        const done = await tickWhile('wx-bake', ['Progressing']);
        assert.equal(done.phase, 'Succeeded', done.message ?? '');
        assert.ok(done.bakeUntil && Date.parse(done.bakeUntil) > Date.now() + 3_500_000, `bake until ${done.bakeUntil}`);
        assert.equal(await production('wx-bake'), 2);
        const info = await ctx.deployments.get(admin, 'wx-bake');
        assert.deepEqual(info.arms.filter((a) => a.role === 'standby').map((a) => a.resolved), [1], 'the previous version stays on standby');
        assert.deepEqual(info.weights, { 2: 100 });
        const back = await ctx.rollouts.rollback(alice, 'wx-bake', 'customer complaints');
        assert.equal(back.phase, 'RolledBack');
        assert.equal(back.bakeUntil, null);
        assert.deepEqual(back.weights, { 1: 100 });
        assert.equal(await production('wx-bake'), 1);
        const entries = await ledger('wx-bake');
        assert.deepEqual(entries.map((e) => e.action), ['apply', 'step', 'promote', 'rollback']);
        assert.deepEqual(entries.at(-1)!.weights, { 1: 100 });
        assert.match(entries.at(-1)!.reason ?? '', /customer complaints/);
        assert.equal((await auditCounts('wx-bake'))['rollout.rollback'], 1);
        assert.ok((await ctx.deployments.get(admin, 'wx-bake')).arms.every((a) => a.role !== 'standby'));
        assert.equal((await rejection(() => ctx.rollouts.rollback(alice, 'wx-bake'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
      });

      it(
        'when the bake ends the standby is released and rollback is no longer offered',
        async () => {
          await startRollout('wx-bake-end', [{ setWeight: 50 }], { bake: '300ms' });
          const done = await tickWhile('wx-bake-end', ['Progressing']);
          assert.equal(done.phase, 'Succeeded', done.message ?? '');
          assert.ok((await ctx.deployments.get(admin, 'wx-bake-end')).arms.some((a) => a.role === 'standby'));
          await sleep(400);
          await controller.tick();
          assert.equal((await ledger('wx-bake-end')).at(-1)!.action, 'expire');
          assert.ok((await ctx.deployments.get(admin, 'wx-bake-end')).arms.every((a) => a.role !== 'standby'));
          assert.equal((await status('wx-bake-end')).bakeUntil, null);
          assert.equal((await rejection(() => ctx.rollouts.rollback(alice, 'wx-bake-end'))).code, 'MG_ERR_ROLLOUT_INVALID_STATE');
        },
      );
    });

    // Last, so rollouts a failing race may leave behind are never ticked by the tests above.
    describe('concurrent changes', () => {
      /** Every rejection carries a Modelgate code (a raw database error would reach the user as a 500). */
      const coded = (results: PromiseSettledResult<unknown>[]) => results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as { code?: unknown }).code)] : []));

      it(
        'of several starts racing on a deployment, exactly one succeeds and one rollout is active',
        async () => {
          await registerPair('wx-start-race');
          for (let k = 0; k < 5; k++) {
            const name = `wx-start-race-${k}`;
            await ctx.deployments.apply(alice, [canaryDeployment(name, [{ approval: { required: 2 } }], { model: 'wx-start-race' })]);
            const results = await Promise.allSettled([ctx.rollouts.start(alice, name, { to: '2' }), ctx.rollouts.start(bob, name, { to: '2' }), ctx.rollouts.start(carol, name, { to: '2' })]);
            const active = await ctx.store.db.selectFrom('rollouts').select('id').where('deployment', '=', name).where('phase', 'in', ['Progressing', 'Paused', 'AwaitingApproval']).execute();
            assert.equal(active.length, 1, `${name}: ${active.length} active rollouts`);
            assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
            assert.deepEqual(coded(results), ['MG_ERR_ROLLOUT_IN_PROGRESS', 'MG_ERR_ROLLOUT_IN_PROGRESS']);
          }
        },
      );

      it(
        'the same approver approving twice at once is refused with MG_ERR_ROLLOUT_APPROVAL_REFUSED',
        async () => {
          await startRollout('wx-approve-dup', [{ approval: { required: 3 } }]);
          await tickWhile('wx-approve-dup', ['Progressing']);
          for (const approver of [bob, carol]) {
            const results = await Promise.allSettled([ctx.rollouts.approve(approver, 'wx-approve-dup'), ctx.rollouts.approve(approver, 'wx-approve-dup'), ctx.rollouts.approve(approver, 'wx-approve-dup')]);
            assert.deepEqual(coded(results), ['MG_ERR_ROLLOUT_APPROVAL_REFUSED', 'MG_ERR_ROLLOUT_APPROVAL_REFUSED']);
          }
          assert.equal((await status('wx-approve-dup')).approvals.length, 2);
        },
      );

      it(
        'two applies creating the same deployment at once: one creates it, the other is unchanged or a coded conflict',
        async () => {
          for (let k = 0; k < 5; k++) {
            const results = await Promise.allSettled([ctx.deployments.apply(alice, [deployment(`twin-${k}`, {}, 'weather')]), ctx.deployments.apply(alice, [deployment(`twin-${k}`, {}, 'weather')])]);
            for (const code of coded(results)) assert.match(code, /^MG_ERR_/);
            assert.equal((await ledger(`twin-${k}`)).length, 1);
          }
        },
      );

      it(
        'two applies changing a deployment at once give two generations',
        async () => {
          for (let k = 0; k < 5; k++) {
            const name = `gen-${k}`;
            await ctx.deployments.apply(alice, [deployment(name, {}, 'weather')]);
            const arms = (w: number) => ({ arms: [{ version: 'production', weight: w, role: 'stable' }, { version: 2, weight: 100 - w, role: 'canary' }] });
            const results = await Promise.allSettled([ctx.deployments.apply(alice, [deployment(name, arms(90), 'weather')]), ctx.deployments.apply(alice, [deployment(name, arms(80), 'weather')])]);
            assert.deepEqual(coded(results), []);
            const info = await ctx.deployments.get(admin, name);
            assert.equal(info.generation, 3);
            const entries = await ledger(name);
            assert.equal(entries.length, 3);
            assert.deepEqual(entries.at(-1)!.weights, info.weights, 'the newest ledger entry is what the deployment serves');
          }
        },
      );

      it(
        'two freezes of the same scope set at once both succeed, the later one in force',
        async () => {
          try {
            for (let k = 0; k < 5; k++) {
              const results = await Promise.allSettled([ctx.rollouts.setFreeze(alice, '*', `first ${k}`), ctx.rollouts.setFreeze(alice, '*', `second ${k}`)]);
              assert.deepEqual(coded(results), []);
              assert.equal((await ctx.rollouts.listFreezes(viewer)).length, 1);
            }
          } finally {
            await ctx.rollouts.liftFreeze(alice, '*');
          }
        },
      );
    });
  });
}
