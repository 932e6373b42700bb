enable subgroups;
// Four invocations per query, attention.wgsl's 'quad' layout for GPUs with subgroups: each owns
// every fourth vec4 column of its q and output row (16 of the 64 values at head dim 64), and the
// four partial dot products meet by two shuffles. An invocation then holds 8 vec4 instead of 32,
// so a GPU keeps many more of them in flight, and a K/V tile in workgroup memory serves the 32
// queries of 128 invocations. H200 (Dawn, Vulkan), T = 919, 6 heads, one layer: one query per
// invocation (64 a workgroup, 90 workgroups) 1.73 ms, 750 GFLOP/s; four lanes with 16 queries a
// workgroup 0.40 ms, with 32 0.23 ms (5.6 TFLOP/s), with 64 0.24 ms.
const LANES: u32 = 4u;
const KT: u32 = 32u;

var<workgroup> slots: atomic<u32>; // zero at the start, as all workgroup memory

// The shuffles combine lanes by their subgroup index, and WGSL does not say how
// local_invocation_index maps onto it; so each subgroup claims the next slots, one per lane in lane
// order, and a query's lanes are four consecutive lanes of one subgroup whatever the mapping. That
// needs whole subgroups (all lanes active: rank = lane index), which the launcher checks.
fn slotOf(lid: u32) -> u32 {
  let count = subgroupAdd(1u);
  let rank = subgroupExclusiveAdd(1u);
  var first = 0u;
  if (subgroupElect()) { first = atomicAdd(&slots, count); }
  return subgroupBroadcastFirst(first) + rank;
}

// a + b = b + a in floating point, so all four lanes end with the same bits.
fn laneSum(x: f32) -> f32 {
  let y = x + subgroupShuffleXor(x, 1u);
  return y + subgroupShuffleXor(y, 2u);
}
