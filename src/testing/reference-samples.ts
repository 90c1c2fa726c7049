// Test samples that Python can rebuild exactly: the twins of uniform/continuous/integers in the
// reference-values.py scripts beside the statistics, so scipy's reference values are for the very same data.
// minstd products stay below 2^53 and the transforms use only + * / and floor, so Python and V8 agree to the bit.

export function uniform(seed: number, count: number): number[] {
  let state = seed;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state * 48271) % 2147483647;
    out.push(state / 2147483647);
  }
  return out;
}

export function continuous(seed: number, n: number, base: number, spread: number): Float64Array {
  const u = uniform(seed, 2 * n);
  return Float64Array.from({ length: n }, (_, i) => base + spread * (u[2 * i] as number) + spread * (u[2 * i + 1] as number) * (u[2 * i + 1] as number));
}

export function integers(seed: number, n: number, k: number, offset: number): Float64Array {
  return Float64Array.from(uniform(seed, n), (v) => Math.floor(v * k) + offset);
}
