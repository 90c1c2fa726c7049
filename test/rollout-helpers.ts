// Rollout test plumbing: a bounded load generator that records what every request got, and deployment files.
import { V1 } from './helpers.js';

/** A V1 request by feature name; `month` is read by the example v2 and tolerated by v1 within one deployment. */
export const V1_BODY = JSON.stringify({ instances: [{ precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7 }] });
export const V1_BODY_MONTH = JSON.stringify({ instances: [{ precipitation: 0.3, temp_max: 12.8, temp_min: 5, wind: 4.7, month: 3 }] });

export interface Hit {
  at: number;
  user: string;
  status: number;
  version: string | null;
  arm: string | null;
}

export interface Load {
  hits: Hit[];
  /** Stops the load and resolves when every worker has finished its last request. */
  stop(): Promise<Hit[]>;
}

/**
 * Sends inference requests from `concurrency` workers until stopped or `maxMs` passes (the load always
 * ends by itself). Users are drawn from `users` ids so sticky assignment can be checked per user.
 */
export function startLoad(url: string, key: string, options: { concurrency?: number; users?: number; maxMs?: number; body?: string; headers?: (user: string) => Record<string, string> } = {}): Load {
  const body = options.body ?? V1_BODY;
  const hits: Hit[] = [];
  const end = Date.now() + (options.maxMs ?? 60_000);
  let stopped = false;
  const users = options.users ?? 200;
  let n = 0;
  const worker = async () => {
    while (!stopped && Date.now() < end) {
      const user = `user-${n++ % users}`;
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-user-id': user, ...(options.headers?.(user) ?? {}) }, body });
        await res.arrayBuffer();
        hits.push({ at: Date.now(), user, status: res.status, version: res.headers.get('x-modelgate-version'), arm: res.headers.get('x-modelgate-arm') });
      } catch {
        hits.push({ at: Date.now(), user, status: -1, version: null, arm: null });
      }
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 6 }, worker);
  return {
    hits,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return hits;
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** A Deployment document for `model`, stable on production, with a fast canary for tests. */
export function deploymentDoc(name: string, model: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'modelgate/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      model,
      routingKey: { header: 'x-user-id' },
      arms: [{ version: 'production', weight: 100, role: 'stable' }],
      strategy: {
        canary: { analysisInterval: '1500ms', steps: [{ setWeight: 30 }, { analysis: {} }, { setWeight: 60 }, { analysis: {} }] },
      },
      analysis: { minSamples: 20 },
      bake: '1m',
      ...spec,
    },
  };
}

export const ONNX_V1 = V1.model;
