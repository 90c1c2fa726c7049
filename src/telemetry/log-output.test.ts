import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { LineBuffer, type ChunkSink } from './log-output.js';
import { requestLineWriter } from './request-log.js';

/** A sink that keeps what it is given, as sonic-boom in buffer mode would write it. */
function sink(): ChunkSink & { chunks: Buffer[]; text: () => string; flushes: number; syncFlushes: number } {
  const s = {
    chunks: [] as Buffer[],
    flushes: 0,
    syncFlushes: 0,
    write(chunk: Buffer) {
      // copied, so a later reuse of the memory by the buffer would show up as corrupt text
      s.chunks.push(Buffer.from(chunk));
      return true;
    },
    flush(cb?: (err?: Error) => void) {
      s.flushes++;
      cb?.();
    },
    flushSync() {
      s.syncFlushes++;
    },
    text: () => Buffer.concat(s.chunks).toString('utf8'),
  };
  return s;
}

describe('LineBuffer', () => {
  it('hands over whole chunks once 4 KiB are buffered, every line intact and in order', () => {
    const out = sink();
    const b = new LineBuffer(out);
    const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"msg":"line ${'x'.repeat(i % 90)} é ☃ 😀"}\n`);
    for (const l of lines.slice(0, 10)) b.write(l);
    assert.equal(out.chunks.length, 0, 'ten short lines stay buffered');
    for (const l of lines.slice(10)) b.write(l);
    assert.ok(out.chunks.length >= 5, `${out.chunks.length} chunks`);
    for (const c of out.chunks) assert.ok(c.length >= 4096 && c.length <= 16384, `chunk of ${c.length} bytes`);
    b.flushSync();
    assert.equal(out.syncFlushes, 1);
    assert.equal(out.text(), lines.join(''));
  });

  it('a flush writes the partial chunk; a line longer than a chunk goes out whole, after what came before it', () => {
    const out = sink();
    const b = new LineBuffer(out);
    b.write('first\n');
    let flushed = false;
    b.flush(() => (flushed = true));
    assert.ok(flushed);
    assert.equal(out.text(), 'first\n');
    const long = `${'é'.repeat(9000)}\n`;
    b.write('second\n');
    b.write(long);
    b.write('third\n');
    b.flushSync();
    assert.equal(out.text(), `first\nsecond\n${long}third\n`);
    b.flush();
    assert.equal(out.chunks.length, 4, 'an empty flush writes nothing');
  });

  it('is a pino destination: request lines and pino lines share it and keep their order', () => {
    const out = sink();
    const b = new LineBuffer(out);
    const logger = pino({ base: null }, b);
    const line = requestLineWriter(logger);
    logger.info('before');
    line({ reqId: 'r1', model: 'm', version: '1', status: 200, ms: 1 });
    logger.warn({ x: 1 }, 'after');
    b.flushSync();
    const got = out.text().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; reqId?: string });
    assert.deepEqual(got.map((g) => g.msg), ['before', 'inference', 'after']);
    assert.equal(got[1]!.reqId, 'r1');
  });

  it('drops lines once discarded', () => {
    const out = sink();
    const b = new LineBuffer(out);
    b.write('kept\n');
    b.flushSync();
    b.write('lost\n');
    b.discard();
    b.write('also lost\n');
    b.flushSync();
    assert.equal(out.text(), 'kept\n');
  });

  it("the process's logger writes its buffered lines at exit", () => {
    // A child process that logs and exits at once: nothing would be written if the exit flush were missing.
    const script = `
      const { createLogger } = await import(${JSON.stringify(new URL('../context.js', import.meta.url).href)});
      const log = createLogger('info');
      for (let i = 0; i < 3; i++) log.info({ i }, 'hello');
      process.exit(0);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; i: number });
    assert.deepEqual(lines.map((l) => [l.msg, l.i]), [['hello', 0], ['hello', 1], ['hello', 2]]);
  });
});
