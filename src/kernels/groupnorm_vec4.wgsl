// groupnorm.wgsl's GroupNorm, reading and writing 4 channels per access, for C % 4 == 0 and
// CPG (channels per group) 1, 2 or a multiple of 4 — every MUSIQ GroupNorm. On CPU backends a
// load costs a loop over the lanes whatever its width: measured 2-5× faster than groupnorm.wgsl.
// One invocation owns one patch's "unit" of max(CPG, 4) consecutive channels: 4 groups of 1,
// 2 groups of 2, or one whole group. Same numerics as groupnorm.wgsl: statistics of
// d = x − shift (shift = the group's first value), centred variance, y = (d − dmean)·rstd·s + b.
// main_pool also max-pools what it normalised (the stem's root: GN, ReLU, 3×3/2 pool), so the
// full-resolution normalised tensor is never written and read back.
// Tried, not kept (2026-12-05, Zen 1): 4 positions per loop iteration in the statistics and the
// output passes. SwiftShader ran the unpooled entries ~30% faster (gn_proj 276-287 ms against
// 166-201; the model ~0.2 s of ~24 s) and lavapipe ~12%, but lavapipe's cold compile of the five
// pipelines grew from 0.3-0.4 s each to 0.9-1.6 s: +3.6 s on a newcomer's first image against
// ~50 ms an image. Pooling 3 taps an iteration, or with clamped loads instead of branches, did
// not help either; 9 taps written out took SwiftShader minutes and ~9 GB to compile.
// Nor CPG and RELU as uniforms instead of overrides, so that gn_proj and gn1/gn2 share a pipeline:
// one lavapipe compile fewer (~0.3 s, once), but SwiftShader ran the stem's GroupNorms 5-14%
// slower (the pooled root 455-489 ms against 426-431) and lavapipe's plain ones up to ~10%.
struct Params {
  units: u32,    // P · C / max(CPG, 4)
  spatial: u32,
  channels4: u32, // C / 4
  unit4: u32,    // vec4s per unit: max(CPG, 4) / 4
  eps: f32,
  // main_pool only (the other entries get zeros): input h × w (= spatial), output ho × wo,
  // window k, stride, SAME padding before.
  h: u32,
  w: u32,
  ho: u32,
  wo: u32,
  k: u32,
  stride: u32,
  padTop: u32,
  padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> scale: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(5) var<storage, read> r: array<vec4f>;

override CPG: u32 = 2u;
override RELU: bool = false;
override U4: u32 = max(CPG, 4u) / 4u; // vec4s per unit (= p.unit4): a constant trip count
const WG = 64u;
#include "lib/endless"

// Each component's group total, given per-component partial sums: the 4 components are 4
// groups (CPG 1), 2 groups of 2 (CPG 2), or one group (CPG ≥ 4).
fn groupSum(s: vec4f) -> vec4f {
  if (CPG == 1u) { return s; }
  if (CPG == 2u) { return vec4f(s.x + s.y, s.x + s.y, s.z + s.w, s.z + s.w); }
  return vec4f(s.x + s.y + s.z + s.w);
}

// Each component's shift: the first value of its group, from the unit's first vec4.
fn groupFirst(v: vec4f) -> vec4f {
  if (CPG == 1u) { return v; }
  if (CPG == 2u) { return v.xxzz; }
  return v.xxxx;
}

struct Unit {
  first: u32, // vec4 index of the unit at the patch's first position
  c4: u32,    // the unit's first vec4 of channels
  img: u32,   // the patch (first axis)
  ok: bool,
}

fn unit(wid: vec3u, nwg: vec3u, li: u32) -> Unit {
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  let perPatch = p.channels4 / p.unit4;
  let c4 = (id % perPatch) * p.unit4;
  let img = id / perPatch;
  return Unit(img * p.spatial * p.channels4 + c4, c4, img, id < p.units);
}

struct Stats {
  shift: vec4f,
  dmean: vec4f,
  rstd: vec4f,
}

fn stats(u: Unit) -> Stats {
  let n = f32(p.spatial * CPG);
  var st: Stats;
  st.shift = groupFirst(x[u.first]);
  var sum = vec4f();
  for (var s = 0u; s < ENDLESS; s++) {
    if (s >= p.spatial) { break; }
    let at = u.first + s * p.channels4;
    for (var j = 0u; j < U4; j++) { sum += x[at + j] - st.shift; }
  }
  st.dmean = groupSum(sum) / n;
  var sq = vec4f();
  for (var s = 0u; s < ENDLESS; s++) {
    if (s >= p.spatial) { break; }
    let at = u.first + s * p.channels4;
    for (var j = 0u; j < U4; j++) {
      let d = (x[at + j] - st.shift) - st.dmean;
      sq += d * d;
    }
  }
  st.rstd = inverseSqrt(groupSum(sq) / n + p.eps);
  return st;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let u = unit(wid, nwg, li);
  if (!u.ok) { return; }
  let st = stats(u);
  for (var j = 0u; j < U4; j++) {
    let a = st.rstd * scale[u.c4 + j];
    let b = bias[u.c4 + j];
    for (var s = 0u; s < ENDLESS; s++) {
      if (s >= p.spatial) { break; }
      let i = u.first + s * p.channels4 + j;
      var v = ((x[i] - st.shift) - st.dmean) * a + b;
      if (RELU) { v = max(v, vec4f()); }
      y[i] = v;
    }
  }
}

// y = ReLU(GN(x) + r), the bottleneck unit's end.
@compute @workgroup_size(WG)
fn main_residual(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let u = unit(wid, nwg, li);
  if (!u.ok) { return; }
  let st = stats(u);
  for (var j = 0u; j < U4; j++) {
    let a = st.rstd * scale[u.c4 + j];
    let b = bias[u.c4 + j];
    for (var s = 0u; s < ENDLESS; s++) {
      if (s >= p.spatial) { break; }
      let i = u.first + s * p.channels4 + j;
      y[i] = max(((x[i] - st.shift) - st.dmean) * a + b + r[i], vec4f());
    }
  }
}

const LOWEST = -3.40282346e38; // maxpool.wgsl's −∞: padded taps never win

// y [P, ho, wo, C] = SAME max-pool (window k, stride) of GN(x) (+ReLU), x [P, h, w, C]: every
// tap is normalised with main's expression and then pooled as maxpool.wgsl pools, so the result
// is what the two kernels give one after the other.
@compute @workgroup_size(WG)
fn main_pool(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let u = unit(wid, nwg, li);
  if (!u.ok) { return; }
  let st = stats(u);
  let outFirst = u.img * p.ho * p.wo * p.channels4 + u.c4;
  for (var j = 0u; j < U4; j++) {
    let a = st.rstd * scale[u.c4 + j];
    let b = bias[u.c4 + j];
    for (var o = 0u; o < ENDLESS; o++) {
      if (o >= p.ho * p.wo) { break; }
      let y0 = i32((o / p.wo) * p.stride) - i32(p.padTop);
      let x0 = i32((o % p.wo) * p.stride) - i32(p.padLeft);
      var m = vec4f(LOWEST);
      for (var dy = 0u; dy < ENDLESS; dy++) {
        if (dy >= p.k) { break; }
        let iy = y0 + i32(dy);
        if (iy < 0 || iy >= i32(p.h)) { continue; }
        for (var dx = 0u; dx < ENDLESS; dx++) {
          if (dx >= p.k) { break; }
          let ix = x0 + i32(dx);
          if (ix < 0 || ix >= i32(p.w)) { continue; }
          var v = ((x[u.first + (u32(iy) * p.w + u32(ix)) * p.channels4 + j] - st.shift) - st.dmean) * a + b;
          if (RELU) { v = max(v, vec4f()); }
          m = max(m, v);
        }
      }
      y[outFirst + o * p.channels4 + j] = m;
    }
  }
}
