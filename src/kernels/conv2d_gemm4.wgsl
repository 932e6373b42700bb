// The convolution (SAME padding, NHWC input, HWIO weights, cin % 4 == 0) as an implicit GEMM laid
// out as matmul_subgroup4.wgsl: a 4-lane workgroup computes 32 output pixels × 16 vec4 channel
// columns. Lane l gathers the inputs of pixels m0 + l + 4i (i = 0..7), subgroupBroadcast hands
// each to the other lanes, and every lane accumulates all 32 pixels in its 4 vec4 columns. The
// k loop is one loop over (kernel row, tap, vec4 of channels), its three counters stepped with
// selects, no division. conv2d.ts checks cin % 4 == 0 and the 4 lanes; the root convolution runs
// on RGB0 patches for it (stem.ts, rootChannels).
// SwiftShader's convolution. conv2d_subgroup4 nests two loops (kernel row, then the row's run),
// so its accumulators pass two loop headers, and its 12-pixel tile loads more weights per
// multiply-add (16 and 24 pixels ran ~1% faster there, 24 compiling for ~170 s). This kernel, on
// a Zen 5 host (918 patches, the kernel alone in turns, 200 ms batches): the 3×3 convolution
// 457-473 ms against 571-607, the root on RGB0 663-686 ms against conv2d_subgroup4's 866-972 on
// RGB; compile ~0.6 s.
// The padding test uses `&`, not `&&`: WGSL's && short-circuits, Tint emits it as a branch, and a
// branch in the loop body took SwiftShader's compile of this kernel from 0.6 s to 4.4-5.4 s.
// Its four storeColumn calls in a loop over the columns, each element chosen by select()
// (2026-12-05, Zen 5, in turns): compile 0.36-0.42 s against 0.39-0.47, but the root 4-11% and
// conv2 8-10% slower to run. Not kept.
enable subgroups;
#include "lib/conv_subgroup_io"

@compute @workgroup_size(4)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let col = (wg.z * 4u + li) * 4u;
  let ka = min(col, p.cout4 - 1u);
  let kb = min(col + 1u, p.cout4 - 1u);
  let kc = min(col + 2u, p.cout4 - 1u);
  let kd = min(col + 3u, p.cout4 - 1u);
  let m0 = (wg.x + wg.y * nwg.x) * 32u;
  let r0 = row(m0 + 0u + lane);
  let r1 = row(m0 + 4u + lane);
  let r2 = row(m0 + 8u + lane);
  let r3 = row(m0 + 12u + lane);
  let r4 = row(m0 + 16u + lane);
  let r5 = row(m0 + 20u + lane);
  let r6 = row(m0 + 24u + lane);
  let r7 = row(m0 + 28u + lane);
  #include "lib/tile32x4_accumulators"
  var ch = 0u; var kx = 0u; var ky = 0u;
  for (var k = 0u; k < p.kTotal; k += 4u) {
    let wa = weights4(k, ka); let wb = weights4(k, kb); let wc = weights4(k, kc); let wd = weights4(k, kd);
    let v0 = tap4(r0, ky, kx, ch);
    let v1 = tap4(r1, ky, kx, ch);
    let v2 = tap4(r2, ky, kx, ch);
    let v3 = tap4(r3, ky, kx, ch);
    let v4 = tap4(r4, ky, kx, ch);
    let v5 = tap4(r5, ky, kx, ch);
    let v6 = tap4(r6, ky, kx, ch);
    let v7 = tap4(r7, ky, kx, ch);
    { let v = subgroupBroadcast(v0, 0u); a0 += dot4(v, wa); b0 += dot4(v, wb); c0 += dot4(v, wc); d0 += dot4(v, wd); }
    { let v = subgroupBroadcast(v0, 1u); a1 += dot4(v, wa); b1 += dot4(v, wb); c1 += dot4(v, wc); d1 += dot4(v, wd); }
    { let v = subgroupBroadcast(v0, 2u); a2 += dot4(v, wa); b2 += dot4(v, wb); c2 += dot4(v, wc); d2 += dot4(v, wd); }
    { let v = subgroupBroadcast(v0, 3u); a3 += dot4(v, wa); b3 += dot4(v, wb); c3 += dot4(v, wc); d3 += dot4(v, wd); }
    { let v = subgroupBroadcast(v1, 0u); a4 += dot4(v, wa); b4 += dot4(v, wb); c4 += dot4(v, wc); d4 += dot4(v, wd); }
    { let v = subgroupBroadcast(v1, 1u); a5 += dot4(v, wa); b5 += dot4(v, wb); c5 += dot4(v, wc); d5 += dot4(v, wd); }
    { let v = subgroupBroadcast(v1, 2u); a6 += dot4(v, wa); b6 += dot4(v, wb); c6 += dot4(v, wc); d6 += dot4(v, wd); }
    { let v = subgroupBroadcast(v1, 3u); a7 += dot4(v, wa); b7 += dot4(v, wb); c7 += dot4(v, wc); d7 += dot4(v, wd); }
    { let v = subgroupBroadcast(v2, 0u); a8 += dot4(v, wa); b8 += dot4(v, wb); c8 += dot4(v, wc); d8 += dot4(v, wd); }
    { let v = subgroupBroadcast(v2, 1u); a9 += dot4(v, wa); b9 += dot4(v, wb); c9 += dot4(v, wc); d9 += dot4(v, wd); }
    { let v = subgroupBroadcast(v2, 2u); a10 += dot4(v, wa); b10 += dot4(v, wb); c10 += dot4(v, wc); d10 += dot4(v, wd); }
    { let v = subgroupBroadcast(v2, 3u); a11 += dot4(v, wa); b11 += dot4(v, wb); c11 += dot4(v, wc); d11 += dot4(v, wd); }
    { let v = subgroupBroadcast(v3, 0u); a12 += dot4(v, wa); b12 += dot4(v, wb); c12 += dot4(v, wc); d12 += dot4(v, wd); }
    { let v = subgroupBroadcast(v3, 1u); a13 += dot4(v, wa); b13 += dot4(v, wb); c13 += dot4(v, wc); d13 += dot4(v, wd); }
    { let v = subgroupBroadcast(v3, 2u); a14 += dot4(v, wa); b14 += dot4(v, wb); c14 += dot4(v, wc); d14 += dot4(v, wd); }
    { let v = subgroupBroadcast(v3, 3u); a15 += dot4(v, wa); b15 += dot4(v, wb); c15 += dot4(v, wc); d15 += dot4(v, wd); }
    { let v = subgroupBroadcast(v4, 0u); a16 += dot4(v, wa); b16 += dot4(v, wb); c16 += dot4(v, wc); d16 += dot4(v, wd); }
    { let v = subgroupBroadcast(v4, 1u); a17 += dot4(v, wa); b17 += dot4(v, wb); c17 += dot4(v, wc); d17 += dot4(v, wd); }
    { let v = subgroupBroadcast(v4, 2u); a18 += dot4(v, wa); b18 += dot4(v, wb); c18 += dot4(v, wc); d18 += dot4(v, wd); }
    { let v = subgroupBroadcast(v4, 3u); a19 += dot4(v, wa); b19 += dot4(v, wb); c19 += dot4(v, wc); d19 += dot4(v, wd); }
    { let v = subgroupBroadcast(v5, 0u); a20 += dot4(v, wa); b20 += dot4(v, wb); c20 += dot4(v, wc); d20 += dot4(v, wd); }
    { let v = subgroupBroadcast(v5, 1u); a21 += dot4(v, wa); b21 += dot4(v, wb); c21 += dot4(v, wc); d21 += dot4(v, wd); }
    { let v = subgroupBroadcast(v5, 2u); a22 += dot4(v, wa); b22 += dot4(v, wb); c22 += dot4(v, wc); d22 += dot4(v, wd); }
    { let v = subgroupBroadcast(v5, 3u); a23 += dot4(v, wa); b23 += dot4(v, wb); c23 += dot4(v, wc); d23 += dot4(v, wd); }
    { let v = subgroupBroadcast(v6, 0u); a24 += dot4(v, wa); b24 += dot4(v, wb); c24 += dot4(v, wc); d24 += dot4(v, wd); }
    { let v = subgroupBroadcast(v6, 1u); a25 += dot4(v, wa); b25 += dot4(v, wb); c25 += dot4(v, wc); d25 += dot4(v, wd); }
    { let v = subgroupBroadcast(v6, 2u); a26 += dot4(v, wa); b26 += dot4(v, wb); c26 += dot4(v, wc); d26 += dot4(v, wd); }
    { let v = subgroupBroadcast(v6, 3u); a27 += dot4(v, wa); b27 += dot4(v, wb); c27 += dot4(v, wc); d27 += dot4(v, wd); }
    { let v = subgroupBroadcast(v7, 0u); a28 += dot4(v, wa); b28 += dot4(v, wb); c28 += dot4(v, wc); d28 += dot4(v, wd); }
    { let v = subgroupBroadcast(v7, 1u); a29 += dot4(v, wa); b29 += dot4(v, wb); c29 += dot4(v, wc); d29 += dot4(v, wd); }
    { let v = subgroupBroadcast(v7, 2u); a30 += dot4(v, wa); b30 += dot4(v, wb); c30 += dot4(v, wc); d30 += dot4(v, wd); }
    { let v = subgroupBroadcast(v7, 3u); a31 += dot4(v, wa); b31 += dot4(v, wb); c31 += dot4(v, wc); d31 += dot4(v, wd); }
    // The next vec4 of channels, then the next tap of the row, then the next kernel row.
    ch += 4u;
    let nextTap = ch == p.cin;
    ch = select(ch, 0u, nextTap);
    kx += select(0u, 1u, nextTap);
    let nextRow = kx == p.kw;
    kx = select(kx, 0u, nextRow);
    ky += select(0u, 1u, nextRow);
  }
  storeColumn(m0, col + 0u, ka, array<vec4f, 32>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31));
  storeColumn(m0, col + 1u, kb, array<vec4f, 32>(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31));
  storeColumn(m0, col + 2u, kc, array<vec4f, 32>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31));
  storeColumn(m0, col + 3u, kd, array<vec4f, 32>(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31));
}

// Input channels c..c+3 of tap (ky, kx) of pixel r's window: zero where it falls in the padding.
fn tap4(r: Row, ky: u32, kx: u32, c: u32) -> vec4f {
  let iy = r.iy + i32(ky);
  let ix = r.ix + i32(kx);
  let inside = (iy >= 0) & (iy < i32(p.h)) & (ix >= 0) & (ix < i32(p.w));
  let i = select(0, ((i32(r.img) + iy) * i32(p.w) + ix) * i32(p.cin) + i32(c), inside);
  return select(vec4f(), x[u32(i) / 4u], inside);
}

// A column's 32 pixels (vec4 column col, loaded as c: clamped), stored in a loop.
fn storeColumn(m0: u32, col: u32, c: u32, a: array<vec4f, 32>) {
  if (col >= p.cout4) { return; }
  for (var r = 0u; r < 32u; r++) { store(m0 + r, c, a[r]); }
}
