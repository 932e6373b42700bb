// Y = X·W (+bias)(→gelu)(+residual) for CPU-backed WebGPU (lavapipe/llvmpipe).
// Such a backend runs a subgroup of 8 invocations as one AVX2 vector, one workgroup per CPU
// thread, and turns every storage load into a scalar loop over the lanes with a bounds check
// per component (~8 instructions per lane and component, even when all lanes read the same
// address), while arithmetic is one vector instruction per component. So this kernel minimises
// loads per multiply-add:
//   - a workgroup is one subgroup of 8 lanes and computes a 32-row × 32-column tile;
//   - each lane loads one vec4 (4 k-steps) of four different X rows, and every row reaches the
//     other lanes through subgroupBroadcast, a register shuffle instead of a memory load;
//   - each lane loads its own vec4 column of W for the 4 k-steps (a 4×4 block);
//   - the 4 k-steps are summed (a mat4×vec4 product) before touching an accumulator, because
//     the backend blends every loop-carried variable with the loop mask and keeps most of them
//     on the stack.
// Counted in the generated x86 loop: ~0.35 flop per instruction for matmul_blocked, ~1.5 here
// (16 rows per workgroup gave ~1.1; 64 columns per workgroup took 2-3× longer to compile).
// Needs N % 4 == 0, K % 4 == 0 and subgroups of at least 8 lanes (matmul.ts checks).
enable subgroups;
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read> res: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4f>;

const ROWS = 32u;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col = wg.x * 8u + li; // this lane's vec4 column
  let c = min(col, n4 - 1u); // lanes past the edge compute a duplicate and store nothing
  let m0 = wg.y * ROWS;
  // Lane `lane` loads rows m0 + lane + 8i (clamped: rows past M are loaded but not stored).
  let last = p.M - 1u;
  let x0 = min(m0 + lane, last) * k4;
  let x1 = min(m0 + 8u + lane, last) * k4;
  let x2 = min(m0 + 16u + lane, last) * k4;
  let x3 = min(m0 + 24u + lane, last) * k4;
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0);
  var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0);
  var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  var a16 = vec4f(0); var a17 = vec4f(0); var a18 = vec4f(0); var a19 = vec4f(0);
  var a20 = vec4f(0); var a21 = vec4f(0); var a22 = vec4f(0); var a23 = vec4f(0);
  var a24 = vec4f(0); var a25 = vec4f(0); var a26 = vec4f(0); var a27 = vec4f(0);
  var a28 = vec4f(0); var a29 = vec4f(0); var a30 = vec4f(0); var a31 = vec4f(0);
  for (var k = 0u; k < k4; k++) {
    // W[4k..4k+3, this column] as a matrix whose columns are W rows: wk * v = Σ_j v[j]·W[4k+j, c].
    let r = 4u * k * n4;
    let wk = mat4x4f(w[r + c], w[r + n4 + c], w[r + 2u * n4 + c], w[r + 3u * n4 + c]);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    a0 += wk * subgroupBroadcast(v0, 0u);
    a1 += wk * subgroupBroadcast(v0, 1u);
    a2 += wk * subgroupBroadcast(v0, 2u);
    a3 += wk * subgroupBroadcast(v0, 3u);
    a4 += wk * subgroupBroadcast(v0, 4u);
    a5 += wk * subgroupBroadcast(v0, 5u);
    a6 += wk * subgroupBroadcast(v0, 6u);
    a7 += wk * subgroupBroadcast(v0, 7u);
    a8 += wk * subgroupBroadcast(v1, 0u);
    a9 += wk * subgroupBroadcast(v1, 1u);
    a10 += wk * subgroupBroadcast(v1, 2u);
    a11 += wk * subgroupBroadcast(v1, 3u);
    a12 += wk * subgroupBroadcast(v1, 4u);
    a13 += wk * subgroupBroadcast(v1, 5u);
    a14 += wk * subgroupBroadcast(v1, 6u);
    a15 += wk * subgroupBroadcast(v1, 7u);
    a16 += wk * subgroupBroadcast(v2, 0u);
    a17 += wk * subgroupBroadcast(v2, 1u);
    a18 += wk * subgroupBroadcast(v2, 2u);
    a19 += wk * subgroupBroadcast(v2, 3u);
    a20 += wk * subgroupBroadcast(v2, 4u);
    a21 += wk * subgroupBroadcast(v2, 5u);
    a22 += wk * subgroupBroadcast(v2, 6u);
    a23 += wk * subgroupBroadcast(v2, 7u);
    a24 += wk * subgroupBroadcast(v3, 0u);
    a25 += wk * subgroupBroadcast(v3, 1u);
    a26 += wk * subgroupBroadcast(v3, 2u);
    a27 += wk * subgroupBroadcast(v3, 3u);
    a28 += wk * subgroupBroadcast(v3, 4u);
    a29 += wk * subgroupBroadcast(v3, 5u);
    a30 += wk * subgroupBroadcast(v3, 6u);
    a31 += wk * subgroupBroadcast(v3, 7u);
  }
  if (col >= n4) { return; }
  // Stored by a loop the compiler cannot unroll (its length is a runtime value): 32 unrolled
  // epilogues of per-lane loads and stores made lavapipe take ~4× longer to compile this.
  let acc = array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                               a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31);
  for (var r = 0u; r < min(ROWS, p.M - m0); r++) {
    store(m0 + r, col, acc[r]);
  }
}

fn store(row: u32, col: u32, acc: vec4f) {
  let i = row * (p.N / 4u) + col;
  var v = acc;
  if ((p.flags & MM_BIAS) != 0u) { v += bias[col]; }
  if ((p.flags & MM_GELU) != 0u) { v = gelu4(v); }
  if ((p.flags & MM_RESIDUAL) != 0u) { v += res[i]; }
  if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { v += y[i]; }
  y[i] = v;
}
