// y = alpha * a + beta * b, elementwise over n values (residual adds, scaling).
// One invocation per vec of 1; n is rarely large enough here for vectorising to matter.
struct Params { n: u32, alpha: f32, beta: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  y[i] = p.alpha * a[i] + p.beta * b[i];
}
