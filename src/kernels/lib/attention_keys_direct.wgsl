// The 4-key tile without subgroups: every invocation loads the 4 keys itself. The addresses are
// the same in every invocation (they depend on the key and the head only), so a CPU adapter's
// compiler can load each once per SIMD vector and broadcast it, as the subgroup kernels do by hand.
fn column(bases: vec4u, c: u32) -> mat4x4f {
  let cc = min(c, p.C - 1u);
  return mat4x4f(qkv[bases.x + cc], qkv[bases.y + cc], qkv[bases.z + cc], qkv[bases.w + cc]);
}

fn tile(bases: vec4u) -> Tile {
  return Tile(column(bases, 0u), column(bases, 1u), column(bases, 2u), column(bases, 3u), column(bases, 4u), column(bases, 5u), column(bases, 6u), column(bases, 7u),
              column(bases, 8u), column(bases, 9u), column(bases, 10u), column(bases, 11u), column(bases, 12u), column(bases, 13u), column(bases, 14u), column(bases, 15u));
}
