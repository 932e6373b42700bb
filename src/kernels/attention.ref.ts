// float64 CPU reference for attention.wgsl: flax MultiHeadDotProductAttention on a packed
// qkv tensor [T, 3D] (q | k | v, head h at columns h·Dh.. inside each), output [T, D].

/** The padding bias as flax adds it, rounded to float32 like the original's f32 logits. */
export const MASK_BIAS = Math.fround(-1e10);

export interface AttentionRefOptions {
  heads: number;
  headDim: number;
  /** [T]: > 0 valid, 0 padding. */
  mask?: ArrayLike<number>;
}

export function attentionRef(qkv: ArrayLike<number>, T: number, o: AttentionRefOptions): Float64Array {
  const { heads: H, headDim: Dh } = o;
  const D = H * Dh;
  const out = new Float64Array(T * D);
  const sqrtDh = Math.fround(Math.sqrt(Dh)); // flax divides q by sqrt(depth) cast to f32
  const valid = (t: number) => !o.mask || o.mask[t] > 0;
  const logits = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < T; i++) {
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let d = 0; d < Dh; d++) s += (qkv[i * 3 * D + h * Dh + d] / sqrtDh) * qkv[j * 3 * D + D + h * Dh + d];
        // The bias is added, in float32: for a padded query every logit lands on −1e10 rounded
        // to the f32 grid (spacing 1024 there), which is what the GPU and the original compute.
        if (!(valid(i) && valid(j))) s = Math.fround(s + MASK_BIAS);
        logits[j] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let j = 0; j < T; j++) sum += logits[j] = Math.exp(logits[j] - max);
      for (let j = 0; j < T; j++) {
        const p = logits[j] / sum;
        for (let d = 0; d < Dh; d++) out[i * D + h * Dh + d] += p * qkv[j * 3 * D + 2 * D + h * Dh + d];
      }
    }
  }
  return out;
}
