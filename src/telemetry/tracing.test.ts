// Runs with no OpenTelemetry SDK registered (tracing-sdk.test.ts covers the other case in its own process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { INVALID_TRACEID, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SPAN_NAMES, extractContext, formatTraceparent, modelAttributes, parseTraceparent, startSpan, traceparentOf, withSpan } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`;

test('parses a valid version-00 traceparent', () => {
  assert.deepEqual(parseTraceparent(VALID), { version: 0, traceId: TRACE_ID, parentId: PARENT_ID, traceFlags: 1 });
  assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.traceFlags, 0);
  // Flags are a bit field: unknown bits are carried, not a reason to reject.
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-09`)?.traceFlags, 9);
  // Ids that are zero except for one digit are valid.
  assert.ok(parseTraceparent(`00-00000000000000000000000000000001-0000000000000001-01`));
});

test('rejects uppercase hex anywhere', () => {
  assert.equal(parseTraceparent(`00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`), undefined);
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID.toUpperCase()}-01`), undefined);
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-0A`), undefined);
  assert.equal(parseTraceparent(`0A-${TRACE_ID}-${PARENT_ID}-01`), undefined);
});

test('rejects bad lengths and layouts', () => {
  assert.equal(parseTraceparent(''), undefined);
  assert.equal(parseTraceparent(VALID.slice(0, -1)), undefined, '54 characters');
  assert.equal(parseTraceparent(`${VALID}0`), undefined, '56 characters');
  assert.equal(parseTraceparent(`00-${TRACE_ID}0-${PARENT_ID.slice(1)}-01`), undefined, 'trace id one too long');
  assert.equal(parseTraceparent(`00-${TRACE_ID.slice(1)}-${PARENT_ID}0-01`), undefined, 'trace id one too short');
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-1`), undefined, 'one-digit flags');
  assert.equal(parseTraceparent(`00_${TRACE_ID}_${PARENT_ID}_01`), undefined, 'wrong separator');
  assert.equal(parseTraceparent(` ${VALID.slice(1)}`), undefined);
  assert.equal(parseTraceparent(`00-${TRACE_ID.slice(0, -1)}g-${PARENT_ID}-01`), undefined, 'non-hex');
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-0\u00e9`), undefined, 'non-ASCII');
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01-${'x'.repeat(600)}`), undefined, 'prohibitively large');
});

test('rejects all-zero trace and parent ids', () => {
  assert.equal(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT_ID}-01`), undefined);
  assert.equal(parseTraceparent(`00-${TRACE_ID}-${'0'.repeat(16)}-01`), undefined);
});

test('rejects version ff and non-hex versions', () => {
  assert.equal(parseTraceparent(`ff-${TRACE_ID}-${PARENT_ID}-01`), undefined);
  assert.equal(parseTraceparent(`0g-${TRACE_ID}-${PARENT_ID}-01`), undefined);
  assert.equal(parseTraceparent(`-0-${TRACE_ID}-${PARENT_ID}-01`), undefined);
});

test('version 00 allows nothing after the flags', () => {
  assert.equal(parseTraceparent(`${VALID}-extra`), undefined);
  assert.equal(parseTraceparent(`${VALID}-`), undefined);
});

test('future versions: the version-00 fields are read, extra fields ignored', () => {
  assert.deepEqual(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-will-be-like`), {
    version: 0xcc,
    traceId: TRACE_ID,
    parentId: PARENT_ID,
    traceFlags: 1,
  });
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01`)?.version, 1, 'exactly 55 characters');
  // Only the sampled bit is defined for versions we do not know.
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-ff`)?.traceFlags, 1);
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01x`), undefined, 'flags must be followed by a dash or the end');
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-0`), undefined, 'shorter than 55');
  assert.equal(parseTraceparent(`01-${'0'.repeat(32)}-${PARENT_ID}-01-x`), undefined, 'zero ids stay invalid');
});

test('extractContext carries the caller span as a remote, non-recording span', () => {
  const ctx = extractContext({ traceparent: VALID, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
  const sc = trace.getSpanContext(ctx);
  assert.ok(sc);
  assert.equal(sc.traceId, TRACE_ID);
  assert.equal(sc.spanId, PARENT_ID);
  assert.equal(sc.traceFlags, 1);
  assert.equal(sc.isRemote, true);
  assert.equal(sc.traceState?.get('congo'), 't61rcWkgMzE');
  assert.equal(sc.traceState?.serialize(), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  assert.equal(trace.getSpan(ctx)?.isRecording(), false);
});

test('extractContext: repeated tracestate headers form one list', () => {
  const sc = trace.getSpanContext(extractContext({ traceparent: VALID, tracestate: ['a=1', 'b=2'] }));
  assert.equal(sc?.traceState?.serialize(), 'a=1,b=2');
});

test('extractContext ignores an invalid, missing or repeated traceparent, and then tracestate too', () => {
  const base = ROOT_CONTEXT;
  assert.equal(extractContext({}, base), base);
  assert.equal(extractContext({ traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01`, tracestate: 'a=1' }, base), base);
  assert.equal(extractContext({ traceparent: [VALID, VALID] }, base), base);
  // Node joins a repeated unknown header with ", ": too long for version 00.
  assert.equal(extractContext({ traceparent: `${VALID}, ${VALID}` }, base), base);
  assert.equal(traceparentOf(base), undefined);
});

test('extractContext accepts Node request headers', () => {
  const headers: IncomingHttpHeaders = { host: 'x', traceparent: VALID, 'set-cookie': ['a=b'] };
  assert.equal(trace.getSpanContext(extractContext(headers))?.traceId, TRACE_ID);
});

test('without an SDK spans are no-ops that keep the caller trace, and the response echoes the caller traceparent', () => {
  const parent = extractContext({ traceparent: VALID });
  const attrs = modelAttributes('resnet', 3);
  assert.deepEqual(attrs, { 'model.name': 'resnet', 'model.version': '3' });

  const server = startSpan('POST /v2/models/{name}/infer', attrs, parent, SpanKind.SERVER);
  assert.equal(server.isRecording(), false);
  const ctx = withSpan(parent, server);
  for (const name of Object.values(SPAN_NAMES)) {
    const span = startSpan(name, attrs, ctx);
    assert.equal(span.spanContext().traceId, TRACE_ID);
    span.end();
  }
  server.end();
  assert.equal(traceparentOf(ctx), VALID);
  assert.equal(traceparentOf(parent), VALID);
});

test('without an SDK and without a caller trace there is nothing to echo', () => {
  const parent = extractContext({});
  const span = startSpan(SPAN_NAMES.infer, undefined, parent);
  assert.equal(span.spanContext().traceId, INVALID_TRACEID);
  assert.equal(traceparentOf(withSpan(parent, span)), undefined);
});

test('a future-version traceparent is echoed re-written as version 00', () => {
  const ctx = extractContext({ traceparent: `cc-${TRACE_ID}-${PARENT_ID}-03-future` });
  assert.equal(traceparentOf(ctx), `00-${TRACE_ID}-${PARENT_ID}-01`);
});

test('formatTraceparent pads flags', () => {
  assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 0 }), `00-${TRACE_ID}-${PARENT_ID}-00`);
  assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 0x1ff }), `00-${TRACE_ID}-${PARENT_ID}-ff`);
});
