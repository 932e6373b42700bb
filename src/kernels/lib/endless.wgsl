// Loops whose bound is a uniform are written
//   for (var i = 0u; i < ENDLESS; i++) { if (i >= n) { break; } … }
// Tint gives a loop it cannot prove finite (a bound it does not know, or a step other than 1) a
// 64-bit iteration counter and a second exit, tested every iteration (Dawn's dump_shaders shows
// it); a constant bound with a step of 1 it proves finite. A CPU adapter runs that bookkeeping
// per lane, which short loop bodies feel. Measured in one process, switching kernels image by
// image (1024×768): the stem's GroupNorms (groupnorm_vec4) 424-453 ms against 469-491 on
// SwiftShader and 62-67 against 77-80 on lavapipe; lavapipe's convolutions 190-217 ms against
// 209-231 (conv2d_subgroup, 8 lanes) and 368-479 against 538-635 (conv2d_subgroup4, 4 lanes), the
// first dispatch on a fresh Mesa cache as long. matmul_subgroup4's k loop alone (919×384×1152 and
// 919×1152×384, alternating): lavapipe at 4 lanes 55-69 and 43-50 ms against 68-78 and 50-60,
// SwiftShader as fast as before. Not taken where it did not pay: conv2d_gemm4 on SwiftShader
// (1147-1208 ms against 1096-1130), the matmul store loops there (slower), matmul_subgroup at 8
// lanes, layernorm_rows and the attention kernels' key loops (no difference).
const ENDLESS = 0xffffffffu;
