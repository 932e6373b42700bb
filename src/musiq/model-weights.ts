// The encoder's weights on the GPU, uploaded once per checkpoint (spec §4): per layer the
// LayerNorms, [Wq|Wk|Wv] as one matrix, the output and MLP projections; then the embedding,
// position/scale embeddings, CLS, final norm and head. The stem's are in stem-weights.ts.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';
import { toF16 } from '../runtime/f16.ts';
import { MusiqError } from '../common/errors.ts';
import type { StemWeights } from '../kernels/stem.ts';
import type { Checkpoint } from './checkpoint.ts';
import { uploadStemWeights, disposeStemWeights } from './stem-weights.ts';

/** How the big matmul weights are kept on the GPU: 'f32' exact, 'f16' half the memory. */
export type WeightPrecision = 'f32' | 'f16';

export interface Layer {
  ln0: [Tensor, Tensor];
  /** [Wq|Wk|Wv] as one D×3D matrix, so q, k and v come from one matmul. */
  qkv: Tensor;
  qkvBias: Tensor;
  out: Tensor;
  outBias: Tensor;
  ln2: [Tensor, Tensor];
  mlp0: Tensor;
  mlp0Bias: Tensor;
  mlp1: Tensor;
  mlp1Bias: Tensor;
}

export interface MusiqWeights {
  stem: StemWeights;
  embedding: Tensor;
  embeddingBias: Tensor;
  pos: Tensor;
  scale: Tensor;
  cls: Tensor;
  layers: Layer[];
  norm: [Tensor, Tensor];
  head: Tensor;
  headBias: Tensor;
  /** ImageNet checkpoints may carry Dense+tanh before the head (spec §3.7); one row, so it runs on the CPU. */
  preLogits?: { kernel: Float32Array; bias: Float32Array };
}

/** Column-concatenates k matrices of shape [rows, cols] into [rows, k·cols]. */
function concatColumns<T extends Float32Array | Uint16Array>(parts: T[], rows: number, cols: number): T {
  const out = new (parts[0].constructor as new (n: number) => T)(rows * cols * parts.length);
  for (let r = 0; r < rows; r++) {
    parts.forEach((p, k) => out.set(p.subarray(r * cols, (r + 1) * cols), (r * parts.length + k) * cols));
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Reads every tensor of the checkpoint once and uploads it; `onProgress(done, total)` per tensor.
 * Without `weights`, the kernels of a converted file (f16 or int8) go up as f16 where the
 * adapter has shader-f16 (int8 dequantized on the CPU, then rounded to f16: ≤ 2^-11 of a value,
 * far below int8's own step), and as f32 where it has not; an original f32 file goes up as f32.
 */
export async function uploadModelWeights(
  rt: Runtime,
  ckpt: Checkpoint,
  onProgress?: (done: number, total: number) => void,
  weights?: WeightPrecision,
): Promise<{ weights: MusiqWeights; precision: WeightPrecision }> {
  const d = ckpt.dims;
  weights ??= ckpt.precision !== 'f32' && rt.features.has('shader-f16') ? 'f16' : 'f32';
  if (weights !== 'f32' && weights !== 'f16') throw new MusiqError(`musiq: weights must be 'f32' or 'f16', got ${JSON.stringify(weights)}`);
  if (weights === 'f16' && !rt.features.has('shader-f16')) {
    throw new MusiqError(`musiq: weights 'f16' needs the WebGPU feature shader-f16, which ${rt.adapterName} does not offer; use 'f32'`);
  }
  const total = ckpt.tensors.length;
  let done = 0;
  const read = async (key: string): Promise<Float32Array> => {
    const data = await ckpt.read(key);
    onProgress?.(++done, total);
    return data;
  };
  const up = async (key: string, shape: number[]): Promise<Tensor> => rt.upload(await read(key), shape);
  // The big matmul weights (97% of the parameters), in the precision asked for: the
  // column-concatenation of `keys` as [rows, cols]. A converted file's kernels go up as f16
  // without a round trip through f32 (on the full-size checkpoint that took ~10 s).
  const matW = async (keys: string[], rows: number, cols: number): Promise<Tensor> => {
    const shape = [rows, cols];
    const each = cols / keys.length;
    if (weights === 'f16') {
      const halves = await Promise.all(keys.map((k) => ckpt.readF16Bits(k)));
      if (halves.every((h) => h !== undefined)) {
        for (const _ of keys) onProgress?.(++done, total);
        return rt.upload(keys.length === 1 ? halves[0]! : concatColumns(halves as Uint16Array[], rows, each), shape, 'f16');
      }
    }
    const parts = await Promise.all(keys.map(read));
    const data = parts.length === 1 ? parts[0] : concatColumns(parts, rows, each);
    return weights === 'f16' ? rt.upload(toF16(data), shape, 'f16') : rt.upload(data, shape);
  };
  const gpuWeights = weights;
  const uploaded: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (uploaded.push(t), t);
  try {
    const stemW = await uploadStemWeights(rt, read, d.stemWidth);
    const layers: Layer[] = [];
    for (let i = 0; i < d.layers; i++) {
      const p = `Transformer/encoderblock_${i}/`;
      const a = `${p}MultiHeadDotProductAttention_1/`;
      const qkvBias = await Promise.all(['query', 'key', 'value'].map((n) => read(`${a}${n}/bias`)));
      layers.push({
        ln0: [keep(await up(`${p}LayerNorm_0/scale`, [d.hidden])), keep(await up(`${p}LayerNorm_0/bias`, [d.hidden]))],
        qkv: keep(await matW(['query', 'key', 'value'].map((n) => `${a}${n}/kernel`), d.hidden, 3 * d.hidden)),
        qkvBias: keep(rt.upload(concat(qkvBias), [3 * d.hidden])),
        out: keep(await matW([`${a}out/kernel`], d.hidden, d.hidden)),
        outBias: keep(await up(`${a}out/bias`, [d.hidden])),
        ln2: [keep(await up(`${p}LayerNorm_2/scale`, [d.hidden])), keep(await up(`${p}LayerNorm_2/bias`, [d.hidden]))],
        mlp0: keep(await matW([`${p}MlpBlock_3/Dense_0/kernel`], d.hidden, d.mlp)),
        mlp0Bias: keep(await up(`${p}MlpBlock_3/Dense_0/bias`, [d.mlp])),
        mlp1: keep(await matW([`${p}MlpBlock_3/Dense_1/kernel`], d.mlp, d.hidden)),
        mlp1Bias: keep(await up(`${p}MlpBlock_3/Dense_1/bias`, [d.hidden])),
      });
    }
    const embIn = 64 * 4 * d.stemWidth;
    const weights: MusiqWeights = {
      stem: stemW,
      embedding: keep(await matW(['embedding/kernel'], embIn, d.hidden)),
      embeddingBias: keep(await up('embedding/bias', [d.hidden])),
      pos: keep(await up('Transformer/posembed_input/pos_embedding', [d.posGrid * d.posGrid, d.hidden])),
      scale: keep(await up('Transformer/scaleembed_input/scale_embedding', [d.numScales, d.hidden])),
      cls: keep(await up('Transformer/cls', [d.hidden])),
      layers,
      norm: [keep(await up('Transformer/encoder_norm/scale', [d.hidden])), keep(await up('Transformer/encoder_norm/bias', [d.hidden]))],
      head: keep(await up('head/kernel', [d.preLogits || d.hidden, d.numClasses])),
      headBias: keep(await up('head/bias', [d.numClasses])),
    };
    if (d.preLogits) weights.preLogits = { kernel: await read('pre_logits/kernel'), bias: await read('pre_logits/bias') };
    await rt.sync();
    return { weights, precision: gpuWeights };
  } catch (e) {
    for (const t of uploaded) t.dispose();
    throw e;
  }
}

export function disposeModelWeights(w: MusiqWeights): void {
  disposeStemWeights(w.stem);
  const all: Tensor[] = [w.embedding, w.embeddingBias, w.pos, w.scale, w.cls, ...w.norm, w.head, w.headBias];
  for (const l of w.layers) all.push(...l.ln0, l.qkv, l.qkvBias, l.out, l.outBias, ...l.ln2, l.mlp0, l.mlp0Bias, l.mlp1, l.mlp1Bias);
  for (const t of all) t.dispose();
}
