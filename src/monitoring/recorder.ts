// The gateway side of monitoring. The data plane hands every answered deployment request to observe() from
// its onResponse hook (after the caller has the answer); the work happens a few milliseconds later, in batches:
// prediction records for label joins, sampled redacted payloads, and the request folded into the profile of
// its (deployment, version, time bucket). Profiles are written per bucket and replica (an upsert of the
// replica's running total), so any window merges exactly from the store. Before the model runs, check()
// applies the deployment's data-quality action.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import type { Principal } from '../governance/keys.js';
import type { Registry } from '../registry/registry-service.js';
import type { ReferenceProfile } from '../registry/profile/types.js';
import type { DeploymentRoute, RouteArm } from '../rollout/deployment-router.js';
import { parseDuration } from '../rollout/duration.js';
import type { TensorMap } from '../runtime/types.js';
import type { LoadedVersion } from '../serving/model-manager.js';
import type { Store } from '../store/database.js';
import { checkInputs, compileQualityCheck, describeIssues, type QualityCheck, type QualityIssue } from './data-quality.js';
import type { MonitoringSpec } from './monitoring-spec.js';
import { outputPlan, outputsJson, rowPredictions, rowSlices, subjectReader, type OutputPlan, type SubjectReader } from './observe.js';
import { PredictionLog, type PredictionLogStatus } from './prediction-log.js';
import { compileRedactor, hashValue, type DetectorName, type Redactor } from './privacy/redact.js';
import { layoutFromReference, ProfileAccumulator, type ProfileLayout } from './profile/profile.js';

const SYSTEM: Principal = { actor: 'system:monitoring', keyId: null, role: 'admin', modelPatterns: [] };

/** How long observed requests wait to be processed together (observe()). */
const DRAIN_MS = 10;

/** Pseudo-features for the outputs, folded into the same profile as the inputs. */
export const PREDICTION_FEATURE = '@prediction';
export const SCORE_FEATURE = '@score';

export interface Observation {
  requestId: string;
  route: DeploymentRoute;
  arm: RouteArm;
  lv: LoadedVersion | undefined;
  protocol: 'v1' | 'v2';
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  inputs: TensorMap | undefined;
  outputs: TensorMap | undefined;
  rows: number;
  status: number;
  latencyMs: number;
  errorCode: string | undefined;
  time: number;
}

interface Plan {
  spec: MonitoringSpec;
  redactor: Redactor;
  bucketMs: number;
  subject: SubjectReader;
}

interface VersionState {
  state: 'loading' | 'ready' | 'none';
  layout: ProfileLayout | undefined;
  /** For each layout feature: its column in the input tensor, or -1 (the outputs, or not an input). */
  columns: Int32Array;
  input: string | undefined;
  width: number;
  predictionIndex: number;
  scoreIndex: number;
  /** Compiled with the layout, whose bounds carry the deployment's tolerance (the version state is per deployment). */
  check: QualityCheck | undefined;
  outputs: OutputPlan | undefined;
  backlog: Observation[];
  profile: ReferenceProfile | null;
  /** Settles when the reference profile has been read (or failed to be). */
  loaded: Promise<void>;
  /** The bucket this deployment version folded into last, and a row reused for each fold. */
  bucket: Bucket | undefined;
  bucketKey: string | undefined;
  scratch: unknown[];
}

interface CountSlot {
  deployment: string;
  version: number;
  arm: string;
  /** Seconds since the epoch. */
  second: number;
  n: number;
  dirty: boolean;
}

interface Bucket {
  deployment: string;
  version: number;
  start: number;
  end: number;
  acc: ProfileAccumulator;
  dirty: boolean;
}

export interface RecorderCounters {
  observed: number;
  profiledRows: number;
  qualityFlagged: number;
  qualityRejected: number;
  /** Requests sent to the fallback chain on data quality (action fallback). */
  qualityFallback: number;
  redactions: Record<DetectorName, number>;
}

export class MonitorRecorder {
  readonly replica = randomUUID();
  readonly log: PredictionLog;
  private pending: Observation[] = [];
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly plans = new WeakMap<DeploymentRoute, Plan>();
  private readonly plansByKey = new Map<string, Plan>();
  private readonly versions = new Map<string, VersionState>();
  private readonly byRoute = new WeakMap<DeploymentRoute, WeakMap<LoadedVersion, VersionState>>();
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly counters = { observed: 0, profiledRows: 0, qualityFlagged: 0, qualityRejected: 0, qualityFallback: 0 };
  private readonly redactors = new Set<Redactor>();
  private readonly salt: string;

  constructor(private readonly deps: { store: Store; registry: Registry; config: Readonly<Config>; logger: Logger; salt: string; onLost?: (count: number, reason: string) => void }) {
    this.salt = deps.salt;
    const m = deps.config.monitoring;
    this.log = new PredictionLog(deps.store, { maxQueuedRecords: m.maxQueuedRecords, maxQueuedPayloads: m.maxQueuedPayloads, logger: deps.logger, ...(deps.onLost ? { onLost: deps.onLost } : {}) });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.config.monitoring.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // flush() processes what is still waiting first.
    await this.flush();
    await this.log.close();
  }

  status(): PredictionLogStatus & RecorderCounters {
    const redactions = {} as Record<DetectorName, number>;
    for (const r of this.redactors) for (const [k, n] of Object.entries(r.counts()) as [DetectorName, number][]) redactions[k] = (redactions[k] ?? 0) + n;
    return { ...this.log.status(), ...this.counters, redactions };
  }

  /** A request as the deployment's monitoring redacts it (fields and detectors), for anything kept outside the log. */
  redact(route: DeploymentRoute, value: unknown): unknown {
    return this.plan(route).redactor.redact(value);
  }

  private plan(route: DeploymentRoute): Plan {
    let p = this.plans.get(route);
    if (p === undefined) {
      // Every traffic change compiles a new route object; an unchanged monitoring section keeps its plan.
      const spec = route.monitoring;
      // The routing key is part of it: with no monitoring.subject, it is the subject.
      const key = `${route.name}\u0000${JSON.stringify(spec)}\u0000${JSON.stringify(route.routingKey ?? null)}`;
      p = this.plansByKey.get(key);
      if (p === undefined) {
        const redactor = compileRedactor({ fields: spec.redact.fields, detectors: spec.redact.detectors as boolean | DetectorName[], salt: this.salt });
        this.redactors.add(redactor);
        p = { spec, redactor, bucketMs: parseDuration(spec.drift.bucket) ?? 60_000, subject: subjectReader(spec, route.routingKey) };
        this.plansByKey.set(key, p);
      }
      this.plans.set(route, p);
    }
    return p;
  }

  /**
   * The data-quality action, before the model runs: throws MG_ERR_INFER_DATA_QUALITY when the deployment
   * rejects or falls back (details.fallback: the data plane then answers from the fallback chain), returns the issues to flag when it allows, undefined when the request is clean or the version's
   * reference is not loaded yet (the data plane waits on pendingCheck() first, so that happens only when the
   * read failed).
   */
  check(route: DeploymentRoute, lv: LoadedVersion, inputs: TensorMap): QualityIssue[] | undefined {
    if (!route.monitoring.enabled) return undefined;
    const v = this.version(route, lv);
    if (v.state !== 'ready') return undefined;
    if (v.check === undefined) return undefined;
    const issues = checkInputs(v.check, inputs);
    if (issues.length === 0) return undefined;
    if (route.monitoring.dataQuality.action === 'reject') {
      this.counters.qualityRejected++;
      throw new ModelgateError('MG_ERR_INFER_DATA_QUALITY', `Deployment "${route.name}" rejects this request on data quality: ${describeIssues(issues)}. The reference profile of version ${lv.version} sets the expected ranges and categories.`, { issues });
    }
    if (route.monitoring.dataQuality.action === 'fallback') {
      // The data plane sends it to the fallback chain; this error is the answer only when no step answers.
      this.counters.qualityFallback++;
      throw new ModelgateError('MG_ERR_INFER_DATA_QUALITY', `Deployment "${route.name}" sends this request to its fallback chain on data quality (${describeIssues(issues)}), and no step of the chain could answer.`, { issues, fallback: true });
    }
    this.counters.qualityFlagged++;
    return issues;
  }

  /**
   * A promise while the version's reference profile is still loading (one store read, once per deployment
   * version and process): the first requests wait for the data-quality check rather than pass unchecked.
   * Undefined otherwise, so every later request goes straight on.
   */
  pendingCheck(route: DeploymentRoute, lv: LoadedVersion): Promise<void> | undefined {
    if (!route.monitoring.enabled) return undefined;
    const v = this.version(route, lv);
    return v.state === 'loading' ? v.loaded : undefined;
  }

  /**
   * Called from onResponse: queues the work, done every DRAIN_MS in one batch. A drain in the very next turn
   * (setImmediate, as before) ran between the event loop's groups of model runs and the answers to them, whose
   * locality is most of why the gateway keeps up with a bare server (PERFORMANCE.md): in
   * `bench:serve --mode monitoring` (40 rounds of 1 s) monitoring cost the event loop 5.5–14.5 µs a request that
   * way and 2.7–8.5 µs drained by a timer, against 2.7 µs measured alone (`bench:monitor --only recorder`).
   */
  observe(o: Observation): void {
    if (!o.route.monitoring.enabled) return;
    this.pending.push(o);
    if (this.drainTimer === undefined) {
      this.drainTimer = setTimeout(() => this.drain(), DRAIN_MS);
      this.drainTimer.unref();
    }
  }

  private drain(): void {
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const o of batch) {
      try {
        this.process(o);
      } catch (err) {
        // Monitoring never fails a request, and never takes the process down either.
        this.deps.logger.warn({ err: { message: (err as Error).message }, deployment: o.route.name }, 'monitoring could not record a request');
      }
    }
  }

  /** Per deployment and version: the layout depends on the deployment's range tolerance. */
  private version(route: DeploymentRoute, lv: LoadedVersion): VersionState {
    // Two object lookups on the usual path; the string key only when a route object is new (a policy change).
    let fast = this.byRoute.get(route);
    if (fast === undefined) this.byRoute.set(route, (fast = new WeakMap()));
    const hit = fast.get(lv);
    if (hit !== undefined) return hit;
    const key = `${route.name}\u0000${lv.key}\u0000${route.monitoring.dataQuality.rangeTolerance}`;
    let v = this.versions.get(key);
    if (v !== undefined) fast.set(lv, v);
    if (v === undefined) {
      v = { state: 'loading', layout: undefined, columns: new Int32Array(0), input: undefined, width: 0, predictionIndex: -1, scoreIndex: -1, check: undefined, outputs: undefined, backlog: [], profile: null, loaded: Promise.resolve(), bucket: undefined, bucketKey: undefined, scratch: [] };
      this.versions.set(key, v);
      fast.set(lv, v);
      const state = v;
      const tolerance = route.monitoring.dataQuality.rangeTolerance;
      v.loaded = this.deps.registry
        .getReferenceProfile(SYSTEM, lv.key)
        .then((profile) => this.prepare(state, lv, profile, tolerance))
        .catch((err: unknown) => {
          this.deps.logger.warn({ err: { message: (err as Error).message }, version: lv.key }, 'monitoring: cannot read the reference profile; profiling outputs only');
          this.prepare(state, lv, null, tolerance);
        });
    }
    return v;
  }

  private prepare(v: VersionState, lv: LoadedVersion, profile: ReferenceProfile | null, tolerance: number): void {
    const info = lv.info;
    const tabular = info.features !== null && info.signature.inputs.length === 1 && (info.signature.inputs[0]!.shape?.length ?? 0) === 2;
    const input = tabular ? info.signature.inputs[0]!.name : undefined;
    const features = tabular ? info.features! : [];
    const layout = monitoringLayout(profile, features, tolerance);
    const columns = new Int32Array(layout.features.length).fill(-1);
    for (const [i, f] of layout.features.entries()) columns[i] = features.indexOf(f.name);
    v.layout = layout;
    v.columns = columns;
    v.input = input;
    v.width = features.length;
    v.predictionIndex = layout.features.findIndex((f) => f.name === PREDICTION_FEATURE);
    v.scoreIndex = layout.features.findIndex((f) => f.name === SCORE_FEATURE);
    v.check = compileQualityCheck(layout, columns, features.length, input, profile);
    v.profile = profile;
    v.state = 'ready';
    const backlog = v.backlog;
    v.backlog = [];
    for (const o of backlog) this.fold(v, o, this.plan(o.route));
  }

  private process(o: Observation): void {
    this.counters.observed++;
    const plan = this.plan(o.route);
    const spec = plan.spec;
    const at = this.isoTime(o.time);
    const lv = o.lv;
    const features = lv?.info.features ?? null;
    const key = plan.subject(o.headers, o.body, o.protocol, features);
    const subject = key === undefined ? null : this.subjectHash(key);
    const version = o.arm.version;
    if (o.status < 400 && o.outputs && lv) {
      const v = this.version(o.route, lv);
      v.outputs ??= outputPlan(spec, Object.keys(o.outputs));
      const preds = rowPredictions(o.outputs, o.rows, v.outputs);
      const slices = spec.slices.length === 0 ? [] : rowSlices(spec, o.headers, o.body, o.protocol, features, o.rows);
      this.count(o.route.name, version, o.arm.name, o.time, o.rows);
      for (let r = 0; r < o.rows; r++) {
        const p = preds[r]!.prediction;
        this.log.addRecord({ request_id: o.requestId, row: r, deployment: o.route.name, version, arm: o.arm.name, at, prediction: typeof p === 'number' ? String(p) : JSON.stringify(p), score: preds[r]!.score, slice: spec.slices.length === 0 ? '{}' : JSON.stringify(slices[r]), subject });
      }
      if (v.state === 'loading') {
        if (v.backlog.length < 1000) v.backlog.push(o);
      } else {
        this.fold(v, o, plan, preds);
      }
    }
    if (o.status >= 400 || Math.random() < spec.sample) {
      this.log.addPayload({
        request_id: o.requestId,
        deployment: o.route.name,
        version: lv ? version : null,
        arm: o.arm.name,
        at,
        status: o.status,
        latency_ms: Math.round(o.latencyMs * 1000) / 1000,
        subject,
        input: JSON.stringify(plan.redactor.redact(o.body) ?? null),
        output: o.outputs && o.status < 400 ? JSON.stringify(plan.redactor.redact(outputsJson(o.outputs))) : null,
        error: o.errorCode ?? null,
      });
    }
  }

  private fold(v: VersionState, o: Observation, plan: Plan, preds = o.outputs && v.outputs ? rowPredictions(o.outputs, o.rows, v.outputs) : undefined): void {
    if (!v.layout) return;
    const start = Math.floor(o.time / plan.bucketMs) * plan.bucketMs;
    let b = v.bucket !== undefined && v.bucket.start === start && this.buckets.has(v.bucketKey!) ? v.bucket : undefined;
    if (b === undefined) {
      const bkey = `${o.route.name}\u0000${o.arm.version}\u0000${start}`;
      b = this.buckets.get(bkey);
      if (b === undefined) {
        b = { deployment: o.route.name, version: o.arm.version, start, end: start + plan.bucketMs, acc: new ProfileAccumulator(v.layout), dirty: false };
        this.buckets.set(bkey, b);
      }
      v.bucket = b;
      v.bucketKey = bkey;
    }
    const acc = b.acc;
    const t = v.input !== undefined ? o.inputs?.[v.input] : undefined;
    const data = t && t.shape.length === 2 && t.shape[1] === v.width && typeof t.data[0] !== 'string' ? (t.data as ArrayLike<number | bigint>) : undefined;
    const cols = v.columns;
    if (v.scratch.length !== cols.length) v.scratch = new Array<unknown>(cols.length);
    const row = v.scratch;
    for (let r = 0; r < o.rows; r++) {
      // A loop, not row.fill(null): fill on an array this short runs as a call into the runtime.
      for (let i = 0; i < row.length; i++) row[i] = null;
      if (data) {
        const base = r * v.width;
        for (let i = 0; i < cols.length; i++) {
          const c = cols[i]!;
          if (c >= 0) {
            const x = data[base + c]!;
            row[i] = typeof x === 'bigint' ? Number(x) : x;
          }
        }
      }
      const p = preds?.[r];
      if (v.predictionIndex >= 0) row[v.predictionIndex] = p?.prediction ?? null;
      if (v.scoreIndex >= 0) row[v.scoreIndex] = p?.score ?? null;
      acc.addRow(row);
      this.counters.profiledRows++;
    }
    b.dirty = true;
  }

  /** Prediction records per deployment, version, arm and second: this replica's running totals (prediction_counts). */
  private readonly counts = new Map<string, CountSlot>();
  private lastCount: CountSlot | undefined;

  private count(deployment: string, version: number, arm: string, time: number, rows: number): void {
    const second = Math.floor(time / 1000);
    let c = this.lastCount;
    if (c === undefined || c.second !== second || c.version !== version || c.arm !== arm || c.deployment !== deployment) {
      const key = `${deployment}\u0000${version}\u0000${arm}\u0000${second}`;
      c = this.counts.get(key);
      if (c === undefined) {
        c = { deployment, version, arm, second, n: 0, dirty: false };
        this.counts.set(key, c);
      }
      this.lastCount = c;
    }
    c.n += rows;
    c.dirty = true;
  }

  /** The ISO time of the last millisecond asked for: requests answered in one millisecond share it. */
  private isoMs = -1;
  private iso = '';

  private isoTime(ms: number): string {
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.iso = new Date(ms).toISOString();
    }
    return this.iso;
  }

  /** Salted hashes of recent subject keys: an HMAC costs ~2 µs, and the same users come back. */
  private readonly subjects = new Map<string, string>();

  private subjectHash(key: string): string {
    let h = this.subjects.get(key);
    if (h === undefined) {
      if (this.subjects.size >= 10_000) this.subjects.clear();
      h = hashValue(this.salt, key);
      this.subjects.set(key, h);
    }
    return h;
  }

  /** Processes what was observed, then writes queued records and payloads, and every changed bucket's running profile. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) this.drain();
    // A flush in flight may have passed what was queued since it began: wait for it, then write again.
    while (this.flushing) await this.flushing;
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    await this.log.flush();
    const now = Date.now();
    const db = this.deps.store.db;
    for (const [key, b] of this.buckets) {
      if (b.dirty) {
        const profile = b.acc.snapshot();
        const text = JSON.stringify(profile);
        // Cleared before the write: rows folded while it is in flight mark the bucket again.
        b.dirty = false;
        try {
          await db
            .insertInto('monitor_profiles')
            .values({ deployment: b.deployment, version: b.version, bucket: new Date(b.start).toISOString(), replica: this.replica, rows: profile.rows, profile: text })
            .onConflict((oc) => oc.columns(['deployment', 'version', 'bucket', 'replica']).doUpdateSet({ rows: profile.rows, profile: text }))
            .execute();
        } catch (err) {
          b.dirty = true;
          this.deps.logger.warn({ err: { message: (err as Error).message }, deployment: b.deployment }, 'writing a monitoring profile failed; retrying on the next flush');
          continue;
        }
      }
      // A bucket is kept a while after it ends, for requests that were answered just before its end.
      if (!b.dirty && b.end + 5_000 < now) this.buckets.delete(key);
    }
    const changed = [...this.counts.values()].filter((c) => c.dirty);
    if (changed.length > 0) {
      for (const c of changed) c.dirty = false;
      try {
        // One statement for every changed second; a row holds this replica's total, so a retry writes it again.
        for (let i = 0; i < changed.length; i += 500) {
          await db
            .insertInto('prediction_counts')
            .values(changed.slice(i, i + 500).map((c) => ({ deployment: c.deployment, version: c.version, arm: c.arm, at: new Date(c.second * 1000).toISOString(), replica: this.replica, n: c.n })))
            .onConflict((oc) => oc.columns(['deployment', 'at', 'version', 'arm', 'replica']).doUpdateSet((eb) => ({ n: eb.ref('excluded.n') })))
            .execute();
        }
      } catch (err) {
        for (const c of changed) c.dirty = true;
        this.deps.logger.warn({ err: { message: (err as Error).message } }, 'writing prediction counts failed; retrying on the next flush');
      }
    }
    for (const [key, c] of this.counts) {
      if (!c.dirty && (c.second + 6) * 1000 < now) {
        this.counts.delete(key);
        if (this.lastCount === c) this.lastCount = undefined;
      }
    }
  }

}

/**
 * The layout a deployment's profiles of one version are folded with: the reference features the model takes,
 * then the outputs. Live drift rebuilds it the same way to read the stored profiles.
 */
export function monitoringLayout(profile: ReferenceProfile | null, features: readonly string[], tolerance: number): ProfileLayout {
  const ref: ReferenceProfile = profile ?? { schemaVersion: 1, rows: 0, source: { format: 'csv', sha256: '', bytes: 0 }, features: [] };
  return layoutFromReference({ ...ref, features: ref.features.filter((f) => features.includes(f.name)) }, [
    { name: PREDICTION_FEATURE, type: 'categorical' },
    { name: SCORE_FEATURE, type: 'numerical' },
  ], { rangeTolerance: tolerance });
}
