// Targeting rules: conditions on a request's headers, parameters and inputs that send a segment of the
// traffic to a chosen arm before the weights are consulted. Rules are validated and compiled once per policy.
//
// Evaluation order for every request (the caller runs the steps; this module is step 2):
//   1. kill switch: when set, every request goes to the stable arm and nothing below runs;
//   2. targeting rules, in the order written: a rule matches when ALL of its conditions hold, and the first
//      rule that matches (and whose `percent` takes this key) decides the arm;
//   3. sticky weights: pickArm(table, bucketOf(deployment, key)), or randomBucket() without a key.
//
// Comparison semantics, chosen so a rule reads the same whether a value arrives as a header (always a
// string) or as a JSON number:
// - `equals` / `in`: when either side is a string both are compared as strings, so header "1" equals 1
//   (and "1.0" does not). Two numbers compare as numbers, two booleans as booleans.
// - `gt` `gte` `lt` `lte`: numbers; a decimal string ("12", "-3.5e2") is parsed, anything else (booleans,
//   "", "abc", "0x10") makes the condition false.
// - `regex`: a JavaScript regular expression, unanchored (write ^…$ to match the whole value), tested on
//   strings and on numbers and booleans written as strings.
// - `exists`: the value is present (a header sent, a parameter or input element that is not null);
//   `value: false` inverts it. A condition on an absent value is false for every other op.
// Header names are case-insensitive; parameter and input names are not, as in the protocols.
import { bucketOf, BUCKETS } from './sticky-hash.js';
import { randomBucket } from './assign.js';
import { TrafficPolicyError } from './policy-error.js';
import type { RequestView } from './request-view.js';

export type RuleOp = 'equals' | 'in' | 'regex' | 'gt' | 'gte' | 'lt' | 'lte' | 'exists';

export interface RuleCondition {
  header?: string;
  parameter?: string;
  input?: string;
  op: RuleOp;
  value?: string | number | boolean;
  values?: (string | number)[];
}

export interface TargetingRule {
  name: string;
  match: RuleCondition[];
  /** percent of the matching segment, by sticky hash (default 100) */
  percent?: number;
  arm: string;
}

export interface RuleMatch {
  readonly arm: string;
  readonly rule: string;
}

type Source = 'header' | 'parameter' | 'input';

const OPS: ReadonlySet<string> = new Set<RuleOp>(['equals', 'in', 'regex', 'gt', 'gte', 'lt', 'lte', 'exists']);

interface CompiledCondition {
  readonly source: Source;
  /** Lower-cased for headers. */
  readonly name: string;
  readonly op: RuleOp;
  /** equals: the value; exists: whether presence is required. */
  readonly value: string | number | boolean;
  /** equals: String(value), prepared so that no comparison builds a string per request. */
  readonly text: string;
  /**
   * gt…lte: the bound. equals: the number a JSON number must be to equal the value: the value itself, or
   * for a string the number whose String() it is ("7" → 7, "1.0" → NaN since String(1) is "1"), which
   * is the string comparison without stringifying the request's number.
   */
  readonly number: number;
  readonly regex: RegExp | null;
  /** in: every value as a string, what a string (or a boolean's "true"/"false") compares against. */
  readonly textSet: ReadonlySet<string> | null;
  /** in: what a JSON number compares against, found as `number` is for equals. */
  readonly numbers: ReadonlySet<number> | null;
}

interface CompiledRule {
  readonly name: string;
  readonly conditions: readonly CompiledCondition[];
  /**
   * Buckets below this take the rule: percent × 100 rounded to a whole basis point, as weights are, so
   * that 20.41 % means buckets 0..2040 and not, through 20.41 × 100 = 2041.0000000000002, also 2041.
   */
  readonly threshold: number;
  /** Returned as is on a match, so a match allocates nothing. Frozen because it is shared. */
  readonly result: RuleMatch;
  /** `${deployment}:rule:${name}` for the last deployment seen: evaluateRules is called with one deployment per compiled policy. */
  saltFor: string | undefined;
  salt: string;
}

export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
}

const RULE_OPS = [...OPS].join(', ');
// A plain decimal number, so that Number() does not also accept "0x10", "0b1", "Infinity" or "".
const DECIMAL = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/**
 * Validates targeting rules against the deployment's arms and prepares them for evaluateRules. Throws a
 * TrafficPolicyError whose message names the rule and the field (and whose `field` is its path).
 */
export function compileRules(rules: readonly TargetingRule[], armNames: readonly string[]): CompiledRules {
  if (!Array.isArray(rules)) throw new TrafficPolicyError(`targeting rules must be a list, got ${describe(rules)}`, 'rules');
  const arms = new Set(armNames);
  const names = new Set<string>();
  const compiled: CompiledRule[] = [];
  for (let r = 0; r < rules.length; r++) {
    const rule: unknown = rules[r];
    const at = `rules[${r}]`;
    if (!isRecord(rule)) throw new TrafficPolicyError(`targeting rule ${at} must be an object {name, match, arm}, got ${describe(rule)}`, at);
    const name = rule.name;
    if (typeof name !== 'string' || name === '') {
      throw new TrafficPolicyError(`targeting rule ${at}: "name" must be a non-empty string, got ${describe(name)}`, `${at}.name`);
    }
    const fail = (field: string, why: string): TrafficPolicyError =>
      new TrafficPolicyError(`targeting rule "${name}" (${at}): ${field} ${why}`, `${at}.${field}`, name);
    if (names.has(name)) throw fail('name', 'is used by an earlier rule; rule names must be unique (the name seeds the rule\'s percent hash)');
    names.add(name);

    const arm = rule.arm;
    if (typeof arm !== 'string' || arm === '') throw fail('arm', `must name an arm, got ${describe(arm)}`);
    if (!arms.has(arm)) throw fail('arm', `"${arm}" is not an arm of this deployment (arms: ${[...arms].join(', ') || 'none'})`);

    let percent = 100;
    if (rule.percent !== undefined) {
      const p = rule.percent;
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) throw fail('percent', `must be a number from 0 to 100, got ${describe(p)}`);
      percent = p;
    }

    const match = rule.match;
    if (!Array.isArray(match)) throw fail('match', `must be a list of conditions, got ${describe(match)}`);
    if (match.length === 0) throw fail('match', 'must list at least one condition (to send a share of all traffic to an arm, use the arm weights)');
    const conditions = match.map((c: unknown, i) => compileCondition(c, `match[${i}]`, fail));

    compiled.push({
      name,
      conditions,
      threshold: Math.round(percent * (BUCKETS / 100)),
      result: Object.freeze({ arm, rule: name }),
      saltFor: undefined,
      salt: '',
    });
  }
  return { rules: compiled };
}

function compileCondition(c: unknown, at: string, fail: (field: string, why: string) => TrafficPolicyError): CompiledCondition {
  if (!isRecord(c)) throw fail(at, `must be an object {header|parameter|input, op, value}, got ${describe(c)}`);
  let source: Source | undefined;
  let name: unknown;
  let count = 0;
  for (const key of ['header', 'parameter', 'input'] as const) {
    if (c[key] === undefined) continue;
    count++;
    source = key;
    name = c[key];
    if (typeof name !== 'string' || name === '') throw fail(`${at}.${key}`, `must be a non-empty name, got ${describe(name)}`);
  }
  if (count !== 1 || source === undefined) {
    throw fail(at, count === 0 ? 'must read exactly one of header, parameter or input; it reads none' : 'must read exactly one of header, parameter or input; it reads more than one');
  }
  const opName = c.op;
  if (typeof opName !== 'string' || !OPS.has(opName)) throw fail(`${at}.op`, `must be one of ${RULE_OPS}, got ${describe(opName)}`);
  const op = opName as RuleOp;
  const value: unknown = c.value;
  const values: unknown = c.values;

  if (op === 'in') {
    if (value !== undefined) throw fail(`${at}.value`, 'is not used by op "in"; list the accepted values in "values"');
    if (!Array.isArray(values) || values.length === 0) throw fail(`${at}.values`, `must be a non-empty list of strings or numbers for op "in", got ${describe(values)}`);
  } else if (values !== undefined) {
    throw fail(`${at}.values`, `is only used by op "in"; op "${op}" takes a single "value"`);
  }

  let checked: string | number | boolean = true;
  let number = NaN;
  let regex: RegExp | null = null;
  let textSet: Set<string> | null = null;
  let numbers: Set<number> | null = null;
  switch (op) {
    case 'equals':
      if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
        throw fail(`${at}.value`, `must be a string, number or boolean for op "equals", got ${describe(value)}`);
      }
      checked = value;
      number = numberMatching(value);
      break;
    case 'in': {
      const texts = new Set<string>();
      const nums = new Set<number>();
      (values as unknown[]).forEach((v, i) => {
        if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
          throw fail(`${at}.values[${i}]`, `must be a string or a number, got ${describe(v)}`);
        }
        texts.add(String(v));
        const n = numberMatching(v);
        if (!Number.isNaN(n)) nums.add(n);
      });
      textSet = texts;
      numbers = nums;
      break;
    }
    case 'regex':
      if (typeof value !== 'string') throw fail(`${at}.value`, `must be a regular expression written as a string for op "regex", got ${describe(value)}`);
      try {
        regex = new RegExp(value);
      } catch (e) {
        throw fail(`${at}.value`, `is not a valid regular expression: ${(e as Error).message}`);
      }
      checked = value;
      break;
    case 'gt': case 'gte': case 'lt': case 'lte':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(`${at}.value`, `must be a finite number for op "${op}", got ${describe(value)}`);
      number = value;
      checked = value;
      break;
    case 'exists':
      if (value !== undefined && typeof value !== 'boolean') throw fail(`${at}.value`, `must be true or false for op "exists" (or left out, meaning true), got ${describe(value)}`);
      checked = value ?? true;
      break;
  }
  return {
    source,
    name: source === 'header' ? (name as string).toLowerCase() : (name as string),
    op,
    value: checked,
    text: String(checked),
    number,
    regex,
    textSet,
    numbers,
  };
}

/**
 * The arm chosen by the first rule that matches the request, or undefined when none does (the caller then
 * uses the weights). `routingKey` makes a rule's `percent` sticky; without one the share is drawn at random.
 */
export function evaluateRules(compiled: CompiledRules, view: RequestView, deployment: string, routingKey: string | undefined): RuleMatch | undefined {
  const rules = compiled.rules;
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r] as CompiledRule;
    if (rule.threshold <= 0) continue;
    const conditions = rule.conditions;
    let all = true;
    for (let i = 0; i < conditions.length; i++) {
      if (!holds(conditions[i] as CompiledCondition, view)) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    if (rule.threshold < BUCKETS) {
      let bucket: number;
      if (routingKey === undefined) bucket = randomBucket();
      else {
        if (rule.saltFor !== deployment) {
          rule.salt = `${deployment}:rule:${rule.name}`;
          rule.saltFor = deployment;
        }
        bucket = bucketOf(rule.salt, routingKey);
      }
      if (!(bucket < rule.threshold)) continue;
    }
    return rule.result;
  }
  return undefined;
}

function holds(c: CompiledCondition, view: RequestView): boolean {
  const actual: unknown = c.source === 'header' ? view.header(c.name) : c.source === 'parameter' ? view.parameter(c.name) : view.input(c.name);
  if (c.op === 'exists') return (actual !== undefined && actual !== null) === c.value;
  if (actual === undefined || actual === null) return false;
  switch (c.op) {
    case 'equals':
      if (typeof actual === 'string') return actual === c.text;
      if (typeof actual === 'number') return actual === c.number;
      if (typeof actual === 'boolean') return typeof c.value === 'boolean' ? actual === c.value : (actual ? 'true' : 'false') === c.text;
      return false;
    case 'in':
      if (typeof actual === 'string') return c.textSet!.has(actual);
      if (typeof actual === 'number') return c.numbers!.has(actual);
      if (typeof actual === 'boolean') return c.textSet!.has(actual ? 'true' : 'false');
      return false;
    case 'regex':
      if (typeof actual === 'string') return c.regex!.test(actual);
      if (typeof actual === 'number' || typeof actual === 'boolean') return c.regex!.test(String(actual));
      return false;
    case 'gt': case 'gte': case 'lt': case 'lte': {
      const n = toNumber(actual);
      if (Number.isNaN(n)) return false;
      return c.op === 'gt' ? n > c.number : c.op === 'gte' ? n >= c.number : c.op === 'lt' ? n < c.number : n <= c.number;
    }
    default:
      return false;
  }
}

/** The number x with String(x) === String(value), or NaN when there is none (booleans, "1.0", "abc"). */
function numberMatching(value: string | number | boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  // Number() then String() round-trips exactly the strings JavaScript itself writes for numbers.
  const n = Number(value);
  return value !== '' && String(n) === value ? n : NaN;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return DECIMAL.test(v) ? Number(v) : NaN;
  if (typeof v === 'bigint') return Number(v);
  return NaN;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null || typeof v !== 'object') return String(v);
  return 'an object';
}
