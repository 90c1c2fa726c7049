// SLOs kept in the store (applied, listed, removed; every change audited) and their status now: the SLI,
// error budget, burn rates and firing alerts over the per-minute counts the gateway's SliRecorder writes.
import { parseAllDocuments } from 'yaml';
import { ModelgateError } from '../errors/index.js';
import { appendAudit } from '../governance/audit.js';
import { canSeeModel, requireRole, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';
import { budgetStatus, burnRate, evaluateAlerts, type Bucket, type BudgetStatus, type FiringAlert } from './budget.js';
import { latencyBucket, parseSloFiles, type SloSpec } from './slo-spec.js';

export interface SloInfo {
  name: string;
  deployment: string;
  sli: SloSpec['sli'];
  objective: number;
  window: string;
  spec: SloSpec;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

export interface SloApplyResult {
  name: string;
  action: 'created' | 'configured' | 'unchanged';
  deploymentExists: boolean;
}

export interface SloFiringRow {
  severity: 'page' | 'ticket';
  long: string;
  short: string;
  burnRate: number;
  longBurnRate: number;
  shortBurnRate: number;
}

export interface SloStatus {
  name: string;
  deployment: string;
  sli: SloSpec['sli']['type'];
  objective: number;
  window: string;
  /** Always ok: every SLI type is computed from the store (kept so API clients that read it keep working). */
  status: 'ok';
  deploymentExists: boolean;
  notes: string[];
  budget: BudgetStatus | null;
  /** Burn rate per window (the alert rows' windows and 1h, 6h, 1d, 3d), keyed as written. */
  burnRates: Record<string, number>;
  firing: SloFiringRow[];
  /** As firing, over the arms' failures alone (availability): whether the deployment's versions still fail. */
  firingArmFailures: SloFiringRow[];
  budgetLow: boolean;
}

/** The windows `slo status` always shows, whatever the alert rows say. */
export const STATUS_WINDOWS: Record<string, number> = { '1h': 3_600_000, '6h': 21_600_000, '1d': 86_400_000, '3d': 259_200_000 };

export type SloService = ReturnType<typeof createSloService>;

export function createSloService(store: Store, options: { now?: () => number } = {}) {
  const db = store.db;
  const now = () => options.now?.() ?? Date.now();

  async function deploymentModels(): Promise<Map<string, string>> {
    const rows = await db.selectFrom('deployments').select(['name', 'model']).execute();
    return new Map(rows.map((r) => [r.name, r.model]));
  }

  /** A key scoped to some models sees the SLOs of deployments of those models (and of no deployment only if unscoped). */
  function visible(p: Principal, models: Map<string, string>, deployment: string): boolean {
    const model = models.get(deployment);
    return p.modelPatterns.length === 0 || (model !== undefined && canSeeModel(p, model));
  }

  async function rows(p: Principal, name?: string): Promise<SloInfo[]> {
    requireRole(p, 'viewer');
    let q = db.selectFrom('slos').selectAll().orderBy('name');
    if (name !== undefined) q = q.where('name', '=', name);
    const models = await deploymentModels();
    const found = (await q.execute()).filter((r) => visible(p, models, r.deployment));
    if (name !== undefined && found.length === 0) throw new ModelgateError('MG_ERR_SLO_NOT_FOUND', `No SLO is named "${name}". List SLOs with \`modelgate slo list\`.`);
    return found.map((r) => {
      const spec = JSON.parse(r.spec) as SloSpec;
      return { name: r.name, deployment: r.deployment, sli: spec.sli, objective: spec.objective, window: spec.window, spec, createdAt: r.created_at, createdBy: r.created_by, updatedAt: r.updated_at, updatedBy: r.updated_by };
    });
  }

  /**
   * The SLI's good/total buckets over [from, now]: per minute, replicas added up (availability, latency,
   * fallback_rate), or one bucket per evaluation slot (drift_free: good without dataset drift on any version;
   * accuracy: good when every labelled version is at or above minAccuracy). `armFailures` holds availability's buckets as the arms saw them: bad = a 5xx or an arm
   * failure the fallback chain answered; answers given while switched to the fallback (no arm asked) good.
   * The fallback policy watches it: while the fallback answers, every answer is degraded, whatever the arms.
   */
  async function buckets(spec: SloSpec, from: number): Promise<{ buckets: Bucket[]; armFailures: Bucket[] | null }> {
    if (spec.sli.type === 'accuracy') {
      // Good time: an evaluation slot where every version with labels is at or above minAccuracy.
      const min = spec.sli.minAccuracy;
      const results = await db.selectFrom('quality_results').select(['at', 'accuracy']).where('deployment', '=', spec.deployment).where('at', '>=', new Date(from).toISOString()).where('accuracy', 'is not', null).execute();
      const bySlot = new Map<number, Bucket>();
      for (const r of results) {
        const start = Date.parse(r.at);
        const good = Number(r.accuracy) >= min ? 1 : 0;
        const b = bySlot.get(start);
        if (b) b.good = Math.min(b.good, good);
        else bySlot.set(start, { start, good, total: 1 });
      }
      return { buckets: [...bySlot.values()], armFailures: null };
    }
    if (spec.sli.type === 'drift_free') {
      const results = await db.selectFrom('drift_results').select(['at', 'dataset_drift']).where('deployment', '=', spec.deployment).where('at', '>=', new Date(from).toISOString()).execute();
      const bySlot = new Map<number, Bucket>();
      for (const r of results) {
        const start = Date.parse(r.at);
        const b = bySlot.get(start);
        const bad = Number(r.dataset_drift) === 1;
        if (b) b.good = Math.min(b.good, bad ? 0 : 1);
        else bySlot.set(start, { start, good: bad ? 0 : 1, total: 1 });
      }
      return { buckets: [...bySlot.values()], armFailures: null };
    }
    const counters = await db
      .selectFrom('sli_counters')
      .select(['bucket', 'total', 'errors', 'degraded', 'switched', 'latency'])
      .where('deployment', '=', spec.deployment)
      .where('bucket', '>=', new Date(from).toISOString())
      .execute();
    const latencyIndex = spec.sli.type === 'latency' ? DURATION_BUCKETS.indexOf(latencyBucket(spec.sli.thresholdMs) ?? -1) : -1;
    const byStart = new Map<number, Bucket>();
    const armFailures = new Map<number, Bucket>();
    const add = (m: Map<number, Bucket>, start: number, good: number, total: number) => {
      const b = m.get(start);
      if (b) {
        b.good += good;
        b.total += total;
      } else m.set(start, { start, good, total });
    };
    for (const c of counters) {
      const start = Date.parse(c.bucket);
      const total = Number(c.total);
      const errors = Number(c.errors);
      const degraded = Number(c.degraded);
      let good: number;
      if (spec.sli.type === 'latency') good = latencyIndex >= 0 ? ((JSON.parse(c.latency) as number[])[latencyIndex] ?? 0) : 0;
      else if (spec.sli.type === 'fallback_rate') good = total - errors - degraded;
      else good = total - errors - (spec.degradedCountsAsBad ? degraded : 0);
      add(byStart, start, good, total);
      if (spec.sli.type === 'availability') add(armFailures, start, total - errors - (degraded - Number(c.switched)), total);
    }
    return { buckets: [...byStart.values()], armFailures: spec.sli.type === 'availability' ? [...armFailures.values()] : null };
  }

  async function statusOf(info: SloInfo, models: Map<string, string>, at: number): Promise<SloStatus> {
    const spec = info.spec;
    const deploymentExists = models.has(spec.deployment);
    const notes: string[] = [];
    if (!deploymentExists) notes.push(`deployment "${spec.deployment}" does not exist; the SLO counts no traffic until it is created`);
    const base = { name: spec.name, deployment: spec.deployment, sli: spec.sli.type, objective: spec.objective, window: spec.window, deploymentExists };
    const { buckets: b, armFailures } = await buckets(spec, at - spec.windowMs);
    const evaluation = evaluateAlerts(spec, b, at);
    const firingRow = (f: FiringAlert): SloFiringRow => ({ severity: f.severity, long: f.row.long, short: f.row.short, burnRate: f.row.burnRate, longBurnRate: f.longBurnRate, shortBurnRate: f.shortBurnRate });
    const windows: Record<string, number> = { ...STATUS_WINDOWS };
    for (const row of [...spec.alerting.page, ...spec.alerting.ticket]) {
      windows[row.long] = row.longMs;
      windows[row.short] = row.shortMs;
    }
    const burnRates: Record<string, number> = {};
    for (const [label, ms] of Object.entries(windows)) burnRates[label] = burnRate(b, ms, at, spec.objective);
    if (evaluation.budget.total === 0) notes.push(spec.sli.type === 'drift_free' ? 'no drift evaluation in the window' : spec.sli.type === 'accuracy' ? 'no labelled quality evaluation in the window (labels arrive through feedback; the monitor loop evaluates every monitoring.evaluateMs)' : 'no traffic in the window');
    return {
      ...base,
      status: 'ok',
      notes,
      budget: budgetStatus(b, spec.objective, spec.windowMs, at),
      burnRates,
      firing: evaluation.firing.map(firingRow),
      firingArmFailures: armFailures ? evaluateAlerts(spec, armFailures, at).firing.map(firingRow) : evaluation.firing.map(firingRow),
      budgetLow: evaluation.budgetLow,
    };
  }

  return {
    /** Creates or updates SLOs by name from an SLO file (YAML or JSON); all or none, each change audited. */
    async apply(principal: Principal, text: string, source = 'the request body'): Promise<SloApplyResult[]> {
      requireRole(principal, 'operator');
      const specs = parseSloFiles(text, source);
      const documents = sloDocuments(text);
      const models = await deploymentModels();
      const at = new Date().toISOString();
      return db.transaction().execute(async (trx) => {
        const out: SloApplyResult[] = [];
        for (const [i, spec] of specs.entries()) {
          const document = JSON.stringify(documents[i] ?? null);
          const specText = JSON.stringify(spec);
          const deploymentExists = models.has(spec.deployment);
          const existing = await trx.selectFrom('slos').select(['spec', 'document']).where('name', '=', spec.name).executeTakeFirst();
          if (existing && existing.spec === specText && existing.document === document) {
            out.push({ name: spec.name, action: 'unchanged', deploymentExists });
            continue;
          }
          if (existing) {
            await trx.updateTable('slos').set({ deployment: spec.deployment, spec: specText, document, updated_at: at, updated_by: principal.actor }).where('name', '=', spec.name).execute();
          } else {
            await trx.insertInto('slos').values({ name: spec.name, deployment: spec.deployment, spec: specText, document, created_at: at, created_by: principal.actor, updated_at: at, updated_by: principal.actor }).execute();
          }
          const action = existing ? 'configured' : 'created';
          await appendAudit(trx, { actor: principal.actor, action: 'slo.apply', target: `slo/${spec.name}`, details: { action, deployment: spec.deployment, sli: spec.sli.type, objective: spec.objective, window: spec.window } }, at);
          out.push({ name: spec.name, action, deploymentExists });
        }
        return out;
      });
    },

    async list(principal: Principal): Promise<SloInfo[]> {
      return rows(principal);
    },

    async get(principal: Principal, name: string): Promise<SloInfo> {
      return (await rows(principal, name))[0]!;
    },

    async remove(principal: Principal, name: string): Promise<{ name: string; deleted: true }> {
      requireRole(principal, 'operator');
      return db.transaction().execute(async (trx) => {
        const r = await trx.selectFrom('slos').select(['deployment']).where('name', '=', name).executeTakeFirst();
        if (!r) throw new ModelgateError('MG_ERR_SLO_NOT_FOUND', `No SLO is named "${name}". List SLOs with \`modelgate slo list\`.`);
        await trx.deleteFrom('slos').where('name', '=', name).execute();
        await appendAudit(trx, { actor: principal.actor, action: 'slo.delete', target: `slo/${name}`, details: { deployment: r.deployment } });
        return { name, deleted: true as const };
      });
    },

    /** Status of one SLO, or of every SLO the principal may see. */
    async status(principal: Principal, name?: string): Promise<SloStatus[]> {
      const infos = await rows(principal, name);
      const models = await deploymentModels();
      const at = now();
      const out: SloStatus[] = [];
      for (const info of infos) out.push(await statusOf(info, models, at));
      return out;
    },
  };
}

/** The documents of an SLO file as written, in the order parseSloFiles reads them. */
function sloDocuments(text: string): unknown[] {
  const values: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    const v: unknown = d.toJS();
    if (Array.isArray(v)) values.push(...(v as unknown[]));
    else if (v !== null && v !== undefined) values.push(v);
  }
  return values;
}
