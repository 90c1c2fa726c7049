// Where log lines go: stdout, buffered, written off the event loop.
//
// Every inference writes one JSON line (telemetry/request-log.ts), so this is on the hot path. sonic-boom
// (pino's own destination) writes asynchronously, but in its string mode each write() measures the UTF-8
// length of the new line and of the whole chunk it is appending to, and the chunk is a string built by
// concatenation, so each line costs a flatten and a scan of up to 16 KiB: 3–5 µs of event-loop time a
// request (the model endpoint under load, log level info against warn), and more with a larger minLength.
// Here each line is encoded once, straight into a byte buffer, and sonic-boom gets whole chunks in its
// buffer mode, where a write costs a push. Every line, the request line and pino's own, passes this one
// buffer, so lines keep their order.
import sonicBoom from 'sonic-boom';

/** A chunk goes to the writer once it holds this many bytes (or at a flush). */
const HAND_OVER_BYTES = 4096;
const CHUNK_BYTES = 16384;

/** The part of a sonic-boom in buffer mode this uses. */
export interface ChunkSink {
  write(chunk: Buffer): unknown;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/** A pino destination that encodes lines into chunks and hands whole chunks to `sink`. */
export class LineBuffer {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private discarding = false;

  constructor(private readonly sink: ChunkSink) {}

  write(line: string): boolean {
    if (this.discarding) return true;
    // A UTF-16 unit takes at most 3 bytes of UTF-8; hand over first when the line might not fit.
    if (this.used + line.length * 3 > CHUNK_BYTES) {
      this.handOver();
      if (line.length * 3 > CHUNK_BYTES) {
        this.sink.write(Buffer.from(line, 'utf8'));
        return true;
      }
    }
    this.used += this.chunk.write(line, this.used, 'utf8');
    if (this.used >= HAND_OVER_BYTES) this.handOver();
    return true;
  }

  /** Writes what is buffered, asynchronously; `cb` runs once it is written. */
  flush(cb?: (err?: Error) => void): void {
    if (this.discarding) return;
    this.handOver();
    this.sink.flush(cb);
  }

  /** Writes everything buffered before returning (at exit). */
  flushSync(): void {
    if (this.discarding) return;
    this.handOver();
    this.sink.flushSync();
  }

  /** From now on lines are dropped and flushes do nothing (the output is gone). */
  discard(): void {
    this.discarding = true;
    this.used = 0;
  }

  private handOver(): void {
    if (this.used === 0) return;
    // The chunk is the sink's from here on (it may still be queued), so the next lines get a new one.
    this.sink.write(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }
}

/**
 * Buffered stdout for the process's logger: lines are written in chunks of about 4 KiB, at least once a
 * second, and at exit. A broken pipe (stdout's reader gone) stops logging rather than the server, as
 * pino's own destination does; any other write error is reported once on stderr, and lines go on.
 */
export function bufferedStdout(): LineBuffer {
  const sink = new sonicBoom.SonicBoom({ fd: 1, sync: false, contentMode: 'buffer', minLength: 0 });
  // sonic-boom's types describe its string mode only; in buffer mode write() takes a Buffer.
  const out = new LineBuffer(sink as unknown as ChunkSink);
  let reported = false;
  sink.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') out.discard();
    else if (!reported) {
      // Logging must not take the server down.
      reported = true;
      process.stderr.write(`modelgate: writing the log to stdout failed (${err.code ?? err.message}); later lines may be lost\n`);
    }
  });
  const guarded = (f: () => void) => () => {
    try {
      f();
    } catch {
      // stdout closed or already gone
    }
  };
  // A quiet server still shows its lines within a second.
  setInterval(guarded(() => out.flush()), 1000).unref();
  process.once('exit', guarded(() => out.flushSync()));
  return out;
}
