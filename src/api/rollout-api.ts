// Control-API routes for deployments, rollouts and release freezes. Like the rest of /api/v1 they rely on the
// bearer key authenticated in registerControlApi; the services check roles and model scopes themselves.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { ModelgateError } from '../errors/index.js';
import { requireRole, type Principal } from '../governance/keys.js';
import { parseDeploymentFiles } from '../rollout/deployment-spec.js';
import type { StrategyName } from '../rollout/rollout-plan.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

const DeploymentParams = Type.Object({ name: Type.String({ description: 'Deployment name' }) });
const ScopeParams = Type.Object({ scope: Type.String({ minLength: 1, description: '`*` (every deployment, URL-encoded as %2A) or a deployment name' }) });
const Reason = Type.Optional(Type.String({ maxLength: 1000, description: 'Recorded in the audit log' }));
const ReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });
const VersionRef = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], { description: 'Version number or alias' });
const ApplyBody = Type.Object(
  {
    documents: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 100, description: 'Deployment documents (apiVersion modelgate/v1, kind Deployment)' })),
    text: Type.Optional(Type.String({ minLength: 1, description: 'A deployment file as text: YAML (documents separated by ---) or JSON' })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Validate and report what would change without writing anything' })),
  },
  { additionalProperties: false, description: 'Exactly one of `documents` or `text`.' },
);

type ApplyBodyValue = { documents?: Record<string, unknown>[]; text?: string; dryRun?: boolean };
type Named = { Params: { name: string } };

/** Action routes take an optional body: a POST without one is read as `{}` rather than refused by validation. */
const emptyBodyIsObject = async (req: FastifyRequest): Promise<void> => {
  req.body ??= {};
};

export async function registerRolloutApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { deployments, rollouts } = ctx;

  /** Both body forms go through the file parser, so a document list gets the same checks as a file (one name once). */
  function documentsOf(body: ApplyBodyValue) {
    if ((body.documents === undefined) === (body.text === undefined)) throw new ModelgateError('MG_ERR_REQUEST_INVALID', 'Send exactly one of `documents` (an array of Deployment objects) or `text` (a YAML or JSON deployment file).');
    return parseDeploymentFiles(body.text ?? JSON.stringify(body.documents), 'the request body');
  }

  // ── deployments ──────────────────────────────────────────────────────────
  api.post<{ Body: ApplyBodyValue }>(
    '/apply',
    { schema: { tags: ['deployments'], summary: 'Create or update deployments from Deployment documents (operator)', body: ApplyBody, response: { 200: Type.Array(Loose('ApplyResult')), ...errors } } },
    async (req) => {
      requireRole(req.principal, 'operator');
      return deployments.apply(req.principal, documentsOf(req.body), { dryRun: req.body.dryRun ?? false, source: 'the request body' });
    },
  );
  api.post<{ Body: ApplyBodyValue }>(
    '/diff',
    { schema: { tags: ['deployments'], summary: 'What applying the documents would change (a dry run; writes nothing)', body: ApplyBody, response: { 200: Type.Array(Loose('ApplyResult')), ...errors } } },
    async (req) => {
      requireRole(req.principal, 'operator');
      return deployments.diff(req.principal, documentsOf(req.body), 'the request body');
    },
  );

  api.get('/deployments', { schema: { tags: ['deployments'], summary: 'List deployments', response: { 200: Type.Array(Loose('DeploymentInfo')), ...errors } } }, async (req) => deployments.list(req.principal));

  api.get<Named>('/deployments/:name', { schema: { tags: ['deployments'], summary: 'A deployment: arms, served weights, kill switch, latest rollout', params: DeploymentParams, response: { 200: Loose('DeploymentInfo'), ...errors } } }, async (req) =>
    deployments.get(req.principal, req.params.name),
  );

  api.delete<Named>('/deployments/:name', { schema: { tags: ['deployments'], summary: 'Delete a deployment (operator; not while a rollout is in progress)', params: DeploymentParams, response: { 200: Loose('Deleted deployment'), ...errors } } }, async (req) =>
    deployments.remove(req.principal, req.params.name),
  );

  api.post<Named & { Body: { on?: boolean; reason?: string } }>(
    '/deployments/:name/kill',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['deployments'],
        summary: 'The kill switch: all traffic to the stable arm now, aborting a rollout in progress (operator)',
        params: DeploymentParams,
        body: Type.Object({ on: Type.Optional(Type.Boolean({ default: true, description: 'false lifts the kill switch' })), reason: Reason }, { additionalProperties: false }),
        response: { 200: Loose('DeploymentInfo'), ...errors },
      },
    },
    async (req) => {
      return deployments.kill(req.principal, req.params.name, req.body.on ?? true, req.body.reason);
    },
  );

  api.post<Named & { Body: { on: boolean; reason?: string } }>(
    '/deployments/:name/fallback',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Send every request to the fallback chain (on) or back to the arms (off), by hand (operator; audited)',
        params: DeploymentParams,
        body: Type.Object({ on: Type.Boolean({ description: 'true: answer from spec.resilience.fallback; false: back to the arms' }), reason: Reason }, { additionalProperties: false }),
        response: { 200: Loose('DeploymentInfo'), ...errors },
      },
    },
    async (req) => {
      return deployments.fallback(req.principal, req.params.name, req.body.on, req.body.reason);
    },
  );

  api.get<Named & { Querystring: { at?: string } }>(
    '/deployments/:name/history',
    {
      schema: {
        tags: ['deployments'],
        summary: 'The traffic ledger, newest first; with ?at=<ISO time>, the entry in force at that moment',
        params: DeploymentParams,
        querystring: Type.Object({ at: Type.Optional(Type.String({ minLength: 1, description: 'ISO 8601 time, e.g. 2026-12-01T09:30:00Z' })) }),
        response: { 200: Loose('TrafficHistory'), ...errors },
      },
    },
    async (req) => deployments.history(req.principal, req.params.name, req.query.at),
  );

  // ── rollouts ─────────────────────────────────────────────────────────────
  api.get<Named>('/deployments/:name/rollout', { schema: { tags: ['rollouts'], summary: 'The latest rollout of a deployment', params: DeploymentParams, response: { 200: Loose('RolloutStatus'), ...errors } } }, async (req) =>
    rollouts.status(req.principal, req.params.name),
  );

  api.get<Named & { Querystring: { limit?: number } }>(
    '/deployments/:name/rollouts',
    { schema: { tags: ['rollouts'], summary: 'Rollouts of a deployment, newest first', params: DeploymentParams, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) }), response: { 200: Type.Array(Loose('RolloutStatus')), ...errors } } },
    async (req) => rollouts.list(req.principal, req.params.name, req.query.limit),
  );

  api.post<Named & { Body: { to: string | number; strategy?: StrategyName; reason?: string; overrideGates?: string; overrideFreeze?: string } }>(
    '/deployments/:name/rollout',
    {
      schema: {
        tags: ['rollouts'],
        summary: 'Start a rollout to a version (operator; overrides need an approver)',
        params: DeploymentParams,
        body: Type.Object(
          {
            to: VersionRef,
            strategy: Type.Optional(Type.Union([Type.Literal('canary'), Type.Literal('blue-green'), Type.Literal('shadow')], { description: 'Default: canary when the deployment has canary steps, else blue-green' })),
            reason: Reason,
            overrideGates: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Start despite failing readiness gates (approver), and why' })),
            overrideFreeze: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Start despite a release freeze (approver), and why' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Loose('RolloutStatus'), ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const status = await rollouts.start(req.principal, req.params.name, { to: String(b.to), strategy: b.strategy, reason: b.reason, overrideGates: b.overrideGates, overrideFreeze: b.overrideFreeze });
      void reply.status(201);
      return status;
    },
  );

  api.get<Named & { Querystring: { to: string } }>(
    '/deployments/:name/rollout/check',
    { schema: { tags: ['rollouts'], summary: 'The readiness checklist for rolling a version out', params: DeploymentParams, querystring: Type.Object({ to: Type.String({ minLength: 1, description: 'Version number or alias' }) }), response: { 200: Loose('GateReport'), ...errors } } },
    async (req) => rollouts.check(req.principal, req.params.name, req.query.to),
  );

  const action = (path: string, summary: string, run: (r: { principal: Principal; name: string; reason: string | undefined }) => Promise<unknown>) =>
    api.post<Named & { Body: { reason?: string } }>(
      `/deployments/:name/rollout/${path}`,
      { preValidation: emptyBodyIsObject, schema: { tags: ['rollouts'], summary, params: DeploymentParams, body: ReasonBody, response: { 200: Loose('RolloutStatus'), ...errors } } },
      async (req) => run({ principal: req.principal, name: req.params.name, reason: req.body.reason }),
    );
  action('pause', 'Pause the rollout where it is (operator)', (r) => rollouts.pause(r.principal, r.name, r.reason));
  action('abort', 'Abort: all traffic back on stable now; the rollout ends Aborted (operator)', (r) => rollouts.abort(r.principal, r.name, r.reason));
  action('approve', 'Approve the current approval step (approver other than the rollout\'s creator)', (r) => rollouts.approve(r.principal, r.name, r.reason));
  action('rollback', 'Roll back: abort a rollout in progress, or undo a promotion while the previous version is on standby (operator)', (r) => rollouts.rollback(r.principal, r.name, r.reason));

  api.post<Named & { Body: Record<string, never> }>(
    '/deployments/:name/rollout/resume',
    { preValidation: emptyBodyIsObject, schema: { tags: ['rollouts'], summary: 'Resume a paused rollout (operator)', params: DeploymentParams, body: Type.Object({}, { additionalProperties: false }), response: { 200: Loose('RolloutStatus'), ...errors } } },
    async (req) => rollouts.resume(req.principal, req.params.name),
  );

  api.post<Named & { Body: { full?: boolean; overrideFreeze?: string } }>(
    '/deployments/:name/rollout/promote',
    {
      preValidation: emptyBodyIsObject,
      schema: {
        tags: ['rollouts'],
        summary: 'Skip the current pause or analysis step, or with full every remaining step (operator); approvals are never skipped',
        params: DeploymentParams,
        body: Type.Object(
          {
            full: Type.Optional(Type.Boolean({ description: 'Skip every remaining step up to the promotion' })),
            overrideFreeze: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Promote despite a release freeze (approver), and why' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Loose('RolloutStatus'), ...errors },
      },
    },
    async (req) => rollouts.promote(req.principal, req.params.name, { full: req.body.full ?? false, overrideFreeze: req.body.overrideFreeze }),
  );

  // ── release freezes ──────────────────────────────────────────────────────
  api.get('/freezes', { schema: { tags: ['freezes'], summary: 'Release freezes in force', response: { 200: Type.Array(Loose('FreezeInfo')), ...errors } } }, async (req) => rollouts.listFreezes(req.principal));

  api.put<{ Params: { scope: string }; Body: { reason: string } }>(
    '/freezes/:scope',
    { schema: { tags: ['freezes'], summary: 'Freeze releases: no rollout starts or promotes (operator); replaces a freeze of the same scope', params: ScopeParams, body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }), response: { 200: Loose('FreezeInfo'), ...errors } } },
    async (req) => rollouts.setFreeze(req.principal, req.params.scope, req.body.reason),
  );

  api.delete<{ Params: { scope: string } }>('/freezes/:scope', { schema: { tags: ['freezes'], summary: 'Lift a release freeze (operator)', params: ScopeParams, response: { 200: Loose('Lifted freeze'), ...errors } } }, async (req) =>
    rollouts.liftFreeze(req.principal, req.params.scope),
  );
}
