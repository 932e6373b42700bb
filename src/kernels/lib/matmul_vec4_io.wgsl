// The bindings, the W block load and the stores shared by the subgroup matmuls (tiles of ROWS rows,
// ROWS defined by the kernel):
// X, bias, residual and Y as vec4 rows (W: lib/matmul_w4, included first by the kernel) (N % 4 == 0, K % 4 == 0), Params.flags as in
// lib/matmul_epilogue.
#include "lib/matmul_epilogue"

// K is X's row length; a dispatch sums k in [kBegin, kEnd) only (matmul.ts splits a long K over
// several dispatches, each adding to Y). row0 and xBase serve matmul_uniform only (its rows, and
// where its window of X starts them).
struct Params { M: u32, N: u32, K: u32, flags: u32, kBegin: u32, kEnd: u32, row0: u32, xBase: u32 }

@group(0) @binding(0) var<uniform> p: Params;
#include "lib/matmul_x4"
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

// Both store functions loop over rows rather than being written out: 64 written-out epilogues of
// per-lane loads and stores made lavapipe take several times longer to compile.
// One vec4 column's accumulators, rows m0 on: store() per output. storeTile's loops of their own
// per epilogue made lavapipe's LLVM unroll them (the first dispatch of matmul_subgroup, fresh
// Mesa cache: 4.4-4.8 s against 0.42-0.46) and ran no faster there.
fn storeColumn(m0: u32, col: u32, a: array<vec4f, ROWS>) {
  if (col >= p.N / 4u) { return; }
  for (var r = 0u; r < min(ROWS, p.M - m0); r++) { store(m0 + r, col, a[r]); }
}

// A tile's accumulators for vec4 columns col (a) and col + 1 (b), rows m0 on. The flags are tested
// once per tile, not per store, and the bias is loaded once per column: the common epilogues (bias
// or none, + GELU, + a residual buffer) get loops of their own, the rest store(). SwiftShader ran
// every per-store flag test and bias load, taken or not, which cost as much as the k loop at K = 64
// (58,752×64×256: 345-358 ms, 205-219 with no stores at all); with these loops 256-283 ms (flags 0
// and bias), 919×384×1152 with bias 83-84 ms against 92-99, with GELU 85-90 against 90-91. The
// pipeline takes longer to compile (SwiftShader 0.92-0.97 s against 0.64-0.69; lavapipe at 4
// lanes 2.3 s against 1.7), once, against ~0.5 s saved on every 1024×768 image on SwiftShader.
fn storeTile(m0: u32, col: u32, a: array<vec4f, ROWS>, b: array<vec4f, ROWS>) {
  let n4 = p.N / 4u;
  if (col >= n4) { return; }
  let two = col + 1u < n4;
  var ba = vec4f(0.0);
  var bb = vec4f(0.0);
  if ((p.flags & MM_BIAS) != 0u) {
    ba = bias[col];
    bb = bias[min(col + 1u, n4 - 1u)];
  }
  let rows = min(ROWS, p.M - m0);
  let rest = p.flags & ~MM_BIAS;
  var i = m0 * n4 + col;
  if (rest == 0u) {
    for (var r = 0u; r < rows; r++) {
      y[i] = a[r] + ba;
      if (two) { y[i + 1u] = b[r] + bb; }
      i += n4;
    }
  } else if (rest == MM_GELU) {
    for (var r = 0u; r < rows; r++) {
      y[i] = gelu4(a[r] + ba);
      if (two) { y[i + 1u] = gelu4(b[r] + bb); }
      i += n4;
    }
  } else if (rest == MM_RESIDUAL) {
    for (var r = 0u; r < rows; r++) {
      y[i] = a[r] + ba + res[i];
      if (two) { y[i + 1u] = b[r] + bb + res[i + 1u]; }
      i += n4;
    }
  } else {
    for (var r = 0u; r < rows; r++) {
      store(m0 + r, col, a[r]);
      if (two) { store(m0 + r, col + 1u, b[r]); }
    }
  }
}
