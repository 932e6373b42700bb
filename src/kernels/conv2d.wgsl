// 2-D convolution as an implicit GEMM: rows = output pixels (patch, oy, ox), K = (ky, kx, cin),
// columns = cout. NHWC input, HWIO kernel (already K×N row-major), SAME padding (zeros), no bias.
// Register-blocked: each invocation computes 4 output pixels × 8 output channels (2 vec4) and
// reads its operands straight from storage, no workgroup memory or barriers: on CPU backends
// (lavapipe) that is what keeps the accumulators in registers.
// cout must be a multiple of 4 (vec4 columns); a last block with only 4 channels stays valid.
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
// One binding, two views: main_vec4 (cin % 4 == 0) reads 4 input channels per load.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read> wt: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;

const WG = 64u;

struct Block {
  m0: u32,
  n0: u32,
  n1: u32,           // second vec4 column, clamped into range for couts that are 4 mod 8
  iy: vec4i,         // top-left input coordinate of each of the 4 rows' windows
  ix: vec4i,
  img: vec4u,        // first image row of each row's patch (patch · h)
}

fn block(wid: vec3u, nwg: vec3u, li: u32) -> Block {
  let id = (wid.x + wid.y * nwg.x) * WG + li;
  // Neighbouring invocations take neighbouring channel blocks of the same pixels, so their
  // input loads hit the same addresses and the weight loads are contiguous.
  let cb = id % p.colBlocks;
  var b: Block;
  b.m0 = (id / p.colBlocks) * 4u;
  b.n0 = cb * 2u;
  b.n1 = min(b.n0 + 1u, p.cout4 - 1u);
  let pix = p.ho * p.wo;
  for (var r = 0u; r < 4u; r++) {
    // Rows past the end repeat the last row; their results are not stored.
    let m = min(b.m0 + r, p.rows - 1u);
    let q = m % pix;
    b.img[r] = (m / pix) * p.h;
    b.iy[r] = i32((q / p.wo) * p.stride) - i32(p.padTop);
    b.ix[r] = i32((q % p.wo) * p.stride) - i32(p.padLeft);
  }
  return b;
}

// Which of the 4 rows have input pixel (iy, ix) inside the image, and that pixel's index
// (0 when outside, so the load stays in range and is then replaced by zero).
struct Taps {
  ok: vec4<bool>,
  pix: vec4u,
}

fn taps(b: Block, ky: u32, kx: u32) -> Taps {
  let iy = b.iy + vec4i(i32(ky));
  let ix = b.ix + vec4i(i32(kx));
  var t: Taps;
  t.ok = (iy >= vec4i(0)) & (iy < vec4i(i32(p.h))) & (ix >= vec4i(0)) & (ix < vec4i(i32(p.w)));
  t.pix = select(vec4u(0u), (b.img + vec4u(iy)) * p.w + vec4u(ix), t.ok);
  return t;
}

fn store(b: Block, r: u32, lo: vec4f, hi: vec4f) {
  let m = b.m0 + r;
  if (m >= p.rows) { return; }
  y[m * p.cout4 + b.n0] = lo;
  if (b.n0 + 1u < p.cout4) { y[m * p.cout4 + b.n0 + 1u] = hi; }
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = block(wid, nwg, li);
  if (b.m0 >= p.rows) { return; }
  let cin4 = p.cin / 4u;
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var c0 = vec4f(); var c1 = vec4f(); var c2 = vec4f(); var c3 = vec4f();
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      let t = taps(b, ky, kx);
      let px = t.pix * cin4;
      var k = (ky * p.kw + kx) * p.cin * p.cout4; // vec4 index of weight row (ky, kx, 0)
      for (var c = 0u; c < cin4; c++) {
        let x0 = select(vec4f(), x4[px[0] + c], t.ok[0]);
        let x1 = select(vec4f(), x4[px[1] + c], t.ok[1]);
        let x2 = select(vec4f(), x4[px[2] + c], t.ok[2]);
        let x3 = select(vec4f(), x4[px[3] + c], t.ok[3]);
        // Columns j of wa/wb are weight rows k..k+3: wa·x0 = Σ_j x0[j]·row_j.
        let wa = mat4x4f(wt[k + b.n0], wt[k + p.cout4 + b.n0], wt[k + 2u * p.cout4 + b.n0], wt[k + 3u * p.cout4 + b.n0]);
        let wb = mat4x4f(wt[k + b.n1], wt[k + p.cout4 + b.n1], wt[k + 2u * p.cout4 + b.n1], wt[k + 3u * p.cout4 + b.n1]);
        a0 += wa * x0; c0 += wb * x0;
        a1 += wa * x1; c1 += wb * x1;
        a2 += wa * x2; c2 += wb * x2;
        a3 += wa * x3; c3 += wb * x3;
        k += 4u * p.cout4;
      }
    }
  }
  store(b, 0u, a0, c0);
  store(b, 1u, a1, c1);
  store(b, 2u, a2, c2);
  store(b, 3u, a3, c3);
}

// Any cin (the 3-channel root conv): one input channel per step.
@compute @workgroup_size(WG)
fn main_scalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = block(wid, nwg, li);
  if (b.m0 >= p.rows) { return; }
  var a0 = vec4f(); var a1 = vec4f(); var a2 = vec4f(); var a3 = vec4f();
  var c0 = vec4f(); var c1 = vec4f(); var c2 = vec4f(); var c3 = vec4f();
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      let t = taps(b, ky, kx);
      let px = t.pix * p.cin;
      var k = (ky * p.kw + kx) * p.cin * p.cout4;
      for (var c = 0u; c < p.cin; c++) {
        let x0 = select(0.0, x[px[0] + c], t.ok[0]);
        let x1 = select(0.0, x[px[1] + c], t.ok[1]);
        let x2 = select(0.0, x[px[2] + c], t.ok[2]);
        let x3 = select(0.0, x[px[3] + c], t.ok[3]);
        let wa = wt[k + b.n0];
        let wb = wt[k + b.n1];
        a0 += x0 * wa; c0 += x0 * wb;
        a1 += x1 * wa; c1 += x1 * wb;
        a2 += x2 * wa; c2 += x2 * wb;
        a3 += x3 * wa; c3 += x3 * wb;
        k += p.cout4;
      }
    }
  }
  store(b, 0u, a0, c0);
  store(b, 1u, a1, c1);
  store(b, 2u, a2, c2);
  store(b, 3u, a3, c3);
}
