#include "lib/peak_f32"
// The adapter's multiply-add throughput, the roofline's flat roof: every invocation runs `iters`
// rounds of CHAINS independent vec4 chains a = a·m + c (2 flop per lane; the compiler may fuse
// them into one FMA, which is what the peak is about). Independent chains hide the FMA latency;
// how many a core needs before it spills registers differs (a CPU's 16 vector registers against a
// GPU's hundreds), so the entry points hold 2, 4 and 8 chains and the benchmark keeps the best.
// Eight rounds are written out per loop iteration, not left to a loop: CPU adapters pay for every
// iteration (lavapipe blends each loop-carried value with the loop mask, SwiftShader's loop costs
// more still), and neither unrolls a constant-count inner loop for us (SwiftShader) or reliably
// (lavapipe). With one round an iteration, this kernel measured half of lavapipe's peak (13-15
// GFLOP/s against 25-46 on a 2-core Zen 1) and a quarter of SwiftShader's (4-5 against 13-18),
// and model kernels then read as 95% of a roof they were far below. The loop counts k by 8 up to
// iters: with k < iters / 8 SwiftShader ran 10-12 GFLOP/s against 15-16.
// m and c come from a uniform so nothing is folded at compile time; m < 1 keeps values finite.
struct Params { iters: u32, m: f32, c: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

override WG: u32 = 64;

fn start(i: u32, k: u32) -> vec4<T> {
  return vec4<T>(T(f32(i % 64u) * 0.01 + f32(k) * 0.1), T(0.25), T(0.5), T(0.75));
}

@compute @workgroup_size(WG)
fn main2(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let m = vec4<T>(T(p.m));
  let c = vec4<T>(T(p.c));
  var a0 = start(i, 0u); var a1 = start(i, 1u);
  for (var k = 8u; k <= p.iters; k += 8u) {
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c;
  }
  for (var k = 0u; k < p.iters % 8u; k++) {
    a0 = a0 * m + c; a1 = a1 * m + c;
  }
  out[i] = vec4<f32>(a0 + a1);
}

@compute @workgroup_size(WG)
fn main4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let m = vec4<T>(T(p.m));
  let c = vec4<T>(T(p.c));
  var a0 = start(i, 0u); var a1 = start(i, 1u); var a2 = start(i, 2u); var a3 = start(i, 3u);
  for (var k = 8u; k <= p.iters; k += 8u) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
  }
  for (var k = 0u; k < p.iters % 8u; k++) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
  }
  out[i] = vec4<f32>((a0 + a1) + (a2 + a3));
}

@compute @workgroup_size(WG)
fn main8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let m = vec4<T>(T(p.m));
  let c = vec4<T>(T(p.c));
  var a0 = start(i, 0u); var a1 = start(i, 1u); var a2 = start(i, 2u); var a3 = start(i, 3u);
  var a4 = start(i, 4u); var a5 = start(i, 5u); var a6 = start(i, 6u); var a7 = start(i, 7u);
  for (var k = 8u; k <= p.iters; k += 8u) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
  }
  for (var k = 0u; k < p.iters % 8u; k++) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
  }
  out[i] = vec4<f32>(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
}
