// The per-request log line and the per-request child logger, on the hot path of every inference.
//
// pino spent ~7 µs of event-loop time a request on the request line (serialising through its generic path,
// then its write method) and Fastify ~2 µs building a child logger for req.log that an answered request never
// uses. The line's fields are fixed (strings and numbers), so it is written here as pino would write it,
// straight to the logger's stream, byte for byte the same line; any logger option that could change the line
// (a custom time, message key, mixin, formatter or hook) makes it go through pino as before.
import { pino, symbols as pinoSymbols, stdTimeFunctions, type Logger } from 'pino';

export interface RequestLine {
  reqId: string;
  model: string;
  version: string;
  arm?: string | undefined;
  status: number;
  ms: number;
}

const S = pinoSymbols;
const INFO = 30;

/** A writer of `inference` lines at info level through `logger` (a pino logger), with its bindings. */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const slow = (l: RequestLine) => logger.info({ reqId: l.reqId, model: l.model, version: l.version, ...(l.arm !== undefined ? { arm: l.arm } : {}), status: l.status, ms: l.ms }, 'inference');
  const any = logger as unknown as Record<symbol, unknown>;
  const stream = any[S.streamSym] as { write?: (s: string) => unknown } | undefined;
  const plain =
    typeof stream?.write === 'function' &&
    any[S.timeSym] === stdTimeFunctions.epochTime &&
    any[S.messageKeySym] === 'msg' &&
    any[S.mixinSym] === undefined &&
    any[(S as unknown as Record<string, symbol>).msgPrefixSym!] === undefined &&
    isDefault(any[S.formattersSym]) &&
    isDefault(any[S.hooksSym]) &&
    typeof any[S.chindingsSym] === 'string';
  if (!plain) return slow;
  const bindings = any[S.chindingsSym] as string;
  const write = stream.write!.bind(stream);
  return (l) => {
    if (logger.levelVal > INFO) return;
    write(`{"level":30,"time":${Date.now()}${bindings},"reqId":${JSON.stringify(l.reqId)},"model":${JSON.stringify(l.model)},"version":${JSON.stringify(l.version)}${l.arm !== undefined ? `,"arm":${JSON.stringify(l.arm)}` : ''},"status":${l.status},"ms":${Number.isFinite(l.ms) ? l.ms : null},"msg":"inference"}\n`);
  };
}

/** pino's formatters and hooks objects when nothing was configured: every entry is pino's own no-op default. */
function isDefault(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  // pino keeps {level, bindings, log} formatters and a {logMethod, streamWrite} hooks object; custom ones are
  // functions the caller wrote, which we cannot see through, so only the untouched defaults count.
  return Object.values(o).every((f) => f === undefined || (typeof f === 'function' && DEFAULTS.has(f)));
}

const probe = pino({ enabled: false }) as unknown as Record<symbol, Record<string, unknown> | undefined>;
const DEFAULTS = new Set<unknown>([...Object.values(probe[S.formattersSym] ?? {}), ...Object.values(probe[S.hooksSym] ?? {})]);

/**
 * Fastify's per-request child logger, made on first use: most requests never log through req.log, and
 * building the pino child (bindings serialised, a prototype chain set up) cost ~2 µs each.
 */
export class LazyChildLogger {
  private real: Logger | undefined;

  constructor(private readonly parent: Logger, private readonly bindings: Record<string, unknown>, private readonly options: Record<string, unknown>) {}

  private get log(): Logger {
    return (this.real ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.real?.level ?? (this.options.level as string | undefined) ?? this.parent.level;
  }

  set level(l: string) {
    this.log.level = l;
  }

  fatal(...args: unknown[]): void {
    this.call('fatal', args);
  }
  error(...args: unknown[]): void {
    this.call('error', args);
  }
  warn(...args: unknown[]): void {
    this.call('warn', args);
  }
  info(...args: unknown[]): void {
    this.call('info', args);
  }
  debug(...args: unknown[]): void {
    this.call('debug', args);
  }
  trace(...args: unknown[]): void {
    this.call('trace', args);
  }
  silent(): void {}
  private call(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    const l = this.log;
    (l[level] as (...a: unknown[]) => void).apply(l, args);
  }
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger {
    return this.log.child(bindings, options);
  }
  isLevelEnabled(level: string): boolean {
    return this.log.isLevelEnabled(level);
  }
}
