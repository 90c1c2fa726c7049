// `spec.resilience` of a Deployment: what the request path does when a version fails or is slow (retries
// under a retry budget, a circuit breaker per version), the fallback chain that answers instead (another
// version, a simpler model such as a `js` rule model, a cached response, a static default, the human review
// queue), the opt-in response cache, and the confidence below which a prediction is also queued for review.
// `spec.policy`: the automatic actions SLOs may take for the deployment.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Duration = (description: string, fallback: string) => Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], { description, default: fallback });
const VersionRef = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], { description: 'A version number or an alias.' });

export const FallbackStepSchema = Type.Union([
  Type.Object({ kind: Type.Literal('version'), version: VersionRef }, { additionalProperties: false, description: 'Another version of the deployment\'s model.' }),
  Type.Object({ kind: Type.Literal('model'), model: Type.String({ minLength: 1 }), version: VersionRef }, { additionalProperties: false, description: 'Another model taking the same inputs, e.g. a simpler `js` rule model.' }),
  Type.Object({ kind: Type.Literal('cache') }, { additionalProperties: false, description: 'The last answer to the same input (needs resilience.cache.enabled).' }),
  Type.Object(
    {
      kind: Type.Literal('static'),
      outputs: Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            datatype: Type.Union([Type.Literal('FP32'), Type.Literal('FP64'), Type.Literal('INT32'), Type.Literal('INT64'), Type.Literal('BYTES'), Type.Literal('BOOL')]),
            data: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()]), { minItems: 1, description: 'One row\'s values; repeated for every row of the request.' }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    },
    { additionalProperties: false, description: 'A fixed default answer.' },
  ),
  Type.Object({ kind: Type.Literal('review') }, { additionalProperties: false, description: 'Queue the request for a human decision; answered 202 with the review id (never as a prediction).' }),
]);

export const ResilienceSchema = Type.Object(
  {
    retries: Type.Object(
      {
        maxAttempts: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Attempts on the chosen version, the first included (1: no retry).' }),
        backoffMs: Type.Number({ minimum: 0, default: 25, description: 'Base of the jittered exponential backoff between attempts.' }),
        maxBackoffMs: Type.Number({ minimum: 0, default: 250 }),
        budgetRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.1, description: 'Retries may add at most this share of the requests of the last 10 seconds, so retries cannot multiply load during an outage.' }),
        minPerSecond: Type.Number({ minimum: 0, default: 1, description: 'Retries always allowed per second, whatever the ratio (low traffic).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    circuitBreaker: Type.Object(
      {
        enabled: Type.Optional(
          Type.Boolean({ description: 'Default: on when the deployment has a fallback chain. Without one an open circuit only turns a flaky version\'s failures into refusals, so it is off unless asked for (e.g. to shed load from a struggling version).' }),
        ),
        window: Duration('Outcomes counted for the error rate.', '30s'),
        minRequests: Type.Integer({ minimum: 1, default: 20, description: 'Requests in the window before the error rate can open the circuit.' }),
        errorRate: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.5 }),
        consecutiveFailures: Type.Integer({ minimum: 1, default: 5 }),
        openFor: Duration('How long an open circuit refuses requests before letting probes through.', '30s'),
        halfOpenProbes: Type.Integer({ minimum: 1, default: 3, description: 'Successful probes that close the circuit again (one failure reopens it).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    fallback: Type.Array(FallbackStepSchema, { default: [], maxItems: 8, description: 'Tried in order when the chosen version fails (after retries) or its circuit is open, and for every request while the deployment is switched to fallback.' }),
    cache: Type.Object(
      {
        enabled: Type.Boolean({ default: false }),
        ttl: Duration('How long an answer is kept.', '5m'),
        maxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
        serveHits: Type.Boolean({ default: false, description: 'Answer a repeated input from the cache without running the model (else the cache serves only as a fallback).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    review: Type.Optional(
      Type.Object(
        {
          confidenceBelow: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'A prediction whose top probability is below this is queued for a human decision (and answered as usual).' }),
          output: Type.Optional(Type.String({ minLength: 1, description: 'The probability output (default: the first FP32/FP64 output whose name contains "prob" and holds probabilities, else the first FP32/FP64 output of two or more columns whose rows each sum to 1).' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { default: {}, additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    rollbackOnPage: Type.Boolean({ default: true, description: 'A page-level burn of an SLO of this deployment during a rollout aborts it and rolls back.' }),
    freezeOnBudgetExhausted: Type.Boolean({ default: true, description: 'An exhausted error budget freezes releases (source error-budget) until it recovers.' }),
    fallbackOnBreach: Type.Boolean({ default: true, description: 'While an SLO pages, traffic goes to the fallback chain (when the deployment has one).' }),
  },
  { default: {}, additionalProperties: false },
);

export type ResilienceSpec = Static<typeof ResilienceSchema>;
export type FallbackStep = Static<typeof FallbackStepSchema>;
export type PolicySpec = Static<typeof PolicySchema>;

/** The resilience section of a stored spec, defaults filled (specs stored before it existed have none). */
export function resilienceOf(spec: { resilience?: unknown }): ResilienceSpec {
  return Value.Default(ResilienceSchema, Value.Clone(spec.resilience ?? {})) as ResilienceSpec;
}

/** The policy section of a stored spec, defaults filled. */
export function policyOf(spec: { policy?: unknown }): PolicySpec {
  return Value.Default(PolicySchema, Value.Clone(spec.policy ?? {})) as PolicySpec;
}
