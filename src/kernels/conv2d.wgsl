// 2-D convolution as an implicit GEMM: rows = output pixels (patch, oy, ox), K = (ky, kx, cin),
// columns = cout. NHWC input, HWIO kernel (already K×N row-major), SAME padding (zeros), no bias.
//
// Register-blocked: each invocation computes 8 output pixels × 8 output channels (2 vec4) and
// reads its operands straight from storage, no workgroup memory or barriers. Per K step it loads
// 8 input scalars and 2 weight vec4s for 16 vec4 multiply-adds. On lavapipe (the CPU backend we
// measure on) every non-constant load is a per-lane loop, so loads per FMA is what counts:
// measured on the stem's shapes, 8×2 beat 4×2, 6×2, 4×4, 8×4, 16×2 and a vec4-input variant
// (which builds mat4x4s and was 1.7× slower). The blocking is spelled out as 8 named rows and 16
// named accumulators because arrays indexed in loops ended up in memory there.
// cout must be a multiple of 4; a last block of only 4 channels (cout ≡ 4 mod 8) stays valid.
struct Params {
  rows: u32,      // P·ho·wo
  h: u32,
  w: u32,
  cin: u32,
  ho: u32,
  wo: u32,
  cout4: u32,     // cout / 4
  colBlocks: u32, // ceil(cout4 / 2)
  kh: u32,
  kw: u32,
  stride: u32,
  padTop: u32,
  padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;

const WG = 64u;

// One output pixel: its patch's first image row and the top-left tap of its window.
#include "lib/conv_row"

// Tap (ky, kx) of a row: inside the image or in the zero padding, and the index of its first
// input channel (0 when outside, so the load stays in range and is then replaced by zero).
struct Tap {
  ok: bool,
  at: u32,
}

fn tap(r: Row, ky: u32, kx: u32) -> Tap {
  let iy = r.iy + i32(ky);
  let ix = r.ix + i32(kx);
  // `&`, not `&&`: WGSL's && short-circuits, and Tint emits it as a branch. SwiftShader compiled
  // this kernel in 15.6 s with &&, 0.15 s with &; lavapipe ran it as fast (284 ms, 918 patches).
  let ok = (iy >= 0) & (iy < i32(p.h)) & (ix >= 0) & (ix < i32(p.w));
  return Tap(ok, select(0u, ((r.img + u32(iy)) * p.w + u32(ix)) * p.cin, ok));
}

fn load(t: Tap, c: u32) -> f32 {
  return select(0.0, x[t.at + c], t.ok);
}

fn store(m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  if (m >= p.rows) { return; }
  y[m * p.cout4 + n0] = lo;
  if (n0 + 1u < p.cout4) { y[m * p.cout4 + n0 + 1u] = hi; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  // Neighbouring invocations take neighbouring channel blocks of the same 8 pixels.
  let m0 = (id / p.colBlocks) * 8u;
  if (m0 >= p.rows) { return; }
  let n0 = (id % p.colBlocks) * 2u;
  let n1 = min(n0 + 1u, p.cout4 - 1u);
  let r0 = row(m0); let r1 = row(m0 + 1u); let r2 = row(m0 + 2u); let r3 = row(m0 + 3u);
  let r4 = row(m0 + 4u); let r5 = row(m0 + 5u); let r6 = row(m0 + 6u); let r7 = row(m0 + 7u);
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var a4 = vec4f(); var a5 = vec4f(); var a6 = vec4f(); var a7 = vec4f();
  var b0 = vec4f(); var b1 = vec4f(); var b2 = vec4f(); var b3 = vec4f();
  var b4 = vec4f(); var b5 = vec4f(); var b6 = vec4f(); var b7 = vec4f();
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      let t0 = tap(r0, ky, kx); let t1 = tap(r1, ky, kx); let t2 = tap(r2, ky, kx); let t3 = tap(r3, ky, kx);
      let t4 = tap(r4, ky, kx); let t5 = tap(r5, ky, kx); let t6 = tap(r6, ky, kx); let t7 = tap(r7, ky, kx);
      var k = (ky * p.kw + kx) * p.cin * p.cout4; // vec4 index of weight row (ky, kx, 0)
      for (var c = 0u; c < p.cin; c++) {
        // All loads first, then the arithmetic: on lavapipe each load is its own little loop
        // over lanes, and multiply-adds between them split the block (measured 1.3× slower).
        let v0 = load(t0, c); let v1 = load(t1, c); let v2 = load(t2, c); let v3 = load(t3, c);
        let v4 = load(t4, c); let v5 = load(t5, c); let v6 = load(t6, c); let v7 = load(t7, c);
        let wa = wt[k + n0];
        let wb = wt[k + n1];
        a0 += v0 * wa; a1 += v1 * wa; a2 += v2 * wa; a3 += v3 * wa;
        a4 += v4 * wa; a5 += v5 * wa; a6 += v6 * wa; a7 += v7 * wa;
        b0 += v0 * wb; b1 += v1 * wb; b2 += v2 * wb; b3 += v3 * wb;
        b4 += v4 * wb; b5 += v5 * wb; b6 += v6 * wb; b7 += v7 * wb;
        k += p.cout4;
      }
    }
  }
  store(m0, n0, a0, b0); store(m0 + 1u, n0, a1, b1); store(m0 + 2u, n0, a2, b2); store(m0 + 3u, n0, a3, b3);
  store(m0 + 4u, n0, a4, b4); store(m0 + 5u, n0, a5, b5); store(m0 + 6u, n0, a6, b6); store(m0 + 7u, n0, a7, b7);
}
