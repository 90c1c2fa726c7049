// The events behind the availability and latency SLIs: every deployment answer counted per deployment and
// minute in memory, and written every flush as an upsert of this replica's running total for the minute, so
// the counts survive restarts and replicas add up (as the monitoring profiles do).
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Logger } from 'pino';
import type { Store } from '../store/database.js';
import type { SliCountersTable } from '../store/tables.js';
import { DURATION_BUCKETS } from '../telemetry/metrics.js';

export const SLI_BUCKET_MS = 60_000;
const DAY_MS = 86_400_000;
/** Longer than any SLO window worth keeping minute counts for (28d and a margin). */
export const SLI_RETENTION_MS = 35 * DAY_MS;
const PURGE_EVERY_MS = 3_600_000;
/** A minute is written once more after it ends, for answers that finished just before its end. */
const KEEP_AFTER_END_MS = 2 * SLI_BUCKET_MS;

interface MinuteCounts {
  deployment: string;
  start: number;
  total: number;
  errors: number;
  degraded: number;
  switched: number;
  /** Answers per latency bucket (not cumulative); the last slot holds those above every bound. */
  latency: Float64Array;
  dirty: boolean;
}

const BOUNDS_MS = Float64Array.from(DURATION_BUCKETS, (b) => b * 1000);

export class SliRecorder {
  readonly replica = randomUUID();
  /** The minute each deployment answered in last: one map lookup per answer in the usual case. */
  private readonly current = new Map<string, MinuteCounts>();
  private readonly minutes = new Map<string, MinuteCounts>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastPurge = 0;

  constructor(private readonly store: Store, private readonly options: { flushMs: number; logger: Logger; now?: () => number }) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  /**
   * One answer of a deployment. Client errors (4xx) are the caller's mistake and do not count. `degraded`:
   * answered by the fallback chain (another version, a rule model, the cache, a static default, the review
   * queue), after the chosen arm failed, because the deployment is switched to its fallback, or on data quality.
   */
  answer(deployment: string, status: number, latencyMs: number, degraded?: 'failure' | 'switch' | 'data_quality'): void {
    if (status >= 400 && status < 500) return;
    const now = this.options.now?.() ?? Date.now();
    const start = now - (now % SLI_BUCKET_MS);
    let m = this.current.get(deployment);
    if (m === undefined || m.start !== start) {
      const key = `${deployment}\u0000${start}`;
      m = this.minutes.get(key);
      if (m === undefined) {
        m = { deployment, start, total: 0, errors: 0, degraded: 0, switched: 0, latency: new Float64Array(BOUNDS_MS.length + 1), dirty: false };
        this.minutes.set(key, m);
      }
      this.current.set(deployment, m);
    }
    m.total++;
    if (status >= 500) m.errors++;
    else if (degraded !== undefined) {
      m.degraded++;
      // No arm failed for these: the fallback policy must not read them as the arms failing.
      if (degraded !== 'failure') m.switched++;
    }
    let i = 0;
    while (i < BOUNDS_MS.length && latencyMs > BOUNDS_MS[i]!) i++;
    m.latency[i]!++;
    m.dirty = true;
  }

  /**
   * Writes every count given before the call. A flush already in flight may have read the counts before the
   * last answers, so it is waited for and another one runs (the timer, the SLO watcher and tests all flush).
   */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const now = this.options.now?.() ?? Date.now();
    const rows: { m: MinuteCounts; row: Insertable<SliCountersTable> }[] = [];
    for (const [key, m] of this.minutes) {
      if (m.dirty) {
        rows.push({ m, row: { deployment: m.deployment, bucket: new Date(m.start).toISOString(), replica: this.replica, total: m.total, errors: m.errors, degraded: m.degraded, switched: m.switched, latency: JSON.stringify(cumulative(m.latency)) } });
        m.dirty = false;
      } else if (m.start + SLI_BUCKET_MS + KEEP_AFTER_END_MS < now) {
        this.minutes.delete(key);
        if (this.current.get(m.deployment) === m) this.current.delete(m.deployment);
      }
    }
    for (const { m, row } of rows) {
      try {
        await this.store.db
          .insertInto('sli_counters')
          .values(row)
          .onConflict((oc) => oc.columns(['deployment', 'bucket', 'replica']).doUpdateSet({ total: row.total, errors: row.errors, degraded: row.degraded, switched: row.switched ?? 0, latency: row.latency }))
          .execute();
      } catch (err) {
        m.dirty = true;
        this.options.logger.warn({ err: { message: (err as Error).message }, deployment: m.deployment }, 'writing SLI counters failed; retrying on the next flush');
      }
    }
    await this.purge(now);
  }

  private async purge(now: number): Promise<void> {
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    try {
      await this.store.db.deleteFrom('sli_counters').where('bucket', '<', new Date(now - SLI_RETENTION_MS).toISOString()).execute();
    } catch (err) {
      this.options.logger.warn({ err: { message: (err as Error).message } }, 'could not purge old SLI counters');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

/** Answers at or under each bound, as a histogram's `le` buckets count them. */
function cumulative(counts: Float64Array): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < BOUNDS_MS.length; i++) {
    sum += counts[i]!;
    out.push(sum);
  }
  return out;
}
