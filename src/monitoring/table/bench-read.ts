// node dist/src/monitoring/table/bench-read.js [--rows 1000000 --columns 20]
//
// Reading one drift-sized CSV (20 numerical columns × 1M rows, seeded values) three ways, each in its own
// child process so each peak RSS is its own: readColumns; csv-parse arrays with cellNumber into Float64Arrays
// (the fastest library route to the same columns); and read-table's records (what the profiles use).
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { mulberry32 } from '../../random.js';
import { cellNumber } from '../../registry/profile/compute-profile.js';
import { readTable } from '../../registry/profile/read-table.js';
import { readColumns } from './read-columns.js';

type Reader = 'readColumns' | 'csv-parse' | 'read-table';
interface Result {
  reader: Reader;
  rows: number;
  seconds: number;
  peakRssMiB: number;
  checksum: number;
}

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');

async function writeCsv(path: string, rows: number, columns: number): Promise<void> {
  const out = createWriteStream(path);
  const rand = mulberry32(42);
  out.write(Array.from({ length: columns }, (_, c) => `f${c}`).join(',') + '\n');
  let chunk = '';
  for (let r = 0; r < rows; r++) {
    let line = '';
    for (let c = 0; c < columns; c++) {
      // Mostly 4-decimal values around 10 + c, some negatives, an exponent now and then, 0.1% missing.
      const u = rand();
      const cell = u < 0.001 ? '' : u < 0.01 ? `${(rand() * 9).toFixed(3)}e-${1 + (c % 5)}` : (10 + c + (rand() - 0.5) * 30).toFixed(4);
      line += c === 0 ? cell : `,${cell}`;
    }
    chunk += line + '\n';
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

async function run(reader: Reader, path: string): Promise<Result> {
  const t0 = process.hrtime.bigint();
  let rows = 0;
  let checksum = 0;
  if (reader === 'readColumns') {
    const t = await readColumns(path);
    rows = t.rows;
    for (const c of t.columns) checksum += c.numbers ? c.numbers[rows - 1]! || 0 : 0;
  } else if (reader === 'csv-parse') {
    let cols: Float64Array[] = [];
    let header: string[] | undefined;
    for await (const rec of createReadStream(path).pipe(parse({ bom: true, relax_quotes: true })) as AsyncIterable<string[]>) {
      if (header === undefined) {
        header = rec;
        cols = rec.map(() => new Float64Array(1024));
        continue;
      }
      if (rows === cols[0]!.length) cols = cols.map((a) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      });
      for (let i = 0; i < rec.length; i++) cols[i]![rows] = cellNumber(rec[i] === '' ? null : rec[i]!) ?? NaN;
      rows++;
    }
    for (const c of cols) checksum += c[rows - 1]! || 0;
  } else {
    const table = readTable(path);
    let last: Record<string, unknown> = {};
    for await (const rec of table) {
      rows++;
      last = rec;
    }
    for (const v of Object.values(last)) checksum += cellNumber(v as string | null) ?? 0;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { reader, rows, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024, checksum };
}

async function main(): Promise<void> {
  if (args.has('child')) {
    process.stdout.write(JSON.stringify(await run(args.get('child') as Reader, args.get('path')!)));
    return;
  }
  const rows = Number(args.get('rows') ?? 1_000_000);
  const columns = Number(args.get('columns') ?? 20);
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-read-'));
  try {
    const path = join(dir, 'current.csv');
    const g0 = Date.now();
    await writeCsv(path, rows, columns);
    const mib = statSync(path).size / 2 ** 20;
    console.log(`file: ${rows} rows × ${columns} columns, ${mib.toFixed(1)} MiB (generated in ${((Date.now() - g0) / 1000).toFixed(1)} s)`);
    const results: Result[] = [];
    for (const reader of ['readColumns', 'csv-parse', 'read-table'] as Reader[]) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', reader, '--path', path], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const r = JSON.parse(out) as Result;
      results.push(r);
      console.log(
        `${reader.padEnd(12)} ${r.seconds.toFixed(2).padStart(6)} s  ${Math.round(r.rows / r.seconds).toLocaleString('en-US').padStart(11)} rows/s  ${(mib / r.seconds).toFixed(0).padStart(4)} MiB/s  peak RSS ${r.peakRssMiB.toFixed(0)} MiB  (checksum ${r.checksum.toFixed(4)})`,
      );
    }
    const [fast, ...others] = results as [Result, ...Result[]];
    for (const o of others) {
      console.log(`readColumns vs ${o.reader}: ${(o.seconds / fast.seconds).toFixed(1)}× the rows/s; peak RSS ${fast.peakRssMiB.toFixed(0)} vs ${o.peakRssMiB.toFixed(0)} MiB`);
    }
    console.log('(read-table only iterates its records and keeps none; the other two hold every cell as a float64, 8 bytes a cell.)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
