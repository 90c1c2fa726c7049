// Per-version request scheduling between the HTTP handlers and a ModelRuntime: a bounded queue with
// deadlines and graceful drain, and, for models whose first dimension is the batch, Triton-style dynamic
// batching that merges concurrent requests into one run.
//
// Both runners speak the same submit/drain/stats API so the gateway has one code path; DirectRunner is
// the one used when batching is off or the model cannot be batched.
import { ModelgateError, isModelgateError } from '../../errors/modelgate-error.js';
import type { Tensor, TensorMap } from '../../runtime/types.js';
import { concatTensors, splitTensor, tensorLayoutProblem } from './tensor-batch.js';

/** Computes `outputs` (all when absent) for `inputs`; what ModelRuntime.infer does. */
export type RunFunction = (inputs: TensorMap, outputs?: string[]) => Promise<TensorMap>;

/** Reported once per run as it starts. `size` is rows, `queueMs` the wait of the oldest request in it. */
export interface BatchInfo {
  size: number;
  requests: number;
  queueMs: number;
}

export interface SubmitOptions {
  /** Epoch milliseconds. Queued requests are dropped at the deadline; running ones are answered then. */
  deadline: number;
  /** Outputs to compute; absent or empty means all. */
  outputs?: string[] | undefined;
  /** Called when the request leaves the queue and its run starts, with how long it waited (ms). */
  onStart?: ((queueMs: number) => void) | undefined;
}

export interface RunnerStats {
  /** Requests waiting to run. */
  queuedRequests: number;
  /** Rows in those requests. */
  queuedRows: number;
  /** Calls to `run` not yet settled. */
  inFlightRuns: number;
  /** Requests taking part in those calls. */
  inFlightRequests: number;
  draining: boolean;
  /** Requests are merged into shared runs: never for DirectRunner; for DynamicBatcher until merging stops. */
  merging: boolean;
}

/** What DynamicBatcher and DirectRunner have in common, so callers can hold either. */
export interface InferenceRunner {
  submit(inputs: TensorMap, rows: number, options: SubmitOptions): Promise<TensorMap>;
  drain(): Promise<void>;
  stats(): RunnerStats;
}

export interface DirectRunnerOptions {
  run: RunFunction;
  /**
   * Requests (not rows) allowed to wait; one more is refused with MG_ERR_INFER_QUEUE_FULL. Requests are
   * counted because that is what serving.maxQueueSize documents and what a client retries; the memory a
   * request can hold is bounded separately by the body limit. Runs in flight do not count.
   */
  maxQueueSize: number;
  /** Calls to `run` in flight at once. Default 1. */
  maxConcurrentRuns?: number;
  onBatch?: (info: BatchInfo) => void;
}

export interface DynamicBatcherOptions extends DirectRunnerOptions {
  /** Most rows merged into one run. A request with more rows runs alone. */
  maxBatchSize: number;
  /** Longest a request waits for others to join it, once a run slot is free. */
  maxQueueDelayMs: number;
  /** Batch sizes (rows) the model runs best at; a queue that can form one sends it without waiting. */
  preferredBatchSizes?: number[];
  /**
   * The runtime executes one run at a time (ModelRuntime.runsInSeries): a group that could join a run in
   * flight waits for it to end rather than starting beside it. Default false.
   */
  gatherBehindRuns?: boolean;
  /** Called once, with the reason, if merging stops for good (see DynamicBatcher). */
  onMergeStopped?: (reason: string) => void;
}

/** A queued request. Also its node in the runner's queue, a doubly-linked list so removal is O(1). */
interface Pending {
  readonly inputs: TensorMap;
  readonly rows: number;
  /** undefined: all outputs. */
  readonly outputs: string[] | undefined;
  /** Requests with equal keys can be concatenated; null: this one always runs alone. */
  readonly key: string | null;
  readonly deadline: number;
  /** performance.now() at submit: queue ages are measured on the monotonic clock. */
  readonly enqueuedAt: number;
  readonly onStart: ((queueMs: number) => void) | undefined;
  readonly resolve: (r: TensorMap) => void;
  readonly reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  state: 'queued' | 'running' | 'done';
  prev: Pending | null;
  next: Pending | null;
}

// setTimeout treats longer delays as 1 ms; a deadline that far out is enforced at dispatch only.
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_RETRY_AFTER_SECONDS = 60;

function wrapRunError(e: unknown): ModelgateError {
  return isModelgateError(e) ? e : new ModelgateError('MG_ERR_INFER_RUNTIME_FAILED', undefined, undefined, { cause: e });
}

function checkCount(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * Requests per second the runner completes while busy, over the last few runs. Idle gaps are left out
 * (only the union of run intervals counts) so the figure is capacity, not the recent arrival rate: a
 * Retry-After computed from it says how long the current queue takes to clear.
 */
class ThroughputMeter {
  private readonly runs: { start: number; end: number; requests: number }[] = [];
  private next = 0;
  constructor(private readonly size = 32) {}

  record(start: number, end: number, requests: number): void {
    const r = { start, end, requests };
    if (this.runs.length < this.size) this.runs.push(r);
    else this.runs[this.next] = r;
    this.next = (this.next + 1) % this.size;
  }

  requestsPerSecond(): number | null {
    if (this.runs.length === 0) return null;
    const sorted = [...this.runs].sort((a, b) => a.start - b.start);
    let busy = 0;
    let requests = 0;
    let curStart = sorted[0]!.start;
    let curEnd = sorted[0]!.end;
    for (const r of sorted) {
      requests += r.requests;
      if (r.start > curEnd) {
        busy += curEnd - curStart;
        curStart = r.start;
        curEnd = r.end;
      } else if (r.end > curEnd) {
        curEnd = r.end;
      }
    }
    busy += curEnd - curStart;
    // sub-millisecond runs would give absurd rates; a millisecond floor only makes the estimate cautious
    return (requests * 1000) / Math.max(busy, 1);
  }
}

/** The queue, deadlines, admission, accounting and drain that both runners share. */
abstract class QueueingRunner implements InferenceRunner {
  protected readonly run: RunFunction;
  protected readonly maxQueueSize: number;
  protected readonly maxConcurrentRuns: number;
  private readonly onBatch: ((info: BatchInfo) => void) | undefined;

  protected head: Pending | null = null;
  private tail: Pending | null = null;
  private queuedRequests = 0;
  private queuedRows = 0;
  protected inFlightRuns = 0;
  private inFlightRequests = 0;
  protected draining = false;
  private drained: Promise<void> | null = null;
  private resolveDrained: (() => void) | null = null;
  private readonly meter = new ThroughputMeter();

  constructor(options: DirectRunnerOptions) {
    this.run = options.run;
    this.maxQueueSize = checkCount('maxQueueSize', options.maxQueueSize, 1);
    this.maxConcurrentRuns = checkCount('maxConcurrentRuns', options.maxConcurrentRuns ?? 1, 1);
    this.onBatch = options.onBatch;
  }

  submit(inputs: TensorMap, rows: number, options: SubmitOptions): Promise<TensorMap> {
    if (!Number.isInteger(rows) || rows < 0) return Promise.reject(new RangeError(`rows must be a non-negative integer, got ${rows}`));
    if (Number.isNaN(options.deadline)) return Promise.reject(new RangeError('deadline is NaN'));
    if (this.draining) return Promise.reject(new ModelgateError('MG_ERR_INFER_SHUTTING_DOWN'));
    const now = Date.now();
    if (options.deadline <= now) return Promise.reject(new ModelgateError('MG_ERR_INFER_DEADLINE_EXCEEDED', undefined, { phase: 'queued', waitedMs: 0 }));
    if (this.queuedRequests >= this.maxQueueSize) {
      const retryAfterSeconds = this.retryAfterSeconds();
      return Promise.reject(
        new ModelgateError(
          'MG_ERR_INFER_QUEUE_FULL',
          `The model's request queue is full (${this.queuedRequests} requests waiting). Retry after ${retryAfterSeconds} s, or scale out.`,
          { retryAfterSeconds },
        ),
      );
    }
    const outputs = options.outputs !== undefined && options.outputs.length > 0 ? options.outputs : undefined;
    return new Promise<TensorMap>((resolve, reject) => {
      const p: Pending = {
        inputs,
        rows,
        outputs,
        key: this.mergeKey(inputs, rows, outputs),
        deadline: options.deadline,
        enqueuedAt: performance.now(),
        onStart: options.onStart,
        resolve,
        reject,
        timer: undefined,
        state: 'queued',
        prev: null,
        next: null,
      };
      const wait = options.deadline - now;
      if (wait <= MAX_TIMER_MS) p.timer = setTimeout(() => this.expire(p), wait);
      const wasIdle = this.inFlightRuns === 0 && this.head === null;
      this.link(p);
      this.enqueued(wasIdle);
    });
  }

  /**
   * Stops taking requests (submit rejects with MG_ERR_INFER_SHUTTING_DOWN), runs what is queued without
   * waiting for batches to fill, and resolves once every queued and in-flight run has settled.
   */
  drain(): Promise<void> {
    if (this.drained === null) {
      this.draining = true;
      this.drained = new Promise((resolve) => {
        this.resolveDrained = resolve;
      });
      this.drainStarted();
      this.checkDrained();
    }
    return this.drained;
  }

  stats(): RunnerStats {
    return {
      queuedRequests: this.queuedRequests,
      queuedRows: this.queuedRows,
      inFlightRuns: this.inFlightRuns,
      inFlightRequests: this.inFlightRequests,
      draining: this.draining,
      merging: false,
    };
  }

  /** null when the request must run alone; DirectRunner never merges. */
  protected abstract mergeKey(inputs: TensorMap, rows: number, outputs: string[] | undefined): string | null;
  /** A request joined the queue; `wasIdle`: nothing was queued or running before it. */
  protected abstract enqueued(wasIdle: boolean): void;
  protected abstract drainStarted(): void;
  /**
   * Runs the members and settles each of them. Calls `release` once the run is over and before answering
   * its last requests: a caller that submits again as soon as it is answered must find the slot free, or
   * it would not count as arriving at an idle runner.
   */
  protected abstract process(members: Pending[], release: () => void): Promise<void>;
  /** A run slot came free. */
  protected abstract slotFreed(): void;

  /** Starts one run of `members`, which must be queued, in queue order. */
  protected dispatch(members: Pending[]): void {
    const now = performance.now();
    let rows = 0;
    for (const m of members) {
      this.unlink(m);
      m.state = 'running';
      rows += m.rows;
      if (m.onStart) {
        try {
          m.onStart(now - m.enqueuedAt);
        } catch {
          // tracing and metrics callbacks must not take serving down with them
        }
      }
    }
    this.inFlightRuns++;
    this.inFlightRequests += members.length;
    if (this.onBatch) {
      try {
        this.onBatch({ size: rows, requests: members.length, queueMs: now - members[0]!.enqueuedAt });
      } catch {
        // a metrics callback must not take serving down with it
      }
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlightRuns--;
      this.inFlightRequests -= members.length;
      this.meter.record(now, performance.now(), members.length);
    };
    void this.process(members, release)
      .catch((e: unknown) => {
        release();
        for (const m of members) this.fail(m, wrapRunError(e));
      })
      .finally(() => {
        release();
        this.slotFreed();
        this.checkDrained();
      });
  }

  /** Runs one request by itself; `release` (when given) is called before it is answered. False when the run failed. */
  protected async runAlone(m: Pending, release?: () => void): Promise<boolean> {
    let result: TensorMap;
    try {
      result = await this.run(m.inputs, m.outputs);
    } catch (e) {
      release?.();
      this.fail(m, wrapRunError(e));
      return false;
    }
    release?.();
    this.succeed(m, result);
    return true;
  }

  /** Drops a request whose deadline has passed: from the queue, or, if running, by answering now. */
  protected expire(p: Pending): void {
    if (p.state === 'done') return;
    const phase = p.state;
    if (phase === 'queued') this.unlink(p);
    this.fail(p, new ModelgateError('MG_ERR_INFER_DEADLINE_EXCEEDED', undefined, { phase, waitedMs: Math.round(performance.now() - p.enqueuedAt) }));
    if (phase === 'queued') this.checkDrained();
  }

  protected succeed(p: Pending, result: TensorMap): void {
    if (p.state === 'done') return;
    this.settle(p);
    p.resolve(result);
  }

  protected fail(p: Pending, e: unknown): void {
    if (p.state === 'done') return;
    this.settle(p);
    p.reject(e);
  }

  private settle(p: Pending): void {
    p.state = 'done';
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
  }

  private retryAfterSeconds(): number {
    const rate = this.meter.requestsPerSecond();
    if (rate === null || rate <= 0) return 1;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(this.queuedRequests / rate)));
  }

  private checkDrained(): void {
    if (this.resolveDrained !== null && this.queuedRequests === 0 && this.inFlightRuns === 0) {
      const resolve = this.resolveDrained;
      this.resolveDrained = null;
      resolve();
    }
  }

  private link(p: Pending): void {
    p.prev = this.tail;
    if (this.tail) this.tail.next = p;
    else this.head = p;
    this.tail = p;
    this.queuedRequests++;
    this.queuedRows += p.rows;
  }

  private unlink(p: Pending): void {
    if (p.prev) p.prev.next = p.next;
    else this.head = p.next;
    if (p.next) p.next.prev = p.prev;
    else this.tail = p.prev;
    p.prev = p.next = null;
    this.queuedRequests--;
    this.queuedRows -= p.rows;
  }
}

/**
 * One request per run, in arrival order, at most maxConcurrentRuns at a time. A free slot takes a request
 * synchronously, in submit() or as the previous run settles, so with batching off nothing is added to a
 * request's latency but a timer for its deadline.
 */
export class DirectRunner extends QueueingRunner {
  constructor(options: DirectRunnerOptions) {
    super(options);
  }

  protected mergeKey(): string | null {
    return null;
  }

  protected enqueued(): void {
    this.pump();
  }

  protected drainStarted(): void {}

  protected slotFreed(): void {
    this.pump();
  }

  protected async process(members: Pending[], release: () => void): Promise<void> {
    await this.runAlone(members[0]!, release);
  }

  private pump(): void {
    const now = Date.now();
    while (this.inFlightRuns < this.maxConcurrentRuns && this.head !== null) {
      const p = this.head;
      if (p.deadline <= now) this.expire(p);
      else this.dispatch([p]);
    }
  }
}

/** Requests that can share a run: while planning, the members gathered so far. */
interface Group {
  /** null: a request that runs alone. */
  key: string | null;
  members: Pending[];
  rows: number;
  /** No further request can join: maxBatchSize reached, or the next one in line would overflow it. */
  full: boolean;
  oldest: number;
}

/**
 * Merges concurrent requests for one model version into batched runs, after Triton's dynamic batcher.
 *
 * Whenever a run slot is free (fewer than maxConcurrentRuns runs in flight) the queue is planned: requests
 * are grouped by what can be concatenated (same input names, datatypes and dimensions after the first, and
 * the same output set; absent means all outputs, which is a set of its own), taken in arrival order up to
 * maxBatchSize rows. The group holding the oldest request goes first; a group is sent
 *  - at once when it is full (maxBatchSize rows, or the next request in line would not fit);
 *  - at once, cut to that size, when its leading requests add up to a preferred batch size: the largest
 *    such size the queue can form now is taken rather than held back for a larger one that may never come;
 *  - when its oldest request has waited maxQueueDelayMs and, with gatherBehindRuns, no run of requests
 *    like its own (same merge key) is in flight: while one is, the requests that could have joined it
 *    gather for the next, which starts as that run ends. With maxQueueDelayMs 0 (the default) this is all
 *    the waiting there is: a runtime that executes runs one after another (onnxruntime-node) makes a
 *    request wait for the run ahead of it either way, and the requests that arrive meanwhile share the next
 *    run instead of queueing one run each. A runtime whose runs overlap (a js model's async predict) does
 *    not gather: its groups start as slots allow;
 *  - at once when it arrived at an idle batcher (nothing queued, nothing running), so light load never pays
 *    the delay: there is no run to wait behind and no sign that company is coming;
 *  - at once while draining.
 * Planning is deferred with setImmediate, so requests that arrive in the same turn of the event loop
 * (including callers that resubmit as soon as their previous answer resolves) land in the same batch.
 *
 * A request with more rows than maxBatchSize, or whose tensors are not well-formed for concatenation (no
 * first dimension, first dimension other than `rows`, wrong array type or length), runs alone, so it can
 * never spoil someone else's batch; the runtime reports what is wrong with it. A merged run that fails is
 * retried request by request in the same slot, so a failure reaches only the requests that fail alone (a
 * bad value in one request, say); when none of them does, merging itself is what fails, and it stops for
 * good in this batcher (onMergeStopped, stats().mergeStopped).
 *
 * Outputs are split back by each request's row count. A caller's numeric outputs are views into the
 * batch's output arrays (see splitTensor): nothing is copied, and a batch's buffers stay alive until every
 * caller has dropped its answer, which is fine for answers that are serialised and discarded. An output whose first dimension is not the batch's
 * total row count cannot be split (the model reduces over the batch, or emits a fixed-size tensor), so the
 * batch falls back to running each of its requests alone, and the output's name is remembered: groups
 * asking for it (or for all outputs) are never merged again by this batcher. The check cannot catch an
 * output whose fixed first dimension happens to equal the batch's row count; the gateway should enable
 * batching only for models whose outputs, too, have a symbolic first dimension.
 */
export class DynamicBatcher extends QueueingRunner {
  private readonly maxBatchSize: number;
  private readonly maxQueueDelayMs: number;
  /** Sizes above maxBatchSize are dropped: no batch can reach them. */
  private readonly preferred: ReadonlySet<number>;
  private readonly unsplittable = new Set<string>();
  /** Merge keys with a run in flight, and how many: a group that could join such a run waits for it to end. */
  private readonly runningKeys = new Map<string, number>();
  private readonly gatherBehindRuns: boolean;
  private readonly onMergeStopped: ((reason: string) => void) | undefined;
  /** Why merging stopped for good; null while it is on. */
  private mergeStopped: string | null = null;
  private pumpScheduled = false;
  private delayTimer: NodeJS.Timeout | undefined;
  private idleArrival = false;

  constructor(options: DynamicBatcherOptions) {
    super(options);
    this.maxBatchSize = checkCount('maxBatchSize', options.maxBatchSize, 1);
    if (!Number.isFinite(options.maxQueueDelayMs) || options.maxQueueDelayMs < 0) {
      throw new RangeError(`maxQueueDelayMs must be a finite number ≥ 0, got ${options.maxQueueDelayMs}`);
    }
    this.maxQueueDelayMs = options.maxQueueDelayMs;
    const preferred = (options.preferredBatchSizes ?? []).map((s) => checkCount('preferredBatchSizes[]', s, 1));
    this.preferred = new Set(preferred.filter((s) => s <= this.maxBatchSize));
    this.onMergeStopped = options.onMergeStopped;
    this.gatherBehindRuns = options.gatherBehindRuns ?? false;
  }

  protected mergeKey(inputs: TensorMap, rows: number, outputs: string[] | undefined): string | null {
    if (rows > this.maxBatchSize) return null;
    const names = Object.keys(inputs).sort();
    const parts: unknown[] = [outputs === undefined ? null : [...new Set(outputs)].sort()];
    for (const name of names) {
      const t: Tensor = inputs[name]!;
      if (tensorLayoutProblem(t) !== null || t.shape[0] !== rows) return null;
      parts.push(name, t.datatype, t.shape.slice(1));
    }
    // JSON keeps names containing separators from colliding
    return JSON.stringify(parts);
  }

  protected enqueued(wasIdle: boolean): void {
    if (wasIdle) this.idleArrival = true;
    // with every slot busy nothing can be sent; the next completion plans the queue
    if (this.inFlightRuns < this.maxConcurrentRuns) this.schedulePump();
  }

  protected drainStarted(): void {
    this.schedulePump();
  }

  protected slotFreed(): void {
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.delayTimer !== undefined) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    const noWait = this.idleArrival || this.draining;
    this.idleArrival = false;
    while (this.inFlightRuns < this.maxConcurrentRuns && this.head !== null) {
      const plan = this.plan(noWait);
      if (plan.batch !== undefined) {
        this.dispatch(plan.batch);
        continue;
      }
      if (plan.wakeAt !== undefined) {
        const ms = Math.max(1, Math.ceil(plan.wakeAt - performance.now()));
        this.delayTimer = setTimeout(() => {
          this.delayTimer = undefined;
          this.schedulePump();
        }, ms);
      }
      return;
    }
  }

  /** The next batch to send now, or when to look again. Drops expired requests on the way. */
  private plan(noWait: boolean): { batch?: Pending[]; wakeAt?: number } {
    const nowEpoch = Date.now();
    const groups = new Map<string, Group>();
    const order: Group[] = [];
    let first: Group | undefined;
    for (let p = this.head, next: Pending | null; p !== null; p = next) {
      next = p.next;
      if (p.deadline <= nowEpoch) {
        this.expire(p);
        continue;
      }
      let g: Group | undefined;
      if (p.key === null || this.blocked(p.outputs)) {
        g = { key: null, members: [p], rows: p.rows, full: true, oldest: p.enqueuedAt };
        order.push(g);
      } else {
        g = groups.get(p.key);
        if (g === undefined) {
          g = { key: p.key, members: [], rows: 0, full: false, oldest: p.enqueuedAt };
          groups.set(p.key, g);
          order.push(g);
        }
        if (g.full) continue;
        if (g.rows + p.rows > this.maxBatchSize) {
          g.full = true;
        } else {
          g.members.push(p);
          g.rows += p.rows;
          if (g.rows === this.maxBatchSize) g.full = true;
        }
      }
      first ??= g;
      // the oldest request's group is sent first, and once full nothing later can change it
      if (first.full) break;
    }
    let wakeAt: number | undefined;
    const now = performance.now();
    for (const g of order) {
      const cut = this.preferredCut(g.members);
      if (cut > 0) return { batch: g.members.slice(0, cut) };
      if (g.full || noWait) return { batch: g.members };
      // the end of that run plans the queue again
      if (g.key !== null && this.runningKeys.has(g.key)) continue;
      if (now - g.oldest >= this.maxQueueDelayMs) return { batch: g.members };
      const due = g.oldest + this.maxQueueDelayMs;
      if (wakeAt === undefined || due < wakeAt) wakeAt = due;
    }
    return wakeAt === undefined ? {} : { wakeAt };
  }

  /** How many leading members add up to the largest preferred size they can form; 0 when none. */
  private preferredCut(members: Pending[]): number {
    if (this.preferred.size === 0) return 0;
    let rows = 0;
    let cut = 0;
    for (let i = 0; i < members.length; i++) {
      rows += members[i]!.rows;
      if (this.preferred.has(rows)) cut = i + 1;
    }
    return cut;
  }

  private blocked(outputs: string[] | undefined): boolean {
    if (this.mergeStopped !== null) return true;
    if (this.unsplittable.size === 0) return false;
    return outputs === undefined || outputs.some((o) => this.unsplittable.has(o));
  }

  protected async process(members: Pending[], release: () => void): Promise<void> {
    const key = members[0]!.key;
    if (key === null || !this.gatherBehindRuns) return this.processGroup(members, release);
    this.runningKeys.set(key, (this.runningKeys.get(key) ?? 0) + 1);
    try {
      await this.processGroup(members, release);
    } finally {
      const n = this.runningKeys.get(key)! - 1;
      if (n === 0) this.runningKeys.delete(key);
      else this.runningKeys.set(key, n);
    }
  }

  private async processGroup(members: Pending[], release: () => void): Promise<void> {
    const head = members[0]!;
    if (members.length === 1) {
      await this.runAlone(head, release);
      return;
    }
    let result: TensorMap;
    try {
      const merged: TensorMap = {};
      for (const name of Object.keys(head.inputs)) merged[name] = concatTensors(members.map((m) => m.inputs[name]!));
      result = await this.run(merged, head.outputs);
    } catch (e) {
      // Each request is retried alone, so one request's bad values fail that request only. If every one of
      // them then succeeds, the model fails on batches it accepts by its signature (a first dimension fixed
      // inside the graph, say): merging stops for good rather than doubling the cost of every batch.
      const left = members.filter((m) => m.state === 'running');
      let failed = 0;
      for (let i = 0; i < left.length; i++) {
        if (left[i]!.state === 'running' && !(await this.runAlone(left[i]!, i === left.length - 1 ? release : undefined))) failed++;
      }
      if (failed === 0 && left.length > 1 && this.mergeStopped === null) {
        this.mergeStopped = `a run of ${members.length} merged requests failed (${e instanceof Error ? e.message : String(e)}) and each of them succeeded alone`;
        try {
          this.onMergeStopped?.(this.mergeStopped);
        } catch {
          // a logging callback must not take serving down with it
        }
      }
      return;
    }
    const rows = members.map((m) => m.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    const bad = Object.keys(result).filter((name) => {
      const t = result[name]!;
      return tensorLayoutProblem(t) !== null || t.shape[0] !== total;
    });
    if (bad.length > 0) {
      for (const name of bad) this.unsplittable.add(name);
      // one at a time: the slot this batch holds is all the concurrency it was granted
      const left = members.filter((m) => m.state === 'running');
      for (let i = 0; i < left.length; i++) {
        if (left[i]!.state === 'running') await this.runAlone(left[i]!, i === left.length - 1 ? release : undefined);
      }
      return;
    }
    const answers: TensorMap[] = members.map(() => ({}));
    for (const name of Object.keys(result)) {
      const pieces = splitTensor(result[name]!, rows);
      for (let i = 0; i < members.length; i++) answers[i]![name] = pieces[i]!;
    }
    release();
    for (let i = 0; i < members.length; i++) this.succeed(members[i]!, answers[i]!);
  }

  /**
   * Plus whether batching is still on: it goes off per output once one cannot be split, and altogether
   * (`mergeStopped` says why) once merged runs fail where their requests alone do not.
   */
  override stats(): RunnerStats & { unsplittableOutputs: string[]; mergeStopped: string | null } {
    return { ...super.stats(), merging: this.mergeStopped === null, unsplittableOutputs: [...this.unsplittable], mergeStopped: this.mergeStopped };
  }
}
