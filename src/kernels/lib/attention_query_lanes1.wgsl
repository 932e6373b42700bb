// One invocation per query: attention.wgsl's 'tiled' layout, the textbook GPU one (64 queries a
// workgroup). attention.ts swaps in lib/attention_query_lanes4 for 'quad'.
const LANES: u32 = 1u; // invocations per query
const KT: u32 = 16u;   // keys per tile: the per-tile max means one accumulator rescale per KT keys

fn slotOf(lid: u32) -> u32 { return lid; }
fn laneSum(x: f32) -> f32 { return x; }
