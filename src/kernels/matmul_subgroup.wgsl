// Y = X·W (+bias)(→gelu)(+residual) for CPU-backed WebGPU (lavapipe/llvmpipe).
// Such a backend runs a subgroup of 8 invocations as one AVX2 vector, one workgroup per CPU
// thread, and turns every storage load into a scalar loop over the lanes with a bounds check
// per component (~8 instructions per lane and component, even when all lanes read the same
// address), while arithmetic is one vector instruction per component. So this kernel minimises
// loads per multiply-add:
//   - a workgroup is one subgroup of 8 lanes and computes a 32-row × 64-column tile;
//   - each lane loads one vec4 (4 k-steps) of four different X rows, and every row reaches the
//     other lanes through subgroupBroadcast, a register shuffle instead of a memory load;
//   - each lane loads its own two vec4 columns of W for the 4 k-steps (two 4×4 blocks);
//   - the 4 k-steps are summed (a mat4×vec4 product) before touching an accumulator, because
//     the backend blends every loop-carried variable with the loop mask and keeps most of them
//     on the stack.
// Counted in the generated x86 loop: ~0.35 flop per instruction for matmul_blocked, ~1.1 for
// 16×32 tiles, ~1.5 for 32×32; 32×64 ran 10-25% faster again on the MUSIQ shapes (most on the
// 16384-long embedding) for ~1 s more compile time (once: Mesa caches compiled shaders).
// Read from the running JIT code (gdb), one k-loop iteration (4 k-steps) at 919×384×1152 is ~8,900
// x86 instructions: 1,024 vmulps + 1,024 vaddps (lavapipe does not fuse them, not even WGSL's
// fma(): the same two instructions, no faster), ~3,500 for the 48 loaded words per lane (a bounds
// check, a branch and an insert per lane and word), ~800 for the accumulators kept on the stack
// (load, blend with the loop mask, store) and the rest shuffles and spills.
// Needs N % 4 == 0, K % 4 == 0 and subgroups of at least 8 lanes (matmul.ts checks).
// Why the accumulator body is written out, and near-copied in matmul_subgroup64.wgsl and matmul_subgroup4.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/matmul_vec4_io.
enable subgroups;
#include "lib/matmul_w4"
#include "lib/matmul_vec4_io"

const ROWS = 32u;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col = (wg.x * 8u + li) * 2u; // this lane's two vec4 columns: col and col + 1
  // Columns past the edge are clamped for loading (a duplicate is computed) and not stored.
  let ca = min(col, n4 - 1u);
  let cb = min(col + 1u, n4 - 1u);
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
  var b0 = vec4f(0); var b1 = vec4f(0); var b2 = vec4f(0); var b3 = vec4f(0);
  var b4 = vec4f(0); var b5 = vec4f(0); var b6 = vec4f(0); var b7 = vec4f(0);
  var b8 = vec4f(0); var b9 = vec4f(0); var b10 = vec4f(0); var b11 = vec4f(0);
  var b12 = vec4f(0); var b13 = vec4f(0); var b14 = vec4f(0); var b15 = vec4f(0);
  var b16 = vec4f(0); var b17 = vec4f(0); var b18 = vec4f(0); var b19 = vec4f(0);
  var b20 = vec4f(0); var b21 = vec4f(0); var b22 = vec4f(0); var b23 = vec4f(0);
  var b24 = vec4f(0); var b25 = vec4f(0); var b26 = vec4f(0); var b27 = vec4f(0);
  var b28 = vec4f(0); var b29 = vec4f(0); var b30 = vec4f(0); var b31 = vec4f(0);
  for (var k = 0u; k < k4; k++) {
    let wa = w4Block(k, ca);
    let wb = w4Block(k, cb);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    { let v = subgroupBroadcast(v0, 0u); a0 += wa * v; b0 += wb * v; }
    { let v = subgroupBroadcast(v0, 1u); a1 += wa * v; b1 += wb * v; }
    { let v = subgroupBroadcast(v0, 2u); a2 += wa * v; b2 += wb * v; }
    { let v = subgroupBroadcast(v0, 3u); a3 += wa * v; b3 += wb * v; }
    { let v = subgroupBroadcast(v0, 4u); a4 += wa * v; b4 += wb * v; }
    { let v = subgroupBroadcast(v0, 5u); a5 += wa * v; b5 += wb * v; }
    { let v = subgroupBroadcast(v0, 6u); a6 += wa * v; b6 += wb * v; }
    { let v = subgroupBroadcast(v0, 7u); a7 += wa * v; b7 += wb * v; }
    { let v = subgroupBroadcast(v1, 0u); a8 += wa * v; b8 += wb * v; }
    { let v = subgroupBroadcast(v1, 1u); a9 += wa * v; b9 += wb * v; }
    { let v = subgroupBroadcast(v1, 2u); a10 += wa * v; b10 += wb * v; }
    { let v = subgroupBroadcast(v1, 3u); a11 += wa * v; b11 += wb * v; }
    { let v = subgroupBroadcast(v1, 4u); a12 += wa * v; b12 += wb * v; }
    { let v = subgroupBroadcast(v1, 5u); a13 += wa * v; b13 += wb * v; }
    { let v = subgroupBroadcast(v1, 6u); a14 += wa * v; b14 += wb * v; }
    { let v = subgroupBroadcast(v1, 7u); a15 += wa * v; b15 += wb * v; }
    { let v = subgroupBroadcast(v2, 0u); a16 += wa * v; b16 += wb * v; }
    { let v = subgroupBroadcast(v2, 1u); a17 += wa * v; b17 += wb * v; }
    { let v = subgroupBroadcast(v2, 2u); a18 += wa * v; b18 += wb * v; }
    { let v = subgroupBroadcast(v2, 3u); a19 += wa * v; b19 += wb * v; }
    { let v = subgroupBroadcast(v2, 4u); a20 += wa * v; b20 += wb * v; }
    { let v = subgroupBroadcast(v2, 5u); a21 += wa * v; b21 += wb * v; }
    { let v = subgroupBroadcast(v2, 6u); a22 += wa * v; b22 += wb * v; }
    { let v = subgroupBroadcast(v2, 7u); a23 += wa * v; b23 += wb * v; }
    { let v = subgroupBroadcast(v3, 0u); a24 += wa * v; b24 += wb * v; }
    { let v = subgroupBroadcast(v3, 1u); a25 += wa * v; b25 += wb * v; }
    { let v = subgroupBroadcast(v3, 2u); a26 += wa * v; b26 += wb * v; }
    { let v = subgroupBroadcast(v3, 3u); a27 += wa * v; b27 += wb * v; }
    { let v = subgroupBroadcast(v3, 4u); a28 += wa * v; b28 += wb * v; }
    { let v = subgroupBroadcast(v3, 5u); a29 += wa * v; b29 += wb * v; }
    { let v = subgroupBroadcast(v3, 6u); a30 += wa * v; b30 += wb * v; }
    { let v = subgroupBroadcast(v3, 7u); a31 += wa * v; b31 += wb * v; }
  }
  storeTile(m0, col, array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                               a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31),
            array<vec4f, ROWS>(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15,
                               b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31));
}
