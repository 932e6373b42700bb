// RGB pixels → RGB0 pixels: the stem's patches with a zero fourth channel, where its root
// convolution takes 4 input channels (stem.ts, rootChannels). One invocation a pixel: no integer
// division, which CPU backends run lane by lane.
struct Params { pixels: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.pixels) { return; }
  y[i] = vec4f(x[3u * i], x[3u * i + 1u], x[3u * i + 2u], 0.0);
}
