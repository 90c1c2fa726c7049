// API keys: random bearer tokens stored only as sha256 hashes (they are 256-bit random, so a fast hash is
// enough: there is nothing to brute-force). A key has a role and optional model-name patterns.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import picomatch from 'picomatch';
import { ModelgateError } from '../errors/index.js';
import type { Tables } from '../store/tables.js';
import { appendAudit } from './audit.js';
import { isRole, roleAtLeast, type Role } from './roles.js';

export interface Principal {
  /** "key:<id>" for API keys, "local:<user>" for the CLI working directly on the store. */
  actor: string;
  keyId: string | null;
  role: Role;
  /** Empty: every model. */
  modelPatterns: string[];
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  role: Role;
  modelPatterns: string[];
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

const KEY_PREFIX = 'mgk_';
const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const PATTERN_RE = /^[a-z0-9*][a-z0-9._*-]{0,63}$/;

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export async function createKey(
  db: Kysely<Tables>,
  input: { name: string; role: string; modelPatterns?: string[] },
  actor: string,
): Promise<{ key: string; info: ApiKeyInfo }> {
  if (!NAME_RE.test(input.name)) throw new ModelgateError('MG_ERR_KEY_INVALID_NAME', `Invalid key name "${input.name}": use 1 to 64 letters, digits, dots, dashes or underscores.`);
  if (!isRole(input.role)) throw new ModelgateError('MG_ERR_KEY_INVALID_ROLE', `Unknown role "${input.role}". Roles are invoker, viewer, operator, approver and admin.`);
  const patterns = input.modelPatterns ?? [];
  for (const p of patterns) {
    if (!PATTERN_RE.test(p)) throw new ModelgateError('MG_ERR_KEY_INVALID_PATTERN', `Invalid model pattern "${p}": use a model name with * wildcards, e.g. fraud-*.`);
  }
  const id = `key_${randomBytes(6).toString('hex')}`;
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const now = new Date().toISOString();
  const row = { id, name: input.name, role: input.role, model_patterns: JSON.stringify(patterns), key_hash: hashKey(key), created_at: now, created_by: actor, revoked_at: null, revoked_by: null };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('api_keys').values(row).execute();
    // Never the key itself: the audit log is readable by approvers.
    await appendAudit(trx, { actor, action: 'key.create', target: `key/${id}`, details: { name: input.name, role: input.role, modelPatterns: patterns } }, now);
  });
  return { key, info: toInfo(row) };
}

export async function listKeys(db: Kysely<Tables>, includeRevoked = false): Promise<ApiKeyInfo[]> {
  let q = db.selectFrom('api_keys').selectAll().orderBy('created_at', 'asc');
  if (!includeRevoked) q = q.where('revoked_at', 'is', null);
  return (await q.execute()).map(toInfo);
}

export async function revokeKey(db: Kysely<Tables>, id: string, actor: string): Promise<ApiKeyInfo> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ModelgateError('MG_ERR_KEY_NOT_FOUND', `No API key has id "${id}". List keys with \`modelgate keys list\`.`);
    if (row.revoked_at) throw new ModelgateError('MG_ERR_KEY_ALREADY_REVOKED', `Key ${id} was already revoked at ${row.revoked_at}.`);
    const now = new Date().toISOString();
    await trx.updateTable('api_keys').set({ revoked_at: now, revoked_by: actor }).where('id', '=', id).execute();
    await appendAudit(trx, { actor, action: 'key.revoke', target: `key/${id}`, details: { name: row.name, role: row.role } }, now);
    return toInfo({ ...row, revoked_at: now, revoked_by: actor });
  });
}

/** Resolves a bearer token to its principal, or throws MG_ERR_AUTH_*. */
export async function authenticate(db: Kysely<Tables>, token: string | undefined): Promise<Principal> {
  if (!token) throw new ModelgateError('MG_ERR_AUTH_MISSING_KEY');
  const row = await db.selectFrom('api_keys').selectAll().where('key_hash', '=', hashKey(token)).executeTakeFirst();
  if (!row || row.revoked_at) throw new ModelgateError('MG_ERR_AUTH_INVALID_KEY');
  const info = toInfo(row);
  return { actor: `key:${info.id}`, keyId: info.id, role: info.role, modelPatterns: info.modelPatterns };
}

export function requireRole(p: Principal, need: Role): void {
  if (!roleAtLeast(p.role, need)) {
    throw new ModelgateError('MG_ERR_AUTH_FORBIDDEN', `This action needs the ${need} role (or higher); the key has the ${p.role} role.`, { need, have: p.role });
  }
}

export function canSeeModel(p: Principal, model: string): boolean {
  return p.modelPatterns.length === 0 || picomatch.isMatch(model, p.modelPatterns);
}

export function requireModel(p: Principal, model: string): void {
  if (!canSeeModel(p, model)) {
    throw new ModelgateError('MG_ERR_AUTH_MODEL_OUT_OF_SCOPE', `This key is limited to models matching ${p.modelPatterns.join(', ')}; "${model}" is not one of them.`);
  }
}

/**
 * First start: when no key exists at all, create an admin key and write it to $MODELGATE_HOME/admin.key
 * (mode 0600). Returns the key only when it was created now, so the caller prints it exactly once.
 */
export async function bootstrapAdminKey(db: Kysely<Tables>, home: string): Promise<{ key: string; file: string } | null> {
  const any = await db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const { key } = await createKey(db, { name: 'admin', role: 'admin' }, 'system:bootstrap');
  mkdirSync(home, { recursive: true });
  const file = join(home, 'admin.key');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file };
}

export function adminKeyFile(home: string): string | null {
  const file = join(home, 'admin.key');
  return existsSync(file) ? file : null;
}

function toInfo(r: Tables['api_keys']): ApiKeyInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    modelPatterns: JSON.parse(r.model_patterns) as string[],
    createdAt: r.created_at,
    createdBy: r.created_by,
    revokedAt: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}
