// Control-API routes for incidents: list, one with its timeline, acknowledge and resolve (operator; audited),
// and the postmortem draft as Markdown. Like the rest of /api/v1 they need a bearer key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, description: 'Incident id' }) });
const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved'), Type.Literal('all')], { description: 'open (default: open or acknowledged), resolved, all' })),
  deployment: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
const AckBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
const ResolveBody = Type.Object({ resolution: Type.Optional(Type.String({ maxLength: 4000, description: 'What fixed it' })) }, { additionalProperties: false });
type ById = { Params: { id: number } };

export async function registerIncidentsApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { incidents } = ctx;

  api.get<{ Querystring: { status?: 'open' | 'resolved' | 'all'; deployment?: string; limit?: number } }>(
    '/incidents',
    { schema: { tags: ['incidents'], summary: 'Incidents, newest first (default: those not resolved)', querystring: ListQuery, response: { 200: Type.Array(Loose('IncidentInfo')), ...errors } } },
    async (req) => {
      const q = req.query;
      return incidents.list(req.principal, { ...(q.status ? { status: q.status } : {}), ...(q.deployment ? { deployment: q.deployment } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) });
    },
  );

  api.get<ById>('/incidents/:id', { schema: { tags: ['incidents'], summary: 'One incident: its alerts and its timeline (own events, audit log, traffic changes, alerts)', params: IdParams, response: { 200: Loose('IncidentDetail'), ...errors } } }, async (req) =>
    incidents.get(req.principal, req.params.id),
  );

  api.post<ById & { Body: { note?: string } }>(
    '/incidents/:id/ack',
    { schema: { tags: ['incidents'], summary: 'Acknowledge an incident (operator; audited). Its alerts are left as they are.', params: IdParams, body: AckBody, response: { 200: Loose('IncidentInfo'), ...errors } } },
    async (req) => incidents.ack(req.principal, req.params.id, req.body.note),
  );

  api.post<ById & { Body: { resolution?: string } }>(
    '/incidents/:id/resolve',
    { schema: { tags: ['incidents'], summary: 'Resolve an incident and write its postmortem draft (operator; audited)', params: IdParams, body: ResolveBody, response: { 200: Loose('IncidentInfo with postmortem'), ...errors } } },
    async (req) => incidents.resolve(req.principal, req.params.id, { resolution: req.body.resolution }),
  );

  api.get<ById>(
    '/incidents/:id/postmortem',
    { schema: { tags: ['incidents'], summary: 'The postmortem (Markdown): written at resolution, or a draft of the incident so far', params: IdParams, produces: ['text/markdown'], response: { 200: Type.String(), ...errors } } },
    async (req, reply) => {
      const text = await incidents.postmortem(req.principal, req.params.id);
      return reply.type('text/markdown; charset=utf-8').send(text);
    },
  );
}
