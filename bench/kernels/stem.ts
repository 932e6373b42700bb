// The patch stem at the real width (W = 64) on P patches: every stage on its own, then the whole
// stem, with GFLOP/s for the convolutions and the total (≈ 7.13 M MACs per patch, spec §3.8).
import { gflops, timeGpu, type KernelBench, type Measurement } from '../harness.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Tensor } from '../../src/runtime/tensor.ts';
import { CONV2D_VARIANTS, conv2d, conv2dVariant } from '../../src/kernels/conv2d.ts';
import { matmul, matmulVariant } from '../../src/kernels/matmul.ts';
import { groupNorm } from '../../src/kernels/groupnorm.ts';
import { maxPool } from '../../src/kernels/maxpool.ts';
import { stem } from '../../src/kernels/stem.ts';
import { disposeStemWeights, stemKeyShapes, uploadStemWeights } from '../../src/musiq/stem-weights.ts';
import { randomArray } from '../../tools/random.ts';

const W = 64;

export const bench: KernelBench = async (rt, { quick }) => {
  const P = quick ? 96 : 960;
  let seed = 1;
  const raw = new Map([...stemKeyShapes(W)].map(([k, s]) => [k, randomArray(s.reduce((a, b) => a * b, 1), seed++)]));
  const w = await uploadStemWeights(rt, async (k) => raw.get(k)!, W);
  const rand = (shape: number[]): Tensor => rt.upload(randomArray(shape.reduce((a, b) => a * b, 1), seed++), shape);
  const out: Measurement[] = [];
  const row = (kernel: string, variant: string, shape: number[], ms: number, flop: number | null, chosen = true): void => {
    out.push({ kernel, variant, shape, ms, gflops: flop === null ? null : gflops(flop, ms), chosen, adapter: rt.adapterName });
  };
  const tensors: Tensor[] = [];
  const keep = (t: Tensor): Tensor => (tensors.push(t), t);

  // The 7×7 and 3×3 convs, every kernel variant the adapter runs: shape = [P, H, W, Cin, k, stride, Cout].
  const convs: [string, Tensor, number[], number][] = [
    ['conv_root', w.convRoot, [32, 32, 3], 2],
    ['conv2', w.conv2, [8, 8, W], 1],
  ];
  const chosenConv = conv2dVariant(rt);
  const variants = CONV2D_VARIANTS.filter((v) => v === 'blocked' || v === chosenConv);
  for (const [name, kernel, [h, wd, cin], stride] of convs) {
    const [k, , , cout] = kernel.shape;
    const x = keep(rand([P, h, wd, cin]));
    const ho = Math.ceil(h / stride), wo = Math.ceil(wd / stride);
    const y = keep(rt.empty([P, ho, wo, cout]));
    for (const variant of variants) {
      const ms = await timeGpu(rt, () => conv2d(rt, x, kernel, { stride, out: y, variant }), 3);
      row('stem/conv2d', `${name} ${variant}`, [P, h, wd, cin, k, stride, cout], ms, 2 * P * ho * wo * cout * k * k * cin, variant === chosenConv);
    }
  }
  // The 1×1 convs are matmuls [P·64, cin]·[cin, cout]: shape = [M, K, N].
  for (const [name, kernel] of [['conv_proj', w.convProj], ['conv1', w.conv1], ['conv3', w.conv3]] as const) {
    const [cin, cout] = kernel.shape;
    const x = keep(rand([P * 64, cin])), y = keep(rt.empty([P * 64, cout]));
    const ms = await timeGpu(rt, () => matmul(rt, x, kernel, { out: y }), 3);
    row('stem/matmul', `${name} ${matmulVariant(rt, P * 64, cin, cout)}`, [P * 64, cin, cout], ms, 2 * P * 64 * cin * cout);
  }

  // GroupNorms: shape = [P, spatial, C].
  const norms: [string, number, number, boolean, boolean][] = [
    ['gn_root+relu', 256, W, true, false],
    ['gn_proj', 64, 4 * W, false, false],
    ['gn1+relu', 64, W, true, false],
    ['gn3+residual+relu', 64, 4 * W, false, true],
  ];
  const one = keep(rt.upload(new Float32Array(4 * W).fill(1))), zero = keep(rt.zeros([4 * W]));
  for (const [name, s, c, relu, res] of norms) {
    const x = keep(rand([P, s, c])), y = keep(rt.empty([P, s, c])), r = res ? keep(rand([P, s, c])) : undefined;
    const scale = c === W ? keep(rt.upload(new Float32Array(W).fill(1))) : one, bias = c === W ? keep(rt.zeros([W])) : zero;
    const ms = await timeGpu(rt, () => groupNorm(rt, x, scale, bias, { eps: 1e-4, relu, residual: r, out: y }), 3);
    row('stem/groupnorm', name, [P, s, c], ms, null);
  }

  const px = keep(rand([P, 16, 16, W])), py = keep(rt.empty([P, 8, 8, W]));
  row('stem/maxpool', '3x3/2', [P, 16, 16, W], await timeGpu(rt, () => maxPool(rt, px, { out: py }), 3), null);

  const patches = keep(rand([P, 32 * 32 * 3]));
  const macs = 256 * 49 * 3 * W + 64 * W * 4 * W + 64 * W * W + 64 * 9 * W * W + 64 * W * 4 * W;
  const ms = await timeGpu(rt, () => stem(rt, w, patches).dispose(), 3);
  row('stem', `whole W=${W}`, [P, 32, 32, 3], ms, 2 * P * macs);

  for (const t of tensors) t.dispose();
  disposeStemWeights(w);
  return out;
};
