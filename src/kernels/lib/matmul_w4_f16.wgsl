enable f16;
// lib/matmul_w4 with W stored as f16: a vec4<f16> is two 32-bit words, where a vec4f is four,
// and lavapipe pays per word loaded (~1.4× fewer load cycles measured); math stays f32.
@group(0) @binding(2) var<storage, read> w: array<vec4<f16>>;
fn w4At(i: u32) -> vec4f { return vec4f(w[i]); }
