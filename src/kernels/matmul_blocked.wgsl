// Y = X·W (+bias)(→gelu)(+residual), register-blocked with no workgroup memory and no barriers.
// Each invocation computes 4 rows × 8 columns (two vec4 of W per k), all 64 invocations of a
// workgroup share the same 4 rows. Meant for CPU backends without subgroups, where barriers
// and workgroup memory cost more than they save; see matmul_subgroup.wgsl for why loads are
// what matters there. Needs N % 4 == 0 (W rows read as vec4); any M and K.
// Why no tile without subgroups comes near the subgroup kernels on lavapipe (Deno's WebGPU has
// none): every lane loads each value it multiplies, so one operand is loaded by all 8 lanes. In
// lavapipe's generated loop (read with gdb from the running JIT code, 919×384×1152), the best
// tile found, 16 rows × 4 vec4 columns with 4 k-steps per mat4×vec4, takes 19,700 instructions
// per 1024 multiply-adds per lane (1024 lane-word loads, ~15 instructions each with the spills
// they cause) against matmul_subgroup's 8,900 (384 lane-word loads); it ran 2.1× slower. Larger
// tiles (24×6, 32×4) ran slower still: the loaded values no longer fit the registers.
#include "lib/matmul_w4"
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read> res: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4f>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = p.N / 4u;
  let col = (wg.x * 64u + li) * 2u; // first of this invocation's two vec4 columns
  // Columns and rows past the edge are clamped for loading and skipped when storing.
  let c0 = min(col, n4 - 1u);
  let c1 = min(col + 1u, n4 - 1u);
  let m0 = wg.y * 4u;
  let last = p.M - 1u;
  let x0 = min(m0, last) * p.K;
  let x1 = min(m0 + 1u, last) * p.K;
  let x2 = min(m0 + 2u, last) * p.K;
  let x3 = min(m0 + 3u, last) * p.K;
  var a00 = vec4f(0); var a01 = vec4f(0);
  var a10 = vec4f(0); var a11 = vec4f(0);
  var a20 = vec4f(0); var a21 = vec4f(0);
  var a30 = vec4f(0); var a31 = vec4f(0);
  for (var k = 0u; k < p.K; k++) {
    let w0 = w4At(k * n4 + c0);
    let w1 = w4At(k * n4 + c1);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    a00 += v0 * w0; a01 += v0 * w1;
    a10 += v1 * w0; a11 += v1 * w1;
    a20 += v2 * w0; a21 += v2 * w1;
    a30 += v3 * w0; a31 += v3 * w1;
  }
  // Stored by a loop the compiler cannot unroll (see matmul_subgroup.wgsl: compile time).
  let acc = array<vec4f, 8>(a00, a01, a10, a11, a20, a21, a30, a31);
  for (var r = 0u; r < min(4u, p.M - m0); r++) {
    let row = (m0 + r) * n4;
    if (col < n4) { y[row + col] = finish(row + col, col, acc[2u * r]); }
    if (col + 1u < n4) { y[row + col + 1u] = finish(row + col + 1u, col + 1u, acc[2u * r + 1u]); }
  }
}

fn finish(i: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  if ((p.flags & MM_BIAS) != 0u) { v += bias[col]; }
  if ((p.flags & MM_GELU) != 0u) { v = gelu4(v); }
  if ((p.flags & MM_RESIDUAL) != 0u) { v += res[i]; }
  if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { v += y[i]; }
  return v;
}
