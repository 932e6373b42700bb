// float64 CPU reference for groupnorm.wgsl.
export interface GroupNormRefOptions {
  eps: number;
  groups?: number;
  relu?: boolean;
  /** Added before the ReLU (which it implies), as at the bottleneck unit's end. */
  residual?: ArrayLike<number>;
}

/** GroupNorm of x [patches, spatial, channels] with flax's definition, in float64. */
export function groupNormRef(
  x: ArrayLike<number>,
  [patches, spatial, channels]: readonly [number, number, number],
  scale: ArrayLike<number>,
  bias: ArrayLike<number>,
  opts: GroupNormRefOptions,
): Float64Array {
  const groups = opts.groups ?? 32;
  const cpg = channels / groups;
  const y = new Float64Array(patches * spatial * channels);
  for (let p = 0; p < patches; p++)
    for (let g = 0; g < groups; g++) {
      const at = (s: number, j: number): number => (p * spatial + s) * channels + g * cpg + j;
      let sum = 0;
      for (let s = 0; s < spatial; s++) for (let j = 0; j < cpg; j++) sum += x[at(s, j)];
      const mean = sum / (spatial * cpg);
      let sq = 0;
      for (let s = 0; s < spatial; s++) for (let j = 0; j < cpg; j++) sq += (x[at(s, j)] - mean) ** 2;
      const rstd = 1 / Math.sqrt(sq / (spatial * cpg) + opts.eps);
      for (let s = 0; s < spatial; s++)
        for (let j = 0; j < cpg; j++) {
          const i = at(s, j), c = g * cpg + j;
          let v = (x[i] - mean) * rstd * scale[c] + bias[c];
          if (opts.residual) v += opts.residual[i];
          y[i] = opts.relu || opts.residual ? Math.max(v, 0) : v;
        }
    }
  return y;
}
