// GroupNorm over x [P, S, C] (S = spatial positions, NHWC flattened): for each patch and each of
// G groups of C/G consecutive channels, statistics over (S, channels of the group), then
// y = (x − mean)·rsqrt(var + eps)·scale[c] + bias[c], optionally + r, optionally ReLU.
// One invocation owns one (patch, group) and makes three passes over its values: mean, then the
// variance as the mean of (x − mean)², then the output. flax computes var = E[x²] − E[x]² in f32,
// which cancels when |mean| ≫ std; both are the same quantity, this form just has less rounding
// error (PyTorch, whose outputs are the shared fixtures, computes centred Welford moments).
struct Params {
  groupsTotal: u32, // P·G
  spatial: u32,
  channels: u32,
  groups: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> r: array<f32>;

override RELU: bool = false;
const WG = 64u;

struct Group {
  first: u32, // index of the group's first value in the patch's first position
  c0: u32,    // the group's first channel
  cpg: u32,   // channels per group
  ok: bool,
}

fn group(wid: vec3u, nwg: vec3u, li: u32) -> Group {
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  var g: Group;
  g.ok = id < p.groupsTotal;
  g.cpg = p.channels / p.groups;
  g.c0 = (id % p.groups) * g.cpg;
  g.first = (id / p.groups) * p.spatial * p.channels + g.c0;
  return g;
}

// A group's statistics. Values are taken relative to the group's first value `shift`: x − shift
// is exact for nearby values (Sterbenz), so a large common offset (a bright flat patch) costs no
// precision, and x − mean = (x − shift) − dmean never rounds the mean to the offset's ulp.
// A constant group gets dmean = 0, var = 0 and y = bias exactly.
struct Stats {
  shift: f32,
  dmean: f32, // mean − shift
  rstd: f32,  // 1 / sqrt(var + eps)
}

fn stats(g: Group) -> Stats {
  let n = f32(p.spatial * g.cpg);
  var st: Stats;
  st.shift = x[g.first];
  var sum = 0.0;
  for (var s = 0u; s < p.spatial; s++) {
    let row = g.first + s * p.channels;
    for (var j = 0u; j < g.cpg; j++) { sum += x[row + j] - st.shift; }
  }
  st.dmean = sum / n;
  var sq = 0.0;
  for (var s = 0u; s < p.spatial; s++) {
    let row = g.first + s * p.channels;
    for (var j = 0u; j < g.cpg; j++) {
      let d = (x[row + j] - st.shift) - st.dmean;
      sq += d * d;
    }
  }
  st.rstd = inverseSqrt(sq / n + p.eps);
  return st;
}

fn centred(st: Stats, v: f32) -> f32 {
  return (v - st.shift) - st.dmean;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = group(wid, nwg, li);
  if (!g.ok) { return; }
  let st = stats(g);
  for (var j = 0u; j < g.cpg; j++) {
    // (x − mean)·a + b, not x·a + (b − mean·a): a large mean would cancel in the latter.
    let a = st.rstd * scale[g.c0 + j];
    let b = bias[g.c0 + j];
    for (var s = 0u; s < p.spatial; s++) {
      let i = g.first + s * p.channels + j;
      var v = centred(st, x[i]) * a + b;
      if (RELU) { v = max(v, 0.0); }
      y[i] = v;
    }
  }
}

// The bottleneck unit's end: y = ReLU(GN(x) + r), r being the already normalised projection.
@compute @workgroup_size(WG)
fn main_residual(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = group(wid, nwg, li);
  if (!g.ok) { return; }
  let st = stats(g);
  for (var j = 0u; j < g.cpg; j++) {
    let a = st.rstd * scale[g.c0 + j];
    let b = bias[g.c0 + j];
    for (var s = 0u; s < p.spatial; s++) {
      let i = g.first + s * p.channels + j;
      y[i] = max(centred(st, x[i]) * a + b + r[i], 0.0);
    }
  }
}
