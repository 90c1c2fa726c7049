// The CLI's view of Modelgate: one interface, two implementations. With a server named (--url or
// MODELGATE_URL) every call goes through the control API; with none, the CLI works directly on the store in
// MODELGATE_HOME with the rights of whoever can write that folder (recorded as local:<user> in the audit log).
import { openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { userInfo } from 'node:os';
import type { Config } from '../config/index.js';
import { createContext, createLogger, type AppContext } from '../context.js';
import { ERROR_CODES, ModelgateError, type ErrorCode } from '../errors/index.js';
import { listAudit, verifyAudit, type AuditEvent, type AuditQuery, type AuditVerification } from '../governance/audit.js';
import { createKey, listKeys, revokeKey, type ApiKeyInfo, type Principal } from '../governance/keys.js';
import { parseMetadataPairs } from '../registry/registry-service.js';
import type { AliasHistoryEntry, AliasInfo, CardRevisionInfo, ModelDetail, ModelSummary, ModelVersionInfo, VersionDiff, WhoAmI } from '../registry/types.js';
import type { ModelCard } from '../registry/card/index.js';
import { parseModelRef } from '../registry/names.js';

export interface RegisterArgs {
  name: string;
  artifact: string;
  card?: string | undefined;
  reference?: string | undefined;
  label?: string | undefined;
  features?: string[] | undefined;
  metadata: string[];
  parent?: string | undefined;
  owner?: string | undefined;
  format?: string | undefined;
}

export type CardView = { model: string; version: number; revision: number; card: ModelCard; markdown: string } & CardRevisionInfo;

export interface ModelgateClient {
  readonly mode: 'local' | 'remote';
  whoami(): Promise<WhoAmI>;
  listModels(): Promise<ModelSummary[]>;
  getModel(name: string): Promise<ModelDetail>;
  getVersion(ref: string): Promise<ModelVersionInfo>;
  register(args: RegisterArgs): Promise<ModelVersionInfo>;
  archive(ref: string): Promise<ModelVersionInfo>;
  setAlias(name: string, alias: string, version: string): Promise<AliasInfo & { previousVersion: number | null }>;
  unsetAlias(name: string, alias: string): Promise<{ alias: string; previousVersion: number }>;
  listAliases(name: string): Promise<{ aliases: AliasInfo[]; history: AliasHistoryEntry[] }>;
  getCard(ref: string, revision?: number): Promise<CardView>;
  cardHistory(ref: string): Promise<CardRevisionInfo[]>;
  reviseCard(ref: string, file: string, reason?: string): Promise<CardRevisionInfo & { model: string; version: number }>;
  diff(name: string, a: string, b: string): Promise<VersionDiff>;
  createKey(name: string, role: string, models: string[]): Promise<ApiKeyInfo & { key: string }>;
  listKeys(all: boolean): Promise<ApiKeyInfo[]>;
  revokeKey(id: string): Promise<ApiKeyInfo>;
  listAudit(q: AuditQuery): Promise<AuditEvent[]>;
  verifyAudit(): Promise<AuditVerification>;
  close(): Promise<void>;
}

export function localPrincipal(): Principal {
  let user = 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // containers without a passwd entry
  }
  return { actor: `local:${user}`, keyId: null, role: 'admin', modelPatterns: [] };
}

export async function openLocalClient(config: Readonly<Config>): Promise<ModelgateClient> {
  const ctx: AppContext = await createContext(config, { logger: createLogger('silent') });
  const p = localPrincipal();
  const { registry, store } = ctx;
  return {
    mode: 'local',
    whoami: async () => ({ actor: p.actor, role: p.role, modelPatterns: p.modelPatterns }),
    listModels: () => registry.listModels(p),
    getModel: (name) => registry.getModel(p, name),
    getVersion: (ref) => registry.getVersion(p, ref),
    register: async (a) =>
      registry.register(p, {
        name: a.name,
        artifact: { path: a.artifact },
        format: a.format,
        card: a.card ? { text: await readText(a.card, 'MG_ERR_CARD_UNREADABLE'), source: a.card } : undefined,
        reference: a.reference ? { path: a.reference } : undefined,
        label: a.label,
        features: a.features,
        metadata: parseMetadataPairs(a.metadata),
        parent: a.parent,
        owner: a.owner,
      }),
    archive: (ref) => registry.archive(p, ref),
    setAlias: (name, alias, version) => registry.setAlias(p, name, alias, version),
    unsetAlias: (name, alias) => registry.unsetAlias(p, name, alias),
    listAliases: (name) => registry.listAliases(p, name),
    getCard: (ref, revision) => registry.getCard(p, ref, revision),
    cardHistory: (ref) => registry.cardHistory(p, ref),
    reviseCard: async (ref, file, reason) => registry.reviseCard(p, ref, { text: await readText(file, 'MG_ERR_CARD_UNREADABLE'), source: file }, reason),
    diff: (name, a, b) => registry.diff(p, name, a, b),
    createKey: async (name, role, models) => {
      const r = await createKey(store.db, { name, role, modelPatterns: models }, p.actor);
      return { key: r.key, ...r.info };
    },
    listKeys: (all) => listKeys(store.db, all),
    revokeKey: (id) => revokeKey(store.db, id, p.actor),
    listAudit: (q) => listAudit(store.db, q),
    verifyAudit: () => verifyAudit(store.db),
    close: () => store.close(),
  };
}

export function openRemoteClient(baseUrl: string, key: string | undefined): ModelgateClient {
  const root = baseUrl.replace(/\/+$/, '') + '/api/v1';
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(root + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (cause) {
      const reason = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message;
      throw new ModelgateError('MG_ERR_CLI_SERVER_UNREACHABLE', `Cannot reach Modelgate at ${baseUrl} (${reason}). Check --url / MODELGATE_URL, or unset it to work on the local store.`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; id?: string; details?: Record<string, unknown> } } | undefined)?.error;
      const code = (err?.code && err.code in ERROR_CODES ? err.code : 'MG_ERR_SERVER_INTERNAL') as ErrorCode;
      throw new ModelgateError(code, err?.message ?? `HTTP ${res.status} from ${baseUrl}`, err?.details, err?.id ? { id: err.id } : {});
    }
    return json as T;
  }
  const ref = (r: string): string => {
    const parsed = parseModelRef(r);
    const sel = parsed.selector.kind === 'number' ? String(parsed.selector.version) : parsed.selector.kind === 'alias' ? parsed.selector.alias : 'latest';
    return `/models/${encodeURIComponent(parsed.model)}/versions/${encodeURIComponent(sel)}`;
  };
  const enc = encodeURIComponent;
  return {
    mode: 'remote',
    whoami: () => call('GET', '/whoami'),
    listModels: () => call('GET', '/models'),
    getModel: (name) => call('GET', `/models/${enc(name)}`),
    getVersion: (r) => call('GET', ref(r)),
    register: async (a) => {
      const form = new FormData();
      form.append('artifact', await fileBlob(a.artifact, 'MG_ERR_ARTIFACT_UNREADABLE'), basename(a.artifact));
      if (a.card) form.append('card', await fileBlob(a.card, 'MG_ERR_CARD_UNREADABLE'), basename(a.card));
      if (a.reference) form.append('reference', await fileBlob(a.reference, 'MG_ERR_REFERENCE_UNREADABLE'), basename(a.reference));
      for (const m of a.metadata) form.append('metadata', m);
      if (a.label) form.append('label', a.label);
      if (a.features) form.append('features', a.features.join(','));
      if (a.parent) form.append('parent', a.parent);
      if (a.owner) form.append('owner', a.owner);
      if (a.format) form.append('format', a.format);
      return call('POST', `/models/${enc(a.name)}/versions`, form);
    },
    archive: (r) => call('POST', `${ref(r)}/archive`),
    setAlias: (name, alias, version) => call('PUT', `/models/${enc(name)}/aliases/${enc(alias)}`, { version }),
    unsetAlias: (name, alias) => call('DELETE', `/models/${enc(name)}/aliases/${enc(alias)}`),
    listAliases: (name) => call('GET', `/models/${enc(name)}/aliases`),
    getCard: (r, revision) => call('GET', `${ref(r)}/card${revision !== undefined ? `?revision=${revision}` : ''}`),
    cardHistory: (r) => call('GET', `${ref(r)}/card/revisions`),
    reviseCard: async (r, file, reason) => call('PUT', `${ref(r)}/card`, { card: await readText(file, 'MG_ERR_CARD_UNREADABLE'), ...(reason ? { reason } : {}) }),
    diff: (name, a, b) => call('GET', `/models/${enc(name)}/diff?a=${enc(a)}&b=${enc(b)}`),
    createKey: (name, role, models) => call('POST', '/keys', { name, role, models }),
    listKeys: (all) => call('GET', `/keys${all ? '?revoked=true' : ''}`),
    revokeKey: (id) => call('DELETE', `/keys/${enc(id)}`),
    listAudit: (q) => {
      const params = new URLSearchParams();
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      if (q.afterSeq !== undefined) params.set('after', String(q.afterSeq));
      if (q.since) params.set('since', q.since);
      if (q.action) params.set('action', q.action);
      if (q.target) params.set('target', q.target);
      const qs = params.toString();
      return call('GET', `/audit${qs ? `?${qs}` : ''}`);
    },
    verifyAudit: () => call('GET', '/audit/verify'),
    close: async () => undefined,
  };
}

async function readText(path: string, code: ErrorCode): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelgateError(code, `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path.`);
  }
}

async function fileBlob(path: string, code: ErrorCode): Promise<Blob> {
  try {
    return await openAsBlob(path);
  } catch (e) {
    throw new ModelgateError(code, `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Check the path.`);
  }
}
