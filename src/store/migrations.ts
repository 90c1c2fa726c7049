// Schema migrations, in code so they ship inside the compiled package. Run on every start; each runs once.
// Append new migrations at the end; never edit one that has shipped.
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './database.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function migrationProvider(dialect: Dialect): MigrationProvider {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const migrations: Record<string, Migration> = {
    '0001_registry': {
      async up(db: AnyDb) {
        await db.schema.createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('models')
          .addColumn('id', id, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('owner_team', 'text', (c) => c.notNull())
          .addColumn('owner_contact', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('model_versions')
          .addColumn('id', id, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('model_id', 'integer', (c) => c.notNull().references('models.id'))
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('format', 'text', (c) => c.notNull())
          .addColumn('artifact_sha256', 'text', (c) => c.notNull())
          .addColumn('artifact_size', big, (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .addColumn('format_info', 'text', (c) => c.notNull())
          .addColumn('features', 'text')
          .addColumn('metadata', 'text', (c) => c.notNull())
          .addColumn('reference_profile', 'text')
          .addColumn('parent_version', 'integer')
          .addColumn('owner_team', 'text', (c) => c.notNull())
          .addColumn('owner_contact', 'text')
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
          .addColumn('archived_at', 'text')
          .addColumn('archived_by', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addUniqueConstraint('model_versions_model_version_unique', ['model_id', 'version'])
          .execute();
        await db.schema.createIndex('model_versions_sha256_idx').on('model_versions').column('artifact_sha256').execute();
        await db.schema.createTable('model_cards')
          .addColumn('version_id', 'integer', (c) => c.notNull().references('model_versions.id'))
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('card', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('model_cards_pk', ['version_id', 'revision'])
          .execute();
        await db.schema.createTable('aliases')
          .addColumn('model_id', 'integer', (c) => c.notNull().references('models.id'))
          .addColumn('alias', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('aliases_pk', ['model_id', 'alias'])
          .execute();
        await db.schema.createTable('alias_history')
          .addColumn('id', id, (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('model_id', 'integer', (c) => c.notNull().references('models.id'))
          .addColumn('alias', 'text', (c) => c.notNull())
          .addColumn('from_version', 'integer')
          .addColumn('to_version', 'integer')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('api_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('model_patterns', 'text', (c) => c.notNull())
          .addColumn('key_hash', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .addColumn('revoked_by', 'text')
          .execute();
        await db.schema.createTable('audit_events')
          .addColumn('seq', 'integer', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('audit_head')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.insertInto('audit_head').values({ id: 1, seq: 0, hash: '0'.repeat(64) }).execute();
      },
    },
    '0002_rollouts': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        await db.schema.createTable('deployments')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('arms', 'text', (c) => c.notNull())
          .addColumn('kill_switch', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('generation', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('rollouts')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('strategy', 'text', (c) => c.notNull())
          .addColumn('from_version', 'integer', (c) => c.notNull())
          .addColumn('to_version', 'integer', (c) => c.notNull())
          .addColumn('phase', 'text', (c) => c.notNull())
          .addColumn('step', 'integer', (c) => c.notNull())
          .addColumn('step_started_at', 'text', (c) => c.notNull())
          .addColumn('plan', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('revision', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .addColumn('bake_until', 'text')
          .execute();
        await db.schema.createIndex('rollouts_deployment_idx').on('rollouts').columns(['deployment', 'id']).execute();
        await db.schema.createTable('rollout_approvals')
          .addColumn('rollout_id', 'integer', (c) => c.notNull())
          .addColumn('step', 'integer', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('rollout_approvals_pk', ['rollout_id', 'step', 'actor'])
          .execute();
        await db.schema.createTable('traffic_ledger')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('rollout_id', 'integer')
          .addColumn('arms', 'text', (c) => c.notNull())
          .addColumn('weights', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('traffic_ledger_deployment_idx').on('traffic_ledger').columns(['deployment', 'at']).execute();
        await db.schema.createTable('release_freezes')
          .addColumn('scope', 'text', (c) => c.primaryKey())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('set_by', 'text', (c) => c.notNull())
          .addColumn('set_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('arm_stats')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('replica', 'text', (c) => c.notNull())
          .addColumn('requests', 'integer', (c) => c.notNull())
          .addColumn('errors', 'integer', (c) => c.notNull())
          .addColumn('latencies', 'text', (c) => c.notNull())
          .addColumn('shadow', 'text')
          .execute();
        await db.schema.createIndex('arm_stats_deployment_idx').on('arm_stats').columns(['deployment', 'at']).execute();
      },
    },
    '0003_monitoring': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        const real = dialect === 'postgres' ? 'double precision' : 'real';
        await db.schema.createTable('prediction_records')
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('row', 'integer', (c) => c.notNull())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('prediction', 'text', (c) => c.notNull())
          .addColumn('score', real)
          .addColumn('slice', 'text', (c) => c.notNull())
          .addColumn('subject', 'text')
          .addPrimaryKeyConstraint('prediction_records_pk', ['request_id', 'row'])
          .execute();
        await db.schema.createIndex('prediction_records_deployment_idx').on('prediction_records').columns(['deployment', 'at']).execute();
        // Erasure looks records up by subject. On SQLite the index would cost a random B-tree insert per record on
        // the event loop (measured 17-41 µs a record against 5 µs without it), so erasing scans instead there.
        if (dialect === 'postgres') await db.schema.createIndex('prediction_records_subject_idx').on('prediction_records').column('subject').execute();
        await db.schema.createTable('prediction_payloads')
          .addColumn('request_id', 'text', (c) => c.primaryKey())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer')
          .addColumn('arm', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('status', 'integer', (c) => c.notNull())
          .addColumn('latency_ms', real, (c) => c.notNull())
          .addColumn('subject', 'text')
          .addColumn('input', 'text', (c) => c.notNull())
          .addColumn('output', 'text')
          .addColumn('error', 'text')
          .execute();
        await db.schema.createIndex('prediction_payloads_deployment_idx').on('prediction_payloads').columns(['deployment', 'at']).execute();
        await db.schema.createIndex('prediction_payloads_subject_idx').on('prediction_payloads').column('subject').execute();
        await db.schema.createTable('feedback')
          .addColumn('id', id, pk)
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('row', 'integer', (c) => c.notNull())
          .addColumn('deployment', 'text')
          .addColumn('label', 'text')
          .addColumn('outcomes', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('subject', 'text')
          .execute();
        await db.schema.createIndex('feedback_request_idx').on('feedback').columns(['request_id', 'row']).execute();
        await db.schema.createIndex('feedback_received_idx').on('feedback').column('received_at').execute();
        await db.schema.createTable('monitor_profiles')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('bucket', 'text', (c) => c.notNull())
          .addColumn('replica', 'text', (c) => c.notNull())
          .addColumn('rows', 'integer', (c) => c.notNull())
          .addColumn('profile', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('monitor_profiles_bucket_unique').unique().on('monitor_profiles').columns(['deployment', 'version', 'bucket', 'replica']).execute();
        await db.schema.createIndex('monitor_profiles_deployment_idx').on('monitor_profiles').columns(['deployment', 'bucket']).execute();
        await db.schema.createTable('drift_results')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('window_from', 'text', (c) => c.notNull())
          .addColumn('window_to', 'text', (c) => c.notNull())
          .addColumn('rows', 'integer', (c) => c.notNull())
          .addColumn('dataset_drift', 'integer', (c) => c.notNull())
          .addColumn('drift_share', real, (c) => c.notNull())
          .addColumn('report', 'text', (c) => c.notNull())
          .execute();
        // One evaluation per deployment, version and slot, whichever replica computes it first.
        await db.schema.createIndex('drift_results_slot_unique').unique().on('drift_results').columns(['deployment', 'version', 'at']).execute();
      },
    },
    '0004_slos': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        await db.schema.createTable('slos')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('spec', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('sli_counters')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('bucket', 'text', (c) => c.notNull())
          .addColumn('replica', 'text', (c) => c.notNull())
          .addColumn('total', big, (c) => c.notNull())
          .addColumn('errors', big, (c) => c.notNull())
          .addColumn('degraded', big, (c) => c.notNull())
          .addColumn('latency', 'text', (c) => c.notNull())
          .execute();
        // One running total per replica and minute; any window adds the replicas up.
        await db.schema.createIndex('sli_counters_bucket_unique').unique().on('sli_counters').columns(['deployment', 'bucket', 'replica']).execute();
        await db.schema.createIndex('sli_counters_bucket_idx').on('sli_counters').column('bucket').execute();
      },
    },
    '0005_alerts_incidents': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        await db.schema.createTable('alerts')
          .addColumn('id', id, pk)
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          // The fingerprint while the alert is open, null once resolved: one open alert per fingerprint.
          .addColumn('open_fingerprint', 'text')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('deployment', 'text')
          .addColumn('version', 'integer')
          .addColumn('group_key', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('route', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('suppressed_by', 'text')
          .addColumn('occurrences', 'integer', (c) => c.notNull())
          .addColumn('opened_at', 'text', (c) => c.notNull())
          .addColumn('last_seen_at', 'text', (c) => c.notNull())
          .addColumn('resolved_at', 'text')
          .addColumn('ack_deadline', 'text')
          .addColumn('acked_by', 'text')
          .addColumn('acked_at', 'text')
          .addColumn('escalated_at', 'text')
          .addColumn('incident_id', 'integer')
          .execute();
        await db.schema.createIndex('alerts_open_fingerprint_unique').unique().on('alerts').column('open_fingerprint').execute();
        await db.schema.createIndex('alerts_deployment_idx').on('alerts').columns(['deployment', 'opened_at']).execute();
        await db.schema.createTable('alert_deliveries')
          .addColumn('id', id, pk)
          .addColumn('alert_id', 'integer', (c) => c.notNull())
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('event', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull())
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('response_status', 'integer')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('delivered_at', 'text')
          .execute();
        await db.schema.createIndex('alert_deliveries_due_idx').on('alert_deliveries').columns(['status', 'next_attempt_at']).execute();
        await db.schema.createIndex('alert_deliveries_alert_idx').on('alert_deliveries').column('alert_id').execute();
        await db.schema.createTable('silences')
          .addColumn('id', id, pk)
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('matchers', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('starts_at', 'text', (c) => c.notNull())
          .addColumn('ends_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createTable('incidents')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text')
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'text', (c) => c.notNull())
          .addColumn('acked_at', 'text')
          .addColumn('acked_by', 'text')
          .addColumn('resolved_at', 'text')
          .addColumn('resolved_by', 'text')
          .addColumn('resolution', 'text')
          .addColumn('postmortem', 'text')
          .execute();
        await db.schema.createIndex('incidents_deployment_idx').on('incidents').columns(['deployment', 'status']).execute();
        await db.schema.createTable('incident_events')
          .addColumn('id', id, pk)
          .addColumn('incident_id', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('incident_events_incident_idx').on('incident_events').columns(['incident_id', 'at']).execute();
        await db.schema.createTable('reviews')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('model', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('confidence', 'real')
          .addColumn('inputs', 'text', (c) => c.notNull())
          .addColumn('outputs', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('decision', 'text')
          .addColumn('note', 'text')
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('reviews_status_idx').on('reviews').columns(['status', 'created_at']).execute();
        await db.schema.createIndex('reviews_request_unique').unique().on('reviews').columns(['deployment', 'request_id']).execute();
        // Degraded answers given while the deployment was switched to its fallback (no arm was asked), apart
        // from those that rescued an arm's failure: the fallback policy watches the arms' failures alone.
        await db.schema.alterTable('sli_counters').addColumn('switched', big, (c) => c.notNull().defaultTo(0)).execute();
        // A deployment switched to its fallback chain, by hand (mode manual) or by an SLO policy (mode auto).
        await db.schema.createTable('deployment_fallbacks')
          .addColumn('deployment', 'text', (c) => c.primaryKey())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('set_by', 'text', (c) => c.notNull())
          .addColumn('set_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0006_quality_results': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        const real = dialect === 'postgres' ? 'double precision' : 'real';
        // Labelled quality per deployment, version and evaluation slot, as the monitor loop computed it: what
        // an accuracy SLO's good time is read from.
        await db.schema.createTable('quality_results')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('labelled', 'integer', (c) => c.notNull())
          .addColumn('accuracy', real)
          .addColumn('metrics', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('quality_results_slot_unique').unique().on('quality_results').columns(['deployment', 'version', 'at']).execute();
      },
    },
    '0007_prediction_counts': {
      async up(db: AnyDb) {
        const pk = (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()); // eslint-disable-line @typescript-eslint/no-explicit-any
        // Prediction records per deployment, version, arm and second, each replica's running total: the labelled
        // quality report's denominators. Counting the records themselves scanned every record in the window on
        // each evaluation (150 ms for 300,000 on SQLite, on the event loop; a 24-hour window at 100 requests a
        // second holds 8.6 million).
        await db.schema.createTable('prediction_counts')
          .addColumn('id', id, pk)
          .addColumn('deployment', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('arm', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('replica', 'text', (c) => c.notNull())
          .addColumn('n', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('prediction_counts_unique').unique().on('prediction_counts').columns(['deployment', 'at', 'version', 'arm', 'replica']).execute();
        // The records already stored, counted once (ISO times: the first 19 characters are the second).
        await sql`INSERT INTO prediction_counts (deployment, version, arm, at, replica, n) SELECT deployment, version, arm, substr(at, 1, 19) || '.000Z', 'migrated', COUNT(*) FROM prediction_records GROUP BY deployment, version, arm, substr(at, 1, 19)`.execute(db);
      },
    },
  };
  return { getMigrations: async () => migrations };
}
