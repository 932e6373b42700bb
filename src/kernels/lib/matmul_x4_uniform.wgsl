// lib/matmul_x4's X as a uniform buffer: a 64 KiB window of X's vec4 rows, bound at an offset
// (matmul.ts, variant "uniform"), for matmul_uniform.wgsl.
@group(0) @binding(1) var<uniform> x: array<vec4f, 4096>;
