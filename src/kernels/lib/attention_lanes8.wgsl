// Keys per tile of attention_subgroup.wgsl: one per lane of an 8-lane group (lavapipe).
const KT: u32 = 8u;
