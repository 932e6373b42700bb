// Preprocessing against the shared fixtures (geometry of every image, the packed model input of
// grad_512x384.png) and a float64 reference of the Gaussian resize, plus the float32 traps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { decodeImage } from '../../src/image/decode.ts';
import type { RgbImage } from '../../src/image/rgb-image.ts';
import {
  gaussianResize, gaussianSpans, hashIndex, packOriginal, preprocess, resizedSize, roundHalfEven, PACKED_WIDTH, PATCH_VALUES,
} from '../../src/musiq/preprocess.ts';
import { openNpz } from '../../src/npz/npz.ts';
import { bytesSource } from '../../src/npz/source.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { maxAbsDiff, mulberry32 } from '../../tools/random.ts';

const file = (path: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${path}`, import.meta.url)));

interface Expected {
  results: { image: string; width: number; height: number; valid_tokens_with_cls: number; scales: { scale_id: number; resized_hw: number[]; grid_hw: number[]; num_patches: number }[] }[];
}

for (const json of ['tiny_koniq_s0.json', 'tiny_ava_s0.json']) {
  test(`per-scale sizes, grids and token counts equal expected/${json}`, () => {
    const expected = JSON.parse(new TextDecoder().decode(file(`expected/${json}`))) as Expected;
    assert.ok(expected.results.length >= 7);
    for (const r of expected.results) {
      const img = decodeImage(file(r.image), r.image);
      assert.is(img.width, r.width, r.image);
      assert.is(img.height, r.height, r.image);
      const input = preprocess(img);
      const got = input.scales.map((s) => ({ scale_id: s.scaleId, resized_hw: [s.height, s.width], grid_hw: [s.gridH, s.gridW], num_patches: s.count }));
      const want = r.scales.map(({ scale_id, resized_hw, grid_hw, num_patches }) => ({ scale_id, resized_hw, grid_hw, num_patches }));
      assert.equal(got, want, r.image);
      assert.is(input.tokens + 1, r.valid_tokens_with_cls, r.image);
    }
  });
}

test('packed input of grad_512x384.png equals the fixture input_packed_hwc (385 × 3075)', async () => {
  const npz = await openNpz(bytesSource('intermediates', file('intermediates/tiny_koniq_s0__grad_512x384_png.npz')));
  const want = await npz.readF32('input_packed_hwc');
  const rgb = await npz.readF32('image_rgb_u8');
  const img = decodeImage(file('images/grad_512x384.png'));
  assert.is(maxAbsDiff(img.data, rgb), 0, 'decoded bytes equal image_rgb_u8');
  const packed = packOriginal(preprocess(img));
  assert.is(packed.rows, 385);
  // Both sides emulate TF's float32 arithmetic step by step; 1e-6 leaves room only for a libm
  // exp() that rounds differently in a last place (values are in [-1, 1]).
  assert.ok(maxAbsDiff(packed.data, want) <= 1e-6, `max diff ${maxAbsDiff(packed.data, want)}`);
});

test('round half to even, on float32 sizes', () => {
  assert.equal([0.5, 1.5, 2.5, 160.5, 161.5, 3.2, 3.7].map(roundHalfEven), [0, 2, 2, 160, 162, 3, 4]);
  // 321 · 224/448 = 160.5 exactly: half-to-even gives 160, Math.round 161.
  assert.equal(resizedSize(321, 448, 224), [160, 224]);
  assert.is(Math.round(321 * 0.5), 161);
  // 54 · 224/384 = 31.5 in exact arithmetic, but float32 224/384 is a little low: TF gets 31, not 32.
  assert.equal(resizedSize(54, 384, 224), [31, 224]);
});

test('hashed spatial index: TF1 legacy nearest with float32 scale', () => {
  const row = (count: number) => [...Array(count).keys()].map((i) => hashIndex(i, count));
  assert.equal(row(7), [0, 1, 2, 4, 5, 7, 8]);
  assert.equal(row(12), [0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9]);
  assert.equal(row(10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(row(1), [0]);
  // First count where float32 differs from exact floor(i·10/count): 41 · f32(10/205) < 2.
  assert.is(hashIndex(41, 205), 1);
  assert.is(Math.floor((41 * 10) / 205), 2);
});

test('Gaussian weights: same-size blur [0.1065, 0.7870, 0.1065], border [0.8808, 0.1192]', () => {
  const s = gaussianSpans(7, 7);
  const e = Math.exp(-2);
  // float32 weights of float64 formulas: within a float32 ulp or two.
  const near = (a: ArrayLike<number>, b: number[]) => b.every((v, i) => Math.abs(a[i] - v) < 2e-7);
  assert.ok(near(s.weights.subarray(3 * 3, 3 * 3 + 3), [e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e)]));
  assert.is(s.starts[3], 2);
  assert.ok(near(s.weights.subarray(0, 2), [1 / (1 + e), e / (1 + e)]));
  assert.is(s.counts[0], 2);
  assert.is(s.counts[6], 2);
});

/** Float64 reference of TF's Gaussian ScaleAndTranslate: exp(−2d²) over in-image taps with |d| < 1.5, renormalised, as one 2-D weighted sum. */
function resizeRef(img: RgbImage, outH: number, outW: number): Float64Array {
  const weights = (inSize: number, outSize: number) =>
    [...Array(outSize).keys()].map((o) => {
      // The sample position is part of TF's definition: float32 scale, inverse and product.
      const f = Math.fround;
      const center = f(f(o + 0.5) * f(1 / f(outSize / inSize)));
      const taps: [number, number][] = [];
      for (let s = 0; s < inSize; s++) {
        const d = Math.abs(s + 0.5 - center);
        if (d < 1.5) taps.push([s, Math.exp(-2 * d * d)]);
      }
      const total = taps.reduce((a, [, w]) => a + w, 0);
      return taps.map(([s, w]) => [s, w / total] as [number, number]);
    });
  const rows = weights(img.height, outH), cols = weights(img.width, outW);
  const px = (y: number, x: number, c: number) => -1 + (img.data[(y * img.width + x) * 3 + c] / 255) * 2;
  const out = new Float64Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [sy, wy] of rows[y]) for (const [sx, wx] of cols[x]) v += wy * wx * px(sy, sx, c);
        out[(y * outW + x) * 3 + c] = v;
      }
    }
  }
  return out;
}

function randomImage(w: number, h: number, seed: number): RgbImage {
  const r = mulberry32(seed);
  return { width: w, height: h, data: new Uint8Array(w * h * 3).map(() => Math.floor(r() * 256)) };
}

test('Gaussian resize equals a float64 reference (down, up, same size, 1 pixel, primes)', () => {
  for (const [w, h, ow, oh] of [[37, 23, 11, 7], [5, 3, 17, 13], [13, 13, 13, 13], [1, 1, 4, 3], [97, 61, 29, 31], [2, 41, 1, 5]]) {
    const img = randomImage(w, h, w * h);
    // float32 weights (relative error ~1e-7) and ~6 float32 roundings of values ≤ 1: ≤ ~1e-6.
    const diff = maxAbsDiff(gaussianResize(img, oh, ow), resizeRef(img, oh, ow));
    assert.ok(diff < 1e-6, `${w}×${h} → ${ow}×${oh}: ${diff}`)
  }
});

test('patch cutting: SAME padding smaller half first, (y, x, c) order, token order, ids', () => {
  // 40 × 33 native: grid 2 × 2, pad 24 columns (12 left) and 31 rows (15 top).
  const img = randomImage(40, 33, 4);
  const input = preprocess(img, [64, 96]);
  const native = input.scales[2];
  assert.equal([native.gridH, native.gridW, native.count], [2, 2, 4]);
  const first = input.scales[0].count + input.scales[1].count;
  assert.equal([...input.scaleIds], [...Array(input.tokens)].map((_, t) => (t < input.scales[0].count ? 0 : t < first ? 1 : 2)));
  assert.equal([...input.spatial.subarray(first)], [0, 5, 50, 55]); // hash of a 2×2 grid: 0 and 5
  const norm = (u: number) => Math.fround(-1 + Math.fround(u / 255) * 2);
  const value = (token: number, y: number, x: number, c: number) => input.patches[token * PATCH_VALUES + (y * 32 + x) * 3 + c];
  for (const [py, px] of [[0, 0], [14, 31], [15, 11], [15, 12], [31, 31]]) {
    for (let c = 0; c < 3; c++) {
      const inside = py >= 15 && px >= 12;
      const want = inside ? norm(img.data[((py - 15) * 40 + (px - 12)) * 3 + c]) : 0;
      assert.is(value(first, py, px, c), want, `token ${first} y=${py} x=${px} c=${c}`);
    }
  }
  // Bottom-right patch: image row 32 is its patch row 15; column 39 is its patch column 19.
  assert.is(value(first + 3, 15, 19, 2), norm(img.data[(32 * 40 + 39) * 3 + 2]));
  assert.is(value(first + 3, 16, 19, 2), 0);
  assert.is(value(first + 3, 15, 20, 2), 0);
});

test('packOriginal: scales padded to ceil(L/32)² zero rows with mask 0, native unpadded', () => {
  const input = preprocess(randomImage(70, 50, 6));
  const { rows, data } = packOriginal(input);
  const native = input.scales[2];
  assert.is(rows, 49 + 144 + native.count);
  const row = (r: number) => data.subarray(r * PACKED_WIDTH, (r + 1) * PACKED_WIDTH);
  const c0 = input.scales[0].count;
  assert.equal([...row(0).subarray(PATCH_VALUES)], [input.spatial[0], 0, 1]);
  assert.ok(row(c0).every((v) => v === 0), 'first padding row of scale 0 is all zero');
  assert.is(row(48)[PATCH_VALUES + 2], 0);
  assert.equal([...row(49).subarray(PATCH_VALUES)], [input.spatial[c0], 1, 1]);
  assert.equal([...row(rows - 1).subarray(PATCH_VALUES)], [input.spatial[input.tokens - 1], 2, 1]);
  assert.equal(row(rows - 1).subarray(0, PATCH_VALUES), input.patches.subarray((input.tokens - 1) * PATCH_VALUES));
});

test('1×1 image gives valid finite tokens: every resized scale is that one pixel', () => {
  const input = preprocess({ width: 1, height: 1, data: new Uint8Array([255, 0, 51]) });
  assert.equal(input.scales.map((s) => s.count), [49, 144, 1]);
  assert.ok(input.patches.every(Number.isFinite));
  const v = [1, -1, Math.fround(-1 + Math.fround(51 / 255) * 2)];
  assert.equal([...input.patches.subarray(0, 6)], [...v, ...v]);
  assert.equal([...input.patches.subarray((input.tokens - 1) * PATCH_VALUES + (15 * 32 + 15) * 3).subarray(0, 4)], [...v, 0]);
});

test('bad images and impossible scales are refused with MusiqError', () => {
  const refuses = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: Error) => e instanceof MusiqError && pattern.test(e.message));
  refuses(() => preprocess({ width: 1000, height: 1, data: new Uint8Array(3000) }), /too elongated/);
  refuses(() => preprocess({ width: 2, height: 2, data: new Uint8Array(5) }), /needs 12 bytes, got 5/);
  refuses(() => preprocess({ width: 0, height: 2, data: new Uint8Array(0) }), /not a positive integer size/);
  refuses(() => preprocess(randomImage(3, 3, 1), [0]), /longer side 0/);
  refuses(() => packOriginal(preprocess(randomImage(3, 3, 1)), [224]), /3 scales, 2 expected/);
});

test.run();
