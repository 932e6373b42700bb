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
// K runs over (ky, then kx·cin + c): for one kernel row the kw·cin inputs of a pixel are
// contiguous in NHWC, and which of them are padding is a range check, no division.
// Needs subgroups of at least 8 lanes (conv2d.ts checks) and cout % 4 == 0.
enable subgroups;

struct Params {
  rows: u32,      // P·ho·wo
  h: u32,
  w: u32,
  cin: u32,
  ho: u32,
  wo: u32,
  cout4: u32,     // cout / 4
  kTotal: u32,    // kh·kw·cin
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

// One output pixel: its patch's first image row and the top-left tap of its window.
#include "lib/conv_row"

// Kernel row ky of a pixel: its inputs start at `base`; run elements [lo, hi) lie inside the
// image, the others are zero padding (all of them when row iy is outside).
struct Run {
  base: i32,
  lo: u32,
  hi: u32,
}

fn kernelRow(r: Row, ky: u32) -> Run {
  let iy = r.iy + i32(ky);
  let inside = iy >= 0 && iy < i32(p.h);
  let lo = u32(max(-r.ix, 0)) * p.cin;
  let hi = select(0u, u32(clamp(i32(p.w) - r.ix, 0, i32(p.kw))) * p.cin, inside);
  return Run((i32(r.img) + iy) * i32(p.w * p.cin) + r.ix * i32(p.cin), lo, hi);
}

fn load(u: Run, t: u32) -> f32 {
  return select(0.0, x[u32(max(u.base + i32(t), 0))], t >= u.lo && t < u.hi);
}

fn load4(u: Run, t: u32) -> vec4f {
  return vec4f(load(u, t), load(u, t + 1u), load(u, t + 2u), load(u, t + 3u));
}

// Σ_j v[j]·w_j: 4 K steps of one pixel into a vec4 of 4 output channels.
fn dot4(v: vec4f, w0: vec4f, w1: vec4f, w2: vec4f, w3: vec4f) -> vec4f {
  return v.x * w0 + v.y * w1 + v.z * w2 + v.w * w3;
}

fn store(m: u32, c: u32, v: vec4f) {
  if (m < p.rows) { y[m * p.cout4 + c] = v; }
}

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
      // Steps past the run (kw·cin not a multiple of 4) load zero inputs; their weight rows
      // are clamped into the tensor.
      let k = ky * runLen + t;
      let w0 = wt[min(k, p.kTotal - 1u) * p.cout4 + c];
      let w1 = wt[min(k + 1u, p.kTotal - 1u) * p.cout4 + c];
      let w2 = wt[min(k + 2u, p.kTotal - 1u) * p.cout4 + c];
      let w3 = wt[min(k + 3u, p.kTotal - 1u) * p.cout4 + c];
      let xa = load4(ua, t);
      let xb = load4(ub, t);
      a0 += dot4(subgroupBroadcast(xa, 0u), w0, w1, w2, w3);
      a1 += dot4(subgroupBroadcast(xa, 1u), w0, w1, w2, w3);
      a2 += dot4(subgroupBroadcast(xa, 2u), w0, w1, w2, w3);
      a3 += dot4(subgroupBroadcast(xa, 3u), w0, w1, w2, w3);
      a4 += dot4(subgroupBroadcast(xa, 4u), w0, w1, w2, w3);
      a5 += dot4(subgroupBroadcast(xa, 5u), w0, w1, w2, w3);
      a6 += dot4(subgroupBroadcast(xa, 6u), w0, w1, w2, w3);
      a7 += dot4(subgroupBroadcast(xa, 7u), w0, w1, w2, w3);
      a8 += dot4(subgroupBroadcast(xb, 0u), w0, w1, w2, w3);
      a9 += dot4(subgroupBroadcast(xb, 1u), w0, w1, w2, w3);
      a10 += dot4(subgroupBroadcast(xb, 2u), w0, w1, w2, w3);
      a11 += dot4(subgroupBroadcast(xb, 3u), w0, w1, w2, w3);
      a12 += dot4(subgroupBroadcast(xb, 4u), w0, w1, w2, w3);
      a13 += dot4(subgroupBroadcast(xb, 5u), w0, w1, w2, w3);
      a14 += dot4(subgroupBroadcast(xb, 6u), w0, w1, w2, w3);
      a15 += dot4(subgroupBroadcast(xb, 7u), w0, w1, w2, w3);
    }
  }
  if (col >= p.cout4) { return; }
  store(m0, c, a0); store(m0 + 1u, c, a1); store(m0 + 2u, c, a2); store(m0 + 3u, c, a3);
  store(m0 + 4u, c, a4); store(m0 + 5u, c, a5); store(m0 + 6u, c, a6); store(m0 + 7u, c, a7);
  store(m0 + 8u, c, a8); store(m0 + 9u, c, a9); store(m0 + 10u, c, a10); store(m0 + 11u, c, a11);
  store(m0 + 12u, c, a12); store(m0 + 13u, c, a13); store(m0 + 14u, c, a14); store(m0 + 15u, c, a15);
}
