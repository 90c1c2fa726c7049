// Running the real `modelgate` binary: one-shot commands, and `serve` in the background.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { packagePath } from '../src/paths.js';

export const BIN = packagePath('bin', 'modelgate.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs `modelgate args…` with MODELGATE_HOME set, in `cwd` (where a modelgate.yaml would be read). */
export function runCli(home: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', MODELGATE_HOME: home, ...options.env },
    cwd: options.cwd ?? home,
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

export interface ServeProcess {
  proc: ChildProcess;
  url: string;
  /** What it printed on stderr (the start-up banner). */
  banner: string;
  /** What it has logged on stdout so far. */
  logs: () => string;
}

/** Starts `modelgate serve --port 0` and resolves with its URL once the banner says it is running. */
export async function spawnServe(home: string, options: { cwd?: string } = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: { PATH: process.env.PATH ?? '', MODELGATE_HOME: home }, cwd: options.cwd ?? home, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let banner = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${banner}`)), 30_000);
    proc.stderr!.on('data', (d: Buffer) => {
      banner += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(banner);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited ${code}: ${banner}`)));
  });
  return { proc, url, banner, logs: () => out };
}

/**
 * runCli without blocking this process: a server started in-process must keep answering while the CLI
 * talks to it (spawnSync would stall its event loop). `input` is written to the CLI's stdin.
 */
export function runCliAsync(home: string, args: string[], options: { input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', MODELGATE_HOME: home }, cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.once('error', reject);
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, json: () => JSON.parse(stdout) });
    });
    proc.stdin.end(options.input ?? '');
  });
}
