// Names and references: model names, aliases, and `name`, `name@3`, `name@alias`.
import { ModelgateError } from '../errors/index.js';

const MODEL_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ALIAS_RE = /^[a-z][a-z0-9_-]{0,63}$/;
const RESERVED_ALIASES = new Set(['latest']);

export function checkModelName(name: string): string {
  if (!MODEL_NAME_RE.test(name)) {
    throw new ModelgateError('MG_ERR_MODEL_INVALID_NAME', `Invalid model name "${name}": use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.`);
  }
  return name;
}

export function checkAlias(alias: string): string {
  if (!ALIAS_RE.test(alias) || RESERVED_ALIASES.has(alias)) {
    throw new ModelgateError('MG_ERR_MODEL_INVALID_ALIAS', `Invalid alias "${alias}": use 1 to 64 lower-case letters, digits, dashes or underscores, starting with a letter; "latest" is reserved.`);
  }
  return alias;
}

/** A version selector: a number, an alias, or the latest active version. */
export type VersionSelector = { kind: 'number'; version: number } | { kind: 'alias'; alias: string } | { kind: 'latest' };

export interface ModelRef {
  model: string;
  selector: VersionSelector;
}

export function parseVersionSelector(s: string | undefined): VersionSelector {
  if (s === undefined || s === '' || s === 'latest') return { kind: 'latest' };
  if (/^v?\d+$/.test(s)) {
    const version = Number(s.replace(/^v/, ''));
    if (!Number.isSafeInteger(version) || version < 1) throw new ModelgateError('MG_ERR_MODEL_INVALID_REF', `Invalid version "${s}": versions are numbered from 1.`);
    return { kind: 'number', version };
  }
  return { kind: 'alias', alias: checkAlias(s) };
}

/** Parses `name`, `name@3` or `name@alias`. A bare name means the latest active version. */
export function parseModelRef(ref: string): ModelRef {
  const at = ref.indexOf('@');
  if (at === -1) return { model: checkModelName(ref), selector: { kind: 'latest' } };
  const model = ref.slice(0, at);
  const rest = ref.slice(at + 1);
  if (rest === '' || rest.includes('@')) {
    throw new ModelgateError('MG_ERR_MODEL_INVALID_REF', `Invalid model reference "${ref}": use <name>, <name>@<version number> or <name>@<alias>.`);
  }
  return { model: checkModelName(model), selector: parseVersionSelector(rest) };
}

export function formatSelector(s: VersionSelector): string {
  return s.kind === 'number' ? String(s.version) : s.kind === 'alias' ? s.alias : 'latest';
}
