// The matmul weight operand W, read one value at a time, stored as f32. Kernels read W only
// through wAt() so that lib/matmul_w_f16 can take this file's place (Dispatch.includes).
// Included before anything else in the kernel: its f16 twin starts with `enable f16;`.
@group(0) @binding(2) var<storage, read> w: array<f32>;
fn wAt(i: u32) -> f32 { return w[i]; }
