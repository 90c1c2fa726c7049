// Reading a model card written by a person: YAML or JSON text in, a validated ModelCard out.
// The errors are meant to be read by that person, so they name the offending field the way it is
// written in the card (model_details.owners[0].contact), not as a JSON pointer.
import { LineCounter, parseDocument } from 'yaml';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ModelgateError } from '../../errors/index.js';
import { CARD_SCHEMA_VERSION, ModelCardSchema, type ModelCard } from './card-schema.js';

export interface CardProblem {
  /** Where in the card, e.g. `model_details.owners[0].contact`; '' for the card as a whole. */
  path: string;
  message: string;
}

/** How many problems the error message lists; the error details always carry all of them. */
const MAX_LISTED_PROBLEMS = 10;

/** Parses YAML or JSON card text (JSON is valid YAML), then validates and normalises it. */
export function parseCard(text: string, sourceName?: string): ModelCard {
  return validateAs(readCardText(text, sourceName), sourceName);
}

/** Validates an already-parsed card against the MCT v0.0.2 schema and fills schema_version when missing. */
export function validateCard(value: unknown): ModelCard {
  return validateAs(value, undefined);
}

function label(sourceName: string | undefined): string {
  return sourceName ? `Model card ${sourceName}` : 'The model card';
}

function readCardText(text: string, sourceName: string | undefined): Record<string, unknown> {
  const lineCounter = new LineCounter();
  // A UTF-8 BOM is common in files saved by Windows editors and means nothing here.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new ModelgateError(
      'MG_ERR_CARD_UNREADABLE',
      `${label(sourceName)} is not valid YAML or JSON: line ${line}, column ${col}: ${firstLine(first.message)}`,
      { ...(sourceName ? { source: sourceName } : {}), line, column: col, reason: first.code },
    );
  }
  if (doc.contents === null) {
    throw new ModelgateError('MG_ERR_CARD_UNREADABLE', `${label(sourceName)} is empty.`, sourceName ? { source: sourceName } : undefined);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    // toJS fails on alias bombs and similar pathological input, which is still "cannot be read".
    throw new ModelgateError(
      'MG_ERR_CARD_UNREADABLE',
      `${label(sourceName)} cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`,
      sourceName ? { source: sourceName } : undefined,
      { cause },
    );
  }
  if (!isPlainObject(data)) {
    throw new ModelgateError(
      'MG_ERR_CARD_UNREADABLE',
      `${label(sourceName)} must be a mapping with sections such as model_details and quantitative_analysis at the top level, but it is ${describeValue(data)}.`,
      { ...(sourceName ? { source: sourceName } : {}), found: kindOf(data) },
    );
  }
  return data;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]?.trim() ?? message;
}

function validateAs(value: unknown, sourceName: string | undefined): ModelCard {
  let candidate = value;
  if (isPlainObject(value) && value.schema_version === undefined) {
    // Rebuilt rather than spread over, so that an explicit `schema_version: undefined` cannot survive.
    const { schema_version: _missing, ...rest } = value;
    candidate = { schema_version: CARD_SCHEMA_VERSION, ...rest };
  }
  if (Value.Check(ModelCardSchema, candidate)) return Value.Clone(candidate);

  const problems = collectProblems(candidate);
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `${p.path || '(card)'}: ${p.message}`);
  const more = problems.length > listed.length ? `; and ${problems.length - listed.length} more` : '';
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  throw new ModelgateError(
    'MG_ERR_CARD_INVALID',
    `${label(sourceName)} does not follow the Model Card Toolkit schema v${CARD_SCHEMA_VERSION} (${count}): ${listed.join('; ')}${more}`,
    { ...(sourceName ? { source: sourceName } : {}), problems },
  );
}

/** Every problem in the card, as readable paths and messages, without duplicates. */
function collectProblems(value: unknown): CardProblem[] {
  const raw = [...Value.Errors(ModelCardSchema, value)];
  // A missing required field is also reported by TypeBox as "expected string" at the same path.
  const missing = new Set(raw.filter((e) => e.type === ValueErrorType.ObjectRequiredProperty).map((e) => e.path));
  const problems: CardProblem[] = [];
  const seen = new Set<string>();
  for (const error of raw) {
    if (error.type !== ValueErrorType.ObjectRequiredProperty && missing.has(error.path) && error.value === undefined) continue;
    for (const problem of explain(error, value)) {
      const id = `${problem.path}\u0000${problem.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      problems.push(problem);
    }
  }
  return problems;
}

function explain(error: ValueError, root: unknown): CardProblem[] {
  const path = readablePath(error.path, root);
  const got = describeValue(error.value);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return [{ path, message: 'missing required field' }];
    case ValueErrorType.ObjectAdditionalProperties:
      return [{ path, message: unknownFieldMessage(error) }];
    case ValueErrorType.String: {
      // YAML reads unquoted 1.0, 2024 or true as numbers and booleans, not as the text the author meant.
      const scalar = typeof error.value === 'number' || typeof error.value === 'boolean';
      return [{ path, message: `expected string, got ${got}${scalar ? ' (put it in quotes to keep it as text)' : ''}` }];
    }
    case ValueErrorType.Number:
      return [{ path, message: `expected number, got ${got}${typeof error.value === 'string' && isNumeric(error.value) ? ' (write it without quotes)' : ''}` }];
    case ValueErrorType.Array:
      return [{ path, message: `expected a list, got ${got}` }];
    case ValueErrorType.Object:
      return [{ path, message: `expected a mapping, got ${got}` }];
    case ValueErrorType.Literal: {
      const expected = JSON.stringify((error.schema as { const?: unknown }).const);
      const shown = typeof error.value === 'string' ? JSON.stringify(error.value) : got;
      return [{ path, message: path === 'schema_version' ? `unsupported schema version ${shown}: only ${expected} is supported` : `expected ${expected}, got ${got}` }];
    }
    case ValueErrorType.Union:
      return explainUnion(error, root, path);
    default:
      return [{ path, message: error.message }];
  }
}

// The only union in the schema is a license (identifier xor custom_text). TypeBox reports a failed union
// as a single "Expected union value"; this finds out which alternative the author meant and why it failed.
function explainUnion(error: ValueError, root: unknown, path: string): CardProblem[] {
  const variants = ((error.schema as { anyOf?: TSchema[] }).anyOf ?? []).map((s) => (s.required as string[] | undefined) ?? []);
  const choices = variants.map((keys) => keys.join(' + ')).filter(Boolean).join(' or ');
  if (!isPlainObject(error.value)) {
    return [{ path, message: `expected a mapping with ${choices}, got ${describeValue(error.value)}` }];
  }
  const present = error.value;
  const meant = variants.map((keys, i) => ({ keys, i })).filter(({ keys }) => keys.length > 0 && keys.every((k) => k in present));
  if (meant.length === 0) return [{ path, message: `needs ${choices}` }];
  if (meant.length > 1) return [{ path, message: `give only one of ${choices}, not several` }];
  const branch = error.errors[meant[0]!.i];
  const inner = branch ? [...branch].flatMap((e) => explain(e, root)) : [];
  return inner.length > 0 ? inner : [{ path, message: error.message }];
}

function unknownFieldMessage(error: ValueError): string {
  const key = error.path.slice(error.path.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
  const allowed = Object.keys((error.schema as { properties?: Record<string, unknown> }).properties ?? {});
  const suggestion = closest(key, allowed);
  const hint = suggestion ? `did you mean "${suggestion}"? ` : '';
  return `unknown field; ${hint}allowed here: ${allowed.join(', ')}`;
}

/** The allowed name a typo most likely meant, if any is close enough to be a typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the length tolerates transpositions and one or two slips, not a different word.
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return best;
  // An abbreviation (upper for upper_bound) is also a likely slip.
  const lower = word.toLowerCase();
  return lower.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(lower)) : undefined;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment distance: adjacent transpositions (detials → details) count as one edit.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** `/model_details/owners/0/contact` → `model_details.owners[0].contact`, using the value to tell list indices from keys. */
function readablePath(pointer: string, root: unknown): string {
  if (pointer === '') return '';
  let out = '';
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out += `[${segment}]`;
      node = node[Number(segment)];
    } else {
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? `${out ? '.' : ''}${segment}` : `[${JSON.stringify(segment)}]`;
      node = isPlainObject(node) ? node[segment] : undefined;
    }
  }
  return out;
}

function isNumeric(s: string): boolean {
  return s.trim() !== '' && Number.isFinite(Number(s));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (value instanceof Date) return 'timestamp';
  if (value instanceof Uint8Array) return 'binary';
  return typeof value === 'object' ? 'mapping' : typeof value;
}

function describeValue(value: unknown): string {
  switch (kindOf(value)) {
    case 'null':
      return 'an empty value (null)';
    case 'undefined':
      return 'nothing';
    case 'list':
      return 'a list';
    case 'mapping':
      return 'a mapping';
    case 'timestamp':
      return 'a timestamp (quote it to keep it as text)';
    case 'binary':
      return 'binary data';
    case 'string': {
      const s = value as string;
      return `string ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)}`;
    }
    case 'number':
      return Number.isFinite(value) ? `number ${String(value)}` : `a non-finite number (${String(value)})`;
    default:
      return `${typeof value} ${String(value)}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
