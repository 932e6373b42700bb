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
// One vec4 column a lane, 32 accumulators: measured again on 2026-12-04 (the kernel alone,
// timed in one process alternating with the others, lavapipe at 8 lanes), it ran 1.3× the 64-row, two-column
// tile (matmul_subgroup64) at 919×384×1152 (13.0-14.9 ms against 17.5-18.3), 919×384×384 4.6-4.9
// against 6.3-6.7, 58,752×64×256 40-42 against 49, 58,752×64×64 10.3-11.0 against 12.7-13.1,
// and tied on the 16384-long embedding (266-312 ms against 290-302); two columns a lane (32×64,
// this kernel until then) ran 20-22 ms at 919×384×1152, and 16, 24, 48 and 64 rows of one column
// 15.7-22.4. Fewer accumulators leave fewer to blend with the loop mask and keep on the stack.
// Read from the running JIT code (gdb) of the 32×64 tile, one k-loop iteration (4 k-steps) at
// 919×384×1152 was ~8,900 x86 instructions: 1,024 vmulps + 1,024 vaddps (lavapipe does not fuse them, not even WGSL's
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
  let col = wg.x * 8u + li; // this lane's vec4 column
  // A column past the edge is clamped for loading (a duplicate is computed) and not stored.
  let c = min(col, n4 - 1u);
  let m0 = wg.y * ROWS;
  // Lane `lane` loads rows m0 + lane + 8i (clamped: rows past M are loaded but not stored).
  let last = p.M - 1u;
  let x0 = min(m0 + 0u + lane, last) * k4;
  let x1 = min(m0 + 8u + lane, last) * k4;
  let x2 = min(m0 + 16u + lane, last) * k4;
  let x3 = min(m0 + 24u + lane, last) * k4;
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0); var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0); var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  var a16 = vec4f(0); var a17 = vec4f(0); var a18 = vec4f(0); var a19 = vec4f(0); var a20 = vec4f(0); var a21 = vec4f(0); var a22 = vec4f(0); var a23 = vec4f(0);
  var a24 = vec4f(0); var a25 = vec4f(0); var a26 = vec4f(0); var a27 = vec4f(0); var a28 = vec4f(0); var a29 = vec4f(0); var a30 = vec4f(0); var a31 = vec4f(0);
  for (var k = p.kBegin / 4u; k < p.kEnd / 4u; k++) {
    let w = w4Block(k, c);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    a0 += w * subgroupBroadcast(v0, 0u);
    a1 += w * subgroupBroadcast(v0, 1u);
    a2 += w * subgroupBroadcast(v0, 2u);
    a3 += w * subgroupBroadcast(v0, 3u);
    a4 += w * subgroupBroadcast(v0, 4u);
    a5 += w * subgroupBroadcast(v0, 5u);
    a6 += w * subgroupBroadcast(v0, 6u);
    a7 += w * subgroupBroadcast(v0, 7u);
    a8 += w * subgroupBroadcast(v1, 0u);
    a9 += w * subgroupBroadcast(v1, 1u);
    a10 += w * subgroupBroadcast(v1, 2u);
    a11 += w * subgroupBroadcast(v1, 3u);
    a12 += w * subgroupBroadcast(v1, 4u);
    a13 += w * subgroupBroadcast(v1, 5u);
    a14 += w * subgroupBroadcast(v1, 6u);
    a15 += w * subgroupBroadcast(v1, 7u);
    a16 += w * subgroupBroadcast(v2, 0u);
    a17 += w * subgroupBroadcast(v2, 1u);
    a18 += w * subgroupBroadcast(v2, 2u);
    a19 += w * subgroupBroadcast(v2, 3u);
    a20 += w * subgroupBroadcast(v2, 4u);
    a21 += w * subgroupBroadcast(v2, 5u);
    a22 += w * subgroupBroadcast(v2, 6u);
    a23 += w * subgroupBroadcast(v2, 7u);
    a24 += w * subgroupBroadcast(v3, 0u);
    a25 += w * subgroupBroadcast(v3, 1u);
    a26 += w * subgroupBroadcast(v3, 2u);
    a27 += w * subgroupBroadcast(v3, 3u);
    a28 += w * subgroupBroadcast(v3, 4u);
    a29 += w * subgroupBroadcast(v3, 5u);
    a30 += w * subgroupBroadcast(v3, 6u);
    a31 += w * subgroupBroadcast(v3, 7u);
  }
  storeColumn(m0, col, array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31));
}
