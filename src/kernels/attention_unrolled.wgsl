enable subgroups;
// attention.wgsl's math (read its header) for the CPU adapters, SwiftShader above all. There a
// private array indexed by a loop variable lives in memory and every access is a per-lane
// gather/scatter (the compiler cannot know the index is the same in every lane), which held the
// tiled kernel to 0.5 GFLOP/s. Here every loop over the head is written out, so every register
// access has a fixed offset (as in the matmuls), and each invocation owns 8 queries, so every key
// loaded feeds 8 of them:
//   - keys come 4 at a time: lane l of each 4-lane group loads key t0 + l, and subgroupBroadcast
//     from the fixed lanes 0..3 (a register shuffle) turns column c of the 4 keys into the matrix
//     tile[c], so a vector-matrix product gives a query's 4 logits and a matrix-vector product
//     adds the 4 weighted value rows (lanes past 4 load the same keys as lanes 0..3, so any
//     subgroup of 4 or more lanes works: checked by the launcher);
//   - the query state is a struct handed to step() by pointer: 8 copies of the step's code,
//     each at fixed offsets.
// The head dim is a uniform (p.C vec4 columns, up to 16), not an override, so one pipeline serves
// every head dim: on lavapipe this kernel takes ~30 s to compile (once; Mesa caches it on disk).
// Columns past the head read the last column again, are multiplied by a zero query (so the logits
// are exact) and are never stored.
// Measured at T = 919 (bench/kernels/attention.ts): SwiftShader 5.5-6 GFLOP/s (tiled 0.5; 1 query
// per invocation 1.8, 4 queries 4.5, 16 queries 6.4 but 13 s to compile); lavapipe 18-24 (the
// subgroup kernel 15-17; 4 queries 15.5).

override QB: u32 = 64u; // invocations per workgroup
const NEG: f32 = -3.0e38;
const BIAS: f32 = -1e10;

struct Params {
  T: u32,
  H: u32,
  maskKind: u32, // 0 none, 1 u32 mask, 2 f32 mask (both: > 0 is valid)
  sqrtDh: f32,
  Q: u32, // queries computed: rows 0..Q-1 (Q <= T); keys are always all T rows
  C: u32, // vec4 columns per head: head dim / 4, 1..16
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<vec4f>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;

#include "lib/attention_mask"

// A query's state: the scaled query, the output accumulator, the running max and sum, and whether
// the query is valid (in all four components, to select against four keys at once).
struct Row { q: array<vec4f, 16>, o: array<vec4f, 16>, m: f32, l: f32, valid: vec4<bool> }

// Column c of the 4 keys (or values) of lanes 0..3 in column j of tile[c].
alias Tile = array<mat4x4f, 16>;

fn column(base: u32, c: u32) -> mat4x4f {
  let v = qkv[base + min(c, p.C - 1u)];
  return mat4x4f(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

fn tile(base: u32) -> Tile {
  return Tile(column(base, 0u), column(base, 1u), column(base, 2u), column(base, 3u), column(base, 4u), column(base, 5u), column(base, 6u), column(base, 7u),
              column(base, 8u), column(base, 9u), column(base, 10u), column(base, 11u), column(base, 12u), column(base, 13u), column(base, 14u), column(base, 15u));
}

// The query's column c, scaled as flax scales it, zero past the head.
fn query(base: u32, c: u32) -> vec4f {
  return select(vec4f(0.0), qkv[base + min(c, p.C - 1u)] / p.sqrtDh, c < p.C);
}

fn start(r: ptr<function, Row>, row: u32, h: u32) {
  let base = row * 3u * p.H * p.C + h * p.C;
  (*r).q[0] = query(base, 0u); (*r).q[1] = query(base, 1u); (*r).q[2] = query(base, 2u); (*r).q[3] = query(base, 3u);
  (*r).q[4] = query(base, 4u); (*r).q[5] = query(base, 5u); (*r).q[6] = query(base, 6u); (*r).q[7] = query(base, 7u);
  (*r).q[8] = query(base, 8u); (*r).q[9] = query(base, 9u); (*r).q[10] = query(base, 10u); (*r).q[11] = query(base, 11u);
  (*r).q[12] = query(base, 12u); (*r).q[13] = query(base, 13u); (*r).q[14] = query(base, 14u); (*r).q[15] = query(base, 15u);
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
  if (0u < p.C) { out[base + 0u] = (*r).o[0] * inv; } if (1u < p.C) { out[base + 1u] = (*r).o[1] * inv; }
  if (2u < p.C) { out[base + 2u] = (*r).o[2] * inv; } if (3u < p.C) { out[base + 3u] = (*r).o[3] * inv; }
  if (4u < p.C) { out[base + 4u] = (*r).o[4] * inv; } if (5u < p.C) { out[base + 5u] = (*r).o[5] * inv; }
  if (6u < p.C) { out[base + 6u] = (*r).o[6] * inv; } if (7u < p.C) { out[base + 7u] = (*r).o[7] * inv; }
  if (8u < p.C) { out[base + 8u] = (*r).o[8] * inv; } if (9u < p.C) { out[base + 9u] = (*r).o[9] * inv; }
  if (10u < p.C) { out[base + 10u] = (*r).o[10] * inv; } if (11u < p.C) { out[base + 11u] = (*r).o[11] * inv; }
  if (12u < p.C) { out[base + 12u] = (*r).o[12] * inv; } if (13u < p.C) { out[base + 13u] = (*r).o[13] * inv; }
  if (14u < p.C) { out[base + 14u] = (*r).o[14] * inv; } if (15u < p.C) { out[base + 15u] = (*r).o[15] * inv; }
}

@compute @workgroup_size(QB)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let D4 = p.H * p.C;
  let h = wg.y;
  let first = wg.x * QB * 8u + lid; // this invocation's queries: first + r·QB, r = 0..7
  // Queries past Q are computed on row Q - 1 (their lanes still load keys) and not stored.
  var r0: Row; var r1: Row; var r2: Row; var r3: Row; var r4: Row; var r5: Row; var r6: Row; var r7: Row;
  start(&r0, min(first + 0u * QB, p.Q - 1u), h); start(&r1, min(first + 1u * QB, p.Q - 1u), h);
  start(&r2, min(first + 2u * QB, p.Q - 1u), h); start(&r3, min(first + 3u * QB, p.Q - 1u), h);
  start(&r4, min(first + 4u * QB, p.Q - 1u), h); start(&r5, min(first + 5u * QB, p.Q - 1u), h);
  start(&r6, min(first + 6u * QB, p.Q - 1u), h); start(&r7, min(first + 7u * QB, p.Q - 1u), h);
  let slot = lane & 3u;
  for (var t0 = 0u; t0 < p.T; t0 += 4u) {
    let key = min(t0 + slot, p.T - 1u);
    let kb = key * 3u * D4 + D4 + h * p.C;
    let state = select(select(0u, 1u, isValid(key)), 2u, t0 + slot >= p.T);
    let ks = vec4u(subgroupBroadcast(state, 0u), subgroupBroadcast(state, 1u), subgroupBroadcast(state, 2u), subgroupBroadcast(state, 3u));
    var k = tile(kb);
    var v = tile(kb + D4);
    step(&r0, &k, &v, ks); step(&r1, &k, &v, ks); step(&r2, &k, &v, ks); step(&r3, &k, &v, ks);
    step(&r4, &k, &v, ks); step(&r5, &k, &v, ks); step(&r6, &k, &v, ks); step(&r7, &k, &v, ks);
  }
  finish(&r0, first + 0u * QB, h); finish(&r1, first + 1u * QB, h);
  finish(&r2, first + 2u * QB, h); finish(&r3, first + 3u * QB, h);
  finish(&r4, first + 4u * QB, h); finish(&r5, first + 5u * QB, h);
  finish(&r6, first + 6u * QB, h); finish(&r7, first + 7u * QB, h);
}
