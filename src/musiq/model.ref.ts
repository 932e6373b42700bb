// Float64 CPU reference of the whole MUSIQ model (spec §3), written to read like the spec rather than
// to be fast. Tests and tools check the GPU model against it; product code never imports it.
// Dimensions come from the parameter shapes, so the tiny fixture checkpoints and the full-size ones
// both work. Input rows are the VALID tokens only (spec §2.9: dropping padding rows is exact, so no
// attention mask is needed here).
import { MusiqError } from '../common/errors.ts';

/** Parameters by key relative to 'opt/target/', e.g. 'embedding/kernel'. `get` may throw or return undefined for a missing key. */
export interface RefParams { get(key: string): { shape: number[]; data: Float32Array } }

export interface RefInput {
  tokens: number;
  /** tokens × 3072, one 32×32×3 patch per row in (y, x, c) order, values in [-1, 1]. */
  patches: Float32Array;
  /** Hashed position per token, row of the position table (spec §2.6). */
  spatial: Uint32Array;
  /** Scale per token: 0 = 224, 1 = 384, 2 = native. */
  scaleIds: Uint32Array;
}

export interface RefOutput {
  logits: Float64Array;
  /** See scoreFromLogits. */
  score: number;
  /** encoder_norm output of the CLS token. */
  cls: Float64Array;
  /** Row-major per-token stages (only with keepStages). Token rows follow the input order; CLS is row 0 where present. */
  stages?: {
    patchEmbedding: Float64Array; // tokens × hidden (embedding output, before position/scale)
    encoderInput: Float64Array; // (1 + tokens) × hidden
    layers: Float64Array[]; // output of each encoder block, (1 + tokens) × hidden
    encoderNormOut: Float64Array; // (1 + tokens) × hidden
  };
}

const PATCH = 32; // pixels per patch side (spec §2.5)
const GN_GROUPS = 32; // flax.nn GroupNorm default, kept even when the stem is narrower (tiny fixtures)
const GN_EPS_ROOT = 1e-6;
const GN_EPS_UNIT = 1e-4;
const LN_EPS = 1e-6;
const STD_CONV_EPS = 1e-5; // added to the std, not the variance (GR-rn)

/**
 * Quality score from the head output (GR-run): one logit → the logit itself (KonIQ/SPAQ/PaQ2PiQ MOS);
 * ten logits → softmax then Σ p_i·i for i = 1..10 (AVA). Any other count (e.g. the 1000-class ImageNet
 * head) is not a quality score: NaN.
 */
export function scoreFromLogits(logits: ArrayLike<number>): number {
  if (logits.length === 1) return logits[0];
  if (logits.length !== 10) return NaN;
  let max = -Infinity;
  for (let i = 0; i < 10; i++) max = Math.max(max, logits[i]);
  let sum = 0, weighted = 0;
  for (let i = 0; i < 10; i++) {
    const e = Math.exp(logits[i] - max);
    sum += e;
    weighted += e * (i + 1);
  }
  return weighted / sum;
}

/**
 * The model on the valid tokens of one image, in float64. Throws MusiqError for a missing or
 * mis-shaped parameter or an inconsistent input. `pre_logits` (spec §3.7, ImageNet only, unverified)
 * is not applied: the IQA checkpoints have none.
 */
export function referenceForward(params: RefParams, input: RefInput, opts: { keepStages?: boolean } = {}): RefOutput {
  const m = loadModel(params);
  const { tokens } = input;
  checkInput(input, m);
  const D = m.hidden;

  // §3.2–3.3: the stem patch by patch, then the embedding of all patches at once.
  const F = m.embedding.din, P = PATCH * PATCH * 3;
  const features = new Float64Array(tokens * F);
  for (let t = 0; t < tokens; t++) features.set(stem(m, input.patches.subarray(t * P, (t + 1) * P)), t * F);
  const patchEmbedding = dense(features, tokens, m.embedding);

  // §3.4: + position and scale embeddings, then CLS prepended without either.
  let x: Float64Array = new Float64Array((tokens + 1) * D);
  x.set(m.cls, 0);
  for (let t = 0; t < tokens; t++) {
    const row = (t + 1) * D, pos = input.spatial[t] * D, scale = input.scaleIds[t] * D;
    for (let d = 0; d < D; d++) x[row + d] = patchEmbedding[t * D + d] + m.pos[pos + d] + m.scale[scale + d];
  }
  const encoderInput = x;

  // §3.5: pre-LN encoder blocks.
  const layers: Float64Array[] = [];
  const n = tokens + 1;
  for (const b of m.blocks) {
    const y = attention(layerNorm(x, n, b.ln0), n, b, m.heads, m.headDim);
    x = add(x, y);
    const z = dense(gelu(dense(layerNorm(x, n, b.ln2), n, b.mlp0)), n, b.mlp1);
    x = add(x, z);
    layers.push(x);
  }

  // §3.6: final LayerNorm, CLS, head, score.
  const encoderNormOut = layerNorm(x, n, m.encoderNorm);
  const cls = encoderNormOut.slice(0, D);
  const logits = dense(cls, 1, m.head);
  const out: RefOutput = { logits, score: scoreFromLogits(logits), cls };
  if (opts.keepStages) out.stages = { patchEmbedding, encoderInput, layers, encoderNormOut };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parameters

// Weights are kept transposed (output-major) so every output is one contiguous dot product (matmulT).
interface Dense { din: number; dout: number; wT: Float64Array /* dout × din */; b: Float64Array }
interface Conv { kh: number; kw: number; cin: number; cout: number; wT: Float64Array /* cout × (kh·kw·cin), standardised */ }
interface Norm { scale: Float64Array; bias: Float64Array }
interface Block { ln0: Norm; q: Dense; k: Dense; v: Dense; o: Dense; ln2: Norm; mlp0: Dense; mlp1: Dense }
interface Model {
  hidden: number; heads: number; headDim: number;
  convRoot: Conv; gnRoot: Norm;
  convProj: Conv; gnProj: Norm; conv1: Conv; gn1: Norm; conv2: Conv; gn2: Norm; conv3: Conv; gn3: Norm;
  embedding: Dense; pos: Float64Array; posRows: number; scale: Float64Array; scaleRows: number; cls: Float64Array;
  blocks: Block[]; encoderNorm: Norm; head: Dense;
}

function tryGet(params: RefParams, key: string): { shape: number[]; data: Float32Array } | undefined {
  try {
    return params.get(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The parameter as float64, checking its shape where `shape` entries are not -1. */
function param(params: RefParams, key: string, shape: number[]): { shape: number[]; data: Float64Array } {
  const t = tryGet(params, key);
  if (!t) throw new MusiqError(`model reference: missing parameter "${key}"`);
  const ok = t.shape.length === shape.length && shape.every((s, i) => s === -1 || s === t.shape[i]);
  const count = t.shape.reduce((a, s) => a * s, 1);
  if (!ok || t.data.length !== count) {
    throw new MusiqError(`model reference: parameter "${key}" has shape (${t.shape.join(', ')}) and ${t.data.length} values, expected (${shape.map((s) => (s === -1 ? '?' : s)).join(', ')})`);
  }
  return { shape: t.shape, data: Float64Array.from(t.data) };
}

function norm(params: RefParams, key: string, c: number, stored: 'flat' | 'groupnorm'): Norm {
  const shape = stored === 'flat' ? [c] : [1, 1, 1, c]; // flax.nn GroupNorm stores (1, 1, 1, C)
  return { scale: param(params, `${key}/scale`, shape).data, bias: param(params, `${key}/bias`, shape).data };
}

/** Dense layer; the kernel may be DenseGeneral-shaped (q/k/v: (D, H, Dh); out: (H, Dh, D)) and is viewed as 2-D (spec §4.3). */
function denseParam(params: RefParams, key: string, kernelShape: number[], biasShape: number[]): Dense {
  const w = param(params, `${key}/kernel`, kernelShape), b = param(params, `${key}/bias`, biasShape);
  const dout = b.data.length, din = w.data.length / dout;
  return { din, dout, wT: transpose(w.data, din, dout), b: b.data };
}

/** StdConv (GR-rn): per output channel, w' = (w − mean) / (population std + 1e-5) over (kh, kw, cin). */
function stdConv(params: RefParams, key: string, shape: number[]): Conv {
  const { shape: [kh, kw, cin, cout], data } = param(params, `${key}/kernel`, shape);
  const fan = kh * kw * cin;
  const wT = new Float64Array(data.length);
  for (let co = 0; co < cout; co++) {
    let mean = 0;
    for (let i = 0; i < fan; i++) mean += data[i * cout + co];
    mean /= fan;
    let variance = 0;
    for (let i = 0; i < fan; i++) variance += (data[i * cout + co] - mean) ** 2;
    const denom = Math.sqrt(variance / fan) + STD_CONV_EPS;
    for (let i = 0; i < fan; i++) wT[co * fan + i] = (data[i * cout + co] - mean) / denom;
  }
  return { kh, kw, cin, cout, wT };
}

function loadModel(params: RefParams): Model {
  const emb = param(params, 'embedding/kernel', [-1, -1]);
  const [features, D] = emb.shape;
  const W = param(params, 'conv_root/kernel', [7, 7, 3, -1]).shape[3]; // stem width
  if (W % GN_GROUPS !== 0) throw new MusiqError(`model reference: stem width ${W} is not a multiple of ${GN_GROUPS} GroupNorm groups`);
  const out = 4 * W; // bottleneck output channels
  const stemOut = (PATCH / 4) ** 2 * out;
  if (features !== stemOut) throw new MusiqError(`model reference: embedding/kernel has ${features} input rows, the stem gives ${stemOut}`);

  const attn0 = 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1';
  const [, H, Dh] = param(params, `${attn0}/query/kernel`, [D, -1, -1]).shape;
  const M = param(params, 'Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel', [D, -1]).shape[1];
  const C = param(params, 'head/kernel', [D, -1]).shape[1];
  const pos = param(params, 'Transformer/posembed_input/pos_embedding', [1, -1, D]);
  const scale = param(params, 'Transformer/scaleembed_input/scale_embedding', [1, -1, D]);

  const blocks: Block[] = [];
  for (let i = 0; tryGet(params, `Transformer/encoderblock_${i}/LayerNorm_0/scale`); i++) {
    const p = `Transformer/encoderblock_${i}`, a = `${p}/MultiHeadDotProductAttention_1`;
    blocks.push({
      ln0: norm(params, `${p}/LayerNorm_0`, D, 'flat'),
      q: denseParam(params, `${a}/query`, [D, H, Dh], [H, Dh]),
      k: denseParam(params, `${a}/key`, [D, H, Dh], [H, Dh]),
      v: denseParam(params, `${a}/value`, [D, H, Dh], [H, Dh]),
      o: denseParam(params, `${a}/out`, [H, Dh, D], [D]),
      ln2: norm(params, `${p}/LayerNorm_2`, D, 'flat'),
      mlp0: denseParam(params, `${p}/MlpBlock_3/Dense_0`, [D, M], [M]),
      mlp1: denseParam(params, `${p}/MlpBlock_3/Dense_1`, [M, D], [D]),
    });
  }
  if (blocks.length === 0) throw new MusiqError('model reference: no Transformer/encoderblock_0 parameters');

  const u = 'block1/unit1';
  return {
    hidden: D, heads: H, headDim: Dh,
    convRoot: stdConv(params, 'conv_root', [7, 7, 3, W]), gnRoot: norm(params, 'gn_root', W, 'groupnorm'),
    convProj: stdConv(params, `${u}/conv_proj`, [1, 1, W, out]), gnProj: norm(params, `${u}/gn_proj`, out, 'groupnorm'),
    conv1: stdConv(params, `${u}/conv1`, [1, 1, W, W]), gn1: norm(params, `${u}/gn1`, W, 'groupnorm'),
    conv2: stdConv(params, `${u}/conv2`, [3, 3, W, W]), gn2: norm(params, `${u}/gn2`, W, 'groupnorm'),
    conv3: stdConv(params, `${u}/conv3`, [1, 1, W, out]), gn3: norm(params, `${u}/gn3`, out, 'groupnorm'),
    embedding: { din: features, dout: D, wT: transpose(emb.data, features, D), b: param(params, 'embedding/bias', [D]).data },
    pos: pos.data, posRows: pos.shape[1], scale: scale.data, scaleRows: scale.shape[1],
    cls: param(params, 'Transformer/cls', [1, 1, D]).data,
    blocks,
    encoderNorm: norm(params, 'Transformer/encoder_norm', D, 'flat'),
    head: denseParam(params, 'head', [D, C], [C]),
  };
}

function checkInput(input: RefInput, m: Model): void {
  const { tokens } = input;
  const fail = (what: string) => { throw new MusiqError(`model reference: bad input: ${what}`); };
  if (!Number.isInteger(tokens) || tokens < 0) fail(`tokens = ${tokens}`);
  if (input.patches.length !== tokens * PATCH * PATCH * 3) fail(`${input.patches.length} patch values for ${tokens} tokens (need ${tokens} × 3072)`);
  if (input.spatial.length !== tokens || input.scaleIds.length !== tokens) fail(`${input.spatial.length} spatial and ${input.scaleIds.length} scale ids for ${tokens} tokens`);
  for (let t = 0; t < tokens; t++) {
    if (input.spatial[t] >= m.posRows) fail(`token ${t} has spatial index ${input.spatial[t]}, the position table has ${m.posRows} rows`);
    if (input.scaleIds[t] >= m.scaleRows) fail(`token ${t} has scale id ${input.scaleIds[t]}, the scale table has ${m.scaleRows} rows`);
  }
}

// ---------------------------------------------------------------------------------------------
// Stem (spec §3.2), one 32×32×3 patch in NHWC → 8×8×(4·width) flattened in (h, w, c) order.

function stem(m: Model, patch: Float32Array): Float64Array {
  let x: Float64Array = Float64Array.from(patch);
  let s = PATCH;
  x = conv2dSame(x, s, s, m.convRoot, 2); s /= 2;
  relu(groupNorm(x, s * s, m.gnRoot, GN_EPS_ROOT));
  x = maxPool3x3Stride2Same(x, s, s, m.convRoot.cout); s /= 2;

  // block1/unit1: bottleneck residual unit with projection (GR-rn ResidualUnit).
  const residual = groupNorm(conv2dSame(x, s, s, m.convProj, 1), s * s, m.gnProj, GN_EPS_UNIT);
  let y = relu(groupNorm(conv2dSame(x, s, s, m.conv1, 1), s * s, m.gn1, GN_EPS_UNIT));
  y = relu(groupNorm(conv2dSame(y, s, s, m.conv2, 1), s * s, m.gn2, GN_EPS_UNIT));
  y = groupNorm(conv2dSame(y, s, s, m.conv3, 1), s * s, m.gn3, GN_EPS_UNIT);
  return relu(add(residual, y)); // NHWC memory order is already the (h, w, c) flatten
}

/** TF/flax 'SAME' padding: output ceil(in/stride); the smaller half of the total pad goes before. */
function samePad(size: number, k: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/**
 * NHWC convolution, no bias, zero 'SAME' padding, as im2col + matmul: each output pixel gathers its
 * kh×kw×cin window (zeros outside the input) and takes one dot product per output channel.
 */
function conv2dSame(x: Float64Array, h: number, w: number, c: Conv, stride: number): Float64Array {
  const { kh, kw, cin, cout } = c;
  const py = samePad(h, kh, stride), px = samePad(w, kw, stride);
  const pixels = py.out * px.out, window = kh * kw * cin;
  let cols = x; // a 1×1 stride-1 convolution needs no gathering
  if (kh !== 1 || kw !== 1 || stride !== 1) {
    cols = new Float64Array(pixels * window);
    for (let oy = 0; oy < py.out; oy++) {
      for (let ox = 0; ox < px.out; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride + ky - py.before;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * stride + kx - px.before;
            if (ix < 0 || ix >= w) continue;
            const from = (iy * w + ix) * cin, to = (oy * px.out + ox) * window + (ky * kw + kx) * cin;
            for (let ci = 0; ci < cin; ci++) cols[to + ci] = x[from + ci];
          }
        }
      }
    }
  }
  return matmulT(cols, pixels, window, c.wT, cout);
}

/** GroupNorm over (pixels, channels of the group), 32 groups, in place (FLAX-norm). */
function groupNorm(x: Float64Array, pixels: number, n: Norm, eps: number): Float64Array {
  const C = n.scale.length, per = C / GN_GROUPS, count = pixels * per;
  for (let g = 0; g < GN_GROUPS; g++) {
    const c0 = g * per;
    let mean = 0;
    for (let p = 0; p < pixels; p++) for (let c = c0; c < c0 + per; c++) mean += x[p * C + c];
    mean /= count;
    let variance = 0;
    for (let p = 0; p < pixels; p++) for (let c = c0; c < c0 + per; c++) variance += (x[p * C + c] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / count + eps);
    for (let p = 0; p < pixels; p++) {
      for (let c = c0; c < c0 + per; c++) x[p * C + c] = (x[p * C + c] - mean) * inv * n.scale[c] + n.bias[c];
    }
  }
  return x;
}

/** 3×3 window, stride 2, 'SAME' with −∞ padding (lax.reduce_window init −inf). */
function maxPool3x3Stride2Same(x: Float64Array, h: number, w: number, C: number): Float64Array {
  const py = samePad(h, 3, 2), px = samePad(w, 3, 2);
  const out = new Float64Array(py.out * px.out * C).fill(-Infinity);
  for (let oy = 0; oy < py.out; oy++) {
    for (let ox = 0; ox < px.out; ox++) {
      const o = (oy * px.out + ox) * C;
      for (let ky = 0; ky < 3; ky++) {
        const iy = oy * 2 + ky - py.before;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < 3; kx++) {
          const ix = ox * 2 + kx - px.before;
          if (ix < 0 || ix >= w) continue;
          const xi = (iy * w + ix) * C;
          for (let c = 0; c < C; c++) out[o + c] = Math.max(out[o + c], x[xi + c]);
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encoder pieces (spec §3.5), on row-major n × features matrices.

/** y = x·W + b for n rows (W in flax's din × dout layout, stored transposed). */
function dense(x: Float64Array, n: number, l: Dense): Float64Array {
  return matmulT(x, n, l.din, l.wT, l.dout, l.b);
}

/**
 * y (n × dout) = a (n × din) · wTᵀ (+ bias). The stem and the embedding spend almost all the time
 * here, so it works on 2 rows × 2 outputs at a time (each loaded value used twice; about 2.5× faster
 * in V8 than one dot product at a time). An odd last row or output is clamped and simply computed twice.
 */
function matmulT(a: Float64Array, n: number, din: number, wT: Float64Array, dout: number, bias?: Float64Array): Float64Array {
  const y = new Float64Array(n * dout);
  for (let r = 0; r < n; r += 2) {
    const r1 = Math.min(r + 1, n - 1), a0 = r * din, a1 = r1 * din;
    for (let j = 0; j < dout; j += 2) {
      const j1 = Math.min(j + 1, dout - 1), w0 = j * din, w1 = j1 * din;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let i = 0; i < din; i++) {
        const x0 = a[a0 + i], x1 = a[a1 + i], v0 = wT[w0 + i], v1 = wT[w1 + i];
        s00 += x0 * v0;
        s01 += x0 * v1;
        s10 += x1 * v0;
        s11 += x1 * v1;
      }
      const b0 = bias ? bias[j] : 0, b1 = bias ? bias[j1] : 0;
      y[r * dout + j] = b0 + s00;
      y[r * dout + j1] = b1 + s01;
      y[r1 * dout + j] = b0 + s10;
      y[r1 * dout + j1] = b1 + s11;
    }
  }
  return y;
}

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

function layerNorm(x: Float64Array, n: number, l: Norm): Float64Array {
  const D = l.scale.length;
  const y = new Float64Array(n * D);
  for (let r = 0; r < n; r++) {
    const o = r * D;
    let mean = 0;
    for (let d = 0; d < D; d++) mean += x[o + d];
    mean /= D;
    let variance = 0;
    for (let d = 0; d < D; d++) variance += (x[o + d] - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / D + LN_EPS);
    for (let d = 0; d < D; d++) y[o + d] = (x[o + d] - mean) * inv * l.scale[d] + l.bias[d];
  }
  return y;
}

/** Multi-head self-attention over all n tokens (no mask: only valid tokens are present). */
function attention(y: Float64Array, n: number, b: Block, H: number, Dh: number): Float64Array {
  const q = dense(y, n, b.q), k = dense(y, n, b.k), v = dense(y, n, b.v); // n × (H·Dh), column h·Dh + d
  const HD = H * Dh, inv = 1 / Math.sqrt(Dh); // the query is scaled before QKᵀ
  const o = new Float64Array(n * HD);
  const p = new Float64Array(n);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < n; i++) {
      const qi = i * HD + h * Dh;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        const kj = j * HD + h * Dh;
        let s = 0;
        for (let d = 0; d < Dh; d++) s += q[qi + d] * inv * k[kj + d];
        p[j] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (p[j] = Math.exp(p[j] - max));
      for (let j = 0; j < n; j++) {
        const pj = p[j] / sum, vj = j * HD + h * Dh;
        for (let d = 0; d < Dh; d++) o[qi + d] += pj * v[vj + d];
      }
    }
  }
  return dense(o, n, b.o); // out kernel (H, Dh, D) viewed as (H·Dh) × D
}

/** tanh-approximated GELU (jax.nn.gelu default, spec §3.5), in place. */
function gelu(x: Float64Array): Float64Array {
  const c = Math.sqrt(2 / Math.PI);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
  }
  return x;
}

function relu(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;
  return x;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}
