// lib/conv_input for cin % 4 == 0 (conv2d.ts swaps it in): a run's start (a pixel's first
// channel) and its padding bounds lo and hi are then multiples of 4, so a step's 4 inputs are
// one aligned vec4, all inside the image or all padding. On CPU adapters a load costs a loop over
// the lanes whatever its width: one load where lib/conv_input makes four.
@group(0) @binding(1) var<storage, read> x: array<vec4f>;

// `&`, not `&&`: WGSL's && short-circuits, a branch in the loop body (conv2d_gemm4.wgsl's header).
fn load4(u: Run, t: u32) -> vec4f {
  return select(vec4f(), x[u32(max(u.base + i32(t), 0)) / 4u], (t >= u.lo) & (t < u.hi));
}
