// Prometheus metrics for the serving gateway.
//
// The per-request metrics (requests, request/compute/queue durations, batch size) do not go through
// prom-client's Counter/Histogram: a prom-client child still validates its labels, allocates a
// label/value pair and builds a hash string on every observe(), which measured about 2 µs for one
// request's counter + three histograms (bench-metrics.ts; this path measures ~30-60 ns). Here each (model, version) owns plain typed arrays that the
// hot path bumps directly, and small collector objects hand their contents to the prom-client
// Registry at scrape time through the same `get()` shape prom-client's own metrics return. Everything
// that is not per request (model loads, queue depth, build info, process metrics) uses prom-client as is.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';
import { packagePath } from '../paths.js';
import { readFileSync } from 'node:fs';

/** Whole-request, compute and queue durations: 100 µs (a cached tiny model) to 10 s (a stuck queue). */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);
/** Rows per runtime call; powers of two because batchers size batches that way. */
export const BATCH_BUCKETS: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128, 256]);
/** Model load (fetch, verify, create session, warm up): tens of milliseconds to two minutes. */
export const LOAD_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
]);

/** The version label when none was resolved (e.g. a 404 for an unknown version). */
export const NO_VERSION = 'none';
/** The model and version labels of requests past the `maxSeries` cap. */
export const OVERFLOW_LABEL = '__other__';

// Status codes the gateway and Fastify actually produce get their own label value; anything else folds
// into its class so a misbehaving handler or a client-supplied code cannot add series without bound.
const KNOWN_STATUSES = [
  200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 413, 414, 415, 422, 429, 431,
  499, 500, 501, 502, 503, 504, 507,
] as const;
const STATUS_LABELS: readonly string[] = [
  ...KNOWN_STATUSES.map(String),
  '1xx',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
  'unknown',
];
const UNKNOWN_STATUS_SLOT = STATUS_LABELS.length - 1;
// Indexed by status code, so the hot path needs no branch per code and no string.
const STATUS_SLOT = (() => {
  const slots = new Uint8Array(600).fill(UNKNOWN_STATUS_SLOT);
  for (let code = 100; code < 600; code++) slots[code] = KNOWN_STATUSES.length + Math.floor(code / 100) - 1;
  KNOWN_STATUSES.forEach((code, i) => (slots[code] = i));
  return slots;
})();

function statusSlot(status: number): number {
  return status >= 0 && status < 600 ? STATUS_SLOT[status | 0]! : UNKNOWN_STATUS_SLOT;
}

/** The `status` label value a status code is recorded under: itself if known, else its class ("4xx"), else "unknown". */
export function normaliseStatus(status: number): string {
  return STATUS_LABELS[statusSlot(status)]!;
}

/** A resolved model version as the registry gives it (number or string); nullish or empty means none. */
export type VersionLabel = string | number | null | undefined;

function versionLabel(version: VersionLabel): string {
  if (typeof version === 'string') return version === '' ? NO_VERSION : version;
  // Only reached on a miss of SeriesTable's last-hit check; small integers come from V8's number-string cache.
  if (typeof version === 'number') return String(version);
  return NO_VERSION;
}

// NaN or Infinity would poison a histogram's _sum for the rest of the process; negative values are caller bugs.
function usable(value: number): boolean {
  return value >= 0 && value < Infinity;
}

class Cells {
  /** counts[i] = observations in (bounds[i-1], bounds[i]]; the last cell is (last bound, +Inf). */
  readonly counts: Float64Array;
  sum = 0;

  constructor(private readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }
}

const DURATION_BOUNDS = Float64Array.from(DURATION_BUCKETS);
const BATCH_BOUNDS = Float64Array.from(BATCH_BUCKETS);

/** Pre-bound recorder for one model version: what the serving layer should keep on its loaded-model object. */
export interface ModelRecorder {
  readonly model: string;
  readonly version: string;
  /** One finished request: its HTTP status code and wall time in seconds. */
  request(status: number, seconds: number): void;
  /** Time spent inside the runtime's infer call, in seconds. */
  compute(seconds: number): void;
  /** Time a request waited before the runtime picked it up, in seconds. */
  queue(seconds: number): void;
  /** Rows in one runtime call. */
  batch(rows: number): void;
}

class Series implements ModelRecorder {
  readonly statusCounts = new Float64Array(STATUS_LABELS.length);
  readonly requestCells = new Cells(DURATION_BOUNDS);
  readonly computeCells = new Cells(DURATION_BOUNDS);
  readonly queueCells = new Cells(DURATION_BOUNDS);
  readonly batchCells = new Cells(BATCH_BOUNDS);

  constructor(
    readonly model: string,
    readonly version: string,
  ) {}

  request(status: number, seconds: number): void {
    this.statusCounts[statusSlot(status)]! += 1;
    if (usable(seconds)) this.requestCells.observe(seconds);
  }

  compute(seconds: number): void {
    if (usable(seconds)) this.computeCells.observe(seconds);
  }

  queue(seconds: number): void {
    if (usable(seconds)) this.queueCells.observe(seconds);
  }

  batch(rows: number): void {
    if (usable(rows)) this.batchCells.observe(rows);
  }
}

class SeriesTable {
  private readonly byModel = new Map<string, Map<string, Series>>();
  private count = 0;
  private overflow: Series | undefined;
  // The gateway records request, compute and queue for the same model back to back, so one remembered
  // hit skips both map lookups most of the time.
  private lastModel = '';
  private lastVersion: VersionLabel = undefined;
  private lastSeries: Series | undefined;

  constructor(private readonly maxSeries: number) {}

  get(model: string, version: VersionLabel): Series {
    if (model === this.lastModel && version === this.lastVersion && this.lastSeries !== undefined) {
      return this.lastSeries;
    }
    const label = versionLabel(version);
    let series = this.byModel.get(model)?.get(label);
    if (series === undefined) series = this.create(model, label);
    this.lastModel = model;
    this.lastVersion = version;
    this.lastSeries = series;
    return series;
  }

  private create(model: string, version: string): Series {
    if (this.count >= this.maxSeries) {
      this.overflow ??= new Series(OVERFLOW_LABEL, OVERFLOW_LABEL);
      return this.overflow;
    }
    let byVersion = this.byModel.get(model);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.byModel.set(model, byVersion);
    }
    const series = new Series(model, version);
    byVersion.set(version, series);
    this.count++;
    return series;
  }

  *all(): Generator<Series> {
    for (const byVersion of this.byModel.values()) yield* byVersion.values();
    if (this.overflow !== undefined) yield this.overflow;
  }
}

// The value shape prom-client's Registry formats (what its own metrics' get() returns).
interface ExportValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

abstract class TableCollector {
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly table: SeriesTable,
  ) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportValue[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }

  protected abstract values(): ExportValue[];
  abstract reset(): void;
}

class RequestCounterCollector extends TableCollector {
  readonly type = 'counter';

  protected values(): ExportValue[] {
    const out: ExportValue[] = [];
    for (const s of this.table.all()) {
      const counts = s.statusCounts;
      for (let i = 0; i < counts.length; i++) {
        const value = counts[i]!;
        // Counters never go down, so zero means this status never happened for this model: no series.
        if (value > 0) out.push({ value, labels: { model: s.model, version: s.version, status: STATUS_LABELS[i]! } });
      }
    }
    return out;
  }

  reset(): void {
    for (const s of this.table.all()) s.statusCounts.fill(0);
  }
}

class HistogramCollector extends TableCollector {
  readonly type = 'histogram';
  private readonly le: string[];

  constructor(
    name: string,
    help: string,
    table: SeriesTable,
    private readonly pick: (s: Series) => Cells,
    bounds: readonly number[],
  ) {
    super(name, help, table);
    this.le = [...bounds.map(String), '+Inf'];
  }

  protected values(): ExportValue[] {
    const out: ExportValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.table.all()) {
      const cells = this.pick(s);
      // A model that has only ever served 404s has an empty compute histogram; leave it out rather than
      // publish a zero series for every model that was ever looked up.
      if (!cells.counts.some((c) => c > 0)) continue;
      let cumulative = 0;
      for (let i = 0; i < this.le.length; i++) {
        cumulative += cells.counts[i]!;
        out.push({ metricName: bucket, value: cumulative, labels: { model: s.model, version: s.version, le: this.le[i]! } });
      }
      const labels = { model: s.model, version: s.version };
      out.push({ metricName: `${this.name}_sum`, value: cells.sum, labels });
      out.push({ metricName: `${this.name}_count`, value: cumulative, labels });
    }
    return out;
  }

  reset(): void {
    for (const s of this.table.all()) this.pick(s).reset();
  }
}

/** What the serving layer reports of one loaded model version at scrape time. */
export interface VersionSample {
  model: string;
  version: VersionLabel;
  /** Requests waiting for this model version right now. */
  depth: number;
  /** Whether its requests are merged into shared runs (batching on and not stopped); absent: not reported. */
  merging?: boolean;
}

export interface MetricsOptions {
  /** Prepended to every metric name, process metrics included. Default 'modelgate_'. */
  prefix?: string;
  /** Register prom-client's process and Node.js runtime metrics. Default true. */
  collectProcessMetrics?: boolean;
  /** The running Modelgate version, for `build_info{version}`. Default: the version in modelgate's package.json. */
  version?: string;
  /**
   * Most (model, version) pairs the per-request metrics keep apart; later pairs are recorded under
   * model="__other__", version="__other__". Default 256.
   */
  maxSeries?: number;
}

export interface GatewayMetrics {
  /** The registry every metric here is registered in (never prom-client's global one). */
  readonly registry: Registry;
  /** Content-Type for the `/metrics` response. */
  readonly contentType: string;
  recordRequest(model: string, version: VersionLabel, status: number, seconds: number): void;
  recordCompute(model: string, version: VersionLabel, seconds: number): void;
  recordQueue(model: string, version: VersionLabel, seconds: number): void;
  recordBatch(model: string, version: VersionLabel, rows: number): void;
  /** The same recorders with the label lookup done once: keep the result with the loaded model. */
  forModel(model: string, version: VersionLabel): ModelRecorder;
  modelLoaded(model: string, version: VersionLabel, backend: string, seconds: number): void;
  modelUnloaded(model: string, version: VersionLabel, backend: string): void;
  modelLoadFailed(model: string, version: VersionLabel): void;
  /** Read at every scrape to fill `queue_depth` and `batching_merging`; null stops reporting them. */
  setVersionSource(source: (() => Iterable<VersionSample>) | null): void;
  metricsText(): Promise<string>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// prom-client's default metrics include three gauges whose names end in `_total`, which promtool
// rejects ("non-counter metrics should not have "_total" suffix"). Each is only the sum of the
// per-type gauge registered next to it (nodejs_active_handles{type} and so on), so nothing is lost:
// `sum without (type) (…_nodejs_active_handles)` gives the same number.
const NON_COUNTER_TOTALS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const prefix = options.prefix ?? 'modelgate_';
  if (prefix !== '' && !METRIC_NAME.test(prefix)) throw new TypeError(`invalid metric name prefix: ${JSON.stringify(prefix)}`);
  const maxSeries = options.maxSeries ?? 256;
  if (!Number.isInteger(maxSeries) || maxSeries < 1) throw new TypeError(`maxSeries must be a positive integer, got ${maxSeries}`);

  const registry = new Registry();
  const registers = [registry];
  const table = new SeriesTable(maxSeries);

  const collectors: TableCollector[] = [
    new RequestCounterCollector(
      `${prefix}inference_requests_total`,
      'Inference requests answered, by model, resolved version ("none" if it never resolved) and HTTP status code (uncommon codes fold into 1xx..5xx).',
      table,
    ),
    new HistogramCollector(
      `${prefix}inference_request_duration_seconds`,
      'Wall time of whole inference requests in seconds, from the request arriving to the response being handed to the socket: parse, validate, queue, compute and serialise.',
      table,
      (s) => s.requestCells,
      DURATION_BUCKETS,
    ),
    new HistogramCollector(
      `${prefix}inference_compute_duration_seconds`,
      'Seconds spent inside the model runtime per run (onnxruntime session or worker), excluding queueing and (de)serialisation.',
      table,
      (s) => s.computeCells,
      DURATION_BUCKETS,
    ),
    new HistogramCollector(
      `${prefix}inference_queue_duration_seconds`,
      'Seconds a request waited for its model to become free before its run started.',
      table,
      (s) => s.queueCells,
      DURATION_BUCKETS,
    ),
    new HistogramCollector(
      `${prefix}batch_size`,
      'Rows (batch dimension) per runtime run.',
      table,
      (s) => s.batchCells,
      BATCH_BUCKETS,
    ),
  ];
  // prom-client's Registry formats any object with name/help/type and get(); its TypeScript type only
  // lists its own metric classes, hence the cast.
  for (const c of collectors) registry.registerMetric(c as unknown as Metric);

  let versionSource: (() => Iterable<VersionSample>) | null = null;
  /** A gauge per (model, version) read from the serving layer at every scrape; `value` undefined leaves a version out. */
  const versionGauge = (name: string, help: string, value: (s: VersionSample) => number | undefined) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      labelNames: ['model', 'version'] as const,
      registers,
      collect() {
        this.reset();
        if (versionSource === null) return;
        try {
          for (const s of versionSource()) {
            const v = value(s);
            if (v !== undefined) this.set({ model: s.model, version: versionLabel(s.version) }, v);
          }
        } catch {
          // A failing source must not take every other metric down with it: the scrape goes on without these.
          this.reset();
        }
      },
    });
  versionGauge('queue_depth', 'Requests waiting for a model version right now, read from the serving layer at scrape time.', (s) => (usable(s.depth) ? s.depth : undefined));
  versionGauge(
    'batching_merging',
    'Whether a model version merges concurrent requests into shared runs right now: 1, or 0 when batching is off for it or stopped because merged runs failed where single requests succeeded (the log says why).',
    (s) => (s.merging === undefined ? undefined : s.merging ? 1 : 0),
  );

  const loadDuration = new Histogram({
    name: `${prefix}model_load_duration_seconds`,
    help: 'Seconds to load a model version into a runtime: read and verify the artifact, create the session, warm up.',
    labelNames: ['model', 'version', 'backend'] as const,
    buckets: [...LOAD_BUCKETS],
    registers,
  });
  const loaded = new Gauge({
    name: `${prefix}model_loaded`,
    help: '1 while a model version is loaded in this process and serving; the series disappears when it is unloaded.',
    labelNames: ['model', 'version', 'backend'] as const,
    registers,
  });
  const loadFailures = new Counter({
    name: `${prefix}model_load_failures_total`,
    help: 'Attempts to load a model version that failed (bad artifact, runtime error, warm-up failure).',
    labelNames: ['model', 'version'] as const,
    registers,
  });
  new Gauge({
    name: `${prefix}build_info`,
    help: 'Always 1; the version label carries the running Modelgate version.',
    labelNames: ['version'] as const,
    registers,
  }).set({ version: options.version ?? packageVersion() }, 1);

  if (options.collectProcessMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix });
    for (const name of NON_COUNTER_TOTALS) registry.removeSingleMetric(prefix + name);
  }

  return {
    registry,
    contentType: registry.contentType,
    recordRequest(model, version, status, seconds) {
      table.get(model, version).request(status, seconds);
    },
    recordCompute(model, version, seconds) {
      table.get(model, version).compute(seconds);
    },
    recordQueue(model, version, seconds) {
      table.get(model, version).queue(seconds);
    },
    recordBatch(model, version, rows) {
      table.get(model, version).batch(rows);
    },
    forModel(model, version) {
      return table.get(model, version);
    },
    modelLoaded(model, version, backend, seconds) {
      const labels = { model, version: versionLabel(version), backend };
      if (usable(seconds)) loadDuration.observe(labels, seconds);
      loaded.set(labels, 1);
    },
    modelUnloaded(model, version, backend) {
      loaded.remove({ model, version: versionLabel(version), backend });
    },
    modelLoadFailed(model, version) {
      loadFailures.inc({ model, version: versionLabel(version) });
    },
    setVersionSource(source) {
      versionSource = source;
    },
    metricsText() {
      return registry.metrics();
    },
  };
}
