// Keys per tile of attention_subgroup.wgsl for 4-lane subgroups (SwiftShader; lavapipe at
// LP_NATIVE_VECTOR_WIDTH=128): swapped in for lib/attention_lanes8 by the launcher.
const KT: u32 = 4u;
