// attention_rows.wgsl's query fill, written out: each column a constant index, so the compiler
// keeps the row's query in registers (SSA values) like the rest of the row.
// The query's column c, scaled as flax scales it, zero past the head.
fn query(base: u32, c: u32) -> vec4f {
  return select(vec4f(0.0), qkvAt(base + min(c, p.C - 1u)) / p.sqrtDh, c < p.C);
}

fn fillQuery(r: ptr<function, Row>, base: u32) {
  (*r).q[0] = query(base, 0u); (*r).q[1] = query(base, 1u); (*r).q[2] = query(base, 2u); (*r).q[3] = query(base, 3u);
  (*r).q[4] = query(base, 4u); (*r).q[5] = query(base, 5u); (*r).q[6] = query(base, 6u); (*r).q[7] = query(base, 7u);
  (*r).q[8] = query(base, 8u); (*r).q[9] = query(base, 9u); (*r).q[10] = query(base, 10u); (*r).q[11] = query(base, 11u);
  (*r).q[12] = query(base, 12u); (*r).q[13] = query(base, 13u); (*r).q[14] = query(base, 14u); (*r).q[15] = query(base, 15u);
}
