// Test helper: writes PNGs of every flavour pngjs cannot write (bit depths below 8, palettes,
// Adam7 interlace, every row filter, split IDAT), from raw samples.
import { zlibSync } from 'fflate';

export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  /** width × height × channels samples at full depth (palette: indices). */
  samples: Uint16Array;
  palette?: Uint8Array;
  /** Raw tRNS chunk payload. */
  trns?: Uint8Array;
  interlace?: boolean;
  /** IDAT payload split into chunks of at most this many bytes. */
  idatChunk?: number;
}

export const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

function crc32(b: Uint8Array): number {
  let c = -1;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

export function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function ihdr(width: number, height: number, depth: number, colorType: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return chunk('IHDR', d);
}

export const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Packs one row of samples MSB-first at `depth` bits (16-bit: big-endian). */
function packRow(samples: number[], depth: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((samples.length * depth) / 8));
  samples.forEach((s, i) => {
    if (depth === 16) (out[2 * i] = s >> 8), (out[2 * i + 1] = s & 255);
    else if (depth === 8) out[i] = s;
    else out[(i * depth) >> 3] |= s << (8 - depth - ((i * depth) & 7));
  });
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters a row with filter `f` (0..4) against the previous raw row. */
function filterRow(row: Uint8Array, prev: Uint8Array | null, f: number, bpp: number): Uint8Array {
  const out = new Uint8Array(row.length + 1);
  out[0] = f;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0;
    const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
    out[i + 1] = (row[i] - pred) & 255;
  }
  return out;
}

export function writePng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, depth, samples } = spec;
  const ch = CHANNELS[colorType];
  const bpp = Math.max(1, (ch * depth) >> 3);
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const rows: Uint8Array[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx), ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    let prev: Uint8Array | null = null;
    for (let py = 0; py < ph; py++) {
      const vals: number[] = [];
      for (let px = 0; px < pw; px++) {
        const p = ((y0 + py * dy) * width + x0 + px * dx) * ch;
        for (let c = 0; c < ch; c++) vals.push(samples[p + c]);
      }
      const raw = packRow(vals, depth);
      rows.push(filterRow(raw, prev, rowIndex++ % 5, bpp)); // cycle through all five filters
      prev = raw;
    }
  }
  const z = zlibSync(concat(rows));
  const step = spec.idatChunk ?? z.length;
  const idats: Uint8Array[] = [];
  for (let o = 0; o < z.length; o += step) idats.push(chunk('IDAT', z.subarray(o, o + step)));
  return concat([
    SIGNATURE,
    ihdr(width, height, depth, colorType, spec.interlace ? 1 : 0),
    ...(spec.palette ? [chunk('PLTE', spec.palette)] : []),
    ...(spec.trns ? [chunk('tRNS', spec.trns)] : []),
    ...idats,
    chunk('IEND', new Uint8Array(0)),
  ]);
}
