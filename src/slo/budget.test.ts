import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { budgetStatus, burnRate, countWindow, evaluateAlerts, type Bucket } from './budget.js';
import { validateSloDocument } from './slo-spec.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2025, 0, 29);

/** One-minute buckets ending at NOW; `bad(minutesAgo)` gives the bad count of the bucket that many minutes back (1 = the last). */
function minutes(count: number, perMinute: number, bad: (minutesAgo: number) => number): Bucket[] {
  return Array.from({ length: count }, (_, i) => {
    const ago = count - i;
    return { start: NOW - ago * MIN, good: perMinute - bad(ago), total: perMinute };
  });
}

const slo = validateSloDocument({ apiVersion: 'modelgate/v1', kind: 'SLO', metadata: { name: 'weather-availability' }, spec: { deployment: 'weather', sli: { type: 'availability' }, objective: 0.999 } });

describe('error budget', () => {
  test('a window counts the buckets starting in [now - window, now)', () => {
    const b = minutes(10, 100, (ago) => (ago <= 2 ? 10 : 0));
    assert.deepEqual(countWindow(b, 2 * MIN, NOW), { good: 180, total: 200, bad: 20 });
    assert.deepEqual(countWindow(b, 10 * MIN, NOW), { good: 980, total: 1000, bad: 20 });
    assert.deepEqual(countWindow(b, 5 * MIN, NOW - 5 * MIN), { good: 500, total: 500, bad: 0 });
  });

  test('SLI, budget consumed and remaining, going negative when overspent', () => {
    // 10000 requests, 5 bad: SLI 0.9995, half of a 0.1% budget spent.
    const half = budgetStatus(minutes(100, 100, (ago) => (ago === 1 ? 5 : 0)), 0.999, 28 * 24 * HOUR, NOW);
    assert.equal(half.sli, 0.9995);
    assert.equal(half.errorBudget, 0.001);
    assert.ok(Math.abs(half.consumed - 0.5) < 1e-12);
    assert.ok(Math.abs(half.remaining - 0.5) < 1e-12);
    // 30 bad of 10000: three budgets' worth spent, remaining -2.
    const over = budgetStatus(minutes(100, 100, (ago) => (ago <= 3 ? 10 : 0)), 0.999, 28 * 24 * HOUR, NOW);
    assert.ok(Math.abs(over.remaining - -2) < 1e-12);
  });

  test('no traffic: SLI unknown, nothing consumed, burn rate 0', () => {
    const s = budgetStatus([], 0.999, HOUR, NOW);
    assert.equal(s.sli, null);
    assert.equal(s.consumed, 0);
    assert.equal(s.remaining, 1);
    assert.equal(burnRate([], HOUR, NOW, 0.999), 0);
    assert.equal(burnRate(minutes(60, 0, () => 0), HOUR, NOW, 0.999), 0);
  });

  test('burn rate is the bad share over the window divided by the error budget', () => {
    // 1% bad against a 0.1% budget: burning 10x.
    assert.ok(Math.abs(burnRate(minutes(60, 100, (ago) => (ago <= 6 ? 10 : 0)), HOUR, NOW, 0.999) - 10) < 1e-9);
    // The last 5 minutes alone: 10% bad, 100x.
    assert.ok(Math.abs(burnRate(minutes(60, 100, (ago) => (ago <= 5 ? 10 : 0)), 5 * MIN, NOW, 0.999) - 100) < 1e-9);
  });
});

describe('burn-rate alerts', () => {
  // 1000 requests a minute over seven hours, so every default window but 1d and 3d is full.
  const history = (bad: (minutesAgo: number) => number) => minutes(7 * 60, 1000, bad);

  test('only the long window high: no page (the burn is over)', () => {
    // 30% errors from 60 to 30 minutes ago: 1h burns 150x, the last 5m nothing.
    const r = evaluateAlerts(slo, history((ago) => (ago > 30 && ago <= 60 ? 300 : 0)), NOW);
    assert.ok(r.firing.every((f) => f.severity !== 'page' || f.row.long !== '1h'));
    assert.equal(r.firing.filter((f) => f.severity === 'page').length, 0);
  });

  test('only the short window high: no page (a blip)', () => {
    // 10% errors in the last 5 minutes only: 5m burns 100x, 1h 8.3x (< 14.4), 6h and 30m below their 6.
    const r = evaluateAlerts(slo, history((ago) => (ago <= 5 ? 100 : 0)), NOW);
    assert.equal(r.firing.filter((f) => f.severity === 'page').length, 0);
  });

  test('both windows high: the 1h/5m row pages, with both burn rates reported', () => {
    // 2% errors for the last hour: 20x over 1h and 5m; 6h sees 20/6 = 3.3x (< 6), so only the first row.
    const r = evaluateAlerts(slo, history((ago) => (ago <= 60 ? 20 : 0)), NOW);
    const pages = r.firing.filter((f) => f.severity === 'page');
    assert.equal(pages.length, 1);
    assert.equal(pages[0]!.row.long, '1h');
    assert.ok(Math.abs(pages[0]!.longBurnRate - 20) < 1e-9);
    assert.ok(Math.abs(pages[0]!.shortBurnRate - 20) < 1e-9);
  });

  test('exactly at the factor: not firing', () => {
    // 14.4 bad per 1000 everywhere: exactly 14.4x over 1h and 5m.
    const at = evaluateAlerts(slo, history(() => 14.4), NOW);
    assert.equal(at.firing.some((f) => f.row.burnRate === 14.4), false);
    const above = evaluateAlerts(slo, history(() => 14.5), NOW);
    assert.equal(above.firing.some((f) => f.row.burnRate === 14.4), true);
  });

  test('a steady 0.5% error rate opens tickets and a budget-low ticket but never pages', () => {
    const r = evaluateAlerts(slo, history(() => 5), NOW);
    assert.deepEqual(r.firing.map((f) => `${f.severity} ${f.row.long}/${f.row.short}`), ['ticket 1d/2h', 'ticket 3d/6h']);
    assert.equal(r.budgetLow, true);
    assert.ok(Math.abs(r.budget.remaining - -4) < 1e-9);
  });

  test('no traffic: no alert and no budget-low ticket', () => {
    const r = evaluateAlerts(slo, [], NOW);
    assert.deepEqual(r.firing, []);
    assert.equal(r.budgetLow, false);
    assert.equal(evaluateAlerts(slo, minutes(7 * 60, 0, () => 0), NOW).firing.length, 0);
  });

  test('budget low fires below budgetLowTicket only', () => {
    // 0.7 budgets spent over the window (remaining 0.3 > 0.25): no ticket; 0.8 spent (0.2 left): ticket.
    const spend = (share: number) => minutes(1000, 1000, (ago) => (ago === 500 ? share * 1000 : 0));
    assert.equal(evaluateAlerts(slo, spend(0.7), NOW).budgetLow, false);
    assert.equal(evaluateAlerts(slo, spend(0.8), NOW).budgetLow, true);
  });
});
