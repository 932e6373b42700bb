// Y = X·W (+bias)(→gelu)(+residual), register-blocked with no workgroup memory and no barriers.
// Each invocation computes 12 rows × 8 columns (two vec4 of W per k). Meant for CPU backends
// without subgroups (Deno's WebGPU on lavapipe), where barriers and workgroup memory cost more
// than they save; see matmul_subgroup.wgsl for why loads are what matters there. Needs N % 4 == 0
// (W rows read as vec4); any M and K.
// The invocations are laid out flat over (row block, column pair), so a workgroup may span row
// blocks. It used to span 128 vec4 columns of one 4-row block: at N = 64 (the stem's 1×1
// convolutions) 7 of its 8 subgroups computed clamped duplicates, at N = 384 and 1152 one in four,
// which a CPU adapter runs like useful work (on Deno the N = 64 matmul took 11× Node's time).
// Rows per invocation, measured on Deno's WebGPU on lavapipe at 918×384×1152 (8 lanes, one
// process, alternating): 4 rows 43 ms, 8 rows 34, 12 rows 32, 16 rows 34; 1, 3 or 4 vec4 columns
// and mat4 blocks of 4 k-steps (matmul_subgroup's layout without the broadcasts) all slower
// (4 rows × 3 columns 56 ms, 8 × 2 in mat4 blocks 74); in Node (Dawn) 12 rows 29 ms against 39.
// Each x value is loaded by every lane that multiplies it, so 12 rows load 12 words per 24 vec4
// multiply-adds where 4 rows loaded 4 per 8.
// Why no tile without subgroups comes near the subgroup kernels on lavapipe (Deno's WebGPU has
// none): every lane loads each value it multiplies, so one operand is loaded by all 8 lanes. In
// lavapipe's generated loop (read with gdb from the running JIT code, 919×384×1152), a tile of
// 16 rows × 4 vec4 columns with 4 k-steps per mat4×vec4 takes 19,700 instructions per 1024
// multiply-adds per lane (1024 lane-word loads, ~15 instructions each with the spills they cause)
// against matmul_subgroup's 8,900 (384 lane-word loads).
// Where X fits 64 KiB windows of 14-32 rows (the encoder's matmuls), matmul_uniform.wgsl reads it
// from a uniform buffer instead, which lavapipe gathers without branches: under Deno on a Zen 1
// host 157 ms at 919×384×1152 against this kernel's 288. This one keeps the embedding and the
// stem's shapes (too many windows).
// Tried, not kept: X from a texture copy (Runtime.textureOf, as attention reads qkv) in
// matmul_uniform's layout, one dispatch for any M and K. Under Deno on the Zen 1 host, in turns,
// the copy included: 919×384×1152 185 ms against matmul_uniform's 145 and this kernel's 183;
// 58,752×64×256 416 against 451; the embedding (918×16384×384) 2.77 s against 2.41.
#include "lib/matmul_w4"
#include "lib/matmul_epilogue"

struct Params { M: u32, N: u32, K: u32, flags: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read> res: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4f>;

const ROWS = 12u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = p.N / 4u;
  let pairs = (n4 + 1u) / 2u;
  let g = (wg.y * nwg.x + wg.x) * 64u + li;
  let col = (g % pairs) * 2u; // first of this invocation's two vec4 columns
  let m0 = (g / pairs) * ROWS;
  // Columns and rows past the edge are clamped for loading and skipped when storing.
  let c0 = min(col, n4 - 1u);
  let c1 = min(col + 1u, n4 - 1u);
  let last = p.M - 1u;
  // Rows and accumulators are named, not arrays: see matmul_subgroup.wgsl's header for why.
  let x0 = min(m0 + 0u, last) * p.K;
  let x1 = min(m0 + 1u, last) * p.K;
  let x2 = min(m0 + 2u, last) * p.K;
  let x3 = min(m0 + 3u, last) * p.K;
  let x4 = min(m0 + 4u, last) * p.K;
  let x5 = min(m0 + 5u, last) * p.K;
  let x6 = min(m0 + 6u, last) * p.K;
  let x7 = min(m0 + 7u, last) * p.K;
  let x8 = min(m0 + 8u, last) * p.K;
  let x9 = min(m0 + 9u, last) * p.K;
  let x10 = min(m0 + 10u, last) * p.K;
  let x11 = min(m0 + 11u, last) * p.K;
  var a0 = vec4f(0); var b0 = vec4f(0); var a1 = vec4f(0); var b1 = vec4f(0); var a2 = vec4f(0); var b2 = vec4f(0);
  var a3 = vec4f(0); var b3 = vec4f(0); var a4 = vec4f(0); var b4 = vec4f(0); var a5 = vec4f(0); var b5 = vec4f(0);
  var a6 = vec4f(0); var b6 = vec4f(0); var a7 = vec4f(0); var b7 = vec4f(0); var a8 = vec4f(0); var b8 = vec4f(0);
  var a9 = vec4f(0); var b9 = vec4f(0); var a10 = vec4f(0); var b10 = vec4f(0); var a11 = vec4f(0); var b11 = vec4f(0);
  for (var k = 0u; k < p.K; k++) {
    let w0 = w4At(k * n4 + c0);
    let w1 = w4At(k * n4 + c1);
    { let v = x[x0 + k]; a0 += v * w0; b0 += v * w1; }
    { let v = x[x1 + k]; a1 += v * w0; b1 += v * w1; }
    { let v = x[x2 + k]; a2 += v * w0; b2 += v * w1; }
    { let v = x[x3 + k]; a3 += v * w0; b3 += v * w1; }
    { let v = x[x4 + k]; a4 += v * w0; b4 += v * w1; }
    { let v = x[x5 + k]; a5 += v * w0; b5 += v * w1; }
    { let v = x[x6 + k]; a6 += v * w0; b6 += v * w1; }
    { let v = x[x7 + k]; a7 += v * w0; b7 += v * w1; }
    { let v = x[x8 + k]; a8 += v * w0; b8 += v * w1; }
    { let v = x[x9 + k]; a9 += v * w0; b9 += v * w1; }
    { let v = x[x10 + k]; a10 += v * w0; b10 += v * w1; }
    { let v = x[x11 + k]; a11 += v * w0; b11 += v * w1; }
  }
  // Stored by a loop the compiler cannot unroll (see matmul_subgroup.wgsl: compile time).
  let acc = array<vec4f, 24>(a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6, a7, b7, a8, b8, a9, b9, a10, b10, a11, b11);
  for (var r = 0u; r < min(ROWS, max(p.M, m0) - m0); r++) { // none past the last row
    let row = (m0 + r) * n4;
    if (col < n4) { y[row + col] = finish(row + col, col, acc[2u * r]); }
    if (col + 1u < n4) { y[row + col + 1u] = finish(row + col + 1u, col + 1u, acc[2u * r + 1u]); }
  }
}

fn finish(i: u32, col: u32, acc: vec4f) -> vec4f {
  var v = acc;
  if ((p.flags & MM_BIAS) != 0u) { v += bias[col]; }
  if ((p.flags & MM_GELU) != 0u) { v = gelu4(v); }
  if ((p.flags & MM_RESIDUAL) != 0u) { v += res[i]; }
  if ((p.flags & MM_RESIDUAL_IN_Y) != 0u) { v += y[i]; }
  return v;
}
