// The secret behind salted hashes (subject keys and `hash` redaction rules). Configured, or created once at
// random and kept in the store's settings, so every replica and every restart hashes a subject the same way
// (which `privacy erase` relies on). It never leaves the process: not in logs, not in the API.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/database.js';

const KEY = 'monitoring.salt';

export async function monitoringSalt(store: Store, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured;
  const db = store.db;
  const found = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirst();
  if (found) return found.value;
  // Two replicas starting together: the first insert wins and both read it back.
  await db.insertInto('settings').values({ key: KEY, value: randomBytes(32).toString('hex') }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirstOrThrow();
  return row.value;
}
