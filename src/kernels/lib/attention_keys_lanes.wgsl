// The 4-key tile of the subgroup kernels: lane l of each 4-lane group loaded key t0 + l's column
// c, and broadcasts from lanes 0..3 put the 4 keys side by side (a register shuffle, no load).
fn column(base: u32, c: u32) -> mat4x4f {
  let v = qkvAt(base + min(c, p.C - 1u));
  return mat4x4f(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

fn tile(base: u32) -> Tile {
  return Tile(column(base, 0u), column(base, 1u), column(base, 2u), column(base, 3u), column(base, 4u), column(base, 5u), column(base, 6u), column(base, 7u),
              column(base, 8u), column(base, 9u), column(base, 10u), column(base, 11u), column(base, 12u), column(base, 13u), column(base, 14u), column(base, 15u));
}
