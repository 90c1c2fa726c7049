// Acceptance: `modelgate slo validate|rules` through the real binary, on the shipped example SLO file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packagePath } from '../src/paths.js';
import { runCli } from './cli-helpers.js';
import { tempHome } from './helpers.js';

const EXAMPLE = packagePath('src', 'slo', 'testdata', 'weather-slo.yaml');
const RULES = packagePath('src', 'slo', 'testdata', 'weather-slo.rules.yml');

describe('modelgate slo', () => {
  const t = tempHome('mg-slo-cli-');
  after(() => t.cleanup());

  it('writes the rules the shipped file holds, and promtool accepts them', () => {
    const r = runCli(t.home, ['slo', 'rules', '-f', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(RULES, 'utf8'));
    const out = join(t.home, 'rules.yml');
    assert.equal(runCli(t.home, ['slo', 'rules', '-f', EXAMPLE, '-o', out]).code, 0);
    const check = spawnSync('promtool', ['check', 'rules', out], { encoding: 'utf8' });
    if (check.error) console.log('NOTICE: promtool is not installed; `promtool check rules` is skipped.');
    else assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  it('validates, and refuses a bad file with a code and the field at fault', () => {
    const v = runCli(t.home, ['slo', 'validate', '-f', EXAMPLE, '--json']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json()[0].name, 'weather-availability');
    const bad = join(t.home, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: modelgate/v1\nkind: SLO\nmetadata: {name: x}\nspec: {deployment: w, sli: {type: availability}, objective: 1.5}\n');
    const r = runCli(t.home, ['slo', 'rules', '-f', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error MG_ERR_SLO_INVALID: x: spec\.objective/);
    assert.equal(runCli(t.home, ['slo', 'rules']).code, 2, 'no file is a usage error');
  });
});
