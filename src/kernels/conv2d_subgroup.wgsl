// conv2d.wgsl's convolution (implicit GEMM, NHWC ⊛ HWIO, SAME zero padding, no bias) for CPU
// backends with 8-lane subgroups (lavapipe). There every storage load is a scalar loop over the
// lanes while arithmetic is one vector instruction, so loads per multiply-add is what counts:
//   - a workgroup is one subgroup of 8 lanes computing 32 output pixels × 32 channels;
//   - lane l loads the inputs of pixels m0 + l, m0 + 8 + l, ... only, and every lane gets the
//     other pixels' values through subgroupBroadcast (a register shuffle, not a load);
//   - each lane loads its own vec4 of weights (channels 4l..4l+3 of the tile);
//   - K is walked 4 steps at a time and the 4 products summed before an accumulator is touched,
//     since the backend blends every loop-carried variable with the loop mask.
// Measured on the stem's shapes: 1.2-2x conv2d.wgsl's rate. Pixels × vec4 columns per lane, on
// lavapipe (`musiq bench --groups conv2d`, ms for the root / the 3×3 conv): 16×1 128-131 / 90-92,
// 32×1 127 / 80, 40×1 156 / 107, 64×1 153 / 115, 16×2 213 / 120, 32×2 147 / 113; 8-step K lost.
// Needs subgroups of at least 8 lanes (conv2d.ts checks) and cout % 4 == 0.
// Why the accumulator body is written out, and near-copied in conv2d_subgroup4.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/conv_subgroup_io.
enable subgroups;
#include "lib/conv_subgroup_io"
#include "lib/endless"

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let col = wg.z * 8u + li; // this lane's vec4 of output channels
  let c = min(col, p.cout4 - 1u); // lanes past the edge compute a duplicate and store nothing
  let m0 = (wg.x + wg.y * nwg.x) * 32u;
  let r0 = row(m0 + 0u + lane);
  let r1 = row(m0 + 8u + lane);
  let r2 = row(m0 + 16u + lane);
  let r3 = row(m0 + 24u + lane);
  let runLen = p.kw * p.cin;
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var a4 = vec4f(); var a5 = vec4f(); var a6 = vec4f(); var a7 = vec4f();
  var a8 = vec4f(); var a9 = vec4f(); var a10 = vec4f(); var a11 = vec4f();
  var a12 = vec4f(); var a13 = vec4f(); var a14 = vec4f(); var a15 = vec4f();
  var a16 = vec4f(); var a17 = vec4f(); var a18 = vec4f(); var a19 = vec4f();
  var a20 = vec4f(); var a21 = vec4f(); var a22 = vec4f(); var a23 = vec4f();
  var a24 = vec4f(); var a25 = vec4f(); var a26 = vec4f(); var a27 = vec4f();
  var a28 = vec4f(); var a29 = vec4f(); var a30 = vec4f(); var a31 = vec4f();
  for (var ky = 0u; ky < ENDLESS; ky++) { // lib/endless: no iteration counter
    if (ky >= p.kh) { break; }
    let u0 = kernelRow(r0, ky);
    let u1 = kernelRow(r1, ky);
    let u2 = kernelRow(r2, ky);
    let u3 = kernelRow(r3, ky);
    for (var i = 0u; i < ENDLESS; i++) {
      let t = 4u * i;
      if (t >= runLen) { break; }
      let w = weights4(ky * runLen + t, c);
      let x0 = load4(u0, t);
      let x1 = load4(u1, t);
      let x2 = load4(u2, t);
      let x3 = load4(u3, t);
      a0 += dot4(subgroupBroadcast(x0, 0u), w);
      a1 += dot4(subgroupBroadcast(x0, 1u), w);
      a2 += dot4(subgroupBroadcast(x0, 2u), w);
      a3 += dot4(subgroupBroadcast(x0, 3u), w);
      a4 += dot4(subgroupBroadcast(x0, 4u), w);
      a5 += dot4(subgroupBroadcast(x0, 5u), w);
      a6 += dot4(subgroupBroadcast(x0, 6u), w);
      a7 += dot4(subgroupBroadcast(x0, 7u), w);
      a8 += dot4(subgroupBroadcast(x1, 0u), w);
      a9 += dot4(subgroupBroadcast(x1, 1u), w);
      a10 += dot4(subgroupBroadcast(x1, 2u), w);
      a11 += dot4(subgroupBroadcast(x1, 3u), w);
      a12 += dot4(subgroupBroadcast(x1, 4u), w);
      a13 += dot4(subgroupBroadcast(x1, 5u), w);
      a14 += dot4(subgroupBroadcast(x1, 6u), w);
      a15 += dot4(subgroupBroadcast(x1, 7u), w);
      a16 += dot4(subgroupBroadcast(x2, 0u), w);
      a17 += dot4(subgroupBroadcast(x2, 1u), w);
      a18 += dot4(subgroupBroadcast(x2, 2u), w);
      a19 += dot4(subgroupBroadcast(x2, 3u), w);
      a20 += dot4(subgroupBroadcast(x2, 4u), w);
      a21 += dot4(subgroupBroadcast(x2, 5u), w);
      a22 += dot4(subgroupBroadcast(x2, 6u), w);
      a23 += dot4(subgroupBroadcast(x2, 7u), w);
      a24 += dot4(subgroupBroadcast(x3, 0u), w);
      a25 += dot4(subgroupBroadcast(x3, 1u), w);
      a26 += dot4(subgroupBroadcast(x3, 2u), w);
      a27 += dot4(subgroupBroadcast(x3, 3u), w);
      a28 += dot4(subgroupBroadcast(x3, 4u), w);
      a29 += dot4(subgroupBroadcast(x3, 5u), w);
      a30 += dot4(subgroupBroadcast(x3, 6u), w);
      a31 += dot4(subgroupBroadcast(x3, 7u), w);
    }
  }
  if (col >= p.cout4) { return; }
  store(m0 + 0u, c, a0); store(m0 + 1u, c, a1); store(m0 + 2u, c, a2); store(m0 + 3u, c, a3);
  store(m0 + 4u, c, a4); store(m0 + 5u, c, a5); store(m0 + 6u, c, a6); store(m0 + 7u, c, a7);
  store(m0 + 8u, c, a8); store(m0 + 9u, c, a9); store(m0 + 10u, c, a10); store(m0 + 11u, c, a11);
  store(m0 + 12u, c, a12); store(m0 + 13u, c, a13); store(m0 + 14u, c, a14); store(m0 + 15u, c, a15);
  store(m0 + 16u, c, a16); store(m0 + 17u, c, a17); store(m0 + 18u, c, a18); store(m0 + 19u, c, a19);
  store(m0 + 20u, c, a20); store(m0 + 21u, c, a21); store(m0 + 22u, c, a22); store(m0 + 23u, c, a23);
  store(m0 + 24u, c, a24); store(m0 + 25u, c, a25); store(m0 + 26u, c, a26); store(m0 + 27u, c, a27);
  store(m0 + 28u, c, a28); store(m0 + 29u, c, a29); store(m0 + 30u, c, a30); store(m0 + 31u, c, a31);
}
