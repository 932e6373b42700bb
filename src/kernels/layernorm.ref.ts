// float64 CPU reference for layernorm.wgsl (exact mean and variance).
export function layernormRef(x: ArrayLike<number>, D: number, scale: ArrayLike<number>, bias: ArrayLike<number>, eps: number, rows = x.length / D): Float64Array {
  const y = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < D; c++) mean += x[r * D + c] / D;
    let variance = 0;
    for (let c = 0; c < D; c++) variance += (x[r * D + c] - mean) ** 2 / D;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < D; c++) y[r * D + c] = (x[r * D + c] - mean) * inv * scale[c] + bias[c];
  }
  return y;
}
