// Fuzz: thousands of generated malformed inference requests against the real server. Every one must be
// answered 4xx with an error body, and the server must still serve valid requests afterwards.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../src/governance/keys.js';
import { principal, V1 } from './helpers.js';
import { post, startTestServer } from './serving-helpers.js';
import { mulberry32 as rng } from '../src/random.js';

const COUNT = 1500;


interface Case {
  kind: string;
  contentType: string | null;
  body: Buffer;
}

function generate(seed: number): Case[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const valid = () => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 4], data: [0, 12.8, 5, 4.7, 10.9, 10.6, 2.8, 4.5] }] });
  const randomValue = (depth: number): unknown => {
    const k = depth > 3 ? int(0, 4) : int(0, 6);
    switch (k) {
      case 0: return null;
      case 1: return r() < 0.5;
      case 2: return pick([0, -0, 1, -1, 3.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
      case 3: return pick(['', 'x', 'FP32', 'features', '\u0000', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'a'.repeat(int(1, 5000))]);
      case 4: return pick([[], {}, '__proto__']);
      case 5: return Array.from({ length: int(0, 4) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(0, 4) }, () => [pick(['inputs', 'outputs', 'id', 'parameters', 'name', 'data', 'shape', 'datatype', '__proto__', 'constructor']), randomValue(depth + 1)]));
    }
  };
  const mutations: [string, () => unknown][] = [
    ['wrong datatype', () => { const v = valid(); v.inputs[0]!.datatype = pick(['FP16', 'BF16', 'INT64', 'BYTES', 'BOOL', 'fp32', 'FLOAT', '', 'INT128']); return v; }],
    ['wrong shape', () => { const v = valid(); (v.inputs[0] as { shape: unknown }).shape = pick([[2, 5], [8], [1, 2, 4], [-2, 4], [2.5, 4], ['2', 4], [], null, 'x', [2 ** 40, 4], [0, 4]]); return v; }],
    ['wrong data', () => { const v = valid(); (v.inputs[0] as { data: unknown }).data = pick([[1, 2], 'data', null, {}, [[1, 2, 3, 4], [5, 6, 7]], [1, 2, 3, 4, 5, 6, 7, 'x'], [1, 2, 3, 4, 5, 6, 7, null], [1, 2, 3, 4, 5, 6, 7, true], [1, 2, 3, 4, 5, 6, 7, [8]], [1, 2, 3, 4, 5, 6, 7, { v: 8 }]]); return v; }],
    ['huge numbers', () => `{"inputs":[{"name":"features","datatype":"FP32","shape":[2,4],"data":[1,2,3,4,5,6,7,${pick(['1e999', '-1e999', '3.5e38', '1e39', '-1e39'])}]}]}`],
    ['unknown input', () => { const v = valid(); v.inputs[0]!.name = pick(['feature', 'x', '', 'FEATURES', 'features ']); return v; }],
    ['extra input', () => { const v = valid(); v.inputs.push({ ...v.inputs[0]!, name: `extra${int(0, 9)}` }); return v; }],
    ['duplicate input', () => { const v = valid(); v.inputs.push({ ...v.inputs[0]! }); return v; }],
    ['missing field', () => { const v = valid() as { inputs: Record<string, unknown>[] }; delete v.inputs[0]![pick(['name', 'datatype', 'shape', 'data'])]; return v; }],
    ['unknown output', () => ({ ...valid(), outputs: [{ name: pick(['labels', 'prob', '', 'x']) }] })],
    ['bad outputs', () => ({ ...valid(), outputs: pick([{}, 'label', [1], [{}], [{ name: 7 }], true]) })],
    ['bad inputs', () => ({ inputs: pick([[], {}, null, 'x', 3, [null], [[]], [{}]]) })],
    ['random json', () => randomValue(0)],
    ['random object', () => Object.fromEntries([[pick(['input', 'Inputs', 'instances', 'data']), randomValue(1)]])],
  ];
  const cases: Case[] = [];
  for (let i = 0; i < COUNT; i++) {
    const roll = r();
    if (roll < 0.62) {
      const [kind, make] = pick(mutations);
      const v = make();
      cases.push({ kind, contentType: 'application/json', body: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v) ?? 'null') });
    } else if (roll < 0.74) {
      const text = JSON.stringify(valid());
      cases.push({ kind: 'truncated json', contentType: 'application/json', body: Buffer.from(text.slice(0, int(0, text.length - 1))) });
    } else if (roll < 0.8) {
      const depth = pick([100, 1000, 10_000, 100_000]);
      cases.push({ kind: 'deep nesting', contentType: 'application/json', body: Buffer.from(`{"inputs":[{"name":"features","datatype":"FP32","shape":[2,4],"data":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`) });
    } else if (roll < 0.88) {
      const text = Buffer.from(JSON.stringify(valid()));
      const at = int(1, text.length - 2);
      const bad = Buffer.from(pick([[0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0x28], [0x80], [0xed, 0xa0, 0x80]]));
      cases.push({ kind: 'invalid utf-8', contentType: 'application/json', body: Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]) });
    } else if (roll < 0.96) {
      cases.push({ kind: 'wrong content type', contentType: pick([null, 'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream']), body: Buffer.from(JSON.stringify(valid())) });
    } else {
      cases.push({ kind: 'empty body', contentType: 'application/json', body: Buffer.alloc(0) });
    }
  }
  return cases;
}

function send(url: URL, key: string, c: Case): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${key}`, 'content-length': c.body.length };
    if (c.contentType) headers['content-type'] = c.contentType;
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(c.body);
  });
}

describe('inference fuzz', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let key: string;
  before(async () => {
    t = await startTestServer();
    const admin = principal('admin');
    await t.server.ctx.registry.register(admin, { name: 'weather', artifact: { path: V1.model } });
    await t.server.ctx.registry.setAlias(admin, 'weather', 'production', '1');
    key = (await createKey(t.server.ctx.store.db, { name: 'fuzz', role: 'invoker' }, admin.actor)).key;
  });
  after(async () => t?.cleanup());

  it(`answers ${COUNT} malformed requests with 4xx and an error body, then still serves`, async () => {
    const cases = generate(20261123);
    const url = new URL(`${t.server.url}/v2/models/weather/infer`);
    const bad: string[] = [];
    const kinds = new Map<string, number>();
    for (let i = 0; i < cases.length; i += 8) {
      const batch = cases.slice(i, i + 8);
      const results = await Promise.all(batch.map((c) => send(url, key, c)));
      results.forEach((res, j) => {
        const c = batch[j]!;
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        let body: { error?: unknown; code?: unknown } | undefined;
        try {
          body = JSON.parse(res.body) as typeof body;
        } catch {
          body = undefined;
        }
        const ok = res.status >= 400 && res.status < 500 && typeof body?.error === 'string' && typeof body.code === 'string' && body.code.startsWith('MG_ERR_INFER_');
        if (!ok && bad.length < 10) bad.push(`${c.kind}: ${res.status} ${res.body.slice(0, 200)} <- ${c.body.subarray(0, 120).toString('utf8')}`);
      });
    }
    assert.deepEqual(bad, []);
    assert.ok(kinds.size >= 15, `varied cases: ${[...kinds.keys()].join(', ')}`);
    const valid = await post(url.toString(), { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: [0, 12.8, 5, 4.7] }] }, key);
    assert.equal(valid.status, 200);
  });
});
