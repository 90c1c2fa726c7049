import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createLogger } from '../context.js';
import { LazyChildLogger, requestLineWriter, type RequestLine } from './request-log.js';

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d: Buffer) => (buf += d.toString('utf8')));
  return { stream, lines: () => buf.split('\n').filter((l) => l.length > 0) };
}
const tick = () => new Promise((r) => setImmediate(r));
const untimed = (l: string) => l.replace(/"time":\d+/, '"time":0');

const CASES: RequestLine[] = [
  { reqId: '0193a1b2-0000-7000-8000-000000000000', model: 'weather', version: '3', arm: 'canary', status: 200, ms: 1.2 },
  { reqId: 'client "id" \\ with\nnewline\u2028and é', model: 'wx', version: 'static', status: 503, ms: 0 },
  { reqId: 'x', model: 'm', version: 'none', arm: undefined, status: 400, ms: 12345.6 },
];

describe('the request line', () => {
  it('is byte for byte the line pino writes for the same fields, without going through pino', async () => {
    const fast = capture();
    const viaPino = capture();
    const logger = createLogger('info', fast.stream);
    const reference = createLogger('info', viaPino.stream);
    const write = requestLineWriter(logger);
    // The fast path never calls the logger's own methods.
    logger.info = () => assert.fail('went through pino');
    for (const c of CASES) {
      write(c);
      reference.info({ reqId: c.reqId, model: c.model, version: c.version, ...(c.arm !== undefined ? { arm: c.arm } : {}), status: c.status, ms: c.ms }, 'inference');
    }
    await tick();
    assert.equal(fast.lines().length, CASES.length);
    assert.deepEqual(fast.lines().map(untimed), viaPino.lines().map(untimed));
    for (const l of fast.lines()) assert.equal(typeof (JSON.parse(l) as { time: unknown }).time, 'number');
  });

  it('is not written when info is off', async () => {
    const out = capture();
    const logger = createLogger('warn', out.stream);
    const write = requestLineWriter(logger);
    write(CASES[0]!);
    logger.level = 'info';
    write(CASES[2]!);
    await tick();
    assert.deepEqual(out.lines().map((l) => (JSON.parse(l) as { status: number }).status), [400]);
  });

  it('goes through pino when an option could change the line (a mixin here)', async () => {
    const out = capture();
    const logger = pino({ mixin: () => ({ extra: 1 }) }, out.stream);
    requestLineWriter(logger)(CASES[0]!);
    await tick();
    const line = JSON.parse(out.lines()[0]!) as Record<string, unknown>;
    assert.equal(line.extra, 1);
    assert.equal(line.msg, 'inference');
    assert.equal(line.arm, 'canary');
  });
});

describe('the lazy request child logger', () => {
  it('builds the pino child only when something logs, with the request bindings', async () => {
    const out = capture();
    const parent = createLogger('info', out.stream);
    let children = 0;
    const child = parent.child.bind(parent);
    parent.child = ((b: Record<string, unknown>, o?: Record<string, unknown>) => {
      children++;
      return child(b, o);
    }) as typeof parent.child;
    const quiet = new LazyChildLogger(parent, { reqId: 'r1' }, {});
    assert.equal(quiet.level, 'info');
    assert.equal(children, 0);
    const used = new LazyChildLogger(parent, { reqId: 'r2' }, {});
    used.warn({ code: 'X' }, 'refused');
    used.error('failed %s', 'twice');
    await tick();
    assert.equal(children, 1);
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.reqId, l.level, l.msg, l.code]), [['r2', 40, 'refused', 'X'], ['r2', 50, 'failed twice', undefined]]);
  });
});
