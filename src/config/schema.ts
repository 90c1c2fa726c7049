// The typed configuration: one TypeBox schema gives the defaults, the validation and the static type.
import { Type, type Static } from '@sinclair/typebox';

export const BatchingSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Merge concurrent requests into one run. Applies only to models whose every input and output has a dynamic first dimension; turn it off for a model whose rows affect one another.',
    }),
    maxBatchSize: Type.Integer({ minimum: 1, default: 32 }),
    maxQueueDelayMs: Type.Number({
      minimum: 0,
      default: 0,
      description: 'How long a request may wait for others to join its run. 0 (the default) merges only requests already waiting, so no request is delayed; a few ms make larger batches for models that cost per call.',
    }),
    preferredBatchSizes: Type.Array(Type.Integer({ minimum: 1 }), { default: [] }),
  },
  { default: {}, additionalProperties: false, description: 'Dynamic batching, for models whose first dimension is dynamic.' },
);

export const ConfigSchema = Type.Object(
  {
    home: Type.String({ minLength: 1, default: './.modelgate', description: 'Holds the SQLite database, the artifacts and admin.key.' }),
    databaseUrl: Type.Optional(
      Type.String({ pattern: '^postgres(ql)?://', description: 'postgres://… switches the store from SQLite to PostgreSQL.' }),
    ),
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        bodyLimit: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024, description: 'Largest JSON body, in bytes.' }),
        shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 15_000, description: 'On SIGTERM, how long in-flight requests may take to finish.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    auth: Type.Object(
      {
        dataPlane: Type.Union([Type.Literal('on'), Type.Literal('off')], {
          default: 'on',
          description: 'off lets anyone call models without a key: only for trusted networks. The start-up log says so.',
        }),
        keyCacheMs: Type.Integer({ minimum: 0, default: 5000, description: 'How long a checked data-plane key is trusted before the store is asked again (revocation delay).' }),
      },
      { default: {}, additionalProperties: false },
    ),
    serving: Type.Object(
      {
        requestTimeoutMs: Type.Integer({ minimum: 1, default: 30_000, description: 'Deadline of an inference request, queueing included.' }),
        pollIntervalMs: Type.Integer({ minimum: 50, default: 1000, description: 'How often the gateway checks the store for alias moves made elsewhere.' }),
        pinnedIdleMs: Type.Integer({ minimum: 1000, default: 600_000, description: 'A version loaded for /versions/{v} calls is unloaded after this long unused.' }),
        loadRetryMs: Type.Integer({ minimum: 1000, default: 60_000, description: 'Wait before retrying a version that failed to load.' }),
        maxConcurrentRuns: Type.Integer({
          minimum: 1,
          default: 64,
          description:
            'Runs handed to the runtime at once per model version. onnxruntime-node executes them one after another on the main thread, so this bounds how many requests one event-loop turn can serve, not parallelism; 4 cost ~25% of throughput on small models.',
        }),
        maxQueueSize: Type.Integer({ minimum: 1, default: 1024, description: 'Requests waiting per model version before 503 + Retry-After.' }),
        batching: BatchingSchema,
        models: Type.Record(Type.String(), Type.Object({ batching: Type.Optional(BatchingSchema) }, { additionalProperties: false }), {
          default: {},
          description: 'Per model ("weather") or per version ("weather@2") overrides.',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    runtime: Type.Object(
      {
        onnx: Type.Object(
          {
            intraOpNumThreads: Type.Integer({ minimum: 0, default: 0, description: '0 lets onnxruntime choose (one per core).' }),
            interOpNumThreads: Type.Integer({ minimum: 0, default: 0 }),
            graphOptimizationLevel: Type.Union([Type.Literal('disabled'), Type.Literal('basic'), Type.Literal('extended'), Type.Literal('all')], { default: 'all' }),
            executionMode: Type.Union([Type.Literal('sequential'), Type.Literal('parallel')], { default: 'sequential' }),
          },
          { default: {}, additionalProperties: false },
        ),
        js: Type.Object(
          {
            maxOldGenerationSizeMb: Type.Integer({ minimum: 8, default: 128 }),
            timeoutMs: Type.Integer({ minimum: 10, default: 5000 }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    rollout: Type.Object(
      {
        tickMs: Type.Integer({ minimum: 50, default: 1000, description: 'How often the rollout controller moves rollouts along (steps, pauses, analysis).' }),
        statsFlushMs: Type.Integer({ minimum: 50, default: 1000, description: 'How often per-arm request counts and latency samples are written to the store for analysis.' }),
        latencySamples: Type.Integer({ minimum: 10, default: 1000, description: 'Latencies kept per arm per flush (a uniform reservoir sample); counts are always exact.' }),
        statsRetentionMs: Type.Integer({ minimum: 60_000, default: 7 * 86_400_000, description: 'Per-arm statistics older than this are purged.' }),
        controller: Type.Boolean({ default: true, description: 'Run the rollout controller in this process. Several replicas may all run it: every step is applied once, whichever replica gets there first.' }),
      },
      { default: {}, additionalProperties: false },
    ),
    monitoring: Type.Object(
      {
        flushMs: Type.Integer({ minimum: 50, default: 1000, description: 'How often prediction records, sampled payloads and profiles are written to the store (batched, off the request path).' }),
        evaluateMs: Type.Integer({ minimum: 100, default: 60_000, description: 'How often each deployment\'s live drift is computed, stored and exported as gauges.' }),
        purgeMs: Type.Integer({ minimum: 1000, default: 3_600_000, description: 'How often records past their deployment\'s retention are purged.' }),
        maxQueuedRecords: Type.Integer({ minimum: 100, default: 200_000, description: 'Join records held in memory while the store is slow; beyond this they are counted as lost and an alert is raised.' }),
        maxQueuedPayloads: Type.Integer({ minimum: 0, default: 5_000, description: 'Sampled payloads held in memory while the store is slow; beyond this they are shed first (counted).' }),
        salt: Type.Optional(Type.String({ minLength: 16, description: 'Secret for salted hashes (subject keys, hashed fields). Default: a random salt created on first start and kept in the store, shared by replicas.' })),
      },
      { default: {}, additionalProperties: false },
    ),
    alerting: Type.Object(
      {
        evaluateMs: Type.Integer({ minimum: 100, default: 15_000, description: 'How often SLOs and the other alert sources are evaluated, alerts raised or resolved, and the automatic actions taken.' }),
        deliverMs: Type.Integer({ minimum: 50, default: 1000, description: 'How often pending notifications are sent (and failed ones retried).' }),
        sinks: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
          Type.Object(
            {
              type: Type.Union([Type.Literal('webhook'), Type.Literal('slack'), Type.Literal('pagerduty'), Type.Literal('log')]),
              url: Type.Optional(Type.String({ minLength: 1, description: 'webhook, slack, pagerduty: where to POST (pagerduty default: https://events.pagerduty.com/v2/enqueue).' })),
              secret: Type.Optional(Type.String({ minLength: 16, description: 'webhook: the HMAC-SHA256 key for the x-modelgate-signature header. Prefer secretEnv.' })),
              secretEnv: Type.Optional(Type.String({ minLength: 1, description: 'webhook: the environment variable holding the HMAC key.' })),
              routingKey: Type.Optional(Type.String({ minLength: 1, description: 'pagerduty: the integration (routing) key. Prefer routingKeyEnv.' })),
              routingKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
              timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
            },
            { additionalProperties: false },
          ),
          { default: {}, description: 'Where notifications go, by name. The log sink `log` always exists.' },
        ),
        routes: Type.Record(
          Type.String({ minLength: 1 }),
          Type.Object(
            {
              page: Type.Array(Type.String(), { default: [], description: 'Sinks for SEV1 and SEV2 (paging).' }),
              ticket: Type.Array(Type.String(), { default: [], description: 'Sinks for SEV3 (a ticket, handled in business hours).' }),
              escalate: Type.Array(Type.String(), { default: [], description: 'Sinks told when an alert is not acknowledged by its deadline.' }),
            },
            { additionalProperties: false },
          ),
          { default: {}, description: 'Routes by model owner team; `default` takes alerts of teams without a route. SEV4 goes to the log for the weekly review.' },
        ),
        ackDeadline: Type.Object(
          {
            SEV1: Type.Union([Type.String(), Type.Number()], { default: '5m' }),
            SEV2: Type.Union([Type.String(), Type.Number()], { default: '30m' }),
            SEV3: Type.Union([Type.String(), Type.Number()], { default: '3d' }),
          },
          { default: {}, additionalProperties: false, description: 'How long an alert may stay unacknowledged before it is escalated.' },
        ),
        signals: Type.Object(
          {
            windowMs: Type.Integer({ minimum: 60_000, default: 300_000, description: 'The recent window the error-rate and latency alerts look at.' }),
            minRequests: Type.Integer({ minimum: 1, default: 20, description: 'Answers in the window before the error-rate and latency alerts judge a deployment.' }),
            errorRate: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.05, description: 'A SEV2 when more than this share of a deployment\'s answers are server errors.' }),
            latencyMs: Type.Number({ exclusiveMinimum: 0, default: 1000, description: 'Elevated latency (SEV3): answers slower than this (rounded up to a histogram bucket)…' }),
            slowShare: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1, description: '…are more than this share of the window.' }),
            minParityRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: 'A fairness breach (SEV2) when the demographic parity ratio of a sensitive attribute is below this (the four-fifths rule).' }),
            minFairnessRecords: Type.Integer({ minimum: 1, default: 100, description: 'Labelled records before fairness is judged.' }),
            budgetApproached: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'A SEV4 for the weekly review when less than this share of an SLO\'s budget is left.' }),
          },
          { default: {}, additionalProperties: false, description: 'Thresholds of the alert sources other than SLO burn rates.' },
        ),
        retry: Type.Object(
          {
            maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 8 }),
            initialBackoffMs: Type.Integer({ minimum: 10, default: 1000 }),
            maxBackoffMs: Type.Integer({ minimum: 10, default: 300_000 }),
          },
          { default: {}, additionalProperties: false, description: 'Delivery retries, with jittered exponential backoff.' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
    registry: Type.Object(
      {
        maxArtifactBytes: Type.Integer({ minimum: 1, default: 2 * 1024 * 1024 * 1024 }),
        maxReferenceBytes: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024 }),
      },
      { default: {}, additionalProperties: false },
    ),
    owner: Type.Object(
      {
        team: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        contact: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      },
      { default: {}, additionalProperties: false, description: 'Default owner of models registered without --owner; fixed on first start.' },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
