// The messages between the gateway and a js model's worker, and how failures inside the worker are worded.
import type { Signature } from '../../registry/signature.js';
import type { TensorMap } from '../types.js';

export interface JsWorkerData {
  /** The module as a data: URL; see README.md for why not a file. */
  moduleUrl: string;
}

export interface InferMessage {
  type: 'infer';
  id: number;
  inputs: TensorMap;
  /** The outputs the caller wants; predict() receives them as a hint and only these are returned. */
  outputs: string[];
}

export type PredictFailureReason = 'predict_threw' | 'invalid_output';

export type WorkerMessage =
  | { type: 'ready'; signature: Signature }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; outputs: TensorMap }
  | { type: 'predict-error'; id: number; reason: PredictFailureReason; message: string };

/** Stands for the module in messages: its data: URL is the whole source in base64, useless to a reader. */
export const MODULE_NAME = 'model.mjs';

const MAX_MESSAGE = 1000;

/** `data:text/javascript;base64,…` for the module source. */
export function moduleDataUrl(source: Uint8Array): string {
  return `data:text/javascript;base64,${Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('base64')}`;
}

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}

/**
 * "TypeError: boom (model.mjs:3:9)" for anything thrown by module code. Never throws itself, even for
 * thrown values with hostile getters, and never includes the data: URL.
 */
export function describeThrown(e: unknown, moduleUrl: string): string {
  try {
    if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
      const err = e as { name?: unknown; message?: unknown; stack?: unknown };
      const name = typeof err.name === 'string' && err.name !== '' ? err.name : 'Error';
      const message = String(err.message).split(moduleUrl).join(MODULE_NAME);
      const stack = typeof err.stack === 'string' ? err.stack.split(moduleUrl).join(MODULE_NAME) : '';
      const at = new RegExp(`${MODULE_NAME.replace('.', '\\.')}:(\\d+):(\\d+)`).exec(stack);
      return clip(`${name}: ${message}${at ? ` (${MODULE_NAME}:${at[1]}:${at[2]})` : ''}`);
    }
    if (typeof e === 'string') return clip(`a string: ${JSON.stringify(e)}`);
    return clip(`a non-Error value: ${String(e)}`);
  } catch {
    return 'a value that cannot be described';
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/**
 * Narrows a message from the worker. Module code shares the worker and can post on the same port, so the
 * gateway believes nothing about a message's shape without looking.
 */
export function asWorkerMessage(m: unknown): WorkerMessage | null {
  if (!isObject(m)) return null;
  switch (m.type) {
    case 'ready':
      return isObject(m.signature) ? (m as WorkerMessage) : null;
    case 'load-error':
      return typeof m.message === 'string' ? (m as WorkerMessage) : null;
    case 'result':
      return typeof m.id === 'number' && isObject(m.outputs) ? (m as WorkerMessage) : null;
    case 'predict-error':
      return typeof m.id === 'number' && typeof m.message === 'string' && (m.reason === 'predict_threw' || m.reason === 'invalid_output')
        ? (m as WorkerMessage)
        : null;
    default:
      return null;
  }
}
