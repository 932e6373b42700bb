// CPU reference for pad_rgb0.wgsl: RGB pixels → RGB0 pixels.
export function padRgb0Ref(x: ArrayLike<number>, pixels: number): Float32Array {
  const y = new Float32Array(pixels * 4);
  for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) y[p * 4 + c] = x[p * 3 + c];
  return y;
}
