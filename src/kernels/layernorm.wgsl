// LayerNorm over the last dim: y = (x − mean)·(rsqrt(var + eps)·scale) + bias, one workgroup
// per row. The variance is two-pass, Σ(x − mean)²/D, not flax's E[x²] − E[x]²: see
// layernorm.ts for why that matches the original scores at least as well.

override WG: u32 = 64u;

struct Params {
  rows: u32, // rows normalised (the first `rows` of x)
  D: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

// Sum of every invocation's v, returned to all; WG is a power of two.
fn workgroupSum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // partial is reused by the next call
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x + wg.y * nwg.x;
  if (row >= p.rows) { return; } // uniform per workgroup, so the barriers below stay uniform
  let base = row * p.D;
  let n = f32(p.D);

  var s = 0.0;
  for (var c = lid; c < p.D; c += WG) { s += x[base + c]; }
  let mean = workgroupSum(lid, s) / n;

  var s2 = 0.0;
  for (var c = lid; c < p.D; c += WG) {
    let d = x[base + c] - mean;
    s2 = fma(d, d, s2);
  }
  let inv = inverseSqrt(workgroupSum(lid, s2) / n + p.eps);

  for (var c = lid; c < p.D; c += WG) {
    y[base + c] = (x[base + c] - mean) * (inv * scale[c]) + bias[c];
  }
}
