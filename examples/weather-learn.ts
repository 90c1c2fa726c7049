// The two weather models in plain TypeScript: fitting and a float64 forward pass.
// Everything here is deterministic (fixed iteration counts, a seeded PRNG), so rerunning the script
// reproduces the committed weights bit for bit. Parameters are rounded to float32 once training ends,
// because that is what the ONNX file stores: the JS forward pass then describes the exported model
// exactly, up to float32 vs float64 arithmetic.
import { mulberry32 } from '../src/random.js';

export interface Standardiser {
  mean: number[];
  std: number[];
}

/** Training-set mean and (population) standard deviation per column. */
export function fitStandardiser(x: readonly number[][]): Standardiser {
  const cols = x[0]!.length;
  const mean = new Array<number>(cols).fill(0);
  const std = new Array<number>(cols).fill(0);
  for (const row of x) for (let j = 0; j < cols; j++) mean[j]! += row[j]!;
  for (let j = 0; j < cols; j++) mean[j] = mean[j]! / x.length;
  for (const row of x) for (let j = 0; j < cols; j++) std[j]! += (row[j]! - mean[j]!) ** 2;
  for (let j = 0; j < cols; j++) {
    const s = Math.sqrt(std[j]! / x.length);
    // A constant column would divide by zero in the graph; leaving it unscaled is harmless.
    std[j] = s > 0 ? s : 1;
  }
  return { mean: mean.map(Math.fround), std: std.map(Math.fround) };
}

function standardise(s: Standardiser, row: readonly number[]): number[] {
  return s.mean.map((m, j) => (row[j]! - m) / s.std[j]!);
}

export function sigmoid(z: number): number {
  // Split by sign so exp never overflows for large |z|.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

// ---------- v1: logistic regression ----------

export interface LogisticModel {
  kind: 'logistic';
  standardiser: Standardiser;
  /** One weight per standardised feature. */
  weights: number[];
  bias: number;
}

/** Solves A·x = b by Gaussian elimination with partial pivoting; A is tiny (features + 1). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]!;
    if (Math.abs(p[col]!) < 1e-12) throw new Error('singular Hessian: a feature is constant or duplicated');
    for (let r = col + 1; r < n; r++) {
      const row = m[r]!;
      const f = row[col]! / p[col]!;
      for (let k = col; k <= n; k++) row[k]! -= f * p[k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r]!;
    let s = row[n]!;
    for (let k = r + 1; k < n; k++) s -= row[k]! * x[k]!;
    x[r] = s / row[r]!;
  }
  return x;
}

export interface LogisticOptions {
  /** Newton steps; the log-likelihood is concave, so a couple of dozen reach the optimum to machine precision. */
  iterations: number;
}

/** Unregularised maximum-likelihood logistic regression by Newton's method (IRLS). */
export function fitLogistic(x: readonly number[][], y: readonly number[], opts: LogisticOptions): LogisticModel {
  const standardiser = fitStandardiser(x);
  // The intercept is column 0 so the Newton system stays one dense matrix.
  const z = x.map((row) => [1, ...standardise(standardiser, row)]);
  const d = z[0]!.length;
  let beta = new Array<number>(d).fill(0);
  for (let it = 0; it < opts.iterations; it++) {
    const grad = new Array<number>(d).fill(0);
    const hess = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < z.length; i++) {
      const row = z[i]!;
      let eta = 0;
      for (let j = 0; j < d; j++) eta += beta[j]! * row[j]!;
      const p = sigmoid(eta);
      const w = p * (1 - p);
      for (let j = 0; j < d; j++) {
        grad[j]! += (y[i]! - p) * row[j]!;
        for (let k = 0; k < d; k++) hess[j]![k]! += w * row[j]! * row[k]!;
      }
    }
    const step = solve(hess, grad);
    beta = beta.map((b, j) => b + step[j]!);
  }
  return { kind: 'logistic', standardiser, bias: Math.fround(beta[0]!), weights: beta.slice(1).map(Math.fround) };
}

export function predictLogistic(m: LogisticModel, row: readonly number[]): number {
  const s = standardise(m.standardiser, row);
  let eta = m.bias;
  for (let j = 0; j < s.length; j++) eta += m.weights[j]! * s[j]!;
  return sigmoid(eta);
}

// ---------- v2: one-hidden-layer MLP with month seasonality ----------

// mulberry32 (src/random.ts) only has to make the weight initialisation reproducible.
export { mulberry32 };

export interface MlpModel {
  kind: 'mlp';
  /** For the first four (weather) columns only; month enters as sin/cos, already in [-1, 1]. */
  standardiser: Standardiser;
  /** [inputs][hidden], row-major like the ONNX MatMul weight. */
  w1: number[][];
  b1: number[];
  /** [hidden] (the single output column of a [hidden, 1] matrix). */
  w2: number[];
  b2: number;
}

export interface MlpOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weight matrices (not biases), added to the mean log loss as λ/2·‖W‖². */
  weightDecay: number;
  seed: number;
}

/** Index of the month column in a v2 feature row. */
const MONTH = 4;

/** The input layer the graph builds: 4 standardised weather values, then sin and cos of the month angle. */
export function mlpInputs(s: Standardiser, row: readonly number[]): number[] {
  const angle = Math.fround((2 * Math.PI) / 12) * row[MONTH]!;
  return [...standardise(s, row.slice(0, MONTH)), Math.sin(angle), Math.cos(angle)];
}

function mlpForward(m: Pick<MlpModel, 'w1' | 'b1' | 'w2' | 'b2'>, input: readonly number[]): { hidden: number[]; p: number } {
  const hidden = m.b1.map((b, h) => {
    let a = b;
    for (let j = 0; j < input.length; j++) a += input[j]! * m.w1[j]![h]!;
    return a > 0 ? a : 0;
  });
  let z = m.b2;
  for (let h = 0; h < hidden.length; h++) z += hidden[h]! * m.w2[h]!;
  return { hidden, p: sigmoid(z) };
}

/** Full-batch Adam on mean binary cross-entropy plus L2. */
export function fitMlp(x: readonly number[][], y: readonly number[], opts: MlpOptions): MlpModel {
  const standardiser = fitStandardiser(x.map((row) => row.slice(0, MONTH)));
  const inputs = x.map((row) => mlpInputs(standardiser, row));
  const nIn = inputs[0]!.length;
  const H = opts.hidden;
  const rand = mulberry32(opts.seed);
  // He-uniform keeps ReLU activations at a useful scale; Glorot-uniform suits the sigmoid output.
  const heLimit = Math.sqrt(6 / nIn);
  const glorotLimit = Math.sqrt(6 / (H + 1));
  const m = {
    w1: Array.from({ length: nIn }, () => Array.from({ length: H }, () => (2 * rand() - 1) * heLimit)),
    // A small positive bias keeps every ReLU alive at the start on standardised inputs.
    b1: new Array<number>(H).fill(0.01),
    w2: Array.from({ length: H }, () => (2 * rand() - 1) * glorotLimit),
    b2: 0,
  };

  // Adam state, one flat vector over [w1 row-major, b1, w2, b2].
  const size = nIn * H + H + H + 1;
  const mom = new Float64Array(size);
  const vel = new Float64Array(size);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const n = inputs.length;

  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const g = new Float64Array(size);
    for (let i = 0; i < n; i++) {
      const input = inputs[i]!;
      const { hidden, p } = mlpForward(m, input);
      const dz = (p - y[i]!) / n;
      let k = nIn * H + H;
      for (let h = 0; h < H; h++) g[k + h]! += dz * hidden[h]!;
      g[k + H]! += dz;
      k = 0;
      for (let h = 0; h < H; h++) {
        if (hidden[h]! <= 0) continue;
        const da = dz * m.w2[h]!;
        for (let j = 0; j < nIn; j++) g[j * H + h]! += da * input[j]!;
        g[nIn * H + h]! += da;
      }
    }
    // Biases are not decayed: shrinking them would only pull the output towards P(rain) = 0.5.
    for (let j = 0; j < nIn; j++) for (let h = 0; h < H; h++) g[j * H + h]! += opts.weightDecay * m.w1[j]![h]!;
    for (let h = 0; h < H; h++) g[nIn * H + H + h]! += opts.weightDecay * m.w2[h]!;

    const c1 = 1 - beta1 ** epoch;
    const c2 = 1 - beta2 ** epoch;
    const update = (idx: number, value: number): number => {
      mom[idx] = beta1 * mom[idx]! + (1 - beta1) * g[idx]!;
      vel[idx] = beta2 * vel[idx]! + (1 - beta2) * g[idx]! ** 2;
      return value - (opts.learningRate * (mom[idx]! / c1)) / (Math.sqrt(vel[idx]! / c2) + eps);
    };
    for (let j = 0; j < nIn; j++) for (let h = 0; h < H; h++) m.w1[j]![h] = update(j * H + h, m.w1[j]![h]!);
    for (let h = 0; h < H; h++) m.b1[h] = update(nIn * H + h, m.b1[h]!);
    for (let h = 0; h < H; h++) m.w2[h] = update(nIn * H + H + h, m.w2[h]!);
    m.b2 = update(size - 1, m.b2);
  }

  return {
    kind: 'mlp',
    standardiser,
    w1: m.w1.map((r) => r.map(Math.fround)),
    b1: m.b1.map(Math.fround),
    w2: m.w2.map(Math.fround),
    b2: Math.fround(m.b2),
  };
}

export function predictMlp(m: MlpModel, row: readonly number[]): number {
  return mlpForward(m, mlpInputs(m.standardiser, row)).p;
}

export type WeatherModel = LogisticModel | MlpModel;

export function predict(m: WeatherModel, row: readonly number[]): number {
  return m.kind === 'logistic' ? predictLogistic(m, row) : predictMlp(m, row);
}
