// Control-API routes for alerts and silences: list and show alerts (with their notifications), acknowledge
// one, and create, list and end silences and maintenance windows. Like the rest of /api/v1 they need a key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { ModelgateError } from '../errors/index.js';
import { parseDuration } from '../rollout/duration.js';
import type { AlertListFilter, AlertSeverity, SilenceInput, SilenceMatchers } from '../alerts/types.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const Severity = Type.Union([Type.Literal('SEV1'), Type.Literal('SEV2'), Type.Literal('SEV3'), Type.Literal('SEV4')]);
const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all'), Type.Literal('firing'), Type.Literal('acknowledged'), Type.Literal('resolved')], { description: 'open (default): firing or acknowledged' })),
  deployment: Type.Optional(Type.String({ minLength: 1 })),
  severity: Type.Optional(Severity),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 100' })),
});
// No body at all is a plain acknowledgement too.
const AckBody = Type.Union([Type.Object({ note: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }), Type.Null()]);
const SilenceBody = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('silence'), Type.Literal('maintenance')], { description: 'maintenance: may start in the future. Default silence.' })),
    matchers: Type.Optional(
      Type.Object(
        { deployment: Type.Optional(Type.String({ minLength: 1 })), source: Type.Optional(Type.String({ minLength: 1 })), severity: Type.Optional(Severity) },
        { additionalProperties: false, description: 'Every matcher given must match; an absent one matches anything.' },
      ),
    ),
    all: Type.Optional(Type.Boolean({ description: 'Silence every alert (required when no matcher is given).' })),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    duration: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })], { description: 'How long: milliseconds, or a duration such as 2h.' })),
    startsAt: Type.Optional(Type.String({ description: 'ISO 8601; default now.' })),
    endsAt: Type.Optional(Type.String({ description: 'ISO 8601; instead of duration.' })),
  },
  { additionalProperties: false },
);
type SilenceBodyValue = {
  kind?: 'silence' | 'maintenance';
  matchers?: { deployment?: string; source?: string; severity?: AlertSeverity };
  all?: boolean;
  reason: string;
  duration?: number | string;
  startsAt?: string;
  endsAt?: string;
};
type ById = { Params: { id: number } };

export async function registerAlertsApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { alerts } = ctx;

  api.get<{ Querystring: AlertListFilter }>('/alerts', { schema: { tags: ['alerts'], summary: 'Alerts, newest first (open ones unless status says otherwise)', querystring: ListQuery, response: { 200: Type.Array(Loose('AlertInfo')), ...errors } } }, async (req) =>
    alerts.list(req.principal, req.query),
  );

  api.get<ById>('/alerts/:id', { schema: { tags: ['alerts'], summary: 'One alert with its notifications', params: IdParams, response: { 200: Loose('AlertDetail'), ...errors } } }, async (req) =>
    alerts.get(req.principal, req.params.id),
  );

  api.post<ById & { Body: { note?: string } | null }>(
    '/alerts/:id/ack',
    { schema: { tags: ['alerts'], summary: 'Acknowledge an alert (operator; audited): stops its escalation and tells the sinks that were notified', params: IdParams, body: AckBody, response: { 200: Loose('AlertInfo'), ...errors, 409: ErrorResponse } } },
    async (req) => alerts.ack(req.principal, req.params.id, req.body?.note),
  );

  api.get<{ Querystring: { all?: boolean } }>(
    '/silences',
    { schema: { tags: ['alerts'], summary: 'Active and scheduled silences and maintenance windows (all=true: ended ones too)', querystring: Type.Object({ all: Type.Optional(Type.Boolean()) }), response: { 200: Type.Array(Loose('SilenceInfo')), ...errors } } },
    async (req) => alerts.listSilences(req.principal, { includeExpired: req.query.all ?? false }),
  );

  api.post<{ Body: SilenceBodyValue }>(
    '/silences',
    { schema: { tags: ['alerts'], summary: 'Create a silence or a maintenance window (operator; audited): matching alerts notify nobody while it holds', body: SilenceBody, response: { 201: Loose('SilenceInfo'), ...errors } } },
    async (req, reply) => {
      const b = req.body;
      let durationMs: number | undefined;
      if (b.duration !== undefined) {
        durationMs = parseDuration(b.duration);
        if (durationMs === undefined) throw new ModelgateError('MG_ERR_SILENCE_INVALID', `duration must be milliseconds or a duration such as 30m or 2h, got ${JSON.stringify(b.duration)}.`);
      }
      const input: SilenceInput = {
        reason: b.reason,
        ...(b.kind !== undefined ? { kind: b.kind } : {}),
        // The source is checked against the known ones by the service, which names them in its message.
        ...(b.matchers !== undefined ? { matchers: b.matchers as SilenceMatchers } : {}),
        ...(b.all !== undefined ? { all: b.all } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(b.startsAt !== undefined ? { startsAt: b.startsAt } : {}),
        ...(b.endsAt !== undefined ? { endsAt: b.endsAt } : {}),
      };
      const silence = await alerts.silence(req.principal, input);
      void reply.status(201);
      return silence;
    },
  );

  api.delete<ById>('/silences/:id', { schema: { tags: ['alerts'], summary: 'End a silence now, or cancel a scheduled maintenance window (operator; audited)', params: IdParams, response: { 200: Loose('SilenceInfo'), ...errors } } }, async (req) =>
    alerts.expireSilence(req.principal, req.params.id),
  );
}
