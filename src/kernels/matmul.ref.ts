// float64 CPU reference for the matmul family: y = gelu(x·w + bias) + residual, each optional.
// x is M×K, w is K×N (flax "in × out"), both row-major, as in src/kernels/matmul_*.wgsl.

/** tanh-approximated GELU in float64 (jax.nn.gelu(approximate=True), spec §3.5). */
export function geluTanhRef(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

export interface MatmulRefOptions {
  bias?: ArrayLike<number>;
  gelu?: boolean;
  residual?: ArrayLike<number>;
}

export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, M: number, K: number, N: number, opts: MatmulRefOptions = {}): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const row = m * N;
    // i-k-j order: the inner loop walks one row of w and one row of y contiguously.
    for (let k = 0; k < K; k++) {
      const a = x[m * K + k];
      const wk = k * N;
      for (let n = 0; n < N; n++) y[row + n] += a * w[wk + n];
    }
    for (let n = 0; n < N; n++) {
      let v = y[row + n];
      if (opts.bias) v += opts.bias[n];
      if (opts.gelu) v = geluTanhRef(v);
      if (opts.residual) v += opts.residual[row + n];
      y[row + n] = v;
    }
  }
  return y;
}
