// The control API under /api/v1: registry, keys and audit. Every route authenticates the bearer key;
// the services check the role and model scope, so the CLI's local mode enforces the same rules.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ModelgateError } from '../errors/index.js';
import { listAudit, verifyAudit } from '../governance/audit.js';
import { authenticate, createKey, listKeys, requireRole, revokeKey, type Principal } from '../governance/keys.js';
import { parseMetadataPairs, type RegisterInput } from '../registry/registry-service.js';
import type { AppContext } from '../context.js';
import { registerRolloutApi } from './rollout-api.js';
import { registerMonitoringApi } from './monitoring-api.js';
import { registerSloApi } from './slo-api.js';
import { registerAlertsApi } from './alerts-api.js';
import { registerIncidentsApi } from './incidents-api.js';
import { registerReviewsApi } from './reviews-api.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const NameParams = Type.Object({ name: Type.String({ description: 'Model name' }) });
const RefParams = Type.Object({ name: Type.String(), ref: Type.String({ description: 'Version number or alias' }) });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export async function registerControlApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { registry, store } = ctx;
  await api.register(multipart, {
    limits: { fileSize: Math.max(ctx.config.registry.maxArtifactBytes, ctx.config.registry.maxReferenceBytes), files: 3, fields: 200, fieldSize: 1024 * 1024 },
  });

  api.decorateRequest('principal', null as unknown as Principal);
  api.addHook('onRequest', async (req) => {
    req.principal = await authenticate(store.db, bearer(req));
  });

  api.get('/whoami', { schema: { tags: ['keys'], summary: 'The calling key', response: { 200: Loose('Principal'), ...errors } } }, async (req) => ({
    actor: req.principal.actor,
    role: req.principal.role,
    modelPatterns: req.principal.modelPatterns,
  }));

  // ── models ────────────────────────────────────────────────────────────────
  api.get('/models', { schema: { tags: ['models'], summary: 'List models', response: { 200: Type.Array(Loose('ModelSummary')), ...errors } } }, async (req) =>
    registry.listModels(req.principal),
  );

  api.get<{ Params: { name: string } }>('/models/:name', { schema: { tags: ['models'], summary: 'A model with its versions and aliases', params: NameParams, response: { 200: Loose('ModelDetail'), ...errors } } }, async (req) =>
    registry.getModel(req.principal, req.params.name),
  );

  api.post<{ Params: { name: string } }>(
    '/models/:name/versions',
    {
      schema: {
        tags: ['models'],
        summary: 'Register a new version (multipart/form-data)',
        description:
          'Parts: `artifact` (file, required), `card` (file, YAML or JSON), `reference` (file, .csv or .jsonl), and fields `metadata` (key=value, repeatable), `parent`, `owner`, `features` (comma-separated), `label`, `format`.',
        params: NameParams,
        consumes: ['multipart/form-data'],
        response: { 201: Loose('ModelVersionInfo'), ...errors, 413: ErrorResponse, 415: ErrorResponse },
      },
    },
    async (req, reply) => {
      requireRole(req.principal, 'operator');
      if (!req.isMultipart()) throw new ModelgateError('MG_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'Register a version with multipart/form-data: an `artifact` file part and optional `card`, `reference` and field parts.');
      const tmpRoot = join(ctx.config.home, 'tmp');
      await mkdir(tmpRoot, { recursive: true });
      const dir = await mkdtemp(join(tmpRoot, 'upload-'));
      try {
        const files: Record<string, string> = {};
        const fields: Record<string, string[]> = {};
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (!['artifact', 'card', 'reference'].includes(part.fieldname)) {
              part.file.resume();
              throw new ModelgateError('MG_ERR_REQUEST_INVALID', `Unknown file part "${part.fieldname}": send artifact, card or reference.`);
            }
            // Keep the extension: it selects the reference data parser.
            const path = join(dir, `${part.fieldname}${extname(part.filename ?? '').toLowerCase()}`);
            await pipeline(part.file, createWriteStream(path));
            if (part.file.truncated) throw new ModelgateError('MG_ERR_REQUEST_TOO_LARGE', `The ${part.fieldname} file is larger than the server accepts.`);
            files[part.fieldname] = path;
          } else {
            (fields[part.fieldname] ??= []).push(String(part.value));
          }
        }
        if (!files.artifact) throw new ModelgateError('MG_ERR_REQUEST_INVALID', 'The `artifact` file part is missing.');
        const one = (k: string): string | undefined => fields[k]?.[fields[k].length - 1];
        const input: RegisterInput = {
          name: req.params.name,
          artifact: { path: files.artifact },
          format: one('format'),
          card: files.card ? { text: await readFile(files.card, 'utf8'), source: 'card' } : undefined,
          reference: files.reference ? { path: files.reference } : undefined,
          label: one('label'),
          features: one('features')?.split(',').map((s) => s.trim()).filter(Boolean),
          metadata: parseMetadataPairs(fields.metadata ?? []),
          parent: one('parent'),
          owner: one('owner'),
        };
        const info = await registry.register(req.principal, input);
        void reply.status(201);
        return info;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  api.get<{ Params: { name: string; ref: string } }>('/models/:name/versions/:ref', { schema: { tags: ['models'], summary: 'One version', params: RefParams, response: { 200: Loose('ModelVersionInfo'), ...errors } } }, async (req) =>
    registry.getVersion(req.principal, `${req.params.name}@${req.params.ref}`),
  );

  api.get<{ Params: { name: string; ref: string } }>('/models/:name/versions/:ref/artifact', { schema: { tags: ['models'], summary: 'Download the artifact (hash-checked)', params: RefParams } }, async (req, reply) => {
    const { info, bytes } = await registry.readArtifact(req.principal, `${req.params.name}@${req.params.ref}`);
    void reply.header('content-type', 'application/octet-stream').header('x-modelgate-sha256', info.artifact.sha256).header('content-disposition', `attachment; filename="${info.model}-${info.version}.${info.format === 'js' ? 'mjs' : 'onnx'}"`);
    return bytes;
  });

  api.get<{ Params: { name: string; ref: string } }>('/models/:name/versions/:ref/reference', { schema: { tags: ['models'], summary: 'The reference profile', params: RefParams, response: { 200: Loose('ReferenceProfile'), ...errors } } }, async (req) => {
    const p = await registry.getReferenceProfile(req.principal, `${req.params.name}@${req.params.ref}`);
    if (!p) throw new ModelgateError('MG_ERR_MODEL_VERSION_NOT_FOUND', `${req.params.name}@${req.params.ref} was registered without --reference data.`);
    return p;
  });

  api.post<{ Params: { name: string; ref: string } }>('/models/:name/versions/:ref/archive', { schema: { tags: ['models'], summary: 'Archive a version (it can no longer be deployed)', params: RefParams, response: { 200: Loose('ModelVersionInfo'), ...errors } } }, async (req) =>
    registry.archive(req.principal, `${req.params.name}@${req.params.ref}`),
  );

  // ── cards ────────────────────────────────────────────────────────────────
  api.get<{ Params: { name: string; ref: string }; Querystring: { revision?: number } }>(
    '/models/:name/versions/:ref/card',
    { schema: { tags: ['cards'], summary: 'The model card (latest revision or ?revision=N)', params: RefParams, querystring: Type.Object({ revision: Type.Optional(Type.Integer({ minimum: 1 })) }), response: { 200: Loose('Card'), ...errors } } },
    async (req) => registry.getCard(req.principal, `${req.params.name}@${req.params.ref}`, req.query.revision),
  );
  api.get<{ Params: { name: string; ref: string } }>('/models/:name/versions/:ref/card/revisions', { schema: { tags: ['cards'], summary: 'Card revision history', params: RefParams, response: { 200: Type.Array(Loose('CardRevision')), ...errors } } }, async (req) =>
    registry.cardHistory(req.principal, `${req.params.name}@${req.params.ref}`),
  );
  api.put<{ Params: { name: string; ref: string }; Body: { card: unknown; reason?: string } }>(
    '/models/:name/versions/:ref/card',
    {
      schema: {
        tags: ['cards'],
        summary: 'Revise the card (adds a revision; older ones are kept)',
        params: RefParams,
        body: Type.Object({ card: Type.Union([Type.String({ description: 'YAML or JSON text' }), Type.Object({}, { additionalProperties: true })]), reason: Type.Optional(Type.String({ maxLength: 1000 })) }),
        response: { 200: Loose('CardRevision'), ...errors },
      },
    },
    async (req) => {
      const card = typeof req.body.card === 'string' ? { text: req.body.card, source: 'request body' } : { value: req.body.card };
      return registry.reviseCard(req.principal, `${req.params.name}@${req.params.ref}`, card, req.body.reason);
    },
  );

  // ── aliases ──────────────────────────────────────────────────────────────
  api.get<{ Params: { name: string } }>('/models/:name/aliases', { schema: { tags: ['aliases'], summary: 'Aliases and their history', params: NameParams, response: { 200: Loose('Aliases'), ...errors } } }, async (req) =>
    registry.listAliases(req.principal, req.params.name),
  );
  api.put<{ Params: { name: string; alias: string }; Body: { version: string | number } }>(
    '/models/:name/aliases/:alias',
    {
      schema: {
        tags: ['aliases'],
        summary: 'Point an alias at a version',
        params: Type.Object({ name: Type.String(), alias: Type.String() }),
        body: Type.Object({ version: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })]) }),
        response: { 200: Loose('Alias'), ...errors },
      },
    },
    async (req) => registry.setAlias(req.principal, req.params.name, req.params.alias, String(req.body.version)),
  );
  api.delete<{ Params: { name: string; alias: string } }>('/models/:name/aliases/:alias', { schema: { tags: ['aliases'], summary: 'Remove an alias', params: Type.Object({ name: Type.String(), alias: Type.String() }), response: { 200: Loose('Removed alias'), ...errors } } }, async (req) =>
    registry.unsetAlias(req.principal, req.params.name, req.params.alias),
  );

  // ── diff ─────────────────────────────────────────────────────────────────
  api.get<{ Params: { name: string }; Querystring: { a: string; b: string } }>(
    '/models/:name/diff',
    { schema: { tags: ['models'], summary: 'What changed between two versions', params: NameParams, querystring: Type.Object({ a: Type.String({ minLength: 1 }), b: Type.String({ minLength: 1 }) }), response: { 200: Loose('VersionDiff'), ...errors } } },
    async (req) => registry.diff(req.principal, req.params.name, req.query.a, req.query.b),
  );

  // ── keys ─────────────────────────────────────────────────────────────────
  api.get<{ Querystring: { revoked?: boolean } }>('/keys', { schema: { tags: ['keys'], summary: 'List API keys (admin)', querystring: Type.Object({ revoked: Type.Optional(Type.Boolean()) }), response: { 200: Type.Array(Loose('ApiKeyInfo')), ...errors } } }, async (req) => {
    requireRole(req.principal, 'admin');
    return listKeys(store.db, req.query.revoked ?? false);
  });
  api.post<{ Body: { name: string; role: string; models?: string[] } }>(
    '/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Create an API key (admin); the key is returned once',
        body: Type.Object({ name: Type.String(), role: Type.String(), models: Type.Optional(Type.Array(Type.String(), { maxItems: 50 })) }),
        response: { 201: Loose('Created key'), ...errors },
      },
    },
    async (req, reply) => {
      requireRole(req.principal, 'admin');
      const created = await createKey(store.db, { name: req.body.name, role: req.body.role, modelPatterns: req.body.models ?? [] }, req.principal.actor);
      void reply.status(201);
      return { key: created.key, ...created.info };
    },
  );
  api.delete<{ Params: { id: string } }>('/keys/:id', { schema: { tags: ['keys'], summary: 'Revoke an API key (admin)', params: Type.Object({ id: Type.String() }), response: { 200: Loose('ApiKeyInfo'), ...errors } } }, async (req) => {
    requireRole(req.principal, 'admin');
    return revokeKey(store.db, req.params.id, req.principal.actor);
  });

  // ── audit ────────────────────────────────────────────────────────────────
  api.get<{ Querystring: { limit?: number; after?: number; since?: string; action?: string; target?: string } }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first (approver)',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer()), after: Type.Optional(Type.Integer({ minimum: 0 })), since: Type.Optional(Type.String()), action: Type.Optional(Type.String()), target: Type.Optional(Type.String()) }),
        response: { 200: Type.Array(Loose('AuditEvent')), ...errors },
      },
    },
    async (req) => {
      requireRole(req.principal, 'approver');
      const q = req.query;
      return listAudit(store.db, { ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(q.after !== undefined ? { afterSeq: q.after } : {}), ...(q.since ? { since: q.since } : {}), ...(q.action ? { action: q.action } : {}), ...(q.target ? { target: q.target } : {}) });
    },
  );
  api.get('/audit/verify', { schema: { tags: ['audit'], summary: 'Verify the audit hash chain (approver)', response: { 200: Loose('AuditVerification'), ...errors } } }, async (req) => {
    requireRole(req.principal, 'approver');
    return verifyAudit(store.db);
  });

  await registerRolloutApi(api, ctx);
  await registerMonitoringApi(api, ctx);
  await registerSloApi(api, ctx);
  await registerAlertsApi(api, ctx);
  await registerIncidentsApi(api, ctx);
  await registerReviewsApi(api, ctx);
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? '';
}
