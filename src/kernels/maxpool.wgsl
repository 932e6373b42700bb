// Max-pool over NHWC x [P, H, W, C] → [P, Ho, Wo, C], window k×k, stride s, SAME padding with
// −∞ (flax's reduce_window init), so a padded tap never wins. One invocation per output value.
struct Params {
  total: u32, // P·Ho·Wo·C
  h: u32,
  w: u32,
  c: u32,
  ho: u32,
  wo: u32,
  k: u32,
  stride: u32,
  padTop: u32,
  padLeft: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= p.total) { return; }
  let ch = i % p.c;
  let pix = i / p.c;
  let ox = pix % p.wo;
  let oy = (pix / p.wo) % p.ho;
  let n = pix / (p.wo * p.ho);
  let y0 = i32(oy * p.stride) - i32(p.padTop);
  let x0 = i32(ox * p.stride) - i32(p.padLeft);
  var m = -3.40282346e38; // the lowest f32 stands in for −∞: every window holds a real tap
  for (var dy = 0u; dy < p.k; dy++) {
    let iy = y0 + i32(dy);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var dx = 0u; dx < p.k; dx++) {
      let ix = x0 + i32(dx);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      m = max(m, x[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ch]);
    }
  }
  y[i] = m;
}
