// Loads the configuration once: defaults < modelgate.yaml < MODELGATE_* environment < CLI flags.
// The result is validated against ConfigSchema and deep-frozen; nothing changes it afterwards.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ModelgateError } from '../errors/index.js';
import { BatchingSchema, ConfigSchema, type Config } from './schema.js';

export type DeepPartial<T> = { [K in keyof T]?: NonNullable<T[K]> extends object ? DeepPartial<NonNullable<T[K]>> : T[K] };

/** Shortcut variables; any other setting is `MODELGATE_<SECTION>__<KEY>` (e.g. MODELGATE_SERVER__BODY_LIMIT). */
const ENV_SHORTCUTS: Record<string, string[]> = {
  MODELGATE_HOME: ['home'],
  MODELGATE_DATABASE_URL: ['databaseUrl'],
  MODELGATE_HOST: ['server', 'host'],
  MODELGATE_PORT: ['server', 'port'],
  MODELGATE_LOG_LEVEL: ['log', 'level'],
  MODELGATE_OWNER_TEAM: ['owner', 'team'],
  MODELGATE_OWNER_CONTACT: ['owner', 'contact'],
};
/** Variables that belong to the CLI client, not to the configuration. */
const ENV_NOT_CONFIG = new Set(['MODELGATE_URL', 'MODELGATE_KEY', 'MODELGATE_CONFIG', 'MODELGATE_TEST_DATABASE_URL', 'MODELGATE_TEST_CONCURRENCY']);

export interface LoadConfigOptions {
  /** Path of the YAML file; default ./modelgate.yaml when it exists. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: DeepPartial<Config>;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileLayer = readConfigFile(options.file ?? env.MODELGATE_CONFIG, cwd);
  const envLayer = envToLayer(env);
  const merged = merge(merge(merge({}, fileLayer), envLayer), stripUndefined(options.flags ?? {}));

  let candidate: unknown = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, merged));
  candidate = Value.Convert(ConfigSchema, candidate);
  // TypeBox does not descend into Record values for defaults: fill each per-model batching block here.
  const models = (candidate as { serving?: { models?: Record<string, { batching?: unknown }> } }).serving?.models;
  for (const entry of Object.values(models ?? {})) {
    if (entry && typeof entry === 'object' && entry.batching && typeof entry.batching === 'object') entry.batching = Value.Default(BatchingSchema, entry.batching);
  }
  // The same for each alerting sink (timeoutMs) and route (page, ticket, escalate).
  const alerting = (candidate as { alerting?: Record<'sinks' | 'routes', Record<string, unknown> | undefined> }).alerting;
  for (const key of ['sinks', 'routes'] as const) {
    const entrySchema = Object.values((ConfigSchema.properties.alerting.properties[key] as unknown as { patternProperties: Record<string, TSchema> }).patternProperties)[0]!;
    const entries = alerting?.[key];
    for (const [name, entry] of Object.entries(entries ?? {})) if (entry && typeof entry === 'object') entries![name] = Value.Default(entrySchema, entry);
  }
  if (!Value.Check(ConfigSchema, candidate)) {
    const problems = [...Value.Errors(ConfigSchema, candidate)]
      .slice(0, 5)
      .map((e) => `${e.path || '/'}: ${e.message}${e.value !== undefined && typeof e.value !== 'object' ? ` (got ${JSON.stringify(e.value)})` : ''}`);
    throw new ModelgateError('MG_ERR_CONFIG_INVALID', `Invalid configuration: ${problems.join('; ')}`, { problems });
  }
  const config = candidate as Config;
  config.home = resolve(cwd, config.home);
  return deepFreeze(config);
}

function readConfigFile(path: string | undefined, cwd: string): Record<string, unknown> {
  const explicit = path !== undefined && path !== '';
  const file = resolve(cwd, explicit ? path : 'modelgate.yaml');
  if (!explicit && !existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ModelgateError('MG_ERR_CONFIG_FILE_UNREADABLE', `Cannot read configuration file ${file}: ${(cause as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ModelgateError('MG_ERR_CONFIG_FILE_UNREADABLE', `Configuration file ${file} is not valid YAML: ${(cause as Error).message}`);
  }
  if (parsed == null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ModelgateError('MG_ERR_CONFIG_FILE_UNREADABLE', `Configuration file ${file} must hold a mapping of settings.`);
  }
  return parsed as Record<string, unknown>;
}

function envToLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MODELGATE_') || value === undefined || value === '' || ENV_NOT_CONFIG.has(name)) continue;
    const path =
      ENV_SHORTCUTS[name] ??
      (name.includes('__') ? name.slice('MODELGATE_'.length).split('__').map(camelCase) : undefined);
    if (!path) continue;
    setPath(layer, path, value);
  }
  return layer;
}

function camelCase(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    const existing = base[k];
    base[k] = isPlainObject(v) && isPlainObject(existing) ? merge({ ...existing }, v) : isPlainObject(v) ? merge({}, v) : v;
  }
  return base;
}

function stripUndefined(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) ? stripUndefined(v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
