// The output pixel of implicit-GEMM row m (patch·ho·wo + y·wo + x) and the top-left input
// position of its window. Shared by the conv kernels; expects a uniform `p` with rows, h, ho,
// wo, stride, padTop and padLeft.
struct Row {
  img: u32,
  iy: i32,
  ix: i32,
}

fn row(m: u32) -> Row {
  // Rows past the end repeat the last row; their results are not stored.
  let mm = min(m, p.rows - 1u);
  let q = mm % (p.ho * p.wo);
  return Row((mm / (p.ho * p.wo)) * p.h, i32((q / p.wo) * p.stride) - i32(p.padTop), i32((q % p.wo) * p.stride) - i32(p.padLeft));
}
