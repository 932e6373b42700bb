// JPEG decoding must give exactly the pixels of libjpeg-turbo's `djpeg -dct fast` (TF's
// decode_jpeg defaults: IFAST IDCT, fancy upsampling). cjpeg makes JPEGs of every sampling mode,
// progressive, restarts, grayscale, RGB and 16-bit quantisation tables; djpeg is the oracle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throwsMusiq } from '../throws-musiq.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJpeg } from '../../src/image/jpeg.ts';
import { decodeImage } from '../../src/image/decode.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { mulberry32 } from '../../tools/random.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url)));
const haveTools = ['cjpeg', 'djpeg'].every((t) => spawnSync(t, ['-version']).status === 0);

/** RGB pixels of a binary PPM (P6) or PGM (P5, replicated to RGB, as our decoder does for gray). */
function readPnm(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const fields: number[] = [];
  let p = 2;
  while (fields.length < 3) {
    while (buf[p] === 0x20 || buf[p] === 0x0a || buf[p] === 0x0d || buf[p] === 0x09) p++;
    let v = 0;
    while (buf[p] >= 0x30 && buf[p] <= 0x39) v = v * 10 + buf[p++] - 0x30;
    fields.push(v);
  }
  const [width, height] = fields;
  const px = buf.subarray(p + 1);
  if (buf[1] === 0x36) return { width, height, data: px.slice(0, width * height * 3) };
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = px[i];
  return { width, height, data };
}

function djpegFast(file: string): { width: number; height: number; data: Uint8Array } {
  return readPnm(new Uint8Array(execFileSync('djpeg', ['-dct', 'fast', '-pnm', file], { maxBuffer: 1 << 28 })));
}

/** Mismatch summary, or '' when identical. */
function compare(got: { width: number; height: number; data: Uint8Array }, want: { width: number; height: number; data: Uint8Array }): string {
  if (got.width !== want.width || got.height !== want.height) return `size ${got.width}×${got.height} vs ${want.width}×${want.height}`;
  let n = 0, max = 0, first = -1;
  for (let i = 0; i < want.data.length; i++) {
    const d = Math.abs(got.data[i] - want.data[i]);
    if (d) (n++, first < 0 && (first = i));
    max = Math.max(max, d);
  }
  if (!n) return '';
  const px = Math.floor(first / 3);
  return `${n} values differ (max ${max}), first at x=${px % want.width} y=${Math.floor(px / want.width)}`;
}

// Sources: noise (worst case for the IDCT), smooth colour gradients (where upsampling shows), and
// sizes that are 1, prime, below one block and not multiples of any MCU size.
function writePpm(path: string, w: number, h: number, seed: number, smooth: boolean): void {
  const r = mulberry32(seed);
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = smooth ? 128 + 110 * Math.sin(x / 5 + 2 * c) * Math.cos(y / 4 - c) + 12 * r() : r() * 256;
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  writeFileSync(path, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]));
}

const SIZES = [[1, 1], [2, 3], [17, 9], [33, 31], [61, 1], [1, 40], [70, 53]];
const MODES: [string, string[]][] = [
  ['4:4:4', ['-sample', '1x1']],
  ['4:2:2', ['-sample', '2x1']],
  ['4:2:0', ['-sample', '2x2']],
  ['4:4:0', ['-sample', '1x2']],
  ['4:1:1', ['-sample', '4x1']],
  ['3×1 (box upsampling)', ['-sample', '3x1']],
  ['4:2:0 quality 100', ['-sample', '2x2', '-quality', '100']],
  ['progressive 4:2:0', ['-progressive']],
  ['progressive 4:4:4 quality 100', ['-progressive', '-sample', '1x1', '-quality', '100']],
  ['restart every MCU', ['-restart', '1']],
  ['progressive with restarts', ['-progressive', '-restart', '2B']],
  ['grayscale', ['-grayscale']],
  ['grayscale progressive', ['-grayscale', '-progressive']],
  ['RGB (Adobe, no colour transform)', ['-rgb']],
  ['quality 5 (16-bit quantisation tables, SOF1)', ['-quality', '5']],
  ['optimized Huffman tables', ['-optimize', '-quality', '60']],
];

if (!haveTools) {
  test('JPEG vs djpeg: SKIPPED, cjpeg/djpeg not found (install libjpeg-turbo-progs)', () => {
    console.log('\n  skipping the djpeg comparisons: cjpeg/djpeg (libjpeg-turbo-progs) are not installed');
  });
} else {
  const dir = mkdtempSync(join(tmpdir(), 'musiq-jpeg-'));
  const sources: string[] = [];
  SIZES.forEach(([w, h], i) => {
    for (const smooth of [false, true]) {
      const path = join(dir, `${smooth ? 'smooth' : 'noise'}_${w}x${h}.ppm`);
      writePpm(path, w, h, i, smooth);
      sources.push(path);
    }
  });

  for (const [label, args] of MODES) {
    test(`${label}: identical to djpeg -dct fast`, () => {
      for (const src of sources) {
        const jpg = `${src}.${args.join('')}.jpg`;
        writeFileSync(jpg, execFileSync('cjpeg', [...args, src], { stdio: ['ignore', 'pipe', 'ignore'] }));
        const diff = compare(decodeJpeg(new Uint8Array(readFileSync(jpg)), jpg), djpegFast(jpg));
        assert.is(diff, '', `${src} ${args.join(' ')}: ${diff}`);
      }
    });
  }

  test('coefficients large enough to overflow 16 bits wrap like the SSE2 IDCT', () => {
    // Quality-100 noise with every quantisation entry forced to 255: dequantised values overflow
    // int16, where libjpeg-turbo's SIMD and C IDCTs disagree; x86-64 djpeg runs the SIMD one.
    const src = sources[sources.length - 2]; // 70×53 noise
    const jpg = new Uint8Array(execFileSync('cjpeg', ['-quality', '100', '-sample', '1x1', src]));
    for (let p = 2; jpg[p + 1] !== 0xda; p += 2 + ((jpg[p + 2] << 8) | jpg[p + 3])) {
      if (jpg[p + 1] !== 0xdb) continue;
      const end = p + 2 + ((jpg[p + 2] << 8) | jpg[p + 3]);
      for (let q = p + 4; q < end; q += 65) jpg.fill(255, q + 1, q + 65);
    }
    const path = join(dir, 'overflow.jpg');
    writeFileSync(path, jpg);
    assert.is(compare(decodeJpeg(jpg, path), djpegFast(path)), '');
  });

  test('fixture grad_512x384.jpg and a 512×384 photo: identical to djpeg -dct fast', () => {
    const photo = join(dir, 'I03.jpg');
    const png = decodeImage(new Uint8Array(readFileSync(new URL('../fixtures/images/round_448x321.png', import.meta.url))));
    writeFileSync(join(dir, 'photo.ppm'), Buffer.concat([Buffer.from(`P6\n${png.width} ${png.height}\n255\n`), png.data]));
    writeFileSync(photo, execFileSync('cjpeg', ['-quality', '90', join(dir, 'photo.ppm')]));
    for (const file of [new URL('../fixtures/images/grad_512x384.jpg', import.meta.url).pathname, photo]) {
      assert.is(compare(decodeJpeg(new Uint8Array(readFileSync(file)), file), djpegFast(file)), '', file);
    }
  });

  test('arithmetic-coded JPEG is refused clearly', () => {
    const jpg = new Uint8Array(execFileSync('cjpeg', ['-arithmetic', sources[0]]));
    assert.throws(() => decodeJpeg(jpg, 'arith.jpg'), (e: Error) => e instanceof MusiqError && /arith\.jpg: unsupported JPEG \(arithmetic-coded/.test(e.message));
  });

  test('progressive file that never refines low AC bits (libjpeg would block-smooth) is refused clearly', () => {
    const script = join(dir, 'scans.txt');
    writeFileSync(script, '0,1,2: 0 0 0 0;\n0: 1 63 0 1;\n1: 1 63 0 0;\n2: 1 63 0 0;\n');
    const jpg = new Uint8Array(execFileSync('cjpeg', ['-scans', script, sources[1]]));
    assert.throws(() => decodeJpeg(jpg, 'partial.jpg'), (e: Error) => e instanceof MusiqError && /partial\.jpg: unsupported JPEG \(progressive file whose coefficient 1/.test(e.message));
  });

  test.after(() => rmSync(dir, { recursive: true, force: true }));
}

test('fixture grad_512x384.jpg decodes to the pixels djpeg -dct fast gives (sha256, no tools needed)', async () => {
  const img = decodeJpeg(fixture('grad_512x384.jpg'));
  // sha256 of `djpeg -dct fast -ppm` pixel bytes, libjpeg-turbo 2.1.5. The accurate (ISLOW) IDCT
  // would give a9d10bad…: a different image.
  assert.is(createHash('sha256').update(img.data).digest('hex'), 'c7c94a788da30132ee6487ac8038cf9ede50fdc035f355efc204878b93c16065');
});


/** SOI + SOF0 with the given precision and component count + EOI. */
function header(precision: number, components: number, w = 8, h = 8): Uint8Array {
  const sof = [0xff, 0xc0, 0, 8 + 3 * components, precision, h >> 8, h & 255, w >> 8, w & 255, components];
  for (let i = 0; i < components; i++) sof.push(i + 1, 0x11, 0);
  return new Uint8Array([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}

test('CMYK, 12-bit, absurd sizes and files without image data are refused clearly', () => {
  throwsMusiq(() => decodeJpeg(header(8, 4), 'cmyk.jpg'), /cmyk\.jpg: unsupported JPEG \(4 components: CMYK\/YCCK\)/);
  throwsMusiq(() => decodeJpeg(header(12, 3), 'deep.jpg'), /unsupported JPEG \(12-bit samples\)/);
  throwsMusiq(() => decodeJpeg(header(8, 3, 65000, 65000), 'big.jpg'), /big\.jpg: image is 65000×65000/);
  throwsMusiq(() => decodeJpeg(header(8, 3, 0, 8), 'zero.jpg'), /zero size/);
  throwsMusiq(() => decodeJpeg(header(8, 3, 16000, 16000), 'forged.jpg'), /forged\.jpg: corrupt JPEG: .*truncated/);
  throwsMusiq(() => decodeJpeg(header(8, 3), 'empty.jpg'), /empty\.jpg: corrupt JPEG: .*truncated/);
  throwsMusiq(() => decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), 'nosof.jpg'), /no frame header/);
});

test('truncated JPEGs are refused, not padded with grey', () => {
  for (const name of ['grad_512x384.jpg']) {
    const b = fixture(name);
    for (const cut of [3, 100, 700, Math.floor(b.length / 2), b.length - 40]) {
      throwsMusiq(() => decodeJpeg(b.subarray(0, cut), 'cut.jpg'), /cut\.jpg: corrupt JPEG: .*truncated/);
    }
    // Only the EOI marker missing: every scan is complete, so the image is whole.
    assert.equal(decodeJpeg(b.subarray(0, b.length - 2)).data, decodeJpeg(b).data);
  }
});

test('damaged JPEG data gives an image or a MusiqError, never a crash or hang', () => {
  const r = mulberry32(3);
  const base = fixture('grad_512x384.jpg');
  for (let i = 0; i < 60; i++) {
    const bad = base.slice();
    for (let k = 0; k < 4; k++) bad[2 + Math.floor(r() * (bad.length - 2))] = Math.floor(r() * 256);
    try {
      const img = decodeJpeg(bad);
      assert.is(img.data.length, img.width * img.height * 3);
    } catch (e) {
      assert.instance(e, MusiqError);
    }
  }
});

test.run();
