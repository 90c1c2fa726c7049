// With a tracer provider registered, as an SDK preload would do. Its own file, so its own process:
// the global provider (and the API's cached delegate tracer) cannot leak into tracing.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, SpanContext, Tracer, TracerProvider } from '@opentelemetry/api';
import { ATTR_MODEL_NAME, SPAN_NAMES, extractContext, modelAttributes, startSpan, traceparentOf, withSpan } from './tracing.js';

interface Recorded {
  name: string;
  kind: SpanKind | undefined;
  attributes: Attributes | undefined;
  context: SpanContext;
  parentSpanId: string | undefined;
  ended: boolean;
}

// The least an SDK does that matters here: new span ids in the parent's trace, and recording.
class RecordingTracer implements Tracer {
  readonly spans: Recorded[] = [];

  startSpan(name: string, options: { kind?: SpanKind; attributes?: Attributes } = {}, ctx?: Context): Span {
    const parent = ctx ? trace.getSpanContext(ctx) : undefined;
    const context: SpanContext = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: parent?.traceFlags ?? TraceFlags.SAMPLED,
    };
    const rec: Recorded = { name, kind: options.kind, attributes: options.attributes, context, parentSpanId: parent?.spanId, ended: false };
    this.spans.push(rec);
    const span: Span = {
      spanContext: () => context,
      setAttribute: () => span,
      setAttributes: () => span,
      addEvent: () => span,
      addLink: () => span,
      addLinks: () => span,
      setStatus: () => span,
      updateName: () => span,
      end: () => {
        rec.ended = true;
      },
      isRecording: () => !rec.ended,
      recordException: () => undefined,
    };
    return span;
  }

  startActiveSpan(): never {
    throw new Error('not used by the gateway');
  }
}

const tracer = new RecordingTracer();
const provider: TracerProvider = { getTracer: () => tracer };
trace.setGlobalTracerProvider(provider);

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER = `00-${TRACE_ID}-b7ad6b7169203331-01`;

test('with an SDK the spans join the caller trace and the response carries our span id', () => {
  const parent = extractContext({ traceparent: CALLER });
  const attrs = modelAttributes('resnet', '3');
  const server = startSpan('POST /v2/models/{name}/infer', attrs, parent, SpanKind.SERVER);
  const ctx = withSpan(parent, server);
  const stages = Object.values(SPAN_NAMES).map((name) => startSpan(name, attrs, ctx));
  for (const s of stages) s.end();

  const recorded = tracer.spans;
  assert.equal(recorded.length, 5);
  assert.equal(recorded[0]!.kind, SpanKind.SERVER);
  assert.equal(recorded[0]!.parentSpanId, 'b7ad6b7169203331');
  assert.equal(recorded[0]!.attributes?.[ATTR_MODEL_NAME], 'resnet');
  for (const r of recorded.slice(1)) {
    assert.equal(r.context.traceId, TRACE_ID);
    assert.equal(r.parentSpanId, server.spanContext().spanId);
    assert.equal(r.kind, SpanKind.INTERNAL);
    assert.equal(r.ended, true);
  }
  assert.deepEqual(recorded.slice(1).map((r) => r.name), ['modelgate.parse', 'modelgate.validate', 'modelgate.queue', 'modelgate.infer']);

  assert.equal(traceparentOf(ctx), `00-${TRACE_ID}-${server.spanContext().spanId}-01`);
  // Before our span is set, there is only the caller's to report.
  assert.equal(traceparentOf(parent), CALLER);
});

test('with an SDK but no caller trace, no traceparent is sent back', () => {
  const parent = extractContext({});
  const ctx = withSpan(parent, startSpan(SPAN_NAMES.infer, undefined, parent));
  assert.ok(trace.getSpanContext(ctx));
  assert.equal(traceparentOf(ctx), undefined);
});
