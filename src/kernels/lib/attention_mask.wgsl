// Whether token t is valid under the attention launcher's mask encoding (p.maskKind: 0 no mask,
// 1 u32 mask, 2 f32 mask bits). Shared by both attention kernels; expects `p` and `mask`.
fn isValid(t: u32) -> bool {
  if (p.maskKind == 0u) { return true; }
  let m = mask[t];
  if (p.maskKind == 1u) { return m != 0u; }
  return bitcast<f32>(m) > 0.0;
}
