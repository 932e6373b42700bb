// The accumulators of a 4-lane tile of 32 rows × 4 vec4 columns a lane (a: the lane's first
// column, then b, c, d), declared inside main() by matmul_subgroup4.wgsl and conv2d_gemm4.wgsl:
// #include pastes text, so the 128 names are written once here (their kernels say why the
// accumulators are named variables, not an array).
  var a0 = vec4f(0); var a1 = vec4f(0); var a2 = vec4f(0); var a3 = vec4f(0);
  var a4 = vec4f(0); var a5 = vec4f(0); var a6 = vec4f(0); var a7 = vec4f(0);
  var a8 = vec4f(0); var a9 = vec4f(0); var a10 = vec4f(0); var a11 = vec4f(0);
  var a12 = vec4f(0); var a13 = vec4f(0); var a14 = vec4f(0); var a15 = vec4f(0);
  var a16 = vec4f(0); var a17 = vec4f(0); var a18 = vec4f(0); var a19 = vec4f(0);
  var a20 = vec4f(0); var a21 = vec4f(0); var a22 = vec4f(0); var a23 = vec4f(0);
  var a24 = vec4f(0); var a25 = vec4f(0); var a26 = vec4f(0); var a27 = vec4f(0);
  var a28 = vec4f(0); var a29 = vec4f(0); var a30 = vec4f(0); var a31 = vec4f(0);
  var b0 = vec4f(0); var b1 = vec4f(0); var b2 = vec4f(0); var b3 = vec4f(0);
  var b4 = vec4f(0); var b5 = vec4f(0); var b6 = vec4f(0); var b7 = vec4f(0);
  var b8 = vec4f(0); var b9 = vec4f(0); var b10 = vec4f(0); var b11 = vec4f(0);
  var b12 = vec4f(0); var b13 = vec4f(0); var b14 = vec4f(0); var b15 = vec4f(0);
  var b16 = vec4f(0); var b17 = vec4f(0); var b18 = vec4f(0); var b19 = vec4f(0);
  var b20 = vec4f(0); var b21 = vec4f(0); var b22 = vec4f(0); var b23 = vec4f(0);
  var b24 = vec4f(0); var b25 = vec4f(0); var b26 = vec4f(0); var b27 = vec4f(0);
  var b28 = vec4f(0); var b29 = vec4f(0); var b30 = vec4f(0); var b31 = vec4f(0);
  var c0 = vec4f(0); var c1 = vec4f(0); var c2 = vec4f(0); var c3 = vec4f(0);
  var c4 = vec4f(0); var c5 = vec4f(0); var c6 = vec4f(0); var c7 = vec4f(0);
  var c8 = vec4f(0); var c9 = vec4f(0); var c10 = vec4f(0); var c11 = vec4f(0);
  var c12 = vec4f(0); var c13 = vec4f(0); var c14 = vec4f(0); var c15 = vec4f(0);
  var c16 = vec4f(0); var c17 = vec4f(0); var c18 = vec4f(0); var c19 = vec4f(0);
  var c20 = vec4f(0); var c21 = vec4f(0); var c22 = vec4f(0); var c23 = vec4f(0);
  var c24 = vec4f(0); var c25 = vec4f(0); var c26 = vec4f(0); var c27 = vec4f(0);
  var c28 = vec4f(0); var c29 = vec4f(0); var c30 = vec4f(0); var c31 = vec4f(0);
  var d0 = vec4f(0); var d1 = vec4f(0); var d2 = vec4f(0); var d3 = vec4f(0);
  var d4 = vec4f(0); var d5 = vec4f(0); var d6 = vec4f(0); var d7 = vec4f(0);
  var d8 = vec4f(0); var d9 = vec4f(0); var d10 = vec4f(0); var d11 = vec4f(0);
  var d12 = vec4f(0); var d13 = vec4f(0); var d14 = vec4f(0); var d15 = vec4f(0);
  var d16 = vec4f(0); var d17 = vec4f(0); var d18 = vec4f(0); var d19 = vec4f(0);
  var d20 = vec4f(0); var d21 = vec4f(0); var d22 = vec4f(0); var d23 = vec4f(0);
  var d24 = vec4f(0); var d25 = vec4f(0); var d26 = vec4f(0); var d27 = vec4f(0);
  var d28 = vec4f(0); var d29 = vec4f(0); var d30 = vec4f(0); var d31 = vec4f(0);
