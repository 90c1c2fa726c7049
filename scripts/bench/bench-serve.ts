// npm run bench:serve [-- --mode overhead|batching|deployment|monitoring|all] [--duration 10] [--rounds 3]
//
// overhead: (a) a bare Fastify + onnxruntime-node server and (b) Modelgate with its defaults (auth, validation,
//   metrics, request logs on), both serving the example weather model, loaded in turn with autocannon at 32
//   connections, alternating, several rounds; prints medians of requests/s, p50 and p99 and the ratios.
// batching: Modelgate with dynamic batching off, with its defaults (on, no queue delay) and with a 2 ms delay,
//   64 connections, single-row requests, on an MLP whose weights do not fit in the CPU caches, so the cost is
//   per call (a pass over the weights), not per row.
// deployment: one Modelgate, the same model called through its implicit endpoint and through a deployment
//   (stable 90% / canary 10% by a sticky hash of a per-request user id, one targeting rule), alternating:
//   what the traffic policy costs per request.
// monitoring: the bare server, and one Modelgate serving the same model through its model endpoint and two deployments, one with
//   monitoring off and one with its defaults on (prediction records, profiles of inputs and outputs against the
//   reference, a 1% redacted payload sample, data-quality checks), alternating: what monitoring costs, and
//   whether a monitored deployment stays within the serving bounds (≥ 0.9× the bare throughput, p99 ≤ 1.25×).
//   --compare-config FILE adds a second Modelgate with FILE as its modelgate.yaml, its monitored deployment in
//   the same rotation (e.g. `serving: { batching: { enabled: false } }` against the defaults).
// Servers run as child processes; autocannon runs in this process. Figures depend on the machine: quote ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../../src/config/index.js';
import { createContext, createLogger } from '../../src/context.js';
import { encodeModel, OnnxDataType, tensorValueInfo } from '../../src/registry/onnx/onnx-proto.js';
import { packagePath } from '../../src/paths.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const mode = args.get('mode') ?? 'all';
const duration = Number(args.get('duration') ?? 10);
const rounds = Number(args.get('rounds') ?? 3);

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Medians over rounds, errors added up. */
const summarise = (fs: Figures[]): Figures => ({ rps: median(fs.map((x) => x.rps)), p50: median(fs.map((x) => x.p50)), p99: median(fs.map((x) => x.p99)), errors: fs.reduce((s, x) => s + x.errors, 0) });

async function load(url: string, body: string, key: string | undefined, connections: number, perRequestUser = false): Promise<Figures> {
  let n = 0;
  const run = autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body,
    ...(perRequestUser ? { setupClient: (client: { setHeaders: (h: Record<string, string>) => void }) => client.setHeaders({ 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), 'x-user-id': `user-${n++}` }) } : {}),
  }) as unknown as Promise<autocannon.Result> & { on(event: 'response', f: (client: unknown, status: number, bytes: number, ms: number) => void): void };
  // autocannon's own percentiles are whole milliseconds (its histogram keeps integers), too coarse for a server
  // answering in 1-3 ms: 3 against 4 ms reads as 1.33x. Each answer's time is kept here instead, to 1 µs.
  const times: number[] = [];
  run.on('response', (_client, status, _bytes, ms) => {
    if (status < 300) times.push(ms);
  });
  const result = await run;
  const sorted = Float64Array.from(times).sort();
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { rps: result.requests.average, p50: at(0.5), p99: at(0.99), errors: result.errors + result.non2xx };
}

function startProcess(cmd: string[], env: Record<string, string>, cwd: string): ChildProcess {
  return spawn(process.execPath, cmd, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitReady(url: string, proc: ChildProcess): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready: ${url}`);
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** A home with `name` registered from `artifact` and aliased production; returns its admin key. */
async function prepareHome(name: string, artifact: string, yaml = ''): Promise<{ home: string; cleanup: () => void }> {
  const home = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  if (yaml) writeFileSync(join(home, 'modelgate.yaml'), yaml);
  const config = loadConfig({ env: {}, cwd: home, flags: { home: join(home, '.modelgate') } });
  const ctx = await createContext(config, { logger: createLogger('silent') });
  const p = { actor: 'bench', keyId: null, role: 'admin' as const, modelPatterns: [] };
  await ctx.registry.register(p, { name, artifact: { path: artifact } });
  await ctx.registry.setAlias(p, name, 'production', '1');
  await ctx.store.close();
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

async function startModelgate(home: string, port: number, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; key: string }> {
  const proc = startProcess([packagePath('dist', 'src', 'cli', 'bin.js'), 'serve', '--port', String(port)], { MODELGATE_HOME: join(home, '.modelgate'), MODELGATE_LOG_LEVEL: 'info', ...env }, home);
  await waitReady(`http://127.0.0.1:${port}/v2/health/ready`, proc);
  return { proc, key: readFileSync(join(home, '.modelgate', 'admin.key'), 'utf8').trim() };
}

function row(label: string, f: Figures): string {
  return `${label.padEnd(26)} ${f.rps.toFixed(0).padStart(8)} req/s   p50 ${f.p50.toFixed(2).padStart(6)} ms   p99 ${f.p99.toFixed(2).padStart(6)} ms   errors ${f.errors}`;
}

async function overhead(): Promise<void> {
  const model = packagePath('examples', 'weather', 'v1', 'model.onnx');
  const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0.8, 11.7, 7.2, 2.3] }] });
  const { home, cleanup } = await prepareHome('weather', model);
  const bare = startProcess([packagePath('dist', 'scripts', 'bench', 'bare-server.js'), model, '18081'], {}, home);
  await waitReady('http://127.0.0.1:18081/v2/health/ready', bare);
  const mg = await startModelgate(home, 18082);
  const a: Figures[] = [];
  const b: Figures[] = [];
  try {
    // warm both up
    await load('http://127.0.0.1:18081/v2/models/weather/infer', body, undefined, 8).catch(() => undefined);
    await load('http://127.0.0.1:18082/v2/models/weather/infer', body, mg.key, 8).catch(() => undefined);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['bare', 'mg'] : ['mg', 'bare'];
      for (const which of order) {
        if (which === 'bare') a.push(await load('http://127.0.0.1:18081/v2/models/weather/infer', body, undefined, 32));
        else b.push(await load('http://127.0.0.1:18082/v2/models/weather/infer', body, mg.key, 32));
      }
      console.log(`round ${r + 1}: bare ${a[a.length - 1]!.rps.toFixed(0)} req/s, modelgate ${b[b.length - 1]!.rps.toFixed(0)} req/s`);
    }
  } finally {
    await stop(bare);
    await stop(mg.proc);
    cleanup();
  }
  const ma = summarise(a);
  const mb = summarise(b);
  console.log(`\noverhead: example weather model, 1 row per request, 32 connections, ${duration}s × ${rounds} rounds (medians)`);
  console.log(row('bare fastify+onnxruntime', ma));
  console.log(row('modelgate (defaults)', mb));
  console.log(`ratios: throughput ${(mb.rps / ma.rps).toFixed(3)}× (target ≥ 0.9), p99 ${(mb.p99 / ma.p99).toFixed(3)}× (target ≤ 1.25), p50 ${(mb.p50 / ma.p50).toFixed(3)}×`);
}

/**
 * An MLP [batch,1024] → 4096 → 4096 → 10 with fixed pseudo-random weights (~80 MB, more than the CPU caches):
 * one row costs a full pass over the weights from memory, a batch of 64 rows costs little more. That is the
 * per-call cost dynamic batching exists for. (A deep narrow MLP whose weights fit in cache gained only
 * ~1.2×: there the HTTP handling per request, not the model, is the limit on this 2-core machine.)
 */
function mlpModel(path: string): void {
  let s = 42;
  const rand = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.05;
  };
  const dims = [1024, 4096, 4096, 10];
  const initializer = [];
  const node = [];
  let prev = 'features';
  const raw = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rand();
    return new Uint8Array(a.buffer);
  };
  for (let i = 0; i < dims.length - 1; i++) {
    const [n, m] = [dims[i]!, dims[i + 1]!];
    initializer.push({ name: `W${i}`, data_type: OnnxDataType.FLOAT, dims: [n, m], raw_data: raw(n * m) });
    initializer.push({ name: `B${i}`, data_type: OnnxDataType.FLOAT, dims: [m], raw_data: raw(m) });
    const out = i === dims.length - 2 ? 'scores' : `h${i}`;
    node.push({ op_type: 'Gemm', input: [prev, `W${i}`, `B${i}`], output: [i === dims.length - 2 ? out : `g${i}`], name: `gemm${i}` });
    if (i < dims.length - 2) node.push({ op_type: 'Relu', input: [`g${i}`], output: [out], name: `relu${i}` });
    prev = out;
  }
  const bytes = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'modelgate-bench',
    graph: {
      name: 'mlp',
      node,
      initializer,
      input: [tensorValueInfo('features', OnnxDataType.FLOAT, ['batch', dims[0]!])],
      output: [tensorValueInfo('scores', OnnxDataType.FLOAT, ['batch', 10])],
    },
  });
  writeFileSync(path, bytes);
}

async function batching(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-bench-mlp-'));
  const model = join(dir, 'mlp.onnx');
  mlpModel(model);
  const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 1024], data: Array.from({ length: 1024 }, (_, i) => (i % 17) / 17) }] });
  // off; the defaults (on, merging what is waiting, no delay); on with a 2 ms queue delay
  const arms = [
    { name: 'batching off', home: await prepareHome('mlp', model, 'serving:\n  models:\n    mlp:\n      batching: { enabled: false }\n'), figures: [] as Figures[] },
    { name: 'defaults (32, 0 ms)', home: await prepareHome('mlp', model), figures: [] as Figures[] },
    { name: 'batching on (64, 2 ms)', home: await prepareHome('mlp', model, 'serving:\n  models:\n    mlp:\n      batching: { enabled: true, maxBatchSize: 64, maxQueueDelayMs: 2 }\n'), figures: [] as Figures[] },
  ];
  try {
    for (let r = 0; r < rounds; r++) {
      // one server at a time, so each has both cores; the order turns each round
      for (let i = 0; i < arms.length; i++) {
        const arm = arms[(i + r) % arms.length]!;
        const s = await startModelgate(arm.home.home, 18083);
        try {
          await load('http://127.0.0.1:18083/v2/models/mlp/infer', body, s.key, 8).catch(() => undefined);
          arm.figures.push(await load('http://127.0.0.1:18083/v2/models/mlp/infer', body, s.key, 64));
        } finally {
          await stop(s.proc);
        }
      }
      console.log(`round ${r + 1}: ${arms.map((a) => `${a.name} ${a.figures[a.figures.length - 1]!.rps.toFixed(0)} req/s`).join(', ')}`);
    }
  } finally {
    for (const a of arms) a.home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const [off, defaults, delayed] = arms.map((a) => summarise(a.figures)) as [Figures, Figures, Figures];
  console.log(`\nbatching: MLP 1024→4096→4096→10 (80 MB of weights), 1 row per request, 64 connections, ${duration}s × ${rounds} rounds (medians)`);
  for (const a of arms) console.log(row(a.name, summarise(a.figures)));
  console.log(`ratio, 2 ms delay / off: throughput ${(delayed.rps / off.rps).toFixed(2)}× (target ≥ 2), p99 ${(delayed.p99 / off.p99).toFixed(2)}×`);
  console.log(`ratio, defaults / off: throughput ${(defaults.rps / off.rps).toFixed(2)}×, p99 ${(defaults.p99 / off.p99).toFixed(2)}×`);
}

async function deployment(): Promise<void> {
  const model = packagePath('examples', 'weather', 'v1', 'model.onnx');
  const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0.8, 11.7, 7.2, 2.3] }] });
  const { home, cleanup } = await prepareHome('weather', model);
  const config = loadConfig({ env: {}, cwd: home, flags: { home: join(home, '.modelgate') } });
  const ctx = await createContext(config, { logger: createLogger('silent') });
  const p = { actor: 'bench', keyId: null, role: 'admin' as const, modelPatterns: [] };
  await ctx.registry.register(p, { name: 'weather', artifact: { path: model }, metadata: { build: 'canary' } });
  await ctx.deployments.apply(p, [{
    apiVersion: 'modelgate/v1',
    kind: 'Deployment',
    metadata: { name: 'weather-canary' },
    spec: {
      model: 'weather',
      routingKey: { header: 'x-user-id' },
      arms: [{ version: 'production', weight: 90, role: 'stable' }, { version: 2, weight: 10, role: 'canary' }],
      targeting: [{ name: 'beta', match: [{ header: 'x-beta', op: 'equals', value: '1' }], arm: 'canary' }],
    },
  }]);
  await ctx.store.close();
  const mg = await startModelgate(home, 18084);
  const a: Figures[] = [];
  const b: Figures[] = [];
  try {
    await load('http://127.0.0.1:18084/v2/models/weather/infer', body, mg.key, 8).catch(() => undefined);
    await load('http://127.0.0.1:18084/v2/models/weather-canary/infer', body, mg.key, 8, true).catch(() => undefined);
    for (let r = 0; r < rounds; r++) {
      for (const which of r % 2 === 0 ? ['model', 'deployment'] : ['deployment', 'model']) {
        if (which === 'model') a.push(await load('http://127.0.0.1:18084/v2/models/weather/infer', body, mg.key, 32));
        else b.push(await load('http://127.0.0.1:18084/v2/models/weather-canary/infer', body, mg.key, 32, true));
      }
      console.log(`round ${r + 1}: model endpoint ${a[a.length - 1]!.rps.toFixed(0)} req/s, deployment ${b[b.length - 1]!.rps.toFixed(0)} req/s`);
    }
  } finally {
    await stop(mg.proc);
    cleanup();
  }
  const ma = summarise(a);
  const mb = summarise(b);
  console.log(`\ndeployment: example weather model, 1 row per request, 32 connections, ${duration}s × ${rounds} rounds (medians)`);
  console.log(row('model endpoint (alias)', ma));
  console.log(row('deployment 90/10 + rule', mb));
  console.log(`ratios: throughput ${(mb.rps / ma.rps).toFixed(3)}×, p99 ${(mb.p99 / ma.p99).toFixed(3)}×, p50 ${(mb.p50 / ma.p50).toFixed(3)}×`);
}


/** User plus system CPU time so far, ms (Linux /proc): of a whole process, or with `thread`, of one of its threads. */
function cpuMs(pid: number, thread?: number): number {
  const fields = readFileSync(`/proc/${pid}/${thread !== undefined ? `task/${thread}/` : ''}stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** A home with the weather model (and its reference) in production and two deployments of it: `plain` unmonitored, `watched` with monitoring's defaults. */
async function monitoringHome(model: string, reference: string): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'mg-bench-'));
  const config = loadConfig({ env: {}, cwd: home, flags: { home: join(home, '.modelgate') } });
  const ctx = await createContext(config, { logger: createLogger('silent') });
  const p = { actor: 'bench', keyId: null, role: 'admin' as const, modelPatterns: [] };
  await ctx.registry.register(p, { name: 'weather', artifact: { path: model }, reference: { path: reference } });
  await ctx.registry.setAlias(p, 'weather', 'production', '1');
  const doc = (name: string, enabled: boolean) => ({
    apiVersion: 'modelgate/v1' as const,
    kind: 'Deployment' as const,
    metadata: { name },
    spec: { model: 'weather', routingKey: { header: 'x-user-id' }, arms: [{ version: 'production', weight: 100, role: 'stable' as const }], monitoring: { enabled } },
  });
  await ctx.deployments.apply(p, [doc('plain', false), doc('watched', true)] as never);
  await ctx.store.close();
  return home;
}

async function monitoring(): Promise<void> {
  const model = packagePath('examples', 'weather', 'v1', 'model.onnx');
  const reference = packagePath('examples', 'weather', 'v1', 'reference.csv');
  const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0.8, 11.7, 7.2, 2.3] }] });
  const home = await monitoringHome(model, reference);
  const bare = startProcess([packagePath('dist', 'scripts', 'bench', 'bare-server.js'), model, '18085'], {}, home);
  await waitReady('http://127.0.0.1:18085/v2/health/ready', bare);
  const mg = await startModelgate(home, 18086);
  // --compare-config FILE: a second Modelgate (a home of its own) with FILE as its modelgate.yaml, its monitored
  // deployment loaded in the same rotation, to measure a setting against the defaults and the bare server side by side.
  const altConfig = args.get('compare-config');
  const altHome = altConfig ? await monitoringHome(model, reference) : undefined;
  const alt = altHome ? await startModelgate(altHome, 18087, { MODELGATE_CONFIG: altConfig! }) : undefined;
  const targets: Record<string, { url: string; key: string | undefined; figures: Figures[]; pid: number; cpu: number[]; loop: number[] }> = {
    bare: { url: 'http://127.0.0.1:18085/v2/models/weather/infer', key: undefined, figures: [], pid: bare.pid!, cpu: [], loop: [] },
    endpoint: { url: 'http://127.0.0.1:18086/v2/models/weather/infer', key: mg.key, figures: [], pid: mg.proc.pid!, cpu: [], loop: [] },
    off: { url: 'http://127.0.0.1:18086/v2/models/plain/infer', key: mg.key, figures: [], pid: mg.proc.pid!, cpu: [], loop: [] },
    on: { url: 'http://127.0.0.1:18086/v2/models/watched/infer', key: mg.key, figures: [], pid: mg.proc.pid!, cpu: [], loop: [] },
  };
  if (alt) targets.alt = { url: 'http://127.0.0.1:18087/v2/models/watched/infer', key: alt.key, figures: [], pid: alt.proc.pid!, cpu: [], loop: [] };
  const names = Object.keys(targets);
  try {
    for (const t of Object.values(targets)) await load(t.url, body, t.key, 8, t !== targets.bare).catch(() => undefined);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order so no target always runs first (or right after the same one).
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const n of order) {
        const t = targets[n]!;
        // Server CPU time per request (all its threads) is steadier than throughput on a shared machine.
        // ...and the main thread's alone is what bounds a CPU-bound server: the event loop.
        const pid = t.pid;
        const before = cpuMs(pid);
        const loopBefore = cpuMs(pid, pid);
        const f = await load(t.url, body, t.key, 32, n !== 'bare');
        t.figures.push(f);
        t.cpu.push(((cpuMs(pid) - before) * 1000) / (f.rps * duration));
        t.loop.push(((cpuMs(pid, pid) - loopBefore) * 1000) / (f.rps * duration));
      }
      console.log(`round ${r + 1}: ${names.map((n) => `${n} ${targets[n]!.figures.at(-1)!.rps.toFixed(0)} req/s ${targets[n]!.cpu.at(-1)!.toFixed(1)} µs cpu/req (${targets[n]!.loop.at(-1)!.toFixed(1)} on the event loop)`).join(', ')}`);
    }
  } finally {
    await stop(bare);
    await stop(mg.proc);
    if (alt) await stop(alt.proc);
    rmSync(home, { recursive: true, force: true });
    if (altHome) rmSync(altHome, { recursive: true, force: true });
  }
  const [b, endpoint, off, on] = names.map((n) => summarise(targets[n]!.figures)) as [Figures, Figures, Figures, Figures];
  console.log(`\nmonitoring: example weather model with its reference, 1 row per request, 32 connections, ${duration}s × ${rounds} rounds (medians)`);
  console.log(row('bare fastify+onnxruntime', b));
  console.log(row('model endpoint (alias)', endpoint));
  console.log(row('deployment, monitoring off', off));
  console.log(row('deployment, monitoring on', on));
  const cpu = (n: string) => median(targets[n]!.cpu);
  const loop = (n: string) => median(targets[n]!.loop);
  console.log(`server CPU per request (medians): bare ${cpu('bare').toFixed(1)} µs, model endpoint ${cpu('endpoint').toFixed(1)} µs, deployment monitoring off ${cpu('off').toFixed(1)} µs, on ${cpu('on').toFixed(1)} µs: monitoring costs ${(cpu('on') - cpu('off')).toFixed(1)} µs a request`);
  console.log(`event-loop CPU per request (medians): bare ${loop('bare').toFixed(1)} µs, model endpoint ${loop('endpoint').toFixed(1)} µs, deployment monitoring off ${loop('off').toFixed(1)} µs, on ${loop('on').toFixed(1)} µs`);
  // Paired per round (the machine's speed drifts between rounds more than the targets differ).
  const paired = (n: string) => median(targets[n]!.figures.map((f, i) => f.rps / targets.bare!.figures[i]!.rps));
  console.log(`throughput against bare, median of per-round ratios: model endpoint ${paired('endpoint').toFixed(3)}×, deployment off ${paired('off').toFixed(3)}×, monitored ${paired('on').toFixed(3)}×`);
  // The spread says how far to trust the median: on a shared machine single rounds swing by ±30%.
  const spread = (n: string) => {
    const xs = targets[n]!.figures.map((f, i) => f.rps / targets.bare!.figures[i]!.rps).sort((x, y) => x - y);
    const q = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
    return `${q(0.25).toFixed(2)}–${q(0.75).toFixed(2)} (all ${xs[0]!.toFixed(2)}–${xs.at(-1)!.toFixed(2)})`;
  };
  console.log(`per-round ratios against bare, quartiles: model endpoint ${spread('endpoint')}, deployment off ${spread('off')}, monitored ${spread('on')}`);
  console.log(`monitoring on / off: throughput ${(on.rps / off.rps).toFixed(3)}×, p99 ${(on.p99 / off.p99).toFixed(3)}×, p50 ${(on.p50 / off.p50).toFixed(3)}×`);
  console.log(`monitoring on / bare: throughput ${(on.rps / b.rps).toFixed(3)}× (target ≥ 0.9), p99 ${(on.p99 / b.p99).toFixed(3)}× (target ≤ 1.25)`);
  if (targets.alt) {
    const a = summarise(targets.alt.figures);
    console.log(`\nwith ${altConfig}:`);
    console.log(row('deployment, monitoring on', a));
    console.log(`event-loop CPU per request ${loop('alt').toFixed(1)} µs (defaults ${loop('on').toFixed(1)}); throughput against bare, median of per-round ratios ${paired('alt').toFixed(3)}×, quartiles ${spread('alt')}`);
    console.log(`against the defaults' monitored deployment: throughput ${(a.rps / on.rps).toFixed(3)}×, p99 ${(a.p99 / on.p99).toFixed(3)}×; against bare: p99 ${(a.p99 / b.p99).toFixed(3)}×`);
  }
}

if (mode === 'overhead' || mode === 'all') await overhead();
if (mode === 'deployment' || mode === 'all') await deployment();
if (mode === 'batching' || mode === 'all') await batching();
if (mode === 'monitoring' || mode === 'all') await monitoring();
