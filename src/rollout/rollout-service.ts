// What people do with rollouts: check gates, start, follow, pause, resume, promote, approve, abort, roll back,
// and freeze releases. The controller (rollout-controller.ts) moves rollouts along between these actions.
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { requireModel, requireRole, type Principal } from '../governance/keys.js';
import { roleAtLeast } from '../governance/roles.js';
import type { Registry } from '../registry/registry-service.js';
import type { Store } from '../store/database.js';
import { ACTIVE_PHASES, type ChangeHooks } from './deployment-service.js';
import type { Arm, DeploymentSpec } from './deployment-spec.js';
import { checkGates, type GateReport } from './gates.js';
import { compilePlan, describeStep, type StrategyName } from './rollout-plan.js';
import { activeFreeze, approversOf, currentArms, emptyState, loadRollout, movePromotionAliases, stableOnly, stableServing, transitionOrConflict, type AnalysisRecord, type FreezeInfo, type Phase, type RolloutRow, type RolloutState } from './rollout-store.js';

export type { FreezeInfo } from './rollout-store.js';
import { resolveArms, weightsOf } from './traffic-ledger.js';

export interface RolloutStatus {
  id: number;
  deployment: string;
  model: string;
  strategy: string;
  phase: Phase;
  step: number;
  steps: { index: number; description: string; state: 'done' | 'current' | 'pending' }[];
  fromVersion: number;
  toVersion: number;
  /** Version → percent of served traffic now. */
  weights: Record<string, number>;
  /** Version → percent of requests mirrored now. */
  shadows: Record<string, number>;
  message: string | null;
  pausedBy: RolloutState['pausedBy'];
  analyses: AnalysisRecord[];
  approvals: { step: number; actor: string; reason: string | null; at: string }[];
  overrides: RolloutState['overrides'];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  stepStartedAt: string;
  finishedAt: string | null;
  bakeUntil: string | null;
}


export interface StartOptions {
  to: string;
  strategy?: StrategyName | undefined;
  reason?: string | undefined;
  /** An approver's reason to start despite failing gates. */
  overrideGates?: string | undefined;
  /** An approver's reason to start (and later promote) despite a release freeze. */
  overrideFreeze?: string | undefined;
}

/**
 * `changed` runs after every traffic change this service commits (abort, rollback), as the deployment
 * service's does: a server makes its router read the deployments then, so the change is routed when the call returns.
 */
export function createRolloutService(store: Store, registry: Registry, hooks: ChangeHooks = {}) {
  const db = store.db;
  /** `result`, once the router of this process has seen the traffic change it committed. */
  const routed = async <T>(result: Promise<T>): Promise<T> => {
    const r = await result;
    await hooks.changed?.();
    return r;
  };

  async function slosOf(deployment: string): Promise<string[]> {
    return (await db.selectFrom('slos').select('name').where('deployment', '=', deployment).orderBy('name').execute()).map((r) => r.name);
  }

  async function deploymentRow(name: string) {
    const d = await db.selectFrom('deployments').selectAll().where('name', '=', name).executeTakeFirst();
    if (!d) throw new ModelgateError('MG_ERR_DEPLOYMENT_NOT_FOUND', `No deployment named "${name}". List them with \`modelgate deployments list\`.`);
    return d;
  }

  async function latest(principal: Principal, deployment: string): Promise<RolloutRow> {
    const d = await deploymentRow(deployment);
    requireModel(principal, d.model);
    const r = await loadRollout(db, { deployment });
    if (!r) throw new ModelgateError('MG_ERR_ROLLOUT_NOT_FOUND', `Deployment "${deployment}" has no rollout. Start one with \`modelgate rollout start ${deployment} --to <version>\`.`);
    return r;
  }

  async function active(principal: Principal, deployment: string, action: string): Promise<RolloutRow> {
    const r = await latest(principal, deployment);
    if (!(ACTIVE_PHASES as readonly string[]).includes(r.phase)) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The latest rollout of "${deployment}" (to version ${r.toVersion}) is ${r.phase}; only a rollout in progress can be ${action}.`);
    return r;
  }

  /** The stable arm's version now, and the candidate resolved to a number. */
  async function resolveTarget(principal: Principal, d: { name: string; model: string; arms: string }, to: string): Promise<{ stable: number; candidate: number; arms: Arm[] }> {
    const arms = JSON.parse(d.arms) as Arm[];
    const resolved = await resolveArms(db, d.model, arms);
    const stable = resolved.find((a) => a.role === 'stable')?.resolved ?? null;
    if (stable === null) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_TARGET', `The stable arm of "${d.name}" does not resolve to a version; fix the deployment first.`);
    let info;
    try {
      info = await registry.getVersion(principal, `${d.model}@${to.replace(/^v(?=\d)/, '')}`);
    } catch (e) {
      if (e instanceof ModelgateError && e.status === 404) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_TARGET', `Model "${d.model}" has no version "${to}". List its versions with \`modelgate models show ${d.model}\`.`);
      throw e;
    }
    if (info.status === 'archived') throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_TARGET', `${d.model}@${info.version} is archived and cannot be rolled out.`);
    if (info.version === stable) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_TARGET', `${d.model}@${info.version} is already the stable version of "${d.name}".`);
    return { stable, candidate: info.version, arms };
  }


  function requireReason(reason: string | undefined, what: string): string {
    const r = reason?.trim();
    if (!r) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `${what} needs a reason: it is recorded in the audit log.`);
    if (r.length > 500) throw new ModelgateError('MG_ERR_REQUEST_INVALID', `The reason is ${r.length} characters; keep it under 500.`);
    return r;
  }

  async function toStatus(r: RolloutRow): Promise<RolloutStatus> {
    const { arms, killSwitch } = await currentArms(db, r.deployment);
    const live = (ACTIVE_PHASES as readonly string[]).includes(r.phase) || (r.phase === 'Succeeded' && r.bakeUntil !== null);
    const { weights, shadows } = weightsOf(await resolveArms(db, r.model, arms), killSwitch);
    const approvals = await db.selectFrom('rollout_approvals').selectAll().where('rollout_id', '=', r.id).orderBy('at').execute();
    const done = r.phase === 'Succeeded';
    return {
      id: r.id,
      deployment: r.deployment,
      model: r.model,
      strategy: r.strategy,
      phase: r.phase,
      step: r.step,
      steps: r.plan.steps.map((s, i) => ({ index: i, description: describeStep(s), state: done || i < r.step ? 'done' : i === r.step && live ? 'current' : 'pending' })),
      fromVersion: r.fromVersion,
      toVersion: r.toVersion,
      weights,
      shadows,
      message: r.state.message,
      pausedBy: r.state.pausedBy,
      analyses: r.state.analyses,
      approvals: approvals.map((a) => ({ step: a.step, actor: a.actor, reason: a.reason, at: a.at })),
      overrides: r.state.overrides,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      stepStartedAt: r.stepStartedAt,
      finishedAt: r.finishedAt,
      bakeUntil: r.bakeUntil,
    };
  }

  return {
    /** The readiness checklist for rolling `to` out on `deployment`. */
    async check(principal: Principal, deployment: string, to: string): Promise<GateReport> {
      requireRole(principal, 'viewer');
      const d = await deploymentRow(deployment);
      requireModel(principal, d.model);
      const { stable, candidate } = await resolveTarget(principal, d, to);
      const spec = JSON.parse(d.spec) as DeploymentSpec;
      return checkGates(registry, principal, { deployment, model: d.model, candidate, stable, gates: spec.gates, slos: await slosOf(deployment) });
    },

    async start(principal: Principal, deployment: string, o: StartOptions): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const d = await deploymentRow(deployment);
      requireModel(principal, d.model);
      const spec = JSON.parse(d.spec) as DeploymentSpec;
      const strategy: StrategyName = o.strategy ?? (spec.strategy.canary ? 'canary' : spec.strategy.blueGreen ? 'blue-green' : 'canary');
      const plan = compilePlan(spec, strategy);
      const { stable, candidate } = await resolveTarget(principal, d, o.to);
      const overrides: RolloutState['overrides'] = [];
      const now = new Date().toISOString();
      // Checked first for the clearest answer, and again inside the transaction against a racing start.
      const inProgress = await db.selectFrom('rollouts').select(['id', 'to_version']).where('deployment', '=', deployment).where('phase', 'in', [...ACTIVE_PHASES]).executeTakeFirst();
      if (inProgress) throw new ModelgateError('MG_ERR_ROLLOUT_IN_PROGRESS', `A rollout of "${deployment}" to version ${inProgress.to_version} is in progress. Follow it with \`modelgate rollout status ${deployment}\`, or abort it first.`);
      if (d.kill_switch === 1) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The kill switch of "${deployment}" is on; lift it (modelgate deployments kill ${deployment} --off) before starting a rollout.`);
      const gates = await checkGates(registry, principal, { deployment, model: d.model, candidate, stable, gates: spec.gates, slos: await slosOf(deployment) });
      if (!gates.passed) {
        const failed = gates.items.filter((i) => i.status === 'fail');
        if (o.overrideGates === undefined) {
          throw new ModelgateError('MG_ERR_ROLLOUT_GATES_FAILED', `${d.model}@${candidate} fails ${failed.length} readiness gate${failed.length === 1 ? '' : 's'}: ${failed.map((f) => `${f.name} (${f.evidence})`).join('; ')}. Fix them, or have an approver pass --override-gates "<reason>".`, { gates });
        }
        if (!roleAtLeast(principal.role, 'approver')) throw new ModelgateError('MG_ERR_AUTH_FORBIDDEN', 'Overriding readiness gates needs an approver key.');
        overrides.push({ kind: 'gates', actor: principal.actor, reason: requireReason(o.overrideGates, 'Overriding readiness gates'), at: now });
      }
      const freeze = await activeFreeze(db, deployment);
      if (freeze) {
        if (o.overrideFreeze === undefined) throw new ModelgateError('MG_ERR_ROLLOUT_FROZEN', `Releases are frozen${freeze.scope === '*' ? '' : ` for "${deployment}"`} since ${freeze.setAt} by ${freeze.setBy}: ${freeze.reason}. Lift it with \`modelgate freeze lift${freeze.scope === '*' ? '' : ` --deployment ${deployment}`}\`, or have an approver pass --override-freeze "<reason>".`, { freeze });
        if (!roleAtLeast(principal.role, 'approver')) throw new ModelgateError('MG_ERR_AUTH_FORBIDDEN', 'Overriding a release freeze needs an approver key.');
        overrides.push({ kind: 'freeze', actor: principal.actor, reason: requireReason(o.overrideFreeze, 'Overriding a release freeze'), at: now });
      }
      const state: RolloutState = { ...emptyState(), overrides, message: `starting ${strategy} rollout to version ${candidate}${o.reason ? `: ${o.reason}` : ''}` };
      const id = await db.transaction().execute(async (trx) => {
        // Checked again inside the transaction, with the deployment row locked first (PostgreSQL; SQLite
        // serialises writers anyway): two starts racing must not both succeed.
        await trx.updateTable('deployments').set((eb) => ({ generation: eb.ref('generation') })).where('name', '=', deployment).execute();
        const running = await trx.selectFrom('rollouts').select(['id', 'to_version']).where('deployment', '=', deployment).where('phase', 'in', [...ACTIVE_PHASES]).executeTakeFirst();
        if (running) throw new ModelgateError('MG_ERR_ROLLOUT_IN_PROGRESS', `A rollout of "${deployment}" to version ${running.to_version} is in progress. Follow it with \`modelgate rollout status ${deployment}\`, or abort it first.`);
        // The previous rollout's standby arm (kept for its bake) gives way to the new one.
        await trx.updateTable('rollouts').set({ bake_until: null, updated_at: now }).where('deployment', '=', deployment).where('phase', '=', 'Succeeded').where('bake_until', 'is not', null).execute();
        const row = await trx
          .insertInto('rollouts')
          .values({ deployment, strategy, from_version: stable, to_version: candidate, phase: 'Progressing', step: 0, step_started_at: now, plan: JSON.stringify(plan), state: JSON.stringify(state), revision: 1, created_at: now, created_by: principal.actor, updated_at: now, finished_at: null, bake_until: null })
          .returning('id')
          .executeTakeFirstOrThrow();
        await appendAudit(trx, { actor: principal.actor, action: 'rollout.start', target: `deployment/${deployment}`, details: { rollout: row.id, strategy, fromVersion: stable, toVersion: candidate, reason: o.reason ?? null, overrides: overrides.map((x) => ({ kind: x.kind, reason: x.reason })) } }, now);
        return row.id;
      });
      return toStatus((await loadRollout(db, { id }))!);
    },

    async status(principal: Principal, deployment: string): Promise<RolloutStatus> {
      requireRole(principal, 'viewer');
      return toStatus(await latest(principal, deployment));
    },

    async list(principal: Principal, deployment: string, limit = 20): Promise<RolloutStatus[]> {
      requireRole(principal, 'viewer');
      const d = await deploymentRow(deployment);
      requireModel(principal, d.model);
      const ids = await db.selectFrom('rollouts').select('id').where('deployment', '=', deployment).orderBy('id', 'desc').limit(limit).execute();
      const out: RolloutStatus[] = [];
      for (const { id } of ids) out.push(await toStatus((await loadRollout(db, { id }))!));
      return out;
    },

    async pause(principal: Principal, deployment: string, reason?: string): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const r = await active(principal, deployment, 'paused');
      if (r.phase === 'Paused') return toStatus(r);
      return toStatus(await transitionOrConflict(store, r, { phase: 'Paused', state: { pausedBy: 'user', message: `paused by ${principal.actor}${reason ? `: ${reason}` : ''}` }, audit: { action: 'rollout.pause', details: { step: r.step, reason: reason ?? null } } }, principal.actor));
    },

    async resume(principal: Principal, deployment: string): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const r = await active(principal, deployment, 'resumed');
      if (r.phase !== 'Paused') throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The rollout of "${deployment}" is ${r.phase}, not Paused.${r.phase === 'AwaitingApproval' ? ' It needs approvals: modelgate rollout approve.' : ''}`);
      if (r.state.pausedBy === 'freeze') throw new ModelgateError('MG_ERR_ROLLOUT_FROZEN', `The rollout of "${deployment}" waits for a release freeze to lift before it promotes. Lift it, or promote with --override-freeze "<reason>" (approver).`);
      // A pause step without a duration ends when resumed.
      const atOpenPause = r.plan.steps[r.step]?.kind === 'pause' && r.state.pausedBy === 'step';
      return toStatus(await transitionOrConflict(store, r, { phase: 'Progressing', ...(atOpenPause ? { step: r.step + 1, newStep: true } : {}), state: { pausedBy: null, message: `resumed by ${principal.actor}` }, audit: { action: 'rollout.resume', details: { step: r.step } } }, principal.actor));
    },

    /**
     * Skips the current pause or analysis step (`full`: every remaining step) so the controller goes on;
     * the promotion itself is still done by the controller, with the freeze check. Approval steps are not
     * skipped: they need approvals.
     */
    async promote(principal: Principal, deployment: string, o: { full?: boolean; overrideFreeze?: string | undefined } = {}): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const r = await active(principal, deployment, 'promoted');
      const overrides = [...r.state.overrides];
      const now = new Date().toISOString();
      if (o.overrideFreeze !== undefined) {
        if (!roleAtLeast(principal.role, 'approver')) throw new ModelgateError('MG_ERR_AUTH_FORBIDDEN', 'Overriding a release freeze needs an approver key.');
        overrides.push({ kind: 'freeze', actor: principal.actor, reason: requireReason(o.overrideFreeze, 'Overriding a release freeze'), at: now });
      }
      const steps = r.plan.steps;
      let target = r.step;
      if (o.full) {
        const approval = steps.findIndex((s, i) => i >= r.step && s.kind === 'approval');
        if (approval !== -1 && !(await approvalsMet(r, approval))) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `Step ${approval} of the rollout needs approvals; --full cannot skip them. Approve with \`modelgate rollout approve ${deployment}\` (another approver).`);
        target = steps.length - 1;
      } else if (steps[r.step]?.kind === 'pause' || steps[r.step]?.kind === 'analysis') {
        target = r.step + 1;
      } else if (steps[r.step]?.kind === 'approval') {
        throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `Step ${r.step} needs approvals, which promote cannot skip: \`modelgate rollout approve ${deployment}\` with an approver key other than ${r.createdBy}.`);
      } else if (r.phase !== 'Paused' && o.overrideFreeze === undefined) {
        throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The rollout of "${deployment}" is at step ${r.step} (${steps[r.step] ? describeStep(steps[r.step]!) : 'end'}), which does not wait; there is nothing to promote past. Use --full to skip every remaining step.`);
      }
      const unpause = r.phase === 'Paused' && (r.state.pausedBy !== 'freeze' || o.overrideFreeze !== undefined);
      return toStatus(
        await transitionOrConflict(
          store,
          r,
          {
            ...(unpause || r.phase === 'Progressing' ? { phase: 'Progressing' as const } : {}),
            ...(target !== r.step ? { step: target, newStep: true } : {}),
            state: { overrides, ...(unpause ? { pausedBy: null } : {}), message: `promoted by ${principal.actor}${o.full ? ' (all remaining steps skipped)' : ''}` },
            audit: { action: 'rollout.promote', details: { fromStep: r.step, toStep: target, full: o.full ?? false, overrideFreeze: o.overrideFreeze ?? null } },
          },
          principal.actor,
        ),
      );
    },

    /** An approval for the current approval step; the creator's own and repeated approvals do not count. */
    async approve(principal: Principal, deployment: string, reason?: string): Promise<RolloutStatus> {
      requireRole(principal, 'approver');
      const r = await active(principal, deployment, 'approved');
      const step = r.plan.steps[r.step];
      if (step?.kind !== 'approval') throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The rollout of "${deployment}" is at step ${r.step} (${step ? describeStep(step) : 'end'}), which needs no approval.`);
      if (principal.actor === r.createdBy) throw new ModelgateError('MG_ERR_ROLLOUT_APPROVAL_REFUSED', `${principal.actor} started this rollout and cannot approve it: the two-person rule needs another approver.`);
      const now = new Date().toISOString();
      await db.transaction().execute(async (trx) => {
        // The primary key (rollout, step, actor) decides between racing duplicates; the loser is told so.
        const res = await trx.insertInto('rollout_approvals').values({ rollout_id: r.id, step: r.step, actor: principal.actor, reason: reason ?? null, at: now }).onConflict((oc) => oc.columns(['rollout_id', 'step', 'actor']).doNothing()).executeTakeFirst();
        if (Number(res.numInsertedOrUpdatedRows ?? 0) !== 1) throw new ModelgateError('MG_ERR_ROLLOUT_APPROVAL_REFUSED', `${principal.actor} has already approved step ${r.step}; another approver must give the next approval.`);
        await appendAudit(trx, { actor: principal.actor, action: 'rollout.approve', target: `deployment/${deployment}`, details: { rollout: r.id, step: r.step, reason: reason ?? null } }, now);
      });
      return toStatus((await loadRollout(db, { id: r.id }))!);
    },

    /** Puts all traffic back on stable now; the rollout ends Aborted. */
    async abort(principal: Principal, deployment: string, reason?: string): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const r = await active(principal, deployment, 'aborted');
      const { arms } = await currentArms(db, deployment);
      return toStatus(
        await routed(transitionOrConflict(
          store,
          r,
          { phase: 'Aborted', finished: true, state: { pausedBy: null, canaryWeight: 0, shadowPercent: 0, message: `aborted by ${principal.actor}${reason ? `: ${reason}` : ''}` }, traffic: { arms: stableOnly(arms), action: 'abort', reason: reason ?? 'aborted' }, audit: { action: 'rollout.abort', details: { step: r.step, reason: reason ?? null } } },
          principal.actor,
        )),
      );
    },

    /**
     * For automatic policies (an SLO paging): rolls back the deployment's rollout in progress (phase
     * RolledBack, traffic to stable), or a promotion still in its bake window. Null when there is none.
     */
    async rollbackIfReleasing(principal: Principal, deployment: string, reason: string): Promise<RolloutStatus | null> {
      requireRole(principal, 'operator');
      const r = await loadRollout(db, { deployment });
      if (!r) return null;
      if ((ACTIVE_PHASES as readonly string[]).includes(r.phase)) {
        const { arms } = await currentArms(db, deployment);
        return toStatus(
          await routed(transitionOrConflict(
            store,
            r,
            { phase: 'RolledBack', finished: true, state: { pausedBy: null, canaryWeight: 0, shadowPercent: 0, message: reason }, traffic: { arms: stableOnly(arms), action: 'rollback', reason }, audit: { action: 'rollout.rollback', details: { step: r.step, reason } } },
            principal.actor,
          )),
        );
      }
      if (r.phase === 'Succeeded' && r.bakeUntil !== null && Date.parse(r.bakeUntil) > Date.now()) return toStatus(await routed(rollbackPromoted(store, r, principal.actor, reason)));
      return null;
    },

    /**
     * After a promotion, while the previous version is still on standby (rollback window or bake): moves
     * the production alias back and the traffic with it. The rollout ends RolledBack.
     */
    async rollback(principal: Principal, deployment: string, reason?: string): Promise<RolloutStatus> {
      requireRole(principal, 'operator');
      const r = await latest(principal, deployment);
      if ((ACTIVE_PHASES as readonly string[]).includes(r.phase)) return this.abort(principal, deployment, reason);
      if (r.phase !== 'Succeeded') throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The latest rollout of "${deployment}" is ${r.phase}: its stable version ${r.fromVersion} already takes all the traffic, so there is nothing to roll back.`);
      if (r.bakeUntil === null || Date.parse(r.bakeUntil) <= Date.now()) throw new ModelgateError('MG_ERR_ROLLOUT_INVALID_STATE', `The rollback window of "${deployment}" has passed (version ${r.fromVersion} was released). Roll back by starting a rollout to it: modelgate rollout start ${deployment} --to ${r.fromVersion}.`);
      return toStatus(await routed(rollbackPromoted(store, r, principal.actor, `rolled back by ${principal.actor}${reason ? `: ${reason}` : ''}`)));
    },

    async listFreezes(principal: Principal): Promise<FreezeInfo[]> {
      requireRole(principal, 'viewer');
      const rows = await db.selectFrom('release_freezes').selectAll().orderBy('scope').execute();
      return rows.map((r) => ({ scope: r.scope, reason: r.reason, source: r.source, setBy: r.set_by, setAt: r.set_at }));
    },

    async setFreeze(principal: Principal, scope: string, reason: string): Promise<FreezeInfo> {
      requireRole(principal, 'operator');
      const why = requireReason(reason, 'A release freeze');
      if (scope !== '*') await deploymentRow(scope);
      const now = new Date().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('release_freezes')
          .values({ scope, reason: why, source: 'manual', set_by: principal.actor, set_at: now })
          .onConflict((oc) => oc.column('scope').doUpdateSet({ reason: why, source: 'manual', set_by: principal.actor, set_at: now }))
          .execute();
        await appendAudit(trx, { actor: principal.actor, action: 'release.freeze', target: scope === '*' ? 'releases' : `deployment/${scope}`, details: { reason: why } }, now);
      });
      return { scope, reason: why, source: 'manual', setBy: principal.actor, setAt: now };
    },

    async liftFreeze(principal: Principal, scope: string): Promise<{ scope: string; lifted: boolean }> {
      requireRole(principal, 'operator');
      const now = new Date().toISOString();
      return db.transaction().execute(async (trx) => {
        const res = await trx.deleteFrom('release_freezes').where('scope', '=', scope).executeTakeFirst();
        const lifted = Number(res.numDeletedRows) > 0;
        if (lifted) await appendAudit(trx, { actor: principal.actor, action: 'release.unfreeze', target: scope === '*' ? 'releases' : `deployment/${scope}`, details: {} }, now);
        return { scope, lifted };
      });
    },
  };

  async function approvalsMet(r: RolloutRow, step: number): Promise<boolean> {
    const s = r.plan.steps[step];
    if (s?.kind !== 'approval') return true;
    return (await approversOf(db, r.id, step)).length >= s.required;
  }
}

export type RolloutService = ReturnType<typeof createRolloutService>;

/** Undoes a promotion: production back to the previous version, which takes all traffic again. */
export async function rollbackPromoted(store: Store, r: RolloutRow, actor: string, message: string): Promise<RolloutRow> {
  const { arms } = await currentArms(store.db, r.deployment);
  return transitionOrConflict(
    store,
    r,
    {
      phase: 'RolledBack',
      bakeUntil: null,
      state: { message },
      traffic: { arms: stableServing(arms, r.fromVersion), action: 'rollback', reason: message },
      extra: (trx, now) => movePromotionAliases(trx, r.model, arms, r.fromVersion, actor, now),
      audit: { action: 'rollout.rollback', details: { reason: message } },
    },
    actor,
  );
}
