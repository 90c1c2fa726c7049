// Entry point of a js model's worker thread: imports the module, reports its signature, then answers
// infer messages by calling predict(). Everything the module does happens here, away from the gateway's
// thread, under the worker's resource limits.
import { parentPort, workerData } from 'node:worker_threads';
import type { Signature } from '../../registry/signature.js';
import type { TensorMap } from '../types.js';
import { describeThrown, MODULE_NAME, type InferMessage, type JsWorkerData, type WorkerMessage } from './js-protocol.js';
import { JsSignatureError, normaliseJsSignature } from './js-signature.js';
import { checkShape, convertOutput, TensorProblem, transferListOf, type DimBindings } from './js-tensors.js';

type Predict = (inputs: TensorMap, options: { outputs: string[] }) => unknown;

const port = parentPort;
if (port === null) throw new Error('js-worker.js runs only as a worker thread');
const { moduleUrl } = workerData as JsWorkerData;

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** Why import() failed, in terms of the module contract. */
function describeImportFailure(e: unknown): string {
  const text = describeThrown(e, moduleUrl);
  if (e instanceof SyntaxError) {
    // V8 gives no position for syntax errors in data: URL modules, so point at a tool that does.
    return `the module is not valid JavaScript: ${text} (\`node --check file.mjs\` shows where)`;
  }
  const spec = /Failed to resolve module specifier "([^"]+)"/.exec(text);
  if (spec) {
    return (
      `the module imports "${spec[1]}", which a js model cannot: it is loaded from its own bytes, not from a folder, so only ` +
      'Node built-ins (node:crypto, node:util…) can be imported. Bundle everything else into the one file'
    );
  }
  if (e instanceof ReferenceError && /^(module|exports|require) is not defined/.test(String(e.message))) {
    return `the module is not an ES module (${text}): export \`signature\` and \`predict\` with \`export\`, not module.exports or require()`;
  }
  return `the module's top-level code threw ${text}`;
}

async function load(): Promise<{ signature: Signature; predict: Predict } | string> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(moduleUrl)) as Record<string, unknown>;
  } catch (e) {
    return describeImportFailure(e);
  }
  try {
    const def = ns.default as Record<string, unknown> | undefined;
    const byDefault = typeof def === 'object' && def !== null && ('signature' in def || 'predict' in def);
    const hint = byDefault ? ' (it has a default export holding them: export them by name instead)' : '';
    if (!('signature' in ns)) return `the module has no \`signature\` export${hint}`;
    if (!('predict' in ns)) return `the module has no \`predict\` export${hint}`;
    if (typeof ns.predict !== 'function') return `the module's \`predict\` export is ${typeof ns.predict}, not a function`;
    return { signature: normaliseJsSignature(ns.signature), predict: ns.predict as Predict };
  } catch (e) {
    if (e instanceof JsSignatureError) return `the exported signature is invalid: ${e.message}`;
    return `reading the module's exports threw ${describeThrown(e, moduleUrl)}`;
  }
}

function collectOutputs(signature: Signature, returned: unknown, wanted: string[], dims: DimBindings): TensorMap {
  if (typeof returned !== 'object' || returned === null || Array.isArray(returned)) {
    throw new TensorProblem('value', `predict() returned ${returned === null ? 'null' : Array.isArray(returned) ? 'an array' : typeof returned}; it must return an object { <output name>: { shape, data } }`);
  }
  const declared = new Set(signature.outputs.map((s) => s.name));
  for (const key of Object.keys(returned)) {
    if (!declared.has(key)) {
      throw new TensorProblem('value', `predict() returned "${key}", which is not a declared output (outputs: ${[...declared].join(', ')})`);
    }
  }
  const out: TensorMap = {};
  const record = returned as Record<string, unknown>;
  for (const spec of signature.outputs) {
    if (!wanted.includes(spec.name)) continue;
    if (record[spec.name] === undefined) throw new TensorProblem('value', `predict() did not return output "${spec.name}"`);
    out[spec.name] = convertOutput(`output "${spec.name}"`, spec, record[spec.name], dims);
  }
  return out;
}

async function infer(signature: Signature, predict: Predict, m: InferMessage): Promise<void> {
  // Bound before predict runs, which may well modify its inputs in place.
  const dims: DimBindings = new Map();
  for (const spec of signature.inputs) {
    const t = m.inputs[spec.name];
    if (t !== undefined) checkShape(`input "${spec.name}"`, spec, t.shape, dims);
  }
  let returned: unknown;
  try {
    returned = await predict(m.inputs, { outputs: [...m.outputs] });
  } catch (e) {
    post({ type: 'predict-error', id: m.id, reason: 'predict_threw', message: `predict() threw ${describeThrown(e, moduleUrl)}` });
    return;
  }
  let outputs: TensorMap;
  try {
    outputs = collectOutputs(signature, returned, m.outputs, dims);
  } catch (e) {
    const message = e instanceof TensorProblem ? e.message : `reading what predict() returned threw ${describeThrown(e, moduleUrl)}`;
    post({ type: 'predict-error', id: m.id, reason: 'invalid_output', message: `predict() returned outputs that do not match the signature: ${message}` });
    return;
  }
  post({ type: 'result', id: m.id, outputs }, transferListOf(outputs));
}

const loaded = await load();
if (typeof loaded === 'string') {
  post({ type: 'load-error', message: loaded.split(moduleUrl).join(MODULE_NAME) });
} else {
  const { signature, predict } = loaded;
  port.on('message', (m: InferMessage) => {
    if (m?.type !== 'infer') return;
    infer(signature, predict, m).catch((e: unknown) => {
      post({ type: 'predict-error', id: m.id, reason: 'invalid_output', message: `the js worker failed: ${describeThrown(e, moduleUrl)}` });
    });
  });
  post({ type: 'ready', signature });
}
