// PNG decoding against pngjs (an independent decoder) over every colour type, bit depth,
// interlace mode and row filter, plus the TF conversion rules to 8-bit RGB and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsMusiq } from '../throws-musiq.ts';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { zlibSync } from 'fflate';
import { decodePng } from '../../src/image/png.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { mulberry32 } from '../../tools/random.ts';
import { CHANNELS, chunk, concat, ihdr, SIGNATURE, writePng, type PngSpec } from './png-writer.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url)));

/**
 * What TF's decode_png(dtype=uint8) + our RGB rule make of pngjs's raw output (skipRescale:
 * RGBA, samples at file depth, palette already applied): 16-bit keeps the high byte
 * (png_set_strip_16), 1/2/4-bit gray scales by 255/(2^d − 1), alpha is dropped.
 */
function expectedFromPngjs(bytes: Uint8Array, depth: number, colorType: number): Uint8Array {
  const png = PNG.sync.read(Buffer.from(bytes), { skipRescale: true });
  const src = png.data as unknown as ArrayLike<number>;
  const n = png.width * png.height;
  const out = new Uint8Array(n * 3);
  const conv = (v: number) => (colorType === 3 ? v : depth === 16 ? v >> 8 : depth < 8 ? (v * 255) / ((1 << depth) - 1) : v);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = conv(src[i * 4 + c]);
  return out;
}

function randomSpec(colorType: PngSpec['colorType'], depth: PngSpec['depth'], width: number, height: number, seed: number): PngSpec {
  const r = mulberry32(seed);
  const ch = CHANNELS[colorType];
  const entries = 1 + Math.floor(r() * Math.min(256, 1 << depth));
  const max = colorType === 3 ? entries : 1 << depth;
  const samples = new Uint16Array(width * height * ch).map(() => Math.floor(r() * max));
  const spec: PngSpec = { width, height, colorType, depth, samples };
  if (colorType === 3) {
    spec.palette = new Uint8Array(entries * 3).map(() => Math.floor(r() * 256));
    spec.trns = new Uint8Array(Math.min(entries, 5)).map(() => Math.floor(r() * 256)); // ignored: alpha is dropped
  }
  return spec;
}

const VARIANTS: [PngSpec['colorType'], PngSpec['depth'][]][] = [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]];

for (const [colorType, depths] of VARIANTS) {
  for (const depth of depths) {
    test(`colour type ${colorType}, ${depth}-bit, plain and Adam7, sizes 1×1 to 33×17 equal pngjs`, () => {
      for (const [w, h] of [[1, 1], [3, 2], [13, 7], [33, 17]]) {
        for (const interlace of [false, true]) {
          const spec = { ...randomSpec(colorType, depth, w, h, w * 100 + depth + colorType), interlace, idatChunk: interlace ? 7 : undefined };
          const bytes = writePng(spec);
          const got = decodePng(bytes, 'v.png');
          assert.is(got.width, w);
          assert.is(got.height, h);
          assert.equal(got.data, expectedFromPngjs(bytes, depth, colorType), `${w}×${h} interlace=${interlace}`);
        }
      }
    });
  }
}

test('16-bit samples keep the high byte (png_set_strip_16), not a rounded rescale', () => {
  // 0x80FF rounds to 0x81 under png_set_scale_16 / pngjs's rescale, strips to 0x80.
  const bytes = writePng({ width: 2, height: 1, colorType: 0, depth: 16, samples: new Uint16Array([0x80ff, 0x00ff]) });
  assert.equal([...decodePng(bytes).data], [0x80, 0x80, 0x80, 0, 0, 0]);
});

test('PNGs written by pngjs (its own encoder and zlib) decode to the same pixels', () => {
  const r = mulberry32(5);
  for (const [colorType, bitDepth] of [[0, 8], [2, 8], [4, 8], [6, 8], [2, 16], [6, 16], [0, 16]] as const) {
    const png = new PNG({ width: 19, height: 11, colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
    if (bitDepth === 16) {
      const d16 = new Uint16Array(19 * 11 * 4).map(() => Math.floor(r() * 65536));
      png.data = Buffer.from(d16.buffer);
    } else png.data = Buffer.from(new Uint8Array(19 * 11 * 4).map(() => Math.floor(r() * 256)));
    const bytes = new Uint8Array(PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6 }));
    assert.equal(decodePng(bytes).data, expectedFromPngjs(bytes, bitDepth, colorType), `type ${colorType} depth ${bitDepth}`);
  }
});

test('fixture PNGs (RGB and gray) equal pngjs', () => {
  for (const name of ['grad_512x384.png', 'gray_300x200.png', 'tiny_31x47.png']) {
    const bytes = fixture(name);
    const png = PNG.sync.read(Buffer.from(bytes));
    const got = decodePng(bytes, name);
    const want = new Uint8Array(png.width * png.height * 3).map((_, i) => png.data[Math.floor(i / 3) * 4 + (i % 3)]);
    assert.equal(got.data, want, name);
  }
});


const good = () => writePng(randomSpec(2, 8, 20, 10, 1));

test('truncated files are refused', () => {
  const b = good();
  for (const cut of [9, 20, 33, 40, b.length - 30, b.length - 12, b.length - 1]) throwsMusiq(() => decodePng(b.subarray(0, cut), 'cut.png'), /cut\.png: corrupt PNG: .*truncated/);
});

test('CRC errors, bad headers, missing IDAT, bad filters and palette indices are refused', () => {
  const b = good();
  const flipped = b.slice();
  flipped[45] ^= 1; // inside the IDAT payload
  throwsMusiq(() => decodePng(flipped, 'crc.png'), /crc\.png: corrupt PNG: CRC mismatch in chunk "IDAT"/);
  // Found by the fuzzer: a chunk type holding a newline is quoted, so the message stays one line.
  const newline = b.slice();
  newline[b.length - 8] = 0x0a; // IEND → "\nEND"
  throwsMusiq(() => decodePng(newline, 'nl.png'), /^nl\.png: corrupt PNG: CRC mismatch in chunk "\\nEND"$/);
  const iend = chunk('IEND', new Uint8Array(0));
  throwsMusiq(() => decodePng(concat([SIGNATURE, ihdr(4, 4, 8, 2), iend])), /no IDAT/);
  throwsMusiq(() => decodePng(concat([SIGNATURE, ihdr(0, 4, 8, 2), iend])), /zero size/);
  throwsMusiq(() => decodePng(concat([SIGNATURE, ihdr(4, 4, 3, 2), iend])), /bit depth 3 is not allowed for RGB/);
  throwsMusiq(() => decodePng(concat([SIGNATURE, ihdr(4, 4, 8, 5), iend])), /unknown colour type 5/);
  throwsMusiq(() => decodePng(concat([SIGNATURE, chunk('IDAT', new Uint8Array(4)), iend])), /first chunk is "IDAT", not IHDR/);
  // A filter byte of 7 on the only row.
  const badFilter = concat([SIGNATURE, ihdr(1, 1, 8, 0), chunk('IDAT', zlibSync(new Uint8Array([7, 0]))), iend]);
  throwsMusiq(() => decodePng(badFilter), /unknown row filter type 7/);
  const pal = randomSpec(3, 8, 4, 4, 3);
  pal.samples[5] = pal.palette!.length / 3; // one past the last entry
  throwsMusiq(() => decodePng(writePng(pal)), /palette index \d+ but the palette has \d+ entries/);
  throwsMusiq(() => decodePng(concat([SIGNATURE, ihdr(4, 4, 8, 3), chunk('IDAT', new Uint8Array(4)), iend])), /palette image without a PLTE/);
});

test('absurd dimensions are refused before allocating', () => {
  const huge = concat([SIGNATURE, ihdr(100000, 100000, 8, 2), chunk('IDAT', new Uint8Array(10)), chunk('IEND', new Uint8Array(0))]);
  throwsMusiq(() => decodePng(huge, 'huge.png'), /huge\.png: image is 100000×100000 .*limit/);
  // Within the pixel limit but far more pixels than the compressed data could ever hold.
  const forged = concat([SIGNATURE, ihdr(15000, 15000, 8, 2), chunk('IDAT', new Uint8Array(10)), chunk('IEND', new Uint8Array(0))]);
  throwsMusiq(() => decodePng(forged, 'forged.png'), /forged\.png: corrupt PNG: .*truncated/);
});

test('corrupt compressed data never escapes as anything but a MusiqError', () => {
  const r = mulberry32(9);
  const spec = randomSpec(6, 8, 16, 16, 2);
  const base = writePng(spec);
  // Rebuild the file with a damaged IDAT payload but valid CRCs, so the inflater and unfilter see it.
  const z = base.subarray(33 + 8, base.length - 12 - 4);
  for (let i = 0; i < 200; i++) {
    const bad = z.slice();
    for (let k = 0; k < 3; k++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
    const bytes = concat([SIGNATURE, ihdr(16, 16, 8, 6), chunk('IDAT', bad), chunk('IEND', new Uint8Array(0))]);
    try {
      const img = decodePng(bytes);
      assert.is(img.data.length, 16 * 16 * 3);
    } catch (e) {
      assert.instance(e, MusiqError);
    }
  }
});

test.run();
