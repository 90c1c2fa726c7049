// Runs an exported weather model with onnxruntime-node, the same runtime Modelgate serves with, so the
// numbers the script reports and the test re-checks are those of the committed file, not of the JS maths.
import * as ort from 'onnxruntime-node';

export interface OnnxPredictions {
  label: number[];
  pNoRain: number[];
  pRain: number[];
}

export async function runOnnx(session: ort.InferenceSession, rows: readonly number[][]): Promise<OnnxPredictions> {
  const width = rows[0]!.length;
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]);
  const out = await session.run({ features: input });
  const label = out['label'];
  const probabilities = out['probabilities'];
  if (!label || label.type !== 'int64' || !probabilities || probabilities.type !== 'float32') {
    throw new Error('model outputs must be label (int64) and probabilities (float32)');
  }
  const labels = label.data as BigInt64Array;
  const probs = probabilities.data as Float32Array;
  return {
    label: Array.from(labels, Number),
    pNoRain: rows.map((_, i) => probs[2 * i]!),
    pRain: rows.map((_, i) => probs[2 * i + 1]!),
  };
}

export async function withSession<T>(path: string, fn: (s: ort.InferenceSession) => Promise<T>): Promise<T> {
  const session = await ort.InferenceSession.create(path);
  try {
    return await fn(session);
  } finally {
    await session.release();
  }
}
