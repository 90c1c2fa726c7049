// Opens the store: SQLite in $MODELGATE_HOME by default, PostgreSQL when a postgres:// URL is configured.
// Migrations run on open. Everything above this file sees only Kysely<Tables>.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from 'kysely';
import pg from 'pg';
import { ModelgateError } from '../errors/index.js';
import { migrationProvider } from './migrations.js';
import type { Tables } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  /**
   * The SQLite connection itself (SQLite only), for the one bulk write where Kysely's per-statement compile
   * costs more than the write: the prediction log. Use it only inside db.connection().execute(), which holds
   * Kysely's lock on the single connection, so no Kysely transaction is open meanwhile.
   */
  readonly sqlite?: SqliteDatabase.Database;
  /** Human-readable location, with no password. */
  readonly location: string;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  home: string;
  databaseUrl?: string | undefined;
  /** PostgreSQL only: use this schema (created if missing). Tests use one schema per run. */
  schema?: string;
}

// SQLite's default deferred transactions fail with SQLITE_BUSY when two processes (the CLI and a running
// server) both upgrade a read to a write; BEGIN IMMEDIATE takes the write lock up front and waits instead.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

// pg returns BIGINT as a string to be safe beyond 2^53; our bigints are byte sizes and counts, far below that.
const pgTypes = {
  getTypeParser: (oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
};

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store = options.databaseUrl ? await openPostgres(options.databaseUrl, options.schema) : openSqlite(options.home);
  try {
    await migrate(store, options.databaseUrl ? options.schema : undefined);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

function openSqlite(home: string): Store {
  mkdirSync(home, { recursive: true });
  const file = join(home, 'modelgate.db');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', sqlite, location: file, close: () => db.destroy() };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Store> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: pgTypes as never,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const location = redactUrl(url) + (schema ? ` (schema ${schema})` : '');
  try {
    const client = await pool.connect();
    try {
      if (schema) await client.query(`create schema if not exists ${schema}`);
    } finally {
      client.release();
    }
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new ModelgateError('MG_ERR_STORE_UNAVAILABLE', `Cannot connect to PostgreSQL at ${location}: ${(cause as Error).message}`, undefined, { cause });
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', location, close: () => db.destroy() };
}

async function migrate(store: Store, schema: string | undefined): Promise<void> {
  // The migrator's tables are named in the schema explicitly: it otherwise looks for them in every schema,
  // and a run beside others (tests, one schema each) could find another schema's lock table and skip its own.
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect), ...(schema ? { migrationTableSchema: schema } : {}) });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely looks for its tables by introspecting every schema; one dropped meanwhile (another tenant, or a
  // test's) fails that lookup before any migration ran. Nothing was changed then, so it is simply retried.
  for (let attempt = 0; error && attempt < 3 && isOtherSchemaGone(error, schema) && !results?.some((r) => r.status !== 'NotExecuted'); attempt++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ModelgateError('MG_ERR_STORE_MIGRATION_FAILED', `Database migration ${failed} failed on ${store.location}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

function isOtherSchemaGone(error: unknown, schema: string | undefined): boolean {
  const m = /schema "([^"]+)" does not exist/.exec((error as Error).message ?? '');
  return m !== null && m[1] !== schema;
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, so URLs can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
