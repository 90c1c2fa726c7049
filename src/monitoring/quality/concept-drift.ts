// Concept drift as it shows in labelled quality: a metric now against its reference value (the version's
// validation figures, or the same metric over a reference window), flagged when it worsened by more than a
// threshold. Pure; the caller chooses the metrics and supplies both sides.

/** Metrics where a rise is the bad direction, unless opts.lowerIsBetter says otherwise. */
export const DEFAULT_LOWER_IS_BETTER: readonly string[] = Object.freeze(['mae', 'rmse', 'ece', 'log_loss']);

/** Absolute worsening allowed by default, in the metric's own units. */
export const DEFAULT_MAX_DROP = 0.05;

export interface ConceptDriftOptions {
  /** Absolute worsening allowed for every metric without its own threshold; default 0.05. */
  maxDrop?: number;
  /** Thresholds per metric name, e.g. { mae: 2.5 }; regression errors are in the target's units, so set them. */
  perMetric?: Record<string, number>;
  /** Metrics where lower is better; replaces DEFAULT_LOWER_IS_BETTER (spread it to extend the list). */
  lowerIsBetter?: readonly string[];
}

export interface ConceptDriftCheck {
  metric: string;
  direction: 'higher-is-better' | 'lower-is-better';
  reference: number;
  /** null when the current side has no value (no labels yet, one class only): then the check is not degraded. */
  current: number | null;
  /** current − reference (signed, whatever the direction); null with current. */
  delta: number | null;
  /** Worsened by more than threshold; a worsening of exactly the threshold is within it. */
  degraded: boolean;
  threshold: number;
}

export interface ConceptDriftResult {
  degraded: boolean;
  checks: ConceptDriftCheck[];
}

function checkThreshold(value: number, label: string): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new Error(`${label} must be a finite number >= 0, got ${String(value)}`);
  return value;
}

/**
 * One check per metric of `reference`, in its key order; metrics only in `current` are ignored, since the
 * reference says what is compared. A metric worsened when it fell (higher is better) or rose (lower is better)
 * by more than its threshold; the comparison allows 1e-12 relative to the values, so that a drop of exactly
 * the threshold, 0.90 → 0.85 against 0.05, stays within it whatever the rounding.
 * Metrics without a good direction (mean_error, counts, positive_rate) should not be passed: the check would
 * read them as higher-is-better. Pass |mean_error| under a lower-is-better name to watch the bias.
 */
export function conceptDrift(
  current: Readonly<Record<string, number | null | undefined>>,
  reference: Readonly<Record<string, number>>,
  opts: ConceptDriftOptions = {},
): ConceptDriftResult {
  const maxDrop = checkThreshold(opts.maxDrop ?? DEFAULT_MAX_DROP, 'maxDrop');
  const perMetric = opts.perMetric ?? {};
  for (const [metric, t] of Object.entries(perMetric)) checkThreshold(t, `perMetric.${metric}`);
  const lower = new Set(opts.lowerIsBetter ?? DEFAULT_LOWER_IS_BETTER);
  const checks: ConceptDriftCheck[] = [];
  for (const [metric, ref] of Object.entries(reference)) {
    if (!Number.isFinite(ref)) throw new Error(`reference ${metric} must be a finite number, got ${String(ref)}`);
    const cur = Object.hasOwn(current, metric) ? current[metric] : undefined;
    if (cur != null && !Number.isFinite(cur)) throw new Error(`current ${metric} must be a finite number or null, got ${String(cur)}`);
    const threshold = Object.hasOwn(perMetric, metric) ? (perMetric[metric] as number) : maxDrop;
    const direction = lower.has(metric) ? 'lower-is-better' : 'higher-is-better';
    if (cur == null) {
      checks.push({ metric, direction, reference: ref, current: null, delta: null, degraded: false, threshold });
      continue;
    }
    const delta = cur - ref;
    const worsening = direction === 'lower-is-better' ? delta : -delta;
    const slack = 1e-12 * Math.max(1, Math.abs(ref), Math.abs(cur));
    checks.push({ metric, direction, reference: ref, current: cur, delta, degraded: worsening > threshold + slack, threshold });
  }
  return { degraded: checks.some((c) => c.degraded), checks };
}
