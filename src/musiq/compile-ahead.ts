// A first image on lavapipe waits for LLVM: lavapipe compiles a kernel at its first dispatch, on
// the queue thread that then runs it, one kernel after another, while the machine's other cores
// idle. The encoder's attention kernel is the longest compile of a first image (~8 s for the
// looped kernel on a Zen 1 host; the stem's kernels take 0.3-2 s each) and the model needs it
// only after the checkpoint upload and the stem. So a second device on the same adapter
// dispatches that kernel once, on a few tokens, while the scorer's own device uploads and runs
// the stem; Mesa's shader cache, which both devices share, then hands the compiled kernel to the
// scorer's device, whose first attention dispatch took 0.13-0.19 s instead of 5.6-5.9 s in a
// measurement on a fresh HOME.
// A process that finds the tune cache's note that this adapter compiled the kernel before (the
// driver then has it on disk) starts no helper: on a warm cache the second device only cost time.
// With the helper, the compile of the shuffle kernel (then the first image's) was a cold image's
// critical path. On a Zen 1 host (first dispatch on a fresh HOME against the second image's):
// attention 9.9 s; the stem's kernels 6.8 s in all (each convolution 2.1, the one matmul pipeline
// 1.1, four GroupNorms 0.3-0.4); LayerNorm 0.3. The stem was done 1.3-1.7 s before the helper, so
// compiling it faster did not shorten the image (a 16-pixel convolution tile: 1.0 s a compile,
// +18% run time; cold runs 15.4-16.9 s against 15.2-16.7, four alternating pairs). The looped
// kernel reading qkv from a texture (attention.ts) compiles in about the stem's time.
// The same helper compiles the fast-running tier (tiers.ts) when a long run earns it, so that the
// scorer switches between two images instead of stalling one for the compile.
// Not under Deno's wgpu on lavapipe (a fallback adapter with no architecture), though a second
// device there does share Mesa's cache (attention 'tiled', fresh cache: 5.2 s on one device, 92 ms
// on the next): tried on 2026-12-05 (Zen 1), the helper's compile held up the scorer's device
// instead of running beside it. createScorer took 8.9 and 9.0 s against 3.6 and 3.7, load + first
// 1024×768 image 48.3 and 40.9 s against 36.6 and 38.1, and the promotion's image 78.7 s against
// 74.0 for the stall it was to avoid.
// GPUs and SwiftShader compile when a pipeline is created and get no second device; nor does an
// adapter other than the scorer's, or a runtime the caller made (open-scorer.ts passes no factory
// then: a second device made with defaults would ignore how the caller set up theirs).
// SwiftShader gets compileWhileLoading() instead: the same kernel, on the scorer's own device,
// before the checkpoint is downloaded (given as bytes: once uploaded), after the stem's kernels
// and the encoder's small ones:
// SwiftShader compiles one pipeline at a time, and a first image's stem queued behind the
// attention compile waited for it (headless Chromium, localhost: first image 15.7-16.8 s,
// stem+embedding 9.0-9.6 s; with the stem compiled first 13.4-13.7 s and 6.9-7.3 s; the second
// image 11 s either way).
import type { Runtime } from '../runtime/runtime.ts';
import { adapterKey, type TuneCache } from '../kernels/tune.ts';
import { attention, attentionVariant, prepareAttention, type AttentionVariant } from '../kernels/attention.ts';
import { asPromoted } from '../kernels/tiers.ts';
import { matmul, tuneMatmulTile } from '../kernels/matmul.ts';
import { embedTokens } from '../kernels/embed.ts';
import { layernorm } from '../kernels/layernorm.ts';
import { softmaxRows } from '../kernels/softmax.ts';
import { rootChannels, stem, type StemWeights } from '../kernels/stem.ts';
import type { MusiqDims } from './checkpoint.ts';
import { disposeStemWeights } from './stem-weights.ts';

/** Kernels compiling ahead of a first image; neither promise rejects. */
export interface Compiling {
  /** The stem's kernels and the encoder's small ones: the first image's stem waits for them. */
  stem?: Promise<void>;
  /** The attention kernel: the first attention waits for it. */
  attention: Promise<void>;
}

/** Tokens of the helper's dispatch: the kernel is the same whatever the count. */
const TOKENS = 8;

const KEY = 'compiled/1';
const keyOf = (rt: Runtime) => `${KEY}|${adapterKey(rt)}|attention/${attentionVariant(rt)}`;

/**
 * Starts compiling the encoder's attention kernel on a second device, if `runtime` is an adapter
 * that compiles at first dispatch and `cache` does not say it was compiled before. Resolves when
 * that kernel is compiled, or the helper gave up: it never fails, since the scorer's device would
 * then compile the kernel itself.
 */
export function compileAhead(runtime: Runtime, newRuntime: (() => Promise<Runtime>) | undefined, dims: MusiqDims, cache: TuneCache | undefined): Compiling | undefined {
  if (!newRuntime || runtime.adapter.architecture !== 'software') return undefined;
  // The variant the scorer's first image will use (tiers.ts decides it per adapter).
  const variant = attentionVariant(runtime);
  const key = keyOf(runtime);
  return { attention: onHelper(runtime, newRuntime, async () => (await cache?.get(key)) === undefined, (helper) => attend(helper, dims, variant)).then(() => undefined) };
}

/**
 * The same for the fast-running tier (tiers.ts): the attention kernel it runs (under Dawn on
 * lavapipe the first tier's own since the looped kernel reads a texture: a cache hit) and the
 * matmul tile this CPU runs faster, timed there (matmul.ts, tuneMatmulTile: the 64-row tile
 * compiles in 7.5 s on a Zen 1 host and runs 1.3-1.7× faster there, 0.75-0.8× on a Zen 4).
 * Compiled on a second device, the scorer goes on with the fast-compiling tier meanwhile and
 * switches between two images once this resolves: to true where the helper ran the tier's
 * kernels (the driver has them cached then), false where it could not. undefined where nothing
 * is compiled ahead (not lavapipe, or no second device to be had): promote at once then.
 */
export function compilePromotedAhead(runtime: Runtime, newRuntime: (() => Promise<Runtime>) | undefined, dims: MusiqDims, cache?: TuneCache): Promise<boolean> | undefined {
  if (!newRuntime || runtime.adapter.architecture !== 'software') return undefined;
  return onHelper(runtime, newRuntime, async () => true, async (helper) => {
    asPromoted(helper, () => attend(helper, dims));
    // Which matmul tile the tier takes depends on the CPU: timed here, beside the scorer's images.
    await tuneMatmulTile(helper, cache);
  });
}

/**
 * SwiftShader compiles a kernel when its pipeline is created (in Chromium: in the GPU process,
 * which then serves nothing else), and the first image's attention kernel takes ~6 s of it. So the
 * scorer starts that compile (createComputePipelineAsync, on its own device) before it downloads
 * the checkpoint: a download leaves the device idle, and the compile runs then. `bench:browser
 * --mbps 15` (1024×768, the 108 MB checkpoint in ~7 s), alternating with the code before: load +
 * first image 24.4 and 24.0 s against 29.3 and 30.0; first/second image 1.02 and 1.12× against
 * 1.57 and 1.48×. From localhost (no download to hide it in) the compile competes with the upload:
 * 24.9, 25.5, 22.8, 20.3 s against 24.3, 22.7, 21.6, 21.2 s, about 1 s more, within the noise.
 * The stem's kernels are compiled first (a stem on one zero patch, its dispatches turned into
 * compiles by Runtime.compileOnly), since the stem runs before the encoder and SwiftShader
 * compiles one pipeline after another (Subzero holds a global lock while it compiles). None
 * blocks: a pipeline created synchronously held up the caller (Node on the ICD: createScorer
 * returned ~1.9 s later for a file) or, in Chromium, the GPU process's command stream, uploads
 * included. The first image's stem waits for them (Compiling.stem): a dispatch would compile them
 * again.
 * A checkpoint given as bytes, a Blob or a file (the demo's, from Cache Storage) has no download
 * to hide the compile in: the scorer starts it once the weights are uploaded, so that it runs
 * while the caller picks an image, or beside the first image's stem. `bench:browser --bytes`
 * (1024×768, alternating with the code before, which compiled at first use): the first image
 * 17.3 and 19.1 s against 22.2 and 22.1; after 10 s idle (`--idle 10`) 11.8 and 12.0 s against
 * 18.5 and 20.5 (the second image 10.2-12.5 s throughout). Node on SwiftShader's ICD, a file:
 * load + first image 16.6 and 17.7 s against 17.7 and 19.9.
 * What is left of a first image's extra time is these compiles sharing the CPU with it: in
 * headless Chromium from localhost (Zen 5 host, `bench:browser`), they were done 6.5 s after they
 * started, 2.3 s into the first image (the load took 4.0 s), whose convolutions took 2.7 s of GPU
 * time against the second image's 1.9; with 10 s idle before it, the first image took the
 * second's time.
 * The promises resolve when the pipelines are compiled, or a compile failed (the dispatch then
 * compiles it itself and reports the error); undefined on other adapters.
 */
export function compileWhileLoading(runtime: Runtime): Compiling | undefined {
  if (runtime.adapter.architecture !== 'swiftshader') return undefined;
  let stem: Promise<void> | undefined;
  try {
    stem = runtime.compileOnly(() => {
      warmStem(runtime);
      warmEncoder(runtime);
    });
  } catch {
    // The model compiles its kernels when it runs.
  }
  return { stem, attention: prepareAttention(runtime).catch(() => undefined) };
}

/** The stem once on one zero patch with zero weights of every official checkpoint's width: its pipelines. */
function warmStem(rt: Runtime, W = 64): void {
  const gn = (c: number) => ({ scale: rt.zeros([c]), bias: rt.zeros([c]) });
  const w: StemWeights = {
    stemWidth: W,
    convRoot: rt.zeros([7, 7, rootChannels(rt), W]),
    gnRoot: gn(W),
    convProj: rt.zeros([W, 4 * W]),
    gnProj: gn(4 * W),
    conv1: rt.zeros([W, W]),
    gn1: gn(W),
    conv2: rt.zeros([3, 3, W, W]),
    gn2: gn(W),
    conv3: rt.zeros([W, 4 * W]),
    gn3: gn(4 * W),
  };
  const patches = rt.zeros([1, 32 * 32 * 3]);
  stem(rt, w, patches).dispose();
  patches.dispose();
  disposeStemWeights(w);
}

/**
 * The encoder's small kernels but attention (token embedding, LayerNorm, the head's matmul and
 * softmax), once on one zero token of every official checkpoint's width. Each compiles in 10-20
 * ms, but SwiftShader compiles one pipeline at a time: created at their first use, in the first
 * image, they waited for the attention compile (Node on SwiftShader's ICD, a file, 1024×768: the
 * token embedding's pipeline took 797 ms to create). Warmed here, in three alternating pairs
 * (Zen 5 host): the first image took 1.06, 1.03 and 1.10× the second against 1.17, 1.09 and
 * 1.27×. Headless Chromium (`bench:browser`) showed no difference (1.09-1.11× against 1.07-1.10×).
 */
function warmEncoder(rt: Runtime, D = 384): void {
  // Read-only operands may share a buffer: zeros of the right shapes are all the kernels need.
  const row = rt.zeros([1, D]);
  const vec = rt.zeros([D]);
  const ids = rt.zeros([1], 'u32');
  const head = rt.zeros([D, 1]);
  const tokens = embedTokens(rt, row, ids, ids, row, row, vec);
  const normed = layernorm(rt, row, vec, vec, 1e-6, undefined, 1);
  const logits = matmul(rt, normed, head);
  const probs = softmaxRows(rt, logits);
  for (const t of [row, vec, ids, head, tokens, normed, logits, probs]) t.dispose();
}

/** One attention dispatch on a few zero tokens: the kernel (its pipeline) is what counts. */
function attend(helper: Runtime, dims: MusiqDims, variant?: AttentionVariant): void {
  attention(helper, helper.zeros([TOKENS, 3 * dims.heads * dims.headDim]), { heads: dims.heads, headDim: dims.headDim, variant });
}

let helpers = 0; // second devices at work now

/** Whether a second device is compiling now: a process that ends meanwhile exits when it is done (the CLI says so). */
export function compilingAhead(): boolean {
  return helpers > 0;
}

/**
 * Runs `encode` on a second device of the same adapter, waits for it, destroys the device; never
 * fails. Resolves to whether `encode` ran to the end there.
 */
async function onHelper(runtime: Runtime, newRuntime: () => Promise<Runtime>, wanted: () => Promise<boolean>, encode: (helper: Runtime) => void | Promise<void>): Promise<boolean> {
  let helper: Runtime | undefined;
  helpers++;
  try {
    if (!(await wanted())) return false;
    helper = await newRuntime();
    if (adapterKey(helper) !== adapterKey(runtime)) return false;
    await encode(helper);
    await helper.sync();
    return true;
  } catch {
    // No second device, or it failed: the scorer's device compiles the kernels when it needs them.
    return false;
  } finally {
    helper?.destroy();
    helpers--;
  }
}

/** Notes, after an image ran, that this adapter's driver has compiled the attention kernel. */
export async function rememberCompiled(runtime: Runtime, cache: TuneCache | undefined): Promise<void> {
  if (runtime.adapter.architecture !== 'software' || !cache) return;
  const key = keyOf(runtime);
  if ((await cache.get(key)) === undefined) await cache.set(key, 'yes');
}
