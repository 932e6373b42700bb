// lib/matmul_w4 with W read from a texture copy of it (Runtime.textureOf, W_TEXTURE_WIDTH texels a
// row in matmul.ts; rgba16float for an f16 W, read as f32 all the same), for matmul_uniform:
// lavapipe emits a storage load at a different address in each lane as a branch and a bounds
// check per lane and word, a texel fetch as one call (as attention reads qkv). W stays bound, as
// words, whichever its dtype.
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(6) var wTex: texture_2d<f32>;
const W_TEX_W: u32 = 2048u;
fn w4At(i: u32) -> vec4f {
  _ = &w;
  return textureLoad(wTex, vec2u(i % W_TEX_W, i / W_TEX_W), 0);
}
