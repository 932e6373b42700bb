// libjpeg-turbo's fast integer IDCT (JDCT_IFAST, the AA&N algorithm), which TF's decode_jpeg
// uses by default (spec §2.1). Facts from libjpeg-turbo's jddctmgr.c (dequantisation multipliers)
// and jidctfst.c (CONST_BITS 8, PASS1_BITS 2, no rounding in the descales). x86-64 builds run
// its SSE2 version (simd/x86_64/jidctfst-sse2.asm), which works on 16-bit lanes: every sum wraps
// to int16, MULTIPLY(x, c) is pmulhw(x << 2, c << 6), and the output saturates to [0, 255] —
// identical to the C version for every ordinary file, and what we emulate where they differ
// (coefficients large enough to overflow 16 bits).

/** AA&N scale factors cos(kπ/16)·√2 for row × column, scaled by 2^14 (jddctmgr.c). */
const AANSCALES = new Int32Array([
  16384, 22725, 21407, 19266, 16384, 12873, 8867, 4520,
  22725, 31521, 29692, 26722, 22725, 17855, 12299, 6270,
  21407, 29692, 27969, 25172, 21407, 16819, 11585, 5906,
  19266, 26722, 25172, 22654, 19266, 15137, 10426, 5315,
  16384, 22725, 21407, 19266, 16384, 12873, 8867, 4520,
  12873, 17855, 16819, 15137, 12873, 10114, 6967, 3552,
  8867, 12299, 11585, 10426, 8867, 6967, 4799, 2446,
  4520, 6270, 5906, 5315, 4520, 3552, 2446, 1247,
]);

/**
 * Dequantisation multipliers for a quantisation table in natural order:
 * DESCALE(q · aanscale, 14 − IFAST_SCALE_BITS(2)), rounded, stored as int16 (IFAST_MULT_TYPE).
 */
export function ifastMultipliers(quant: Uint16Array): Int16Array {
  const m = new Int16Array(64);
  for (let i = 0; i < 64; i++) m[i] = Math.floor((quant[i] * AANSCALES[i] + (1 << 11)) / 4096);
  return m;
}

// pmulhw constants: FIX(c) with CONST_BITS 8, shifted left by 16 − 2 − 8 = 6.
const F1414 = 362 << 6; // 1.414213562
const F1847 = 473 << 6; // 1.847759065
const F1082 = 277 << 6; // 1.082392200
const MF1613 = -(669 - 256) << 6; // −(2.613125930 − 1): the SIMD code splits 2.613 to stay in 16 bits

/** int16 wraparound (paddw/psubw/psllw/pmullw). */
const w = (x: number): number => (x << 16) >> 16;
/** pmulhw of (x << 2) by a constant: the high half of the 32-bit product. */
const mul = (x: number, c: number): number => (w(x << 2) * c) >> 16;

const WS = new Int32Array(64); // pass-1 output
const ROW = new Int32Array(8); // pass-2 output of one row

/**
 * One 8×8 block: dequantise `coefs[off..off+64)` with `mult`, inverse-transform, and write
 * samples to `out` at `outOff` with row stride `stride`.
 */
export function idctIfast(coefs: Int16Array, off: number, mult: Int16Array, out: Uint8Array, outOff: number, stride: number): void {
  const ws = WS;
  // Shortcuts below give exactly what the full butterflies give for zero inputs (all-zero
  // terms stay zero through every sum and pmulhw); they only save time on flat blocks.
  let ac = 0;
  for (let k = 1; k < 64 && ac === 0; k++) ac = coefs[off + k];
  if (ac === 0) {
    const s = w(coefs[off] * mult[0]) >> 5;
    const v = s < -128 ? 0 : s > 127 ? 255 : s + 128;
    for (let r = 0, o = outOff; r < 8; r++, o += stride) for (let k = 0; k < 8; k++) out[o + k] = v;
    return;
  }
  // Pass 1: columns, into ws (transposed access is the same arithmetic as the SIMD lanes).
  for (let c = 0; c < 8; c++) {
    const i = off + c;
    const in0 = w(coefs[i] * mult[c]), in1 = w(coefs[i + 8] * mult[c + 8]);
    const in2 = w(coefs[i + 16] * mult[c + 16]), in3 = w(coefs[i + 24] * mult[c + 24]);
    const in4 = w(coefs[i + 32] * mult[c + 32]), in5 = w(coefs[i + 40] * mult[c + 40]);
    const in6 = w(coefs[i + 48] * mult[c + 48]), in7 = w(coefs[i + 56] * mult[c + 56]);
    if ((in1 | in2 | in3 | in4 | in5 | in6 | in7) === 0) {
      for (let k = 0; k < 64; k += 8) ws[c + k] = in0;
      continue;
    }
    butterfly(in0, in1, in2, in3, in4, in5, in6, in7, ws, c, 8);
  }
  // Pass 2: rows of ws, descaled by PASS1_BITS + 3 and saturated (packsswb, then +128).
  const tmp = ROW;
  for (let r = 0; r < 64; r += 8) {
    let o = outOff + (r >> 3) * stride;
    if ((ws[r + 1] | ws[r + 2] | ws[r + 3] | ws[r + 4] | ws[r + 5] | ws[r + 6] | ws[r + 7]) === 0) {
      const s = ws[r] >> 5, v = s < -128 ? 0 : s > 127 ? 255 : s + 128;
      for (let k = 0; k < 8; k++) out[o + k] = v;
      continue;
    }
    butterfly(ws[r], ws[r + 1], ws[r + 2], ws[r + 3], ws[r + 4], ws[r + 5], ws[r + 6], ws[r + 7], tmp, 0, 1);
    for (let k = 0; k < 8; k++, o++) {
      const s = tmp[k] >> 5;
      out[o] = s < -128 ? 0 : s > 127 ? 255 : s + 128;
    }
  }
}

/** The AA&N 8-point butterfly in 16-bit SIMD arithmetic; writes outputs 0..7 at dst[at + k·step]. */
function butterfly(
  in0: number, in1: number, in2: number, in3: number, in4: number, in5: number, in6: number, in7: number,
  dst: Int32Array, at: number, step: number,
): void {
  // Even part
  const tmp10 = w(in0 + in4), tmp11 = w(in0 - in4);
  const tmp13 = w(in2 + in6);
  const tmp12 = w(mul(in2 - in6, F1414) - tmp13);
  const tmp0 = w(tmp10 + tmp13), tmp3 = w(tmp10 - tmp13);
  const tmp1 = w(tmp11 + tmp12), tmp2 = w(tmp11 - tmp12);
  // Odd part
  const z13 = w(in5 + in3), z10 = w(in5 - in3);
  const z11 = w(in1 + in7), z12 = w(in1 - in7);
  const tmp7 = w(z11 + z13);
  const t11 = mul(z11 - z13, F1414);
  const z10s = w(z10 << 2), z12s = w(z12 << 2);
  const z5 = (w(z10s + z12s) * F1847) >> 16;
  const t12 = w(w(((z10s * MF1613) >> 16) - z10) + z5);
  const t10 = w(((z12s * F1082) >> 16) - z5);
  const tmp6 = w(t12 - tmp7);
  const tmp5 = w(t11 - tmp6);
  const tmp4 = w(t10 + tmp5);
  dst[at] = w(tmp0 + tmp7);
  dst[at + 7 * step] = w(tmp0 - tmp7);
  dst[at + step] = w(tmp1 + tmp6);
  dst[at + 6 * step] = w(tmp1 - tmp6);
  dst[at + 2 * step] = w(tmp2 + tmp5);
  dst[at + 5 * step] = w(tmp2 - tmp5);
  dst[at + 4 * step] = w(tmp3 + tmp4);
  dst[at + 3 * step] = w(tmp3 - tmp4);
}
