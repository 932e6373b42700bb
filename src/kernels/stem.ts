// The ResNet patch stem (spec §3.2) on the GPU, batched over patches:
// conv_root 7×7/2 → GN → ReLU → max-pool 3×3/2 → bottleneck unit (projection + 1×1, 3×3, 1×1).
// The 1×1 convs are matmuls over [P·64, cin] (the shared, per-adapter-tuned kernel); tensors are
// allocated in the shape their consumer reads (2-D for a matmul, [P, …] for a GroupNorm).
import { MusiqError } from '../common/errors.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { conv2d, conv2dVariant } from './conv2d.ts';
import { groupNorm } from './groupnorm.ts';
import { matmul } from './matmul.ts';
import { padRgb0 } from './pad_rgb0.ts';

/** GroupNorm parameters, flattened from the checkpoint's (1,1,1,C) to (C,). */
export interface GroupNormWeights {
  scale: Tensor;
  bias: Tensor;
}

/**
 * Conv kernels are standardised. The 7×7 and 3×3 ones keep HWIO [kh, kw, cin, cout] (K×N
 * row-major for the implicit-GEMM conv); the 1×1 ones are plain [cin, cout] matmul weights.
 */
export interface StemWeights {
  stemWidth: number;
  convRoot: Tensor;
  gnRoot: GroupNormWeights;
  /** [W, 4W] */
  convProj: Tensor;
  gnProj: GroupNormWeights;
  /** [W, W] */
  conv1: Tensor;
  gn1: GroupNormWeights;
  conv2: Tensor;
  gn2: GroupNormWeights;
  /** [W, 4W] */
  conv3: Tensor;
  gn3: GroupNormWeights;
}

const PATCH = 32;
const ROOT_EPS = 1e-6; // gn_root: flax.nn's default
const UNIT_EPS = 1e-4; // every GroupNorm inside block1/unit1

/** Values per patch of the largest tensor the stem allocates: 16·16·W = 8·8·4W. */
function largestPerPatch(stemWidth: number): number {
  return Math.max((PATCH / 2) ** 2 * stemWidth, (PATCH / 4) ** 2 * 4 * stemWidth, PATCH * PATCH * 3);
}

/**
 * Patches per stem() call on SwiftShader. The stem's tensors are an image's largest, and a first
 * image pays for every page of buffer memory it touches first: in this project's VMs ~2.7 ms a
 * MB (a page fault each 4 KB; `new Uint8Array(512 MiB)` written once took 1.4 s). One chunk of
 * 918 patches (1024×768) made the pool allocate ~240 MB; chunks of at most 128 (the model makes
 * them equal: stemParts, 10 of 91-92) ~30 MB. Measured with chunks of 128 and a short last one: headless
 * Chromium (`bench:browser --bytes --idle 6`, so that no compile shares the CPU; Zen 5 host), the
 * first image's stem took 0.10-0.12 s longer than the second's, against 0.45-0.72 s in one chunk;
 * Node on the ICD, two scorers alternating image by image, steady state: the stem 3.41-3.75 s
 * against 3.25-3.76. Peak GPU memory of an image 139 MB against 313. Not on lavapipe, where 8×
 * the dispatches made the stem ~20% slower (0.85-1.06 s against 0.66-0.97), nor on GPUs.
 */
const SWIFTSHADER_CHUNK = 128;

/** The most patches one stem() call can take without a tensor exceeding the storage binding limit. */
function maxStemPatches(rt: Runtime, stemWidth: number): number {
  // Also at most 128 MiB per tensor where the adapter allows more: ~1800 patches per chunk keep
  // any GPU busy, and a 12 MP photo's stem then needs ~0.4 GiB instead of several.
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize, 2 ** 27);
  // The pool rounds sizes up by at most 1/8 (2^k/8 steps); keep that headroom below the limit.
  return Math.max(1, Math.floor((limit * 8) / 9 / (largestPerPatch(stemWidth) * 4)));
}

/** Patches per stem() call for the model: as many as fit (maxStemPatches), SWIFTSHADER_CHUNK there. */
export function stemChunkSize(rt: Runtime, stemWidth: number): number {
  const fits = maxStemPatches(rt, stemWidth);
  return rt.adapter.architecture === 'swiftshader' ? Math.min(fits, SWIFTSHADER_CHUNK) : fits;
}

/**
 * The input channels of the root convolution's weights on this adapter: 3, or 4 where
 * uploadStemWeights gives them a zero fourth channel and stem() the patches one (padRgb0).
 * With 4, the root convolution reads whole vec4s, as the 3×3 one does, and both run in one
 * pipeline: a newcomer's first image compiles one convolution instead of two, on lavapipe's
 * 8-lane kernel ~2.2 s of LLVM each (Zen 1 host, fresh Mesa cache). It runs as fast there (918
 * patches, in turns: 438-454 ms against 423-439), the vec4 loads paying for a third more
 * multiply-adds. SwiftShader's conv2d_subgroup4 ran it 11% slower (2.00 s against 1.80; again
 * with the convolutions' matrix product, Zen 5, RGB0 padding included: 1.11-1.18 s against
 * 1.01-1.10), but its conv2d_gemm4, which needs whole vec4s, runs RGB0 in 0.66-0.69 s against
 * conv2d_subgroup4's 0.87-0.97 on RGB: SwiftShader takes 4 with gemm4. Every other adapter keeps 3.
 */
export function rootChannels(rt: Runtime): 3 | 4 {
  const variant = conv2dVariant(rt);
  return (rt.adapter.architecture === 'software' && variant === 'subgroup') || variant === 'gemm4' ? 4 : 3;
}

/**
 * patches [P, 32·32·3] in (y, x, c) order → features [P, 8·8·4W] in (h, w, c) order.
 * Every intermediate is released as soon as it is consumed.
 */
export function stem(rt: Runtime, w: StemWeights, patches: Tensor): Tensor {
  const W = w.stemWidth;
  const p = patches.shape[0];
  if (patches.shape.length !== 2 || patches.shape[1] !== PATCH * PATCH * 3) {
    throw new MusiqError(`stem: patches have shape [${patches.shape.join(', ')}], expected [P, ${PATCH * PATCH * 3}]`);
  }
  const most = maxStemPatches(rt, W);
  if (p > most) throw new MusiqError(`stem: ${p} patches exceed this adapter's chunk of ${most} (split the call)`);

  const side = PATCH / 4, px = side * side; // after the pool: 8×8 pixels
  const cin = w.convRoot.shape[2]; // 3, or 4 where the weights were padded (rootChannels)
  const input = cin === 4 ? padRgb0(rt, patches, p * PATCH * PATCH) : patches;
  const root = conv2d(rt, input, w.convRoot, { stride: 2, inputShape: [p, PATCH, PATCH, cin] });
  if (input !== patches) input.dispose();
  // GN + ReLU + max-pool in one pass: the normalised 16×16 map is never stored.
  const x = groupNorm(rt, root, w.gnRoot.scale, w.gnRoot.bias, { eps: ROOT_EPS, relu: true, pool: { window: 3, stride: 2 }, out: rt.empty([p * px, W]) });
  root.dispose();

  const proj = matmul(rt, x, w.convProj, { out: rt.empty([p, px, 4 * W]) });
  const residual = groupNorm(rt, proj, w.gnProj.scale, w.gnProj.bias, { eps: UNIT_EPS });
  proj.dispose();

  const c1 = matmul(rt, x, w.conv1, { out: rt.empty([p, px, W]) });
  x.dispose();
  const a1 = groupNorm(rt, c1, w.gn1.scale, w.gn1.bias, { eps: UNIT_EPS, relu: true, out: rt.empty([p, side, side, W]) });
  c1.dispose();
  const c2 = conv2d(rt, a1, w.conv2);
  a1.dispose();
  const a2 = groupNorm(rt, c2, w.gn2.scale, w.gn2.bias, { eps: UNIT_EPS, relu: true, out: rt.empty([p * px, W]) });
  c2.dispose();
  const c3 = matmul(rt, a2, w.conv3, { out: rt.empty([p, px, 4 * W]) });
  a2.dispose();

  const out = rt.empty([p, px * 4 * W]);
  groupNorm(rt, c3, w.gn3.scale, w.gn3.bias, { eps: UNIT_EPS, residual, out });
  c3.dispose();
  residual.dispose();
  return out;
}
