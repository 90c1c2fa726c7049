// Error-budget arithmetic over bucketed good/total counts: the SLI and budget over the SLO window, burn
// rates over any window, and which multiwindow burn-rate alerts fire. Pure: the caller supplies `now`.
import { roundRatio, type AlertRow, type SloSpec } from './slo-spec.js';

/** Counts of one fixed-width time bucket that starts at `start` (epoch ms). */
export interface Bucket {
  start: number;
  good: number;
  total: number;
}

export interface WindowCounts {
  good: number;
  total: number;
  bad: number;
}

export interface BudgetStatus extends WindowCounts {
  windowMs: number;
  /** good / total over the window; null when there was no traffic. */
  sli: number | null;
  /** 1 − objective: the share of events allowed to be bad. */
  errorBudget: number;
  /** Fraction of the window's budget spent: (bad / total) / errorBudget. Above 1 when overspent; 0 without traffic. */
  consumed: number;
  /** 1 − consumed; negative when overspent. */
  remaining: number;
}

/**
 * Sums the buckets that start in [now − windowMs, now). With `now` on a bucket boundary this is exactly the
 * last windowMs / width buckets; a bucket still filling (start ≤ now < start + width) is included, one
 * that starts at or after `now` is not.
 */
export function countWindow(buckets: readonly Bucket[], windowMs: number, now: number): WindowCounts {
  const from = now - windowMs;
  let good = 0;
  let total = 0;
  for (const b of buckets) {
    if (b.start >= from && b.start < now) {
      good += b.good;
      total += b.total;
    }
  }
  return { good, total, bad: Math.max(0, total - good) };
}

/** (bad / total over the window) / (1 − objective); 0 when the window had no traffic. */
export function burnRate(buckets: readonly Bucket[], windowMs: number, now: number, objective: number): number {
  const c = countWindow(buckets, windowMs, now);
  return c.total > 0 ? c.bad / c.total / roundRatio(1 - objective) : 0;
}

/** The SLI and error budget over the SLO window. */
export function budgetStatus(buckets: readonly Bucket[], objective: number, windowMs: number, now: number): BudgetStatus {
  const c = countWindow(buckets, windowMs, now);
  const errorBudget = roundRatio(1 - objective);
  const consumed = c.total > 0 ? c.bad / c.total / errorBudget : 0;
  return { ...c, windowMs, sli: c.total > 0 ? c.good / c.total : null, errorBudget, consumed, remaining: 1 - consumed };
}

export interface FiringAlert {
  severity: 'page' | 'ticket';
  row: AlertRow;
  longBurnRate: number;
  shortBurnRate: number;
}

export interface AlertEvaluation {
  budget: BudgetStatus;
  /** Rows whose long and short windows both burn faster than the row's factor, pages first. */
  firing: FiringAlert[];
  /** True when less than alerting.budgetLowTicket of the budget is left (a ticket). */
  budgetLow: boolean;
}

/** Which alerts of an SLO fire at `now`. A row fires only when both of its windows burn strictly faster than its factor. */
export function evaluateAlerts(spec: Pick<SloSpec, 'objective' | 'windowMs' | 'alerting'>, buckets: readonly Bucket[], now: number): AlertEvaluation {
  const firing: FiringAlert[] = [];
  for (const severity of ['page', 'ticket'] as const) {
    for (const row of spec.alerting[severity]) {
      const longBurnRate = burnRate(buckets, row.longMs, now, spec.objective);
      const shortBurnRate = burnRate(buckets, row.shortMs, now, spec.objective);
      if (exceeds(longBurnRate, row.burnRate) && exceeds(shortBurnRate, row.burnRate)) firing.push({ severity, row, longBurnRate, shortBurnRate });
    }
  }
  const budget = budgetStatus(buckets, spec.objective, spec.windowMs, now);
  return { budget, firing, budgetLow: budget.total > 0 && budget.remaining < spec.alerting.budgetLowTicket };
}

// "At the factor" must not fire even when 1 − objective is not exact in binary (0.0144 / (1 − 0.999) is
// 14.399999999999984), so the comparison forgives a relative 1e-9.
function exceeds(rate: number, factor: number): boolean {
  return rate > factor * (1 + 1e-9);
}
