// The 4-key tile without subgroups: every invocation loads the 4 keys itself. The addresses are
// the same in every invocation (they depend on the key and the head only), so a CPU adapter's
// compiler could load each once per SIMD vector and broadcast it, as the subgroup kernels do by hand.
// A loop over the head's columns, not 16 written-out loads as the subgroup tile has: lavapipe turns
// each load into a loop over the lanes with a branch per lane and component, and 128 such loads a
// tile made LLVM's work and the code large. T = 918, 6 heads, fresh Mesa cache, one process each:
// on Deno's WebGPU the first dispatch (the compile) took 23.1 s against 65.9 written out, then
// 61-65 ms a dispatch against 79-80; under Dawn 43.9 s against 53.6, then 54 against 68-78 ms.
// Loads go through qkvAt(), so that the texture copy of qkv can stand in (attention.ts): a texel
// fetch is a call into one function on lavapipe, and the compile took 6 s instead of 29.5 there.
// Past the head dim (p.C < 16) the tile keeps its zeros.
fn tile(bases: vec4u) -> Tile {
  var t: Tile;
  for (var c = 0u; c < p.C; c++) {
    t[c] = mat4x4f(qkvAt(bases.x + c), qkvAt(bases.y + c), qkvAt(bases.z + c), qkvAt(bases.w + c));
  }
  return t;
}
