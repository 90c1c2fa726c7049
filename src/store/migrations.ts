// Schema migrations, in code so they ship inside the compiled package. Run on every start; each runs once.
// Append new migrations at the end; never edit one that has shipped.
import { type Kysely, type Migration, type MigrationProvider } from 'kysely';
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
  };
  return { getMigrations: async () => migrations };
}
