// LayerNorm on an encoder-sized activation (960 tokens × 384); memory-bound, so no GFLOP/s.
import { timeGpu, type KernelBench } from '../harness.ts';
import { layernorm } from '../../src/kernels/layernorm.ts';
import { randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt) => {
  const T = 960, D = 384;
  const x = rt.upload(randomArray(T * D, 1, 3), [T, D]), s = rt.upload(randomArray(D, 2)), b = rt.upload(randomArray(D, 3));
  const y = rt.empty([T, D]);
  const ms = await timeGpu(rt, () => layernorm(rt, x, s, b, 1e-6, y));
  for (const t of [x, s, b, y]) t.dispose();
  return [{ kernel: 'layernorm', variant: 'two-pass', shape: [T, D], ms, gflops: null, chosen: true, adapter: rt.adapterName }];
};
