enable f16;
// lib/matmul_w with W stored as f16 (half the bytes and, on lavapipe, fewer load
// instructions); products and sums stay f32.
@group(0) @binding(2) var<storage, read> w: array<f16>;
fn wAt(i: u32) -> f32 { return f32(w[i]); }
