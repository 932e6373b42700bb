// vec4 i of the packed qkv rows, from an rgba32float copy of them (Runtime.textureOf, QKV_TEXTURE_WIDTH
// texels a row in attention.ts). On lavapipe a texel fetch is a call into a function compiled once
// for the format, where a storage load at a different address in each lane is inlined as a
// branch, a bounds check and a scalar load per lane: the looped kernel compiled in 7.9 s instead
// of 39.9 and ran faster (attention.ts, tierRule's comment).
@group(0) @binding(4) var qkvTex: texture_2d<f32>;
const TEX_W: u32 = 2048u;

fn qkvAt(i: u32) -> vec4f {
  // qkv itself stays bound (the launcher binds the same buffers for both includes).
  _ = &qkv;
  return textureLoad(qkvTex, vec2u(i % TEX_W, i / TEX_W), 0);
}
