// The bindings and the per-output store shared by the subgroup matmuls (32- and 64-row tiles):
// X, bias, residual and Y as vec4 rows (W: lib/matmul_w4, included first by the kernel) (N % 4 == 0, K % 4 == 0), Params.flags as in
// lib/matmul_epilogue.
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read> res: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4f>;

fn store(row: u32, col: u32, acc: vec4f) {
  let i = row * (p.N / 4u) + col;
  var v = acc;
  if ((p.flags & MM_BIAS) != 0u) { v += bias[col]; }
  if ((p.flags & MM_GELU) != 0u) { v = gelu4(v); }
  if ((p.flags & MM_RESIDUAL) != 0u) { v += res[i]; }
  if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { v += y[i]; }
  y[i] = v;
}
