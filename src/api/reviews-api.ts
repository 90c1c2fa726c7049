// Control-API routes for the human review queue: list, one review, and the decision (operator; audited), which
// also becomes the request's label for monitoring. Like the rest of /api/v1 they need a bearer key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Review id' }) });
const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('decided'), Type.Literal('all')], { description: 'pending (default), decided, all' })),
  deployment: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
// The label is checked by the service, so a missing or wrong one gets MG_ERR_REVIEW_INVALID, not a schema error.
const DecisionBody = Type.Object(
  { label: Type.Optional(Type.Unsafe<number | string>({ description: 'The right answer: a number or a string' })), note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
type ById = { Params: { id: number } };

export async function registerReviewsApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { reviews } = ctx;

  api.get<{ Querystring: { status?: 'pending' | 'decided' | 'all'; deployment?: string; limit?: number } }>(
    '/reviews',
    { schema: { tags: ['reviews'], summary: 'The review queue: pending reviews oldest first (or decided ones, newest first)', querystring: ListQuery, response: { 200: Type.Array(Loose('ReviewInfo')), ...errors } } },
    async (req) => {
      const q = req.query;
      return reviews.list(req.principal, { ...(q.status ? { status: q.status } : {}), ...(q.deployment ? { deployment: q.deployment } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) });
    },
  );

  api.get<ById>('/reviews/:id', { schema: { tags: ['reviews'], summary: 'One review with its inputs and outputs', params: IdParams, response: { 200: Loose('ReviewInfo'), ...errors } } }, async (req) =>
    reviews.get(req.principal, req.params.id),
  );

  api.post<ById & { Body: { label?: number | string; note?: string } }>(
    '/reviews/:id/decision',
    { schema: { tags: ['reviews'], summary: 'Decide a review (operator; audited; final): the label is recorded as feedback for the request', params: IdParams, body: DecisionBody, response: { 200: Loose('ReviewInfo with feedback'), ...errors } } },
    async (req) => reviews.decide(req.principal, req.params.id, { label: req.body.label as number | string, note: req.body.note }),
  );
}
