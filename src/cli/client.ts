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
import type { ApplyResult, DeploymentInfo, DeploymentService } from '../rollout/deployment-service.js';
import { parseDeploymentFiles } from '../rollout/deployment-spec.js';
import { parseSloFiles } from '../slo/slo-spec.js';
import type { GateReport } from '../rollout/gates.js';
import type { FreezeInfo, RolloutStatus, StartOptions } from '../rollout/rollout-service.js';
import type { EraseResult, MonitoringService } from '../monitoring/monitoring-service.js';
import type { LiveDrift } from '../monitoring/live-drift.js';
import type { QualityReport } from '../monitoring/labelled-quality.js';
import type { FeedbackResult } from '../monitoring/feedback.js';
import type { SloApplyResult, SloInfo, SloStatus } from '../slo/slo-service.js';
import type { AlertDetail, AlertInfo, AlertListFilter, SilenceInfo, SilenceInput } from '../alerts/types.js';
import type { IncidentDetail, IncidentInfo, IncidentListQuery } from '../incidents/incident-service.js';
import type { ReviewInfo, ReviewListQuery } from '../reviews/review-service.js';

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

/** A deployment file's text and what to call it in messages (its path, or stdin). */
export interface DeploymentFileText {
  text: string;
  source: string;
}

export type TrafficHistory = Awaited<ReturnType<DeploymentService['history']>>;

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
  applyDeployments(file: DeploymentFileText, dryRun: boolean): Promise<ApplyResult[]>;
  diffDeployments(file: DeploymentFileText): Promise<ApplyResult[]>;
  listDeployments(): Promise<DeploymentInfo[]>;
  getDeployment(name: string): Promise<DeploymentInfo>;
  deleteDeployment(name: string): Promise<{ name: string; deleted: true }>;
  killDeployment(name: string, on: boolean, reason?: string): Promise<DeploymentInfo>;
  fallbackDeployment(name: string, on: boolean, reason?: string): Promise<DeploymentInfo>;
  deploymentHistory(name: string, at?: string): Promise<TrafficHistory>;
  rolloutStatus(deployment: string): Promise<RolloutStatus>;
  listRollouts(deployment: string): Promise<RolloutStatus[]>;
  startRollout(deployment: string, o: StartOptions): Promise<RolloutStatus>;
  checkRollout(deployment: string, to: string): Promise<GateReport>;
  pauseRollout(deployment: string, reason?: string): Promise<RolloutStatus>;
  resumeRollout(deployment: string): Promise<RolloutStatus>;
  promoteRollout(deployment: string, o: { full?: boolean; overrideFreeze?: string | undefined }): Promise<RolloutStatus>;
  approveRollout(deployment: string, reason?: string): Promise<RolloutStatus>;
  abortRollout(deployment: string, reason?: string): Promise<RolloutStatus>;
  rollbackRollout(deployment: string, reason?: string): Promise<RolloutStatus>;
  listFreezes(): Promise<FreezeInfo[]>;
  /** scope: `*` for every deployment, or a deployment name. */
  setFreeze(scope: string, reason: string): Promise<FreezeInfo>;
  liftFreeze(scope: string): Promise<{ scope: string; lifted: boolean }>;
  liveDrift(deployment: string, q: WindowQuery): Promise<LiveDrift>;
  driftHistory(deployment: string, limit?: number): Promise<Awaited<ReturnType<MonitoringService['driftHistory']>>>;
  quality(deployment: string, q: WindowQuery): Promise<QualityReport>;
  predictions(deployment: string, limit?: number): Promise<Awaited<ReturnType<MonitoringService['payloads']>>>;
  sendFeedback(body: unknown): Promise<FeedbackResult>;
  erase(subject: string): Promise<EraseResult>;
  applySlos(file: DeploymentFileText): Promise<SloApplyResult[]>;
  listSlos(): Promise<SloInfo[]>;
  /** Every SLO, or the one named. */
  sloStatus(name?: string): Promise<SloStatus[]>;
  deleteSlo(name: string): Promise<{ name: string; deleted: true }>;
  listAlerts(filter: AlertListFilter): Promise<AlertInfo[]>;
  getAlert(id: number): Promise<AlertDetail>;
  ackAlert(id: number, note?: string): Promise<AlertInfo>;
  createSilence(input: SilenceInput): Promise<SilenceInfo>;
  listSilences(includeExpired: boolean): Promise<SilenceInfo[]>;
  expireSilence(id: number): Promise<SilenceInfo>;
  listIncidents(q: IncidentListQuery): Promise<IncidentInfo[]>;
  getIncident(id: number): Promise<IncidentDetail>;
  ackIncident(id: number, note?: string): Promise<IncidentInfo>;
  resolveIncident(id: number, resolution?: string): Promise<IncidentInfo & { postmortem: string }>;
  listReviews(q: ReviewListQuery): Promise<ReviewInfo[]>;
  getReview(id: number): Promise<ReviewInfo>;
  decideReview(id: number, label: number | string, note?: string): Promise<ReviewInfo & { feedback: FeedbackResult }>;
  close(): Promise<void>;
}

export interface WindowQuery {
  window?: string | undefined;
  to?: string | undefined;
  against?: 'reference' | 'previous' | undefined;
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
  const { registry, store, deployments, rollouts } = ctx;
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
    applyDeployments: (f, dryRun) => deployments.apply(p, parseDeploymentFiles(f.text, f.source), { dryRun, source: f.source }),
    diffDeployments: (f) => deployments.diff(p, parseDeploymentFiles(f.text, f.source), f.source),
    listDeployments: () => deployments.list(p),
    getDeployment: (name) => deployments.get(p, name),
    deleteDeployment: (name) => deployments.remove(p, name),
    killDeployment: (name, on, reason) => deployments.kill(p, name, on, reason),
    fallbackDeployment: (name, on, reason) => deployments.fallback(p, name, on, reason),
    deploymentHistory: (name, at) => deployments.history(p, name, at),
    rolloutStatus: (d) => rollouts.status(p, d),
    listRollouts: (d) => rollouts.list(p, d),
    startRollout: (d, o) => rollouts.start(p, d, o),
    checkRollout: (d, to) => rollouts.check(p, d, to),
    pauseRollout: (d, reason) => rollouts.pause(p, d, reason),
    resumeRollout: (d) => rollouts.resume(p, d),
    promoteRollout: (d, o) => rollouts.promote(p, d, o),
    approveRollout: (d, reason) => rollouts.approve(p, d, reason),
    abortRollout: (d, reason) => rollouts.abort(p, d, reason),
    rollbackRollout: (d, reason) => rollouts.rollback(p, d, reason),
    listFreezes: () => rollouts.listFreezes(p),
    setFreeze: (scope, reason) => rollouts.setFreeze(p, scope, reason),
    liftFreeze: (scope) => rollouts.liftFreeze(p, scope),
    liveDrift: (d, q) => ctx.monitoring.drift(p, d, clean(q)),
    driftHistory: (d, limit) => ctx.monitoring.driftHistory(p, d, limit),
    quality: (d, q) => ctx.monitoring.quality(p, d, clean(q)),
    predictions: (d, limit) => ctx.monitoring.payloads(p, d, limit),
    sendFeedback: (body) => ctx.monitoring.feedback(p, body),
    erase: (subject) => ctx.monitoring.erase(p, subject),
    applySlos: (f) => ctx.slos.apply(p, f.text, f.source),
    listSlos: () => ctx.slos.list(p),
    sloStatus: (name) => ctx.slos.status(p, name),
    deleteSlo: (name) => ctx.slos.remove(p, name),
    listAlerts: (f) => ctx.alerts.list(p, f),
    getAlert: (id) => ctx.alerts.get(p, id),
    ackAlert: (id, note) => ctx.alerts.ack(p, id, note),
    createSilence: (input) => ctx.alerts.silence(p, input),
    listSilences: (includeExpired) => ctx.alerts.listSilences(p, { includeExpired }),
    expireSilence: (id) => ctx.alerts.expireSilence(p, id),
    listIncidents: (q) => ctx.incidents.list(p, q),
    getIncident: (id) => ctx.incidents.get(p, id),
    ackIncident: (id, note) => ctx.incidents.ack(p, id, note),
    resolveIncident: (id, resolution) => ctx.incidents.resolve(p, id, { resolution }),
    listReviews: (q) => ctx.reviews.list(p, q),
    getReview: (id) => ctx.reviews.get(p, id),
    decideReview: (id, label, note) => ctx.reviews.decide(p, id, { label, note }),
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
  const dep = (name: string): string => `/deployments/${enc(name)}`;
  // encodeURIComponent leaves `*` alone; spelled out it cannot be read as a wildcard on the way.
  const scopePath = (scope: string): string => `/freezes/${enc(scope).replace(/\*/g, '%2A')}`;
  // Parsed here so mistakes name the file (not "the request body"); the server validates the documents again.
  const documents = (f: DeploymentFileText) => ({ documents: parseDeploymentFiles(f.text, f.source) });
  const withReason = (reason: string | undefined) => (reason !== undefined ? { reason } : {});
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
    applyDeployments: async (f, dryRun) => call('POST', '/apply', { ...documents(f), dryRun }),
    diffDeployments: async (f) => call('POST', '/diff', documents(f)),
    listDeployments: () => call('GET', '/deployments'),
    getDeployment: (name) => call('GET', dep(name)),
    deleteDeployment: (name) => call('DELETE', dep(name)),
    killDeployment: (name, on, reason) => call('POST', `${dep(name)}/kill`, { on, ...withReason(reason) }),
    fallbackDeployment: (name, on, reason) => call('POST', `${dep(name)}/fallback`, { on, ...withReason(reason) }),
    deploymentHistory: (name, at) => call('GET', `${dep(name)}/history${at !== undefined ? `?at=${enc(at)}` : ''}`),
    rolloutStatus: (d) => call('GET', `${dep(d)}/rollout`),
    listRollouts: (d) => call('GET', `${dep(d)}/rollouts`),
    startRollout: (d, o) =>
      call('POST', `${dep(d)}/rollout`, {
        to: o.to,
        ...(o.strategy !== undefined ? { strategy: o.strategy } : {}),
        ...withReason(o.reason),
        ...(o.overrideGates !== undefined ? { overrideGates: o.overrideGates } : {}),
        ...(o.overrideFreeze !== undefined ? { overrideFreeze: o.overrideFreeze } : {}),
      }),
    checkRollout: (d, to) => call('GET', `${dep(d)}/rollout/check?to=${enc(to)}`),
    pauseRollout: (d, reason) => call('POST', `${dep(d)}/rollout/pause`, withReason(reason)),
    resumeRollout: (d) => call('POST', `${dep(d)}/rollout/resume`, {}),
    promoteRollout: (d, o) => call('POST', `${dep(d)}/rollout/promote`, { ...(o.full ? { full: true } : {}), ...(o.overrideFreeze !== undefined ? { overrideFreeze: o.overrideFreeze } : {}) }),
    approveRollout: (d, reason) => call('POST', `${dep(d)}/rollout/approve`, withReason(reason)),
    abortRollout: (d, reason) => call('POST', `${dep(d)}/rollout/abort`, withReason(reason)),
    rollbackRollout: (d, reason) => call('POST', `${dep(d)}/rollout/rollback`, withReason(reason)),
    listFreezes: () => call('GET', '/freezes'),
    setFreeze: (scope, reason) => call('PUT', scopePath(scope), { reason }),
    liftFreeze: (scope) => call('DELETE', scopePath(scope)),
    liveDrift: (d, q) => call('GET', `${dep(d)}/drift${query(q)}`),
    driftHistory: (d, limit) => call('GET', `${dep(d)}/drift/history${limit !== undefined ? `?limit=${limit}` : ''}`),
    quality: (d, q) => call('GET', `${dep(d)}/quality${query(q)}`),
    predictions: (d, limit) => call('GET', `${dep(d)}/predictions${limit !== undefined ? `?limit=${limit}` : ''}`),
    sendFeedback: (body) => call('POST', '/feedback', body),
    erase: (subject) => call('POST', '/privacy/erase', { subject }),
    // Parsed here too, so mistakes name the file; the server checks the documents again.
    applySlos: async (f) => {
      parseSloFiles(f.text, f.source);
      return call('PUT', '/slos', { text: f.text });
    },
    listSlos: () => call('GET', '/slos'),
    sloStatus: async (name) => (name === undefined ? call('GET', '/slos/status') : [await call<SloStatus>('GET', `/slos/${enc(name)}/status`)]),
    deleteSlo: (name) => call('DELETE', `/slos/${enc(name)}`),
    listAlerts: (f) => {
      const params = new URLSearchParams();
      for (const k of ['status', 'deployment', 'severity', 'limit'] as const) if (f[k] !== undefined) params.set(k, String(f[k]));
      const qs = params.toString();
      return call('GET', `/alerts${qs ? `?${qs}` : ''}`);
    },
    getAlert: (id) => call('GET', `/alerts/${id}`),
    ackAlert: (id, note) => call('POST', `/alerts/${id}/ack`, note !== undefined ? { note } : {}),
    createSilence: ({ durationMs, ...rest }) => call('POST', '/silences', { ...rest, ...(durationMs !== undefined ? { duration: durationMs } : {}) }),
    listSilences: (includeExpired) => call('GET', `/silences${includeExpired ? '?all=true' : ''}`),
    expireSilence: (id) => call('DELETE', `/silences/${id}`),
    listIncidents: (q) => call('GET', `/incidents${listQuery(q)}`),
    getIncident: (id) => call('GET', `/incidents/${id}`),
    ackIncident: (id, note) => call('POST', `/incidents/${id}/ack`, note !== undefined ? { note } : {}),
    resolveIncident: (id, resolution) => call('POST', `/incidents/${id}/resolve`, resolution !== undefined ? { resolution } : {}),
    listReviews: (q) => call('GET', `/reviews${listQuery(q)}`),
    getReview: (id) => call('GET', `/reviews/${id}`),
    decideReview: (id, label, note) => call('POST', `/reviews/${id}/decision`, { label, ...(note !== undefined ? { note } : {}) }),
    close: async () => undefined,
  };
}

function clean(q: WindowQuery): { window?: string; to?: string; against?: 'reference' | 'previous' } {
  return { ...(q.window !== undefined ? { window: q.window } : {}), ...(q.to !== undefined ? { to: q.to } : {}), ...(q.against !== undefined ? { against: q.against } : {}) };
}

function query(q: WindowQuery): string {
  const params = new URLSearchParams(clean(q));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** ?status=&deployment=&limit= for the incident and review lists. */
function listQuery(q: { status?: string | undefined; deployment?: string | undefined; limit?: number | undefined }): string {
  const params = new URLSearchParams();
  if (q.status !== undefined) params.set('status', q.status);
  if (q.deployment !== undefined) params.set('deployment', q.deployment);
  if (q.limit !== undefined) params.set('limit', String(q.limit));
  const s = params.toString();
  return s ? `?${s}` : '';
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
