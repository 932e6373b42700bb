// The 8 rows of the written-out kernels (attention_unrolled.wgsl, attention_direct.wgsl) as 8
// variables handed over by pointer, each call written out so every row sits at fixed offsets.
// (An array of rows walked by a loop, as attention_looped.wgsl has, makes naga 29, wgpu's shader
// compiler, panic on the `&rows[r]` arguments.) Rows r hold queries first + r·QB.
fn startRows(r0: ptr<function, Row>, r1: ptr<function, Row>, r2: ptr<function, Row>, r3: ptr<function, Row>,
                r4: ptr<function, Row>, r5: ptr<function, Row>, r6: ptr<function, Row>, r7: ptr<function, Row>, first: u32, h: u32) {
  start(r0, min(first + 0u * QB, p.Q - 1u), h); start(r1, min(first + 1u * QB, p.Q - 1u), h);
  start(r2, min(first + 2u * QB, p.Q - 1u), h); start(r3, min(first + 3u * QB, p.Q - 1u), h);
  start(r4, min(first + 4u * QB, p.Q - 1u), h); start(r5, min(first + 5u * QB, p.Q - 1u), h);
  start(r6, min(first + 6u * QB, p.Q - 1u), h); start(r7, min(first + 7u * QB, p.Q - 1u), h);
}

fn stepRows(r0: ptr<function, Row>, r1: ptr<function, Row>, r2: ptr<function, Row>, r3: ptr<function, Row>,
                r4: ptr<function, Row>, r5: ptr<function, Row>, r6: ptr<function, Row>, r7: ptr<function, Row>, k: ptr<function, Tile>, v: ptr<function, Tile>, ks: vec4u) {
  step(r0, k, v, ks); step(r1, k, v, ks); step(r2, k, v, ks); step(r3, k, v, ks);
  step(r4, k, v, ks); step(r5, k, v, ks); step(r6, k, v, ks); step(r7, k, v, ks);
}

fn finishRows(r0: ptr<function, Row>, r1: ptr<function, Row>, r2: ptr<function, Row>, r3: ptr<function, Row>,
                r4: ptr<function, Row>, r5: ptr<function, Row>, r6: ptr<function, Row>, r7: ptr<function, Row>, first: u32, h: u32) {
  finish(r0, first + 0u * QB, h); finish(r1, first + 1u * QB, h);
  finish(r2, first + 2u * QB, h); finish(r3, first + 3u * QB, h);
  finish(r4, first + 4u * QB, h); finish(r5, first + 5u * QB, h);
  finish(r6, first + 6u * QB, h); finish(r7, first + 7u * QB, h);
}
