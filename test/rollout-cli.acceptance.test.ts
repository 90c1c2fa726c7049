// Acceptance: deployments, rollouts, freezes and traffic history through the real `modelgate` binary, on the
// local store (where nothing moves a rollout along, so its state is exactly what the commands made it) and
// against a server started in this process.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, runCliAsync, type Run } from './cli-helpers.js';
import { examplePath, tempHome, V1, V2 } from './helpers.js';
import { startTestServer } from './serving-helpers.js';

// The example the README applies, exactly as shipped.
const WEATHER_YAML = readFileSync(examplePath('weather', 'deployment.yaml'), 'utf8');
const OWNER = 'weather-ml <wx@example.com>';
// v2 reads a fifth feature, so the signature gate fails against v1 and starting needs an override.
const OVERRIDE = ['--override-gates', 'v2 reads month; every client sends it since release 4.2'];

function assertCleanError(r: Run, code: string, exit = 1): void {
  assert.equal(r.code, exit, `exit ${exit} for ${code}; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error ${code}: `), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describe('rollout commands on the local store', () => {
  const t = tempHome('mg-rollout-cli-');
  const cli = (...args: string[]): Run => runCli(t.home, args);
  const file = (name: string, text: string): string => {
    const path = join(t.home, name);
    writeFileSync(path, text);
    return path;
  };
  let beforeApply = '';
  after(() => t.cleanup());

  before(() => {
    ok(cli('models', 'register', 'weather', V1.model, '--card', V1.card, '--reference', V1.reference, '--owner', OWNER));
    ok(cli('models', 'register', 'weather', V2.model, '--card', V2.card, '--reference', V2.reference, '--owner', OWNER, '--parent', '1'));
    ok(cli('models', 'alias', 'set', 'weather', 'production', '1'));
  });

  it('applies the example file: created, then unchanged, and reads it from stdin too', async () => {
    const path = file('weather.yaml', WEATHER_YAML);
    const dry = ok(cli('apply', '-f', path, '--dry-run'));
    assert.match(dry.stdout, /^deployment\/weather created \(dry run\)\s+serving v1 100%$/m);
    assertCleanError(cli('deployments', 'show', 'weather'), 'MG_ERR_DEPLOYMENT_NOT_FOUND');
    beforeApply = new Date().toISOString();
    const created = ok(cli('apply', '-f', path));
    assert.match(created.stdout, /^deployment\/weather created\s+serving v1 100%$/m);
    assert.match(ok(cli('apply', '-f', path)).stdout, /^deployment\/weather unchanged\b/m);
    const piped = ok(await runCliAsync(t.home, ['apply', '-f', '-', '--json'], { input: WEATHER_YAML }));
    assert.deepEqual(piped.json().map((r: { name: string; action: string; weights: unknown }) => [r.name, r.action, r.weights]), [['weather', 'unchanged', { 1: 100 }]]);
  });

  it('diffs a changed file field by field and exits 1, exits 0 when nothing changes, 2 when it cannot compare', () => {
    const changed = file('weather-changed.yaml', WEATHER_YAML.replace('analysisInterval: 30s', 'analysisInterval: 1m'));
    const d = cli('diff', '-f', changed);
    assert.equal(d.code, 1, d.stderr);
    assert.match(d.stdout, /^deployment\/weather would be configured \(1 change\)/m);
    assert.match(d.stdout, /^ {2}spec\.strategy\.canary\.analysisInterval: "30s" → "1m"$/m);
    const json = cli('diff', '-f', changed, '--json');
    assert.equal(json.code, 1);
    assert.deepEqual(json.json()[0].changes, [{ path: 'spec.strategy.canary.analysisInterval', change: 'changed', before: '30s', after: '1m' }]);
    const same = ok(cli('diff', '-f', join(t.home, 'weather.yaml')));
    assert.match(same.stdout, /^deployment\/weather unchanged$/m);
    assert.equal(cli('deployments', 'show', 'weather', '--json').json().spec.strategy.canary.analysisInterval, '30s', 'diff wrote nothing');
    const missing = join(t.home, 'missing.yaml');
    const unreadable = cli('diff', '-f', missing);
    assertCleanError(unreadable, 'MG_ERR_DEPLOYMENT_FILE_UNREADABLE', 2);
    assert.ok(unreadable.stderr.includes(missing), 'names the path');
    assert.match(cli('diff', '--help').stdout, /Exit status[\s\S]*0 {2}no differences[\s\S]*1 {2}differences found/);
  });

  it('refuses a file whose weights sum to 90, naming spec.arms, and an unreadable file, naming the path', () => {
    const bad = cli('apply', '-f', file('weather-90.yaml', WEATHER_YAML.replace('weight: 100', 'weight: 90')));
    assertCleanError(bad, 'MG_ERR_DEPLOYMENT_INVALID');
    assert.match(bad.stderr, /weather-90\.yaml: spec\.arms: the stable and canary weights sum to 90, not 100/);
    const missing = join(t.home, 'nowhere.yaml');
    const unreadable = cli('apply', '-f', missing);
    assertCleanError(unreadable, 'MG_ERR_DEPLOYMENT_FILE_UNREADABLE');
    assert.ok(unreadable.stderr.includes(missing), 'names the path');
    assert.equal(cli('apply').code, 2, '-f is required');
  });

  it('lists and shows deployments with the version each arm resolves to', () => {
    const list = ok(cli('deployments', 'list', '--json')).json();
    assert.deepEqual(list.map((d: { name: string; model: string; weights: unknown; killSwitch: boolean; generation: number }) => [d.name, d.model, d.weights, d.killSwitch, d.generation]), [['weather', 'weather', { 1: 100 }, false, 1]]);
    const show = ok(cli('deployments', 'show', 'weather', '--json')).json();
    assert.deepEqual(show.arms, [{ name: 'stable', role: 'stable', version: 'production', weight: 100, resolved: 1 }]);
    assert.equal(show.rollout, null);
    const human = ok(cli('deployments', 'show', 'weather'));
    assert.match(human.stdout, /^deployment\/weather {2}model weather {2}generation 1$/m);
    assert.match(human.stdout, /kill switch {2}off/);
    assert.match(human.stdout, /^stable\s+stable\s+production → 1\s+100%$/m);
    assert.match(ok(cli('deployments', 'list')).stdout, /^weather\s+weather\s+1\s+v1 100%/m);
  });

  it('prints the readiness checklist and exits 1 when a gate fails', () => {
    const check = cli('rollout', 'check', 'weather', '--to', '2');
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /^PASS {2}card\s+card revision 1/m);
    assert.match(check.stdout, /^PASS {2}owner\s+owner weather-ml <wx@example\.com>/m);
    assert.match(check.stdout, /^PASS {2}reference profile\s+731 rows/m);
    assert.match(check.stdout, /^FAIL {2}signature compatible with stable\s+input features changed/m);
    assert.match(check.stdout, /^SKIP {2}SLO and alert route\s/m);
    const json = cli('rollout', 'check', 'weather', '--to', '2', '--json');
    assert.equal(json.code, 1);
    assert.deepEqual([json.json().passed, json.json().candidate, json.json().stable], [false, 2, 1]);
    assertCleanError(cli('rollout', 'check', 'weather', '--to', '9'), 'MG_ERR_ROLLOUT_INVALID_TARGET');
  });

  it('starts a rollout (gates overridden) that stays at step 0 with no server, and refuses a second one', () => {
    assertCleanError(cli('rollout', 'start', 'weather', '--to', '2'), 'MG_ERR_ROLLOUT_GATES_FAILED');
    const started = ok(cli('rollout', 'start', 'weather', '--to', '2', '--reason', 'retrained', ...OVERRIDE));
    assert.match(started.stdout, /^started rollout #1 of weather: canary, v1 → v2$/m);
    const s = ok(cli('rollout', 'status', 'weather', '--json')).json();
    assert.equal(s.phase, 'Progressing');
    assert.equal(s.step, 0);
    assert.deepEqual(s.weights, { 1: 100 });
    assert.deepEqual([s.fromVersion, s.toVersion, s.strategy], [1, 2, 'canary']);
    assert.deepEqual(s.steps.map((x: { description: string }) => x.description), ['setWeight 10', 'analysis 30s', 'setWeight 50', 'pause 60s', 'setWeight 100', 'promote']);
    assert.deepEqual(s.overrides.map((o: { kind: string }) => o.kind), ['gates']);
    assert.ok(Array.isArray(s.analyses));
    const human = ok(cli('rollout', 'status', 'weather'));
    assert.match(human.stdout, /phase\s+Progressing/);
    assert.match(human.stdout, /step\s+1\/6/);
    assert.match(human.stdout, /▶ 1\. setWeight 10/);
    assert.match(human.stdout, /· 6\. promote/);
    assert.match(human.stdout, /weights\s+v1 100%/);
    assert.match(human.stdout, /analyses\s+none yet/);
    assertCleanError(cli('rollout', 'start', 'weather', '--to', '2', ...OVERRIDE), 'MG_ERR_ROLLOUT_IN_PROGRESS');
    assert.match(ok(cli('deployments', 'show', 'weather')).stdout, /rollout\s+#1 canary v1 → v2: Progressing/);
    assert.equal(cli('rollout', 'start', 'weather', '--to', '2', '--strategy', 'linear').code, 2, 'unknown strategy is a usage error');
  });

  it('refuses an approval where the rollout is not at an approval step', () => {
    const r = cli('rollout', 'approve', 'weather', '--reason', 'looks good');
    assertCleanError(r, 'MG_ERR_ROLLOUT_INVALID_STATE');
    assert.match(r.stderr, /needs no approval/);
  });

  it('pauses, resumes and aborts; the aborted rollout is terminal, so --watch prints once and returns', () => {
    assert.match(ok(cli('rollout', 'pause', 'weather', '--reason', 'checking logs')).stdout, /Paused/);
    assert.equal(ok(cli('rollout', 'status', 'weather', '--json')).json().pausedBy, 'user');
    assert.match(ok(cli('rollout', 'resume', 'weather')).stdout, /Progressing/);
    const aborted = ok(cli('rollout', 'abort', 'weather', '--reason', 'not today', '--json')).json();
    assert.equal(aborted.phase, 'Aborted');
    assert.equal(ok(cli('rollout', 'status', 'weather', '--json')).json().phase, 'Aborted');
    const watched = ok(cli('rollout', 'status', 'weather', '--watch'));
    assert.equal(watched.stdout.match(/^rollout #1 of weather/gm)?.length, 1);
    assertCleanError(cli('rollout', 'abort', 'weather'), 'MG_ERR_ROLLOUT_INVALID_STATE');
    const list = ok(cli('rollout', 'list', 'weather', '--json')).json();
    assert.deepEqual(list.map((r: { id: number; phase: string }) => [r.id, r.phase]), [[1, 'Aborted']]);
  });

  it('freezes releases for every deployment, refusing a start, and lifts the freeze', () => {
    assert.match(ok(cli('freeze', 'set', '--reason', 'holiday')).stdout, /releases frozen for all deployments: holiday/);
    assert.deepEqual(ok(cli('freeze', 'list', '--json')).json().map((f: { scope: string; reason: string }) => [f.scope, f.reason]), [['*', 'holiday']]);
    const frozen = cli('rollout', 'start', 'weather', '--to', '2', ...OVERRIDE);
    assertCleanError(frozen, 'MG_ERR_ROLLOUT_FROZEN');
    assert.match(frozen.stderr, /holiday/);
    assert.match(ok(cli('freeze', 'lift')).stdout, /release freeze on all deployments lifted/);
    assert.deepEqual(ok(cli('freeze', 'list', '--json')).json(), []);
    assert.equal(cli('freeze', 'set').code, 2, '--reason is required');
  });

  it('records the kill switch in the traffic history, and says the deployment did not exist before it was applied', () => {
    const killed = ok(cli('deployments', 'kill', 'weather', '--reason', 'bad answers'));
    assert.match(killed.stdout, /kill switch ON; serving v1 100%/);
    const h = ok(cli('history', 'weather', '--json')).json();
    assert.equal(h.deployment, 'weather');
    assert.deepEqual(h.entries.map((e: { action: string }) => e.action), ['kill', 'abort', 'apply']);
    assert.deepEqual([h.entries[0].reason, h.entries[0].weights, h.entries[0].actor.startsWith('local:')], ['bad answers', { 1: 100 }, true]);
    const table = ok(cli('history', 'weather'));
    assert.match(table.stdout, /^TIME\s+ACTION\s+ACTOR\s+WEIGHTS\s+REASON$/m);
    assert.match(table.stdout, /^\S+\s+kill\s+local:\S+\s+v1 100%\s+bad answers$/m);
    const before = ok(cli('history', 'weather', '--at', beforeApply));
    assert.match(before.stdout, /^at \S+: deployment weather did not exist yet$/m);
    const now = ok(cli('history', 'weather', '--at', new Date().toISOString()));
    assert.match(now.stdout, /^at \S+: v1 100% \(since \S+, kill by local:\S+\)$/m);
    assertCleanError(cli('history', 'weather', '--at', 'yesterday'), 'MG_ERR_HISTORY_INVALID_TIME');
    assert.equal(ok(cli('deployments', 'kill', 'weather', '--off', '--json')).json().killSwitch, false);
    assertCleanError(cli('history', 'nothing'), 'MG_ERR_DEPLOYMENT_NOT_FOUND');
  });
});

describe('rollout commands against a server in this process', () => {
  const t = tempHome('mg-rollout-cli-remote-');
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let remote: string[] = [];
  const cli = (...args: string[]): Promise<Run> => runCliAsync(t.home, [...remote, ...args]);
  before(async () => {
    server = await startTestServer();
    remote = ['--url', server.server.url, '--key', server.key];
  });
  after(async () => {
    await server?.cleanup();
    t.cleanup();
  });

  it('applies a file and follows the rollout through the control API', async () => {
    ok(await cli('models', 'register', 'weather', V1.model, '--card', V1.card, '--reference', V1.reference, '--owner', OWNER));
    ok(await cli('models', 'register', 'weather', V2.model, '--card', V2.card, '--reference', V2.reference, '--owner', OWNER));
    ok(await cli('models', 'alias', 'set', 'weather', 'production', '1'));
    const path = join(t.home, 'weather.yaml');
    writeFileSync(path, WEATHER_YAML);
    const applied = ok(await cli('apply', '-f', path, '--json')).json();
    assert.deepEqual(applied.map((r: { name: string; action: string }) => [r.name, r.action]), [['weather', 'created']]);
    const invalid = await cli('apply', '-f', join(t.home, 'missing.yaml'));
    assertCleanError(invalid, 'MG_ERR_DEPLOYMENT_FILE_UNREADABLE');
    const started = ok(await cli('rollout', 'start', 'weather', '--to', '2', ...OVERRIDE, '--json')).json();
    assert.match(started.createdBy, /^key:key_/);
    const s = ok(await cli('rollout', 'status', 'weather', '--json')).json();
    assert.equal(s.id, started.id);
    assert.equal(s.toVersion, 2);
    // The server's controller may already have moved it on; wherever it is, the served shares add up.
    assert.ok(['Progressing', 'Paused'].includes(s.phase), s.phase);
    assert.equal(Object.values(s.weights as Record<string, number>).reduce((a, b) => a + b, 0), 100);
    ok(await cli('freeze', 'set', '--reason', 'holiday'));
    assert.deepEqual(ok(await cli('freeze', 'list', '--json')).json().map((f: { scope: string }) => f.scope), ['*']);
    assert.match(ok(await cli('freeze', 'lift')).stdout, /lifted/);
    assert.equal(ok(await cli('rollout', 'abort', 'weather', '--json')).json().phase, 'Aborted');
    assert.deepEqual(ok(await cli('history', 'weather', '--json')).json().entries.at(-1).action, 'apply');
  });

  it('refuses apply with a viewer key', async () => {
    const viewer = ok(await cli('keys', 'create', 'dashboard', '--role', 'viewer', '--json')).json();
    const path = join(t.home, 'weather.yaml');
    const asViewer = (...args: string[]) => runCliAsync(t.home, ['--url', server.server.url, '--key', viewer.key, ...args]);
    assertCleanError(await asViewer('apply', '-f', path), 'MG_ERR_AUTH_FORBIDDEN');
    assertCleanError(await asViewer('rollout', 'abort', 'weather'), 'MG_ERR_AUTH_FORBIDDEN');
    assert.equal(ok(await asViewer('deployments', 'list', '--json')).json()[0].name, 'weather', 'a viewer can read');
  });
});
