// Reading and changing rollout rows. A change names the revision it read and bumps it in the same
// transaction as the traffic and audit it causes, so a step is applied once even when two controllers
// (replicas, or a restarted process) race for it: the loser's update matches no row and rolls back.
import type { Selectable, Transaction } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import type { Store } from '../store/database.js';
import type { Tables } from '../store/tables.js';
import type { JudgeResult } from './analysis/judge.js';
import type { Arm } from './deployment-spec.js';
import type { Plan } from './rollout-plan.js';
import { writeAlias } from '../registry/registry-service.js';
import { writeTraffic, type TrafficAction } from './traffic-ledger.js';

export type Phase = 'Progressing' | 'Paused' | 'AwaitingApproval' | 'Succeeded' | 'RolledBack' | 'Aborted';

export interface AnalysisRecord {
  /** The plan step judged, or null for the continuous guard and the bake check. */
  step: number | null;
  kind: 'step' | 'guard' | 'bake';
  at: string;
  window: { from: string; to: string };
  candidate: 'canary' | 'shadow' | 'promoted';
  verdict: JudgeResult['verdict'];
  score: number | null;
  reason: string;
  metrics: JudgeResult['metrics'];
}

export interface Baseline {
  requests: number;
  errors: number;
  latenciesMs: number[];
}

export interface RolloutState {
  message: string | null;
  /** Why a Paused rollout is paused: by a person, by a pause step, by an inconclusive analysis, by a freeze. */
  pausedBy: 'user' | 'step' | 'analysis' | 'freeze' | null;
  canaryWeight: number;
  shadowPercent: number;
  analyses: AnalysisRecord[];
  lastGuardAt: string | null;
  lastStepJudgedAt: string | null;
  overrides: { kind: 'gates' | 'freeze'; actor: string; reason: string; at: string }[];
  /** Stable's observations before promotion, judged against during the bake. */
  baseline: Baseline | null;
}

export interface RolloutRow {
  id: number;
  deployment: string;
  model: string;
  strategy: string;
  fromVersion: number;
  toVersion: number;
  phase: Phase;
  step: number;
  stepStartedAt: string;
  plan: Plan;
  state: RolloutState;
  revision: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  finishedAt: string | null;
  bakeUntil: string | null;
}

export const MAX_ANALYSES = 100;

export function emptyState(): RolloutState {
  return { message: null, pausedBy: null, canaryWeight: 0, shadowPercent: 0, analyses: [], lastGuardAt: null, lastStepJudgedAt: null, overrides: [], baseline: null };
}

type Q = Store['db'] | Transaction<Tables>;

export async function loadRollout(db: Q, where: { id: number } | { deployment: string }): Promise<RolloutRow | undefined> {
  let q = db.selectFrom('rollouts').innerJoin('deployments', 'deployments.name', 'rollouts.deployment').selectAll('rollouts').select('deployments.model as model');
  q = 'id' in where ? q.where('rollouts.id', '=', where.id) : q.where('rollouts.deployment', '=', where.deployment);
  const r = await q.orderBy('rollouts.id', 'desc').executeTakeFirst();
  return r ? toRow(r) : undefined;
}

/** Rollouts in progress, and promoted ones whose bake (standby) has not been closed by the controller yet. */
export async function loadLiveRollouts(db: Q): Promise<RolloutRow[]> {
  const rows = await db
    .selectFrom('rollouts')
    .innerJoin('deployments', 'deployments.name', 'rollouts.deployment')
    .selectAll('rollouts')
    .select('deployments.model as model')
    .where((eb) => eb.or([eb('rollouts.phase', 'in', ['Progressing', 'Paused', 'AwaitingApproval']), eb.and([eb('rollouts.phase', '=', 'Succeeded'), eb('rollouts.bake_until', 'is not', null)])]))
    .orderBy('rollouts.id')
    .execute();
  return rows.map(toRow);
}

function toRow(r: Selectable<Tables['rollouts']> & { model: string }): RolloutRow {
  return {
    id: r.id,
    deployment: r.deployment,
    model: r.model,
    strategy: r.strategy,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    phase: r.phase as Phase,
    step: r.step,
    stepStartedAt: r.step_started_at,
    plan: JSON.parse(r.plan) as Plan,
    state: { ...emptyState(), ...(JSON.parse(r.state) as Partial<RolloutState>) },
    revision: r.revision,
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    bakeUntil: r.bake_until,
  };
}

export interface Transition {
  phase?: Phase;
  step?: number;
  /** Reset the step clock (a new step starts now). */
  newStep?: boolean;
  state?: Partial<RolloutState>;
  finished?: boolean;
  bakeUntil?: string | null;
  /** New arms for the deployment, written with a ledger entry. */
  traffic?: { arms: Arm[]; action: TrafficAction; reason: string };
  audit?: { action: string; details: Record<string, unknown> };
  /** More work in the same transaction, before the traffic is written (alias moves). */
  extra?: (trx: Transaction<Tables>, now: string) => Promise<void>;
}

/**
 * Applies a transition if the rollout is still at the revision `r` was read at. Returns the new row, or
 * null when someone else changed it first (nothing is written then).
 */
export async function transition(store: Store, r: RolloutRow, t: Transition, actor: string): Promise<RolloutRow | null> {
  const now = new Date().toISOString();
  // A change of traffic restarts the guard's clock: its next window starts with the new split, never before it.
  const state: RolloutState = { ...r.state, ...t.state, ...(t.traffic ? { lastGuardAt: now } : {}) };
  if (state.analyses.length > MAX_ANALYSES) state.analyses = state.analyses.slice(-MAX_ANALYSES);
  const next: RolloutRow = {
    ...r,
    phase: t.phase ?? r.phase,
    step: t.step ?? r.step,
    stepStartedAt: t.newStep ? now : r.stepStartedAt,
    state,
    revision: r.revision + 1,
    updatedAt: now,
    finishedAt: t.finished ? now : r.finishedAt,
    bakeUntil: t.bakeUntil !== undefined ? t.bakeUntil : r.bakeUntil,
  };
  const lost = Symbol('lost');
  try {
    await store.db.transaction().execute(async (trx) => {
      const res = await trx
        .updateTable('rollouts')
        .set({ phase: next.phase, step: next.step, step_started_at: next.stepStartedAt, state: JSON.stringify(state), revision: next.revision, updated_at: now, finished_at: next.finishedAt, bake_until: next.bakeUntil })
        .where('id', '=', r.id)
        .where('revision', '=', r.revision)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw lost;
      // Alias moves first, so the ledger resolves the arms against the aliases as they are after the change.
      if (t.extra) await t.extra(trx, now);
      if (t.traffic) await writeTraffic(trx, r.deployment, r.model, t.traffic.arms, { actor, action: t.traffic.action, reason: t.traffic.reason, rolloutId: r.id }, now);
      if (t.audit) await appendAudit(trx, { actor, action: t.audit.action, target: `deployment/${r.deployment}`, details: { rollout: r.id, toVersion: r.toVersion, fromVersion: r.fromVersion, ...t.audit.details } }, now);
    });
  } catch (e) {
    if (e === lost) return null;
    throw e;
  }
  return next;
}

/** Like transition(), for a person's action: losing the race is an error they can retry. */
export async function transitionOrConflict(store: Store, r: RolloutRow, t: Transition, actor: string): Promise<RolloutRow> {
  const next = await transition(store, r, t, actor);
  if (!next) throw new ModelgateError('MG_ERR_STORE_CONFLICT', `The rollout of "${r.deployment}" changed while this action was applied (the controller moved it on). Check \`modelgate rollout status ${r.deployment}\` and retry.`);
  return next;
}

export async function currentArms(db: Q, deployment: string): Promise<{ arms: Arm[]; killSwitch: boolean; spec: string }> {
  const d = await db.selectFrom('deployments').select(['arms', 'kill_switch', 'spec']).where('name', '=', deployment).executeTakeFirstOrThrow();
  return { arms: JSON.parse(d.arms) as Arm[], killSwitch: d.kill_switch === 1, spec: d.spec };
}

// ── arm arithmetic ─────────────────────────────────────────────────────────

export const CANARY_ARM = 'canary';
export const SHADOW_ARM = 'candidate-shadow';
export const STANDBY_ARM = 'previous';

/** Stable takes 100 − weight; the candidate takes weight (kept at 0 so it stays loaded). */
export function withCanary(arms: Arm[], version: number, weight: number): Arm[] {
  const rest = arms.filter((a) => a.role !== 'canary');
  return [...rest.map((a) => (a.role === 'stable' ? { ...a, weight: round2(100 - weight) } : a)), { name: CANARY_ARM, role: 'canary', version: String(version), weight }];
}

export function withShadow(arms: Arm[], version: number, percent: number): Arm[] {
  const rest = arms.filter((a) => a.name !== SHADOW_ARM);
  return percent > 0 ? [...rest, { name: SHADOW_ARM, role: 'shadow', version: String(version), weight: percent }] : rest;
}

/** Everything back on stable: the candidate's canary and shadow arms, and any standby, removed. */
export function stableOnly(arms: Arm[]): Arm[] {
  return arms.filter((a) => a.role !== 'canary' && a.name !== SHADOW_ARM && a.role !== 'standby').map((a) => (a.role === 'stable' ? { ...a, weight: 100 } : a));
}

/**
 * stableOnly() with the stable arm serving `version`: an arm naming a version number is rewritten, one naming
 * an alias follows the alias (which the caller moves with movePromotionAliases). Promotion and its rollback.
 */
export function stableServing(arms: Arm[], version: number): Arm[] {
  return stableOnly(arms).map((a) => (a.role === 'stable' && /^\d+$/.test(a.version) ? { ...a, version: String(version) } : a));
}

/** Points `production`, and the stable arm's own alias if it names another, at `version` (promotion or rollback). */
export async function movePromotionAliases(trx: Transaction<Tables>, model: string, arms: Arm[], version: number, actor: string, now: string): Promise<void> {
  const m = await trx.selectFrom('models').select(['id', 'name']).where('name', '=', model).executeTakeFirstOrThrow();
  await writeAlias(trx, m, 'production', version, actor, now);
  const own = arms.find((a) => a.role === 'stable')?.version;
  if (own && !/^\d+$/.test(own) && own !== 'production') await writeAlias(trx, m, own, version, actor, now);
}

export interface FreezeInfo {
  scope: string;
  reason: string;
  source: string;
  setBy: string;
  setAt: string;
}

/** The newest release freeze covering a deployment (its own, or the one for every deployment), if any. */
export async function activeFreeze(db: Q, deployment: string): Promise<FreezeInfo | null> {
  const r = await db.selectFrom('release_freezes').selectAll().where('scope', 'in', ['*', deployment]).orderBy('set_at', 'desc').executeTakeFirst();
  return r ? { scope: r.scope, reason: r.reason, source: r.source, setBy: r.set_by, setAt: r.set_at } : null;
}

/** Who has approved a step of a rollout. */
export async function approversOf(db: Q, rolloutId: number, step: number): Promise<string[]> {
  return (await db.selectFrom('rollout_approvals').select('actor').where('rollout_id', '=', rolloutId).where('step', '=', step).orderBy('at').execute()).map((x) => x.actor);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
