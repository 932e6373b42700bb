// The matmul operand X as vec4 rows in a storage buffer (K % 4 == 0). matmul_uniform swaps in
// lib/matmul_x4_uniform: a 64 KiB window of the same rows as a uniform buffer.
@group(0) @binding(1) var<storage, read> x: array<vec4f>;
