// The bindings, the input runs and the stores shared by the subgroup convolutions
// (conv2d_subgroup: 8 lanes, conv2d_subgroup4: 4 lanes; read their header). K runs over (ky,
// then kx·cin + c): for one kernel row the kw·cin inputs of a pixel are contiguous in NHWC, and
// which of them are padding is a range check, no division.
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
  let inside = (iy >= 0) & (iy < i32(p.h));
  let lo = u32(max(-r.ix, 0)) * p.cin;
  let hi = select(0u, u32(clamp(i32(p.w) - r.ix, 0, i32(p.kw))) * p.cin, inside);
  return Run((i32(r.img) + iy) * i32(p.w * p.cin) + r.ix * i32(p.cin), lo, hi);
}

// The input binding and load4(u, t) (inputs t..t+3 of run u): lib/conv_input reads 4 floats,
// any cin; conv2d.ts swaps in lib/conv_input_vec4 (one vec4) where cin % 4 == 0.
#include "lib/conv_input"

// Weight rows k..k+3 of output-channel vec4 c, as the columns of a matrix. Steps past the run
// (kw·cin not a multiple of 4) load zero inputs; their weight rows are clamped into the tensor.
fn weights4(k: u32, c: u32) -> mat4x4f {
  let last = p.kTotal - 1u;
  return mat4x4f(wt[min(k, last) * p.cout4 + c], wt[min(k + 1u, last) * p.cout4 + c],
                 wt[min(k + 2u, last) * p.cout4 + c], wt[min(k + 3u, last) * p.cout4 + c]);
}

// Σ_j v[j]·w_j: 4 K steps of one pixel into a vec4 of 4 output channels. Written as one matrix
// × vector, as matmul_subgroup4 does, not as four vector × scalar terms: SwiftShader (Zen 5 host,
// `musiq bench --groups conv2d`, alternating) ran the root 7×7 conv in 0.91-1.00 s against
// 1.13-1.18 and the 3×3 in 0.57-0.75 against 0.66-0.75; in the model, switched image by image in
// one process, the convolutions took 1.50-1.60 s against 1.70-1.75 (the image 0.97-0.98×). No
// change on lavapipe at 8 lanes (its LLVM compiles both alike): 199-220 ms in the model either way.
fn dot4(v: vec4f, w: mat4x4f) -> vec4f {
  return w * v;
}

fn store(m: u32, c: u32, v: vec4f) {
  if (m < p.rows) { y[m * p.cout4 + c] = v; }
}
