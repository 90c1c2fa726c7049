// Row types of every table, as Kysely sees them. Times are ISO-8601 UTC strings and JSON is stored as text,
// so the same queries run unchanged on SQLite and PostgreSQL.
import type { Generated } from 'kysely';

export interface SettingsTable {
  key: string;
  value: string;
}

export interface ModelsTable {
  id: Generated<number>;
  name: string;
  owner_team: string;
  owner_contact: string | null;
  created_at: string;
  created_by: string;
}

export interface ModelVersionsTable {
  id: Generated<number>;
  model_id: number;
  version: number;
  format: string;
  artifact_sha256: string;
  artifact_size: number;
  signature: string;
  format_info: string;
  features: string | null;
  metadata: string;
  reference_profile: string | null;
  parent_version: number | null;
  owner_team: string;
  owner_contact: string | null;
  status: 'active' | 'archived';
  archived_at: string | null;
  archived_by: string | null;
  created_at: string;
  created_by: string;
}

export interface ModelCardsTable {
  version_id: number;
  revision: number;
  card: string;
  reason: string | null;
  created_at: string;
  created_by: string;
}

export interface AliasesTable {
  model_id: number;
  alias: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface AliasHistoryTable {
  id: Generated<number>;
  model_id: number;
  alias: string;
  from_version: number | null;
  to_version: number | null;
  at: string;
  actor: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  model_patterns: string;
  key_hash: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
}

/** One row (id = 1): the head of the audit chain. Updating it first serialises appenders on both databases. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface DeploymentsTable {
  name: string;
  model: string;
  /** The normalised spec (JSON). */
  spec: string;
  /** The document as applied (JSON), for diff and show. */
  document: string;
  /** The arms taking traffic now (JSON Arm[]): the spec's, or what a rollout or the kill switch set. */
  arms: string;
  kill_switch: number;
  generation: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export interface RolloutsTable {
  id: Generated<number>;
  deployment: string;
  strategy: string;
  from_version: number;
  to_version: number;
  phase: string;
  step: number;
  step_started_at: string;
  /** The steps, compiled when the rollout started (JSON). */
  plan: string;
  /** Analysis results, messages, baseline (JSON). */
  state: string;
  /** Bumped by every change; a change names the revision it read, so no step is applied twice. */
  revision: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  finished_at: string | null;
  bake_until: string | null;
}

export interface RolloutApprovalsTable {
  rollout_id: number;
  step: number;
  actor: string;
  reason: string | null;
  at: string;
}

export interface TrafficLedgerTable {
  id: Generated<number>;
  deployment: string;
  at: string;
  actor: string;
  action: string;
  reason: string | null;
  rollout_id: number | null;
  arms: string;
  /** version → percent of served traffic (JSON). */
  weights: string;
}

export interface ReleaseFreezesTable {
  /** '*' for every deployment, else a deployment name. */
  scope: string;
  reason: string;
  /** 'manual', later 'error-budget'. */
  source: string;
  set_by: string;
  set_at: string;
}

export interface ArmStatsTable {
  id: Generated<number>;
  deployment: string;
  arm: string;
  role: string;
  version: number;
  /** End of the interval these counts cover. */
  at: string;
  replica: string;
  requests: number;
  errors: number;
  /** A bounded sample of request latencies in ms (JSON number[]). */
  latencies: string;
  /** For shadow arms: paired comparison counts (JSON), else null. */
  shadow: string | null;
}

/** The minimal record of every answered row, kept so a label arriving later can be joined to it. */
export interface PredictionRecordsTable {
  request_id: string;
  /** Row within the request (a V1 request with 3 instances has rows 0, 1, 2). */
  row: number;
  deployment: string;
  version: number;
  arm: string;
  at: string;
  /** The predicted label or value (JSON). */
  prediction: string;
  /** The probability of the positive class, when the model gives one. */
  score: number | null;
  /** Slice attribute values (JSON object of strings). */
  slice: string;
  /** Salted hash of the subject key, for erasure; null when the request named none. */
  subject: string | null;
}

/** A sampled request (or a failed one): redacted inputs and outputs. */
export interface PredictionPayloadsTable {
  request_id: string;
  deployment: string;
  version: number | null;
  arm: string | null;
  at: string;
  status: number;
  latency_ms: number;
  subject: string | null;
  /** The request body after redaction (JSON). */
  input: string;
  /** The response outputs (JSON), null when the request failed. */
  output: string | null;
  /** The error code, when it failed. */
  error: string | null;
}

/** Ground truth and business outcomes sent to POST /api/v1/feedback; joined to records when read. */
export interface FeedbackTable {
  id: Generated<number>;
  request_id: string;
  row: number;
  /** The deployment named by the caller, else the joined record's; null until known. */
  deployment: string | null;
  /** JSON label, null when the feedback carries only outcomes. */
  label: string | null;
  /** JSON [{name, value?}], null when none. */
  outcomes: string | null;
  /** When the outcome happened (the caller's time), else when it was received. */
  at: string;
  received_at: string;
  subject: string | null;
}

/** A mergeable profile of one deployment version's inputs and outputs over one time bucket, from one replica. */
export interface MonitorProfilesTable {
  id: Generated<number>;
  deployment: string;
  version: number;
  /** Start of the bucket (ISO). */
  bucket: string;
  replica: string;
  rows: number;
  /** WindowProfile JSON. */
  profile: string;
}

/** Prediction records of one deployment, version and arm in one second, as one replica counted them (its running total). */
export interface PredictionCountsTable {
  id: Generated<number>;
  deployment: string;
  version: number;
  arm: string;
  /** Start of the second (ISO). */
  at: string;
  replica: string;
  n: number;
}

/** One live drift evaluation. */
export interface DriftResultsTable {
  id: Generated<number>;
  deployment: string;
  version: number;
  at: string;
  window_from: string;
  window_to: string;
  rows: number;
  dataset_drift: number;
  drift_share: number;
  /** DriftReport JSON. */
  report: string;
}

/** An applied SLO: the normalised SloSpec and the document as written. */
export interface SlosTable {
  name: string;
  deployment: string;
  /** SloSpec JSON. */
  spec: string;
  /** The SLO document JSON. */
  document: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export type AlertSeverity = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4';

export interface AlertsTable {
  id: Generated<number>;
  /** Source, deployment, version and key hashed: the same condition is one alert however often it is seen. */
  fingerprint: string;
  /** The fingerprint while open, null once resolved (a unique index keeps one open alert per fingerprint). */
  open_fingerprint: string | null;
  source: string;
  severity: AlertSeverity;
  deployment: string | null;
  version: number | null;
  /** `deployment/version` (or `-`): alerts are grouped by it in lists and notifications. */
  group_key: string;
  summary: string;
  /** JSON object: the evidence (burn rates, budget, rollout id, …). */
  details: string;
  /** The route it was sent to (the model owner's, else default). */
  route: string;
  status: 'firing' | 'acknowledged' | 'resolved';
  /** Set when a silence or maintenance window held its notifications back: `silence:<id>`. */
  suppressed_by: string | null;
  occurrences: number;
  opened_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  ack_deadline: string | null;
  acked_by: string | null;
  acked_at: string | null;
  escalated_at: string | null;
  incident_id: number | null;
}

export interface AlertDeliveriesTable {
  id: Generated<number>;
  alert_id: number;
  sink: string;
  /** trigger | acknowledge | resolve | escalate */
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  response_status: number | null;
  created_at: string;
  delivered_at: string | null;
}

export interface SilencesTable {
  id: Generated<number>;
  /** silence | maintenance */
  kind: string;
  /** JSON: { deployment?, source?, severity? } (absent: any). */
  matchers: string;
  reason: string;
  created_by: string;
  created_at: string;
  starts_at: string;
  ends_at: string;
}

export interface IncidentsTable {
  id: Generated<number>;
  deployment: string | null;
  severity: AlertSeverity;
  status: 'open' | 'acknowledged' | 'resolved';
  title: string;
  opened_at: string;
  acked_at: string | null;
  acked_by: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
  /** Markdown, written when the incident is resolved. */
  postmortem: string | null;
}

export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: number;
  at: string;
  /** alert | alert.resolved | action | rollout | deploy | ack | resolve | note */
  kind: string;
  summary: string;
  details: string;
  actor: string;
}

export interface ReviewsTable {
  id: Generated<number>;
  deployment: string;
  model: string;
  version: number;
  request_id: string;
  /** low_confidence | fallback */
  reason: string;
  confidence: number | null;
  /** JSON: the request's inputs, redacted as the deployment's monitoring redacts the prediction log. */
  inputs: string;
  /** JSON: the model's outputs when it answered (low confidence), else null. */
  outputs: string | null;
  status: 'pending' | 'decided';
  /** JSON: the reviewer's label. */
  decision: string | null;
  note: string | null;
  decided_by: string | null;
  decided_at: string | null;
  created_at: string;
}

/** Labelled quality of a deployment version at one evaluation slot (the monitor loop's). */
export interface QualityResultsTable {
  id: Generated<number>;
  deployment: string;
  version: number;
  at: string;
  /** Labelled predictions in the concept window. */
  labelled: number;
  /** Classification accuracy; null for regression or without labels. */
  accuracy: number | null;
  /** JSON: every metric of the evaluation. */
  metrics: string;
}

export interface DeploymentFallbacksTable {
  deployment: string;
  /** manual (an operator) | auto (an SLO policy, lifted by it when the SLO recovers) */
  mode: 'manual' | 'auto';
  reason: string;
  set_by: string;
  set_at: string;
}

/** One replica's running SLI counts for a deployment and minute. */
export interface SliCountersTable {
  id: Generated<number>;
  deployment: string;
  /** Start of the minute (ISO). */
  bucket: string;
  replica: string;
  /** Answers that count for availability (client errors, 4xx, do not). */
  total: number;
  /** Server errors (5xx). */
  errors: number;
  /** Degraded answers (fallback, cache, static default, review queue). */
  degraded: number;
  /** Of the degraded answers, those no arm failed for: switched to the fallback, or sent there on data quality. */
  switched: Generated<number>;
  /** JSON array: answers at or under each DURATION_BUCKETS bound (cumulative, as a histogram's le). */
  latency: string;
}

export interface Tables {
  settings: SettingsTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_cards: ModelCardsTable;
  aliases: AliasesTable;
  alias_history: AliasHistoryTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  deployments: DeploymentsTable;
  rollouts: RolloutsTable;
  rollout_approvals: RolloutApprovalsTable;
  traffic_ledger: TrafficLedgerTable;
  release_freezes: ReleaseFreezesTable;
  arm_stats: ArmStatsTable;
  prediction_records: PredictionRecordsTable;
  prediction_payloads: PredictionPayloadsTable;
  feedback: FeedbackTable;
  monitor_profiles: MonitorProfilesTable;
  prediction_counts: PredictionCountsTable;
  drift_results: DriftResultsTable;
  slos: SlosTable;
  sli_counters: SliCountersTable;
  alerts: AlertsTable;
  alert_deliveries: AlertDeliveriesTable;
  silences: SilencesTable;
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  reviews: ReviewsTable;
  deployment_fallbacks: DeploymentFallbacksTable;
  quality_results: QualityResultsTable;
}
