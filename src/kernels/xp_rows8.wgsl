enable subgroups;
// attention_unrolled.wgsl (read its header) with loops over the invocation's 8 rows instead of 8
// written-out calls: lavapipe's compiler unrolls these constant loops itself, and the result ran
// 1.1-1.6x the written-out kernel's rate there (8 of 8 interleaved rounds, T = 919: median 24.5
// against 20.5 GFLOP/s) and compiled in 24 s instead of 33 (once; Mesa caches it on disk).
// SwiftShader does not unroll them and indexes the rows through memory: 2.1 GFLOP/s against 4.8.
const ROWS: u32 = 8u;
#include "lib/attention_rows"

@compute @workgroup_size(QB)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let D4 = p.H * p.C;
  let h = wg.y;
  let first = wg.x * QB * ROWS + lid; // this invocation's queries: first + r·QB, r < ROWS
  // Queries past Q are computed on row Q - 1 (their lanes still load keys) and not stored.
  var rows: array<Row, ROWS>;
  for (var r = 0u; r < ROWS; r++) { start(&rows[r], min(first + r * QB, p.Q - 1u), h); }
  let slot = lane & 3u;
  for (var t0 = 0u; t0 < p.T; t0 += 4u) {
    let key = min(t0 + slot, p.T - 1u);
    let kb = key * 3u * D4 + D4 + h * p.C;
    let state = select(select(0u, 1u, isValid(key)), 2u, t0 + slot >= p.T);
    let ks = vec4u(subgroupBroadcast(state, 0u), subgroupBroadcast(state, 1u), subgroupBroadcast(state, 2u), subgroupBroadcast(state, 3u));
    var k = tile(kb);
    var v = tile(kb + D4);
    for (var r = 0u; r < ROWS; r++) { step(&rows[r], &k, &v, ks); }
  }
  for (var r = 0u; r < ROWS; r++) { finish(&rows[r], first + r * QB, h); }
}
