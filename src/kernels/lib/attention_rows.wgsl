// The body shared by attention_unrolled.wgsl, attention_looped.wgsl and attention_direct.wgsl
// (read the first's header): the 8-query row state, the 4-key tiles and one step of the streaming
// softmax. The kernels differ in how main() walks its 8 rows and (direct) how a tile is gathered.
override QB: u32 = 8u; // invocations per workgroup (attention.ts says why 8)

#include "lib/attention_io"
// qkvAt(i): the storage buffer, or a texture copy of it (attention.ts swaps it in: READS_TEXTURE).
#include "lib/attention_qkv_buffer"

// A query's state: the scaled query, the output accumulator, the running max and sum, and whether
// the query is valid (in all four components, to select against four keys at once).
struct Row { q: array<vec4f, 16>, o: array<vec4f, 16>, m: f32, l: f32, valid: vec4<bool> }

// Column c of 4 keys (or values) in column j of tile[c].
alias Tile = array<mat4x4f, 16>;

// How a 4-key tile is gathered: lib/attention_keys_lanes (subgroup broadcasts), swapped for
// lib/attention_keys_direct by the kernel without subgroups (attention_direct.wgsl).
#include "lib/attention_keys_lanes"

// How start() fills a row's query: lib/attention_query_written, or lib/attention_query_stored
// (attention.ts swaps it in for the unrolled kernel: SwiftShader).
#include "lib/attention_query_written"

fn start(r: ptr<function, Row>, row: u32, h: u32) {
  let base = row * 3u * p.H * p.C + h * p.C;
  fillQuery(r, base);
  (*r).o = array<vec4f, 16>();
  (*r).m = NEG;
  (*r).l = 0.0;
  (*r).valid = vec4<bool>(isValid(row));
}

// One query against 4 keys; ks holds each key's state (1 valid, 0 padding, 2 past the end).
fn step(r: ptr<function, Row>, k: ptr<function, Tile>, v: ptr<function, Tile>, ks: vec4u) {
  var s = (*r).q[0] * (*k)[0];
  s += (*r).q[1] * (*k)[1];
  s += (*r).q[2] * (*k)[2];
  s += (*r).q[3] * (*k)[3];
  s += (*r).q[4] * (*k)[4];
  s += (*r).q[5] * (*k)[5];
  s += (*r).q[6] * (*k)[6];
  s += (*r).q[7] * (*k)[7];
  s += (*r).q[8] * (*k)[8];
  s += (*r).q[9] * (*k)[9];
  s += (*r).q[10] * (*k)[10];
  s += (*r).q[11] * (*k)[11];
  s += (*r).q[12] * (*k)[12];
  s += (*r).q[13] * (*k)[13];
  s += (*r).q[14] * (*k)[14];
  s += (*r).q[15] * (*k)[15];
  s = select(s + BIAS, s, (*r).valid & (ks == vec4u(1u))); // added, as flax does
  s = select(s, vec4f(NEG), ks == vec4u(2u));
  let m = max((*r).m, max(max(s.x, s.y), max(s.z, s.w)));
  let alpha = exp((*r).m - m);
  let w = exp(s - m);
  (*r).l = (*r).l * alpha + (w.x + w.y + w.z + w.w);
  (*r).m = m;
  (*r).o[0] = (*r).o[0] * alpha + (*v)[0] * w;
  (*r).o[1] = (*r).o[1] * alpha + (*v)[1] * w;
  (*r).o[2] = (*r).o[2] * alpha + (*v)[2] * w;
  (*r).o[3] = (*r).o[3] * alpha + (*v)[3] * w;
  (*r).o[4] = (*r).o[4] * alpha + (*v)[4] * w;
  (*r).o[5] = (*r).o[5] * alpha + (*v)[5] * w;
  (*r).o[6] = (*r).o[6] * alpha + (*v)[6] * w;
  (*r).o[7] = (*r).o[7] * alpha + (*v)[7] * w;
  (*r).o[8] = (*r).o[8] * alpha + (*v)[8] * w;
  (*r).o[9] = (*r).o[9] * alpha + (*v)[9] * w;
  (*r).o[10] = (*r).o[10] * alpha + (*v)[10] * w;
  (*r).o[11] = (*r).o[11] * alpha + (*v)[11] * w;
  (*r).o[12] = (*r).o[12] * alpha + (*v)[12] * w;
  (*r).o[13] = (*r).o[13] * alpha + (*v)[13] * w;
  (*r).o[14] = (*r).o[14] * alpha + (*v)[14] * w;
  (*r).o[15] = (*r).o[15] * alpha + (*v)[15] * w;
}

fn finish(r: ptr<function, Row>, i: u32, h: u32) {
  if (i >= p.Q) { return; }
  let inv = 1.0 / (*r).l;
  let base = i * p.H * p.C + h * p.C;
  // One store in a loop over a copy of o, not 16 written out: lavapipe emits a branch per lane and
  // word of every store whose address differs between lanes, and the 16 stores made 60% of the
  // basic blocks in the looped kernel's LLVM IR (2069 blocks; 839 with the loop). Its compile took
  // 7.0-7.8 s against 8.2-8.3 (fresh Mesa cache, Zen 1 host), the unrolled kernel's on SwiftShader
  // 2.1-2.4 s against 2.6-3.2; a layer ran as fast (T = 919, alternating). The copy keeps dynamic
  // indices off the row itself, whose arrays stay in registers only while indexed by constants.
  var o = (*r).o;
  for (var c = 0u; c < p.C; c++) { out[base + c] = o[c] * inv; }
}
