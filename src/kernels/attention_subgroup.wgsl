enable subgroups;
// attention.wgsl's math (read its header) laid out for CPU WebGPU implementations
// (lavapipe): there every load from storage or workgroup memory costs the same per SIMD
// instruction whether the 8 lanes read one address or eight, while a subgroup shuffle is a
// register extract. So each lane loads a DIFFERENT key row of the tile (8 rows per load
// instruction instead of 1 broadcast row) and the rows reach the other lanes by shuffles.
// Each invocation also owns R queries, so every shuffled value feeds R FMAs.
// Needs subgroups of a multiple of KT lanes (checked by the launcher).

override DH: u32 = 64u; // head dim, a multiple of 4, at most 64
override QB: u32 = 64u; // invocations per workgroup
const R: u32 = 2u;      // queries per invocation
// KT: keys per tile, one per lane of a KT-lane group (8; the launcher may swap in 4).
#include "lib/attention_lanes8"
const MAXC: u32 = 16u;

#include "lib/attention_io"

@compute @workgroup_size(QB)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let C = DH / 4u;
  let D4 = p.H * C;
  let h = wg.y;
  let group = lane & ~(KT - 1u); // first lane of my KT-lane group
  let slot = lane & (KT - 1u);   // which key of the tile this lane loads

  // Every variable is initialised explicitly: lavapipe was seen to keep a loop-local
  // array's old contents instead of zeroing it at each iteration.
  var q: array<array<vec4f, MAXC>, R>;
  var o: array<array<vec4f, MAXC>, R>;
  var m: array<f32, R>;
  var l: array<f32, R>;
  var qValid: array<bool, R>;
  for (var r = 0u; r < R; r++) {
    let row = min(wg.x * QB * R + r * QB + lid, p.Q - 1u);
    qValid[r] = isValid(row);
    for (var c = 0u; c < C; c++) {
      q[r][c] = qkv[row * 3u * D4 + h * C + c] / p.sqrtDh;
      o[r][c] = vec4f(0.0);
    }
    m[r] = NEG;
    l[r] = 0.0;
  }
  var kReg: array<vec4f, MAXC>;
  var vReg: array<vec4f, MAXC>;
  var s: array<array<f32, KT>, R>;

  for (var t0 = 0u; t0 < p.T; t0 += KT) {
    let key = min(t0 + slot, p.T - 1u);
    let keyBase = key * 3u * D4 + h * C;
    for (var c = 0u; c < C; c++) {
      kReg[c] = qkv[keyBase + D4 + c];
      vReg[c] = qkv[keyBase + 2u * D4 + c];
    }
    // 1: key in range and valid, 0: valid-mask padding, 2: past the end
    let keyState = select(select(0u, 1u, isValid(key)), 2u, t0 + slot >= p.T);

    var tileMax: array<f32, R>;
    for (var r = 0u; r < R; r++) { tileMax[r] = NEG; }
    for (var j = 0u; j < KT; j++) {
      var acc: array<vec4f, R>;
      for (var r = 0u; r < R; r++) { acc[r] = vec4f(0.0); }
      for (var c = 0u; c < C; c++) {
        let k = subgroupShuffle(kReg[c], group + j);
        for (var r = 0u; r < R; r++) { acc[r] = fma(q[r][c], k, acc[r]); }
      }
      let ks = subgroupShuffle(keyState, group + j);
      for (var r = 0u; r < R; r++) {
        var logit = acc[r].x + acc[r].y + acc[r].z + acc[r].w;
        if (!(qValid[r] && ks == 1u)) { logit += BIAS; } // added, as flax does
        if (ks == 2u) { logit = NEG; }
        s[r][j] = logit;
        tileMax[r] = max(tileMax[r], logit);
      }
    }
    for (var r = 0u; r < R; r++) {
      let mNew = max(m[r], tileMax[r]);
      let alpha = exp(m[r] - mNew);
      l[r] *= alpha;
      for (var c = 0u; c < C; c++) { o[r][c] *= alpha; }
      m[r] = mNew;
    }
    for (var j = 0u; j < KT; j++) {
      var w: array<f32, R>;
      for (var r = 0u; r < R; r++) {
        w[r] = exp(s[r][j] - m[r]);
        l[r] += w[r];
      }
      for (var c = 0u; c < C; c++) {
        let v = subgroupShuffle(vReg[c], group + j);
        for (var r = 0u; r < R; r++) { o[r][c] = fma(vec4f(w[r]), v, o[r][c]); }
      }
    }
  }
  for (var r = 0u; r < R; r++) {
    let i = wg.x * QB * R + r * QB + lid;
    if (i < p.Q) {
      let inv = 1.0 / l[r];
      for (var c = 0u; c < C; c++) { out[i * D4 + h * C + c] = o[r][c] * inv; }
    }
  }
}
