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
}
