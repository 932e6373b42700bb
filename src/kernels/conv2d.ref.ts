// float64 CPU reference for conv2d.wgsl: NHWC input, HWIO kernel, SAME padding, no bias.
export interface ConvRefResult {
  out: Float64Array;
  shape: [number, number, number, number];
}

/**
 * SAME padding as TF/XLA defines it: out = ceil(in / stride), total pad = max((out − 1)·stride +
 * k − in, 0), the smaller half before. Written here independently of the launcher's version.
 */
export function samePadRef(size: number, k: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export function conv2dRef(
  x: ArrayLike<number>,
  [p, h, w, cin]: readonly [number, number, number, number],
  kernel: ArrayLike<number>,
  [kh, kw, kcin, cout]: readonly [number, number, number, number],
  stride = 1,
): ConvRefResult {
  if (kcin !== cin) throw new Error(`conv2dRef: cin ${cin} vs kernel ${kcin}`);
  const py = samePadRef(h, kh, stride), px = samePadRef(w, kw, stride);
  const ho = py.out, wo = px.out;
  const out = new Float64Array(p * ho * wo * cout);
  const acc = new Float64Array(cout);
  for (let n = 0; n < p; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        acc.fill(0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride - py.before + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * stride - px.before + kx;
            if (ix < 0 || ix >= w) continue;
            for (let c = 0; c < cin; c++) {
              const v = x[((n * h + iy) * w + ix) * cin + c];
              const row = ((ky * kw + kx) * cin + c) * cout;
              for (let o = 0; o < cout; o++) acc[o] += v * kernel[row + o];
            }
          }
        }
        out.set(acc, ((n * ho + oy) * wo + ox) * cout);
      }
  return { out, shape: [p, ho, wo, cout] };
}
