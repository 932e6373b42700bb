// float64 CPU reference for elementwise.wgsl
export function axpbyRef(a: ArrayLike<number>, b: ArrayLike<number>, alpha = 1, beta = 1): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = alpha * a[i] + beta * b[i];
  return y;
}
