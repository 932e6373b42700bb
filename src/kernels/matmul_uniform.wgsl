// Y = X·W (+bias)(→gelu)(+residual) for CPU adapters without subgroups (Deno's WebGPU on
// lavapipe), reading X from a uniform buffer. lavapipe turns a storage load at a per-lane address
// into a branch and a bounds check per lane and word, but a uniform-buffer load into a branchless
// gather (Mesa 25.0.7, lp_bld_nir_soa.c), and without subgroups every lane loads every X value it
// multiplies (matmul_blocked.wgsl's header). So a dispatch binds a 64 KiB window of X (one tile of
// TILE_ROWS rows, bound at an offset by matmul.ts) as a uniform buffer, and each lane computes one
// vec4 column of W for those rows, loading its 4×4 W block per 4 k-steps from a texture copy of W
// (lib/matmul_w4_texture, swapped in by matmul.ts, f32 or f16; from storage only where W has more
// rows than a texture may).
// Measured under Deno on a Zen 1 host, 919×384×1152: 157 ms against matmul_blocked's 288 and 317
// for the same layout reading X from storage.
// TILE_ROWS is 32, or 14 where a row is too long for 32 in 64 KiB (K = 1152); the written-out
// accumulators past 14 sit behind a test of the override, which the driver folds away.
#include "lib/matmul_w4"
#include "lib/matmul_vec4_io"

const ROWS = 32u;
override TILE_ROWS: u32 = 32u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col = gid.x; // this lane's vec4 column; past the edge it computes a clamped duplicate, stored nowhere
  let c = min(col, n4 - 1u);
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0); var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0); var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  var a16 = vec4f(0); var a17 = vec4f(0); var a18 = vec4f(0); var a19 = vec4f(0); var a20 = vec4f(0); var a21 = vec4f(0); var a22 = vec4f(0); var a23 = vec4f(0);
  var a24 = vec4f(0); var a25 = vec4f(0); var a26 = vec4f(0); var a27 = vec4f(0); var a28 = vec4f(0); var a29 = vec4f(0); var a30 = vec4f(0); var a31 = vec4f(0);
  for (var k = 0u; k < k4; k++) {
    let w = w4Block(k, c);
    let b = p.xBase + k;
    a0 += w * x[b + 0u * k4];
    a1 += w * x[b + 1u * k4];
    a2 += w * x[b + 2u * k4];
    a3 += w * x[b + 3u * k4];
    a4 += w * x[b + 4u * k4];
    a5 += w * x[b + 5u * k4];
    a6 += w * x[b + 6u * k4];
    a7 += w * x[b + 7u * k4];
    a8 += w * x[b + 8u * k4];
    a9 += w * x[b + 9u * k4];
    a10 += w * x[b + 10u * k4];
    a11 += w * x[b + 11u * k4];
    a12 += w * x[b + 12u * k4];
    a13 += w * x[b + 13u * k4];
    if (TILE_ROWS > 14u) {
      a14 += w * x[b + 14u * k4];
      a15 += w * x[b + 15u * k4];
      a16 += w * x[b + 16u * k4];
      a17 += w * x[b + 17u * k4];
      a18 += w * x[b + 18u * k4];
      a19 += w * x[b + 19u * k4];
      a20 += w * x[b + 20u * k4];
      a21 += w * x[b + 21u * k4];
      a22 += w * x[b + 22u * k4];
      a23 += w * x[b + 23u * k4];
      a24 += w * x[b + 24u * k4];
      a25 += w * x[b + 25u * k4];
      a26 += w * x[b + 26u * k4];
      a27 += w * x[b + 27u * k4];
      a28 += w * x[b + 28u * k4];
      a29 += w * x[b + 29u * k4];
      a30 += w * x[b + 30u * k4];
      a31 += w * x[b + 31u * k4];
    }
  }
  // p.M is this tile's end (matmul.ts): storeColumn stores rows row0 .. M - 1.
  storeColumn(p.row0, col, array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31));
}
