// Deployments: named endpoints with a traffic policy. apply (with diff and dry run), list, show, delete, the
// kill switch and the traffic history. Every change is audited and, when it touches traffic, in the ledger.
import { resilienceOf } from '../serving/resilience/resilience-spec.js';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireModel, requireRole, type Principal } from '../governance/keys.js';
import type { Registry } from '../registry/registry-service.js';
import type { Store } from '../store/database.js';
import type { Tables } from '../store/tables.js';
import { normaliseArms, validateDeploymentFile, type Arm, type DeploymentFile, type DeploymentSpec } from './deployment-spec.js';
import { compileRules } from './traffic/targeting.js';
import { stableOnly } from './rollout-store.js';
import { readLedger, resolveArms, weightsOf, writeTraffic, type LedgerEntry, type ResolvedArm } from './traffic-ledger.js';

export const ACTIVE_PHASES = ['Progressing', 'Paused', 'AwaitingApproval'] as const;

export interface FieldChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

export interface DeploymentInfo {
  name: string;
  model: string;
  spec: DeploymentSpec;
  document: DeploymentFile;
  arms: ResolvedArm[];
  weights: Record<string, number>;
  shadows: Record<string, number>;
  killSwitch: boolean;
  /** Set while every request goes to the fallback chain. */
  fallback: { mode: 'manual' | 'auto'; reason: string; setBy: string; setAt: string } | null;
  generation: number;
  rollout: { id: number; phase: string; step: number; steps: number; toVersion: number; fromVersion: number; strategy: string } | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface ApplyResult {
  name: string;
  action: 'created' | 'configured' | 'unchanged';
  dryRun: boolean;
  changes: FieldChange[];
  /** Traffic the deployment would serve (dry run) or serves now. */
  weights: Record<string, number>;
}

type Db = Kysely<Tables> | Transaction<Tables>;

/** Called after a service commits a change to what a deployment serves (see createDeploymentService). */
export interface ChangeHooks {
  changed?: () => Promise<void> | undefined;
}

/**
 * `changed` runs after every committed change of a deployment (apply, remove, kill switch, fallback switch): in a
 * server it refreshes this replica's router at once, so a change made in this process, over the API or by a
 * caller of the service, is routed from the moment the call returns. Other replicas poll.
 */
export function createDeploymentService(store: Store, registry: Registry, hooks: ChangeHooks = {}) {
  const db = store.db;
  const changed = async () => {
    await hooks.changed?.();
  };

  async function row(q: Db, name: string) {
    const r = await q.selectFrom('deployments').selectAll().where('name', '=', name).executeTakeFirst();
    if (!r) throw new ModelgateError('MG_ERR_DEPLOYMENT_NOT_FOUND', `No deployment named "${name}". List them with \`modelgate deployments list\`, or create one with \`modelgate apply -f\`.`);
    return r;
  }

  async function activeRollout(q: Db, name: string) {
    return q.selectFrom('rollouts').selectAll().where('deployment', '=', name).where('phase', 'in', [...ACTIVE_PHASES]).orderBy('id', 'desc').executeTakeFirst();
  }

  async function toInfo(q: Db, r: Selectable<Tables['deployments']>): Promise<DeploymentInfo> {
    const spec = JSON.parse(r.spec) as DeploymentSpec;
    const arms = await resolveArms(q, r.model, JSON.parse(r.arms) as Arm[]);
    const { weights, shadows } = weightsOf(arms, r.kill_switch === 1);
    const ro = await q.selectFrom('rollouts').selectAll().where('deployment', '=', r.name).orderBy('id', 'desc').executeTakeFirst();
    const fb = await q.selectFrom('deployment_fallbacks').selectAll().where('deployment', '=', r.name).executeTakeFirst();
    return {
      name: r.name,
      model: r.model,
      spec,
      document: JSON.parse(r.document) as DeploymentFile,
      arms,
      weights,
      shadows,
      killSwitch: r.kill_switch === 1,
      fallback: fb ? { mode: fb.mode, reason: fb.reason, setBy: fb.set_by, setAt: fb.set_at } : null,
      generation: r.generation,
      rollout: ro ? { id: ro.id, phase: ro.phase, step: ro.step, steps: (JSON.parse(ro.plan) as { steps: unknown[] }).steps.length, toVersion: ro.to_version, fromVersion: ro.from_version, strategy: ro.strategy } : null,
      createdAt: r.created_at,
      createdBy: r.created_by,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    };
  }

  /** Checks what the schema cannot: the model and every arm's version exist and may serve, the rules compile. */
  async function checkAgainstRegistry(principal: Principal, file: DeploymentFile): Promise<ResolvedArm[]> {
    const spec = file.spec;
    await registry.getModel(principal, spec.model);
    const arms = normaliseArms(spec.arms);
    const resolved = await resolveArms(db, spec.model, arms);
    for (const [i, a] of resolved.entries()) {
      if (a.resolved === null) {
        throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.arms[${i}].version: model "${spec.model}" has no alias "${a.version}". Set it (modelgate models alias set ${spec.model} ${a.version} <version>) or name a version number.`);
      }
      const info = await registry.getVersion(principal, `${spec.model}@${a.resolved}`).catch((e: unknown) => {
        if (e instanceof ModelgateError && e.status === 404) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.arms[${i}].version: model "${spec.model}" has no version ${a.resolved}.`);
        throw e;
      });
      if (info.status === 'archived') throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.arms[${i}].version: ${spec.model}@${a.resolved} is archived; archived versions are never served.`);
    }
    try {
      compileRules(spec.targeting, arms.map((a) => a.name));
    } catch (e) {
      throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.targeting: ${(e as Error).message}`);
    }
    // A fallback that cannot answer is found now, not during the outage it is there for.
    for (const [i, f] of (spec.resilience?.fallback ?? []).entries()) {
      if (f.kind !== 'version' && f.kind !== 'model') continue;
      const model = f.kind === 'model' ? f.model : spec.model;
      const info = await registry.getVersion(principal, `${model}@${f.version}`).catch((e: unknown) => {
        if (e instanceof ModelgateError && e.status === 404) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.resilience.fallback[${i}]: model "${model}" has no version or alias "${f.version}".`);
        throw e;
      });
      if (info.status === 'archived') throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `spec.resilience.fallback[${i}]: ${model}@${info.version} is archived; archived versions are never served.`);
    }
    return resolved;
  }

  /** Writes one checked document inside the caller's transaction. */
  async function applyOne(trx: Transaction<Tables>, principal: Principal, file: DeploymentFile, resolved: ResolvedArm[], dryRun: boolean): Promise<ApplyResult> {
    const name = file.metadata.name;
    const arms = normaliseArms(file.spec.arms);
    const now = new Date().toISOString();
    // Touching the row first takes its lock (PostgreSQL), so concurrent applies of one deployment serialise.
    await trx.updateTable('deployments').set((eb) => ({ generation: eb.ref('generation') })).where('name', '=', name).execute();
    const existing = await trx.selectFrom('deployments').selectAll().where('name', '=', name).executeTakeFirst();
    // A key scoped to some models may neither take over nor re-point a deployment of another model.
    if (existing) requireModel(principal, existing.model);
    const changes = diffValues(existing ? JSON.parse(existing.document) : undefined, file, '');
    const { weights } = weightsOf(resolved);
    if (existing && changes.length === 0) return { name, action: 'unchanged', dryRun, changes, weights };
    if (existing) {
      if (existing.model !== file.spec.model && (await activeRollout(trx, name))) throw new ModelgateError('MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE', `Deployment "${name}" has a rollout in progress; abort it before pointing the deployment at another model.`);
      const before = JSON.parse(existing.document) as DeploymentFile;
      // Compared in their normal form, so key order or an explicit default name is not a change.
      const armsChanged = JSON.stringify(normaliseArms(before.spec.arms)) !== JSON.stringify(arms);
      const modelChanged = existing.model !== file.spec.model;
      const active = await activeRollout(trx, name);
      if (armsChanged && active) throw new ModelgateError('MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE', `Deployment "${name}" has a rollout in progress (to version ${active.to_version}); its arms cannot change until it ends. Abort it with \`modelgate rollout abort ${name}\`, or apply the file without changing spec.arms.`);
      if (dryRun) return { name, action: 'configured', dryRun, changes, weights };
      await trx.updateTable('deployments').set({ model: file.spec.model, spec: JSON.stringify(file.spec), document: JSON.stringify(file), generation: existing.generation + 1, updated_at: now, updated_by: principal.actor }).where('name', '=', name).execute();
      if (armsChanged || modelChanged) await writeTraffic(trx, name, file.spec.model, arms, { actor: principal.actor, action: 'apply', reason: `generation ${existing.generation + 1}${modelChanged ? `: model ${existing.model} → ${file.spec.model}` : ''}` }, now);
      await appendAudit(trx, { actor: principal.actor, action: 'deployment.apply', target: `deployment/${name}`, details: { generation: existing.generation + 1, changes: changes.map((c) => c.path), weights } }, now);
      return { name, action: 'configured', dryRun, changes, weights };
    }
    if (dryRun) return { name, action: 'created', dryRun, changes, weights };
    const inserted = await trx.insertInto('deployments').values({ name, model: file.spec.model, spec: JSON.stringify(file.spec), document: JSON.stringify(file), arms: JSON.stringify(arms), kill_switch: 0, generation: 1, created_at: now, created_by: principal.actor, updated_at: now, updated_by: principal.actor }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new ModelgateError('MG_ERR_STORE_CONFLICT', `Deployment "${name}" was created by someone else at the same moment; nothing was written. Apply again to update it.`);
    await writeTraffic(trx, name, file.spec.model, arms, { actor: principal.actor, action: 'apply', reason: 'created' }, now);
    await appendAudit(trx, { actor: principal.actor, action: 'deployment.create', target: `deployment/${name}`, details: { model: file.spec.model, weights } }, now);
    return { name, action: 'created', dryRun, changes, weights };
  }

  return {
    /** Applies documents in order, all or none: every one is checked, then all are written in one transaction. */
    async apply(principal: Principal, documents: unknown[], options: { dryRun?: boolean; source?: string } = {}): Promise<ApplyResult[]> {
      requireRole(principal, 'operator');
      const files = documents.map((d, i) => validateDeploymentFile(d, documents.length > 1 ? `${options.source ?? 'the file'} (document ${i + 1})` : options.source));
      const names = new Set<string>();
      for (const f of files) {
        if (names.has(f.metadata.name)) throw new ModelgateError('MG_ERR_DEPLOYMENT_INVALID', `${options.source ?? 'The request'} defines deployment "${f.metadata.name}" twice.`);
        names.add(f.metadata.name);
        requireModel(principal, f.spec.model);
      }
      const resolved: ResolvedArm[][] = [];
      for (const f of files) resolved.push(await checkAgainstRegistry(principal, f));
      const out = await db.transaction().execute(async (trx) => {
        const out: ApplyResult[] = [];
        for (const [i, f] of files.entries()) out.push(await applyOne(trx, principal, f, resolved[i]!, options.dryRun ?? false));
        return out;
      });
      if (options.dryRun !== true) await changed();
      return out;
    },

    /** What apply would change, without writing anything. */
    async diff(principal: Principal, documents: unknown[], source?: string): Promise<ApplyResult[]> {
      return this.apply(principal, documents, { dryRun: true, ...(source ? { source } : {}) });
    },

    async list(principal: Principal): Promise<DeploymentInfo[]> {
      requireRole(principal, 'viewer');
      const rows = await db.selectFrom('deployments').selectAll().orderBy('name').execute();
      const out: DeploymentInfo[] = [];
      for (const r of rows) if (canSeeModel(principal, r.model)) out.push(await toInfo(db, r));
      return out;
    },

    async get(principal: Principal, name: string): Promise<DeploymentInfo> {
      requireRole(principal, 'viewer');
      const r = await row(db, name);
      requireModel(principal, r.model);
      return toInfo(db, r);
    },

    async remove(principal: Principal, name: string): Promise<{ name: string; deleted: true }> {
      requireRole(principal, 'operator');
      const deleted = await db.transaction().execute(async (trx) => {
        const r = await row(trx, name);
        requireModel(principal, r.model);
        const active = await activeRollout(trx, name);
        if (active) throw new ModelgateError('MG_ERR_DEPLOYMENT_ROLLOUT_ACTIVE', `Deployment "${name}" has a rollout in progress; abort it (modelgate rollout abort ${name}) before deleting the deployment.`);
        const now = new Date().toISOString();
        await writeTraffic(trx, name, r.model, [], { actor: principal.actor, action: 'delete', reason: 'deployment deleted' }, now);
        await trx.deleteFrom('deployments').where('name', '=', name).execute();
        await appendAudit(trx, { actor: principal.actor, action: 'deployment.delete', target: `deployment/${name}`, details: { model: r.model } }, now);
        return { name, deleted: true as const };
      });
      await changed();
      return deleted;
    },

    /**
     * The kill switch: every request of the deployment goes to its stable arm at once (rules, canary and
     * shadows ignored); a rollout in progress is aborted in the same transaction. `on: false` lifts it.
     */
    async kill(principal: Principal, name: string, on: boolean, reason?: string): Promise<DeploymentInfo> {
      requireRole(principal, 'operator');
      await db.transaction().execute(async (trx) => {
        const r = await row(trx, name);
        requireModel(principal, r.model);
        const now = new Date().toISOString();
        let arms = JSON.parse(r.arms) as Arm[];
        if (on) {
          const active = await activeRollout(trx, name);
          if (active) {
            arms = stableOnly(arms);
            const res = await trx.updateTable('rollouts').set({ phase: 'Aborted', finished_at: now, updated_at: now, revision: active.revision + 1, state: JSON.stringify({ ...JSON.parse(active.state), canaryWeight: 0, shadowPercent: 0, pausedBy: null, message: `aborted by the kill switch${reason ? `: ${reason}` : ''}` }) }).where('id', '=', active.id).where('revision', '=', active.revision).executeTakeFirst();
            if (Number(res.numUpdatedRows) !== 1) throw new ModelgateError('MG_ERR_STORE_CONFLICT', `The rollout of "${name}" moved on while the kill switch was thrown; nothing was changed. Throw it again.`);
            await appendAudit(trx, { actor: principal.actor, action: 'rollout.abort', target: `deployment/${name}`, details: { rollout: active.id, toVersion: active.to_version, reason: 'kill switch' } }, now);
          }
        }
        await writeTraffic(trx, name, r.model, arms, { actor: principal.actor, action: on ? 'kill' : 'kill.off', reason: reason ?? null, killSwitch: on }, now);
        await appendAudit(trx, { actor: principal.actor, action: on ? 'deployment.kill' : 'deployment.kill.off', target: `deployment/${name}`, details: { reason: reason ?? null } }, now);
      });
      await changed();
      return this.get(principal, name);
    },

    /**
     * Sends every request of the deployment to its fallback chain (on), or back to its arms (off): for when
     * the stable version itself misbehaves. A switch made by hand is lifted only by hand.
     */
    async fallback(principal: Principal, name: string, on: boolean, reason?: string): Promise<DeploymentInfo> {
      requireRole(principal, 'operator');
      await db.transaction().execute(async (trx) => {
        const r = await row(trx, name);
        requireModel(principal, r.model);
        if (on && resilienceOf(JSON.parse(r.spec) as DeploymentSpec).fallback.length === 0) {
          throw new ModelgateError('MG_ERR_FALLBACK_UNAVAILABLE', `Deployment "${name}" has no fallback chain. Add spec.resilience.fallback (another version, a rule model, a cached or static answer, or the review queue) and apply it first.`);
        }
        await setFallbackSwitch(trx, name, on ? { mode: 'manual', reason: reason ?? 'switched by hand' } : null, principal.actor);
      });
      await changed();
      return this.get(principal, name);
    },

    /** The ledger (newest first), or with `at` the entry in force at that moment. */
    async history(principal: Principal, name: string, at?: string): Promise<{ deployment: string; at: string | null; entries: LedgerEntry[] }> {
      requireRole(principal, 'viewer');
      const exists = await db.selectFrom('deployments').select('model').where('name', '=', name).executeTakeFirst();
      const anyLedger = await db.selectFrom('traffic_ledger').select('id').where('deployment', '=', name).executeTakeFirst();
      if (!exists && !anyLedger) throw new ModelgateError('MG_ERR_DEPLOYMENT_NOT_FOUND', `No deployment named "${name}" has ever existed here.`);
      if (exists) requireModel(principal, exists.model);
      const entries = await readLedger(db, name, at !== undefined ? { at } : {});
      return { deployment: name, at: at !== undefined ? new Date(Date.parse(at)).toISOString() : null, entries };
    },
  };
}

export type DeploymentService = ReturnType<typeof createDeploymentService>;

/** Field-level differences between two JSON values; lists are compared element by element. */
export function diffValues(a: unknown, b: unknown, path: string): FieldChange[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const label = path || '(document)';
  if (a === undefined) return [{ path: label, change: 'added', after: b }];
  if (b === undefined) return [{ path: label, change: 'removed', before: a }];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diffValues(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffValues(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  return [{ path: label, change: 'changed', before: a, after: b }];
}

/**
 * Switches a deployment to its fallback chain (a mode and reason) or back (null), audited in the caller's
 * transaction. Returns whether anything changed. Automatic switches (mode auto) never replace a manual one.
 */
export async function setFallbackSwitch(trx: Transaction<Tables>, deployment: string, to: { mode: 'manual' | 'auto'; reason: string } | null, actor: string, now = new Date().toISOString()): Promise<boolean> {
  const current = await trx.selectFrom('deployment_fallbacks').selectAll().where('deployment', '=', deployment).executeTakeFirst();
  if (to === null) {
    if (!current) return false;
    await trx.deleteFrom('deployment_fallbacks').where('deployment', '=', deployment).execute();
    await appendAudit(trx, { actor, action: 'deployment.fallback.off', target: `deployment/${deployment}`, details: { was: current.mode, reason: current.reason } }, now);
    return true;
  }
  if (current && (current.mode === to.mode || (current.mode === 'manual' && to.mode === 'auto'))) return false;
  await trx
    .insertInto('deployment_fallbacks')
    .values({ deployment, mode: to.mode, reason: to.reason, set_by: actor, set_at: now })
    .onConflict((oc) => oc.column('deployment').doUpdateSet({ mode: to.mode, reason: to.reason, set_by: actor, set_at: now }))
    .execute();
  await appendAudit(trx, { actor, action: 'deployment.fallback.on', target: `deployment/${deployment}`, details: { mode: to.mode, reason: to.reason } }, now);
  return true;
}
