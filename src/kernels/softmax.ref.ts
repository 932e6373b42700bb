// float64 CPU reference for softmax.wgsl.
export function softmaxRowsRef(x: ArrayLike<number>, C: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += C) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x[base + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += y[base + c] = Math.exp(x[base + c] - m);
    for (let c = 0; c < C; c++) y[base + c] /= sum;
  }
  return y;
}
