// Streaming attention at MUSIQ's full size (6 heads × 64) for 343, 919 and 2000 tokens (a
// 512×384 photo gives ~350 valid tokens, 1024×768 ~1000), every variant this adapter runs;
// GFLOP/s counts q·kᵀ and p·v (4·T²·D), not the exps.
import { gflops, timeGpu, type KernelBench, type Measurement } from '../harness.ts';
import { attention, attentionVariants } from '../../src/kernels/attention.ts';
import { randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt, { quick }) => {
  const H = 6, Dh = 64, D = H * Dh;
  const variants = attentionVariants(rt);
  const out: Measurement[] = [];
  for (const T of quick ? [343] : [343, 919, 2000]) {
    const qkv = rt.upload(randomArray(T * 3 * D, T, 2), [T, 3 * D]);
    const y = rt.empty([T, D]);
    for (const variant of variants) {
      const ms = await timeGpu(rt, () => attention(rt, qkv, { heads: H, headDim: Dh, out: y, variant }), quick || T > 1000 ? 3 : 5);
      out.push({ kernel: 'attention', variant, shape: [T, H, Dh], ms, gflops: gflops(4 * T * T * D, ms), chosen: variant === variants[0], adapter: rt.adapterName });
    }
    qkv.dispose();
    y.dispose();
  }
  return out;
};
