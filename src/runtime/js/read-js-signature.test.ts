import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ModelgateError } from '../../errors/modelgate-error.js';
import { packagePath } from '../../paths.js';
import { readJsModelSignature } from './read-js-signature.js';

const bytes = (source: string): Uint8Array => new TextEncoder().encode(source);

const SIGNATURE = `export const signature = {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
  outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }],
};`;
const PREDICT = 'export function predict(inputs) { return {}; }';

async function refused(source: string | Uint8Array, message: RegExp, options?: { timeoutMs?: number; maxOldGenerationSizeMb?: number }): Promise<void> {
  await assert.rejects(
    readJsModelSignature(typeof source === 'string' ? bytes(source) : source, options),
    (e: unknown) => {
      assert.ok(e instanceof ModelgateError, String(e));
      assert.equal(e.code, 'MG_ERR_RUNTIME_JS_INVALID_MODULE');
      assert.match(e.message, message);
      assert.ok(!e.message.includes('data:text/javascript'), `the message names the module, not its data: URL: ${e.message}`);
      return true;
    },
  );
}

describe('readJsModelSignature', () => {
  it('returns the normalised signature of a valid module', async () => {
    assert.deepEqual(await readJsModelSignature(bytes(`${SIGNATURE}\n${PREDICT}`)), {
      inputs: [{ name: 'features', kind: 'tensor', datatype: 'FP32', shape: ['batch', 4], onnxType: 'tensor(float)' }],
      outputs: [{ name: 'label', kind: 'tensor', datatype: 'INT64', shape: ['batch'], onnxType: 'tensor(int64)' }],
    });
  });

  it('reads the rain-rule fixture', async () => {
    const s = await readJsModelSignature(readFileSync(packagePath('src', 'runtime', 'js', 'fixtures', 'rain-rule.mjs')));
    assert.deepEqual(s.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['label', 'INT64', ['batch']],
      ['probabilities', 'FP32', ['batch', 2]],
    ]);
  });

  it('lets the module import Node built-ins, top-level await, and async predict', async () => {
    const s = await readJsModelSignature(
      bytes(`import { createHash } from 'node:crypto';
import { format } from 'util';
const salt = createHash('sha256').update(format('%s', 'x')).digest('hex');
await Promise.resolve();
${SIGNATURE}
export async function predict() { return { label: { shape: [0], data: [] } }; }`),
    );
    assert.equal(s.inputs[0]?.name, 'features');
  });

  it('does not run the module in the calling thread', async () => {
    await readJsModelSignature(bytes(`globalThis.__modelgateTouched = true;\n${SIGNATURE}\n${PREDICT}`));
    assert.equal((globalThis as Record<string, unknown>).__modelgateTouched, undefined);
  });

  it('gives the module none of the gateway\'s environment variables', async () => {
    process.env.MODELGATE_TEST_SECRET = 'hunter2';
    try {
      await readJsModelSignature(bytes(`if (process.env.MODELGATE_TEST_SECRET) throw new Error('saw the secret');\n${SIGNATURE}\n${PREDICT}`));
    } finally {
      delete process.env.MODELGATE_TEST_SECRET;
    }
  });

  describe('refuses with MG_ERR_RUNTIME_JS_INVALID_MODULE', () => {
    it('an empty file', () => refused('', /the file is empty/));
    it('bytes that are not UTF-8', () => refused(new Uint8Array([0x00, 0xff, 0xfe, 0x80]), /not UTF-8 text/));
    it('a syntax error', () => refused(`${SIGNATURE}\nconst x = ;\n${PREDICT}`, /not valid JavaScript: SyntaxError: Unexpected token ';'.*node --check/));
    it('a CommonJS module', () => refused('module.exports = { signature: {}, predict() {} };', /not an ES module .*module is not defined.*not module\.exports or require\(\)/));
    it('a module without a signature export', () => refused(PREDICT, /has no `signature` export/));
    it('a module without a predict export', () => refused(SIGNATURE, /has no `predict` export/));
    it('a predict that is not a function', () => refused(`${SIGNATURE}\nexport const predict = 42;`, /`predict` export is number, not a function/));
    it('exports under default only, with a hint', () =>
      refused('export default { signature: {}, predict() {} };', /no `signature` export \(it has a default export holding them: export them by name instead\)/));
    it('an unknown datatype', () =>
      refused(`export const signature = { inputs: [{ name: 'x', datatype: 'float32', shape: [1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] };\n${PREDICT}`, /signature is invalid: signature\.inputs\[0\] \("x"\)\.datatype is "float32", not a datatype/));
    it('a bad shape', () =>
      refused(`export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 'four', 2.5] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] };\n${PREDICT}`, /shape\[2\] is 2\.5/));
    it('duplicate names', () =>
      refused(`export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }, { name: 'x', datatype: 'FP32', shape: [1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] };\n${PREDICT}`, /names "x" twice/));
    it('empty inputs', () => refused(`export const signature = { inputs: [], outputs: [{ name: 'y', datatype: 'FP32', shape: [1] }] };\n${PREDICT}`, /signature\.inputs .*non-empty array/));
    it('empty outputs', () => refused(`export const signature = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }], outputs: [] };\n${PREDICT}`, /signature\.outputs .*non-empty array/));
    it('top-level code that throws, with where', () =>
      refused(`${SIGNATURE}\n${PREDICT}\nfunction boom() { throw new TypeError('no weights'); }\nboom();`, /top-level code threw TypeError: no weights \(model\.mjs:6:\d+\)/));
    it('top-level code that never finishes', async () => {
      const started = Date.now();
      await refused(`${SIGNATURE}\n${PREDICT}\nwhile (true) {}`, /did not finish within 300 ms/, { timeoutMs: 300 });
      assert.ok(Date.now() - started < 3000);
    });
    it('a top-level await that can never settle', () => refused(`await new Promise(() => {});\n${SIGNATURE}\n${PREDICT}`, /awaits a promise that can never settle/, { timeoutMs: 2000 }));
    it('top-level code that runs out of memory', () =>
      refused(`const keep = []; for (;;) keep.push(new Array(1e5).fill(Math.random()));\n${SIGNATURE}\n${PREDICT}`, /ran out of memory \(its heap limit is 32 MB/, {
        maxOldGenerationSizeMb: 32,
        timeoutMs: 20_000,
      }));
    it('top-level process.exit()', () => refused(`process.exit(3);\n${SIGNATURE}\n${PREDICT}`, /exited with code 3/));
    it('a relative import, which a data: URL module cannot resolve', () => refused(`import './helpers.js';\n${SIGNATURE}\n${PREDICT}`, /imports "\.\/helpers\.js", which a js model cannot.*Node built-ins/));
    it('a package import', () => refused(`import YAML from 'yaml';\n${SIGNATURE}\n${PREDICT}`, /imports "yaml", which a js model cannot/));
  });
});
