// Row softmax of x [R, C] (the AVA head's 10 logits): one invocation per row, serial over C,
// stable form exp(x − max) / Σ exp(x − max). Rows are few and short here.

struct Params { R: u32, C: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= p.R) { return; }
  let base = r * p.C;
  var m = x[base];
  for (var c = 1u; c < p.C; c++) { m = max(m, x[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let e = exp(x[base + c] - m);
    y[base + c] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var c = 0u; c < p.C; c++) { y[base + c] *= inv; }
}
