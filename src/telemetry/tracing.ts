// W3C Trace Context propagation and spans for the serving gateway, over @opentelemetry/api only.
//
// Without an OpenTelemetry SDK every span here is a no-op: the API's tracer hands back a
// non-recording span that carries its parent's ids, costs almost nothing and exports nothing. The
// caller's trace id still flows through (extractContext keeps it in the Context, and traceparentOf
// echoes it back), so clients can correlate without any tracing backend.
//
// To record and export spans, register an SDK before Modelgate starts, with a preload module of
// your choosing. Modelgate does not depend on the SDK; install it next to the deployment, choosing
// versions whose peer range covers the @opentelemetry/api 1.x that Modelgate ships with:
//
//   npm install @opentelemetry/sdk-trace-node @opentelemetry/exporter-trace-otlp-proto
//
//   // otel.mjs
//   import { NodeTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-node';
//   import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
//   new NodeTracerProvider({
//     spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())], // OTEL_EXPORTER_OTLP_ENDPOINT etc. apply
//   }).register();
//
//   node --import ./otel.mjs dist/src/cli/bin.js serve      (or NODE_OPTIONS='--import ./otel.mjs')
//
// The API finds the SDK through a process-wide global keyed by its major version, so the SDK's own
// copy of @opentelemetry/api need not be the same file as Modelgate's. Registering later also works:
// the tracer below is a proxy that switches to the SDK's tracer once one appears. Spans are parented
// explicitly through the Context values passed around here, so no context manager is needed.
import { ROOT_CONTEXT, SpanKind, createContextKey, createTraceState, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanContext } from '@opentelemetry/api';

/** Span attribute names for the model a request is for. */
export const ATTR_MODEL_NAME = 'model.name';
export const ATTR_MODEL_VERSION = 'model.version';

/** Names of the gateway's spans for the stages of one inference request. */
export const SPAN_NAMES = Object.freeze({
  parse: 'modelgate.parse',
  validate: 'modelgate.validate',
  queue: 'modelgate.queue',
  infer: 'modelgate.infer',
} as const);

/** Header values as Node (and Fastify) present them: lowercase names, repeated headers as arrays. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

export interface Traceparent {
  /** The version field of the header as received (0 today; later versions are parsed as 0 per spec). */
  version: number;
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** The caller's span id: 16 lowercase hex digits, not all zero. */
  parentId: string;
  /** Trace flags; for versions above 0 only the sampled bit, the one bit the spec lets us read there. */
  traceFlags: number;
}

const DASH = 0x2d;
const FLAG_SAMPLED = 0x01;
const VERSION_00_LENGTH = 55;
// The spec asks pass-through parsers to allow growth in later versions and to refuse only
// "prohibitively large" headers; 512 is far beyond any plausible extension and cheap to scan.
const MAX_TRACEPARENT_LENGTH = 512;

// -1 for anything but 0-9 and a-f: the spec's HEXDIGLC is lowercase only, so "AB" is as invalid as "zz".
const HEX_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) table[0x30 + i] = i;
  for (let i = 0; i < 6; i++) table[0x61 + i] = 10 + i;
  return table;
})();

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexDigit(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? HEX_VALUE[c]! : -1;
}

/** True when s[start, end) is all lowercase hex and not all zeros. */
function isNonZeroHex(s: string, start: number, end: number): boolean {
  let nonZero = false;
  for (let i = start; i < end; i++) {
    const d = hexDigit(s, i);
    if (d < 0) return false;
    if (d !== 0) nonZero = true;
  }
  return nonZero;
}

/**
 * Parses a `traceparent` header value per W3C Trace Context: `version-traceid-parentid-flags`.
 * Returns undefined for anything the spec says to ignore: wrong lengths, uppercase or non-hex digits,
 * all-zero ids, version ff, or a version-00 header with anything after the flags. A higher version
 * is read as version 00 plus trailing `-`-separated fields, which are ignored.
 */
export function parseTraceparent(value: string): Traceparent | undefined {
  const length = value.length;
  if (length < VERSION_00_LENGTH || length > MAX_TRACEPARENT_LENGTH) return undefined;
  const v1 = hexDigit(value, 0);
  const v2 = hexDigit(value, 1);
  if (v1 < 0 || v2 < 0) return undefined;
  const version = v1 * 16 + v2;
  if (version === 0xff) return undefined;
  if (version === 0 && length !== VERSION_00_LENGTH) return undefined;
  if (length > VERSION_00_LENGTH && value.charCodeAt(VERSION_00_LENGTH) !== DASH) return undefined;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return undefined;
  if (!isNonZeroHex(value, 3, 35) || !isNonZeroHex(value, 36, 52)) return undefined;
  const f1 = hexDigit(value, 53);
  const f2 = hexDigit(value, 54);
  if (f1 < 0 || f2 < 0) return undefined;
  const flags = f1 * 16 + f2;
  return {
    version,
    traceId: value.slice(3, 35),
    parentId: value.slice(36, 52),
    traceFlags: version === 0 ? flags : flags & FLAG_SAMPLED,
  };
}

/** Formats a span context as a version-00 `traceparent` value. */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${HEX_BYTE[spanContext.traceFlags & 0xff]!}`;
}

// The caller's traceparent as we will echo it, kept beside the span so the response can be built
// from the Context alone.
const INCOMING_TRACEPARENT = createContextKey('modelgate.incoming_traceparent');

/**
 * The Context for a request: `base` plus the caller's span (from `traceparent`, and `tracestate` when
 * that parsed) as a non-recording remote span, so child spans join the caller's trace even with no SDK.
 * A missing, repeated or invalid `traceparent` yields `base` unchanged (a new trace, per the spec).
 */
export function extractContext(headers: HeaderBag, base: Context = ROOT_CONTEXT): Context {
  const raw = headers['traceparent'];
  if (typeof raw !== 'string') return base;
  const parsed = parseTraceparent(raw);
  if (parsed === undefined) return base;
  const spanContext: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.parentId,
    traceFlags: parsed.traceFlags,
    isRemote: true,
  };
  const state = headers['tracestate'];
  // Repeated tracestate headers are one list split across lines (RFC 7230 field order), so join them.
  const rawState = Array.isArray(state) ? state.join(',') : state;
  if (rawState !== undefined && rawState !== '') spanContext.traceState = createTraceState(rawState);
  // The spec has later versions re-emitted as the highest version we know, so only 00 is echoed verbatim.
  const echo = parsed.version === 0 ? raw : formatTraceparent(spanContext);
  return trace.setSpan(base, trace.wrapSpanContext(spanContext)).setValue(INCOMING_TRACEPARENT, echo);
}

const tracer = trace.getTracer('modelgate');

/**
 * Starts a span under whatever span `parentCtx` holds. With no SDK registered this returns the
 * parent's non-recording span wrapper; end() it all the same, so registering an SDK needs no code change.
 */
export function startSpan(
  name: string,
  attributes: Attributes | undefined,
  parentCtx: Context,
  kind: SpanKind = SpanKind.INTERNAL,
): Span {
  return tracer.startSpan(name, { kind, attributes }, parentCtx);
}

/** `parentCtx` with `span` as the current span, to parent the next stage's spans on it. */
export function withSpan(parentCtx: Context, span: Span): Context {
  return trace.setSpan(parentCtx, span);
}

/** The `model.name` / `model.version` attributes; build once per loaded model and reuse. */
export function modelAttributes(model: string, version: string | number): Attributes {
  return { [ATTR_MODEL_NAME]: model, [ATTR_MODEL_VERSION]: String(version) };
}

/**
 * The `traceparent` response header for a request whose Context is `ctx` (from extractContext,
 * possibly with our server span set by withSpan): the caller's trace id with our span id when an SDK
 * made a real span, otherwise the caller's own traceparent, and undefined when the caller sent none.
 */
export function traceparentOf(ctx: Context): string | undefined {
  const incoming = ctx.getValue(INCOMING_TRACEPARENT);
  if (typeof incoming !== 'string') return undefined;
  const spanContext = trace.getSpanContext(ctx);
  if (
    spanContext === undefined ||
    spanContext.isRemote === true ||
    !isSpanContextValid(spanContext) ||
    spanContext.traceId !== incoming.slice(3, 35)
  ) {
    return incoming;
  }
  return formatTraceparent(spanContext);
}
