enable subgroups;
// attention.wgsl's math (read its header) laid out for GPUs: four lanes share a query, each
// owning every fourth vec4 column of its q and output row (16 of the 64 values at head dim 64),
// and the four partial dot products meet by two shuffles. An invocation then holds 8 vec4
// instead of 32, so a GPU keeps many more of them in flight, and a K/V tile loaded into
// workgroup memory serves 32 queries of 128 invocations. H200 (Dawn, Vulkan), T = 919, 6 heads,
// one layer: tiled (one query per invocation, 64 a workgroup, 90 workgroups) 1.73 ms, 750
// GFLOP/s; this kernel with 16 queries a workgroup 0.40 ms, with 32 0.23 ms (5.6 TFLOP/s).
// Needs subgroups of a multiple of 4 lanes, none wider than the workgroup (checked by the launcher).

override DH: u32 = 64u; // head dim, a multiple of 4, at most 64
override QB: u32 = 32u; // queries per workgroup: QB·4 invocations
const KT: u32 = 32u;    // keys per tile
const MAXC: u32 = 16u;  // vec4 columns of the largest head dim (64)
const LC: u32 = 4u;     // vec4 columns a lane owns at most: MAXC / 4

var<workgroup> kTile: array<vec4f, KT * MAXC>;
var<workgroup> vTile: array<vec4f, KT * MAXC>;
var<workgroup> kValid: array<u32, KT>;
var<workgroup> slots: atomic<u32>; // zero at the start, as all workgroup memory

#include "lib/attention_io"

@compute @workgroup_size(QB * 4u)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32) {
  let C = DH / 4u;
  let D4 = p.H * C;
  let h = wg.y;
  // The shuffles combine lanes by their subgroup index, and WGSL does not say how
  // local_invocation_index maps onto it; so each subgroup claims the next sgSize slots and a
  // query's four lanes are four consecutive lanes of one subgroup, whatever the mapping.
  var first = 0u;
  if (subgroupElect()) { first = atomicAdd(&slots, sgSize); }
  first = subgroupBroadcastFirst(first);
  let slot = first + sgLane;
  let lane = slot % 4u;
  let i = wg.x * QB + slot / 4u; // query row
  let live = i < p.Q;
  let row = min(i, p.Q - 1u);    // out-of-range invocations still load tiles and shuffle
  let qValid = isValid(row);

  var q: array<vec4f, LC>;
  var o: array<vec4f, LC>;
  for (var cc = 0u; cc < LC; cc++) {
    let c = lane + 4u * cc;
    q[cc] = select(vec4f(0.0), qkv[row * 3u * D4 + h * C + min(c, C - 1u)] / p.sqrtDh, c < C);
    o[cc] = vec4f(0.0);
  }
  var m = NEG;
  var l = 0.0;
  var s: array<f32, KT>;

  for (var t0 = 0u; t0 < p.T; t0 += KT) {
    workgroupBarrier();
    for (var e = lid; e < KT * C; e += QB * 4u) {
      let key = min(t0 + e / C, p.T - 1u);
      let base = key * 3u * D4 + h * C + e % C;
      kTile[e] = qkv[base + D4];
      vTile[e] = qkv[base + 2u * D4];
    }
    if (lid < KT) { kValid[lid] = select(0u, 1u, t0 + lid < p.T && isValid(min(t0 + lid, p.T - 1u))); }
    workgroupBarrier();

    var tileMax = NEG;
    for (var j = 0u; j < KT; j++) {
      var acc = vec4f(0.0);
      for (var cc = 0u; cc < LC; cc++) {
        let c = lane + 4u * cc;
        if (c < C) { acc = fma(q[cc], kTile[j * C + c], acc); }
      }
      // a + b = b + a in floating point, so all four lanes end with the same bits.
      var logit = acc.x + acc.y + acc.z + acc.w;
      logit += subgroupShuffleXor(logit, 1u);
      logit += subgroupShuffleXor(logit, 2u);
      if (!(qValid && kValid[j] == 1u)) { logit += BIAS; }
      if (t0 + j >= p.T) { logit = NEG; }
      s[j] = logit;
      tileMax = max(tileMax, logit);
    }
    let mNew = max(m, tileMax);
    let alpha = exp(m - mNew);
    l *= alpha;
    for (var cc = 0u; cc < LC; cc++) { o[cc] *= alpha; }
    for (var j = 0u; j < KT; j++) {
      let w = exp(s[j] - mNew);
      l += w;
      for (var cc = 0u; cc < LC; cc++) {
        let c = lane + 4u * cc;
        if (c < C) { o[cc] = fma(vec4f(w), vTile[j * C + c], o[cc]); }
      }
    }
    m = mNew;
  }
  if (live) {
    let inv = 1.0 / l;
    for (var cc = 0u; cc < LC; cc++) {
      let c = lane + 4u * cc;
      if (c < C) { out[i * D4 + h * C + c] = o[cc] * inv; }
    }
  }
}
