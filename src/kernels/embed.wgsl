// Encoder input (spec §3.4): row 0 = CLS as is; row t+1 = (patch[t] + pos[spatial[t]]) +
// scale[scaleId[t]], added in the original's order. An id past its table writes NaN into
// its row rather than reading some other row; the real guard is checkTokenIds on the CPU
// (WGSL lets later kernels treat NaN loosely, so the score is not guaranteed to be NaN).

struct Params {
  N: u32,         // patch tokens
  D: u32,
  positions: u32, // rows of the position table (100)
  scales: u32,    // rows of the scale table
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> patchEmb: array<f32>;
@group(0) @binding(2) var<storage, read> spatial: array<u32>;
@group(0) @binding(3) var<storage, read> scaleIds: array<u32>;
@group(0) @binding(4) var<storage, read> pos: array<f32>;
@group(0) @binding(5) var<storage, read> scaleEmb: array<f32>;
@group(0) @binding(6) var<storage, read> cls: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= (p.N + 1u) * p.D) { return; }
  let row = i / p.D;
  let c = i % p.D;
  if (row == 0u) {
    y[i] = cls[c];
    return;
  }
  let t = row - 1u;
  let s = spatial[t];
  let k = scaleIds[t];
  if (s >= p.positions || k >= p.scales) {
    // A quiet NaN; built from a runtime value because WGSL rejects NaN constants.
    y[i] = bitcast<f32>(0x7fc00000u | (s & 1u));
    return;
  }
  y[i] = (patchEmb[t * p.D + c] + pos[s * p.D + c]) + scaleEmb[k * p.D + c];
}
