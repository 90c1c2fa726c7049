// Control-API routes for SLOs: apply (create or update by name), list, delete, and the status now (SLI,
// error budget, burn rates, firing alerts). Like the rest of /api/v1 they need a bearer key.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { ModelgateError } from '../errors/index.js';

const Loose = (description: string) => Type.Object({}, { additionalProperties: true, description });
const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), id: Type.String(), details: Type.Optional(Type.Object({}, { additionalProperties: true })) }) },
  { description: 'Error' },
);
const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const SloParams = Type.Object({ name: Type.String({ description: 'SLO name' }) });
const ApplyBody = Type.Object(
  {
    documents: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 100, description: 'SLO documents (apiVersion modelgate/v1, kind SLO)' })),
    text: Type.Optional(Type.String({ minLength: 1, description: 'An SLO file as text: YAML (documents separated by ---) or JSON' })),
  },
  { additionalProperties: false, description: 'Exactly one of `documents` or `text`.' },
);
type ApplyBodyValue = { documents?: Record<string, unknown>[]; text?: string };
type Named = { Params: { name: string } };

export async function registerSloApi(api: FastifyInstance, ctx: AppContext): Promise<void> {
  const { slos } = ctx;

  api.put<{ Body: ApplyBodyValue }>(
    '/slos',
    { schema: { tags: ['slos'], summary: 'Create or update SLOs from SLO documents (operator; audited)', body: ApplyBody, response: { 200: Type.Array(Loose('SloApplyResult')), ...errors } } },
    async (req) => {
      const { documents, text } = req.body;
      if ((documents === undefined) === (text === undefined)) throw new ModelgateError('MG_ERR_REQUEST_INVALID', 'Send exactly one of `documents` (an array of SLO objects) or `text` (a YAML or JSON SLO file).');
      // Both forms go through the file parser, so a document list gets the same checks as a file (one name once).
      return slos.apply(req.principal, text ?? JSON.stringify(documents), 'the request body');
    },
  );

  api.get('/slos', { schema: { tags: ['slos'], summary: 'List SLOs', response: { 200: Type.Array(Loose('SloInfo')), ...errors } } }, async (req) => slos.list(req.principal));

  api.get('/slos/status', { schema: { tags: ['slos'], summary: 'Every SLO now: SLI over its window, error budget left, burn rates, firing alerts', response: { 200: Type.Array(Loose('SloStatus')), ...errors } } }, async (req) =>
    slos.status(req.principal),
  );

  api.get<Named>('/slos/:name/status', { schema: { tags: ['slos'], summary: 'One SLO now', params: SloParams, response: { 200: Loose('SloStatus'), ...errors } } }, async (req) =>
    (await slos.status(req.principal, req.params.name))[0]!,
  );

  api.delete<Named>('/slos/:name', { schema: { tags: ['slos'], summary: 'Delete an SLO (operator; audited). Its deployment\'s SLI counts are kept.', params: SloParams, response: { 200: Loose('Deleted SLO'), ...errors } } }, async (req) =>
    slos.remove(req.principal, req.params.name),
  );
}
