// matmul_subgroup.wgsl with 64-row tiles: each lane loads 8 X rows per 4 k-steps instead of 4,
// so every W load feeds twice the multiply-adds, for more spilled accumulators. Used where
// matmul.ts's wantsTile64() says (measured: the shapes where that trade pays); see
// matmul_subgroup.wgsl for the layout. Same requirements: N % 4 == 0, K % 4 == 0, 8-lane subgroups.
// Why the accumulator body is written out, and near-copied in matmul_subgroup.wgsl and matmul_subgroup4.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/matmul_vec4_io.
enable subgroups;
#include "lib/matmul_w4"
#include "lib/matmul_vec4_io"

const ROWS = 64u;

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
  let x0 = min(m0 + 0u + lane, last) * k4;
  let x1 = min(m0 + 8u + lane, last) * k4;
  let x2 = min(m0 + 16u + lane, last) * k4;
  let x3 = min(m0 + 24u + lane, last) * k4;
  let x4 = min(m0 + 32u + lane, last) * k4;
  let x5 = min(m0 + 40u + lane, last) * k4;
  let x6 = min(m0 + 48u + lane, last) * k4;
  let x7 = min(m0 + 56u + lane, last) * k4;
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0);
  var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0);
  var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  var a16 = vec4f(0); var a17 = vec4f(0); var a18 = vec4f(0); var a19 = vec4f(0);
  var a20 = vec4f(0); var a21 = vec4f(0); var a22 = vec4f(0); var a23 = vec4f(0);
  var a24 = vec4f(0); var a25 = vec4f(0); var a26 = vec4f(0); var a27 = vec4f(0);
  var a28 = vec4f(0); var a29 = vec4f(0); var a30 = vec4f(0); var a31 = vec4f(0);
  var a32 = vec4f(0); var a33 = vec4f(0); var a34 = vec4f(0); var a35 = vec4f(0);
  var a36 = vec4f(0); var a37 = vec4f(0); var a38 = vec4f(0); var a39 = vec4f(0);
  var a40 = vec4f(0); var a41 = vec4f(0); var a42 = vec4f(0); var a43 = vec4f(0);
  var a44 = vec4f(0); var a45 = vec4f(0); var a46 = vec4f(0); var a47 = vec4f(0);
  var a48 = vec4f(0); var a49 = vec4f(0); var a50 = vec4f(0); var a51 = vec4f(0);
  var a52 = vec4f(0); var a53 = vec4f(0); var a54 = vec4f(0); var a55 = vec4f(0);
  var a56 = vec4f(0); var a57 = vec4f(0); var a58 = vec4f(0); var a59 = vec4f(0);
  var a60 = vec4f(0); var a61 = vec4f(0); var a62 = vec4f(0); var a63 = vec4f(0);
  var b0 = vec4f(0); var b1 = vec4f(0); var b2 = vec4f(0); var b3 = vec4f(0);
  var b4 = vec4f(0); var b5 = vec4f(0); var b6 = vec4f(0); var b7 = vec4f(0);
  var b8 = vec4f(0); var b9 = vec4f(0); var b10 = vec4f(0); var b11 = vec4f(0);
  var b12 = vec4f(0); var b13 = vec4f(0); var b14 = vec4f(0); var b15 = vec4f(0);
  var b16 = vec4f(0); var b17 = vec4f(0); var b18 = vec4f(0); var b19 = vec4f(0);
  var b20 = vec4f(0); var b21 = vec4f(0); var b22 = vec4f(0); var b23 = vec4f(0);
  var b24 = vec4f(0); var b25 = vec4f(0); var b26 = vec4f(0); var b27 = vec4f(0);
  var b28 = vec4f(0); var b29 = vec4f(0); var b30 = vec4f(0); var b31 = vec4f(0);
  var b32 = vec4f(0); var b33 = vec4f(0); var b34 = vec4f(0); var b35 = vec4f(0);
  var b36 = vec4f(0); var b37 = vec4f(0); var b38 = vec4f(0); var b39 = vec4f(0);
  var b40 = vec4f(0); var b41 = vec4f(0); var b42 = vec4f(0); var b43 = vec4f(0);
  var b44 = vec4f(0); var b45 = vec4f(0); var b46 = vec4f(0); var b47 = vec4f(0);
  var b48 = vec4f(0); var b49 = vec4f(0); var b50 = vec4f(0); var b51 = vec4f(0);
  var b52 = vec4f(0); var b53 = vec4f(0); var b54 = vec4f(0); var b55 = vec4f(0);
  var b56 = vec4f(0); var b57 = vec4f(0); var b58 = vec4f(0); var b59 = vec4f(0);
  var b60 = vec4f(0); var b61 = vec4f(0); var b62 = vec4f(0); var b63 = vec4f(0);
  for (var k = p.kBegin / 4u; k < p.kEnd / 4u; k++) {
    let wa = w4Block(k, ca);
    let wb = w4Block(k, cb);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    let v4 = x[x4 + k];
    let v5 = x[x5 + k];
    let v6 = x[x6 + k];
    let v7 = x[x7 + k];
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
    { let v = subgroupBroadcast(v4, 0u); a32 += wa * v; b32 += wb * v; }
    { let v = subgroupBroadcast(v4, 1u); a33 += wa * v; b33 += wb * v; }
    { let v = subgroupBroadcast(v4, 2u); a34 += wa * v; b34 += wb * v; }
    { let v = subgroupBroadcast(v4, 3u); a35 += wa * v; b35 += wb * v; }
    { let v = subgroupBroadcast(v4, 4u); a36 += wa * v; b36 += wb * v; }
    { let v = subgroupBroadcast(v4, 5u); a37 += wa * v; b37 += wb * v; }
    { let v = subgroupBroadcast(v4, 6u); a38 += wa * v; b38 += wb * v; }
    { let v = subgroupBroadcast(v4, 7u); a39 += wa * v; b39 += wb * v; }
    { let v = subgroupBroadcast(v5, 0u); a40 += wa * v; b40 += wb * v; }
    { let v = subgroupBroadcast(v5, 1u); a41 += wa * v; b41 += wb * v; }
    { let v = subgroupBroadcast(v5, 2u); a42 += wa * v; b42 += wb * v; }
    { let v = subgroupBroadcast(v5, 3u); a43 += wa * v; b43 += wb * v; }
    { let v = subgroupBroadcast(v5, 4u); a44 += wa * v; b44 += wb * v; }
    { let v = subgroupBroadcast(v5, 5u); a45 += wa * v; b45 += wb * v; }
    { let v = subgroupBroadcast(v5, 6u); a46 += wa * v; b46 += wb * v; }
    { let v = subgroupBroadcast(v5, 7u); a47 += wa * v; b47 += wb * v; }
    { let v = subgroupBroadcast(v6, 0u); a48 += wa * v; b48 += wb * v; }
    { let v = subgroupBroadcast(v6, 1u); a49 += wa * v; b49 += wb * v; }
    { let v = subgroupBroadcast(v6, 2u); a50 += wa * v; b50 += wb * v; }
    { let v = subgroupBroadcast(v6, 3u); a51 += wa * v; b51 += wb * v; }
    { let v = subgroupBroadcast(v6, 4u); a52 += wa * v; b52 += wb * v; }
    { let v = subgroupBroadcast(v6, 5u); a53 += wa * v; b53 += wb * v; }
    { let v = subgroupBroadcast(v6, 6u); a54 += wa * v; b54 += wb * v; }
    { let v = subgroupBroadcast(v6, 7u); a55 += wa * v; b55 += wb * v; }
    { let v = subgroupBroadcast(v7, 0u); a56 += wa * v; b56 += wb * v; }
    { let v = subgroupBroadcast(v7, 1u); a57 += wa * v; b57 += wb * v; }
    { let v = subgroupBroadcast(v7, 2u); a58 += wa * v; b58 += wb * v; }
    { let v = subgroupBroadcast(v7, 3u); a59 += wa * v; b59 += wb * v; }
    { let v = subgroupBroadcast(v7, 4u); a60 += wa * v; b60 += wb * v; }
    { let v = subgroupBroadcast(v7, 5u); a61 += wa * v; b61 += wb * v; }
    { let v = subgroupBroadcast(v7, 6u); a62 += wa * v; b62 += wb * v; }
    { let v = subgroupBroadcast(v7, 7u); a63 += wa * v; b63 += wb * v; }
  }
  storeTile(m0, col, array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                               a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31,
                               a32, a33, a34, a35, a36, a37, a38, a39, a40, a41, a42, a43, a44, a45, a46, a47,
                               a48, a49, a50, a51, a52, a53, a54, a55, a56, a57, a58, a59, a60, a61, a62, a63),
            array<vec4f, ROWS>(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15,
                               b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31,
                               b32, b33, b34, b35, b36, b37, b38, b39, b40, b41, b42, b43, b44, b45, b46, b47,
                               b48, b49, b50, b51, b52, b53, b54, b55, b56, b57, b58, b59, b60, b61, b62, b63));
}
