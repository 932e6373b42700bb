// Masked multi-head self-attention, flax semantics, streaming over keys (flash-style):
// out[i, h·Dh + d] = Σ_j softmax_j(q_i·k_j / √Dh + bias_ij) · v[j, h·Dh + d]
// qkv is [T, 3D] (q | k | v; head h at columns h·Dh .. inside each), out is [T, D].
// bias_ij = −1e10 where query i or key j is padding, ADDED to the logit as flax does.
// Memory is O(T): each query's invocations keep a running max, sum and output accumulator while
// they walk the keys tile by tile; no T×T matrix exists. How many invocations a query has (LANES),
// and so which vec4 columns each owns (lane, lane + LANES, ...), comes from the include:
#include "lib/attention_query_lanes1"

override DH: u32 = 64u; // head dim, a multiple of 4, at most 64 (private arrays need a fixed bound)
override QB: u32 = 64u; // queries per workgroup: QB·LANES invocations
const MAXC: u32 = 16u;  // vec4 columns of the largest head dim (64)
const LC: u32 = MAXC / LANES; // vec4 columns an invocation owns at most

var<workgroup> kTile: array<vec4f, KT * DH / 4u>;
var<workgroup> vTile: array<vec4f, KT * DH / 4u>;
var<workgroup> kValid: array<u32, KT>;

#include "lib/attention_io"

@compute @workgroup_size(QB * LANES)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let C = DH / 4u;                  // vec4 columns per head
  let D4 = p.H * C;                 // vec4 columns of D
  let slot = slotOf(lid);
  let lane = slot % LANES;
  let i = wg.x * QB + slot / LANES; // query row
  let h = wg.y;
  let live = i < p.Q;
  let row = min(i, p.Q - 1u);       // out-of-range invocations still help load tiles
  let qValid = isValid(row);

  var q: array<vec4f, LC>;
  var o: array<vec4f, LC>;
  for (var cc = 0u; cc < LC; cc++) {
    let c = lane + LANES * cc;
    q[cc] = select(vec4f(0.0), qkv[row * 3u * D4 + h * C + min(c, C - 1u)] / p.sqrtDh, c < C);
    o[cc] = vec4f(0.0);
  }
  var m = NEG;
  var l = 0.0;
  var s: array<f32, KT>;

  for (var t0 = 0u; t0 < p.T; t0 += KT) {
    workgroupBarrier();
    for (var e = lid; e < KT * C; e += QB * LANES) {
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
        let c = lane + LANES * cc;
        if (c < C) { acc = fma(q[cc], kTile[j * C + c], acc); }
      }
      var logit = laneSum(acc.x + acc.y + acc.z + acc.w);
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
        let c = lane + LANES * cc;
        if (c < C) { o[cc] = fma(vec4f(w), vTile[j * C + c], o[cc]); }
      }
    }
    m = mNew;
  }
  if (live) {
    let inv = 1.0 / l;
    for (var cc = 0u; cc < LC; cc++) {
      let c = lane + LANES * cc;
      if (c < C) { out[i * D4 + h * C + c] = o[cc] * inv; }
    }
  }
}
