// Every change to a deployment's traffic goes through writeTraffic(): the arms are replaced and one ledger
// row records who, what, when and why, with the share each version serves, in the caller's transaction.
import type { Kysely, Selectable, Transaction } from 'kysely';
import { ModelgateError } from '../errors/index.js';
import type { Tables } from '../store/tables.js';
import type { Arm } from './deployment-spec.js';

export type TrafficAction = 'apply' | 'step' | 'promote' | 'abort' | 'rollback' | 'kill' | 'kill.off' | 'delete' | 'expire';

/** An arm with its version reference resolved to a number (null when the alias does not exist). */
export interface ResolvedArm extends Arm {
  resolved: number | null;
}

export interface LedgerEntry {
  id: number;
  deployment: string;
  at: string;
  actor: string;
  action: TrafficAction;
  reason: string | null;
  rolloutId: number | null;
  arms: ResolvedArm[];
  /** Version → percent of served traffic. */
  weights: Record<string, number>;
  /** Version → percent of requests mirrored to it. */
  shadows: Record<string, number>;
}

type Db = Kysely<Tables> | Transaction<Tables>;

/** Resolves the arms' version references (numbers or aliases) against the store. */
export async function resolveArms(db: Db, model: string, arms: Arm[]): Promise<ResolvedArm[]> {
  const aliases = await db
    .selectFrom('aliases')
    .innerJoin('models', 'models.id', 'aliases.model_id')
    .select(['aliases.alias as alias', 'aliases.version as version'])
    .where('models.name', '=', model)
    .execute();
  const byAlias = new Map(aliases.map((a) => [a.alias, a.version]));
  return arms.map((a) => ({ ...a, resolved: /^\d+$/.test(a.version) ? Number(a.version) : (byAlias.get(a.version) ?? null) }));
}

/** Served share per version (stable and canary arms; a kill switch puts everything on stable). */
export function weightsOf(arms: ResolvedArm[], killSwitch = false): { weights: Record<string, number>; shadows: Record<string, number> } {
  const weights: Record<string, number> = {};
  const shadows: Record<string, number> = {};
  for (const a of arms) {
    if (a.resolved === null) continue;
    const v = String(a.resolved);
    if (a.role === 'shadow') {
      if (!killSwitch && a.weight > 0) shadows[v] = (shadows[v] ?? 0) + a.weight;
    } else if (a.role === 'stable' || a.role === 'canary') {
      const w = killSwitch ? (a.role === 'stable' ? 100 : 0) : a.weight;
      if (w > 0) weights[v] = round2((weights[v] ?? 0) + w);
    }
  }
  return { weights, shadows };
}

export interface TrafficChange {
  actor: string;
  action: TrafficAction;
  reason?: string | null | undefined;
  rolloutId?: number | null | undefined;
  killSwitch?: boolean | undefined;
}

/** Replaces a deployment's arms and records the change in the ledger (same transaction). */
export async function writeTraffic(trx: Transaction<Tables>, deployment: string, model: string, arms: Arm[], change: TrafficChange, now: string): Promise<LedgerEntry> {
  const resolved = await resolveArms(trx, model, arms);
  const { weights, shadows } = weightsOf(resolved, change.killSwitch ?? false);
  const upd: { arms: string; updated_at: string; updated_by: string; kill_switch?: number } = { arms: JSON.stringify(arms), updated_at: now, updated_by: change.actor };
  if (change.killSwitch !== undefined) upd.kill_switch = change.killSwitch ? 1 : 0;
  if (change.action !== 'delete') await trx.updateTable('deployments').set(upd).where('name', '=', deployment).execute();
  const row = await trx
    .insertInto('traffic_ledger')
    .values({ deployment, at: now, actor: change.actor, action: change.action, reason: change.reason ?? null, rollout_id: change.rolloutId ?? null, arms: JSON.stringify(resolved), weights: JSON.stringify({ served: weights, shadow: shadows }) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, deployment, at: now, actor: change.actor, action: change.action, reason: change.reason ?? null, rolloutId: change.rolloutId ?? null, arms: resolved, weights, shadows };
}

function toEntry(r: Selectable<Tables['traffic_ledger']>): LedgerEntry {
  const w = JSON.parse(r.weights) as { served: Record<string, number>; shadow: Record<string, number> };
  return { id: r.id, deployment: r.deployment, at: r.at, actor: r.actor, action: r.action as TrafficAction, reason: r.reason, rolloutId: r.rollout_id, arms: JSON.parse(r.arms) as ResolvedArm[], weights: w.served, shadows: w.shadow };
}

/** The ledger, newest first; with `at`, only the entry in force at that moment (or none before the first). */
export async function readLedger(db: Db, deployment: string, options: { at?: string; limit?: number } = {}): Promise<LedgerEntry[]> {
  let q = db.selectFrom('traffic_ledger').selectAll().where('deployment', '=', deployment);
  if (options.at !== undefined) {
    const t = Date.parse(options.at);
    if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}/.test(options.at)) throw new ModelgateError('MG_ERR_HISTORY_INVALID_TIME', `"${options.at}" is not an ISO 8601 time; write e.g. 2026-12-01T09:30:00Z.`);
    q = q.where('at', '<=', new Date(t).toISOString());
  }
  const rows = await q.orderBy('id', 'desc').limit(options.at !== undefined ? 1 : (options.limit ?? 200)).execute();
  return rows.map(toEntry);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
