// y = αa + βb over one residual stream (960 tokens × 384). Memory-bound: time only, no GFLOP/s.
import { timeGpu, type KernelBench } from '../harness.ts';
import { axpby } from '../../src/kernels/elementwise.ts';
import { randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt) => {
  const shape = [960, 384];
  const n = 960 * 384;
  const a = rt.upload(randomArray(n, 1), shape), b = rt.upload(randomArray(n, 2), shape), y = rt.empty(shape);
  const ms = await timeGpu(rt, () => axpby(rt, a, b, 1, 1, y));
  for (const t of [a, b, y]) t.dispose();
  return [{ kernel: 'elementwise', variant: 'axpby', shape, ms, gflops: null, chosen: true, adapter: rt.adapterName }];
};
