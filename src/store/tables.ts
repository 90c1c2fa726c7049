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
  /** Degraded answers (fallbacks); always 0 until fallbacks exist. */
  degraded: number;
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
  drift_results: DriftResultsTable;
  slos: SlosTable;
  sli_counters: SliCountersTable;
}
