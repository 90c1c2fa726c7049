// npm run demo:monitoring [-- --json] [-- --quick] [-- --keep]
//
// Replays a real time split of the Seattle weather data (examples/weather-data.ts) through a gateway with
// monitoring on: every day is one V1 request to the `weather` deployment (v1, trained on 2012-2013), and each
// day's outcome (did it rain the next day?) is posted as feedback only after the next day's prediction, dated
// when it became known; one outcome in ten never arrives. After each phase the live drift and labelled quality
// of that phase's window are read back and printed beside what the raw rows say: the standardized mean shift
// and the exact two-sample KS verdict (the `drift compare` engine) of every feature, so a reader can check that
// the live verdicts, computed from mergeable sketches, flag the features that really moved.
//
// --json prints the summary only; --quick sends every third day of the control phase (for the test); --keep
// leaves the server running on its temporary home, with the commands to inspect it, until Ctrl-C.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadExamples, TRAIN_YEARS, V1_FEATURES, type Example } from '../../examples/weather-data.js';
import { printTable } from '../../src/cli/output.js';
import { loadConfig } from '../../src/config/index.js';
import { adminKeyFile, createKey } from '../../src/governance/keys.js';
import type { LiveDrift } from '../../src/monitoring/live-drift.js';
import type { QualityReport } from '../../src/monitoring/labelled-quality.js';
import type { ClassificationMetrics } from '../../src/monitoring/quality/labelled-metrics.js';
import { driftReport, type DriftReport } from '../../src/monitoring/drift/report.js';
import { populationStd } from '../../src/monitoring/drift/statistics.js';
import { packagePath } from '../../src/paths.js';
import { mulberry32 } from '../../src/random.js';
import { startServer, type RunningServer } from '../../src/server.js';

type Feature = (typeof V1_FEATURES)[number];

/** The accuracy weather v1's card reports on the held-out years 2014-2015 (examples/weather/v1/card.yaml). */
export const CARD_ACCURACY = 0.6968;
/** Share of outcomes that never reach the gateway (a missed report), drawn with a fixed seed. */
const LABEL_LOSS = 0.1;
/** Days predicted before the label job runs; a day's label always waits for the next day's prediction. */
const LABEL_BATCH_DAYS = 7;
const CONCURRENCY = 4;
const DRIFT_MIN_ROWS = 50;

interface PhasePlan {
  name: string;
  from: string;
  to: string;
  why: string;
  /** In --quick, send every n-th day. */
  quickEvery: number;
}

/**
 * Why three phases and not two: every 12-month span after 2013 is already warmer than 2012-2013 (see the
 * report), so no held-out year is "a season like the reference". The control replays the reference years
 * themselves, to show what no drift looks like on the live path; 2014 is the honest "next year".
 */
export const PHASES: readonly PhasePlan[] = [
  { name: 'control: 2012-2013 replayed', from: '2012-01-01', to: '2013-12-31', why: 'the reference years themselves (in-sample): what "no drift" looks like on the live path', quickEvery: 3 },
  { name: '2014: the next year', from: '2014-01-01', to: '2014-12-31', why: 'the first held-out year, all seasons, in date order', quickEvery: 1 },
  { name: 'summer 2015', from: '2015-06-01', to: '2015-08-31', why: 'a later season: hot and dry next to a full-year reference', quickEvery: 1 },
];

export interface FeatureFacts {
  /** (phase mean − reference mean) / reference standard deviation, from the raw rows sent. */
  mean_shift: number;
  /** Phase standard deviation / reference standard deviation. */
  sd_ratio: number;
  reference_mean: number;
  phase_mean: number;
  /** The exact KS test on the raw rows (what `modelgate drift compare` would say). */
  offline: { test: string; statistic: number; p_value: number | null; drifted: boolean };
  /** What the gateway's live drift said for the phase's window. */
  live: { test: string; statistic: number; p_value: number | null; drifted: boolean } | null;
  /** Share of the window's values outside the reference range (with the default 10% tolerance). */
  out_of_range_rate: number | null;
}

export interface PhaseSummary {
  name: string;
  why: string;
  period: { from: string; to: string };
  /** Requests answered (one day each). */
  rows: number;
  /** Rows the live drift report saw in the phase's window. */
  live_rows: number;
  window: { from: string; to: string };
  drifted: string[];
  drift_share: number | null;
  dataset_drift: boolean | null;
  offline_dataset_drift: boolean;
  mean_shift: Record<string, number>;
  features: Record<string, FeatureFacts>;
  labels_sent: number;
  /** Labels posted before their prediction record was written (they joined when read). */
  labels_pending_when_sent: number;
  labelled: number;
  accuracy: number | null;
  /** Accuracy from the responses and labels this script kept itself, to check the server's join. */
  accuracy_from_responses: number | null;
  recall: number | null;
  rain_rate: number;
  predicted_rain_rate: number | null;
  /** Accuracy of always predicting the phase's more common outcome. */
  majority_baseline: number;
  concept_degraded: boolean | null;
  concept_checks: { metric: string; reference: number; current: number | null; degraded: boolean }[];
  label_drift: boolean | null;
  prediction_drift: boolean | null;
}

export interface DemoSummary {
  model: string;
  reference: { period: string; rows: number };
  card_accuracy: number;
  quick: boolean;
  phases: PhaseSummary[];
  /** Every 12-month span of the held-out years, judged on the raw rows against the reference: is any like it? */
  held_out_years: { spans: number; dataset_drift: number; temp_max_shift: { min: number; max: number } };
  /** With --keep: where the server and its data are. */
  kept?: { home: string; url: string; admin_key_file: string | null; close: () => Promise<void> };
}

export interface DemoOptions {
  quick?: boolean;
  keep?: boolean;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const column = (rows: readonly Example[], f: Feature) => Float64Array.from(rows.map((r) => r[f]));

/** The day after `date` (YYYY-MM-DD), when that day's "rain tomorrow" became known. */
function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Waits for the next whole second: profiles are kept per 1 s bucket, so phase windows share none. */
async function toNextSecond(): Promise<number> {
  const at = Math.ceil((Date.now() + 1) / 1000) * 1000;
  await sleep(at - Date.now());
  return at;
}

/** Per-feature facts from the raw rows: mean shift, spread and the exact KS verdict against the reference rows. */
export function rawShift(reference: readonly Example[], phase: readonly Example[]): { report: DriftReport; facts: Record<Feature, Omit<FeatureFacts, 'live' | 'out_of_range_rate'>> } {
  const report = driftReport(
    V1_FEATURES.map((f) => ({ name: f, numbers: column(reference, f) })),
    V1_FEATURES.map((f) => ({ name: f, numbers: column(phase, f) })),
  );
  const facts = {} as Record<Feature, Omit<FeatureFacts, 'live' | 'out_of_range_rate'>>;
  for (const f of V1_FEATURES) {
    const ref = column(reference, f);
    const cur = column(phase, f);
    const refMean = mean([...ref]);
    const curMean = mean([...cur]);
    const refSd = populationStd(ref);
    const d = report.features.find((x) => x.name === f)!;
    facts[f] = {
      mean_shift: (curMean - refMean) / refSd,
      sd_ratio: populationStd(cur) / refSd,
      reference_mean: refMean,
      phase_mean: curMean,
      offline: { test: d.test, statistic: d.statistic, p_value: d.p_value ?? null, drifted: d.drifted },
    };
  }
  return { report, facts };
}

/** The 12-month spans starting on the 1st of each month from 2014-01 to 2015-01, each against the reference. */
export function heldOutYears(examples: readonly Example[], reference: readonly Example[]): DemoSummary['held_out_years'] {
  let drifted = 0;
  const shifts: number[] = [];
  const starts = Array.from({ length: 13 }, (_, i) => `${2014 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`);
  for (const from of starts) {
    const to = `${Number(from.slice(0, 4)) + 1}${from.slice(4)}`;
    const span = examples.filter((e) => e.date >= from && e.date < to);
    const { report, facts } = rawShift(reference, span);
    if (report.dataset_drift) drifted++;
    shifts.push(facts.temp_max.mean_shift);
  }
  return { spans: starts.length, dataset_drift: drifted, temp_max_shift: { min: Math.min(...shifts), max: Math.max(...shifts) } };
}

async function call(url: string, method: string, key: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The example deployment file, with monitoring switched on for the demo. */
function deploymentYaml(): string {
  const doc = parseYaml(readFileSync(packagePath('examples', 'weather', 'deployment.yaml'), 'utf8')) as { spec: Record<string, unknown> };
  doc.spec.monitoring = {
    sample: 0.05,
    // Long enough for any phase; the demo asks for each phase's own window explicitly.
    drift: { window: '1h', bucket: '1s', minRows: DRIFT_MIN_ROWS },
    concept: { window: '1h' },
  };
  return stringifyYaml(doc);
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const quick = options.quick ?? false;
  const say = options.progress ?? (() => {});
  const examples = loadExamples();
  const reference = examples.filter((e) => (TRAIN_YEARS as readonly number[]).includes(e.year));
  const home = mkdtempSync(join(tmpdir(), 'mg-monitoring-demo-'));
  let server: RunningServer | undefined;
  let kept = false;
  try {
    const config = loadConfig({
      env: {},
      cwd: home,
      flags: { home, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, monitoring: { flushMs: 200 } },
    });
    server = await startServer(config, { examples: true });
    const adminKey = server.adminKey!;
    const s = server;
    const invoker = (await createKey(s.ctx.store.db, { name: 'weather-app', role: 'invoker' }, 'demo:monitoring')).key;
    await call(`${s.url}/api/v1/apply`, 'POST', adminKey, { text: deploymentYaml() });
    // The model is also named weather and answers before the router has read the deployment: wait for the route.
    await s.gateway.router.refresh();
    for (let i = 0; !s.gateway.router.get('weather')?.monitoring.enabled || (await fetch(`${s.url}/v2/models/weather/ready`)).status !== 200; i++) {
      if (i > 600) throw new Error('the weather deployment did not become ready within 30 s');
      await sleep(50);
      if (i % 10 === 9) await s.gateway.router.refresh();
    }
    say(`server ${s.url}, home ${home}; deployment weather (v1) applied with monitoring on`);

    const rand = mulberry32(20151);
    const phases: PhaseSummary[] = [];
    for (const plan of PHASES) {
      const all = examples.filter((e) => e.date >= plan.from && e.date <= plan.to);
      const rows = quick ? all.filter((_, i) => i % plan.quickEvery === 0) : all;
      const start = await toNextSecond();
      const sent: { day: Example; requestId: string; predicted: number }[] = [];
      const labels: { requestId: string; label: number; at: string }[] = [];
      let labelsSent = 0;
      let pendingWhenSent = 0;
      const postLabels = async (items: typeof labels) => {
        if (items.length === 0) return;
        const r = await call(`${s.url}/api/v1/feedback`, 'POST', invoker, { items });
        labelsSent += r.body.accepted as number;
        pendingWhenSent += r.body.pending as number;
      };
      let waiting: (typeof sent)[number] | undefined;
      for (let i = 0; i < rows.length; i += LABEL_BATCH_DAYS) {
        const week = rows.slice(i, i + LABEL_BATCH_DAYS);
        const answers = new Array<(typeof sent)[number]>(week.length);
        for (let j = 0; j < week.length; j += CONCURRENCY) {
          await Promise.all(week.slice(j, j + CONCURRENCY).map(async (day, k) => {
            const instance = Object.fromEntries(V1_FEATURES.map((f) => [f, day[f]]));
            const res = await fetch(`${s.url}/v1/models/weather:predict`, {
              method: 'POST',
              headers: { authorization: `Bearer ${invoker}`, 'content-type': 'application/json', 'x-user-id': 'seattle' },
              body: JSON.stringify({ instances: [instance] }),
            });
            const body = (await res.json()) as { predictions?: { label: number }[] };
            const requestId = res.headers.get('x-request-id');
            if (res.status !== 200 || !requestId || !body.predictions) throw new Error(`predict ${day.date}: ${res.status} ${JSON.stringify(body)}`);
            answers[j + k] = { day, requestId, predicted: Number(body.predictions[0]!.label) };
          }));
        }
        sent.push(...answers);
        // The label job: every day whose next day has now been predicted has a known outcome.
        const known = [...(waiting ? [waiting] : []), ...answers.slice(0, -1)];
        waiting = answers.at(-1);
        const batch = known.filter(() => rand() >= LABEL_LOSS).map((a) => ({ requestId: a.requestId, label: a.day.rain_tomorrow, at: `${nextDay(a.day.date)}T23:59:59Z` }));
        labels.push(...batch);
        await postLabels(batch);
      }
      if (waiting && rand() >= LABEL_LOSS) {
        const last = { requestId: waiting.requestId, label: waiting.day.rain_tomorrow, at: `${nextDay(waiting.day.date)}T23:59:59Z` };
        labels.push(last);
        await postLabels([last]);
      }
      // onResponse runs after the client has its answer: write what is queued until every answer is stored.
      for (let i = 0; ; i++) {
        await sleep(30);
        await s.gateway.monitor.flush();
        const stored = await s.ctx.store.db.selectFrom('prediction_records').select((eb) => eb.fn.countAll<number | string>().as('n')).where('deployment', '=', 'weather').where('at', '>=', new Date(start).toISOString()).executeTakeFirstOrThrow();
        if (Number(stored.n) >= sent.length) break;
        if (i > 100) throw new Error(`${plan.name}: ${stored.n} of ${sent.length} prediction records written after 3 s`);
      }
      const end = await toNextSecond();
      const windowQuery = `window=${end - start}ms&to=${encodeURIComponent(new Date(end).toISOString())}`;
      const drift = (await call(`${s.url}/api/v1/deployments/weather/drift?${windowQuery}`, 'GET', adminKey)).body as LiveDrift;
      const quality = (await call(`${s.url}/api/v1/deployments/weather/quality?${windowQuery}`, 'GET', adminKey)).body as QualityReport;
      phases.push(summarise(plan, rows, reference, sent, labels, labelsSent, pendingWhenSent, drift, quality));
      say(`${plan.name}: ${rows.length} predictions, ${labelsSent} labels (${pendingWhenSent} before their record was written)`);
    }

    const summary: DemoSummary = {
      model: 'weather@1',
      reference: { period: `${TRAIN_YEARS[0]}-${TRAIN_YEARS[1]}`, rows: reference.length },
      card_accuracy: CARD_ACCURACY,
      quick,
      phases,
      held_out_years: heldOutYears(examples, reference),
    };
    if (options.keep) {
      kept = true;
      summary.kept = { home, url: s.url, admin_key_file: adminKeyFile(home), close: () => s.close() };
    }
    return summary;
  } finally {
    if (!kept) {
      await server?.close();
      rmSync(home, { recursive: true, force: true });
    }
  }
}

function summarise(
  plan: PhasePlan,
  rows: Example[],
  reference: Example[],
  sent: { day: Example; requestId: string; predicted: number }[],
  labels: { requestId: string; label: number }[],
  labelsSent: number,
  pendingWhenSent: number,
  drift: LiveDrift,
  quality: QualityReport,
): PhaseSummary {
  const raw = rawShift(reference, rows);
  const v = drift.versions.find((x) => x.version === 1);
  const q = quality.versions.find((x) => x.version === 1);
  const features: Record<string, FeatureFacts> = {};
  for (const f of V1_FEATURES) {
    const live = v?.drift?.features.find((x) => x.name === f);
    const dq = v?.data_quality.find((x) => x.name === f);
    features[f] = {
      ...raw.facts[f],
      live: live ? { test: live.test, statistic: live.statistic, p_value: live.p_value ?? null, drifted: live.drifted } : null,
      out_of_range_rate: dq?.out_of_range_rate ?? null,
    };
  }
  const byId = new Map(sent.map((x) => [x.requestId, x]));
  const hits = labels.filter((l) => byId.get(l.requestId)!.predicted === l.label).length;
  const m = q?.metrics as ClassificationMetrics | undefined;
  return {
    name: plan.name,
    why: plan.why,
    period: { from: rows[0]!.date, to: rows.at(-1)!.date },
    rows: sent.length,
    live_rows: v?.rows ?? 0,
    window: drift.window,
    drifted: v?.drift?.features.filter((x) => x.drifted).map((x) => x.name) ?? [],
    drift_share: v?.drift?.drift_share ?? null,
    dataset_drift: v?.drift?.dataset_drift ?? null,
    offline_dataset_drift: raw.report.dataset_drift,
    mean_shift: Object.fromEntries(V1_FEATURES.map((f) => [f, raw.facts[f].mean_shift])),
    features,
    labels_sent: labelsSent,
    labels_pending_when_sent: pendingWhenSent,
    labelled: q?.labelled ?? 0,
    accuracy: m?.accuracy ?? null,
    accuracy_from_responses: labels.length === 0 ? null : hits / labels.length,
    recall: m?.recall ?? null,
    rain_rate: mean(rows.map((r) => r.rain_tomorrow)),
    majority_baseline: Math.max(mean(rows.map((r) => r.rain_tomorrow)), 1 - mean(rows.map((r) => r.rain_tomorrow))),
    predicted_rain_rate: mean(sent.map((x) => x.predicted)),
    concept_degraded: q?.concept?.degraded ?? null,
    concept_checks: (q?.concept?.checks ?? []).map((c) => ({ metric: c.metric, reference: c.reference, current: c.current, degraded: c.degraded })),
    label_drift: q?.label_drift?.drifted ?? null,
    prediction_drift: v?.prediction_drift?.dataset_drift ?? null,
  };
}

const f2 = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
const p = (x: number | null) => (x === null ? '-' : x < 0.001 ? x.toExponential(1) : x.toFixed(3));

export function printReport(s: DemoSummary): void {
  const out = (line = '') => process.stdout.write(line + '\n');
  out(`Monitoring demo: ${s.model} (trained on Seattle ${s.reference.period}, ${s.reference.rows} reference days), one V1 request per day,`);
  out(`each day's label ("rain tomorrow?") posted after the next day's prediction; ${LABEL_LOSS * 100}% of labels never arrive.${s.quick ? ' --quick: control thinned to every 3rd day.' : ''}`);
  for (const [i, ph] of s.phases.entries()) {
    out();
    out(`Phase ${i + 1}: ${ph.name}  (${ph.period.from} .. ${ph.period.to}, ${ph.rows} days)`);
    out(`  ${ph.why}`);
    out(`  live window ${ph.window.from} -> ${ph.window.to}: ${ph.live_rows} rows profiled`);
    printTable(
      ['  FEATURE', 'REF MEAN', 'PHASE MEAN', 'SHIFT (SD)', 'SD RATIO', 'RAW KS p', 'RAW', 'LIVE KS p', 'LIVE', 'OUT OF RANGE'],
      Object.entries(ph.features).map(([name, f]) => [
        `  ${name}`,
        f2(f.reference_mean),
        f2(f.phase_mean),
        signed(f.mean_shift),
        f2(f.sd_ratio),
        p(f.offline.p_value),
        f.offline.drifted ? 'DRIFT' : 'ok',
        p(f.live?.p_value ?? null),
        f.live ? (f.live.drifted ? 'DRIFT' : 'ok') : '-',
        f2(f.out_of_range_rate, 3),
      ]),
    );
    const disagree = Object.entries(ph.features).filter(([, f]) => f.live && f.live.drifted !== f.offline.drifted).map(([n]) => n);
    out(`  live verdict: ${ph.dataset_drift === null ? 'not judged' : ph.dataset_drift ? 'DATASET DRIFT' : 'no dataset drift'} (${ph.drifted.length} of ${Object.keys(ph.features).length} features: ${ph.drifted.join(', ') || 'none'}; share ${f2(ph.drift_share)})` +
      `; raw rows: ${ph.offline_dataset_drift ? 'dataset drift' : 'no dataset drift'}${disagree.length > 0 ? `; live and raw disagree on ${disagree.join(', ')}` : '; live agrees with raw on every feature'}`);
    const moved = Object.entries(ph.features).filter(([, f]) => Math.abs(f.mean_shift) >= 0.25).map(([n]) => n);
    const spreadOnly = Object.entries(ph.features).filter(([, f]) => f.live?.drifted && Math.abs(f.mean_shift) < 0.1).map(([n]) => n);
    const undetected = moved.filter((n) => !ph.features[n]!.live?.drifted);
    if (moved.length > 0) out(`  features whose mean moved by a quarter of a reference sd or more: ${moved.join(', ')}${undetected.length > 0 ? `; NOT flagged live: ${undetected.join(', ')}` : ', all flagged'}`);
    const small = Object.entries(ph.features).filter(([, f]) => f.live?.drifted && Math.abs(f.mean_shift) >= 0.1 && Math.abs(f.mean_shift) < 0.25);
    if (small.length > 0) out(`  flagged on small shifts (${small.map(([n, f]) => `${n} ${signed(f.mean_shift)} sd`).join(', ')}): ${ph.rows} days against ${s.reference.rows} are enough for KS to resolve them`);
    if (spreadOnly.length > 0) out(`  flagged although the mean barely moved (|shift| < 0.1 sd): ${spreadOnly.join(', ')} — the shape of the distribution changed (see SD RATIO), KS looks at all of it`);
    out(`  labels: ${ph.labels_sent} sent (${ph.labels_pending_when_sent} before their prediction record was written), ${ph.labelled} joined`);
    out(`  accuracy ${f2(ph.accuracy, 4)} (from the responses: ${f2(ph.accuracy_from_responses, 4)}), card ${s.card_accuracy} -> ${ph.accuracy === null ? '-' : signed(ph.accuracy - s.card_accuracy)}` +
      `${i > 0 && ph.accuracy !== null && s.phases[0]!.accuracy !== null ? `; vs phase 1 (in-sample) ${signed(ph.accuracy - s.phases[0]!.accuracy)}` : ''}${i > 1 && ph.accuracy !== null && s.phases[1]!.accuracy !== null ? `, vs phase 2 ${signed(ph.accuracy - s.phases[1]!.accuracy)}` : ''}`);
    out(`  rain next day on ${f2(ph.rain_rate, 3)} of days, predicted on ${f2(ph.predicted_rain_rate, 3)}; always saying "${ph.rain_rate >= 0.5 ? 'rain' : 'no rain'}" would score ${f2(ph.majority_baseline, 4)}; label drift ${ph.label_drift === null ? '-' : ph.label_drift ? 'yes' : 'no'}`);
    out(`  concept drift vs the card: ${ph.concept_degraded === null ? '-' : ph.concept_degraded ? 'DEGRADED' : 'within tolerance'}  ` +
      ph.concept_checks.map((c) => `${c.metric} ${f2(c.current, 3)} vs ${c.reference}${c.degraded ? ' (worse)' : ''}`).join(', '));
  }
  const h = s.held_out_years;
  out();
  out(`Held-out years: ${h.dataset_drift} of ${h.spans} twelve-month spans (starting on the 1st of each month, 2014-01 .. 2015-01) show dataset drift on the raw rows;`);
  out(`temp_max is ${signed(h.temp_max_shift.min)} to ${signed(h.temp_max_shift.max)} reference sd warmer in them. ${h.dataset_drift === h.spans ? 'No held-out year is like 2012-2013, hence the in-sample control.' : ''}`.trimEnd());
}

function parseArgs(argv: string[]): { json: boolean; quick: boolean; keep: boolean } {
  const known = new Set(['--json', '--quick', '--keep']);
  for (const a of argv) if (!known.has(a)) throw new Error(`unknown option ${a}; use --json, --quick, --keep`);
  return { json: argv.includes('--json'), quick: argv.includes('--quick'), keep: argv.includes('--keep') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const summary = await runDemo({ quick: args.quick, keep: args.keep, progress: args.json ? () => {} : (l) => process.stderr.write(`${l}\n`) });
  if (args.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else printReport(summary);
  process.stderr.write(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  const k = summary.kept;
  if (k) {
    const w = summary.phases.map((ph, i) => `  phase ${i + 1}: node bin/modelgate.js --url ${k.url} --home ${k.home} drift weather --window ${Date.parse(ph.window.to) - Date.parse(ph.window.from)}ms --to ${ph.window.to}`);
    process.stderr.write(
      `\nkept: home ${k.home}\n      server ${k.url} (admin key in ${k.admin_key_file ?? '-'})\n` +
        `try, while it runs:\n${w.join('\n')}\n  node bin/modelgate.js --url ${k.url} --home ${k.home} quality weather --window 1h\n` +
        `after Ctrl-C the store is still there: drop --url to read it directly (--home ${k.home}); rm -r it when done.\n`,
    );
    const stop = () => void k.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`monitoring demo failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
