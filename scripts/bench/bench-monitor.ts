// npm run bench:monitor [-- --rows 1000000 --columns 20 --rounds 3]
//
// drift compare, end to end: two generated CSV files (20 numerical columns × 1M rows each; 5 columns of the
// current file shifted by half a standard deviation, one rescaled), compared by the real CLI in a child
// process. Prints the median wall time, the child's peak RSS (VmHWM, polled) and the verdicts, beside the
// Evidently 0.4 figures the monitoring issue quotes for the same shape of data (Evidently is on PyPI, which
// this machine cannot reach, so those are quoted, not measured here).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { packagePath } from '../../src/paths.js';
import { mulberry32 } from '../../src/random.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const rows = Number(args.get('rows') ?? 1_000_000);
const columns = Number(args.get('columns') ?? 20);
const rounds = Number(args.get('rounds') ?? 3);
const EVIDENTLY = { seconds: 34, note: 'about 30 s for drift plus 4 s to read the CSVs, 1.2 GiB peak' };

/** Box–Muller normals from the project's seeded generator, so every run compares the same files. */
function normals(seed: number): () => number {
  const rand = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

async function writeCsv(path: string, seed: number, shifted: boolean): Promise<void> {
  const out = createWriteStream(path);
  const next = normals(seed);
  out.write(Array.from({ length: columns }, (_, c) => `f${c}`).join(',') + '\n');
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    const cells = new Array<string>(columns);
    for (let c = 0; c < columns; c++) {
      let v = 10 + 3 * next() + c;
      if (shifted && c < 5) v += 1.5;
      if (shifted && c === 5) v = 10 + c + (v - 10 - c) * 1.6;
      cells[c] = v.toFixed(4);
    }
    chunk += cells.join(',') + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

async function runCompare(ref: string, cur: string): Promise<{ seconds: number; peakMiB: number; report: { dataset_drift: boolean; drift_share: number; features: { name: string; test: string; drifted: boolean }[] } }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [packagePath('dist', 'src', 'cli', 'bin.js'), 'drift', 'compare', '--reference', ref, '--current', cur, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let peakKiB = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch {
      // exited between polls
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(poll);
  if (code !== 0) throw new Error(`drift compare exited ${code}`);
  return { seconds: (performance.now() - t0) / 1000, peakMiB: peakKiB / 1024, report: JSON.parse(stdout) };
}

const dir = mkdtempSync(join(tmpdir(), 'mg-bench-drift-'));
try {
  const ref = join(dir, 'reference.csv');
  const cur = join(dir, 'current.csv');
  console.log(`generating ${columns} numerical columns × ${rows} rows, twice …`);
  await writeCsv(ref, 1, false);
  await writeCsv(cur, 2, true);
  const mb = (statSync(ref).size + statSync(cur).size) / 1e6;
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const run = await runCompare(ref, cur);
    runs.push(run);
    console.log(`round ${r + 1}: ${run.seconds.toFixed(2)} s, peak RSS ${run.peakMiB.toFixed(0)} MiB`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const seconds = median(runs.map((r) => r.seconds));
  const peak = median(runs.map((r) => r.peakMiB));
  const report = runs[0]!.report;
  console.log(`\ndrift compare: ${columns} numerical columns × ${rows} rows per file (${mb.toFixed(0)} MB of CSV in all), end to end, ${rounds} rounds (medians)`);
  console.log(`modelgate drift compare   ${seconds.toFixed(2)} s   peak RSS ${peak.toFixed(0)} MiB`);
  console.log(`verdicts: ${report.features.filter((f) => f.drifted).map((f) => `${f.name} (${f.test})`).join(', ') || 'none'} drifted; dataset drift ${report.dataset_drift} (share ${report.drift_share})`);
  console.log(`expected: f0–f5 drift (shifted or rescaled), f6–f${columns - 1} do not`);
  console.log(`Evidently 0.4, as quoted in the issue (not measured here): ${EVIDENTLY.note}`);
  console.log(`ratio against the quoted figure: ${(EVIDENTLY.seconds / seconds).toFixed(1)}× faster (target ≥ 5×), ${(peak / 1228.8).toFixed(2)}× the memory`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
