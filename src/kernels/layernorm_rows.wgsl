// layernorm.wgsl's LayerNorm with one invocation per row, for CPU adapters and D % 8 == 0. On
// lavapipe a workgroup's reduction tree (workgroup memory and barriers) cost more than the
// row's loads; here the sums stay in registers: two vec4 partial sums (8 lanes of the row,
// each summed over D/8 values, as deep as the 8-invocation tree) and the same two passes,
// Σx then Σ(x − mean)², as layernorm.wgsl. layernorm.ts says where it runs and why.
struct Params {
  rows: u32,
  D: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
@group(0) @binding(2) var<storage, read> scale: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4f>;

const WG = 64u;

fn total(a: vec4f, b: vec4f) -> f32 {
  let s = a + b;
  return (s.x + s.y) + (s.z + s.w);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = (wg.x + wg.y * nwg.x) * WG + lid;
  if (row >= p.rows) { return; }
  let d4 = p.D / 4u;
  let base = row * d4;
  let n = f32(p.D);

  var s0 = vec4f();
  var s1 = vec4f();
  for (var c = 0u; c < d4; c += 2u) {
    s0 += x[base + c];
    s1 += x[base + c + 1u];
  }
  let mean = total(s0, s1) / n;

  var q0 = vec4f();
  var q1 = vec4f();
  for (var c = 0u; c < d4; c += 2u) {
    let a = x[base + c] - mean;
    let b = x[base + c + 1u] - mean;
    q0 = fma(a, a, q0);
    q1 = fma(b, b, q1);
  }
  let inv = inverseSqrt(total(q0, q1) / n + p.eps);

  for (var c = 0u; c < d4; c++) {
    y[base + c] = (x[base + c] - mean) * (inv * scale[c]) + bias[c];
  }
}
