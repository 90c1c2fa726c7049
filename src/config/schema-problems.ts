// What a TypeBox schema check found wrong with a document, one line per distinct problem, each naming the
// field by its path as a user writes it (`spec.arms[0].weight`). Shared by the Deployment and SLO files.
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/**
 * The problems, in the order TypeBox reports them, each once. `unionHint` may word a union mismatch at a
 * path better than TypeBox's "expected union value" (e.g. by listing the choices).
 */
export function explainProblems(schema: TSchema, value: unknown, unionHint?: (path: string, e: ValueError) => string | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    const text = explain(e, unionHint);
    if (!seen.has(text)) {
      seen.add(text);
      out.push(text);
    }
  }
  return out;
}

function explain(e: ValueError, unionHint: ((path: string, e: ValueError) => string | undefined) | undefined): string {
  const path = e.path.replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.') || '(document)';
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${path}: missing required field`;
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = Object.keys((e.schema as { properties?: Record<string, unknown> }).properties ?? {});
      return `${path}: unknown field (allowed here: ${allowed.join(', ')})`;
    }
    case ValueErrorType.Union: {
      const hint = unionHint?.(path, e);
      return hint !== undefined ? `${path}: ${hint}` : `${path}: ${e.message} (got ${JSON.stringify(e.value)})`;
    }
    default:
      return `${path}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`;
  }
}
