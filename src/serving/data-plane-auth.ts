// Data-plane authentication with a short-lived cache, so a prediction does not cost a store query.
// A revoked key stops working within auth.keyCacheMs.
import { ModelgateError } from '../errors/index.js';
import { authenticate, type Principal } from '../governance/keys.js';
import type { Store } from '../store/database.js';

export class DataPlaneAuth {
  private readonly cache = new Map<string, { principal: Principal | ModelgateError; at: number }>();

  constructor(private readonly store: Store, private readonly ttlMs: number) {}

  /**
   * The principal for a key checked within the last auth.keyCacheMs, without waiting; undefined when the
   * store must be asked (then call authenticate()). Throws for a missing key or a cached refusal. The hot
   * path calls this first so a cached key costs no promise and no microtask turn.
   */
  cached(header: string | undefined): Principal | undefined {
    const hit = this.cache.get(tokenOf(header));
    if (hit === undefined || Date.now() - hit.at >= this.ttlMs) return undefined;
    if (hit.principal instanceof ModelgateError) throw new ModelgateError(hit.principal.code);
    return hit.principal;
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = tokenOf(header);
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && now - hit.at < this.ttlMs) {
      if (hit.principal instanceof ModelgateError) throw new ModelgateError(hit.principal.code);
      return hit.principal;
    }
    let principal: Principal | ModelgateError;
    try {
      principal = await authenticate(this.store.db, token);
    } catch (e) {
      if (!(e instanceof ModelgateError) || e.status !== 401) throw e;
      principal = e;
    }
    // Bounded: a flood of random keys must not grow memory without limit.
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(token, { principal, at: now });
    if (principal instanceof ModelgateError) throw principal;
    return principal;
  }
}

/** The bearer token of an Authorization header; MG_ERR_AUTH_MISSING_KEY when there is none. */
function tokenOf(header: string | undefined): string {
  if (!header) throw new ModelgateError('MG_ERR_AUTH_MISSING_KEY');
  const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!token) throw new ModelgateError('MG_ERR_AUTH_MISSING_KEY');
  return token;
}
