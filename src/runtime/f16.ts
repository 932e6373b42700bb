// IEEE binary16 bit patterns for f16 tensors (Node 20 has no Math.f16round). Round to nearest,
// ties to even, as a GPU's f32→f16 conversion does; overflow gives ±inf, NaN stays NaN.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // the half's biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the 24-bit significand down, rounding what falls off.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (rem > half || (rem === half && h & 1) ? h + 1 : h);
  }
  const h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  return sign | (rem > 0x1000 || (rem === 0x1000 && h & 1) ? h + 1 : h);
}

export function f16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Every value rounded to f16, as the bits an f16 tensor uploads. */
export function toF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f16Bits(values[i]);
  return out;
}
