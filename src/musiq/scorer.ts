// The library API shared by Node and browsers: a loaded checkpoint that scores many images.
// Platform entry points (src/index.node.ts, src/index.browser.ts) only add how a runtime and
// a checkpoint's bytes are obtained.
import type { Runtime } from '../runtime/runtime.ts';
import { MusiqError } from '../common/errors.ts';
import type { ByteSource } from '../npz/source.ts';
import { openCheckpoint, type Checkpoint, type MusiqDims, type Variant } from './checkpoint.ts';
import { decodeImage } from '../image/decode.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { preprocess, type MusiqInput } from './preprocess.ts';
import { MusiqModel, type ForwardResult, type WeightPrecision } from './model.ts';
import { WasmModel } from './model.wasm.ts';
import { wasmSimdAvailable } from '../kernels/matmul.wasm.ts';
import { isCpuAdapter } from '../runtime/device.ts';
import { tuneMatmul, tuneMatmulTile } from '../kernels/matmul.ts';
import { hasTiers, provenLong } from '../kernels/attention.ts';
import { isPromoted, promote, recallPromotion, recallSpent, rememberPromotion, rememberSpent } from '../kernels/tiers.ts';
import { compileAhead, compilePromotedAhead, compileWhileLoading, rememberCompiled, type Compiling } from './compile-ahead.ts';
import type { FilePrecision } from './quantize.ts';
import type { TuneCache } from '../kernels/tune.ts';

/** Wall milliseconds of one image's stages. */
export interface Timings {
  decode: number;
  preprocess: number;
  /**
   * Upload, patch stem and embedding, until the queue reported them done. The split between stem
   * and encoder rests on that report: on lavapipe Dawn's event polling sometimes stalls for
   * seconds during a process's first image, which then counts most of its encoder time here
   * (seen as an encoder of ~0 ms). Deno's WebGPU (wgpu) reports the queue's work done only with
   * the readback at the end, so there the stem holds nearly all of it (Deno 2.9 on lavapipe: a
   * stem of 17.6 s, an encoder of 12 ms). `total` is exact either way.
   */
  stem: number;
  /** The encoder and the head, from the stem's end to the scores read back. */
  encoder: number;
  total: number;
}

export interface ScoreResult {
  /** Quality score (koniq/spaq/paq2piq: the raw head output, ~0–100; ava: mean of the 1–10 distribution). NaN for imagenet. */
  score: number;
  variant: Variant;
  width: number;
  height: number;
  /** Patch tokens fed to the encoder (CLS not counted). */
  tokens: number;
  timings: Timings;
  /** AVA: probabilities of ratings 1..10. */
  distribution?: number[];
  /** ImageNet: the five most likely class indices with their probabilities. */
  top5?: { index: number; probability: number }[];
  /** The CLS token after the final LayerNorm (e.g. 384 values), for any checkpoint. */
  embedding: Float32Array;
  logits: Float32Array;
  /** With `{ attention: true }`: CLS attention in the last layer over the native-resolution patch grid (row-major), averaged over heads. */
  attention?: { gridH: number; gridW: number; values: Float32Array };
}

export interface ScoreOptions {
  /** Also return the last layer's CLS attention map over native-resolution patches (costs one extra readback). */
  attention?: boolean;
}

/** Encoded PNG/JPEG bytes, or pixels already decoded to 8-bit RGB. */
export type ImageInput = Uint8Array | ArrayBuffer | RgbImage;

/** How the loaded checkpoint's kernels were stored in the file, and how they are stored on the GPU ('f32' on the CPU engine). */
export interface LoadedPrecision {
  file: FilePrecision;
  gpu: WeightPrecision;
}

/** Where a scorer runs the model: WGSL kernels on the WebGPU device, or WebAssembly SIMD on the CPU. */
export type Engine = 'gpu' | 'cpu';

/**
 * 'auto' → 'cpu' where the adapter is a CPU on which the WGSL kernels run slower than one core of
 * WebAssembly, measured on a 2-core machine at 1024×768: SwiftShader (its kernels at 8-10 GFLOP/s,
 * Subzero's code; in Chromium a first image took 10.6-14.8 s on them, 2.8-4.1 s on the CPU) and CPU adapters without
 * subgroups (Deno's wgpu on lavapipe, both engines in turn in one process, four runs: a first
 * image 0.52-0.77× its WebGPU's time, later ones 0.91-0.94×). 'gpu' elsewhere: Dawn's
 * lavapipe, with subgroups and every core, takes 1.6-2.3 s. Also 'gpu' where this JavaScript
 * engine has no WebAssembly SIMD.
 */
export function chooseEngine(runtime: Runtime, wanted: 'auto' | Engine = 'auto'): Engine {
  if (!['auto', 'gpu', 'cpu'].includes(wanted)) throw new MusiqError(`musiq: engine must be "auto", "gpu" or "cpu", not ${JSON.stringify(wanted)}`);
  if (wanted === 'cpu' && !wasmSimdAvailable()) throw new MusiqError('musiq: engine "cpu" needs WebAssembly SIMD, which this JavaScript engine lacks');
  if (wanted !== 'auto') return wanted;
  const a = runtime.adapter;
  const slowCpu = a.architecture === 'swiftshader' || (isCpuAdapter(a) && !runtime.features.has('subgroups'));
  return slowCpu && wasmSimdAvailable() ? 'cpu' : 'gpu';
}

export interface Scorer {
  readonly variant: Variant;
  readonly engine: Engine;
  readonly dims: MusiqDims;
  readonly precision: LoadedPrecision;
  readonly runtime: Runtime;
  score(image: ImageInput, name?: string, options?: ScoreOptions): Promise<ScoreResult>;
  /**
   * After a `DeviceLostError` (driver reset, GPU process crash, a browser reclaiming the GPU):
   * gets a new device and uploads the checkpoint again, so `score()` works as before. A scorer
   * given its `runtime` by the caller cannot replace it: reload() then rejects, and the caller
   * makes a new Runtime and a new scorer.
   */
  reload(): Promise<void>;
  dispose(): void;
}

export interface LoadProgress {
  /** Tensors uploaded so far, of `total`. */
  done: number;
  total: number;
}

function isRgb(x: ImageInput): x is RgbImage {
  return !(x instanceof Uint8Array) && !(x instanceof ArrayBuffer);
}

/** Score from head outputs: C = 1 → raw value; C = 10 → Σ p_i·i over softmax; otherwise NaN. */
export function scoreFromHead(logits: ArrayLike<number>, probabilities?: ArrayLike<number>): number {
  if (logits.length === 1) return logits[0];
  if (logits.length === 10 && probabilities) {
    let s = 0;
    for (let i = 0; i < 10; i++) s += probabilities[i] * (i + 1);
    return s;
  }
  return NaN;
}

export async function createScorerFrom(
  runtime: Runtime,
  source: ByteSource,
  options: {
    onProgress?: (p: LoadProgress) => void;
    ownsRuntime?: boolean;
    tuneCache?: TuneCache;
    weights?: WeightPrecision;
    /** A second device of the platform's, to compile a kernel ahead on (compile-ahead.ts). */
    newRuntime?: () => Promise<Runtime>;
    /** Compiles started before the checkpoint was read (compileWhileLoading): the first image's stem and attention wait for them. */
    compiling?: Compiling;
    engine?: 'auto' | Engine;
  } = {},
): Promise<Scorer> {
  const engine = chooseEngine(runtime, options.engine);
  if (options.weights !== undefined && options.weights !== 'f32' && options.weights !== 'f16') throw new MusiqError(`musiq: weights must be 'f32' or 'f16', got ${JSON.stringify(options.weights)}`);
  const ckpt = await openCheckpoint(source);
  // The CPU engine computes from f32 weights whatever `weights` says (it is the GPU's storage).
  if (engine === 'cpu') return cpuScorer(runtime, ckpt, source, options);
  // Kernel variants are chosen by measuring on this adapter once; the choice is remembered per adapter.
  await tuneMatmul(runtime, { cache: options.tuneCache });
  const tuneCache = options.tuneCache;
  await recallPromotion(runtime, tuneCache);
  // Runs while the weights upload and the first image's stem runs; that image waits for it before its first attention.
  const newRuntime = options.newRuntime;
  let compiled = compileAhead(runtime, newRuntime, ckpt.dims, tuneCache) ?? options.compiling;
  // Images, and the milliseconds they took (earlier processes' too): when the run has proven long (provenLong).
  let scored = 0;
  let spentMs = hasTiers(runtime) && !isPromoted(runtime) ? await recallSpent(runtime, tuneCache) : 0;
  let promotionStarted = false;
  let promotionReady = false; // the fast-running tier, compiled on a second device
  let model: MusiqModel;
  try {
    model = await MusiqModel.load(runtime, ckpt, (done, total) => options.onProgress?.({ done, total }), options.weights);
  } finally {
    await source.close?.();
  }
  // SwiftShader given the checkpoint as bytes (no download to compile during): compile now, while
  // the caller has not yet asked for an image (compile-ahead.ts).
  compiled ??= compileWhileLoading(runtime);
  return {
    variant: ckpt.variant,
    engine: 'gpu',
    dims: ckpt.dims,
    precision: { file: ckpt.precision, gpu: model.gpuWeights },
    runtime,
    async score(image: ImageInput, name = 'image', options: ScoreOptions = {}): Promise<ScoreResult> {
      if (model.disposed) throw new MusiqError('musiq: scorer used after dispose()');
      const { t0, t1, t2, rgb, input } = decodeAndPreprocess(image, name);
      // A run this long pays for compiling the fastest-running kernels (tiers.ts; how long:
      // provenLong), on a second device where it can (compile-ahead.ts), switching between two
      // images once they are ready; where there is none, this image waits for the compile.
      if (promotionReady && !isPromoted(runtime)) promote(runtime);
      let promoting = false;
      if (!promotionStarted && !isPromoted(runtime) && provenLong(runtime, scored, spentMs)) {
        promotionStarted = true;
        const ahead = compilePromotedAhead(runtime, newRuntime, ckpt.dims, tuneCache);
        // Remembered as soon as the helper has run the kernels, whether or not another image follows.
        const remember = async (ran: boolean) => {
          promotionReady = true;
          if (ran) await rememberPromotion(runtime, tuneCache);
        };
        if (ahead) void ahead.then(remember).catch(() => undefined); // a cache not written: the next process promotes again
        else {
          promote(runtime);
          await tuneMatmulTile(runtime, tuneCache); // this image waits for the tier's compiles anyway
        }
        promoting = !ahead;
      }
      const out = await model.forward(input, { ...options, beforeStem: compiled?.stem, beforeAttention: compiled?.attention });
      if (compiled) await rememberCompiled(runtime, tuneCache);
      compiled = undefined;
      if (promoting) await rememberPromotion(runtime, tuneCache);
      runtime.trim(); // everything of this image has been read back
      const total = performance.now() - t0;
      scored++;
      spentMs += total;
      if (hasTiers(runtime) && !promotionStarted && !isPromoted(runtime)) await rememberSpent(runtime, tuneCache, spentMs);
      return resultOf(ckpt.variant, rgb, input, out, { decode: t1 - t0, preprocess: t2 - t1, stem: out.ms.stem, encoder: out.ms.encoder, total });
    },
    async reload(): Promise<void> {
      throw new MusiqError('musiq: reload() belongs to scorers made by createScorer()');
    },
    dispose(): void {
      model.dispose();
      if (options.ownsRuntime) runtime.destroy();
    },
  };
}

/** A scorer on the CPU engine (model.wasm.ts): no kernels to tune or compile. */
async function cpuScorer(
  runtime: Runtime,
  ckpt: Checkpoint,
  source: ByteSource,
  options: { onProgress?: (p: LoadProgress) => void; ownsRuntime?: boolean },
): Promise<Scorer> {
  let model: WasmModel;
  try {
    model = await WasmModel.load(ckpt, (done, total) => options.onProgress?.({ done, total }));
  } finally {
    await source.close?.();
  }
  return {
    variant: ckpt.variant,
    engine: 'cpu',
    dims: ckpt.dims,
    precision: { file: ckpt.precision, gpu: 'f32' },
    runtime,
    async score(image: ImageInput, name = 'image', options: ScoreOptions = {}): Promise<ScoreResult> {
      if (model.disposed) throw new MusiqError('musiq: scorer used after dispose()');
      const { t0, t1, t2, rgb, input } = decodeAndPreprocess(image, name);
      const out = await model.forward(input, options);
      return resultOf(ckpt.variant, rgb, input, out, { decode: t1 - t0, preprocess: t2 - t1, stem: out.ms.stem, encoder: out.ms.encoder, total: performance.now() - t0 });
    },
    async reload(): Promise<void> {
      throw new MusiqError('musiq: reload() belongs to scorers made by createScorer()');
    },
    dispose(): void {
      model.dispose();
      if (options.ownsRuntime) runtime.destroy();
    },
  };
}

/** The image's pixels and the model's input, with the times before, between and after (ms). */
function decodeAndPreprocess(image: ImageInput, name: string): { t0: number; t1: number; t2: number; rgb: RgbImage; input: MusiqInput } {
  const t0 = performance.now();
  const rgb = isRgb(image) ? checkRgb(image, name) : decodeImage(image instanceof Uint8Array ? image : new Uint8Array(image), name);
  const t1 = performance.now();
  const input = preprocess(rgb);
  return { t0, t1, t2: performance.now(), rgb, input };
}

function resultOf(variant: Variant, rgb: RgbImage, input: MusiqInput, out: ForwardResult, timings: Timings): ScoreResult {
  const result: ScoreResult = {
    score: scoreFromHead(out.logits, out.probabilities),
    variant,
    width: rgb.width,
    height: rgb.height,
    tokens: input.tokens,
    timings,
    embedding: out.embedding,
    logits: out.logits,
  };
  if (out.clsAttention) {
    // Tokens are [scale 0…][scale 1…][native]: the native grid is the last block (index 0 = CLS).
    const native = input.scales[input.scales.length - 1];
    const values = out.clsAttention.slice(1 + input.tokens - native.count);
    result.attention = { gridH: native.gridH, gridW: native.gridW, values };
  }
  if (variant === 'ava' && out.probabilities) result.distribution = [...out.probabilities];
  if (variant === 'imagenet' && out.probabilities) {
    result.top5 = [...out.probabilities]
      .map((probability, index) => ({ index, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 5);
  }
  return result;
}

/** A Scorer whose reload() replaces the inner scorer by a freshly opened one (new device, weights again). */
export async function reloadable(open: () => Promise<Scorer>): Promise<Scorer> {
  let inner = await open();
  let disposed = false;
  return {
    get variant() {
      return inner.variant;
    },
    get engine() {
      return inner.engine;
    },
    get dims() {
      return inner.dims;
    },
    get precision() {
      return inner.precision;
    },
    get runtime() {
      return inner.runtime;
    },
    score: (image, name, options) => inner.score(image, name, options),
    async reload() {
      if (disposed) throw new MusiqError('musiq: scorer used after dispose()');
      inner.dispose();
      inner = await open();
    },
    dispose() {
      disposed = true;
      inner.dispose();
    },
  };
}

function checkRgb(img: RgbImage, name: string): RgbImage {
  const { width, height, data } = img;
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new MusiqError(`${name}: bad image size ${width}×${height}`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new MusiqError(`${name}: RGB pixels must be a Uint8Array of width·height·3 = ${width * height * 3} bytes, got ${data?.length}`);
  }
  return img;
}
