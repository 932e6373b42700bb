// The bindings, the W block load and the stores shared by the subgroup matmuls (tiles of ROWS rows,
// ROWS defined by the kernel):
// X, bias, residual and Y as vec4 rows (W: lib/matmul_w4, included first by the kernel) (N % 4 == 0, K % 4 == 0), Params.flags as in
// lib/matmul_epilogue.
#include "lib/matmul_epilogue"

// K is X's row length; a dispatch sums k in [kBegin, kEnd) only (matmul.ts splits a long K over
// several dispatches, each adding to Y).
struct Params { M: u32, N: u32, K: u32, flags: u32, kBegin: u32, kEnd: u32 }

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

// W[4k..4k+3, column c] as a matrix whose columns are W rows: w4Block(k, c) * v = Σ_j v[j]·W[4k+j, c].
fn w4Block(k: u32, c: u32) -> mat4x4f {
  let n4 = p.N / 4u;
  let r = 4u * k * n4;
  return mat4x4f(w4At(r + c), w4At(r + n4 + c), w4At(r + 2u * n4 + c), w4At(r + 3u * n4 + c));
}

// One vec4 column's accumulators, rows m0 on (loop as in storeTile).
fn storeColumn(m0: u32, col: u32, a: array<vec4f, ROWS>) {
  if (col >= p.N / 4u) { return; }
  for (var r = 0u; r < min(ROWS, p.M - m0); r++) { store(m0 + r, col, a[r]); }
}

// A tile's accumulators for vec4 columns col (a) and col + 1 (b), rows m0 on. Stored by a loop the
// compiler cannot unroll (its length is a runtime value): 64 unrolled epilogues of per-lane loads
// and stores made lavapipe take several times longer to compile.
fn storeTile(m0: u32, col: u32, a: array<vec4f, ROWS>, b: array<vec4f, ROWS>) {
  let n4 = p.N / 4u;
  if (col >= n4) { return; }
  for (var r = 0u; r < min(ROWS, p.M - m0); r++) {
    store(m0 + r, col, a[r]);
    if (col + 1u < n4) { store(m0 + r, col + 1u, b[r]); }
  }
}
