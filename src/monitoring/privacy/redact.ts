// Redaction of prediction-log payloads before anything is stored or logged: rules by field name (drop, hash, mask,
// keep) at any depth, then the PII detectors on every other string, object keys included.
import { createHmac } from 'node:crypto';
import { mgError } from '../../errors/index.js';
import { DETECTOR_NAMES, scrubText, selectDetectors, type DetectorName } from './detectors.js';

export { DETECTOR_NAMES, DETECTOR_TOKENS, type DetectorName } from './detectors.js';

/**
 * What happens to a field's value:
 * - drop: the key is removed;
 * - hash: the value becomes hashValue(salt, value), non-strings hashed as their JSON text (so 42 and "42" hash
 *   alike, which suits subject keys); null stays null;
 * - mask: the shape stays and the content goes: strings become "*" per character, keeping the last 4 when longer
 *   than 8 ("***************1111"), numbers 0, booleans false, null null, arrays and objects masked element-wise;
 * - keep: the value is copied as is, detectors off for the whole subtree (rules on nested fields still apply).
 */
export type FieldRule = 'drop' | 'hash' | 'mask' | 'keep';

export interface RedactionPolicy {
  /** Rules by field (feature) name; matched case-insensitively against object keys at any depth. */
  fields?: Record<string, FieldRule>;
  /** Which detectors scan string values: true (all, the default), false (none), or a list. */
  detectors?: boolean | DetectorName[];
  /** Salt for 'hash' (HMAC-SHA256, hex, first 16 bytes => 32 hex chars, prefixed "h:"). */
  salt: string;
}

export interface Redactor {
  /** Deep copy of any JSON value with rules applied to object keys and detectors to every string (keys too if they look like PII). Dropped fields are removed. Never mutates input. */
  redact(value: unknown): unknown;
  /** Detectors only, on one string. */
  scrub(text: string): string;
  /** How many replacements each detector made since creation (for a metric). */
  counts(): Record<DetectorName, number>;
}

const FIELD_RULES: ReadonlySet<string> = new Set<FieldRule>(['drop', 'hash', 'mask', 'keep']);

/** Salted hash of a subject key (the same function 'hash' uses), for storing and erasing by subject. */
export function hashValue(salt: string, value: string): string {
  if (typeof salt !== 'string' || salt === '') throw mgError('MG_ERR_CONFIG_INVALID', 'The redaction salt is empty: set a secret salt so hashed values cannot be looked up by hashing guesses.');
  return 'h:' + createHmac('sha256', salt).update(value, 'utf8').digest('hex').slice(0, 32);
}

/** How the walk treats what it meets below a field: scan strings, copy them, or mask them. */
type Mode = 'scan' | 'keep' | 'mask';

export function compileRedactor(policy: RedactionPolicy): Redactor {
  const salt = policy.salt;
  hashValue(salt, ''); // fails now, not on the first payload, when the salt is missing
  const rules = compileFieldRules(policy.fields ?? {});
  const detectors = selectDetectors(detectorNames(policy.detectors ?? true));
  const hits = Object.fromEntries(DETECTOR_NAMES.map((n) => [n, 0])) as Record<DetectorName, number>;

  const scrub = (text: string): string => scrubText(text, detectors, hits);

  const hashAny = (value: unknown): unknown => {
    if (typeof value === 'string') return hashValue(salt, value);
    if (value === null || value === undefined) return value;
    const json = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    return json === undefined ? undefined : hashValue(salt, json);
  };

  const walk = (value: unknown, mode: Mode): unknown => {
    switch (typeof value) {
      case 'string':
        return mode === 'scan' ? scrub(value) : mode === 'mask' ? maskString(value) : value;
      case 'number':
        return mode === 'mask' ? 0 : value;
      case 'boolean':
        return mode === 'mask' ? false : value;
      case 'bigint':
        return mode === 'mask' ? 0n : value;
      case 'object':
        break;
      default:
        return value; // undefined, and functions or symbols that JSON would drop anyway
    }
    if (value === null) return null;
    if (Array.isArray(value)) return value.map((item: unknown) => walk(item, mode));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(value), mode); // Date and friends, as JSON sees them
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const rule = rules.get(key.toLowerCase());
      if (rule === 'drop') continue;
      // A key the policy names is a field name, not data; other keys are scanned like any string.
      const outKey = rule === undefined && mode !== 'keep' ? uniqueKey(out, scrub(key)) : key;
      const redacted = rule === 'hash' ? hashAny(child) : walk(child, rule === 'mask' || rule === 'keep' ? rule : mode);
      setOwn(out, outKey, redacted);
    }
    return out;
  };

  return {
    redact: (value) => walk(value, 'scan'),
    scrub,
    counts: () => ({ ...hits }),
  };
}

function compileFieldRules(fields: Record<string, FieldRule>): ReadonlyMap<string, FieldRule> {
  const rules = new Map<string, FieldRule>();
  for (const [name, rule] of Object.entries(fields)) {
    if (!FIELD_RULES.has(rule)) {
      throw mgError('MG_ERR_CONFIG_INVALID', `Redaction rule "${String(rule)}" for field "${name}" is unknown: use drop, hash, mask or keep.`);
    }
    const key = name.toLowerCase();
    const earlier = rules.get(key);
    if (earlier !== undefined && earlier !== rule) {
      throw mgError('MG_ERR_CONFIG_INVALID', `Redaction fields "${name}" and another spelling of it ask for ${earlier} and ${rule}; field names match case-insensitively, so keep one.`);
    }
    rules.set(key, rule);
  }
  return rules;
}

function detectorNames(setting: boolean | DetectorName[]): readonly DetectorName[] {
  if (setting === true) return DETECTOR_NAMES;
  if (setting === false) return [];
  if (!Array.isArray(setting)) throw mgError('MG_ERR_CONFIG_INVALID', 'Redaction detectors must be true, false or a list of detector names.');
  for (const name of setting) {
    if (!DETECTOR_NAMES.includes(name)) {
      throw mgError('MG_ERR_CONFIG_INVALID', `Redaction detector "${String(name)}" is unknown: use ${DETECTOR_NAMES.join(', ')}.`);
    }
  }
  return setting;
}

function maskString(text: string): string {
  const chars = Array.from(text); // code points, so an emoji is one "*"
  return chars.length > 8 ? '*'.repeat(chars.length - 4) + chars.slice(-4).join('') : '*'.repeat(chars.length);
}

/** Two keys can scrub to the same token ("a@x.io", "b@x.io"): number the later ones rather than lose a value. */
function uniqueKey(out: Record<string, unknown>, scrubbed: string): string {
  if (!Object.hasOwn(out, scrubbed)) return scrubbed;
  let n = 2;
  while (Object.hasOwn(out, `${scrubbed}#${n}`)) n++;
  return `${scrubbed}#${n}`;
}

/** Plain assignment, except that a JSON "__proto__" key stays an own property instead of replacing the prototype. */
function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
