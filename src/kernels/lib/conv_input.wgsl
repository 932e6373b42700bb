// The subgroup convolutions' input for any cin: load4 reads 4 floats, each zero outside the run's
// [lo, hi) (the padding, or past the run's end when kw·cin % 4 != 0).
@group(0) @binding(1) var<storage, read> x: array<f32>;

// `&`, not `&&`: WGSL's && short-circuits, a branch in the loop body (conv2d_gemm4.wgsl's header).
fn load(u: Run, t: u32) -> f32 {
  return select(0.0, x[u32(max(u.base + i32(t), 0))], (t >= u.lo) & (t < u.hi));
}

fn load4(u: Run, t: u32) -> vec4f {
  return vec4f(load(u, t), load(u, t + 1u), load(u, t + 2u), load(u, t + 3u));
}
