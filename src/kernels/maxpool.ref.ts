// float64 CPU reference for maxpool.wgsl: SAME padding with −∞, as lax.reduce_window does it.
import { samePadRef } from './conv2d.ref.ts';

export function maxPoolRef(
  x: ArrayLike<number>,
  [p, h, w, c]: readonly [number, number, number, number],
  k = 3,
  stride = 2,
): { out: Float64Array; shape: [number, number, number, number] } {
  const py = samePadRef(h, k, stride), px = samePadRef(w, k, stride);
  const out = new Float64Array(p * py.out * px.out * c).fill(-Infinity);
  for (let n = 0; n < p; n++)
    for (let oy = 0; oy < py.out; oy++)
      for (let ox = 0; ox < px.out; ox++)
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) {
            const iy = oy * stride - py.before + dy, ix = ox * stride - px.before + dx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (let ch = 0; ch < c; ch++) {
              const o = ((n * py.out + oy) * px.out + ox) * c + ch;
              out[o] = Math.max(out[o], x[((n * h + iy) * w + ix) * c + ch]);
            }
          }
  return { out, shape: [p, py.out, px.out, c] };
}
