// A first image on lavapipe waits for LLVM: lavapipe compiles a kernel at its first dispatch, on
// the queue thread that then runs it, one kernel after another, while the machine's other cores
// idle. The encoder's attention kernel is the longest compile of a first image (~5.5 CPU-s for the
// shuffle kernel; the stem's kernels take ~1 s each) and the model needs it only after the
// checkpoint upload and the stem. So a second device on the same adapter dispatches that kernel
// once, on a few tokens, while the scorer's own device uploads and runs the stem; Mesa's shader
// cache, which both devices share, then hands the compiled kernel to the scorer's device, whose
// first attention dispatch took 0.13-0.19 s instead of 5.6-5.9 s in a measurement on a fresh HOME.
// A process that finds the tune cache's note that this adapter compiled the kernel before (the
// driver then has it on disk) starts no helper: on a warm cache the second device only cost time.
// The same helper compiles the fast-running tier (tiers.ts) when a long run earns it, so that the
// scorer switches between two images instead of stalling one for the compile.
// GPUs and SwiftShader compile when a pipeline is created and are left alone; so is an adapter
// other than the scorer's, and a runtime the caller made (open-scorer.ts passes no factory then:
// a second device made with defaults would ignore how the caller set up theirs).
import type { Runtime } from '../runtime/runtime.ts';
import { adapterKey, type TuneCache } from '../kernels/tune.ts';
import { attention, attentionVariant, type AttentionVariant } from '../kernels/attention.ts';
import { matmul } from '../kernels/matmul.ts';
import { asPromoted } from '../kernels/tiers.ts';
import type { WeightPrecision } from './model-weights.ts';
import type { MusiqDims } from './checkpoint.ts';

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
export function compileAhead(runtime: Runtime, newRuntime: (() => Promise<Runtime>) | undefined, dims: MusiqDims, cache: TuneCache | undefined): Promise<void> | undefined {
  if (!newRuntime || runtime.adapter.architecture !== 'software') return undefined;
  // The variant the scorer's first image will use (tiers.ts decides it per adapter).
  const variant = attentionVariant(runtime);
  const key = keyOf(runtime);
  return onHelper(runtime, newRuntime, async () => (await cache?.get(key)) === undefined, (helper) => attend(helper, dims, variant));
}

/**
 * The same for the fast-running tier (tiers.ts): the looped attention and the 64-row matmul tile
 * for long K took ~27 s to compile on lavapipe, which a promotion used to stall one image for.
 * Compiled on a second device, the scorer goes on with the fast-compiling tier meanwhile and
 * switches between two images once this resolves. undefined where nothing is compiled ahead
 * (not lavapipe, or no second device to be had): promote at once then, as before.
 */
export function compilePromotedAhead(runtime: Runtime, newRuntime: (() => Promise<Runtime>) | undefined, dims: MusiqDims, weights: WeightPrecision): Promise<void> | undefined {
  if (!newRuntime || runtime.adapter.architecture !== 'software') return undefined;
  return onHelper(runtime, newRuntime, async () => true, (helper) =>
    asPromoted(helper, () => {
      attend(helper, dims);
      // The MLP's second matmul, K = mlp width: the long-K tile (the embedding's K takes the same kernel).
      matmul(helper, helper.zeros([TOKENS, dims.mlp]), helper.zeros([dims.mlp, dims.hidden], weights));
    }),
  );
}

/** One attention dispatch on a few zero tokens: the kernel (its pipeline) is what counts. */
function attend(helper: Runtime, dims: MusiqDims, variant?: AttentionVariant): void {
  attention(helper, helper.zeros([TOKENS, 3 * dims.heads * dims.headDim]), { heads: dims.heads, headDim: dims.headDim, variant });
}

/** Runs `encode` on a second device of the same adapter, waits for it, destroys the device; never fails. */
async function onHelper(runtime: Runtime, newRuntime: () => Promise<Runtime>, wanted: () => Promise<boolean>, encode: (helper: Runtime) => void): Promise<void> {
  let helper: Runtime | undefined;
  try {
    if (!(await wanted())) return;
    helper = await newRuntime();
    if (adapterKey(helper) !== adapterKey(runtime)) return;
    encode(helper);
    await helper.sync();
  } catch {
    // No second device, or it failed: the scorer's device compiles the kernels when it needs them.
  } finally {
    helper?.destroy();
  }
}

/** Notes, after an image ran, that this adapter's driver has compiled the attention kernel. */
export async function rememberCompiled(runtime: Runtime, cache: TuneCache | undefined): Promise<void> {
  if (runtime.adapter.architecture !== 'software' || !cache) return;
  const key = keyOf(runtime);
  if ((await cache.get(key)) === undefined) await cache.set(key, 'yes');
}
