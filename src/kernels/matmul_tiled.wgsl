// Y = X·W (+bias)(→gelu)(+residual) with workgroup-memory tiles: the classic GPU kernel.
// 16×16 invocations compute a 64×64 tile, 4×4 outputs each (rows ty+16i, columns tx+16j, so
// neighbouring invocations touch neighbouring addresses). Each step stages a 64×16 slab of X
// and a 16×64 slab of W in workgroup memory, zero-filled outside the matrices, so any M, N, K
// works. On CPU backends the barriers and per-lane workgroup loads make it slower than
// matmul_blocked/matmul_subgroup; the autotune decides.
#include "lib/matmul_w"
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TILE = 64u;
const STEP = 16u; // k per stage

var<workgroup> xs: array<array<f32, STEP>, TILE>; // [row][k]
var<workgroup> ws: array<array<f32, TILE>, STEP>; // [k][col]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += STEP) {
    // 256 invocations stage 1024 values of each slab, 4 each.
    for (var e = li; e < TILE * STEP; e += 256u) {
      let xr = row0 + e / STEP;
      let xk = k0 + e % STEP;
      var xv = 0.0;
      if (xr < p.M && xk < p.K) { xv = x[xr * p.K + xk]; }
      xs[e / STEP][e % STEP] = xv;
      let wk = k0 + e / TILE;
      let wc = col0 + e % TILE;
      var wv = 0.0;
      if (wk < p.K && wc < p.N) { wv = wAt(wk * p.N + wc); }
      ws[e / TILE][e % TILE] = wv;
    }
    workgroupBarrier();
    // A runtime bound keeps this loop rolled: unrolled, its per-lane workgroup loads made
    // lavapipe compile the shader for over 10 s. It also stops early on the last, short step.
    for (var kk = 0u; kk < min(STEP, p.K - k0); kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = xs[lid.y + 16u * i][kk];
        b[i] = ws[kk][lid.x + 16u * i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] += a[i] * b[j];
        }
      }
    }
    workgroupBarrier();
  }
  // Only the outputs inside Y, by loops of runtime length: unrolled, 16 epilogues of loads and
  // stores cost lavapipe seconds of compile time. The copy keeps `acc` itself constant-indexed.
  let out = acc;
  let rowsLeft = p.M - min(p.M, row0 + lid.y);
  let colsLeft = p.N - min(p.N, col0 + lid.x);
  for (var i = 0u; i < min(4u, (rowsLeft + 15u) / 16u); i++) {
    for (var j = 0u; j < min(4u, (colsLeft + 15u) / 16u); j++) {
      let row = row0 + lid.y + 16u * i;
      let col = col0 + lid.x + 16u * j;
      var v = out[i][j];
      let o = row * p.N + col;
      if ((p.flags & MM_BIAS) != 0u) { v += bias[col]; }
      if ((p.flags & MM_GELU) != 0u) { v = gelu_tanh(v); }
      if ((p.flags & MM_RESIDUAL) != 0u) { v += res[o]; }
      if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { v += y[o]; }
      y[o] = v;
    }
  }
}
