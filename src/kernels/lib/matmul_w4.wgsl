// The matmul weight operand W, read as vec4 rows (N % 4 == 0), stored as f32. Kernels read W
// only through w4At() so that lib/matmul_w4_f16 can take this file's place (Dispatch.includes).
// Included before anything else in the kernel: its f16 twin starts with `enable f16;`.
@group(0) @binding(2) var<storage, read> w: array<vec4f>;
fn w4At(i: u32) -> vec4f { return w[i]; }
