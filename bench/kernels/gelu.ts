// Standalone tanh-GELU on the MLP's hidden activation (960 tokens × 1152); memory-bound.
import { timeGpu, type KernelBench } from '../harness.ts';
import { gelu } from '../../src/kernels/gelu.ts';
import { randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt) => {
  const shape = [960, 1152];
  const x = rt.upload(randomArray(960 * 1152, 1, 4), shape), y = rt.empty(shape);
  const ms = await timeGpu(rt, () => gelu(rt, x, y));
  x.dispose();
  y.dispose();
  return [{ kernel: 'gelu', variant: 'tanh', shape, ms, gflops: null, chosen: true, adapter: rt.adapterName }];
};
