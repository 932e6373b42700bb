// What every attention kernel shares: its uniforms and bindings (attention.ts fills them the same
// way for all of them), flax's masking constants, and whether token t is valid under the mask
// encoding p.maskKind (0 no mask, 1 u32 mask, 2 f32 mask bits; both: > 0 is valid).
const NEG: f32 = -3.0e38; // "minus infinity" that stays finite so exp(NEG − m) is 0, never NaN
const BIAS: f32 = -1e10;  // added to the logit of a padded query or key, as flax does

struct Params {
  T: u32,
  H: u32,
  maskKind: u32,
  sqrtDh: f32, // flax divides q by sqrt(depth) in f32
  Q: u32,      // queries computed: rows 0..Q-1 (Q <= T); keys are always all T rows
  C: u32,      // vec4 columns per head (head dim / 4), read by the kernels without a DH override
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<vec4f>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;

fn isValid(t: u32) -> bool {
  if (p.maskKind == 0u) { return true; }
  let m = mask[t];
  if (p.maskKind == 1u) { return m != 0u; }
  return bitcast<f32>(m) > 0.0;
}
