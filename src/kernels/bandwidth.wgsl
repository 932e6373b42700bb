// Streaming memory bandwidth, the roofline's slope (BabelStream's copy and triad): one vec4 per
// invocation, every byte read or written once. `copy` moves 2·16 bytes per invocation, `triad`
// (a = b + s·c) 3·16.
struct Params { n: u32, s: f32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> c: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> a: array<vec4<f32>>;
// copy's destination: the same slot number as c, which copy does not use (a binding may be shared
// by variables that no one entry point both uses).
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  dst[i] = b[i];
}

@compute @workgroup_size(256)
fn triad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.n) { return; }
  a[i] = b[i] + p.s * c[i];
}
