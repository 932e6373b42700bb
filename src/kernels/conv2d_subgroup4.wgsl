// conv2d_subgroup.wgsl's convolution (read its header) for 4-lane subgroups: SwiftShader, and
// lavapipe at LP_NATIVE_VECTOR_WIDTH=128. A workgroup is one subgroup of 4 lanes computing 16
// output pixels × 16 channels: lane l loads the inputs of pixels m0 + l, m0 + 4 + l, m0 + 8 + l
// and m0 + 12 + l, and subgroupBroadcast from lanes 0..3 hands them to the others.
// On SwiftShader it replaces conv2d.wgsl, whose pipeline took 21 s to compile there (8 taps live
// across three nested loops) against ~0.2 s for this one; measured rates in conv2d.ts.
// Needs subgroups of at least 4 lanes (conv2d.ts checks) and cout % 4 == 0.
// Why the accumulator body is written out, and near-copied in conv2d_subgroup.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/conv_subgroup_io.
enable subgroups;
#include "lib/conv_subgroup_io"

@compute @workgroup_size(4)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let col = wg.z * 4u + li; // this lane's vec4 of output channels
  let c = min(col, p.cout4 - 1u); // lanes past the edge compute a duplicate and store nothing
  let m0 = (wg.x + wg.y * nwg.x) * 16u;
  let ra = row(m0 + lane);
  let rb = row(m0 + 4u + lane);
  let rc = row(m0 + 8u + lane);
  let rd = row(m0 + 12u + lane);
  let runLen = p.kw * p.cin;
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var a4 = vec4f(); var a5 = vec4f(); var a6 = vec4f(); var a7 = vec4f();
  var a8 = vec4f(); var a9 = vec4f(); var a10 = vec4f(); var a11 = vec4f();
  var a12 = vec4f(); var a13 = vec4f(); var a14 = vec4f(); var a15 = vec4f();
  for (var ky = 0u; ky < p.kh; ky++) {
    let ua = kernelRow(ra, ky);
    let ub = kernelRow(rb, ky);
    let uc = kernelRow(rc, ky);
    let ud = kernelRow(rd, ky);
    for (var t = 0u; t < runLen; t += 4u) {
      let w = weights4(ky * runLen + t, c);
      let xa = load4(ua, t);
      let xb = load4(ub, t);
      let xc = load4(uc, t);
      let xd = load4(ud, t);
      a0 += dot4(subgroupBroadcast(xa, 0u), w);
      a1 += dot4(subgroupBroadcast(xa, 1u), w);
      a2 += dot4(subgroupBroadcast(xa, 2u), w);
      a3 += dot4(subgroupBroadcast(xa, 3u), w);
      a4 += dot4(subgroupBroadcast(xb, 0u), w);
      a5 += dot4(subgroupBroadcast(xb, 1u), w);
      a6 += dot4(subgroupBroadcast(xb, 2u), w);
      a7 += dot4(subgroupBroadcast(xb, 3u), w);
      a8 += dot4(subgroupBroadcast(xc, 0u), w);
      a9 += dot4(subgroupBroadcast(xc, 1u), w);
      a10 += dot4(subgroupBroadcast(xc, 2u), w);
      a11 += dot4(subgroupBroadcast(xc, 3u), w);
      a12 += dot4(subgroupBroadcast(xd, 0u), w);
      a13 += dot4(subgroupBroadcast(xd, 1u), w);
      a14 += dot4(subgroupBroadcast(xd, 2u), w);
      a15 += dot4(subgroupBroadcast(xd, 3u), w);
    }
  }
  if (col >= p.cout4) { return; }
  store(m0, c, a0); store(m0 + 1u, c, a1); store(m0 + 2u, c, a2); store(m0 + 3u, c, a3);
  store(m0 + 4u, c, a4); store(m0 + 5u, c, a5); store(m0 + 6u, c, a6); store(m0 + 7u, c, a7);
  store(m0 + 8u, c, a8); store(m0 + 9u, c, a9); store(m0 + 10u, c, a10); store(m0 + 11u, c, a11);
  store(m0 + 12u, c, a12); store(m0 + 13u, c, a13); store(m0 + 14u, c, a14); store(m0 + 15u, c, a15);
}
