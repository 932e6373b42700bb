// TF-exact MUSIQ preprocessing (spec §2): RGB bytes → multi-scale 32×32 patches with hashed
// spatial indices and scale ids. Every step reproduces TF's float32 arithmetic, because the
// original model saw exactly these values:
// - values to [-1, 1] before resizing (GR-pp normalize_value_range);
// - resized sizes from float32 products, rounded half to even (tf.round);
// - TF's ScaleAndTranslate Gaussian resize (scale_and_translate_op.cc, sampling_kernels.h):
//   rows first into a float32 intermediate, then columns, taps accumulated in float32 in order;
// - SAME patch padding with the smaller half first, pad value 0 (mid-grey in [-1, 1]);
// - TF1 legacy nearest-neighbour hash of the patch grid onto a 10×10 table.
// Padding rows of the original input are omitted (spec §2.9); packOriginal() rebuilds them.
import { MusiqError } from '../common/errors.ts';
import type { RgbImage } from '../image/rgb-image.ts';

export const PATCH = 32;
/** Floats per patch: 32 × 32 × 3 in (y, x, c) order. */
export const PATCH_VALUES = PATCH * PATCH * 3;
/** Side of the learned spatial-position grid. */
export const HASH_GRID = 10;
export const DEFAULT_LONGER_SIDES: readonly number[] = [224, 384];

export interface ScaleInfo {
  scaleId: number;
  height: number;
  width: number;
  gridH: number;
  gridW: number;
  count: number;
}

export interface MusiqInput {
  /** Patches, excluding CLS. */
  tokens: number;
  /** tokens × 3072 in (y, x, c) order. */
  patches: Float32Array;
  spatial: Uint32Array;
  scaleIds: Uint32Array;
  scales: ScaleInfo[];
}

const f32 = Math.fround;

/** u8 → [-1, 1] exactly as TF computes it in float32: -1 + (u / 255) · 2. */
const NORMALIZED = new Float32Array(256).map((_, u) => f32(-1 + f32(u / 255) * 2));

/** Round half to even, as tf.round. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The aspect-preserving size whose longer side is L (GR-pp resize_preserve_aspect_ratio), in float32. */
export function resizedSize(height: number, width: number, longerSide: number): [number, number] {
  const ratio = f32(longerSide / Math.max(height, width));
  return [roundHalfEven(f32(height * ratio)), roundHalfEven(f32(width * ratio))];
}

/** Per-output-index source taps of TF's Gaussian ScaleAndTranslate along one axis (antialias off). */
export interface Spans {
  /** First source index of each output index. */
  starts: Int32Array;
  /** Taps used by each output index (at most 3 are nonzero). */
  counts: Int32Array;
  /** 3 weights per output index, float32. */
  weights: Float32Array;
}

const RADIUS = 1.5;
const MAX_TAPS = 3;

export function gaussianSpans(inSize: number, outSize: number): Spans {
  const scale = f32(outSize / inSize); // resize_images_v2: float32 division of the sizes
  const invScale = f32(1 / scale);
  const starts = new Int32Array(outSize), counts = new Int32Array(outSize), weights = new Float32Array(outSize * MAX_TAPS);
  const raw = new Float64Array(8);
  for (let x = 0; x < outSize; x++) {
    const sample = f32(f32(x + 0.5) * invScale);
    if (sample < 0 || sample > inSize) continue; // TF leaves an empty span; unreachable for these scales
    const lo = Math.min(Math.max(Math.ceil(f32(f32(sample - RADIUS) - 0.5)), 0), inSize - 1);
    const hi = Math.min(Math.max(Math.floor(f32(f32(sample + RADIUS) - 0.5)), 0), inSize - 1) + 1;
    let total = 0;
    for (let s = lo; s < hi; s++) {
      const d = Math.abs(f32(f32(s + 0.5) - sample));
      // sigma = 0.5: exp(-d² / (2σ²)) with -d·d in float32, the division and exp in double.
      const w = d >= RADIUS ? 0 : f32(Math.exp(f32(-d * d) / 0.5));
      raw[s - lo] = w;
      total = f32(total + w);
    }
    // Out-of-image taps were never added: the weights are renormalised over the image.
    if (Math.abs(total) < 1000 * 1.1754943508222875e-38) continue;
    const inv = f32(1 / total);
    // Drop zero-weight taps at the ends (TF adds them as exact zeros, which changes no sum).
    let a = lo, b = hi;
    while (a < b && raw[a - lo] === 0) a++;
    while (b > a && raw[b - 1 - lo] === 0) b--;
    if (b - a > MAX_TAPS) throw new MusiqError(`internal error: ${b - a} Gaussian taps`);
    starts[x] = a;
    counts[x] = b - a;
    for (let s = a; s < b; s++) weights[x * MAX_TAPS + s - a] = f32(raw[s - lo] * inv);
  }
  return { starts, counts, weights };
}

/**
 * TF Gaussian resize of an RGB image (u8 values normalised on the fly) to outH × outW, float32
 * (y, x, c). Rows first into a float32 intermediate, then columns, as TF's GatherSpans.
 */
export function gaussianResize(img: RgbImage, outH: number, outW: number): Float32Array {
  const { width: inW, height: inH, data } = img;
  const rows = gaussianSpans(inH, outH), cols = gaussianSpans(inW, outW);
  const rowLen = inW * 3;
  const mid = new Float32Array(outH * rowLen);
  for (let y = 0; y < outH; y++) {
    const o = y * rowLen;
    for (let t = 0; t < rows.counts[y]; t++) {
      const w = rows.weights[y * MAX_TAPS + t], s = (rows.starts[y] + t) * rowLen;
      for (let i = 0; i < rowLen; i++) mid[o + i] += f32(w * NORMALIZED[data[s + i]]);
    }
  }
  const out = new Float32Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    const src = y * rowLen;
    for (let x = 0; x < outW; x++) {
      const o = (y * outW + x) * 3, n = cols.counts[x];
      let r = 0, g = 0, b = 0;
      for (let t = 0; t < n; t++) {
        const w = cols.weights[x * MAX_TAPS + t], s = src + (cols.starts[x] + t) * 3;
        r = f32(r + f32(w * mid[s]));
        g = f32(g + f32(w * mid[s + 1]));
        b = f32(b + f32(w * mid[s + 2]));
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}

/** TF1 legacy nearest-neighbour index of `i` when resizing 10 → count: min(floor(f32(i · f32(10 / count))), 9). */
export function hashIndex(i: number, count: number): number {
  return Math.min(Math.floor(f32(i * f32(HASH_GRID / count))), HASH_GRID - 1);
}

/**
 * Cuts an h × w × 3 image into SAME-padded 32×32 patches of `input` from token `first`, with
 * spatial indices and the scale id. Bytes are normalised on the way; floats are copied.
 */
function cutPatches(h: number, w: number, src: Float32Array | Uint8Array, scaleId: number, first: number, input: MusiqInput): ScaleInfo {
  const gridH = Math.ceil(h / PATCH), gridW = Math.ceil(w / PATCH);
  const top = (gridH * PATCH - h) >> 1, left = (gridW * PATCH - w) >> 1;
  const out = input.patches;
  for (let i = 0; i < gridH; i++) {
    const hh = hashIndex(i, gridH);
    for (let j = 0; j < gridW; j++) {
      const token = first + i * gridW + j;
      input.spatial[token] = hh * HASH_GRID + hashIndex(j, gridW);
      input.scaleIds[token] = scaleId;
      // Source columns of this patch that lie inside the image; the rest stays 0 (padding).
      const x0 = Math.max(j * PATCH - left, 0), x1 = Math.min((j + 1) * PATCH - left, w);
      const dx = x0 - (j * PATCH - left);
      for (let py = 0; py < PATCH; py++) {
        const y = i * PATCH + py - top;
        if (y < 0 || y >= h) continue;
        const dst = token * PATCH_VALUES + (py * PATCH + dx) * 3, s0 = (y * w + x0) * 3, s1 = (y * w + x1) * 3;
        if (src instanceof Float32Array) out.set(src.subarray(s0, s1), dst);
        else normalizeRun(src, s0, s1, out, dst);
      }
    }
  }
  return { scaleId, height: h, width: w, gridH, gridW, count: gridH * gridW };
}

function normalizeRun(src: Uint8Array, s0: number, s1: number, out: Float32Array, dst: number): void {
  for (let s = s0; s < s1; s++, dst++) out[dst] = NORMALIZED[src[s]];
}

function checkImage(img: RgbImage): void {
  const { width: w, height: h, data } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new MusiqError(`musiq: image size ${w}×${h} is not a positive integer size`);
  if (!(data instanceof Uint8Array) || data.length !== w * h * 3) {
    throw new MusiqError(`musiq: RGB image of ${w}×${h} needs ${w * h * 3} bytes, got ${data?.length}`);
  }
}

function sortedSides(longerSides: readonly number[]): number[] {
  for (const L of longerSides) if (!Number.isInteger(L) || L < 1) throw new MusiqError(`musiq: longer side ${L} is not a positive integer`);
  return [...longerSides].sort((a, b) => a - b); // GR-pp sorts them: the smallest gets scale id 0
}

export function preprocess(img: RgbImage, longerSides: readonly number[] = DEFAULT_LONGER_SIDES): MusiqInput {
  checkImage(img);
  const sides = sortedSides(longerSides);
  const { width: W, height: H, data } = img;
  const sizes = sides.map((L) => {
    const [h, w] = resizedSize(H, W, L);
    if (h < 1 || w < 1) throw new MusiqError(`musiq: a ${W}×${H} image is too elongated: its longer-side-${L} scale would be ${w}×${h} pixels`);
    return [h, w];
  });
  const grids = [...sizes, [H, W]].map(([h, w]) => Math.ceil(h / PATCH) * Math.ceil(w / PATCH));
  const tokens = grids.reduce((a, b) => a + b, 0);
  const input: MusiqInput = {
    tokens,
    patches: new Float32Array(tokens * PATCH_VALUES),
    spatial: new Uint32Array(tokens),
    scaleIds: new Uint32Array(tokens),
    scales: [],
  };
  let first = 0;
  sizes.forEach(([h, w], k) => {
    input.scales.push(cutPatches(h, w, gaussianResize(img, h, w), k, first, input));
    first += grids[k];
  });
  // Native resolution: normalised straight from the bytes, no resize.
  input.scales.push(cutPatches(H, W, data, sides.length, first, input));
  return input;
}

/** Values per row of the original model input: 3072 pixels, spatial index, scale id, mask. */
export const PACKED_WIDTH = PATCH_VALUES + 3;

/**
 * The original model input (spec §2.8, without the batch axis): each resized scale padded with
 * all-zero rows (mask 0) to ceil(L/32)² rows, then the native scale unpadded.
 */
export function packOriginal(input: MusiqInput, longerSides: readonly number[] = DEFAULT_LONGER_SIDES): { rows: number; data: Float32Array } {
  const sides = sortedSides(longerSides);
  if (input.scales.length !== sides.length + 1) throw new MusiqError(`musiq: input has ${input.scales.length} scales, ${sides.length + 1} expected for longer sides [${sides}]`);
  const lengths = input.scales.map((s, k) => (k < sides.length ? Math.ceil(sides[k] / PATCH) ** 2 : s.count));
  input.scales.forEach((s, k) => {
    if (s.count > lengths[k]) throw new MusiqError(`musiq: scale ${k} has ${s.count} patches, more than its ${lengths[k]} rows`);
  });
  const rows = lengths.reduce((a, b) => a + b, 0);
  const data = new Float32Array(rows * PACKED_WIDTH);
  let row = 0, token = 0;
  input.scales.forEach((s, k) => {
    for (let t = 0; t < s.count; t++, token++) {
      const o = (row + t) * PACKED_WIDTH;
      data.set(input.patches.subarray(token * PATCH_VALUES, (token + 1) * PATCH_VALUES), o);
      data[o + PATCH_VALUES] = input.spatial[token];
      data[o + PATCH_VALUES + 1] = input.scaleIds[token];
      data[o + PATCH_VALUES + 2] = 1;
    }
    row += lengths[k];
  });
  return { rows, data };
}
