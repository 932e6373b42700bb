// conv2d_subgroup.wgsl's convolution (read its header) for 4-lane subgroups: SwiftShader, and
// lavapipe at LP_NATIVE_VECTOR_WIDTH=128. A workgroup is one subgroup of 4 lanes computing 12
// output pixels × 16 vec4 channel columns: lane l loads the inputs of pixels m0 + l, m0 + 4 + l
// and m0 + 8 + l (subgroupBroadcast hands each to the other lanes) and accumulates its 12 pixels
// in 4 adjacent vec4 columns, so a pixel's broadcast input feeds 4 columns and a weight load 12
// pixels. Timed on SwiftShader (`musiq bench --groups conv2d`): root 7×7 conv 1.07-1.08 s, 3×3
// conv 0.73-0.74 s, against 1.44-1.50 / 1.01-1.04 for 16 pixels × 1 column a lane; 8 × 4:
// 1.14-1.19 / 0.81; 16 × 4: 1.11 / 0.74 (twice the compile); 12 × 2, 16 × 2, 4 × 4 slower.
// Again after dot4 became a matrix product (Zen 5 host, the model switched image by image in one
// process): the two convolutions 1.51-1.67 s at 12 pixels, 1.46-1.56 at 16, 1.42-1.51 at 24, whose
// pipeline took ~170 s to compile. ~1% of an image: 12 kept.
// At LP_NATIVE_VECTOR_WIDTH=128 on lavapipe: 277 / 208 ms against 366 / 239.
// On SwiftShader it replaced conv2d.wgsl, whose pipeline took 21 s to compile there (8 taps live
// across three nested loops) against ~0.4 s for this one; conv2d_gemm4.wgsl has since replaced it
// there, but for input channels that are not a multiple of 4.
// Needs subgroups of at least 4 lanes (conv2d.ts checks) and cout % 4 == 0.
// Why the accumulator body is written out, and near-copied in conv2d_subgroup.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/conv_subgroup_io.
enable subgroups;
#include "lib/conv_subgroup_io"
#include "lib/endless"

@compute @workgroup_size(4)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // This lane's 4 vec4 columns of output channels; columns past the edge compute a duplicate of
  // the last one and store nothing.
  let col = (wg.z * 4u + li) * 4u;
  let c0 = min(col, p.cout4 - 1u);
  let c1 = min(col + 1u, p.cout4 - 1u);
  let c2 = min(col + 2u, p.cout4 - 1u);
  let c3 = min(col + 3u, p.cout4 - 1u);
  let m0 = (wg.x + wg.y * nwg.x) * 12u;
  let ra = row(m0 + lane);
  let rb = row(m0 + 4u + lane);
  let rc = row(m0 + 8u + lane);
  let runLen = p.kw * p.cin;
  var a0_0 = vec4f(); var a0_1 = vec4f(); var a0_2 = vec4f(); var a0_3 = vec4f();
  var a1_0 = vec4f(); var a1_1 = vec4f(); var a1_2 = vec4f(); var a1_3 = vec4f();
  var a2_0 = vec4f(); var a2_1 = vec4f(); var a2_2 = vec4f(); var a2_3 = vec4f();
  var a3_0 = vec4f(); var a3_1 = vec4f(); var a3_2 = vec4f(); var a3_3 = vec4f();
  var a4_0 = vec4f(); var a4_1 = vec4f(); var a4_2 = vec4f(); var a4_3 = vec4f();
  var a5_0 = vec4f(); var a5_1 = vec4f(); var a5_2 = vec4f(); var a5_3 = vec4f();
  var a6_0 = vec4f(); var a6_1 = vec4f(); var a6_2 = vec4f(); var a6_3 = vec4f();
  var a7_0 = vec4f(); var a7_1 = vec4f(); var a7_2 = vec4f(); var a7_3 = vec4f();
  var a8_0 = vec4f(); var a8_1 = vec4f(); var a8_2 = vec4f(); var a8_3 = vec4f();
  var a9_0 = vec4f(); var a9_1 = vec4f(); var a9_2 = vec4f(); var a9_3 = vec4f();
  var a10_0 = vec4f(); var a10_1 = vec4f(); var a10_2 = vec4f(); var a10_3 = vec4f();
  var a11_0 = vec4f(); var a11_1 = vec4f(); var a11_2 = vec4f(); var a11_3 = vec4f();
  for (var ky = 0u; ky < ENDLESS; ky++) { // lib/endless: no iteration counter
    if (ky >= p.kh) { break; }
    let ua = kernelRow(ra, ky);
    let ub = kernelRow(rb, ky);
    let uc = kernelRow(rc, ky);
    for (var i = 0u; i < ENDLESS; i++) {
      let t = 4u * i;
      if (t >= runLen) { break; }
      let k = ky * runLen + t;
      let w0 = weights4(k, c0); let w1 = weights4(k, c1); let w2 = weights4(k, c2); let w3 = weights4(k, c3);
      let xa = load4(ua, t);
      let xb = load4(ub, t);
      let xc = load4(uc, t);
      let b0 = subgroupBroadcast(xa, 0u);
      a0_0 += dot4(b0, w0); a0_1 += dot4(b0, w1); a0_2 += dot4(b0, w2); a0_3 += dot4(b0, w3);
      let b1 = subgroupBroadcast(xa, 1u);
      a1_0 += dot4(b1, w0); a1_1 += dot4(b1, w1); a1_2 += dot4(b1, w2); a1_3 += dot4(b1, w3);
      let b2 = subgroupBroadcast(xa, 2u);
      a2_0 += dot4(b2, w0); a2_1 += dot4(b2, w1); a2_2 += dot4(b2, w2); a2_3 += dot4(b2, w3);
      let b3 = subgroupBroadcast(xa, 3u);
      a3_0 += dot4(b3, w0); a3_1 += dot4(b3, w1); a3_2 += dot4(b3, w2); a3_3 += dot4(b3, w3);
      let b4 = subgroupBroadcast(xb, 0u);
      a4_0 += dot4(b4, w0); a4_1 += dot4(b4, w1); a4_2 += dot4(b4, w2); a4_3 += dot4(b4, w3);
      let b5 = subgroupBroadcast(xb, 1u);
      a5_0 += dot4(b5, w0); a5_1 += dot4(b5, w1); a5_2 += dot4(b5, w2); a5_3 += dot4(b5, w3);
      let b6 = subgroupBroadcast(xb, 2u);
      a6_0 += dot4(b6, w0); a6_1 += dot4(b6, w1); a6_2 += dot4(b6, w2); a6_3 += dot4(b6, w3);
      let b7 = subgroupBroadcast(xb, 3u);
      a7_0 += dot4(b7, w0); a7_1 += dot4(b7, w1); a7_2 += dot4(b7, w2); a7_3 += dot4(b7, w3);
      let b8 = subgroupBroadcast(xc, 0u);
      a8_0 += dot4(b8, w0); a8_1 += dot4(b8, w1); a8_2 += dot4(b8, w2); a8_3 += dot4(b8, w3);
      let b9 = subgroupBroadcast(xc, 1u);
      a9_0 += dot4(b9, w0); a9_1 += dot4(b9, w1); a9_2 += dot4(b9, w2); a9_3 += dot4(b9, w3);
      let b10 = subgroupBroadcast(xc, 2u);
      a10_0 += dot4(b10, w0); a10_1 += dot4(b10, w1); a10_2 += dot4(b10, w2); a10_3 += dot4(b10, w3);
      let b11 = subgroupBroadcast(xc, 3u);
      a11_0 += dot4(b11, w0); a11_1 += dot4(b11, w1); a11_2 += dot4(b11, w2); a11_3 += dot4(b11, w3);
    }
  }
  if (col + 0u < p.cout4) {
    store(m0, c0, a0_0); store(m0 + 1u, c0, a1_0); store(m0 + 2u, c0, a2_0); store(m0 + 3u, c0, a3_0);
    store(m0 + 4u, c0, a4_0); store(m0 + 5u, c0, a5_0); store(m0 + 6u, c0, a6_0); store(m0 + 7u, c0, a7_0);
    store(m0 + 8u, c0, a8_0); store(m0 + 9u, c0, a9_0); store(m0 + 10u, c0, a10_0); store(m0 + 11u, c0, a11_0);
  }
  if (col + 1u < p.cout4) {
    store(m0, c1, a0_1); store(m0 + 1u, c1, a1_1); store(m0 + 2u, c1, a2_1); store(m0 + 3u, c1, a3_1);
    store(m0 + 4u, c1, a4_1); store(m0 + 5u, c1, a5_1); store(m0 + 6u, c1, a6_1); store(m0 + 7u, c1, a7_1);
    store(m0 + 8u, c1, a8_1); store(m0 + 9u, c1, a9_1); store(m0 + 10u, c1, a10_1); store(m0 + 11u, c1, a11_1);
  }
  if (col + 2u < p.cout4) {
    store(m0, c2, a0_2); store(m0 + 1u, c2, a1_2); store(m0 + 2u, c2, a2_2); store(m0 + 3u, c2, a3_2);
    store(m0 + 4u, c2, a4_2); store(m0 + 5u, c2, a5_2); store(m0 + 6u, c2, a6_2); store(m0 + 7u, c2, a7_2);
    store(m0 + 8u, c2, a8_2); store(m0 + 9u, c2, a9_2); store(m0 + 10u, c2, a10_2); store(m0 + 11u, c2, a11_2);
  }
  if (col + 3u < p.cout4) {
    store(m0, c3, a0_3); store(m0 + 1u, c3, a1_3); store(m0 + 2u, c3, a2_3); store(m0 + 3u, c3, a3_3);
    store(m0 + 4u, c3, a4_3); store(m0 + 5u, c3, a5_3); store(m0 + 6u, c3, a6_3); store(m0 + 7u, c3, a7_3);
    store(m0 + 8u, c3, a8_3); store(m0 + 9u, c3, a9_3); store(m0 + 10u, c3, a10_3); store(m0 + 11u, c3, a11_3);
  }
}
