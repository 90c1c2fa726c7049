// Control-API routes for monitoring: feedback (labels and outcomes), live drift and data quality, labelled
// quality, sampled payloads, and erasure by subject. Like the rest of /api/v1 they need a bearer key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const DeploymentParams = Type.Object({ name: Type.String({ description: 'Deployment name' }) });
const WindowQuery = Type.Object({
  window: Type.Optional(Type.String({ minLength: 1, description: 'A duration ending at `to` (default: the deployment\'s configured window), e.g. 15m, 1h, 7d' })),
  to: Type.Optional(Type.String({ minLength: 1, description: 'End of the window, ISO 8601 (default now)' })),
});
type Named = { Params: { name: string } };
type Windowed = Named & { Querystring: { window?: string; to?: string; version?: number; against?: 'reference' | 'previous' } };

export async function registerMonitoringApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { monitoring } = ctx;

  api.post(
    '/feedback',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Labels and business outcomes for earlier predictions, single {requestId, row?, label?, outcomes?, at?} or bulk {items: [...]} (all or none; invoker)',
        body: Loose('FeedbackItem or {items: FeedbackItem[]} (up to 10,000)'),
        response: { 200: Loose('FeedbackResult: accepted, joined, pending, pendingIds'), ...errors },
      },
    },
    async (req) => monitoring.feedback(req.principal, req.body),
  );

  api.get<Windowed>(
    '/deployments/:name/drift',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Live drift (inputs vs the reference profile, outputs vs the previous window) and data quality per version',
        params: DeploymentParams,
        querystring: Type.Object({ ...WindowQuery.properties, version: Type.Optional(Type.Integer({ minimum: 1 })), against: Type.Optional(Type.Union([Type.Literal('reference'), Type.Literal('previous')], { description: 'Compare the inputs with the version\'s reference profile (default) or with the window before' })) }),
        response: { 200: Loose('LiveDrift'), ...errors },
      },
    },
    async (req) => monitoring.drift(req.principal, req.params.name, req.query),
  );

  api.get<Named & { Querystring: { limit?: number } }>(
    '/deployments/:name/drift/history',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Stored drift evaluations, newest first',
        params: DeploymentParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }),
        response: { 200: Type.Array(Loose('DriftEvaluation')), ...errors },
      },
    },
    async (req) => monitoring.driftHistory(req.principal, req.params.name, req.query.limit),
  );

  api.get<Windowed>(
    '/deployments/:name/quality',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Labelled quality per version and slice, calibration, fairness, concept and label drift, business outcomes',
        params: DeploymentParams,
        querystring: WindowQuery,
        response: { 200: Loose('QualityReport'), ...errors },
      },
    },
    async (req) => monitoring.quality(req.principal, req.params.name, req.query),
  );

  api.get<Named & { Querystring: { limit?: number } }>(
    '/deployments/:name/predictions',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Sampled prediction payloads (redacted before storage), newest first (operator)',
        params: DeploymentParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })) }),
        response: { 200: Type.Array(Loose('PredictionPayload')), ...errors },
      },
    },
    async (req) => monitoring.payloads(req.principal, req.params.name, req.query.limit),
  );

  api.post<{ Body: { subject: string } }>(
    '/privacy/erase',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'Delete every prediction record, payload and label of a subject, and audit it (admin)',
        body: Type.Object({ subject: Type.String({ minLength: 1, maxLength: 500, description: 'The subject key as requests carried it (monitoring.subject or the routing key)' }) }, { additionalProperties: false }),
        response: { 200: Loose('EraseResult: records, payloads, feedback'), ...errors },
      },
    },
    async (req) => monitoring.erase(req.principal, req.body.subject),
  );
}
