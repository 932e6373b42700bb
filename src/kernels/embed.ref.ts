// float64 CPU reference for embed.wgsl (out-of-range ids give NaN rows, as the kernel does).
export function embedTokensRef(
  patch: ArrayLike<number>, N: number, D: number, spatial: ArrayLike<number>, scaleIds: ArrayLike<number>,
  pos: ArrayLike<number>, scaleEmb: ArrayLike<number>, cls: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array((N + 1) * D);
  for (let c = 0; c < D; c++) y[c] = cls[c];
  const positions = pos.length / D, scales = scaleEmb.length / D;
  for (let t = 0; t < N; t++) {
    const s = spatial[t], k = scaleIds[t];
    for (let c = 0; c < D; c++) {
      y[(t + 1) * D + c] = s < positions && k < scales ? patch[t * D + c] + pos[s * D + c] + scaleEmb[k * D + c] : NaN;
    }
  }
  return y;
}
