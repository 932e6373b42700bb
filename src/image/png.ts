// A small PNG decoder on fflate, so the same code runs in Node and browsers (pngjs needs node
// zlib and streams). Every PNG flavour becomes 8-bit RGB the way TF's decode_png/decode_jpeg
// with dtype uint8 and RGB output makes it (decode_image_op.cc DecodePngV2 asks for 8-bit
// channels; tensorflow/core/lib/png/png_io.cc CommonInitDecode then sets up libpng):
// - 16-bit samples: png_set_strip_16, i.e. the HIGH byte (not png_set_scale_16's rounding);
// - gray of 1/2/4 bits: png_set_expand_gray_1_2_4_to_8, i.e. v·255/(2^bits − 1);
// - palette: png_set_palette_to_rgb; alpha and tRNS: png_set_strip_alpha (dropped, no compositing);
// - gray: png_set_gray_to_rgb (replicated).
import { unzlibSync } from 'fflate';
import { MusiqError } from '../common/errors.ts';
import type { RgbImage } from './rgb-image.ts';
import { checkDimensions } from './image-size.ts';
import { crc32 } from '../common/crc32.ts';

/** Channels per pixel for each valid colour type, and the bit depths the PNG spec allows for it. */
const COLOR_TYPES: Record<number, { channels: number; depths: number[]; label: string }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16], label: 'gray' },
  2: { channels: 3, depths: [8, 16], label: 'RGB' },
  3: { channels: 1, depths: [1, 2, 4, 8], label: 'palette' },
  4: { channels: 2, depths: [8, 16], label: 'gray+alpha' },
  6: { channels: 4, depths: [8, 16], label: 'RGBA' },
};

/** Adam7 passes: [x0, y0, dx, dy]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
}

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  w: number;
  h: number;
}

function passes(hdr: Header): Pass[] {
  const all = hdr.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  return all
    .map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, w: Math.ceil((hdr.width - x0) / dx), h: Math.ceil((hdr.height - y0) / dy) }))
    .filter((p) => p.w > 0 && p.h > 0);
}

export function decodePng(bytes: Uint8Array, name = 'image.png'): RgbImage {
  const fail = (why: string): never => {
    throw new MusiqError(`${name}: corrupt PNG: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hdr: Header | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatBytes = 0;
  let sawEnd = false;
  for (let p = 8; !sawEnd; ) {
    if (p + 12 > bytes.length) fail(p === bytes.length ? 'file ends before the IEND chunk (truncated)' : 'truncated chunk header');
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    if (len > 0x7fffffff || p + 12 + len > bytes.length) fail(`chunk ${JSON.stringify(type)} of ${len} bytes runs past the end of the file (truncated)`);
    const data = bytes.subarray(p + 8, p + 8 + len);
    // Critical chunks (upper-case first letter) are CRC-checked, as libpng does by default.
    const critical = (bytes[p + 4] & 0x20) === 0;
    if (critical && crc32(bytes.subarray(p + 4, p + 8 + len)) !== view.getUint32(p + 8 + len)) fail(`CRC mismatch in chunk ${JSON.stringify(type)}`);
    if (!hdr && type !== 'IHDR') fail(`first chunk is ${JSON.stringify(type)}, not IHDR`);
    if (type === 'IHDR') {
      if (hdr) fail('two IHDR chunks');
      if (len !== 13) fail(`IHDR has ${len} bytes, not 13`);
      hdr = { width: view.getUint32(p + 8), height: view.getUint32(p + 12), depth: data[8], colorType: data[9], interlaced: data[12] === 1 };
      const ct = COLOR_TYPES[hdr.colorType];
      if (!ct) fail(`unknown colour type ${hdr.colorType}`);
      if (!ct.depths.includes(hdr.depth)) fail(`bit depth ${hdr.depth} is not allowed for ${ct.label}`);
      if (data[10] !== 0 || data[11] !== 0) fail(`unknown compression/filter method ${data[10]}/${data[11]}`);
      if (data[12] > 1) fail(`unknown interlace method ${data[12]}`);
      if (hdr.width > 0x7fffffff || hdr.height > 0x7fffffff) fail(`dimensions ${hdr.width}×${hdr.height} out of range`);
      checkDimensions(hdr.width, hdr.height, name);
    } else if (type === 'PLTE') {
      if (len % 3 !== 0 || len === 0 || len > 768) fail(`PLTE of ${len} bytes`);
      palette = data;
    } else if (type === 'IDAT') {
      idat.push(data);
      idatBytes += len;
    } else if (type === 'IEND') {
      sawEnd = true;
    } else if (critical) {
      fail(`unknown critical chunk ${JSON.stringify(type)}`);
    }
    p += 12 + len;
  }
  if (!hdr) return fail('no IHDR chunk');
  if (idat.length === 0) fail('no IDAT chunk (no image data)');
  if (hdr.colorType === 3 && !palette) fail('palette image without a PLTE chunk');

  const { channels } = COLOR_TYPES[hdr.colorType];
  const bitsPerPixel = channels * hdr.depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter byte distance
  const plan = passes(hdr);
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  const expected = plan.reduce((n, ps) => n + ps.h * (1 + rowBytes(ps.w)), 0);

  // Deflate expands at most 1032:1 (a 258-byte match in 2 bits), so a tiny file claiming a huge
  // image is refused before the big allocations.
  if (expected > idatBytes * 1032 + 1024) fail(`${idatBytes} bytes of image data cannot hold ${hdr.width}×${hdr.height} pixels (truncated)`);
  let compressed: Uint8Array;
  if (idat.length === 1) compressed = idat[0];
  else {
    compressed = new Uint8Array(idatBytes);
    let o = 0;
    for (const d of idat) (compressed.set(d, o), (o += d.length));
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(compressed, { out: new Uint8Array(expected) });
  } catch (e) {
    return fail(`image data does not inflate (${(e as Error).message})`);
  }
  if (raw.length < expected) fail(`image data is ${raw.length} bytes after inflating, ${expected} expected (truncated)`);

  const out = new Uint8Array(hdr.width * hdr.height * 3);
  let off = 0;
  for (const ps of plan) {
    const rb = rowBytes(ps.w);
    for (let y = 0; y < ps.h; y++) {
      const filter = raw[off];
      const row = off + 1;
      const prev = y === 0 ? -1 : row - rb - 1;
      unfilter(raw, filter, row, prev, rb, bpp, fail);
      writeRow(raw.subarray(row, row + rb), hdr, ps, ps.y0 + y * ps.dy, palette, out, fail);
      off = row + rb;
    }
  }
  return { width: hdr.width, height: hdr.height, data: out };
}

/** Reverses one row's filter in place. `prev` is the previous row's start or -1 for the first row. */
function unfilter(b: Uint8Array, filter: number, row: number, prev: number, n: number, bpp: number, fail: (why: string) => never): void {
  // The first row's "previous row" is all zeros: Up is then a no-op, Average halves the left
  // byte and Paeth reduces to Sub. The loops below treat the first bpp bytes (no left
  // neighbour) separately so the main loops have no branches.
  if (prev < 0 && filter === 4) filter = 1;
  switch (filter) {
    case 0:
      return;
    case 1: // Sub
      for (let i = row + bpp, end = row + n; i < end; i++) b[i] += b[i - bpp];
      return;
    case 2: // Up
      if (prev >= 0) for (let i = 0; i < n; i++) b[row + i] += b[prev + i];
      return;
    case 3: // Average
      if (prev < 0) {
        for (let i = row + bpp, end = row + n; i < end; i++) b[i] += b[i - bpp] >> 1;
        return;
      }
      for (let i = 0; i < bpp && i < n; i++) b[row + i] += b[prev + i] >> 1;
      for (let i = bpp; i < n; i++) b[row + i] += (b[row + i - bpp] + b[prev + i]) >> 1;
      return;
    case 4: // Paeth
      for (let i = 0; i < bpp && i < n; i++) b[row + i] += b[prev + i]; // a = c = 0: predicts up
      for (let i = bpp; i < n; i++) {
        const a = b[row + i - bpp], up = b[prev + i], c = b[prev + i - bpp];
        const pa = up > c ? up - c : c - up; // |p − a| with p = a + up − c
        const pb = a > c ? a - c : c - a; // |p − up|
        const pc = a + up - 2 * c > 0 ? a + up - 2 * c : 2 * c - a - up; // |p − c|
        b[row + i] += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
      }
      return;
    default:
      fail(`unknown row filter type ${filter}`);
  }
}

/** Expands one unfiltered row of pass `ps` into RGB pixels of image row `y`. */
function writeRow(
  row: Uint8Array, hdr: Header, ps: Pass, y: number, palette: Uint8Array | undefined, out: Uint8Array, fail: (why: string) => never,
): void {
  const { depth, colorType } = hdr;
  const step = ps.dx * 3;
  let o = (y * hdr.width + ps.x0) * 3;
  if (colorType === 2 && depth === 8 && ps.dx === 1) out.set(row, o); // already RGB bytes
  else if (colorType === 2 || colorType === 6) {
    // RGB(A): 8-bit, or 16-bit whose high byte comes first (big-endian).
    const stride = (colorType === 2 ? 3 : 4) * (depth >> 3), hi = depth >> 3;
    for (let i = 0, s = 0; i < ps.w; i++, s += stride, o += step) {
      out[o] = row[s];
      out[o + 1] = row[s + hi];
      out[o + 2] = row[s + 2 * hi];
    }
  } else if (colorType === 4 || (colorType === 0 && depth >= 8)) {
    const stride = (colorType === 4 ? 2 : 1) * (depth >> 3);
    for (let i = 0, s = 0; i < ps.w; i++, s += stride, o += step) out[o] = out[o + 1] = out[o + 2] = row[s];
  } else {
    // Packed gray or palette indices, most significant bits first.
    const mask = (1 << depth) - 1, perByte = 8 / depth;
    const gray = 255 / mask;
    const entries = palette ? palette.length / 3 : 0;
    for (let i = 0; i < ps.w; i++, o += step) {
      const v = (row[(i / perByte) | 0] >> (8 - depth * (1 + (i % perByte)))) & mask;
      if (colorType === 0) out[o] = out[o + 1] = out[o + 2] = v * gray;
      else {
        if (v >= entries) fail(`palette index ${v} but the palette has ${entries} entries`);
        out[o] = palette![v * 3];
        out[o + 1] = palette![v * 3 + 1];
        out[o + 2] = palette![v * 3 + 2];
      }
    }
  }
}
