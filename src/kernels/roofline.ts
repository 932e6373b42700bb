// Launchers of the roofline microkernels (peak_fma.wgsl, bandwidth.wgsl, empty.wgsl): what the
// adapter can do at best, the yardstick `musiq bench` holds every model kernel against.
import { grid, uniforms } from '../runtime/uniforms.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';

/** Independent vec4 chains per invocation: peak_fma.wgsl's entry points main2, main4, main8. */
export const PEAK_CHAINS = [2, 4, 8] as const;
export type PeakChains = (typeof PEAK_CHAINS)[number];
const PEAK_WG = 64;
/** The multiply and add constants of the chains a = a·m + c (m < 1 keeps every value finite, also in f16). */
export const PEAK_M = 0.999;
export const PEAK_C = 0.001;

export interface PeakFmaOptions {
  workgroups: number;
  iters: number;
  chains: PeakChains;
  /** Chains in f16 (needs shader-f16); the output is f32 either way. */
  half?: boolean;
}

/** The flop peakFma() performs: 2 (multiply, add) per lane, 4 lanes, per chain, round and invocation. */
export function peakFmaFlop(o: Pick<PeakFmaOptions, 'workgroups' | 'iters' | 'chains'>): number {
  return o.workgroups * PEAK_WG * o.iters * o.chains * 4 * 2;
}

/** Runs the multiply-add chains; `out` must hold workgroups·64 vec4 (4 f32 per invocation), the chains' sums. */
export function peakFma(rt: Runtime, out: Tensor, o: PeakFmaOptions): void {
  if (!PEAK_CHAINS.includes(o.chains)) throw new MusiqError(`peakFma: chains must be one of ${PEAK_CHAINS.join(', ')}, got ${o.chains}`);
  if (o.half && !rt.features.has('shader-f16')) throw new MusiqError(`peakFma: f16 needs the shader-f16 feature, which ${rt.adapterName} lacks`);
  if (out.dtype !== 'f32' || out.size < o.workgroups * PEAK_WG * 4) throw new MusiqError(`peakFma: out must be f32 with ${o.workgroups * PEAK_WG * 4} values`);
  rt.dispatch({
    kernel: 'peak_fma',
    entry: `main${o.chains}`,
    includes: o.half ? { 'lib/peak_f32': 'lib/peak_f16' } : undefined,
    constants: { WG: PEAK_WG },
    uniforms: uniforms([o.iters, { f32: PEAK_M }, { f32: PEAK_C }, 0]),
    buffers: [out],
    workgroups: grid(o.workgroups),
    label: `peak_fma/${o.half ? 'f16' : 'f32'}x${o.chains}`,
  });
}

export type StreamKind = 'copy' | 'triad';

/** Bytes a stream kernel moves over n f32 values: copy reads and writes each once, triad reads two and writes one. */
export function streamBytes(kind: StreamKind, n: number): number {
  return (kind === 'copy' ? 2 : 3) * 4 * n;
}

/** copy: a = b; triad: a = b + s·c. All f32 of equal size, a multiple of 4 values; a may alias neither. */
export function stream(rt: Runtime, kind: StreamKind, a: Tensor, b: Tensor, c: Tensor, s = 0.5): void {
  const n = a.size;
  if (n % 4 !== 0 || b.size !== n || c.size !== n) throw new MusiqError(`stream: a, b and c must hold the same multiple of 4 values (${a.size}, ${b.size}, ${c.size})`);
  if (a === b || a === c) throw new MusiqError('stream: a may alias neither b nor c');
  rt.dispatch({
    kernel: 'bandwidth',
    entry: kind,
    uniforms: uniforms([n / 4, { f32: s }, 0, 0]),
    buffers: kind === 'copy' ? [b, a] : [b, c, a],
    workgroups: grid(Math.ceil(n / 4 / 256)),
    label: `stream/${kind}`,
  });
}

/** One invocation writing 1 into out[0] (u32): the fixed cost of a dispatch. */
export function emptyKernel(rt: Runtime, out: Tensor): void {
  if (out.dtype !== 'u32' || out.size < 1) throw new MusiqError('emptyKernel: out must be a u32 tensor');
  rt.dispatch({ kernel: 'empty', buffers: [out], workgroups: [1], label: 'empty' });
}
