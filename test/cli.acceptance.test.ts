// Acceptance: the real `modelgate` binary in a temporary MODELGATE_HOME, locally and against a running server.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { packagePath } from '../src/paths.js';
import type { ChildProcess } from 'node:child_process';
import { runCli, spawnServe, type Run } from './cli-helpers.js';
import { tempHome, V1, V2 } from './helpers.js';

const OCR_CLS = packagePath('node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

function cli(home: string, args: string[], env: Record<string, string> = {}): Run {
  return runCli(home, args, { env });
}

function assertCleanError(r: Run, code: string): void {
  assert.equal(r.code, 1, `exit 1 for ${code}; stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error ${code}: `), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('modelgate CLI on the local store', () => {
  const t = tempHome('mg-cli-');
  after(() => t.cleanup());

  it('registers versions with card, reference and metadata, and lists and shows them', () => {
    const r1 = cli(t.home, ['models', 'register', 'weather', V1.model, '--card', V1.card, '--reference', V1.reference, '--metadata', 'metrics.auc=0.7579', '--metadata', 'code=examples/train-weather.ts', '--owner', 'weather-ml <wx@example.com>', '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    const v1 = r1.json();
    assert.equal(v1.version, 1);
    assert.deepEqual(v1.owner, { team: 'weather-ml', contact: 'wx@example.com' });
    assert.match(v1.createdBy, /^local:/);
    const r2 = cli(t.home, ['models', 'register', 'weather', V2.model, '--card', V2.card, '--reference', V2.reference, '--parent', '1']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /registered weather@2/);
    assert.match(r2.stdout, /features\s+FP32\s+\[batch,\s?5\]/);
    const list = cli(t.home, ['models', 'list']);
    assert.match(list.stdout, /^weather\s+2\s+2\s/m);
    const show = cli(t.home, ['models', 'show', 'weather@2', '--json']).json();
    assert.equal(show.parentVersion, 1);
    assert.equal(show.reference.rows, 731);
  });

  it('reads the signature of a third-party ONNX model (PaddleOCR text-direction classifier)', () => {
    const r = cli(t.home, ['models', 'register', 'ocr-cls', OCR_CLS, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = r.json();
    assert.deepEqual(v.signature.inputs.map((i: { name: string; datatype: string; shape: unknown[] }) => [i.name, i.datatype, i.shape]), [['x', 'FP32', ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2']]]);
    assert.deepEqual(v.signature.outputs.map((o: { name: string; datatype: string; shape: unknown[] }) => [o.name, o.datatype, o.shape]), [['softmax_0.tmp_0', 'FP32', ['p2o.DynamicDimension.3', 2]]]);
    assert.equal(v.features, null);
    assert.equal(v.formatInfo.irVersion, 8);
  });

  it('moves aliases with history, and archives only unaliased versions', () => {
    assert.equal(cli(t.home, ['models', 'alias', 'set', 'weather', 'production', '1']).code, 0);
    const moved = cli(t.home, ['models', 'alias', 'set', 'weather', 'production', '2']);
    assert.match(moved.stdout, /weather@production: 1 → 2/);
    const hist = cli(t.home, ['models', 'alias', 'list', 'weather', '--history']);
    assert.match(hist.stdout, /production\s+2/);
    assert.match(hist.stdout, /production\s+1\s+2\s+local:/);
    assertCleanError(cli(t.home, ['models', 'archive', 'weather@2']), 'MG_ERR_MODEL_VERSION_ALIASED');
    assert.equal(cli(t.home, ['models', 'archive', 'weather@1']).code, 0);
    assertCleanError(cli(t.home, ['models', 'alias', 'set', 'weather', 'staging', '1']), 'MG_ERR_MODEL_VERSION_ARCHIVED');
  });

  it('renders and revises model cards, keeping old revisions', () => {
    const md = cli(t.home, ['models', 'card', 'weather@2']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^# /m);
    assert.match(md.stdout, /\| *accuracy/i);
    const json = cli(t.home, ['models', 'card', 'weather@production', '--format', 'json']).json();
    const card = json.card;
    card.considerations.limitations = [...(card.considerations.limitations ?? []), { description: 'Misses rain after long dry spells.' }];
    const file = join(t.home, 'card-rev2.json');
    writeFileSync(file, JSON.stringify(card));
    const set = cli(t.home, ['models', 'card', 'weather@2', '--set', file, '--reason', 'production review']);
    assert.match(set.stdout, /card revision 2 saved/);
    assert.match(cli(t.home, ['models', 'card', 'weather@2']).stdout, /long dry spells/);
    assert.doesNotMatch(cli(t.home, ['models', 'card', 'weather@2', '--revision', '1']).stdout, /long dry spells/);
    assert.match(cli(t.home, ['models', 'card', 'weather@2', '--history']).stdout, /2\s+\S+\s+local:\S+\s+production review/);
    assertCleanError(cli(t.home, ['models', 'card', 'weather@2', '--revision', '9']), 'MG_ERR_CARD_REVISION_NOT_FOUND');
  });

  it('diffs two versions for people and for scripts', () => {
    const human = cli(t.home, ['models', 'diff', 'weather', '1', '2']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /BREAKING/);
    assert.match(human.stdout, /data shift/);
    const d = cli(t.home, ['models', 'diff', 'weather', '1', 'production', '--json']).json();
    assert.equal(d.b, 2);
    assert.equal(d.signature.breaking, true);
    assert.ok(Array.isArray(d.referenceShift));
  });

  it('refuses bad input with its own code, exit 1 and no stack trace, writing nothing', () => {
    const notOnnx = join(t.home, 'model.onnx');
    writeFileSync(notOnnx, 'this is not a model');
    const truncated = join(t.home, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(V2.model).subarray(0, 700));
    const badRef = join(t.home, 'bad.csv');
    writeFileSync(badRef, 'precipitation,temp_max,temp_min,wind\n0,1,2,fast\n');
    const badCard = join(t.home, 'card.yaml');
    writeFileSync(badCard, 'model_details:\n  name: weather\n  ownrs: []\n');
    const blobsBefore = readdirSync(join(t.home, 'artifacts', 'sha256'), { recursive: true }).length;
    assertCleanError(cli(t.home, ['models', 'register', 'weather', notOnnx]), 'MG_ERR_ARTIFACT_NOT_ONNX');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', truncated]), 'MG_ERR_ARTIFACT_TRUNCATED');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', join(t.home, 'missing.onnx')]), 'MG_ERR_ARTIFACT_UNREADABLE');
    assertCleanError(cli(t.home, ['models', 'register', 'Weather!', V1.model]), 'MG_ERR_MODEL_INVALID_NAME');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', V1.model, '--card', badCard]), 'MG_ERR_CARD_INVALID');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', V1.model, '--card', V1.reference]), 'MG_ERR_CARD_UNREADABLE');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', V1.model, '--reference', badRef]), 'MG_ERR_REFERENCE_NON_NUMERIC');
    assertCleanError(cli(t.home, ['models', 'register', 'weather', V1.model, '--reference', V1.card]), 'MG_ERR_REFERENCE_UNSUPPORTED_FORMAT');
    assertCleanError(cli(t.home, ['models', 'show', 'weather@7']), 'MG_ERR_MODEL_VERSION_NOT_FOUND');
    assertCleanError(cli(t.home, ['models', 'show', 'weather@canary']), 'MG_ERR_MODEL_ALIAS_NOT_FOUND');
    assertCleanError(cli(t.home, ['models', 'show', 'nothing']), 'MG_ERR_MODEL_NOT_FOUND');
    assert.equal(readdirSync(join(t.home, 'artifacts', 'sha256'), { recursive: true }).length, blobsBefore, 'no orphan blob');
    assert.equal(cli(t.home, ['models', 'show', 'weather', '--json']).json().versions, 2, 'no version row');
    const usage = cli(t.home, ['models', 'register', 'weather']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing required argument/);
    assert.equal(cli(t.home, ['modelz']).code, 2);
    assert.equal(cli(t.home, ['--help']).code, 0);
  });

  it('verifies the audit chain and exits 3 naming the first broken link after tampering', () => {
    const ok = cli(t.home, ['audit', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /intact/);
    const events = cli(t.home, ['audit', 'list', '--json', '--limit', '1000']).json();
    assert.ok(events.some((e: { action: string }) => e.action === 'model.alias.set'));
    const db = new Database(join(t.home, 'modelgate.db'));
    db.prepare('update audit_events set target = ? where seq = 2').run('model/evil');
    db.close();
    const broken = cli(t.home, ['audit', 'verify', '--json']);
    assert.equal(broken.code, 3);
    assert.deepEqual([broken.json().ok, broken.json().firstBreak.seq], [false, 2]);
  });
});

describe('modelgate CLI against a running server', () => {
  const t = tempHome('mg-cli-server-');
  let server: ChildProcess;
  let url = '';
  before(async () => {
    // Register before any server runs: scripts can do that.
    assert.equal(cli(t.home, ['models', 'register', 'weather', V1.model]).code, 0);
    const started = await spawnServe(t.home);
    server = started.proc;
    url = started.url;
    const banner = started.banner;
    assert.match(banner, /admin key \(shown once/);
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    t.cleanup();
  });

  it('works through the control API with the admin key from $MODELGATE_HOME/admin.key', () => {
    const env = { MODELGATE_URL: url };
    const list = cli(t.home, ['models', 'list', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json().map((m: { name: string }) => m.name), ['weather'], 'the server sees what was registered before it started');
    const r = cli(t.home, ['models', 'register', 'weather', V2.model, '--card', V2.card, '--reference', V2.reference, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().version, 2);
    assert.match(r.json().createdBy, /^key:key_/);
    assert.equal(cli(t.home, ['models', 'alias', 'set', 'weather', 'production', '2'], env).code, 0);
    assert.match(cli(t.home, ['models', 'diff', 'weather', '1', '2'], env).stdout, /BREAKING/);
    // A local registration while the server runs is visible through the server.
    assert.equal(cli(t.home, ['models', 'register', 'local-while-running', V1.model]).code, 0);
    assert.ok(cli(t.home, ['models', 'list', '--json'], env).json().some((m: { name: string }) => m.name === 'local-while-running'));
    assert.match(cli(t.home, ['audit', 'verify'], env).stdout, /intact/);
  });

  it('creates, uses and revokes keys with roles', () => {
    const env = { MODELGATE_URL: url };
    const created = cli(t.home, ['keys', 'create', 'dashboard', '--role', 'viewer', '--json'], env).json();
    const asViewer = { MODELGATE_URL: url, MODELGATE_KEY: created.key };
    assert.equal(cli(t.home, ['models', 'list'], asViewer).code, 0);
    assertCleanError(cli(t.home, ['models', 'register', 'weather', V1.model], asViewer), 'MG_ERR_AUTH_FORBIDDEN');
    assertCleanError(cli(t.home, ['keys', 'list'], asViewer), 'MG_ERR_AUTH_FORBIDDEN');
    assert.match(cli(t.home, ['keys', 'list'], env).stdout, /dashboard\s+viewer/);
    assert.equal(cli(t.home, ['keys', 'revoke', created.id], env).code, 0);
    assertCleanError(cli(t.home, ['models', 'list'], asViewer), 'MG_ERR_AUTH_INVALID_KEY');
    assertCleanError(cli(t.home, ['models', 'list'], { MODELGATE_URL: url, MODELGATE_KEY: '' , MODELGATE_HOME: join(t.home, 'elsewhere') }), 'MG_ERR_AUTH_MISSING_KEY');
    assertCleanError(cli(t.home, ['models', 'list'], { MODELGATE_URL: 'http://127.0.0.1:9' }), 'MG_ERR_CLI_SERVER_UNREACHABLE');
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});

