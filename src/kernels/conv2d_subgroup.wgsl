// conv2d.wgsl's convolution (implicit GEMM, NHWC ⊛ HWIO, SAME zero padding, no bias) for CPU
// backends with 8-lane subgroups (lavapipe). There every storage load is a scalar loop over the
// lanes while arithmetic is one vector instruction, so loads per multiply-add is what counts:
//   - a workgroup is one subgroup of 8 lanes computing 16 output pixels × 32 channels;
//   - lane l loads the inputs of pixels m0 + l and m0 + 8 + l only, and every lane gets the
//     other pixels' values through subgroupBroadcast (a register shuffle, not a load);
//   - each lane loads its own vec4 of weights (channels 4l..4l+3 of the tile);
//   - K is walked 4 steps at a time and the 4 products summed before an accumulator is touched,
//     since the backend blends every loop-carried variable with the loop mask.
// Measured on the stem's shapes: 1.2-2x conv2d.wgsl's rate (16 rows beat 24 rows and 8-step K).
// Needs subgroups of at least 8 lanes (conv2d.ts checks) and cout % 4 == 0.
// Why the accumulator body is written out, and near-copied in conv2d_subgroup4.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/conv_subgroup_io.
enable subgroups;
#include "lib/conv_subgroup_io"

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let col = wg.z * 8u + li; // this lane's vec4 of output channels
  let c = min(col, p.cout4 - 1u); // lanes past the edge compute a duplicate and store nothing
  let m0 = (wg.x + wg.y * nwg.x) * 16u;
  let ra = row(m0 + lane);
  let rb = row(m0 + 8u + lane);
  let runLen = p.kw * p.cin;
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var a4 = vec4f(); var a5 = vec4f(); var a6 = vec4f(); var a7 = vec4f();
  var a8 = vec4f(); var a9 = vec4f(); var a10 = vec4f(); var a11 = vec4f();
  var a12 = vec4f(); var a13 = vec4f(); var a14 = vec4f(); var a15 = vec4f();
  for (var ky = 0u; ky < p.kh; ky++) {
    let ua = kernelRow(ra, ky);
    let ub = kernelRow(rb, ky);
    for (var t = 0u; t < runLen; t += 4u) {
      let w = weights4(ky * runLen + t, c);
      let xa = load4(ua, t);
      let xb = load4(ub, t);
      a0 += dot4(subgroupBroadcast(xa, 0u), w);
      a1 += dot4(subgroupBroadcast(xa, 1u), w);
      a2 += dot4(subgroupBroadcast(xa, 2u), w);
      a3 += dot4(subgroupBroadcast(xa, 3u), w);
      a4 += dot4(subgroupBroadcast(xa, 4u), w);
      a5 += dot4(subgroupBroadcast(xa, 5u), w);
      a6 += dot4(subgroupBroadcast(xa, 6u), w);
      a7 += dot4(subgroupBroadcast(xa, 7u), w);
      a8 += dot4(subgroupBroadcast(xb, 0u), w);
      a9 += dot4(subgroupBroadcast(xb, 1u), w);
      a10 += dot4(subgroupBroadcast(xb, 2u), w);
      a11 += dot4(subgroupBroadcast(xb, 3u), w);
      a12 += dot4(subgroupBroadcast(xb, 4u), w);
      a13 += dot4(subgroupBroadcast(xb, 5u), w);
      a14 += dot4(subgroupBroadcast(xb, 6u), w);
      a15 += dot4(subgroupBroadcast(xb, 7u), w);
    }
  }
  if (col >= p.cout4) { return; }
  store(m0, c, a0); store(m0 + 1u, c, a1); store(m0 + 2u, c, a2); store(m0 + 3u, c, a3);
  store(m0 + 4u, c, a4); store(m0 + 5u, c, a5); store(m0 + 6u, c, a6); store(m0 + 7u, c, a7);
  store(m0 + 8u, c, a8); store(m0 + 9u, c, a9); store(m0 + 10u, c, a10); store(m0 + 11u, c, a11);
  store(m0 + 12u, c, a12); store(m0 + 13u, c, a13); store(m0 + 14u, c, a14); store(m0 + 15u, c, a15);
}
