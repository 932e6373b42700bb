// Seeds and mutations for fuzzing the image decoders (test/image/fuzz.test.ts runs a few
// thousand in the suite, bench/fuzz-decoders.ts the long run). Seeds are small (≤ 64×64) valid
// files of every kind the decoders take; mutations are structure-aware, because random bytes
// mostly die at the first check (PNG's CRCs, JPEG's marker lengths) and never reach the deep code.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../../src/common/crc32.ts';
import { mulberry32 } from '../../tools/random.ts';
import { CHANNELS, writePng, type PngSpec } from './png-writer.ts';

export interface Seed {
  name: string;
  kind: 'png' | 'jpeg';
  bytes: Uint8Array;
}

function pngSeed(name: string, spec: Omit<PngSpec, 'samples'>, seed: number): Seed {
  const r = mulberry32(seed);
  const n = spec.width * spec.height * CHANNELS[spec.colorType];
  const max = spec.colorType === 3 ? (spec.palette!.length / 3) : 2 ** spec.depth;
  const samples = new Uint16Array(n).map(() => Math.floor(r() * max));
  return { name, kind: 'png', bytes: writePng({ ...spec, samples }) };
}

const palette = (entries: number) => new Uint8Array(entries * 3).map((_, i) => (i * 37) & 255);

export function pngSeeds(): Seed[] {
  return [
    pngSeed('rgb8', { width: 23, height: 17, colorType: 2, depth: 8 }, 1),
    pngSeed('rgba8-interlaced', { width: 19, height: 21, colorType: 6, depth: 8, interlace: true }, 2),
    pngSeed('rgb16', { width: 9, height: 13, colorType: 2, depth: 16 }, 3),
    pngSeed('gray1', { width: 31, height: 5, colorType: 0, depth: 1 }, 4),
    pngSeed('gray4-interlaced', { width: 11, height: 9, colorType: 0, depth: 4, interlace: true }, 5),
    pngSeed('gray16', { width: 7, height: 12, colorType: 0, depth: 16 }, 6),
    pngSeed('gray-alpha16', { width: 6, height: 6, colorType: 4, depth: 16 }, 7),
    pngSeed('palette2-trns', { width: 17, height: 8, colorType: 3, depth: 2, palette: palette(4), trns: new Uint8Array([0, 128]) }, 8),
    pngSeed('palette8-split-idat', { width: 40, height: 30, colorType: 3, depth: 8, palette: palette(200), idatChunk: 97 }, 9),
  ];
}

/** cjpeg flags for each JPEG kind; sources are 8-bit noise+gradient PPMs of a few odd sizes. */
const JPEG_KINDS: [string, string[], number, number][] = [
  ['baseline-420', [], 37, 29],
  ['422', ['-sample', '2x1'], 33, 20],
  ['444-q100', ['-sample', '1x1', '-quality', '100'], 16, 24],
  ['progressive', ['-progressive'], 41, 35],
  ['restart', ['-restart', '1'], 30, 18],
  ['progressive-restart', ['-progressive', '-restart', '2B'], 27, 26],
  ['gray', ['-grayscale'], 25, 19],
  ['gray-progressive', ['-grayscale', '-progressive'], 18, 33],
  ['rgb-optimized', ['-rgb', '-optimize'], 21, 14],
  ['q5-16bit-tables', ['-quality', '5'], 26, 22],
];

export const haveCjpeg = spawnSync('cjpeg', ['-version']).status === 0;

/** JPEG seeds made by cjpeg (libjpeg-turbo-progs); empty when cjpeg is not installed. */
export function jpegSeeds(): Seed[] {
  if (!haveCjpeg) return [];
  const dir = mkdtempSync(join(tmpdir(), 'musiq-fuzz-'));
  try {
    return JPEG_KINDS.map(([name, args, w, h], i) => {
      const r = mulberry32(100 + i);
      const px = new Uint8Array(w * h * 3).map((_, j) => {
        const x = (j / 3) % w, y = Math.floor(j / 3 / w);
        return Math.max(0, Math.min(255, Math.round(128 + 90 * Math.sin(x / 4 + j % 3) * Math.cos(y / 5) + 40 * (r() - 0.5))));
      });
      const ppm = join(dir, `${name}.ppm`);
      writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]));
      const bytes = new Uint8Array(execFileSync('cjpeg', [...args, ppm], { stdio: ['ignore', 'pipe', 'ignore'] }));
      return { name, kind: 'jpeg' as const, bytes };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Byte ranges of a PNG's chunks (each: length, type, data, CRC), after the signature. */
function pngChunks(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let p = 8; p + 12 <= b.length; ) {
    const end = p + 12 + v.getUint32(p);
    if (end > b.length) break;
    out.push([p, end]);
    p = end;
  }
  return out;
}

/** Byte ranges of a JPEG's marker segments (a scan's entropy data stays with its SOS). */
function jpegSegments(b: Uint8Array): [number, number][] {
  const starts: number[] = [];
  for (let p = 0; p + 1 < b.length; p++) {
    const m = b[p + 1];
    if (b[p] === 0xff && m !== 0 && m !== 0xff && !(m >= 0xd0 && m <= 0xd7)) starts.push(p);
  }
  return starts.map((s, i) => [s, starts[i + 1] ?? b.length]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Recomputes every chunk's CRC, so that mutations get past the CRC check to the code behind it. */
function fixCrcs(b: Uint8Array): Uint8Array {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (const [s, e] of pngChunks(b)) v.setUint32(e - 4, crc32(b.subarray(s + 4, e - 4)));
  return b;
}

const SPECIAL32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 65535, 16384, 46341];
const SPECIAL16 = [0, 1, 2, 3, 0x7fff, 0x8000, 0xffff, 0xff00, 8, 64];

/**
 * One mutation of `seed` drawn by `r`: bit flips, byte sets, truncation, splices of chunks/
 * segments (dropped, duplicated, swapped, or taken from another seed of the same kind), forged
 * lengths and forged image sizes. PNG mutations fix the CRCs afterwards half the time.
 */
export function mutate(seed: Seed, others: Seed[], r: () => number): { bytes: Uint8Array; how: string } {
  const pick = (n: number) => Math.floor(r() * n);
  const b = seed.bytes.slice();
  const dv = new DataView(b.buffer);
  // Writes that would fall off a (truncated) file are skipped: the mutator must never throw itself.
  const v = {
    getUint16: (at: number) => (at + 2 <= b.length ? dv.getUint16(at) : 0),
    getUint32: (at: number) => (at + 4 <= b.length ? dv.getUint32(at) : 0),
    setUint16: (at: number, x: number) => at + 2 <= b.length && dv.setUint16(at, x),
    setUint32: (at: number, x: number) => at + 4 <= b.length && dv.setUint32(at, x >>> 0),
  };
  const parts = seed.kind === 'png' ? pngChunks(b) : jpegSegments(b);
  const part = (): [number, number] => parts[pick(parts.length)] ?? [0, b.length]; // none left after a truncation
  const slice = (x: Uint8Array, [s, e]: [number, number]) => x.subarray(s, e);
  const sameKind = others.filter((o) => o.kind === seed.kind);
  let out: Uint8Array = b, how: string;
  switch (pick(8)) {
    case 0: {
      const n = 1 + pick(8);
      for (let k = 0; k < n; k++) {
        const at = pick(b.length);
        b[at] ^= 1 << pick(8);
      }
      how = `flip ${n} bits`;
      break;
    }
    case 1: {
      const n = 1 + pick(4);
      for (let k = 0; k < n; k++) b[pick(b.length)] = r() < 0.5 ? [0, 0xff, 0x7f, 0x80, 1][pick(5)] : pick(256);
      how = `set ${n} bytes`;
      break;
    }
    case 2:
      out = b.subarray(0, pick(b.length));
      how = `truncate to ${out.length}`;
      break;
    case 3: {
      // Splice: drop, duplicate, swap, or insert a part from another seed.
      const [s, e] = part(), op = pick(4);
      const donor = sameKind[pick(sameKind.length)];
      const donorParts = donor.kind === 'png' ? pngChunks(donor.bytes) : jpegSegments(donor.bytes);
      const insert = op === 1 ? b.subarray(s, e) : op === 3 ? slice(donor.bytes, donorParts[pick(donorParts.length)] ?? [0, 0]) : new Uint8Array(0);
      if (op === 2) {
        const [s2, e2] = part();
        const [a, z] = s < s2 ? [[s, e], [s2, e2]] : [[s2, e2], [s, e]];
        out = a[1] <= z[0] ? concat([b.subarray(0, a[0]), b.subarray(z[0], z[1]), b.subarray(a[1], z[0]), b.subarray(a[0], a[1]), b.subarray(z[1])]) : b;
      } else out = concat([b.subarray(0, op === 1 ? e : s), insert, b.subarray(op === 3 ? s : e)]);
      how = ['drop', 'duplicate', 'swap', `insert from ${donor.name}`][op] + ` part at ${s}`;
      break;
    }
    case 4: {
      // Forged length field.
      const [s] = part();
      if (seed.kind === 'png') v.setUint32(s, r() < 0.5 ? SPECIAL32[pick(SPECIAL32.length)] : v.getUint32(s) + pick(9) - 4);
      else if (s + 4 <= b.length) v.setUint16(s + 2, r() < 0.5 ? SPECIAL16[pick(SPECIAL16.length)] : (v.getUint16(s + 2) + pick(9) - 4) & 0xffff);
      how = `forge length at ${s}`;
      break;
    }
    case 5: {
      // Forged image size (and, for JPEG, component count or sampling factors).
      if (seed.kind === 'png') {
        // Both sides at once a third of the time: only then does a size pass the pixel limit.
        for (const k of r() < 0.3 ? [0, 1] : [pick(2)]) v.setUint32(16 + 4 * k, r() < 0.6 ? SPECIAL32[pick(SPECIAL32.length)] : 1 + pick(5000));
      } else {
        const sof = parts.find(([s]) => b[s + 1] >= 0xc0 && b[s + 1] <= 0xc2);
        if (sof) {
          if (r() < 0.7) {
            for (const k of r() < 0.3 ? [0, 1] : [pick(2)]) v.setUint16(sof[0] + 5 + 2 * k, r() < 0.5 ? SPECIAL16[pick(SPECIAL16.length)] : 1 + pick(5000));
          }
          else if (sof[0] + 16 < b.length) b[sof[0] + 9 + (r() < 0.3 ? 0 : 2 + 3 * pick(3))] = pick(256);
        }
      }
      how = 'forge size';
      break;
    }
    case 6: {
      // Bytes changed inside one part's payload (Huffman/quant tables, scan headers, deflate data).
      const [s, e] = part(), n = 1 + pick(3);
      for (let k = 0; k < n && e - s > 4; k++) b[s + 4 + pick(e - s - 4)] = pick(256);
      how = `change ${n} bytes of part at ${s}`;
      break;
    }
    default: {
      // Two mutations in a row.
      const first = mutate(seed, others, r);
      const second = mutate({ ...seed, bytes: first.bytes }, others, r);
      return { bytes: second.bytes, how: `${first.how} + ${second.how}` };
    }
  }
  if (seed.kind === 'png' && r() < 0.5 && out.length >= 8) {
    out = fixCrcs(out.slice());
    how += ', CRCs fixed';
  }
  return { bytes: out, how };
}

export interface FuzzResult {
  runs: number;
  decoded: number;
  ms: number;
  slowestMs: number;
  slowest: string;
  /** Distinct error messages (numbers and the file name blanked) and how often each came. */
  errors: Map<string, number>;
}

/**
 * Decodes mutations of the seeds round-robin until `maxRuns` or `budgetMs`. Anything thrown but a
 * one-line MusiqError is rethrown with the seed, run number and mutation that caused it.
 */
export function fuzz(
  seeds: Seed[], seed: number, maxRuns: number, budgetMs: number,
  decode: (bytes: Uint8Array, name: string) => unknown, isExpected: (e: unknown) => e is Error,
): FuzzResult {
  const r = mulberry32(seed);
  const res: FuzzResult = { runs: 0, decoded: 0, ms: 0, slowestMs: 0, slowest: '', errors: new Map() };
  const t0 = performance.now();
  for (; res.runs < maxRuns && performance.now() - t0 < budgetMs; res.runs++) {
    const s = seeds[res.runs % seeds.length];
    const { bytes, how } = mutate(s, seeds, r);
    const label = `${s.name}#${res.runs} (${how})`;
    const t = performance.now();
    try {
      decode(bytes, 'fuzz.img');
      res.decoded++;
    } catch (e) {
      if (!isExpected(e)) throw new Error(`${label} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
      if (/\n/.test(e.message)) throw new Error(`${label}: MusiqError message is not one line: ${JSON.stringify(e.message)}`);
      if (!e.message.startsWith('fuzz.img: ')) throw new Error(`${label}: MusiqError does not name the file: ${e.message}`);
      const what = e.message.slice('fuzz.img: '.length).replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N');
      res.errors.set(what, (res.errors.get(what) ?? 0) + 1);
    }
    const dt = performance.now() - t;
    if (dt > res.slowestMs) (res.slowestMs = dt), (res.slowest = label);
  }
  res.ms = performance.now() - t0;
  return res;
}
