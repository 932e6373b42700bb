// attention_rows.wgsl's query fill for SwiftShader (attention_unrolled.wgsl): a loop up to the
// head's width. The index it writes with is not a constant, so SPIR-V's scalar replacement leaves
// the query array in memory instead of turning its 16 columns into SSA values, and step() reads
// it at fixed offsets, a plain vector load each. Subzero then has 512 fewer values live across
// the key loop (it spills them anyway: a use was a reload before too), and its register
// allocation over those is most of the kernel's compile: 1.11 s against 1.49 on a Zen 5 host, a
// layer as fast (132 ms against 130; `musiq bench --groups attention`). A first image in headless
// Chromium, where this compile shares the 2 cores with the stem (`bench:browser`, localhost, five
// alternating pairs): first/second 0.99-1.15× (median 1.07) against 1.13-1.30× (median 1.15), on
// a host whose second image moved between 9.7 and 12.9 s. lavapipe's LLVM is the
// other way round (the looped kernel, fresh Mesa cache: 5.1-6.7 s against 3.4-3.5, as fast), so
// it keeps lib/attention_query_written. The output accumulators, updated every step, stay SSA:
// in memory each update becomes a store under the lane mask (a layer 166 ms against 130).
fn fillQuery(r: ptr<function, Row>, base: u32) {
  (*r).q = array<vec4f, 16>(); // columns past the head stay zero
  for (var c = 0u; c < p.C; c++) { (*r).q[c] = qkvAt(base + c) / p.sqrtDh; }
}
