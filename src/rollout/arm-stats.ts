// Per-arm evidence for the canary judge: exact request and error counts and a uniform sample of latencies per
// arm, plus paired shadow comparisons, accumulated in memory off the hot path and written to the store every
// rollout.statsFlushMs. Rows from every replica add up, so analysis sees all traffic and survives restarts.
// The same slot keeps this replica's running totals per outcome, which /metrics reports: one lookup a request.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Insertable } from 'kysely';
import type { Store } from '../store/database.js';
import type { ArmStatsTable } from '../store/tables.js';

export interface ShadowCounts {
  pairs: number;
  agree: number;
  /** Mirrored requests the shadow failed (errors are counted here, not as disagreements). */
  errors: number;
  /** Sum of shadow − primary latency over the pairs, ms. */
  latencyDiffMs: number;
  primaryLabels: Record<string, number>;
  shadowLabels: Record<string, number>;
  /** Largest |difference| seen for numeric outputs. */
  maxAbsDiff: number;
  /**
   * A sample of the primary's inference time on the mirrored requests, measured as the shadow's is (from
   * queueing on the runner to the answer), so the two can be compared fairly: the caller's end-to-end
   * latency also holds HTTP and parsing, which a mirrored request never pays.
   */
  primaryLatenciesMs: number[];
}

interface Accumulator {
  deployment: string;
  arm: string;
  role: string;
  version: number;
  requests: number;
  errors: number;
  seen: number;
  latencies: Float64Array;
  shadow: ShadowCounts | null;
  paired: Float64Array | null;
  pairedSeen: number;
  /** Since this process started: answers by outcome (what /metrics counts). */
  ok: number;
  clientErrors: number;
  serverErrors: number;
  /** Since when (epoch ms) the arm has had nothing to write, 0 while it has; an arm idle for an hour is forgotten. */
  idleSince: number;
}

export interface ArmTotals {
  deployment: string;
  arm: string;
  version: number;
  ok: number;
  clientErrors: number;
  serverErrors: number;
}

export interface ArmWindow {
  role: string;
  version: number;
  requests: number;
  errors: number;
  latenciesMs: number[];
  shadow: ShadowCounts | null;
}

const IDLE_FORGET_MS = 3_600_000;

export class ArmStatsRecorder {
  private readonly acc = new Map<string, Accumulator>();
  private readonly index = new Map<string, Map<string, Map<number, Accumulator>>>();
  private timer: NodeJS.Timeout | undefined;
  /** The writes so far, in order: each flush's rows are written after the ones before. */
  private writing: Promise<void> = Promise.resolve();
  readonly replica = randomUUID();
  private lastPurge = 0;

  constructor(private readonly store: Store, private readonly options: { flushMs: number; latencySamples: number; retentionMs: number; logger: Logger }) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  /**
   * The accumulator of (deployment, arm, version). Looked up through nested maps first: the names are the route's
   * own strings, whose hashes V8 keeps, so the usual lookup builds no key (the joined key cost ~1 µs a request).
   */
  private slot(deployment: string, arm: string, role: string, version: number): Accumulator {
    const hit = this.index.get(deployment)?.get(arm)?.get(version);
    if (hit !== undefined) return hit;
    const key = `${deployment}\u0000${arm}\u0000${version}`;
    let a = this.acc.get(key);
    if (a === undefined) {
      a = { deployment, arm, role, version, requests: 0, errors: 0, seen: 0, latencies: new Float64Array(this.options.latencySamples), shadow: null, paired: null, pairedSeen: 0, ok: 0, clientErrors: 0, serverErrors: 0, idleSince: 0 };
      this.acc.set(key, a);
    }
    let byArm = this.index.get(deployment);
    if (byArm === undefined) this.index.set(deployment, (byArm = new Map()));
    let byVersion = byArm.get(arm);
    if (byVersion === undefined) byArm.set(arm, (byVersion = new Map()));
    byVersion.set(version, a);
    return a;
  }

  /**
   * One answer through a deployment, by HTTP status: counted in the totals, and evidence for the judge unless
   * it is a client's mistake (4xx), which says nothing about the version.
   */
  answer(deployment: string, arm: string, role: string, version: number, status: number, latencyMs: number): void {
    const a = this.slot(deployment, arm, role, version);
    if (status >= 500) a.serverErrors++;
    else if (status >= 400) {
      a.clientErrors++;
      return;
    } else a.ok++;
    this.evidence(a, status >= 500, latencyMs);
  }

  /** Evidence of one answered request. `failed` is a server-side failure (5xx). */
  record(deployment: string, arm: string, role: string, version: number, failed: boolean, latencyMs: number): void {
    this.evidence(this.slot(deployment, arm, role, version), failed, latencyMs);
  }

  private evidence(a: Accumulator, failed: boolean, latencyMs: number): void {
    a.requests++;
    if (failed) a.errors++;
    else a.seen = reservoir(a.latencies, a.seen, latencyMs);
  }

  /** One mirrored request: the shadow's outcome and its comparison with the primary answer. */
  recordShadow(deployment: string, arm: string, version: number, outcome: { failed: boolean; latencyMs: number; primaryLatencyMs: number; agree?: boolean; primaryLabel?: string | null; shadowLabel?: string | null; absDiff?: number | null }): void {
    const a = this.slot(deployment, arm, 'shadow', version);
    a.requests++;
    a.shadow ??= { pairs: 0, agree: 0, errors: 0, latencyDiffMs: 0, primaryLabels: {}, shadowLabels: {}, maxAbsDiff: 0, primaryLatenciesMs: [] };
    a.paired ??= new Float64Array(this.options.latencySamples);
    if (outcome.failed) {
      a.errors++;
      a.shadow.errors++;
      return;
    }
    a.seen = reservoir(a.latencies, a.seen, outcome.latencyMs);
    a.pairedSeen = reservoir(a.paired, a.pairedSeen, outcome.primaryLatencyMs);
    const s = a.shadow;
    s.pairs++;
    if (outcome.agree) s.agree++;
    s.latencyDiffMs += outcome.latencyMs - outcome.primaryLatencyMs;
    if (outcome.primaryLabel != null) s.primaryLabels[outcome.primaryLabel] = (s.primaryLabels[outcome.primaryLabel] ?? 0) + 1;
    if (outcome.shadowLabel != null) s.shadowLabels[outcome.shadowLabel] = (s.shadowLabels[outcome.shadowLabel] ?? 0) + 1;
    if (outcome.absDiff != null && outcome.absDiff > s.maxAbsDiff) s.maxAbsDiff = outcome.absDiff;
  }

  /** This replica's answers per arm since it started. */
  *totals(): Iterable<ArmTotals> {
    for (const a of this.acc.values()) {
      if (a.ok + a.clientErrors + a.serverErrors > 0) yield { deployment: a.deployment, arm: a.arm, version: a.version, ok: a.ok, clientErrors: a.clientErrors, serverErrors: a.serverErrors };
    }
  }

  /**
   * Ends the interval now and writes what was gathered in it, stamped with this moment; the next interval
   * starts empty at once, even while an earlier write is still in flight. The router calls it as a new
   * traffic split takes effect, so no row mixes requests from before a change with requests after it.
   */
  flush(): Promise<void> {
    const rows = this.cut();
    const write = this.writing.then(() => this.write(rows));
    // A write that threw must not stop the ones after it (write() logs its own failures).
    this.writing = write.catch(() => undefined);
    return write;
  }

  private cut(): Insertable<ArmStatsTable>[] {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const rows: Insertable<ArmStatsTable>[] = [];
    for (const [key, a] of this.acc) {
      if (a.requests === 0 && !a.shadow) {
        if (a.idleSince === 0) a.idleSince = now;
        else if (now - a.idleSince > IDLE_FORGET_MS) {
          this.acc.delete(key);
          this.index.get(a.deployment)?.get(a.arm)?.delete(a.version);
        }
        continue;
      }
      // The row is built now, so the slot (its totals and sample buffers) can be reused for the next interval.
      rows.push({
        deployment: a.deployment,
        arm: a.arm,
        role: a.role,
        version: a.version,
        at,
        replica: this.replica,
        requests: a.requests,
        errors: a.errors,
        latencies: JSON.stringify(sampleOf(a.latencies, a.seen)),
        shadow: a.shadow ? JSON.stringify({ ...a.shadow, primaryLatenciesMs: a.paired ? sampleOf(a.paired, a.pairedSeen) : [] }) : null,
      });
      a.idleSince = 0;
      a.requests = 0;
      a.errors = 0;
      a.seen = 0;
      a.shadow = null;
      a.pairedSeen = 0;
    }
    return rows;
  }

  private async write(rows: Insertable<ArmStatsTable>[]): Promise<void> {
    if (rows.length === 0) return this.purge();
    try {
      await this.store.db.insertInto('arm_stats').values(rows).execute();
    } catch (err) {
      this.options.logger.warn({ err, rows: rows.length }, 'could not write arm statistics; this interval is missing from rollout analysis');
    }
    await this.purge();
  }

  private async purge(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPurge < 60_000) return;
    this.lastPurge = now;
    try {
      await this.store.db.deleteFrom('arm_stats').where('at', '<', new Date(now - this.options.retentionMs).toISOString()).execute();
    } catch (err) {
      this.options.logger.warn({ err }, 'could not purge old arm statistics');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

/** Everything recorded for a deployment in (from, to], added up per role and version across replicas. */
export async function readArmWindow(store: Store, deployment: string, from: Date, to: Date): Promise<ArmWindow[]> {
  const rows = await store.db
    .selectFrom('arm_stats')
    .select(['role', 'version', 'requests', 'errors', 'latencies', 'shadow'])
    .where('deployment', '=', deployment)
    .where('at', '>', from.toISOString())
    .where('at', '<=', to.toISOString())
    .execute();
  const out = new Map<string, ArmWindow>();
  for (const r of rows) {
    const key = `${r.role}\u0000${r.version}`;
    let w = out.get(key);
    if (!w) {
      w = { role: r.role, version: r.version, requests: 0, errors: 0, latenciesMs: [], shadow: null };
      out.set(key, w);
    }
    w.requests += r.requests;
    w.errors += r.errors;
    for (const v of JSON.parse(r.latencies) as number[]) w.latenciesMs.push(v);
    if (r.shadow) {
      const s = JSON.parse(r.shadow) as ShadowCounts;
      if (!w.shadow) w.shadow = { ...s, primaryLabels: { ...s.primaryLabels }, shadowLabels: { ...s.shadowLabels }, primaryLatenciesMs: [...(s.primaryLatenciesMs ?? [])] };
      else {
        for (const v of s.primaryLatenciesMs ?? []) w.shadow.primaryLatenciesMs.push(v);
        w.shadow.pairs += s.pairs;
        w.shadow.agree += s.agree;
        w.shadow.errors += s.errors;
        w.shadow.latencyDiffMs += s.latencyDiffMs;
        w.shadow.maxAbsDiff = Math.max(w.shadow.maxAbsDiff, s.maxAbsDiff);
        for (const [k, n] of Object.entries(s.primaryLabels)) w.shadow.primaryLabels[k] = (w.shadow.primaryLabels[k] ?? 0) + n;
        for (const [k, n] of Object.entries(s.shadowLabels)) w.shadow.shadowLabels[k] = (w.shadow.shadowLabels[k] ?? 0) + n;
      }
    }
  }
  return [...out.values()];
}

/** Algorithm R: after n values, each has had the same chance to be in the sample. Returns the new count. */
function reservoir(sample: Float64Array, seen: number, value: number): number {
  const cap = sample.length;
  if (seen < cap) sample[seen] = value;
  else {
    const j = Math.floor(Math.random() * (seen + 1));
    if (j < cap) sample[j] = value;
  }
  return seen + 1;
}

function sampleOf(sample: Float64Array, seen: number): number[] {
  return Array.from(sample.subarray(0, Math.min(seen, sample.length)), (v) => Math.round(v * 1000) / 1000);
}
