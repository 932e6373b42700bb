// Y = X·W (+bias)(→gelu)(+residual), one invocation per output: the baseline the others are
// measured against, and correct for every shape. X is M×K, W is K×N (flax "in × out"), row-major.
#include "lib/matmul_w"
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.x;
  let row = g.y;
  if (row >= p.M || col >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += x[row * p.K + k] * wAt(k * p.N + col);
  }
  let i = row * p.N + col;
  if ((p.flags & MM_BIAS) != 0u) { acc += bias[col]; }
  if ((p.flags & MM_GELU) != 0u) { acc = gelu_tanh(acc); }
  if ((p.flags & MM_RESIDUAL) != 0u) { acc += res[i]; }
  if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { acc += y[i]; }
  y[i] = acc;
}
