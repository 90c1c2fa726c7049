// Compares two model signatures, and says which differences can break a caller of the older one.
import type { Dim, Signature, SignatureChange, TensorSpec } from '../signature.js';

/** "[batch,3,224,224]"; an unknown dimension is "?", an unknown rank "unknown". */
export function formatShape(shape: Dim[] | null): string {
  if (shape === null) return 'unknown';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

const isFixed = (d: Dim): d is number => typeof d === 'number';

/**
 * Whether an input of shape `b` still accepts everything an input of shape `a` accepted: each fixed
 * dimension may become symbolic or unknown, but nothing may become fixed or change size.
 */
function inputShapeWidens(a: Dim[] | null, b: Dim[] | null): boolean {
  if (b === null) return true;
  if (a === null || a.length !== b.length) return false;
  return a.every((da, i) => {
    const db = b[i] as Dim;
    if (!isFixed(db)) return true;
    return isFixed(da) && da === db;
  });
}

function compareSpecs(side: 'input' | 'output', a: TensorSpec, b: TensorSpec): SignatureChange | null {
  const details: string[] = [];
  let breaking = false;

  if (a.kind !== b.kind) {
    details.push(`kind ${a.kind} → ${b.kind}`);
    if (a.onnxType !== b.onnxType) details.push(`type ${a.onnxType} → ${b.onnxType}`);
    breaking = true;
  } else if (a.datatype !== null && b.datatype !== null && a.datatype !== b.datatype) {
    details.push(`datatype ${a.datatype} → ${b.datatype}`);
    breaking = true;
  } else if (a.onnxType !== b.onnxType) {
    // Same kind and V2 datatype but a different ONNX type: a datatype V2 cannot name, or a map's key/value.
    details.push(`type ${a.onnxType} → ${b.onnxType}`);
    breaking = true;
  }

  const shapeA = formatShape(a.shape);
  const shapeB = formatShape(b.shape);
  if (shapeA !== shapeB) {
    if (a.shape !== null && b.shape !== null && a.shape.length !== b.shape.length) {
      details.push(`rank ${a.shape.length} → ${b.shape.length}`);
    }
    details.push(`shape ${shapeA} → ${shapeB}`);
    // A caller sends inputs and receives outputs: an input may accept more than before, but an output
    // of another shape can break whatever reads it.
    if (side === 'output' || !inputShapeWidens(a.shape, b.shape)) breaking = true;
  }

  if (details.length === 0) return null;
  return { side, name: a.name, change: 'changed', details, breaking };
}

function diffSide(side: 'input' | 'output', a: TensorSpec[], b: TensorSpec[]): SignatureChange[] {
  const changes: SignatureChange[] = [];
  const inB = new Map(b.map((s) => [s.name, s]));
  const inA = new Set(a.map((s) => s.name));
  for (const specA of a) {
    const specB = inB.get(specA.name);
    if (specB === undefined) {
      changes.push({ side, name: specA.name, change: 'removed', details: [`${side} ${specA.onnxType} ${formatShape(specA.shape)} removed`], breaking: true });
      continue;
    }
    const changed = compareSpecs(side, specA, specB);
    if (changed) changes.push(changed);
  }
  for (const specB of b) {
    if (inA.has(specB.name)) continue;
    // Callers of the old version do not send a new input; nobody reads a new output yet.
    changes.push({ side, name: specB.name, change: 'added', details: [`${side} ${specB.onnxType} ${formatShape(specB.shape)} added`], breaking: side === 'input' });
  }
  return changes;
}

/** The differences from signature `a` (the older version) to `b` (the newer), inputs first. */
export function diffSignatures(a: Signature, b: Signature): SignatureChange[] {
  return [...diffSide('input', a.inputs, b.inputs), ...diffSide('output', a.outputs, b.outputs)];
}
