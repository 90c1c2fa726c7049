#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with Node's test runner.
// Node 20's runner takes no globs, so the files are listed here. Pass names to filter: `node scripts/run-tests.mjs registry`.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(root);
const filters = process.argv.slice(2);
const selected = files
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)))
  .sort();
if (selected.length === 0) {
  console.error('run-tests: no compiled test files matched; run `npm run build` first');
  process.exit(1);
}
if (!process.env.MODELGATE_TEST_DATABASE_URL) {
  console.log('NOTICE: MODELGATE_TEST_DATABASE_URL is not set: the PostgreSQL store tests are skipped (see README, "Tests").');
}
const concurrency = process.env.MODELGATE_TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--enable-source-maps', ...selected], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
