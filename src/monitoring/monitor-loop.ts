// The monitoring loop in the server: every monitoring.evaluateMs, each deployment's live drift and labelled
// quality are computed from the store, stored (one row per deployment, version and slot, whichever replica
// gets there first) and exported as gauges; every monitoring.purgeMs, retention is enforced. It also answers
// the rollout judge's model metrics (drift, data quality, labelled quality, outcomes) for a window.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry as PromRegistry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { DeploymentRouter } from '../rollout/deployment-router.js';
import type { Store } from '../store/database.js';
import type { MonitoringService } from './monitoring-service.js';
import type { LiveDrift } from './live-drift.js';
import type { QualityReport } from './labelled-quality.js';
import type { MonitorRecorder } from './recorder.js';
import { QUALITY_METRICS } from './reference-metrics.js';

export interface ModelMetricValue {
  stable: number | null;
  canary: number;
  samples: number;
}

/** What the loop last saw per deployment: the gauges' source. */
interface Seen {
  drift: LiveDrift | null;
  quality: QualityReport | null;
}

export class MonitorLoop {
  private timer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly deps: { config: Readonly<Config>; store: Store; service: MonitoringService; router: DeploymentRouter; recorder: MonitorRecorder; logger: Logger }) {}

  start(): void {
    const m = this.deps.config.monitoring;
    this.timer = setInterval(() => void this.evaluate(), m.evaluateMs);
    this.timer.unref();
    this.purgeTimer = setInterval(() => void this.purge(), m.purgeMs);
    this.purgeTimer.unref();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    return this.running ?? Promise.resolve();
  }

  async purge(): Promise<void> {
    try {
      const n = await this.deps.service.purge();
      if (n.records + n.payloads + n.feedback + n.profiles + n.drift > 0) this.deps.logger.info({ purged: n }, 'monitoring retention: purged old records');
    } catch (err) {
      this.deps.logger.warn({ err: { message: (err as Error).message } }, 'monitoring retention purge failed; retrying at the next interval');
    }
  }

  /** One pass over every monitored deployment. */
  evaluate(now = new Date()): Promise<void> {
    this.running ??= this.doEvaluate(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doEvaluate(now: Date): Promise<void> {
    await this.deps.recorder.flush();
    const slotMs = this.deps.config.monitoring.evaluateMs;
    const slot = new Date(Math.floor(now.getTime() / slotMs) * slotMs);
    const live = new Set<string>();
    for (const route of this.deps.router.list()) {
      if (!route.monitoring.enabled) continue;
      live.add(route.name);
      try {
        const drift = await this.deps.service.drift(SYSTEM_PRINCIPAL, route.name, {});
        const quality = await this.deps.service.quality(SYSTEM_PRINCIPAL, route.name, {});
        this.seen.set(route.name, { drift, quality });
        const rows = drift.versions.filter((v) => v.drift !== null).map((v) => ({
          deployment: route.name,
          version: v.version,
          at: slot.toISOString(),
          window_from: drift.window.from,
          window_to: drift.window.to,
          rows: v.rows,
          dataset_drift: v.drift!.dataset_drift ? 1 : 0,
          drift_share: v.drift!.drift_share,
          report: JSON.stringify({ drift: v.drift, prediction_drift: v.prediction_drift, data_quality: v.data_quality }),
        }));
        if (rows.length > 0) await this.deps.store.db.insertInto('drift_results').values(rows).onConflict((oc) => oc.columns(['deployment', 'version', 'at']).doNothing()).execute();
        const qualityRows = quality.versions.filter((v) => v.labelled > 0).map((v) => ({ deployment: route.name, version: v.version, at: slot.toISOString(), labelled: v.labelled, accuracy: 'accuracy' in v.metrics ? v.metrics.accuracy : null, metrics: JSON.stringify(v.metrics) }));
        if (qualityRows.length > 0) await this.deps.store.db.insertInto('quality_results').values(qualityRows).onConflict((oc) => oc.columns(['deployment', 'version', 'at']).doNothing()).execute();
        for (const v of drift.versions) {
          if (v.drift?.dataset_drift) this.deps.logger.warn({ alert: 'monitoring.drift', deployment: route.name, version: v.version, drift_share: v.drift.drift_share, drifted: v.drift.features.filter((f) => f.drifted).map((f) => f.name) }, 'monitoring: dataset drift detected');
        }
        for (const v of quality.versions) {
          if (v.concept?.degraded) this.deps.logger.warn({ alert: 'monitoring.concept_drift', deployment: route.name, version: v.version, checks: v.concept.checks.filter((c) => c.degraded) }, 'monitoring: labelled quality degraded beyond its threshold');
        }
      } catch (err) {
        this.deps.logger.warn({ err: { message: (err as Error).message }, deployment: route.name }, 'monitoring evaluation failed for a deployment');
      }
    }
    for (const name of this.seen.keys()) if (!live.has(name)) this.seen.delete(name);
  }

  /** The last evaluation of a deployment, for the gauges. */
  last(): ReadonlyMap<string, Seen> {
    return this.seen;
  }

  /**
   * A model metric for the rollout judge over a window, for the candidate and (where it has one) stable:
   * drift_share, drift_score:<feature>, data_quality_rate, a labelled metric (accuracy, f1, roc_auc, mae, …),
   * <metric>_delta (candidate − stable), or outcome:<name> (events per prediction).
   */
  async modelMetric(deployment: string, version: number, name: string, window: { from: Date; to: Date }, stableVersion?: number): Promise<ModelMetricValue | null> {
    const span = window.to.getTime() - window.from.getTime();
    const w = { window: `${Math.max(1000, span)}ms`, to: window.to.toISOString() };
    if (name === 'drift_share' || name.startsWith('drift_score:') || name === 'data_quality_rate') {
      await this.deps.recorder.flush();
      const d = await this.deps.service.drift(SYSTEM_PRINCIPAL, deployment, w);
      const of = (v: number | undefined) => (v === undefined ? undefined : d.versions.find((x) => x.version === v));
      const pick = (v: ReturnType<typeof of>): number | null => {
        if (!v) return null;
        if (name === 'data_quality_rate') return v.data_quality.reduce((m, f) => Math.max(m, f.missing_rate, f.out_of_range_rate ?? 0, f.unseen_category_rate ?? 0), 0);
        if (!v.drift) return null;
        if (name === 'drift_share') return v.drift.drift_share;
        const f = v.drift.features.find((x) => x.name === name.slice('drift_score:'.length));
        return f ? f.statistic : null;
      };
      const cand = of(version);
      const value = pick(cand);
      if (value === null || !cand) return null;
      return { canary: value, stable: pick(of(stableVersion)), samples: cand.rows };
    }
    await this.deps.recorder.flush();
    const q = await this.deps.service.quality(SYSTEM_PRINCIPAL, deployment, w);
    if (name.startsWith('outcome:')) {
      const outcome = name.slice('outcome:'.length);
      const rate = (v: number | undefined) => {
        const rows = q.outcomes.filter((o) => o.version === v && o.name === outcome);
        const events = rows.reduce((s, o) => s + o.count, 0);
        const preds = rows.reduce((s, o) => s + (o.predictions ?? 0), 0);
        return preds > 0 ? { rate: events / preds, preds } : null;
      };
      const c = rate(version);
      if (!c) return null;
      return { canary: c.rate, stable: stableVersion !== undefined ? (rate(stableVersion)?.rate ?? null) : null, samples: c.preds };
    }
    const delta = name.endsWith('_delta');
    const metric = delta ? name.slice(0, -'_delta'.length) : name;
    const value = (v: number | undefined) => {
      const vq = q.versions.find((x) => x.version === v);
      const m = vq ? (vq.metrics as unknown as Record<string, number | null>)[metric] : undefined;
      return vq && typeof m === 'number' ? { m, n: vq.labelled } : null;
    };
    const c = value(version);
    if (!c) return null;
    const s = stableVersion !== undefined ? value(stableVersion) : null;
    if (delta) return s ? { canary: c.m - s.m, stable: 0, samples: Math.min(c.n, s.n) } : null;
    return { canary: c.m, stable: s?.m ?? null, samples: c.n };
  }
}

const SYSTEM_PRINCIPAL = { actor: 'system:monitoring', keyId: null, role: 'admin' as const, modelPatterns: [] };

/** Prometheus series for monitoring, read from the loop's last evaluation and the recorder's counters at scrape time. */
export function registerMonitoringMetrics(registry: PromRegistry, loop: MonitorLoop, recorder: MonitorRecorder, prefix = 'modelgate_'): void {
  const registers = [registry];
  new Gauge({
    name: `${prefix}drift_statistic`,
    help: 'Live drift statistic of a feature (window vs the version\'s reference profile): KS D, chi-square, z, normalised Wasserstein, Jensen-Shannon distance or PSI, by the test named.',
    labelNames: ['deployment', 'version', 'feature', 'test'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.drift?.versions ?? []) for (const f of v.drift?.features ?? []) if (Number.isFinite(f.statistic)) this.set({ deployment, version: String(v.version), feature: f.name, test: f.test }, f.statistic);
    },
  });
  new Gauge({
    name: `${prefix}drift_detected`,
    help: '1 when the feature drifted in the last evaluated window, else 0.',
    labelNames: ['deployment', 'version', 'feature'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.drift?.versions ?? []) for (const f of v.drift?.features ?? []) this.set({ deployment, version: String(v.version), feature: f.name }, f.drifted ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}drift_share`,
    help: 'Share of a version\'s features that drifted in the last evaluated window.',
    labelNames: ['deployment', 'version'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.drift?.versions ?? []) if (v.drift) this.set({ deployment, version: String(v.version) }, v.drift.drift_share);
    },
  });
  new Gauge({
    name: `${prefix}dataset_drift`,
    help: '1 when at least the configured share of a version\'s features drifted (dataset drift), else 0.',
    labelNames: ['deployment', 'version'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.drift?.versions ?? []) if (v.drift) this.set({ deployment, version: String(v.version) }, v.drift.dataset_drift ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}data_quality_rate`,
    help: 'Share of a feature\'s values in the window that were missing, outside the reference range (with tolerance) or unseen categories.',
    labelNames: ['deployment', 'version', 'feature', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) {
        for (const v of s.drift?.versions ?? []) {
          for (const f of v.data_quality) {
            const l = { deployment, version: String(v.version), feature: f.name };
            this.set({ ...l, kind: 'missing' }, f.missing_rate);
            if (f.out_of_range_rate !== null) this.set({ ...l, kind: 'out_of_range' }, f.out_of_range_rate);
            if (f.unseen_category_rate !== null) this.set({ ...l, kind: 'unseen_category' }, f.unseen_category_rate);
          }
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}model_quality`,
    help: 'Labelled quality of a version over the concept window (accuracy, precision, recall, f1, roc_auc, ece; mae, rmse for regression).',
    labelNames: ['deployment', 'version', 'metric'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) {
        for (const v of s.quality?.versions ?? []) {
          const m = v.metrics as unknown as Record<string, unknown>;
          for (const k of QUALITY_METRICS) if (typeof m[k] === 'number') this.set({ deployment, version: String(v.version), metric: k }, m[k]);
        }
      }
    },
  });
  new Gauge({
    name: `${prefix}model_labelled_predictions`,
    help: 'Predictions of a version in the concept window that have a label.',
    labelNames: ['deployment', 'version'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.quality?.versions ?? []) this.set({ deployment, version: String(v.version) }, v.labelled);
    },
  });
  new Gauge({
    name: `${prefix}concept_drift`,
    help: '1 when a version\'s labelled quality fell below its released metrics by more than the threshold (with enough labels), else 0.',
    labelNames: ['deployment', 'version'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) for (const v of s.quality?.versions ?? []) if (v.concept) this.set({ deployment, version: String(v.version) }, v.concept.degraded ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}fairness_gap`,
    help: 'Fairness over a sensitive attribute (Fairlearn definitions): demographic parity difference and ratio, equalized odds difference.',
    labelNames: ['deployment', 'version', 'attribute', 'metric'] as const,
    registers,
    collect() {
      this.reset();
      for (const [deployment, s] of loop.last()) {
        for (const v of s.quality?.versions ?? []) {
          for (const f of v.fairness) {
            const l = { deployment, version: String(v.version), attribute: f.attribute };
            if (typeof f.demographic_parity_difference === 'number') this.set({ ...l, metric: 'demographic_parity_difference' }, f.demographic_parity_difference);
            if (typeof f.demographic_parity_ratio === 'number') this.set({ ...l, metric: 'demographic_parity_ratio' }, f.demographic_parity_ratio);
            if (typeof f.equalized_odds_difference === 'number') this.set({ ...l, metric: 'equalized_odds_difference' }, f.equalized_odds_difference);
          }
        }
      }
    },
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('prediction_records_written_total', 'Prediction join records written to the store by this replica.', () => recorder.status().writtenRecords);
  counter('prediction_records_lost_total', 'Prediction join records this replica gave up (queue full or repeated write failures): labels for them cannot be joined. Alert on any increase.', () => recorder.status().lostRecords);
  counter('prediction_payloads_written_total', 'Sampled, redacted prediction payloads written by this replica.', () => recorder.status().writtenPayloads);
  counter('prediction_payloads_shed_total', 'Sampled payloads dropped because the store fell behind (shed before join records).', () => recorder.status().shedPayloads);
  counter('data_quality_flagged_total', 'Requests answered with a data-quality flag (action allow).', () => recorder.status().qualityFlagged);
  counter('data_quality_rejected_total', 'Requests rejected on data quality (action reject).', () => recorder.status().qualityRejected);
  counter('data_quality_fallback_total', 'Requests sent to the fallback chain on data quality (action fallback).', () => recorder.status().qualityFallback);
  new Counter({
    name: `${prefix}pii_redactions_total`,
    help: 'Personal data found and replaced in prediction payloads before storage, by detector.',
    labelNames: ['detector'] as const,
    registers,
    collect() {
      this.reset();
      for (const [k, n] of Object.entries(recorder.status().redactions)) if (n > 0) this.inc({ detector: k }, n);
    },
  });
  new Gauge({
    name: `${prefix}prediction_records_queued`,
    help: 'Join records waiting to be written.',
    registers,
    collect() {
      this.set(recorder.status().queuedRecords);
    },
  });
}
