// float64 CPU references for the roofline microkernels (src/kernels/roofline.ts).
import { PEAK_C, PEAK_M } from './roofline.ts';

/** peak_fma's output for invocation i: the sum of its chains after `iters` rounds of a = a·m + c. */
export function peakFmaRef(i: number, iters: number, chains: number): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let k = 0; k < chains; k++) {
    const a = [(i % 64) * 0.01 + k * 0.1, 0.25, 0.5, 0.75];
    for (let r = 0; r < iters; r++) for (let l = 0; l < 4; l++) a[l] = a[l] * PEAK_M + PEAK_C;
    for (let l = 0; l < 4; l++) out[l] += a[l];
  }
  return out;
}

/** triad: b + s·c; copy: b. */
export function streamRef(kind: 'copy' | 'triad', b: ArrayLike<number>, c: ArrayLike<number>, s = 0.5): Float64Array {
  return Float64Array.from(b, (v, i) => (kind === 'copy' ? v : v + s * c[i]));
}
