// Keys per tile of attention_subgroup.wgsl for 4-lane subgroups (lavapipe at
// LP_NATIVE_VECTOR_WIDTH=128; SwiftShader too, where the tiled kernel is faster and stays the
// default): swapped in for lib/attention_lanes8 by the launcher.
const KT: u32 = 4u;
