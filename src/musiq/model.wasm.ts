// MUSIQ on the CPU (spec §3): the same model as model.ts, its products in WebAssembly SIMD
// (kernels/matmul.wasm.ts) and the rest in float32 JavaScript. For adapters that are a slow CPU
// themselves (scorer.ts's chooseEngine: SwiftShader, where the WGSL kernels took 3-4× this
// model's time, and CPU adapters without subgroups). It follows
// model.ref.ts step by step; where the two differ it is in float32 storage, fused products
// (q|k|v; conv_proj|conv1) and the last block computed for the CLS row only, as model.ts does.
import { MusiqError } from '../common/errors.ts';
import { WasmMatmul, type PackedMatrix } from '../kernels/matmul.wasm.ts';
import type { Checkpoint, MusiqDims, Variant } from './checkpoint.ts';
import { PATCH, PATCH_VALUES, type MusiqInput } from './preprocess.ts';
import { clsAttention, denseTanh, type ForwardResult } from './model.ts';
import { standardizeConv } from './stem-weights.ts';
import { checkTokenIds } from '../kernels/embed.ts';

const GN_GROUPS = 32;
const GN_EPS_ROOT = 1e-6;
const GN_EPS_UNIT = 1e-4;
const LN_EPS = 1e-6;
/** Patches per stem pass: the root convolution's gathered windows are then 16·256·147 floats (2.4 MB). */
const STEM_CHUNK = 16;
/** Milliseconds of work between two returns to the event loop, so a page stays responsive. */
const SLICE_MS = 50;
/** Queries per attention pass: probabilities of QUERY_BLOCK × tokens floats (0.5 MB at 1024×768). */
const QUERY_BLOCK = 128;

interface Dense { w: PackedMatrix; b: Float32Array }
interface Norm { scale: Float32Array; bias: Float32Array }
interface Block { ln0: Norm; qkv: Dense; out: Dense; ln2: Norm; mlp0: Dense; mlp1: Dense }
interface Weights {
  convRoot: PackedMatrix; gnRoot: Norm;
  /** conv_proj then conv1, both 1×1 on the pooled map: one product with 4W + W columns. */
  convProj1: PackedMatrix; gnProj: Norm; gn1: Norm;
  conv2: PackedMatrix; gn2: Norm; conv3: PackedMatrix; gn3: Norm;
  embedding: Dense; pos: Float32Array; scale: Float32Array; cls: Float32Array;
  blocks: Block[]; encoderNorm: Norm; preLogits?: { kernel: Float32Array; bias: Float32Array }; head: Dense;
}

export class WasmModel {
  /** Activations, kept between products and images: a fresh 4 MB Float32Array cost Chromium ~10 ns a value to fill (page faults), 1.2 s of an image. */
  readonly #scratch = new Scratch();

  private constructor(
    readonly dims: MusiqDims,
    readonly variant: Variant,
    private mm: WasmMatmul | undefined,
    private readonly w: Weights,
  ) {}

  /** Reads every tensor of the checkpoint once and packs it; `onProgress(done, total)` per tensor. */
  static async load(ckpt: Checkpoint, onProgress?: (done: number, total: number) => void): Promise<WasmModel> {
    const d = ckpt.dims, W = d.stemWidth, D = d.hidden, HD = d.heads * d.headDim;
    const mm = new WasmMatmul();
    const total = ckpt.tensors.length;
    let done = 0;
    const read = async (key: string): Promise<Float32Array> => {
      const t = await ckpt.read(key);
      onProgress?.(++done, total);
      return t;
    };
    const norm = async (key: string): Promise<Norm> => ({ scale: await read(`${key}/scale`), bias: await read(`${key}/bias`) });
    const dense = async (key: string, K: number, N: number): Promise<Dense> => ({ w: mm.pack(await read(`${key}/kernel`), K, N), b: await read(`${key}/bias`) });
    // The bias packed beside the kernel: the product adds it and applies GELU in WebAssembly.
    const denseWithBias = async (key: string, K: number, N: number): Promise<Dense> => {
      const kernel = await read(`${key}/kernel`), b = await read(`${key}/bias`);
      return { w: mm.pack(kernel, K, N, N, 0, b), b };
    };
    const conv = async (key: string, shape: [number, number, number, number]): Promise<Float32Array> => standardizeConv(await read(`${key}/kernel`), shape);
    const u = 'block1/unit1';
    const proj = await conv(`${u}/conv_proj`, [1, 1, W, 4 * W]);
    const conv1 = await conv(`${u}/conv1`, [1, 1, W, W]);
    const proj1 = new Float32Array(W * 5 * W);
    for (let c = 0; c < W; c++) {
      proj1.set(proj.subarray(c * 4 * W, (c + 1) * 4 * W), c * 5 * W);
      proj1.set(conv1.subarray(c * W, (c + 1) * W), c * 5 * W + 4 * W);
    }
    const blocks: Block[] = [];
    for (let i = 0; i < d.layers; i++) {
      const p = `Transformer/encoderblock_${i}`, a = `${p}/MultiHeadDotProductAttention_1`;
      const ln0 = await norm(`${p}/LayerNorm_0`);
      // q | k | v side by side: one product of 3·H·Dh columns.
      const qkvW = new Float32Array(D * 3 * HD), qkvB = new Float32Array(3 * HD);
      for (const [j, name] of ['query', 'key', 'value'].entries()) {
        const k = await read(`${a}/${name}/kernel`);
        for (let r = 0; r < D; r++) qkvW.set(k.subarray(r * HD, (r + 1) * HD), r * 3 * HD + j * HD);
        qkvB.set(await read(`${a}/${name}/bias`), j * HD);
      }
      blocks.push({
        ln0,
        qkv: { w: mm.pack(qkvW, D, 3 * HD), b: qkvB },
        out: await dense(`${a}/out`, HD, D),
        ln2: await norm(`${p}/LayerNorm_2`),
        mlp0: await denseWithBias(`${p}/MlpBlock_3/Dense_0`, D, d.mlp),
        mlp1: await dense(`${p}/MlpBlock_3/Dense_1`, d.mlp, D),
      });
    }
    const w: Weights = {
      convRoot: mm.pack(await conv('conv_root', [7, 7, 3, W]), 7 * 7 * 3, W),
      gnRoot: await norm('gn_root'),
      convProj1: mm.pack(proj1, W, 5 * W),
      gnProj: await norm(`${u}/gn_proj`),
      gn1: await norm(`${u}/gn1`),
      conv2: mm.pack(await conv(`${u}/conv2`, [3, 3, W, W]), 9 * W, W),
      gn2: await norm(`${u}/gn2`),
      conv3: mm.pack(await conv(`${u}/conv3`, [1, 1, W, 4 * W]), W, 4 * W),
      gn3: await norm(`${u}/gn3`),
      embedding: await dense('embedding', 64 * 4 * W, D),
      pos: await read('Transformer/posembed_input/pos_embedding'),
      scale: await read('Transformer/scaleembed_input/scale_embedding'),
      cls: await read('Transformer/cls'),
      blocks,
      encoderNorm: await norm('Transformer/encoder_norm'),
      preLogits: d.preLogits ? { kernel: await read('pre_logits/kernel'), bias: await read('pre_logits/bias') } : undefined,
      head: await dense('head', d.preLogits || D, d.numClasses),
    };
    return new WasmModel(d, ckpt.variant, mm, w);
  }

  get disposed(): boolean {
    return this.mm === undefined;
  }

  #mm(): WasmMatmul {
    if (!this.mm) throw new MusiqError('musiq: model used after dispose()');
    return this.mm;
  }

  /**
   * One image at a time: concurrent calls wait their turn (they would share the scratch buffers).
   * `sliceMs`: work between returns to the event loop (default SLICE_MS; tests use 0).
   */
  forward(input: MusiqInput, options: { attention?: boolean; sliceMs?: number } = {}): Promise<ForwardResult> {
    const run = this.#queue.then(() => this.#forward(input, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #queue: Promise<unknown> = Promise.resolve();

  async #forward(input: MusiqInput, options: { attention?: boolean; sliceMs?: number }): Promise<ForwardResult> {
    const mm = this.#mm();
    const { dims, w } = this;
    const D = dims.hidden, HD = dims.heads * dims.headDim;
    if (input.tokens < 1) throw new MusiqError('musiq: an image gives at least one patch; got none');
    checkTokenIds(input.spatial, input.scaleIds, dims.posGrid * dims.posGrid, dims.numScales);
    const pause = pacer(options.sliceMs ?? SLICE_MS);
    const t0 = performance.now();

    // §3.2-3.4: stem and embedding a chunk of patches at a time, then positions, scales and CLS.
    const n = input.tokens + 1;
    const buf = this.#scratch;
    let x = buf.get('x', n * D);
    x.set(w.cls);
    for (let p0 = 0; p0 < input.tokens; p0 += STEM_CHUNK) {
      const count = Math.min(STEM_CHUNK, input.tokens - p0);
      const features = this.#stem(mm, input.patches.subarray(p0 * PATCH_VALUES, (p0 + count) * PATCH_VALUES), count);
      mm.matmul(features, count, w.embedding.w, { y: x, yOffset: (p0 + 1) * D });
      await pause();
    }
    for (let t = 0; t < input.tokens; t++) {
      const row = (t + 1) * D, pos = input.spatial[t] * D, scale = input.scaleIds[t] * D;
      for (let c = 0; c < D; c++) x[row + c] += w.embedding.b[c] + w.pos[pos + c] + w.scale[scale + c];
    }
    const t1 = performance.now();

    // §3.5: pre-LN blocks; the last one for the CLS row alone (the only row read afterwards).
    let clsAttentionMap: Float32Array | undefined;
    for (const [i, b] of w.blocks.entries()) {
      const last = i === w.blocks.length - 1, rows = last ? 1 : n;
      const qkv = dense(mm, layerNorm(x, n, b.ln0, buf.get('ln', n * D)), n, b.qkv, buf.get('qkv', n * 3 * HD));
      if (last && options.attention) clsAttentionMap = clsAttention(qkv, n, dims);
      const x1 = dense(mm, this.#attention(mm, qkv, n, rows), rows, b.out, buf.get('x1', rows * D), x);
      const h = mm.matmul(layerNorm(x1, rows, b.ln2, buf.get('ln', rows * D)), rows, b.mlp0.w, { y: buf.get('h', rows * dims.mlp), gelu: true });
      x = dense(mm, h, rows, b.mlp1, buf.get('x', rows * D), x1);
      await pause();
    }

    // §3.6-3.7: final LayerNorm of CLS, head, probabilities (new arrays: the caller keeps them).
    const embedding = layerNorm(x, 1, w.encoderNorm, new Float32Array(D));
    let headIn = embedding;
    if (w.preLogits) headIn = denseTanh(embedding, w.preLogits.kernel, w.preLogits.bias);
    const logits = dense(mm, headIn, 1, w.head, new Float32Array(dims.numClasses));
    const result: ForwardResult = { logits, embedding, ms: { stem: t1 - t0, encoder: performance.now() - t1 } };
    if (dims.numClasses > 1) result.probabilities = softmax(logits);
    if (clsAttentionMap) result.clsAttention = clsAttentionMap;
    return result;
  }

  /**
   * Multi-head attention of the first `rows` queries over all n tokens; q|k|v rows of 3·H·Dh.
   * Queries go QUERY_BLOCK at a time, so the probabilities take QUERY_BLOCK·n floats, not n².
   */
  #attention(mm: WasmMatmul, qkv: Float32Array, n: number, rows: number): Float32Array {
    const { heads: H, headDim: Dh } = this.dims;
    const HD = H * Dh, stride = 3 * HD, inv = 1 / Math.sqrt(Dh);
    const buf = this.#scratch;
    const out = buf.get('attention', rows * HD);
    const q = buf.get('q', Math.min(rows, QUERY_BLOCK) * Dh);
    const p = buf.get('p', Math.min(rows, QUERY_BLOCK) * n);
    const mark = mm.mark();
    for (let h = 0; h < H; h++) {
      const kT = mm.packTransposed(qkv, Dh, n, stride, HD + h * Dh);
      const v = mm.pack(qkv, n, Dh, stride, 2 * HD + h * Dh);
      for (let r0 = 0; r0 < rows; r0 += QUERY_BLOCK) {
        const m = Math.min(QUERY_BLOCK, rows - r0);
        for (let r = 0; r < m; r++) for (let d = 0; d < Dh; d++) q[r * Dh + d] = qkv[(r0 + r) * stride + h * Dh + d] * inv; // the query is scaled first (spec §3.5)
        mm.matmul(q, m, kT, { y: p, softmax: true });
        mm.matmul(p, m, v, { y: out, yStride: HD, yOffset: r0 * HD + h * Dh });
      }
      mm.release(mark);
    }
    return out;
  }

  /** The ResNet stem (spec §3.2) of `count` patches → count × (8·8·4W) features in (h, w, c) order. */
  #stem(mm: WasmMatmul, patches: Float32Array, count: number): Float32Array {
    const { w } = this;
    const W = this.dims.stemWidth;
    const buf = this.#scratch;
    // conv_root 7×7 stride 2 'SAME' (2 before, 3 after): 32×32 → 16×16.
    const root = mm.matmul(gather(patches, count, PATCH, 3, 7, 2, 2, buf.get('cols', count * 256 * 147)), count * 256, w.convRoot, { y: buf.get('root', count * 256 * W) });
    groupNorm(root, count, 256, W, 0, W, w.gnRoot, GN_EPS_ROOT, true);
    const x = maxPool(root, count, 16, W, buf.get('pool', count * 64 * W)); // 8×8
    // block1/unit1: projection and conv1 in one product, then conv2 3×3, conv3, the residual.
    const pc = mm.matmul(x, count * 64, w.convProj1, { y: buf.get('pc', count * 64 * 5 * W) }); // rows of [proj (4W) | conv1 (W)]
    groupNorm(pc, count, 64, 5 * W, 0, 4 * W, w.gnProj, GN_EPS_UNIT, false);
    groupNorm(pc, count, 64, 5 * W, 4 * W, W, w.gn1, GN_EPS_UNIT, true);
    const cols = gather(pc, count, 8, W, 3, 1, 1, buf.get('cols', count * 64 * 9 * W), 5 * W, 4 * W);
    const y2 = mm.matmul(cols, count * 64, w.conv2, { y: buf.get('y2', count * 64 * W) });
    groupNorm(y2, count, 64, W, 0, W, w.gn2, GN_EPS_UNIT, true);
    const y3 = mm.matmul(y2, count * 64, w.conv3, { y: buf.get('y3', count * 64 * 4 * W) });
    groupNorm(y3, count, 64, 4 * W, 0, 4 * W, w.gn3, GN_EPS_UNIT, false);
    for (let r = 0; r < count * 64; r++) {
      for (let c = 0; c < 4 * W; c++) {
        const v = y3[r * 4 * W + c] + pc[r * 5 * W + c];
        y3[r * 4 * W + c] = v > 0 ? v : 0;
      }
    }
    return y3; // each patch's 64 pixels × 4W channels are its feature row
  }

  dispose(): void {
    this.mm = undefined; // the module's memory goes with it
    this.#scratch.clear();
  }
}

/** Float32Arrays by name, each grown to the largest length asked for and reused; contents are not cleared. */
class Scratch {
  #arrays = new Map<string, Float32Array>();

  get(name: string, length: number): Float32Array {
    let a = this.#arrays.get(name);
    if (!a || a.length < length) {
      a = new Float32Array(length);
      this.#arrays.set(name, a);
    }
    return a.length === length ? a : a.subarray(0, length);
  }

  clear(): void {
    this.#arrays.clear();
  }
}

/** Returns to the event loop when `slice` ms have passed since the last return. */
function pacer(slice: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < slice) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    since = performance.now();
  };
}

/**
 * im2col of `count` square size×size×C NHWC images (pixels `stride` floats apart from `offset`)
 * for a k×k window, given the stride and the 'SAME' padding before (zeros outside): rows
 * (image, oy, ox), columns (ky, kx, c), into `cols`.
 */
function gather(x: Float32Array, count: number, size: number, C: number, k: number, step: number, before: number, cols: Float32Array, stride = C, offset = 0): Float32Array {
  const out = Math.ceil(size / step), window = k * k * C;
  cols.fill(0);
  for (let i = 0; i < count; i++) {
    const img = i * size * size;
    for (let oy = 0; oy < out; oy++) {
      for (let ox = 0; ox < out; ox++) {
        const row = ((i * out + oy) * out + ox) * window;
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * step + ky - before;
          if (iy < 0 || iy >= size) continue;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * step + kx - before;
            if (ix < 0 || ix >= size) continue;
            const from = (img + iy * size + ix) * stride + offset, to = row + (ky * k + kx) * C;
            for (let c = 0; c < C; c++) cols[to + c] = x[from + c]; // a loop: subarray() costs in Chromium (V8's sandbox)
          }
        }
      }
    }
  }
  return cols;
}

/**
 * GroupNorm (32 groups) of channels [c0, c0 + C) in rows `stride` floats wide, over each image's
 * `pixels` rows separately, in place; statistics in float64. `relu` clamps afterwards.
 */
function groupNorm(x: Float32Array, count: number, pixels: number, stride: number, c0: number, C: number, n: Norm, eps: number, relu: boolean): void {
  const per = C / GN_GROUPS, size = pixels * per;
  for (let i = 0; i < count; i++) {
    const base = i * pixels * stride + c0;
    for (let g = 0; g < GN_GROUPS; g++) {
      const g0 = base + g * per;
      let sum = 0;
      for (let p = 0; p < pixels; p++) for (let c = 0; c < per; c++) sum += x[g0 + p * stride + c];
      const mean = sum / size;
      let sq = 0;
      for (let p = 0; p < pixels; p++) for (let c = 0; c < per; c++) sq += (x[g0 + p * stride + c] - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / size + eps);
      for (let c = 0; c < per; c++) {
        const s = inv * n.scale[g * per + c], b = n.bias[g * per + c] - mean * s;
        for (let p = 0; p < pixels; p++) {
          const v = x[g0 + p * stride + c] * s + b;
          x[g0 + p * stride + c] = relu && v < 0 ? 0 : v;
        }
      }
    }
  }
}

/** 3×3 max-pool, stride 2, 'SAME' (0 before, 1 after, −∞ outside) of square size×size×C images, into y. */
function maxPool(x: Float32Array, count: number, size: number, C: number, y: Float32Array): Float32Array {
  const out = size / 2;
  y.fill(-Infinity);
  for (let i = 0; i < count; i++) {
    for (let oy = 0; oy < out; oy++) {
      for (let ox = 0; ox < out; ox++) {
        const o = ((i * out + oy) * out + ox) * C;
        for (let iy = 2 * oy; iy < Math.min(2 * oy + 3, size); iy++) {
          for (let ix = 2 * ox; ix < Math.min(2 * ox + 3, size); ix++) {
            const from = ((i * size + iy) * size + ix) * C;
            for (let c = 0; c < C; c++) if (x[from + c] > y[o + c]) y[o + c] = x[from + c];
          }
        }
      }
    }
  }
  return y;
}

/** y = x·W + b (+ residual) for `rows` rows. */
function dense(mm: WasmMatmul, x: Float32Array, rows: number, l: Dense, y: Float32Array, residual?: Float32Array): Float32Array {
  mm.matmul(x, rows, l.w, { y });
  const N = l.w.N;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < N; c++) y[r * N + c] += l.b[c] + (residual ? residual[r * N + c] : 0);
  }
  return y;
}

function layerNorm(x: Float32Array, rows: number, l: Norm, y: Float32Array): Float32Array {
  const D = l.scale.length;
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let sum = 0;
    for (let d = 0; d < D; d++) sum += x[o + d];
    const mean = sum / D;
    let sq = 0;
    for (let d = 0; d < D; d++) sq += (x[o + d] - mean) ** 2;
    const inv = 1 / Math.sqrt(sq / D + LN_EPS);
    for (let d = 0; d < D; d++) y[o + d] = (x[o + d] - mean) * inv * l.scale[d] + l.bias[d];
  }
  return y;
}

/** softmax of the head's logits, as a new array (attention's runs in WebAssembly). */
function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
