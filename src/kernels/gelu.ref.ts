// float64 CPU reference for gelu.wgsl: the tanh approximation jax.nn.gelu uses by default.
export function geluRef(x: ArrayLike<number>): Float64Array {
  const c = Math.sqrt(2 / Math.PI);
  return Float64Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))));
}
