// attention_unrolled.wgsl (read its header) without subgroups, for CPU adapters that have none
// (Deno's WebGPU, wgpu, offers no subgroups on lavapipe): 8 queries per invocation, keys 4 at a
// time, but each invocation loads the 4 keys itself
// (lib/attention_keys_direct, swapped in by attention.ts) from addresses the same in every
// invocation of the workgroup, instead of broadcasting one key per lane. The tiled kernel
// (attention.wgsl) gives each query its own invocation and shares keys through workgroup memory,
// which a CPU adapter pays for with barriers and per-lane gathers.
// The 8 rows are 8 variables (lib/attention_rows8), not an array looped over as in
// attention_looped.wgsl: naga (wgpu's shader compiler, 29.0) panics on `&rows[r]` arguments.
#include "lib/attention_rows"
#include "lib/attention_rows8"

@compute @workgroup_size(QB)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let D4 = p.H * p.C;
  let h = wg.y;
  let first = wg.x * QB * 8u + lid; // this invocation's queries: first + r·QB, r = 0..7
  // Queries past Q are computed on row Q - 1 and not stored.
  var r0: Row; var r1: Row; var r2: Row; var r3: Row; var r4: Row; var r5: Row; var r6: Row; var r7: Row;
  startRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, first, h);
  for (var t0 = 0u; t0 < p.T; t0 += 4u) {
    let ids = vec4u(t0) + vec4u(0u, 1u, 2u, 3u);
    let keys = min(ids, vec4u(p.T - 1u));
    let kb = keys * 3u * D4 + vec4u(D4 + h * p.C);
    // Each key's state: 1 valid, 0 padding, 2 past the end.
    let valid = vec4u(select(0u, 1u, isValid(keys.x)), select(0u, 1u, isValid(keys.y)), select(0u, 1u, isValid(keys.z)), select(0u, 1u, isValid(keys.w)));
    let ks = select(valid, vec4u(2u), ids >= vec4u(p.T));
    var k = tile(kb);
    var v = tile(kb + vec4u(D4));
    stepRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, &k, &v, ks);
  }
  finishRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, first, h);
}
