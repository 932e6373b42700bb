// matmul_subgroup.wgsl for 4-lane subgroups (SwiftShader; lavapipe at LP_NATIVE_VECTOR_WIDTH=128):
// the same 32-row tile, laid out for a workgroup of one 4-lane subgroup: each lane loads 8 X rows
// (rows m0 + lane + 4i) and four vec4 columns of W, so a workgroup computes 32 rows × 64 columns;
// every X row reaches the other lanes by subgroupBroadcast. Read matmul_subgroup.wgsl for why
// this layout suits CPU adapters. Four columns a lane rather than two: on SwiftShader
// (`musiq bench --groups matmul`, alternating) the encoder's shapes ran 10-15% faster (919×384×1152
// 88-93 ms against 102-104, 919×1152×384 81 against 95, the embedding 1.20-1.22 s against 1.33),
// for a compile of 0.38-0.46 s against 0.14; 24 and 40 rows ran about as fast, 16, 20 and 48 rows
// and six columns slower.
// What SwiftShader makes of it (Chromium's build JITs with Subzero, not LLVM; read with gdb from the
// running code, 919×384×1152, Zen 1 host): ~30,500 x86 instructions per k-step for 4,096 SSE
// multiplies and adds, so ~5 GFLOP/s against a 21.5 peak. Every accumulator lives on a ~62 KB
// stack frame: each multiply reloads its operand and stores it back, and every loop-carried value
// is copied at the loop's head and merged with the lane mask at its end (pand/pxor/por). Tried
// against it, the kernel alone in turns: two or four k-steps an iteration (fewer merges per
// multiply-add) 178 and 211 ms against 178, a first dispatch (compile and one run) of 3.5 and
// 5.9 s against 1.8; the product written as vector × scalar terms 226 against 178; workgroups
// ordered by row tile (W's slice kept in cache) 178 against 187, and at 919×1152×384 178 against
// 178; W read from a texture copy (a texel fetch a vec4, no per-lane gather) 191 against 200.
// None kept. Read again on a Zen 5 host: 33,920 instructions (201 KB of code) a k-step, of which
// 4,096 multiplies and adds (12%), 11,735 stack loads and stores (35%), 4,535 lane-mask ands,
// xors and ors (13%: SwiftShader merges each of the 512 accumulator words under the lane mask
// twice an iteration, for the loop's head and for its exit) and ~4,200 steps of per-lane loads;
// two k-steps an iteration, timed there in turns: 107 and 101 ms against 113 and 102, no gain.
// Also tried on Zen 5, not kept (919×384×1152 and 919×1152×384, the kernel alone in turns): the
// product as W row × broadcast scalar, each W vec4 swept over the 32 rows (so it could stay in
// registers): 130-145 ms against 100-117; each W block (matrix × vector) swept over the rows:
// 99-102 and 90-95 ms against 86-91 and 79-82 (200 ms batches); the tile stored from inside the
// loop's last iteration, so that no accumulator outlives the loop: 187-266 ms against 96-123. X and
// W read from texture copies (texel fetches, no per-lane gathers), the copies made beforehand:
// 100-102 and 94 ms against 111-113 and 106-110 (one dispatch a sample), a first dispatch of 1.23 s
// against 1.45 (W alone: no gain). But in the model, copies made per call and the choice switched
// image by image in one process (6 pairs), the matmuls took 0.94-1.05× as long and the image
// 0.95-1.04×: no gain that survives. The same for conv2d_subgroup4's input and weights (1.69-1.76 s
// against 1.70-1.75). And with either texture this kernel crashed lavapipe (a segfault in its
// compiled code, at 4 and 8 lanes).
// Read once more (Zen 5, 2026-12-05, perf and gdb on the JIT code, 32,645 instructions a k-step):
// each of the 512 accumulator words costs 11 at the loop's end (SwiftShader's phi merge: load,
// reload the all-ones constant, xor, two ands, or, store) and 2 at its head (a copy), 20% of the
// loop; and before ~1,980 of the 2,048 multiplies Subzero's block-local variable splitting leaves
// a load and a store back to the same stack slot (12%). Tried against them, the kernel alone in
// turns (919×384×1152): the broadcast done on u32 and bitcast back (SwiftShader's broadcast yields
// an integer value): 108.7 ms against 110.4, the pairs moved to W; `v * transpose(w)`: 88.7 against
// 90.2; two k-steps an iteration: 13% fewer instructions a k-step but 87.3 ms against 89.1 and a
// compile of 1.3 s against 1.0. The loop is not bound by its instruction count; not kept. Nor by
// its ~60 KB stack frame against Zen 5's 48 KB L1: 24 rows (3/4 of the frame) ran 106.3 ms against
// 108.9, the stem's 5,888×64×256 31.5 against 29.6, for a first dispatch of 0.81 s against 1.04.
// Timed again on every matmul shape of an image (2026-12-05, later, in turns, medians of five):
// 24 rows 4-13% slower on the encoder's and the embedding's, 41% on the stem's 5,888×64×256
// (compile 0.60 s against 0.88). Not kept.
// Its compile (0.8-0.9 s on SwiftShader, Zen 5) is ~40% the two storeTile calls, each inlined
// with its four epilogue loops (one call, the tile's other half unused, compiled in 0.48-0.56 s).
// Emitted once, in turns with the kernel as it is (2026-12-05): a loop over the two column pairs
// choosing each half with select(), 0.55-0.66 s of compile but 919×384×1152 3-10% slower; one
// generic store() per element (the flags tested per element) 0.44-0.52 s, but 919×384×1152 3-4%
// and the stem's 5,888×64×256 30-70% slower; the tile as an array of arrays indexed in the
// loop, 1.4-1.8 s. Not kept.
// Needs N % 4 == 0, K % 4 == 0 and subgroups of at least 4 lanes (matmul.ts checks).
// Why the accumulator body is written out, and near-copied in matmul_subgroup.wgsl and matmul_subgroup64.wgsl: subgroupBroadcast
// takes a constant lane index, so the broadcast steps cannot be a loop; an accumulator array
// indexed in a loop is kept in memory by lavapipe and SwiftShader (attention's tiled kernel ran
// 0.5 GFLOP/s against 4.5-6 written out on SwiftShader) and accumulators in a pointer-passed
// struct measured slower on lavapipe; and #include pastes whole files, with no parameters or
// loops to generate N named accumulators. What is shared without loss is in lib/matmul_vec4_io.
enable subgroups;
#include "lib/matmul_w4"
#include "lib/matmul_vec4_io"
#include "lib/endless"

const ROWS = 32u;

@compute @workgroup_size(4)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col = (wg.x * 4u + li) * 4u; // this lane's four vec4 columns: col .. col + 3
  // Columns past the edge are clamped for loading (a duplicate is computed) and not stored.
  let ca = min(col, n4 - 1u);
  let cb = min(col + 1u, n4 - 1u);
  let cc = min(col + 2u, n4 - 1u);
  let cd = min(col + 3u, n4 - 1u);
  let m0 = wg.y * ROWS;
  // Lane `lane` loads rows m0 + lane + 4i (clamped: rows past M are loaded but not stored).
  let last = p.M - 1u;
  let x0 = min(m0 + 0u + lane, last) * k4;
  let x1 = min(m0 + 4u + lane, last) * k4;
  let x2 = min(m0 + 8u + lane, last) * k4;
  let x3 = min(m0 + 12u + lane, last) * k4;
  let x4 = min(m0 + 16u + lane, last) * k4;
  let x5 = min(m0 + 20u + lane, last) * k4;
  let x6 = min(m0 + 24u + lane, last) * k4;
  let x7 = min(m0 + 28u + lane, last) * k4;
  #include "lib/tile32x4_accumulators"
  let kEnd = p.kEnd / 4u;
  for (var k = p.kBegin / 4u; k < ENDLESS; k++) {
    if (k >= kEnd) { break; }
    let wa = w4Block(k, ca);
    let wb = w4Block(k, cb);
    let wc = w4Block(k, cc);
    let wd = w4Block(k, cd);
    let v0 = x[x0 + k];
    let v1 = x[x1 + k];
    let v2 = x[x2 + k];
    let v3 = x[x3 + k];
    let v4 = x[x4 + k];
    let v5 = x[x5 + k];
    let v6 = x[x6 + k];
    let v7 = x[x7 + k];
    { let v = subgroupBroadcast(v0, 0u); a0 += wa * v; b0 += wb * v; c0 += wc * v; d0 += wd * v; }
    { let v = subgroupBroadcast(v0, 1u); a1 += wa * v; b1 += wb * v; c1 += wc * v; d1 += wd * v; }
    { let v = subgroupBroadcast(v0, 2u); a2 += wa * v; b2 += wb * v; c2 += wc * v; d2 += wd * v; }
    { let v = subgroupBroadcast(v0, 3u); a3 += wa * v; b3 += wb * v; c3 += wc * v; d3 += wd * v; }
    { let v = subgroupBroadcast(v1, 0u); a4 += wa * v; b4 += wb * v; c4 += wc * v; d4 += wd * v; }
    { let v = subgroupBroadcast(v1, 1u); a5 += wa * v; b5 += wb * v; c5 += wc * v; d5 += wd * v; }
    { let v = subgroupBroadcast(v1, 2u); a6 += wa * v; b6 += wb * v; c6 += wc * v; d6 += wd * v; }
    { let v = subgroupBroadcast(v1, 3u); a7 += wa * v; b7 += wb * v; c7 += wc * v; d7 += wd * v; }
    { let v = subgroupBroadcast(v2, 0u); a8 += wa * v; b8 += wb * v; c8 += wc * v; d8 += wd * v; }
    { let v = subgroupBroadcast(v2, 1u); a9 += wa * v; b9 += wb * v; c9 += wc * v; d9 += wd * v; }
    { let v = subgroupBroadcast(v2, 2u); a10 += wa * v; b10 += wb * v; c10 += wc * v; d10 += wd * v; }
    { let v = subgroupBroadcast(v2, 3u); a11 += wa * v; b11 += wb * v; c11 += wc * v; d11 += wd * v; }
    { let v = subgroupBroadcast(v3, 0u); a12 += wa * v; b12 += wb * v; c12 += wc * v; d12 += wd * v; }
    { let v = subgroupBroadcast(v3, 1u); a13 += wa * v; b13 += wb * v; c13 += wc * v; d13 += wd * v; }
    { let v = subgroupBroadcast(v3, 2u); a14 += wa * v; b14 += wb * v; c14 += wc * v; d14 += wd * v; }
    { let v = subgroupBroadcast(v3, 3u); a15 += wa * v; b15 += wb * v; c15 += wc * v; d15 += wd * v; }
    { let v = subgroupBroadcast(v4, 0u); a16 += wa * v; b16 += wb * v; c16 += wc * v; d16 += wd * v; }
    { let v = subgroupBroadcast(v4, 1u); a17 += wa * v; b17 += wb * v; c17 += wc * v; d17 += wd * v; }
    { let v = subgroupBroadcast(v4, 2u); a18 += wa * v; b18 += wb * v; c18 += wc * v; d18 += wd * v; }
    { let v = subgroupBroadcast(v4, 3u); a19 += wa * v; b19 += wb * v; c19 += wc * v; d19 += wd * v; }
    { let v = subgroupBroadcast(v5, 0u); a20 += wa * v; b20 += wb * v; c20 += wc * v; d20 += wd * v; }
    { let v = subgroupBroadcast(v5, 1u); a21 += wa * v; b21 += wb * v; c21 += wc * v; d21 += wd * v; }
    { let v = subgroupBroadcast(v5, 2u); a22 += wa * v; b22 += wb * v; c22 += wc * v; d22 += wd * v; }
    { let v = subgroupBroadcast(v5, 3u); a23 += wa * v; b23 += wb * v; c23 += wc * v; d23 += wd * v; }
    { let v = subgroupBroadcast(v6, 0u); a24 += wa * v; b24 += wb * v; c24 += wc * v; d24 += wd * v; }
    { let v = subgroupBroadcast(v6, 1u); a25 += wa * v; b25 += wb * v; c25 += wc * v; d25 += wd * v; }
    { let v = subgroupBroadcast(v6, 2u); a26 += wa * v; b26 += wb * v; c26 += wc * v; d26 += wd * v; }
    { let v = subgroupBroadcast(v6, 3u); a27 += wa * v; b27 += wb * v; c27 += wc * v; d27 += wd * v; }
    { let v = subgroupBroadcast(v7, 0u); a28 += wa * v; b28 += wb * v; c28 += wc * v; d28 += wd * v; }
    { let v = subgroupBroadcast(v7, 1u); a29 += wa * v; b29 += wb * v; c29 += wc * v; d29 += wd * v; }
    { let v = subgroupBroadcast(v7, 2u); a30 += wa * v; b30 += wb * v; c30 += wc * v; d30 += wd * v; }
    { let v = subgroupBroadcast(v7, 3u); a31 += wa * v; b31 += wb * v; c31 += wc * v; d31 += wd * v; }
  }
  storeTile(m0, col, array<vec4f, ROWS>(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31),
            array<vec4f, ROWS>(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24, b25, b26, b27, b28, b29, b30, b31));
  storeTile(m0, col + 2u, array<vec4f, ROWS>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31),
            array<vec4f, ROWS>(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20, d21, d22, d23, d24, d25, d26, d27, d28, d29, d30, d31));
}
