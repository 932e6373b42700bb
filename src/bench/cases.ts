// Every kernel group of the model on the shapes MUSIQ gives one image size, through the real
// launchers (the same code scoring runs), with the flop each run performs and the least bytes it
// must move. Counts: a multiply and an add are one flop each; exp, tanh, rsqrt and comparisons
// count nothing (so GFLOP/s never flatters a kernel); bytes are every input read once and every
// output written once, whatever the kernel re-reads from caches.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { matmul, matmulVariant, matmulVariantsFor, type MatmulOptions } from '../kernels/matmul.ts';
import { attention, attentionVariant, attentionVariants } from '../kernels/attention.ts';
import { layernorm, layernormVariant, layernormVariantsFor, type LayernormVariant } from '../kernels/layernorm.ts';
import { gelu } from '../kernels/gelu.ts';
import { softmaxRows } from '../kernels/softmax.ts';
import { conv2d, conv2dVariant, conv2dVariants, samePadding } from '../kernels/conv2d.ts';
import { groupNorm } from '../kernels/groupnorm.ts';
import { maxPool } from '../kernels/maxpool.ts';
import { embedTokens } from '../kernels/embed.ts';
import { axpby } from '../kernels/elementwise.ts';
import { padRgb0 } from '../kernels/pad_rgb0.ts';
import { rootChannels, stem, stemChunkSize } from '../kernels/stem.ts';
import { disposeStemWeights, stemKeyShapes, uploadStemWeights } from '../musiq/stem-weights.ts';
import type { StemWeights } from '../kernels/stem.ts';
import type { MusiqDims } from '../musiq/checkpoint.ts';
import { mulberry32, randomArray } from './random.ts';

export const GROUPS = ['matmul', 'attention', 'layernorm', 'gelu', 'softmax', 'conv2d', 'groupnorm', 'maxpool', 'embed', 'elementwise', 'stem'] as const;

export interface KernelCase {
  group: string;
  kernel: string;
  shape: number[];
  flop: number | null;
  bytes: number;
  variants: string[];
  /** The variant the launcher picks (call after tuning). */
  chosen(): string;
  /** Uploads the inputs; `run(variant)` then only encodes. */
  setup(): Promise<{ run(variant: string): void; dispose(): void }>;
}

const F = 4; // bytes per f32
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Tensors made for one case, disposed together. */
class Inputs {
  readonly all: Tensor[] = [];
  #seed = 1;
  constructor(private readonly rt: Runtime) {}
  rand(shape: number[], scale = 1): Tensor {
    return this.keep(this.rt.upload(randomArray(count(shape), this.#seed++, scale), shape));
  }
  empty(shape: number[]): Tensor {
    return this.keep(this.rt.empty(shape));
  }
  keep<T extends Tensor>(t: T): T {
    this.all.push(t);
    return t;
  }
  dispose(): void {
    for (const t of this.all) t.dispose();
  }
}

/**
 * The cases for an image of `tokens` patches with the full-size dims. `stemWeights` are uploaded
 * once (random, of the real shapes) and shared by the stem cases; the caller disposes them.
 */
export function kernelCases(rt: Runtime, dims: MusiqDims, tokens: number, stemWeights: () => Promise<StemWeights>): KernelCase[] {
  const T = tokens + 1; // the encoder sees CLS too
  const D = dims.hidden, W = dims.stemWidth;
  const P = Math.min(tokens, stemChunkSize(rt, W)); // one stem chunk, as the model runs it
  const cases: KernelCase[] = [];

  // Encoder and embedding matmuls, each with the epilogue the model fuses into it.
  const matmuls: [string, number, number, number, { gelu?: boolean; residual?: boolean }][] = [
    ['matmul qkv', T, D, 3 * D, {}],
    ['matmul mlp0', T, D, dims.mlp, { gelu: true }],
    ['matmul mlp1', T, dims.mlp, D, { residual: true }],
    ['matmul out', T, D, D, { residual: true }],
    ['matmul embedding', tokens, 64 * 4 * W, D, {}],
  ];
  for (const [kernel, M, K, N, epi] of matmuls) {
    cases.push({
      group: 'matmul',
      kernel,
      shape: [M, K, N],
      flop: 2 * M * K * N,
      bytes: F * (M * K + K * N + N + M * N * (epi.residual ? 2 : 1)),
      variants: matmulVariantsFor(rt, M, K, N),
      chosen: () => matmulVariant(rt, M, K, N),
      async setup() {
        const t = new Inputs(rt);
        const x = t.rand([M, K]), w = t.rand([K, N], 1 / Math.sqrt(K)), bias = t.rand([N], 0.05);
        const residual = epi.residual ? t.rand([M, N]) : undefined;
        const out = t.empty([M, N]);
        const opts: MatmulOptions = { bias, gelu: epi.gelu, residual, out };
        return { run: (variant) => void matmul(rt, x, w, { ...opts, variant }), dispose: () => t.dispose() };
      },
    });
  }

  const attn = attentionVariants(rt);
  cases.push({
    group: 'attention',
    kernel: 'attention',
    shape: [T, dims.heads, dims.headDim],
    // q·kᵀ and p·v: 2 multiply-adds per (query, key, head, dim); the softmax's exps not counted.
    flop: 4 * T * T * D,
    bytes: F * (T * 3 * D + T * D),
    variants: attn,
    chosen: () => attentionVariant(rt),
    async setup() {
      const t = new Inputs(rt);
      const qkv = t.rand([T, 3 * D], 2), out = t.empty([T, D]);
      return { run: (variant) => void attention(rt, qkv, { heads: dims.heads, headDim: dims.headDim, out, variant: variant as never }), dispose: () => t.dispose() };
    },
  });

  // mean: 1 add; variance: subtract, square, add; normalise: subtract, scale, ×γ, +β.
  cases.push({
    group: 'layernorm',
    kernel: 'layernorm',
    shape: [T, D],
    flop: 8 * T * D,
    bytes: F * (2 * T * D + 2 * D),
    variants: layernormVariantsFor(D),
    chosen: () => layernormVariant(rt, D),
    async setup() {
      const t = new Inputs(rt);
      const x = t.rand([T, D], 3), s = t.rand([D]), b = t.rand([D]), y = t.empty([T, D]);
      return { run: (variant) => void layernorm(rt, x, s, b, 1e-6, y, undefined, variant as LayernormVariant), dispose: () => t.dispose() };
    },
  });
  // x³ (2), ·0.044715, +x, ·√(2/π), +1, ·x, ·0.5: 8 per value, tanh not counted.
  cases.push(plain(rt, 'gelu', 'gelu', [T, dims.mlp], 8 * T * dims.mlp, F * 2 * T * dims.mlp, (t) => {
    const x = t.rand([T, dims.mlp], 4), y = t.empty([T, dims.mlp]);
    return () => void gelu(rt, x, y);
  }));
  // The AVA head: max, subtract, sum, divide per value.
  cases.push(plain(rt, 'softmax', 'softmax ava-head', [1, 10], 4 * 10, F * 20, (t) => {
    const x = t.rand([1, 10], 3);
    return () => softmaxRows(rt, x).dispose();
  }));
  // The residual add the block would do unfused (axpby: 2 multiplies, 1 add).
  cases.push(plain(rt, 'elementwise', 'elementwise axpby', [T, D], 3 * T * D, F * 3 * T * D, (t) => {
    const a = t.rand([T, D]), b = t.rand([T, D]), y = t.empty([T, D]);
    return () => void axpby(rt, a, b, 1, 1, y);
  }));
  // The stem's RGB patches as RGB0 where its root convolution takes 4 channels (stem.ts): a copy.
  const pixels = tokens * 32 * 32;
  cases.push(plain(rt, 'elementwise', 'elementwise pad_rgb0', [pixels, 3], null, F * 7 * pixels, (t) => {
    const x = t.rand([pixels, 3]);
    return () => padRgb0(rt, x, pixels).dispose();
  }));
  const ids = tokens;
  cases.push(plain(rt, 'embed', 'embed tokens', [ids, D], 2 * ids * D, F * (ids * D + 2 * ids + (ids + 1) * D + (dims.posGrid ** 2 + dims.numScales + 1) * D), (t) => {
    const r = mulberry32(9);
    const emb = t.rand([ids, D]);
    const spatial = t.keep(rt.upload(Uint32Array.from({ length: ids }, () => Math.floor(r() * dims.posGrid ** 2)), [ids], 'u32'));
    const scales = t.keep(rt.upload(Uint32Array.from({ length: ids }, () => Math.floor(r() * dims.numScales)), [ids], 'u32'));
    const pos = t.rand([dims.posGrid ** 2, D]), scale = t.rand([dims.numScales, D]), cls = t.rand([D]);
    return () => embedTokens(rt, emb, spatial, scales, pos, scale, cls).dispose();
  }));

  // The stem on one chunk of P patches: its two spatial convolutions with every variant...
  const convs: [string, number, number, number, number, number, number][] = [
    // RGB, or RGB0 where the model pads the patches (stem.ts, rootChannels): what the model runs.
    ['conv2d conv_root', 32, 32, rootChannels(rt), 7, 2, W],
    ['conv2d conv2', 8, 8, W, 3, 1, W],
  ];
  for (const [kernel, h, wd, cin, k, stride, cout] of convs) {
    const ho = samePadding(h, k, stride).out, wo = samePadding(wd, k, stride).out;
    cases.push({
      group: 'conv2d',
      kernel,
      shape: [P, h, wd, cin, k, stride, cout],
      flop: 2 * P * ho * wo * cout * k * k * cin,
      bytes: F * (P * h * wd * cin + k * k * cin * cout + P * ho * wo * cout),
      variants: conv2dVariants(rt, cin),
      chosen: () => conv2dVariant(rt, cin),
      async setup() {
        const t = new Inputs(rt);
        const x = t.rand([P, h, wd, cin]), w = t.rand([k, k, cin, cout], 0.1), out = t.empty([P, ho, wo, cout]);
        return { run: (variant) => void conv2d(rt, x, w, { stride, out, variant: variant as never }), dispose: () => t.dispose() };
      },
    });
  }
  // ...its GroupNorms ([P, pixels, C]; mean, variance and normalise as LayerNorm, +1 for a residual)...
  const norms: [string, number, number, boolean, boolean][] = [
    ['groupnorm gn_root+relu', 256, W, true, false],
    ['groupnorm gn_proj', 64, 4 * W, false, false],
    ['groupnorm gn1+relu', 64, W, true, false],
    ['groupnorm gn3+res+relu', 64, 4 * W, false, true],
  ];
  for (const [kernel, s, c, relu, res] of norms) {
    const n = P * s * c;
    cases.push(plain(rt, 'groupnorm', kernel, [P, s, c], (res ? 9 : 8) * n, F * ((res ? 3 : 2) * n + 2 * c), (t) => {
      const x = t.rand([P, s, c]), y = t.empty([P, s, c]), r = res ? t.rand([P, s, c]) : undefined;
      const scale = t.rand([c]), bias = t.rand([c]);
      return () => void groupNorm(rt, x, scale, bias, { eps: 1e-4, relu, residual: r, out: y });
    }));
  }
  // ...the pool (comparisons only: no flop), and the root's GroupNorm + ReLU fused with it, as the
  // stem runs them (compare with gn_root+relu plus the pool)...
  cases.push(plain(rt, 'maxpool', 'maxpool 3x3/2', [P, 16, 16, W], null, F * (P * 16 * 16 * W + P * 8 * 8 * W), (t) => {
    const x = t.rand([P, 16, 16, W]), y = t.empty([P, 8, 8, W]);
    return () => void maxPool(rt, x, { out: y });
  }));
  cases.push(plain(rt, 'groupnorm', 'groupnorm gn_root+relu+pool', [P, 16, 16, W], 8 * P * 256 * W, F * (P * 16 * 16 * W + P * 8 * 8 * W + 2 * W), (t) => {
    const x = t.rand([P, 16, 16, W]), y = t.empty([P, 8, 8, W]);
    const scale = t.rand([W]), bias = t.rand([W]);
    return () => void groupNorm(rt, x, scale, bias, { eps: 1e-6, relu: true, pool: { window: 3, stride: 2 }, out: y });
  }));
  // ...and the whole stem, whose convolutions are ≈ 7.13 M multiply-adds per patch (spec §3.8).
  const macs = 256 * 49 * 3 * W + 64 * W * 4 * W + 64 * W * W + 64 * 9 * W * W + 64 * W * 4 * W;
  const weights = [...stemKeyShapes(W).values()].reduce((a, s) => a + count(s), 0);
  cases.push(plain(rt, 'stem', 'stem whole', [P, 32, 32, 3], 2 * P * macs, F * (P * 32 * 32 * 3 + weights + P * 64 * 4 * W), async (t) => {
    const patches = t.rand([P, 32 * 32 * 3]);
    const w = await stemWeights();
    return () => stem(rt, w, patches).dispose();
  }));
  return cases;
}

/** A case with one variant (the launcher has no choice to make). */
function plain(
  rt: Runtime,
  group: string,
  kernel: string,
  shape: number[],
  flop: number | null,
  bytes: number,
  make: (t: Inputs) => (() => void) | Promise<() => void>,
): KernelCase {
  const variant = 'default';
  return {
    group,
    kernel,
    shape,
    flop,
    bytes,
    variants: [variant],
    chosen: () => variant,
    async setup() {
      const t = new Inputs(rt);
      // Inputs only: the first run, which creates the pipeline, is the timed warm-up's.
      const run = await make(t);
      return { run, dispose: () => t.dispose() };
    },
  };
}

/** Random stem weights of the real shapes, standardised and uploaded as the model does. */
export async function randomStemWeights(rt: Runtime, width: number): Promise<StemWeights> {
  let seed = 100;
  return uploadStemWeights(rt, async (key) => randomArray(count(stemKeyShapes(width).get(key)!), seed++, 0.2), width);
}

export { disposeStemWeights };
