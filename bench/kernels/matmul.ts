// The four MUSIQ matmul shapes (T ≈ 960 tokens or patches, spec §3), each with the epilogue the
// model fuses into it, for every variant that can run it, the naive kernel included, in one run
// on one adapter. `chosen` marks the variant matmul() uses after tuning in this same run.
import { gflops, timeGpu, type KernelBench, type Measurement } from '../harness.ts';
import { matmul, matmulVariant, matmulVariantsFor, tuneMatmul, type MatmulOptions } from '../../src/kernels/matmul.ts';
import { randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt, { quick }) => {
  const T = quick ? 240 : 960;
  const shapes: { M: number; K: number; N: number; epilogue: Pick<MatmulOptions, 'gelu'> & { residual?: boolean } }[] = [
    { M: T, K: 384, N: 1152, epilogue: { gelu: true } }, // MLP Dense_0 (and the fused q|k|v projection)
    { M: T, K: 1152, N: 384, epilogue: { residual: true } }, // MLP Dense_1
    { M: T, K: 384, N: 384, epilogue: { residual: true } }, // attention output projection
    { M: T, K: 16384, N: 384, epilogue: {} }, // patch embedding (stem features → hidden)
  ];
  await tuneMatmul(rt, { retune: true });
  const out: Measurement[] = [];
  for (const { M, K, N, epilogue } of shapes) {
    const x = rt.upload(randomArray(M * K, M + K), [M, K]);
    const w = rt.upload(randomArray(K * N, K + N, 0.05), [K, N]);
    const bias = rt.upload(randomArray(N, N));
    const residual = rt.upload(randomArray(M * N, M * N), [M, N]);
    const y = rt.empty([M, N]);
    const opts: MatmulOptions = { bias, gelu: epilogue.gelu, residual: epilogue.residual ? residual : undefined, out: y };
    const chosen = matmulVariant(rt, M, K, N);
    for (const variant of matmulVariantsFor(rt, M, K, N)) {
      // On a CPU adapter the naive kernel needs 10-30 s per run of the embedding shape.
      const reps = quick ? 2 : K <= 4096 ? 5 : variant === 'naive' ? 1 : 3;
      const ms = await timeGpu(rt, () => matmul(rt, x, w, { ...opts, variant }), reps);
      out.push({ kernel: 'matmul', variant, shape: [M, K, N], ms, gflops: gflops(2 * M * N * K, ms), chosen: variant === chosen, adapter: rt.adapterName });
    }
    for (const t of [x, w, bias, residual, y]) t.dispose();
  }
  return out;
};
