// Chroma upsampling and colour conversion exactly as libjpeg-turbo does them with its defaults
// (do_fancy_upsampling = TRUE, which TF's decode_jpeg also sets). Facts from libjpeg-turbo:
// - jdmaster.c use_merged_upsample() refuses the merged upsampler (jdmerge.c) whenever fancy
//   upsampling is on, so jdsample.c's per-component methods apply (jinit_upsampler):
//   ratio 1×1 copy; 2×1 h2v1_fancy_upsample, or box replication when the component is ≤ 2
//   samples wide; 1×2 h1v2_fancy_upsample; 2×2 h2v2_fancy_upsample, or box when ≤ 2 wide; any
//   other integral ratio int_upsample (box). (The "min_DCT_scaled_size > 1" condition holds: we
//   never decode at reduced scale.)
// - Fancy = triangle filter: 3/4 nearer + 1/4 further sample per axis, with libjpeg's alternating
//   rounding biases. Edges replicate the first/last real sample (jdmainct.c points the context
//   rows above the image at row 0 and below it at the last real row).
// - jdcolor.c ycc_rgb_convert: 16-bit fixed-point tables, then clamping to [0, 255].
import { MusiqError } from '../common/errors.ts';

export type JpegColorSpace = 'gray' | 'ycc' | 'rgb';

/** One component's decoded samples: `stride` × rows, of which the first `width` × `height` are real. */
export interface Plane {
  data: Uint8Array;
  stride: number;
  width: number;
  height: number;
  /** Upsampling ratio to the full image (max sampling factor / own sampling factor). */
  hr: number;
  vr: number;
}

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number) => Math.floor(x * (1 << SCALEBITS) + 0.5);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256), CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}

/** libjpeg's range_limit[]: clamps y + chroma term (within [−227, 482]) to [0, 255]. */
const LIMIT_OFFSET = 256;
const LIMIT = new Uint8Array(1024).map((_, i) => Math.min(255, Math.max(0, i - LIMIT_OFFSET)));

/**
 * Returns a function that fills `out` with component row `y` upsampled to full resolution (it
 * may write up to 4 samples past the image width; `out` has room for them).
 */
function rowUpsampler(p: Plane, width: number, name: string): (y: number, out: Uint8Array) => Uint8Array {
  const { data, stride, hr, vr } = p;
  const n = p.width, last = n - 1, lastRow = p.height - 1;
  if (hr === 1 && vr === 1) return (y) => data.subarray(y * stride, y * stride + width);
  // The row that the triangle filter blends in: above for even output rows, below for odd ones.
  const farRow = (y: number) => {
    const r = y & 1 ? (y >> 1) + 1 : (y >> 1) - 1;
    return r < 0 ? 0 : r > lastRow ? lastRow : r;
  };
  if (hr === 2 && vr === 1 && n > 2) {
    return (y, out) => {
      const s = y * stride;
      out[0] = data[s];
      out[1] = (data[s] * 3 + data[s + 1] + 2) >> 2;
      for (let i = 1, x = 2; i < last; i++, x += 2) {
        const c = data[s + i] * 3;
        out[x] = (c + data[s + i - 1] + 1) >> 2;
        out[x + 1] = (c + data[s + i + 1] + 2) >> 2;
      }
      out[2 * last] = (data[s + last] * 3 + data[s + last - 1] + 1) >> 2;
      out[2 * last + 1] = data[s + last];
      return out;
    };
  }
  if (hr === 1 && vr === 2) {
    return (y, out) => {
      const a = (y >> 1) * stride, b = farRow(y) * stride, bias = y & 1 ? 2 : 1;
      for (let x = 0; x < width; x++) out[x] = (data[a + x] * 3 + data[b + x] + bias) >> 2;
      return out;
    };
  }
  if (hr === 2 && vr === 2 && n > 2) {
    const cs = new Int32Array(n);
    return (y, out) => {
      const a = (y >> 1) * stride, b = farRow(y) * stride;
      for (let i = 0; i < n; i++) cs[i] = data[a + i] * 3 + data[b + i];
      out[0] = (cs[0] * 4 + 8) >> 4;
      out[1] = (cs[0] * 3 + cs[1] + 7) >> 4;
      for (let i = 1, x = 2; i < last; i++, x += 2) {
        const c = cs[i] * 3;
        out[x] = (c + cs[i - 1] + 8) >> 4;
        out[x + 1] = (c + cs[i + 1] + 7) >> 4;
      }
      out[2 * last] = (cs[last] * 3 + cs[last - 1] + 8) >> 4;
      out[2 * last + 1] = (cs[last] * 4 + 7) >> 4;
      return out;
    };
  }
  if (!Number.isInteger(hr) || !Number.isInteger(vr)) throw new MusiqError(`${name}: unsupported JPEG (fractional chroma sampling ratio ${hr}×${vr})`);
  return (y, out) => {
    const s = Math.floor(y / vr) * stride;
    for (let x = 0; x < width; x++) out[x] = data[s + Math.floor(x / hr)];
    return out;
  };
}

/** Upsamples the component planes and converts them to interleaved 8-bit RGB. */
export function planesToRgb(planes: Plane[], space: JpegColorSpace, width: number, height: number, name: string): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const rows = planes.map((p) => ({ up: rowUpsampler(p, width, name), buf: new Uint8Array(width + 4) }));
  for (let y = 0, o = 0; y < height; y++) {
    const c0 = rows[0].up(y, rows[0].buf);
    if (space === 'gray') {
      for (let x = 0; x < width; x++, o += 3) rgb[o] = rgb[o + 1] = rgb[o + 2] = c0[x];
      continue;
    }
    const c1 = rows[1].up(y, rows[1].buf), c2 = rows[2].up(y, rows[2].buf);
    if (space === 'rgb') {
      for (let x = 0; x < width; x++, o += 3) (rgb[o] = c0[x]), (rgb[o + 1] = c1[x]), (rgb[o + 2] = c2[x]);
      continue;
    }
    for (let x = 0; x < width; x++, o += 3) {
      const yy = c0[x] + LIMIT_OFFSET, cb = c1[x], cr = c2[x];
      rgb[o] = LIMIT[yy + CR_R[cr]];
      rgb[o + 1] = LIMIT[yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS)];
      rgb[o + 2] = LIMIT[yy + CB_B[cb]];
    }
  }
  return rgb;
}
