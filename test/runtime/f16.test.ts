// f32 → f16 rounding against an independent rule: the nearest of all 63,488 finite halves by
// float64 distance, ties to the even bit pattern, with IEEE's overflow threshold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { f16Bits, f16Value, toF16 } from '../../src/runtime/f16.ts';
import { mulberry32 } from '../../tools/random.ts';

test('known halves', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [65519.99, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], [2 ** -25 * 1.0001, 0x0001], [3 * 2 ** -25, 0x0002], [2 ** -14, 0x0400], [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2 ** -14 - 2 ** -25, 0x0400],
  ];
  for (const [v, bits] of cases) assert.is(f16Bits(v), bits, `${v}: got 0x${f16Bits(v).toString(16)}, want 0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(f16Value(f16Bits(NaN))));
});

test('every finite half survives f16 → number → f16', () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00) continue;
    assert.is(f16Bits(f16Value(h)), h, `0x${h.toString(16)}`);
  }
});

test('random f32 values round to the nearest half, ties to even', () => {
  const finite: number[] = [];
  for (let h = 0; h < 0x7c00; h++) finite.push(f16Value(h)); // positive, ascending
  const r = mulberry32(11);
  const values = Array.from({ length: 4000 }, (_, i) => {
    // Uniform in exponent from 2^-27 to 2^17; every 8th exactly halfway between two halves.
    const h = Math.floor(r() * 0x7bff);
    if (i % 8 === 0) return (finite[h] + finite[h + 1]) / 2;
    return Math.fround(2 ** (r() * 44 - 27) * (r() < 0.5 ? -1 : 1));
  });
  const got = toF16(values);
  values.forEach((v, i) => {
    const a = Math.abs(Math.fround(v));
    let want: number;
    if (a >= 65520) want = 0x7c00; // IEEE: overflow once past max + half an ulp (65504 + 16)
    else {
      let lo = 0, hi = finite.length - 1; // largest half <= a
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (finite[mid] <= a) lo = mid; else hi = mid - 1; }
      const up = Math.min(lo + 1, finite.length - 1);
      const dl = a - finite[lo], du = finite[up] - a;
      want = dl < du ? lo : du < dl ? up : lo % 2 === 0 ? lo : up;
    }
    if (Math.fround(v) < 0) want |= 0x8000;
    assert.is(got[i], want, `${v}: got 0x${got[i].toString(16)}, want 0x${want.toString(16)}`);
  });
});

test.run();
