// Renders docs/errors.md from the code table; the doc is generated so the two cannot disagree silently.
import { ERROR_CODES } from './codes.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.message.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error Modelgate reports has a stable code `MG_ERR_<AREA>_<WHAT>`, an HTTP status and a message that says what to do.',
    'Control-API errors have one JSON shape:',
    '',
    '```json',
    '{ "error": { "code": "MG_ERR_MODEL_NOT_FOUND", "message": "No model named \\"fraud\\". …", "id": "3f0c…", "details": {} } }',
    '```',
    '',
    '`id` is unique per occurrence and appears in the server log next to the failure. The CLI prints `error MG_ERR_…: message` and exits 1 (2 for usage errors).',
    '',
    'This file is generated from `src/errors/codes.ts` by `npm run docs:errors`; a test fails when they disagree.',
    '',
    '| code | status | meaning and what to do |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
