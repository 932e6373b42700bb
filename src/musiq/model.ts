// MUSIQ on the GPU: weights uploaded once per checkpoint (model-weights.ts), then stem →
// embedding → encoder → head for each image (spec §3). Padding tokens never exist here (spec §2.9), so the encoder
// runs without a mask.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { MusiqError } from '../common/errors.ts';
import type { Checkpoint, MusiqDims, Variant } from './checkpoint.ts';
import type { MusiqInput } from './preprocess.ts';
import { uploadModelWeights, disposeModelWeights, type MusiqWeights, type Layer, type WeightPrecision } from './model-weights.ts';
import { stem, stemChunkSize } from '../kernels/stem.ts';
import { matmul } from '../kernels/matmul.ts';
import { layernorm } from '../kernels/layernorm.ts';
import { attention } from '../kernels/attention.ts';
import { embedTokens, checkTokenIds } from '../kernels/embed.ts';
import { softmaxRows } from '../kernels/softmax.ts';

const LN_EPS = 1e-6;
const PATCH_VALUES = 32 * 32 * 3;

export type { WeightPrecision } from './model-weights.ts';

export interface ForwardResult {
  /** Head outputs (1, 10 or 1000 values). */
  logits: Float32Array;
  /** softmax(logits) for AVA and ImageNet heads. */
  probabilities?: Float32Array;
  /** Wall milliseconds of the GPU stages: the stem until the GPU finished it, then the encoder and head to their readback (they add up). */
  ms: { stem: number; encoder: number };
  /** With `attention: true`: the last layer's attention of CLS over all tokens (index 0 = CLS), averaged over heads. */
  clsAttention?: Float32Array;
  /** The CLS token after the final LayerNorm (`dims.hidden` values). */
  embedding: Float32Array;
}

/** Rows of the subgroup matmuls' tiles on CPU adapters (matmul_subgroup4.wgsl's ROWS). */
const MATMUL_TILE_ROWS = 32;

/**
 * Into how many chunks `n` patches go, at most `most` each. The chunks are equal (their sizes
 * differ by a patch at most), so that every chunk's tensors reuse the pool's buffers: a short last
 * chunk needed buffers of its own (test/memory.test.ts then failed on SwiftShader). Of the next few
 * counts, the one whose chunks fill the embedding matmul's 32-row tiles best: 918 patches in 8
 * chunks of 115 made it compute 1024 rows (SwiftShader: 1.60 s, against 1.42 s for 7 chunks of 128
 * and one of 22); 10 chunks of 91-92 compute 960.
 */
export function stemParts(n: number, most: number): number {
  const fewest = Math.ceil(n / Math.max(1, most));
  let best = fewest;
  let bestRows = Infinity;
  for (let parts = fewest; parts <= Math.min(n, fewest + 3); parts++) {
    // n % parts chunks of size + 1, the rest of size (the loop in #embedPatches).
    const size = Math.floor(n / parts), bigger = n % parts;
    const rows = bigger * tileRows(size + 1) + (parts - bigger) * tileRows(size);
    if (rows < bestRows * 0.97) [best, bestRows] = [parts, rows]; // more dispatches only for a gain
  }
  return best;
}

const tileRows = (rows: number) => Math.ceil(rows / MATMUL_TILE_ROWS) * MATMUL_TILE_ROWS;

export class MusiqModel {
  private constructor(
    readonly rt: Runtime,
    readonly dims: MusiqDims,
    readonly variant: Variant,
    private weights: MusiqWeights | undefined,
    /** How the big matmul weights are stored on the GPU. */
    readonly gpuWeights: WeightPrecision = 'f32',
  ) {}

  /**
   * Reads every tensor of the checkpoint once and uploads it; `onProgress(done, total)` per tensor.
   * Without `weights`, the kernels of a converted file (f16 or int8) go up as f16 where the
   * adapter has shader-f16 (int8 dequantized on the CPU, then rounded to f16: ≤ 2^-11 of a value,
   * far below int8's own step), and as f32 where it has not; an original f32 file goes up as f32.
   */
  static async load(rt: Runtime, ckpt: Checkpoint, onProgress?: (done: number, total: number) => void, weights?: WeightPrecision): Promise<MusiqModel> {
    const up = await uploadModelWeights(rt, ckpt, onProgress, weights);
    return new MusiqModel(rt, ckpt.dims, ckpt.variant, up.weights, up.precision);
  }

  get disposed(): boolean {
    return this.weights === undefined;
  }

  #w(): MusiqWeights {
    if (!this.weights) throw new MusiqError('musiq: model used after dispose()');
    return this.weights;
  }

  /** Stem + embedding for all patches, in equal chunks of at most `most` patches (stemParts). */
  #embedPatches(input: MusiqInput, most = stemChunkSize(this.rt, this.dims.stemWidth)): Tensor {
    const { rt, dims } = this;
    const w = this.#w();
    const n = input.tokens;
    const out = rt.empty([n, dims.hidden]);
    const parts = stemParts(n, most);
    for (let i = 0; i < parts; i++) {
      const start = Math.floor((i * n) / parts);
      const p = Math.floor(((i + 1) * n) / parts) - start;
      const patches = rt.upload(input.patches.subarray(start * PATCH_VALUES, (start + p) * PATCH_VALUES), [p, PATCH_VALUES]);
      const features = stem(rt, w.stem, patches);
      patches.dispose();
      if (p === n) {
        matmul(rt, features, w.embedding, { bias: w.embeddingBias, out });
      } else {
        const part = matmul(rt, features, w.embedding, { bias: w.embeddingBias });
        rt.copy(part, out, p * dims.hidden, 0, start * dims.hidden);
        part.dispose();
      }
      features.dispose();
      // Each chunk's buffers are released; submitting lets the next chunk reuse them.
      rt.flush();
    }
    return out;
  }

  /** The first half of a pre-LN encoder block: qkv = LN(x)·W + b, copied to `keepQkv` if given. */
  #qkv(x: Tensor, l: Layer, keepQkv?: Tensor): Tensor {
    const y = layernorm(this.rt, x, l.ln0[0], l.ln0[1], LN_EPS);
    const qkv = matmul(this.rt, y, l.qkv, { bias: l.qkvBias });
    if (keepQkv) this.rt.copy(qkv, keepQkv);
    y.dispose();
    return qkv;
  }

  /**
   * The rest of the block: attention, output projection, MLP, both residuals. With `clsOnly` (the
   * last block) every token still provides keys and values, but only the CLS query is attended
   * and everything after attention runs for the CLS row alone: it is the only row read
   * afterwards, and all those ops are per token. Disposes x and qkv.
   */
  #attendAndMlp(x: Tensor, qkv: Tensor, l: Layer, clsOnly: boolean): Tensor {
    const { rt, dims } = this;
    const a = attention(rt, qkv, { heads: dims.heads, headDim: dims.headDim, queries: clsOnly ? 1 : undefined });
    qkv.dispose();
    if (clsOnly) {
      const xCls = firstRow(rt, x);
      x.dispose();
      x = xCls;
    }
    const x1 = matmul(rt, a, l.out, { bias: l.outBias, residual: x });
    a.dispose();
    x.dispose();
    const z = layernorm(rt, x1, l.ln2[0], l.ln2[1], LN_EPS);
    const h = matmul(rt, z, l.mlp0, { bias: l.mlp0Bias, gelu: true });
    z.dispose();
    const x2 = matmul(rt, h, l.mlp1, { bias: l.mlp1Bias, residual: x1 });
    h.dispose();
    x1.dispose();
    return x2;
  }

  /**
   * `beforeStem`: awaited before the stem is encoded (its kernels, compiled ahead, which a first
   * dispatch would compile again). `beforeAttention`: awaited before the first attention
   * dispatch (its kernel, compiled ahead: compile-ahead.ts); the stem, the token embedding and
   * the first block's projection are submitted first, so that they run, and lavapipe compiles
   * their kernels, meanwhile. `stemChunk`: the most patches per stem call (tests; default
   * stemChunkSize).
   */
  async forward(input: MusiqInput, options: { attention?: boolean; beforeStem?: Promise<void>; beforeAttention?: Promise<void>; stemChunk?: number } = {}): Promise<ForwardResult> {
    const { rt, dims } = this;
    const w = this.#w();
    if (input.tokens < 1) throw new MusiqError('musiq: an image gives at least one patch; got none');
    checkTokenIds(input.spatial, input.scaleIds, dims.posGrid * dims.posGrid, dims.numScales);
    const t0 = performance.now();
    await options.beforeStem;
    const spatial = rt.upload(input.spatial, [input.tokens], 'u32');
    const scaleIds = rt.upload(input.scaleIds, [input.tokens], 'u32');
    const emb = this.#embedPatches(input, options.stemChunk);
    // The stem's end is timed while the encoder is encoded: a sync here left the GPU idle for a
    // round trip (~2 ms through Dawn on an H200, whose model takes 25-34 ms).
    const stemDone = rt.done();
    stemDone.catch(() => undefined); // a lost device rejects it too; the readback below reports that
    let x = embedTokens(rt, emb, spatial, scaleIds, w.pos, w.scale, w.cls);
    emb.dispose();
    spatial.dispose();
    scaleIds.dispose();
    const lastQkv = options.attention ? rt.empty([input.tokens + 1, 3 * dims.hidden]) : undefined;
    let waited = false;
    for (const [i, layer] of w.layers.entries()) {
      const last = i === w.layers.length - 1;
      const qkv = this.#qkv(x, layer, last ? lastQkv : undefined);
      if (!waited) {
        rt.flush();
        await options.beforeAttention;
        waited = true;
      }
      x = this.#attendAndMlp(x, qkv, layer, last);
      rt.flush();
    }
    if (!waited) await options.beforeAttention;
    // Only the CLS token (row 0) is read out: normalise and classify that row alone.
    const normed = layernorm(rt, x, w.norm[0], w.norm[1], LN_EPS, undefined, 1);
    x.dispose();
    let embedding: Float32Array | undefined;
    let headIn = normed;
    if (w.preLogits) {
      // The pre-logits layer runs on the CPU (denseTanh), so the embedding is read first.
      embedding = (await rt.read(normed)) as Float32Array;
      headIn = rt.upload(denseTanh(embedding, w.preLogits.kernel, w.preLogits.bias), [1, dims.preLogits]);
    }
    const logits = matmul(rt, headIn, w.head, { bias: w.headBias });
    if (headIn !== normed) headIn.dispose();
    const probs = dims.numClasses > 1 ? softmaxRows(rt, logits) : undefined;
    // Embedding, logits and probabilities in one readback: one round trip instead of three.
    const read = (await rt.readAll([...(embedding ? [] : [normed]), logits, ...(probs ? [probs] : [])])) as Float32Array[];
    embedding ??= read.shift()!;
    const result: ForwardResult = { logits: read[0], embedding, ms: { stem: 0, encoder: 0 } };
    if (probs) {
      result.probabilities = read[1];
      probs.dispose();
    }
    const t1 = await stemDone;
    result.ms = { stem: t1 - t0, encoder: performance.now() - t1 };
    if (lastQkv) {
      result.clsAttention = clsAttention(await rt.read(lastQkv) as Float32Array, input.tokens + 1, dims);
      lastQkv.dispose();
    }
    normed.dispose();
    logits.dispose();
    return result;
  }

  dispose(): void {
    const w = this.weights;
    if (!w) return;
    this.weights = undefined;
    disposeModelWeights(w);
  }
}

/** softmax(q_cls·kᵀ/√Dh) per head, averaged over heads, from the packed [T, 3D] q|k|v rows. */
export function clsAttention(qkv: Float32Array, tokens: number, dims: MusiqDims): Float32Array {
  const { hidden: D, heads, headDim } = dims;
  const avg = new Float32Array(tokens);
  const logits = new Float64Array(tokens);
  for (let h = 0; h < heads; h++) {
    let max = -Infinity;
    for (let t = 0; t < tokens; t++) {
      let dot = 0;
      for (let d = 0; d < headDim; d++) dot += qkv[h * headDim + d] * qkv[t * 3 * D + D + h * headDim + d];
      logits[t] = dot / Math.sqrt(headDim);
      max = Math.max(max, logits[t]);
    }
    let sum = 0;
    for (let t = 0; t < tokens; t++) sum += logits[t] = Math.exp(logits[t] - max);
    for (let t = 0; t < tokens; t++) avg[t] += logits[t] / sum / heads;
  }
  return avg;
}

/** Row 0 of a [T, D] tensor as a new [1, D] tensor. */
function firstRow(rt: Runtime, t: Tensor): Tensor {
  const row = rt.empty([1, t.shape[1]]);
  rt.copy(t, row, t.shape[1]);
  return row;
}

/** tanh(x·W + b) for one row, in float64 (the optional imagenet pre_logits layer). */
export function denseTanh(x: Float32Array, w: Float32Array, b: Float32Array): Float32Array {
  const n = b.length;
  const y = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let s = b[j];
    for (let i = 0; i < x.length; i++) s += x[i] * w[i * n + j];
    y[j] = Math.tanh(s);
  }
  return y;
}
