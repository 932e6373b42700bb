// Max-pool over NHWC x [P, H, W, C] → [P, Ho, Wo, C], window k×k, stride s, SAME padding with
// −∞ (flax's reduce_window init), so a padded tap never wins. One invocation per output value
// (main), or per 4 channels when C % 4 == 0 (main_vec4: on CPU backends a load costs a loop over
// the lanes whatever its width; measured 1.6× faster on the stem's pool).
struct Params {
  total: u32, // P·Ho·Wo·C, or P·Ho·Wo·C/4 for main_vec4
  h: u32,
  w: u32,
  c: u32,     // C, or C/4 for main_vec4
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
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y4: array<vec4f>;

const WG = 64u;

// Output element i's window: its patch's first image row and its top-left tap.
struct Window {
  img: u32,
  y0: i32,
  x0: i32,
  ch: u32,
}

fn window(i: u32) -> Window {
  let pix = i / p.c;
  let ox = pix % p.wo;
  let oy = (pix / p.wo) % p.ho;
  return Window((pix / (p.wo * p.ho)) * p.h, i32(oy * p.stride) - i32(p.padTop), i32(ox * p.stride) - i32(p.padLeft), i % p.c);
}

// Index of tap (dy, dx) of the window, or -1 when it lies in the padding.
fn tapIndex(win: Window, dy: u32, dx: u32) -> i32 {
  let iy = win.y0 + i32(dy);
  let ix = win.x0 + i32(dx);
  if (iy < 0 || iy >= i32(p.h) || ix < 0 || ix >= i32(p.w)) { return -1; }
  return i32(((win.img + u32(iy)) * p.w + u32(ix)) * p.c + win.ch);
}

const LOWEST = -3.40282346e38; // the lowest f32 stands in for −∞: every window holds a real tap

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= p.total) { return; }
  let win = window(i);
  var m = LOWEST;
  for (var dy = 0u; dy < p.k; dy++) {
    for (var dx = 0u; dx < p.k; dx++) {
      let t = tapIndex(win, dy, dx);
      if (t >= 0) { m = max(m, x[t]); }
    }
  }
  y[i] = m;
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + li;
  if (i >= p.total) { return; }
  let win = window(i);
  var m = vec4f(LOWEST);
  for (var dy = 0u; dy < p.k; dy++) {
    for (var dx = 0u; dx < p.k; dx++) {
      let t = tapIndex(win, dy, dx);
      if (t >= 0) { m = max(m, x4[t]); }
    }
  }
  y4[i] = m;
}
