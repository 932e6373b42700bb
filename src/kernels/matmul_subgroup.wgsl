// Y = X·W (+bias)(→gelu)(+residual) for CPU-backed WebGPU (lavapipe/llvmpipe).
// Such a backend runs a subgroup of 8 invocations as one AVX2 vector, one workgroup per CPU
// thread, and turns every storage load into a scalar loop over the lanes with a bounds check
// per component (~8 instructions per lane and component, even when all lanes read the same
// address), while arithmetic is one vector instruction. So this kernel minimises loads per
// multiply-add (measured: ~0.8 → ~1.5 flop per instruction versus matmul_blocked's ~0.35):
//   - a workgroup is one subgroup of 8 lanes and computes a 16-row × 32-column tile;
//   - each lane loads one vec4 (4 k-steps) of two different X rows and the tile's rows reach
//     the other lanes through subgroupBroadcast, a register shuffle, not a memory load;
//   - each lane loads its own vec4 column of W for the 4 k-steps;
//   - the 4 k-steps are summed before touching an accumulator, because the backend blends
//     every loop-carried variable with the loop mask and keeps most of them on the stack.
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

// x4 = X[row, 4k..4k+3] broadcast from the lane that loaded it; w0..w3 = W[4k..4k+3, cols].
fn dot4(x4: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return x4.x * w0 + x4.y * w1 + x4.z * w2 + x4.w * w3;
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col = wg.x * 8u + li; // this lane's vec4 column
  let c = min(col, n4 - 1u); // lanes past the edge compute a duplicate and store nothing
  let m0 = wg.y * 16u;
  // Lane `lane` loads rows m0 + lane and m0 + 8 + lane (clamped; rows past M are not stored).
  let xa = min(m0 + lane, p.M - 1u) * k4;
  let xb = min(m0 + 8u + lane, p.M - 1u) * k4;
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0);
  var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0);
  var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  for (var k = 0u; k < k4; k++) {
    let wr = 4u * k * n4 + c;
    let w0 = w[wr];
    let w1 = w[wr + n4];
    let w2 = w[wr + 2u * n4];
    let w3 = w[wr + 3u * n4];
    let xva = x[xa + k];
    let xvb = x[xb + k];
    a0 += dot4(subgroupBroadcast(xva, 0u), w0, w1, w2, w3);
    a1 += dot4(subgroupBroadcast(xva, 1u), w0, w1, w2, w3);
    a2 += dot4(subgroupBroadcast(xva, 2u), w0, w1, w2, w3);
    a3 += dot4(subgroupBroadcast(xva, 3u), w0, w1, w2, w3);
    a4 += dot4(subgroupBroadcast(xva, 4u), w0, w1, w2, w3);
    a5 += dot4(subgroupBroadcast(xva, 5u), w0, w1, w2, w3);
    a6 += dot4(subgroupBroadcast(xva, 6u), w0, w1, w2, w3);
    a7 += dot4(subgroupBroadcast(xva, 7u), w0, w1, w2, w3);
    a8 += dot4(subgroupBroadcast(xvb, 0u), w0, w1, w2, w3);
    a9 += dot4(subgroupBroadcast(xvb, 1u), w0, w1, w2, w3);
    a10 += dot4(subgroupBroadcast(xvb, 2u), w0, w1, w2, w3);
    a11 += dot4(subgroupBroadcast(xvb, 3u), w0, w1, w2, w3);
    a12 += dot4(subgroupBroadcast(xvb, 4u), w0, w1, w2, w3);
    a13 += dot4(subgroupBroadcast(xvb, 5u), w0, w1, w2, w3);
    a14 += dot4(subgroupBroadcast(xvb, 6u), w0, w1, w2, w3);
    a15 += dot4(subgroupBroadcast(xvb, 7u), w0, w1, w2, w3);
  }
  if (col >= n4) { return; }
  // Stored by a loop the compiler cannot unroll (its length is a runtime value): 16 unrolled
  // epilogues of per-lane loads and stores made lavapipe take ~4× longer to compile this shader.
  let acc = array<vec4f, 16>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
  for (var r = 0u; r < min(16u, p.M - m0); r++) {
    store(m0 + r, c, acc[r]);
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
