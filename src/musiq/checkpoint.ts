// The MUSIQ view of an .npz: the parameters are the members under `opt/target/` (spec §4.1), the
// rest (optimizer state) is ignored. Model dims come from the tensor shapes, so any checkpoint with
// the original structure loads; every key and shape is checked up front and all problems are
// reported in one error. No tensor data is read until `read`.
import { MusiqError } from '../common/errors.ts';
import { openNpz, type Npz, type NpyInfo } from '../npz/npz.ts';
import type { ByteSource } from '../npz/source.ts';
import { CONVERT_MEMBER, SCALE_PREFIX, dequantizeInt8, dequantizeInt8ToF16, scaleShape, type FilePrecision, type Provenance } from './quantize.ts';

export interface MusiqDims {
  hidden: number;
  layers: number;
  heads: number;
  headDim: number;
  mlp: number;
  /** Channels of conv_root; the stem's output has 4·stemWidth and the embedding input 8·8·4·stemWidth. */
  stemWidth: number;
  numClasses: number;
  numScales: number;
  /** The spatial position table has posGrid² rows. */
  posGrid: number;
  /** Width of the optional `pre_logits` Dense(+tanh) before the head (spec §3.7, imagenet only); 0 when absent. */
  preLogits: number;
}

export type Variant = 'quality' | 'ava' | 'imagenet';

export interface Checkpoint {
  name: string;
  variant: Variant;
  dims: MusiqDims;
  /** Number of float parameters in the target tensors. */
  parameters: number;
  /** Bytes of tensor data in the target tensors (not the file size). */
  bytes: number;
  /** The `opt/target/` members, names relative to it, in the order of `checkpointKeys`. */
  tensors: NpyInfo[];
  /** Full names of members that are not model parameters (optimizer state, ...). */
  ignored: string[];
  /** How the kernels are stored: 'f32' (the originals), or 'f16' / 'int8' (`musiq convert`). */
  precision: FilePrecision;
  /** What `musiq convert` recorded (source name and sha256), for converted files. */
  provenance?: Provenance;
  npz: Npz;
  /** One tensor as float32 (int8 kernels dequantized), key relative to `opt/target/`, e.g. 'embedding/kernel'. */
  read(key: string): Promise<Float32Array>;
  /**
   * A tensor as f16 bit patterns for an f16 upload, when that needs no f32 round trip: float16
   * members as stored, int8 ones dequantized straight to f16; undefined for other dtypes.
   */
  readF16Bits(key: string): Promise<Uint16Array | undefined>;
}

/** Lists every missing, unexpected and mis-shaped key of a checkpoint at once. */
export class CheckpointError extends MusiqError {
  override name = 'CheckpointError';
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: not a usable MUSIQ checkpoint: ${problems.join('; ')}`);
  }
}

const PREFIX = 'opt/target/';
const HEADS: Record<number, Variant> = { 1: 'quality', 10: 'ava', 1000: 'imagenet' };
/** The released checkpoints (spec §3.1); a dim that cannot be read from any shape is assumed from here. */
const FULL: MusiqDims = { hidden: 384, layers: 14, heads: 6, headDim: 64, mlp: 1152, stemWidth: 64, numClasses: 1, numScales: 3, posGrid: 10, preLogits: 0 };
const GROUPS = 32; // GroupNorm groups, fixed by flax.nn's default whatever the stem width

/** Expected key → shape (keys relative to `opt/target/`): the single source of truth, also used by the writer. */
export function checkpointKeys(d: MusiqDims): Map<string, number[]> {
  const k = new Map<string, number[]>();
  const W = d.stemWidth, H = d.hidden;
  const gn = (p: string, c: number) => (k.set(`${p}/scale`, [1, 1, 1, c]), k.set(`${p}/bias`, [1, 1, 1, c]));
  k.set('conv_root/kernel', [7, 7, 3, W]);
  gn('gn_root', W);
  const u = 'block1/unit1';
  k.set(`${u}/conv_proj/kernel`, [1, 1, W, 4 * W]);
  gn(`${u}/gn_proj`, 4 * W);
  k.set(`${u}/conv1/kernel`, [1, 1, W, W]);
  gn(`${u}/gn1`, W);
  k.set(`${u}/conv2/kernel`, [3, 3, W, W]);
  gn(`${u}/gn2`, W);
  k.set(`${u}/conv3/kernel`, [1, 1, W, 4 * W]);
  gn(`${u}/gn3`, 4 * W);
  k.set('embedding/kernel', [8 * 8 * 4 * W, H]);
  k.set('embedding/bias', [H]);
  k.set('Transformer/posembed_input/pos_embedding', [1, d.posGrid * d.posGrid, H]);
  k.set('Transformer/scaleembed_input/scale_embedding', [1, d.numScales, H]);
  k.set('Transformer/cls', [1, 1, H]);
  for (let i = 0; i < d.layers; i++) {
    const b = `Transformer/encoderblock_${i}`, a = `${b}/MultiHeadDotProductAttention_1`;
    k.set(`${b}/LayerNorm_0/scale`, [H]);
    k.set(`${b}/LayerNorm_0/bias`, [H]);
    for (const p of ['query', 'key', 'value']) {
      k.set(`${a}/${p}/kernel`, [H, d.heads, d.headDim]);
      k.set(`${a}/${p}/bias`, [d.heads, d.headDim]);
    }
    k.set(`${a}/out/kernel`, [d.heads, d.headDim, H]);
    k.set(`${a}/out/bias`, [H]);
    k.set(`${b}/LayerNorm_2/scale`, [H]);
    k.set(`${b}/LayerNorm_2/bias`, [H]);
    k.set(`${b}/MlpBlock_3/Dense_0/kernel`, [H, d.mlp]);
    k.set(`${b}/MlpBlock_3/Dense_0/bias`, [d.mlp]);
    k.set(`${b}/MlpBlock_3/Dense_1/kernel`, [d.mlp, H]);
    k.set(`${b}/MlpBlock_3/Dense_1/bias`, [H]);
  }
  k.set('Transformer/encoder_norm/scale', [H]);
  k.set('Transformer/encoder_norm/bias', [H]);
  if (d.preLogits) {
    k.set('pre_logits/kernel', [H, d.preLogits]);
    k.set('pre_logits/bias', [d.preLogits]);
  }
  k.set('head/kernel', [d.preLogits || H, d.numClasses]);
  k.set('head/bias', [d.numClasses]);
  return k;
}

export function variantOf(numClasses: number): Variant | undefined {
  return HEADS[numClasses];
}

export async function openCheckpoint(source: ByteSource): Promise<Checkpoint> {
  const npz = await openNpz(source);
  const found = new Map<string, NpyInfo>();
  const ignored: string[] = [];
  const scales = new Map<string, NpyInfo>();
  for (const m of npz.members) {
    if (m.name.startsWith(PREFIX)) found.set(m.name.slice(PREFIX.length), m);
    else if (m.name.startsWith(SCALE_PREFIX)) scales.set(m.name.slice(SCALE_PREFIX.length), m);
    else if (m.name !== CONVERT_MEMBER) ignored.push(m.name);
  }
  if (found.size === 0) {
    const some = npz.members.slice(0, 5).map((m) => m.name).join(', ');
    throw new CheckpointError(source.name, [`no ${PREFIX} members (${npz.members.length} members${some ? `: ${some}${npz.members.length > 5 ? ', …' : ''}` : ''})`]);
  }
  const shapes = new Map([...found].map(([k, m]) => [k, m.shape]));
  const { dims, problems } = inferDims(shapes);
  const variant = variantOf(dims.numClasses);
  if (!variant) problems.push(`head has ${dims.numClasses} outputs; expected 1 (quality score), 10 (AVA) or 1000 (ImageNet)`);
  // GR-run replaces pre_logits with an identity for the IQA heads, so those would be unused (spec §4.2).
  if (dims.preLogits && variant !== 'imagenet') {
    for (const k of ['pre_logits/kernel', 'pre_logits/bias']) {
      if (found.delete(k)) ignored.push(PREFIX + k);
    }
    dims.preLogits = 0;
  }
  const expected = checkpointKeys(dims);
  const missing = [...expected.keys()].filter((k) => !found.has(k));
  const unexpected = [...found.keys()].filter((k) => !expected.has(k));
  const misshaped: string[] = [];
  const badType: string[] = [];
  for (const [k, shape] of expected) {
    const m = found.get(k);
    if (!m) continue;
    if (shape.join() !== m.shape.join()) misshaped.push(`${k} is ${fmt(m.shape)}, expected ${fmt(shape)}`);
    if (m.dtype === 'int8') problems.push(...int8Problems(k, m, scales.get(k), shape));
    else if (!m.dtype || !m.dtype.startsWith('float')) badType.push(`${k} is '${m.descr}'`);
  }
  for (const [k, m] of scales) {
    if (found.get(k)?.dtype !== 'int8') problems.push(`scale member ${m.name} belongs to no int8 member ${PREFIX}${k}`);
  }
  const provenance = await readProvenance(npz, problems);
  if (missing.length) problems.push(`missing ${missing.length}: ${missing.join(', ')}`);
  if (unexpected.length) problems.push(`unexpected ${unexpected.length}: ${unexpected.join(', ')}`);
  if (misshaped.length) problems.push(`mis-shaped ${misshaped.length}: ${misshaped.join(', ')}`);
  if (badType.length) problems.push(`not float ${badType.length}: ${badType.join(', ')}`);
  if (problems.length) throw new CheckpointError(source.name, problems);

  const tensors = [...expected.keys()].map((k) => {
    const t = { ...found.get(k)!, name: k };
    if (t.dtype === 'int8') t.note = `int8, times its float32 ${SCALE_PREFIX}… scales`;
    return t;
  });
  const readInt8 = async (key: string): Promise<{ q: Int8Array; scale: Float32Array }> => {
    const [{ data: q }, scale] = await Promise.all([npz.read(PREFIX + key), npz.readF32(SCALE_PREFIX + key)]);
    const bad = scale.findIndex((s) => !(s >= 0 && s < Infinity));
    if (bad >= 0) throw new CheckpointError(source.name, [`scale member ${SCALE_PREFIX}${key} holds ${scale[bad]} at ${bad}; scales must be finite and ≥ 0`]);
    return { q: q as Int8Array, scale };
  };
  return {
    name: source.name,
    variant: variant!,
    dims,
    parameters: tensors.reduce((a, t) => a + t.count, 0),
    bytes: tensors.reduce((a, t) => a + (t.byteLength ?? 0), 0),
    tensors,
    ignored,
    precision: provenance?.precision ?? (tensors.some((t) => t.dtype === 'int8') ? 'int8' : tensors.some((t) => t.dtype === 'float16') ? 'f16' : 'f32'),
    provenance,
    npz,
    async read(key) {
      if (!expected.has(key)) throw new MusiqError(`${source.name}: no checkpoint tensor "${key}"`);
      if (found.get(key)!.dtype !== 'int8') return npz.readF32(PREFIX + key);
      const { q, scale } = await readInt8(key);
      return dequantizeInt8(q, scale);
    },
    async readF16Bits(key) {
      if (!expected.has(key)) throw new MusiqError(`${source.name}: no checkpoint tensor "${key}"`);
      if (found.get(key)!.dtype !== 'int8') return npz.readF16Bits(PREFIX + key);
      const { q, scale } = await readInt8(key);
      return dequantizeInt8ToF16(q, scale);
    },
  };
}

/** An int8 kernel needs its float32 scale member, shaped as the kernel's output axes. */
function int8Problems(key: string, m: NpyInfo, scale: NpyInfo | undefined, shape: number[]): string[] {
  const want = scaleShape(key, shape);
  if (!key.endsWith('/kernel')) return [`${PREFIX}${key} is int8, which only kernels may be`];
  if (!scale) return [`int8 member ${PREFIX}${key} has no scale member ${SCALE_PREFIX}${key}`];
  if (scale.dtype !== 'float32') return [`scale member ${scale.name} is '${scale.descr}', expected float32`];
  if (scale.shape.join() !== want.join()) return [`scale member ${scale.name} is ${fmt(scale.shape)}, expected ${fmt(want)} for ${PREFIX}${key} ${fmt(m.shape)}`];
  return [];
}

async function readProvenance(npz: Npz, problems: string[]): Promise<Provenance | undefined> {
  const m = npz.get(CONVERT_MEMBER);
  if (!m) return undefined;
  try {
    const { data } = await npz.read(CONVERT_MEMBER);
    if (m.dtype !== 'uint8') throw new Error(`dtype '${m.descr}'`);
    const p = JSON.parse(new TextDecoder().decode(data as Uint8Array)) as Provenance;
    if (p.precision !== 'f16' && p.precision !== 'int8') throw new Error(`precision ${JSON.stringify(p.precision)}`);
    return p;
  } catch (e) {
    problems.push(`${CONVERT_MEMBER} is not musiq's conversion record (${(e as Error).message})`);
    return undefined;
  }
}

/**
 * Dims from the shapes, each from the first key that has it (several candidates, so one missing
 * key does not hide the rest of the report); what cannot be read is assumed from the full model
 * and then shows up as missing or mis-shaped keys.
 */
function inferDims(shapes: Map<string, number[]>): { dims: MusiqDims; problems: string[] } {
  const problems: string[] = [];
  const pick = (dim: keyof MusiqDims, candidates: [key: string, rank: number, axis: number][]): number => {
    for (const [key, rank, axis] of candidates) {
      const s = shapes.get(key);
      if (s && s.length === rank && s[axis] > 0) return s[axis];
    }
    return FULL[dim];
  };
  const blocks = [...shapes.keys()].map((k) => /^Transformer\/encoderblock_(\d+)\//.exec(k)?.[1]).filter((i) => i !== undefined);
  const layers = blocks.length ? Math.max(...blocks.map(Number)) + 1 : 0;
  if (!layers) problems.push('no Transformer/encoderblock_* keys');
  const a0 = 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1';
  const m0 = 'Transformer/encoderblock_0/MlpBlock_3';
  const dims: MusiqDims = {
    hidden: pick('hidden', [['Transformer/encoder_norm/scale', 1, 0], ['embedding/bias', 1, 0], ['Transformer/cls', 3, 2], ['embedding/kernel', 2, 1]]),
    layers,
    heads: pick('heads', [[`${a0}/query/kernel`, 3, 1], [`${a0}/query/bias`, 2, 0], [`${a0}/out/kernel`, 3, 0]]),
    headDim: pick('headDim', [[`${a0}/query/kernel`, 3, 2], [`${a0}/query/bias`, 2, 1], [`${a0}/out/kernel`, 3, 1]]),
    mlp: pick('mlp', [[`${m0}/Dense_0/kernel`, 2, 1], [`${m0}/Dense_0/bias`, 1, 0], [`${m0}/Dense_1/kernel`, 2, 0]]),
    stemWidth: pick('stemWidth', [['conv_root/kernel', 4, 3], ['gn_root/scale', 4, 3], ['block1/unit1/conv1/kernel', 4, 3]]),
    numClasses: pick('numClasses', [['head/bias', 1, 0], ['head/kernel', 2, 1]]),
    numScales: pick('numScales', [['Transformer/scaleembed_input/scale_embedding', 3, 1]]),
    posGrid: 0,
    preLogits: shapes.has('pre_logits/kernel') || shapes.has('pre_logits/bias') ? pick('preLogits', [['pre_logits/bias', 1, 0], ['pre_logits/kernel', 2, 1]]) : 0,
  };
  const posRows = shapes.get('Transformer/posembed_input/pos_embedding')?.[1] ?? FULL.posGrid ** 2;
  dims.posGrid = Math.round(Math.sqrt(posRows));
  if (dims.posGrid ** 2 !== posRows) problems.push(`position table has ${posRows} rows, not a square grid`);
  if (dims.stemWidth % GROUPS) problems.push(`stem width ${dims.stemWidth} is not a multiple of the ${GROUPS} GroupNorm groups`);
  return { dims, problems };
}

function fmt(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}
