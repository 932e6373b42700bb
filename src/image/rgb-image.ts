/** What every decoder returns: 8-bit RGB, as the original pipeline sees an image. */
export interface RgbImage {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel, row-major. */
  data: Uint8Array;
}
