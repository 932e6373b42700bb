// The layout of a converted checkpoint (`musiq convert`), shared by the writer and the loader:
// which tensors shrink, how int8 is quantized, and the names of the members musiq adds.
//
// - f16: every `kernel` (the matmul and conv weights: 99.6% of the parameters) is stored as
//   float16; the rest (norm scales, biases, embeddings, the head) stays float32. Those are 0.4%
//   of the bytes, so halving them would not change the size, only add error.
// - int8: the same kernels as symmetric per-output-channel int8: for each output channel c,
//   scale[c] = max|w[:, c]| / 127 and q = round(w / scale[c]) in [-127, 127]; w ≈ q · scale[c].
//   The scales are float32 members named `musiq/int8_scale/<key>` whose shape is the kernel's
//   output axes, so NumPy dequantizes by broadcasting: `z[k] * z['musiq/int8_scale/' + k[11:]]`.
// - `musiq/convert`: UTF-8 JSON (a uint8 vector) saying precision, source file name and sha256.
// Members keep their original names, so tools that read the original keys still find them.

import { f16Bits } from '../runtime/f16.ts';

export type FilePrecision = 'f32' | 'f16' | 'int8';

export const CONVERT_MEMBER = 'musiq/convert';
export const SCALE_PREFIX = 'musiq/int8_scale/';
/** Version of the layout above, written into `musiq/convert`. */
export const CONVERT_FORMAT = 'musiq-convert/1';

export interface Provenance {
  format: string;
  precision: 'f16' | 'int8';
  source: { name: string; sha256: string; bytes: number };
  /** Members of the source outside opt/target/ (optimizer state), not written. */
  dropped: number;
  tool: string;
}

/** Keys (relative to opt/target/) that a conversion shrinks: every kernel but the head's. */
export function isConvertedKernel(key: string): boolean {
  return key.endsWith('/kernel') && key !== 'head/kernel' && key !== 'pre_logits/kernel';
}

/**
 * How many trailing axes of a kernel are its outputs: 2 for the attention q/k/v kernels
 * (in, heads, head_dim), 1 for everything else (HWIO convs, (in, out) denses, and the
 * attention `out` kernel (heads, head_dim, out)).
 */
export function outputAxes(key: string): number {
  return /\/(query|key|value)\/kernel$/.test(key) ? 2 : 1;
}

/** The shape of a kernel's scale member: its output axes. */
export function scaleShape(key: string, shape: readonly number[]): number[] {
  return shape.slice(shape.length - outputAxes(key));
}

/**
 * How far a converted file's scores may be from the original's, relative to max(1, |score|):
 * the bars the test suite holds converted fixtures to (measured worst: f16 3.6e-4, int8 1.2e-2,
 * on synthetic weights; bench/convert.ts). `musiq validate` uses them for converted files.
 */
export const CONVERTED_SCORE_TOLERANCE = { f16: 1e-3, int8: 3e-2 } as const;

export const INT8_MAX = 127;

/** Per-column symmetric int8 of a row-major [rows, cols] matrix (cols = product of the output axes). */
export function quantizeInt8(w: Float32Array, cols: number): { q: Int8Array; scale: Float32Array } {
  const rows = w.length / cols;
  const max = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) max[c] = Math.max(max[c], Math.abs(w[r * cols + c]));
  }
  // The scale is stored as float32, so quantize against that rounded value, as the reader will use it.
  const scale = Float32Array.from(max, (m) => m / INT8_MAX);
  const q = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = scale[c];
      q[r * cols + c] = s > 0 ? Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(w[r * cols + c] / s))) : 0;
    }
  }
  return { q, scale };
}

/**
 * q · scale per column rounded to f16 bits, for f16 storage on the GPU (that rounding, ≤ 2^-11
 * of a value, is far below int8's own step). Each column's 255 possible values are converted
 * once, so the cost is a table lookup per element, not an f16 conversion.
 */
export function dequantizeInt8ToF16(q: Int8Array, scale: Float32Array): Uint16Array {
  const cols = scale.length;
  const table = new Uint16Array(cols * 256);
  for (let c = 0; c < cols; c++) {
    for (let v = -128; v < 128; v++) table[c * 256 + v + 128] = f16Bits(Math.fround(v * scale[c]));
  }
  const out = new Uint16Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = table[(i % cols) * 256 + q[i] + 128];
  return out;
}

/** q · scale per column, in float32 (the value the GPU sees when int8 is expanded at upload). */
export function dequantizeInt8(q: Int8Array, scale: Float32Array): Float32Array {
  const cols = scale.length;
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i] * scale[i % cols];
  return out;
}
