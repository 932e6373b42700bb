enable subgroups;
// attention.wgsl's math (read its header) for the CPU adapters, SwiftShader above all. There a
// private array indexed by a loop variable lives in memory and every access is a per-lane
// gather/scatter (the compiler cannot know the index is the same in every lane), which held the
// tiled kernel to 0.5 GFLOP/s. Here every loop over the head is written out, so every register
// access has a fixed offset (as in the matmuls), and each invocation owns 8 queries, so every key
// loaded feeds 8 of them:
//   - keys come 4 at a time: lane l of each 4-lane group loads key t0 + l, and subgroupBroadcast
//     from the fixed lanes 0..3 (a register shuffle) turns column c of the 4 keys into the matrix
//     tile[c], so a vector-matrix product gives a query's 4 logits and a matrix-vector product
//     adds the 4 weighted value rows (lanes past 4 load the same keys as lanes 0..3, so any
//     subgroup of 4 or more lanes works: checked by the launcher);
//   - the query state is a struct handed to step() by pointer (lib/attention_rows), and
//     lib/attention_rows8 writes the 8 calls out: 8 copies of the step's code, each at fixed offsets.
// attention_looped.wgsl is the same kernel with loops over the 8 rows, for lavapipe, whose
// compiler unrolls them itself.
// The head dim is a uniform (p.C vec4 columns, up to 16), not an override, so one pipeline serves
// every head dim.
// Columns past the head read the last column again, are multiplied by a zero query (so the logits
// are exact) and are never stored.
// Measured at T = 919 (bench/kernels/attention.ts): SwiftShader 5.5-6 GFLOP/s (tiled 0.5; 1 query
// per invocation 1.8, 4 queries 4.5, 16 queries 6.4 but 13 s to compile; the looped twin 2.1).
// SwiftShader's compile (4-6 s, the longest of a first image) grows faster than the kernel: 2, 4
// and 8 rows took 0.8, 2.0 and 5.0 s. Most of it goes to the queries, 512 values live across the
// whole key loop: without the 15 written-out logit steps it took 1.5 s, without the 15 output
// steps 4.3. Made loop-carried (a never-taken branch that writes them), they compiled in 3.8-4.4 s
// against 5.2-6.2, but a layer ran 182-184 ms against 151: the loop-carried state costs masked
// stores every step. Kept as it is. The queries, read-only in the loop, are kept in memory instead
// (lib/attention_query_stored: 1.11 s of compile against 1.49 on Zen 5, a layer as fast).
// Its JIT code (Zen 5, perf and gdb, 2026-12-05): 49,059 instructions a step of 4 keys, of which
// 9,224 multiplies and adds, 22,521 moves (3,235 of them a load and a store back to the same stack
// slot: matmul_subgroup4.wgsl's header says why) and ~5,800 for the phi merges of the 8 rows'
// state (66 words a row). 8 keys a step would halve the merges per key, for about twice the
// compile; 4 rows and 8 keys a step would halve them too but broadcast twice the keys per query
// (~2,500 instructions a step): neither tried.
#include "lib/attention_rows"
#include "lib/attention_rows8"

@compute @workgroup_size(QB)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let D4 = p.H * p.C;
  let h = wg.y;
  let first = wg.x * QB * 8u + lid; // this invocation's queries: first + r·QB, r = 0..7
  // Queries past Q are computed on row Q - 1 (their lanes still load keys) and not stored.
  var r0: Row; var r1: Row; var r2: Row; var r3: Row; var r4: Row; var r5: Row; var r6: Row; var r7: Row;
  startRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, first, h);
  let slot = lane & 3u;
  for (var t0 = 0u; t0 < p.T; t0 += 4u) {
    let key = min(t0 + slot, p.T - 1u);
    let kb = key * 3u * D4 + D4 + h * p.C;
    let state = select(select(0u, 1u, isValid(key)), 2u, t0 + slot >= p.T);
    let ks = vec4u(subgroupBroadcast(state, 0u), subgroupBroadcast(state, 1u), subgroupBroadcast(state, 2u), subgroupBroadcast(state, 3u));
    var k = tile(kb);
    var v = tile(kb + D4);
    stepRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, &k, &v, ks);
  }
  finishRows(&r0, &r1, &r2, &r3, &r4, &r5, &r6, &r7, first, h);
}
