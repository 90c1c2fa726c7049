import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../random.js';
import { requestView, type RequestView } from './request-view.js';
import { bucketOf } from './sticky-hash.js';
import { TrafficPolicyError } from './policy-error.js';
import { compileRules, evaluateRules, type RuleCondition, type TargetingRule } from './targeting.js';

const ARMS = ['stable', 'canary', 'shadow'];

function view(values: { headers?: Record<string, string>; parameters?: Record<string, unknown>; inputs?: Record<string, unknown> }): RequestView {
  return {
    header: (n) => values.headers?.[n],
    parameter: (n) => values.parameters?.[n],
    input: (n) => values.inputs?.[n],
  };
}

/** Whether a single-condition rule matches a view. */
function matches(condition: RuleCondition, v: RequestView): boolean {
  const compiled = compileRules([{ name: 'r', match: [condition], arm: 'canary' }], ARMS);
  return evaluateRules(compiled, v, 'weather', 'user-1') !== undefined;
}

function rejects(rules: unknown, message: RegExp, field: string, rule?: string): void {
  assert.throws(() => compileRules(rules as TargetingRule[], ARMS), (e: unknown) => {
    assert.ok(e instanceof TrafficPolicyError, String(e));
    assert.match(e.message, message);
    assert.equal(e.field, field);
    assert.equal(e.rule, rule);
    return true;
  });
}

test('rules are tried in the order written and the first whose conditions all hold wins', () => {
  const compiled = compileRules([
    { name: 'internal', match: [{ header: 'x-team', op: 'equals', value: 'ml' }, { parameter: 'debug', op: 'equals', value: true }], arm: 'shadow' },
    { name: 'beta', match: [{ header: 'x-team', op: 'in', values: ['ml', 'beta'] }], arm: 'canary' },
  ], ARMS);
  assert.deepEqual(evaluateRules(compiled, view({ headers: { 'x-team': 'ml' }, parameters: { debug: true } }), 'weather', 'u'), { arm: 'shadow', rule: 'internal' });
  // One condition of "internal" fails, so "beta" is next.
  assert.deepEqual(evaluateRules(compiled, view({ headers: { 'x-team': 'ml' }, parameters: { debug: false } }), 'weather', 'u'), { arm: 'canary', rule: 'beta' });
  assert.deepEqual(evaluateRules(compiled, view({ headers: { 'x-team': 'beta' } }), 'weather', 'u'), { arm: 'canary', rule: 'beta' });
  assert.equal(evaluateRules(compiled, view({ headers: { 'x-team': 'ops' } }), 'weather', 'u'), undefined);
  assert.equal(evaluateRules(compileRules([], ARMS), view({}), 'weather', 'u'), undefined);
});

test('a match returns the same frozen object every time, so matching allocates nothing', () => {
  const compiled = compileRules([{ name: 'all-ml', match: [{ header: 'x-team', op: 'exists' }], arm: 'canary' }], ARMS);
  const a = evaluateRules(compiled, view({ headers: { 'x-team': 'ml' } }), 'weather', undefined);
  const b = evaluateRules(compiled, view({ headers: { 'x-team': 'ops' } }), 'weather', undefined);
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
});

test('header names are case-insensitive', () => {
  const v = requestView({ 'x-tenant': 'acme' }, {}, 'v2', null);
  assert.equal(matches({ header: 'X-Tenant', op: 'equals', value: 'acme' }, v), true);
  assert.equal(matches({ header: 'x-tenant', op: 'equals', value: 'acme' }, v), true);
  assert.equal(matches({ header: 'X-TENANT', op: 'exists' }, v), true);
});

test('equals compares as strings when either side is a string, else by value', () => {
  assert.equal(matches({ header: 'x-tier', op: 'equals', value: 1 }, view({ headers: { 'x-tier': '1' } })), true);
  assert.equal(matches({ header: 'x-tier', op: 'equals', value: 1 }, view({ headers: { 'x-tier': '1.0' } })), false);
  assert.equal(matches({ header: 'x-beta', op: 'equals', value: true }, view({ headers: { 'x-beta': 'true' } })), true);
  assert.equal(matches({ input: 'store', op: 'equals', value: '7' }, view({ inputs: { store: 7 } })), true);
  assert.equal(matches({ input: 'store', op: 'equals', value: 7 }, view({ inputs: { store: 7 } })), true);
  // As strings, the number 1000 is "1000": not "1e3", not "1000.0".
  assert.equal(matches({ input: 'store', op: 'equals', value: '1e3' }, view({ inputs: { store: 1000 } })), false);
  assert.equal(matches({ input: 'store', op: 'equals', value: '1000.0' }, view({ inputs: { store: 1000 } })), false);
  assert.equal(matches({ input: 'store', op: 'equals', value: '0.1' }, view({ inputs: { store: 0.1 } })), true);
  assert.equal(matches({ input: 'store', op: 'equals', value: 'true' }, view({ inputs: { store: true } })), true);
  assert.equal(matches({ input: 'store', op: 'equals', value: 1 }, view({ inputs: { store: true } })), false);
  assert.equal(matches({ input: 'store', op: 'equals', value: 7 }, view({ inputs: { store: 8 } })), false);
  assert.equal(matches({ parameter: 'debug', op: 'equals', value: true }, view({ parameters: { debug: true } })), true);
  assert.equal(matches({ parameter: 'debug', op: 'equals', value: true }, view({ parameters: { debug: 1 } })), false);
  assert.equal(matches({ parameter: 'debug', op: 'equals', value: 'x' }, view({ parameters: { debug: { x: 1 } } })), false);
  assert.equal(matches({ parameter: 'debug', op: 'equals', value: 'x' }, view({})), false);
});

test('in follows the equals semantics for each listed value', () => {
  const c: RuleCondition = { input: 'region', op: 'in', values: ['eu', 3, '4'] };
  assert.equal(matches(c, view({ inputs: { region: 'eu' } })), true);
  assert.equal(matches(c, view({ inputs: { region: '3' } })), true);
  assert.equal(matches(c, view({ inputs: { region: 3 } })), true);
  assert.equal(matches(c, view({ inputs: { region: 4 } })), true);
  assert.equal(matches(c, view({ inputs: { region: 'us' } })), false);
  assert.equal(matches(c, view({ inputs: { region: 5 } })), false);
  assert.equal(matches({ input: 'n', op: 'in', values: ['1e3', '07'] }, view({ inputs: { n: 1000 } })), false);
  assert.equal(matches({ input: 'n', op: 'in', values: ['1e3', '07'] }, view({ inputs: { n: '07' } })), true);
  assert.equal(matches({ header: 'x-flag', op: 'in', values: ['true', 'yes'] }, view({ headers: { 'x-flag': 'yes' } })), true);
  assert.equal(matches({ parameter: 'flag', op: 'in', values: ['true'] }, view({ parameters: { flag: true } })), true);
  assert.equal(matches({ parameter: 'flag', op: 'in', values: [1] }, view({ parameters: { flag: true } })), false);
});

test('numeric ops parse decimal strings and are false for anything that is not a number', () => {
  const gt = (actual: unknown): boolean => matches({ header: 'x-age', op: 'gt', value: 17 }, view({ headers: { 'x-age': actual as string } }));
  assert.equal(gt('18'), true);
  assert.equal(gt(' 18 '), true);
  assert.equal(gt('1.8e1'), true);
  assert.equal(gt('17'), false);
  assert.equal(gt('abc'), false);
  assert.equal(gt(''), false);
  assert.equal(gt('0x20'), false);
  assert.equal(gt('Infinity'), false);
  assert.equal(matches({ input: 'amount', op: 'gte', value: 100 }, view({ inputs: { amount: 100 } })), true);
  assert.equal(matches({ input: 'amount', op: 'gte', value: 100 }, view({ inputs: { amount: 99.99 } })), false);
  assert.equal(matches({ input: 'amount', op: 'lt', value: 0 }, view({ inputs: { amount: -0.5 } })), true);
  assert.equal(matches({ input: 'amount', op: 'lt', value: 0 }, view({ inputs: { amount: 0 } })), false);
  assert.equal(matches({ input: 'amount', op: 'lte', value: 0 }, view({ inputs: { amount: '-0' } })), true);
  assert.equal(matches({ input: 'amount', op: 'lte', value: 1 }, view({ inputs: { amount: true } })), false);
  assert.equal(matches({ input: 'amount', op: 'lte', value: 1 }, view({})), false);
});

test('regex is compiled once, unanchored, and tests strings and stringified numbers', () => {
  assert.equal(matches({ header: 'user-agent', op: 'regex', value: 'Mobile|Android' }, view({ headers: { 'user-agent': 'Mozilla/5.0 (Linux; Android 14)' } })), true);
  assert.equal(matches({ header: 'user-agent', op: 'regex', value: '^curl/' }, view({ headers: { 'user-agent': 'Mozilla/5.0 curl/8' } })), false);
  assert.equal(matches({ input: 'zip', op: 'regex', value: '^9\\d{4}$' }, view({ inputs: { zip: 94110 } })), true);
  assert.equal(matches({ input: 'zip', op: 'regex', value: '.' }, view({})), false);
});

test('exists checks presence, and value false checks absence', () => {
  const present = view({ headers: { 'x-debug': '' }, parameters: { trace: null } });
  assert.equal(matches({ header: 'x-debug', op: 'exists' }, present), true);
  assert.equal(matches({ header: 'x-other', op: 'exists' }, present), false);
  assert.equal(matches({ header: 'x-other', op: 'exists', value: false }, present), true);
  assert.equal(matches({ header: 'x-debug', op: 'exists', value: false }, present), false);
  // A JSON null parameter is absent, as the V2 protocol reads it.
  assert.equal(matches({ parameter: 'trace', op: 'exists' }, present), false);
});

test('percent takes a sticky share of the matching segment, hashed by deployment, rule name and key', () => {
  const compiled = compileRules([{ name: 'mobile-10', match: [{ header: 'x-client', op: 'equals', value: 'mobile' }], percent: 10, arm: 'canary' }], ARMS);
  const mobile = view({ headers: { 'x-client': 'mobile' } });
  const random = mulberry32(11);
  let taken = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const key = `user-${Math.floor(random() * 2 ** 32)}`;
    const hit = evaluateRules(compiled, mobile, 'weather', key);
    assert.equal(hit !== undefined, bucketOf('weather:rule:mobile-10', key) < 1000, key);
    assert.deepEqual(evaluateRules(compiled, mobile, 'weather', key), hit, 'sticky');
    if (hit) taken++;
  }
  assert.ok(Math.abs((100 * taken) / n - 10) < 1, `${(100 * taken) / n} %`);
  // Vector: bucketOf('weather:rule:vip', 'user-1') = 2041 (sticky-hash.test.ts), so 20.41 % is the edge.
  const edge = (percent: number): boolean =>
    evaluateRules(compileRules([{ name: 'vip', match: [{ header: 'x-client', op: 'exists' }], percent, arm: 'canary' }], ARMS), mobile, 'weather', 'user-1') !== undefined;
  assert.equal(edge(20.41), false);
  assert.equal(edge(20.42), true);
  assert.equal(edge(0), false);
  assert.equal(edge(100), true);
});

test('percent is salted per deployment: another deployment takes a different share of the same users', () => {
  const compiled = compileRules([{ name: 'half', match: [{ header: 'x-client', op: 'exists' }], percent: 50, arm: 'canary' }], ARMS);
  const v = view({ headers: { 'x-client': 'web' } });
  let differ = 0;
  for (let i = 0; i < 2000; i++) {
    // Alternating deployments also checks that the cached salt follows the deployment.
    const a = evaluateRules(compiled, v, 'weather', `u${i}`) !== undefined;
    const b = evaluateRules(compiled, v, 'fraud', `u${i}`) !== undefined;
    assert.equal(a, bucketOf('weather:rule:half', `u${i}`) < 5000);
    assert.equal(b, bucketOf('fraud:rule:half', `u${i}`) < 5000);
    if (a !== b) differ++;
  }
  assert.ok(differ > 800 && differ < 1200, String(differ));
});

test('percent without a routing key draws at random', () => {
  const compiled = compileRules([{ name: 'quarter', match: [{ header: 'x-client', op: 'exists' }], percent: 25, arm: 'canary' }], ARMS);
  const v = view({ headers: { 'x-client': 'web' } });
  let taken = 0;
  for (let i = 0; i < 20_000; i++) if (evaluateRules(compiled, v, 'weather', undefined)) taken++;
  assert.ok(Math.abs(taken / 200 - 25) < 2, `${taken / 200} %`);
});

test('compileRules names the rule and the field of every mistake', () => {
  const rule = (extra: Partial<TargetingRule> & Record<string, unknown>, condition?: Record<string, unknown>): unknown[] =>
    [{ name: 'vip', match: [condition ?? { header: 'x-tier', op: 'equals', value: 'gold' }], arm: 'canary', ...extra }];
  rejects(rule({ arm: 'blue' }), /^targeting rule "vip" \(rules\[0\]\): arm "blue" is not an arm of this deployment \(arms: stable, canary, shadow\)$/, 'rules[0].arm', 'vip');
  rejects(rule({ arm: undefined }), /rule "vip" .*arm must name an arm/, 'rules[0].arm', 'vip');
  rejects(rule({ percent: 101 }), /rule "vip" .*percent must be a number from 0 to 100, got 101/, 'rules[0].percent', 'vip');
  rejects(rule({ percent: -1 }), /percent must be a number from 0 to 100, got -1/, 'rules[0].percent', 'vip');
  rejects(rule({ percent: '50' as unknown as number }), /percent must be a number from 0 to 100, got "50"/, 'rules[0].percent', 'vip');
  rejects(rule({ match: [] }), /rule "vip" .*match must list at least one condition/, 'rules[0].match', 'vip');
  rejects(rule({ match: 'x' as unknown as RuleCondition[] }), /match must be a list of conditions/, 'rules[0].match', 'vip');
  rejects(rule({}, { header: 'x-tier', op: 'equals' }), /rule "vip" .*match\[0\]\.value must be a string, number or boolean for op "equals", got nothing/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, { header: 'x-tier', input: 'tier', op: 'exists' }), /match\[0\] must read exactly one of header, parameter or input; it reads more than one/, 'rules[0].match[0]', 'vip');
  rejects(rule({}, { op: 'exists' }), /match\[0\] must read exactly one of header, parameter or input; it reads none/, 'rules[0].match[0]', 'vip');
  rejects(rule({}, { header: '', op: 'exists' }), /match\[0\]\.header must be a non-empty name/, 'rules[0].match[0].header', 'vip');
  rejects(rule({}, { header: 'x', op: 'regexp', value: 'a' }), /match\[0\]\.op must be one of equals, in, regex, gt, gte, lt, lte, exists, got "regexp"/, 'rules[0].match[0].op', 'vip');
  rejects(rule({}, { header: 'x', op: 'regex', value: '(unclosed' }), /match\[0\]\.value is not a valid regular expression: .*\(unclosed/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, { header: 'x', op: 'regex', value: 3 }), /match\[0\]\.value must be a regular expression written as a string/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, { header: 'x', op: 'in' }), /match\[0\]\.values must be a non-empty list of strings or numbers for op "in", got nothing/, 'rules[0].match[0].values', 'vip');
  rejects(rule({}, { header: 'x', op: 'in', values: [] }), /match\[0\]\.values must be a non-empty list/, 'rules[0].match[0].values', 'vip');
  rejects(rule({}, { header: 'x', op: 'in', value: 'a', values: ['a'] }), /match\[0\]\.value is not used by op "in"/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, { header: 'x', op: 'in', values: ['a', true] }), /match\[0\]\.values\[1\] must be a string or a number, got true/, 'rules[0].match[0].values[1]', 'vip');
  rejects(rule({}, { header: 'x', op: 'equals', value: 'a', values: ['a'] }), /match\[0\]\.values is only used by op "in"; op "equals" takes a single "value"/, 'rules[0].match[0].values', 'vip');
  rejects(rule({}, { header: 'x', op: 'gt', value: '5' }), /match\[0\]\.value must be a finite number for op "gt", got "5"/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, { header: 'x', op: 'exists', value: 'yes' }), /match\[0\]\.value must be true or false for op "exists"/, 'rules[0].match[0].value', 'vip');
  rejects(rule({}, 'x-tier' as unknown as Record<string, unknown>), /match\[0\] must be an object/, 'rules[0].match[0]', 'vip');
  rejects([{ match: [], arm: 'canary' }], /^targeting rule rules\[0\]: "name" must be a non-empty string, got nothing$/, 'rules[0].name');
  rejects([...rule({}), ...rule({})], /rule "vip" \(rules\[1\]\): name is used by an earlier rule/, 'rules[1].name', 'vip');
  rejects([null], /targeting rule rules\[0\] must be an object/, 'rules[0]');
  rejects({}, /targeting rules must be a list/, 'rules');
});
