// A tensor's values as an rgba32float texture (rgba16float for f16 values), for kernels that read
// them with textureLoad. On lavapipe a storage-buffer load at a different address in each lane is
// emitted as a branch, a bounds check and a scalar load per lane, inline in the kernel, while a
// texel fetch calls a fetch function compiled once per format: the attention kernel's LLVM compile
// shrinks with it (attention.ts, the looped kernel). One texture per format is kept and reused; a
// larger tensor grows it, and a unit of work (an image) that needed less than half of it lets it go.
const TEXTURE_BINDING = 0x04; // GPUTextureUsage, spelled out: Node installs no WebGPU globals
const COPY_DST = 0x02;

export type TextureCopyFormat = 'rgba32float' | 'rgba16float';

/** Texture rows a copy of `values` values takes at `width` texels a row (4 values a texel). */
export function textureRows(values: number, width: number): number {
  return Math.ceil(values / 4 / width);
}

export class TextureCopies {
  readonly #device: GPUDevice;
  #texture: GPUTexture | undefined;
  #view: GPUTextureView | undefined;
  #retired: GPUTexture[] = [];
  #rowsUsed = 0; // the most rows a copy needed since the last trim()

  readonly #format: TextureCopyFormat;
  /** Bytes a texel holds: 16 (4 f32) or 8 (4 f16). */
  readonly texelBytes: number;

  constructor(device: GPUDevice, format: TextureCopyFormat = 'rgba32float') {
    this.#device = device;
    this.#format = format;
    this.texelBytes = format === 'rgba32float' ? 16 : 8;
  }

  /**
   * Encodes a copy of `buffer`'s first `values` values (f32 or f16 as the format holds, a multiple
   * of 4) into the texture, row by row (values 4i..4i+3 at texel (i % width, ⌊i / width⌋));
   * width · texelBytes must be a multiple of 256. Returns the texture's view: what dispatches
   * encoded after this copy read, until the next copy overwrites it (the queue runs copies and
   * dispatches in order).
   */
  copy(encoder: GPUCommandEncoder, buffer: GPUBuffer, values: number, width: number): GPUTextureView {
    const texels = values / 4;
    const rows = textureRows(values, width);
    const view = this.#fit(width, Math.max(rows, 1));
    this.#rowsUsed = Math.max(this.#rowsUsed, rows);
    const bytesPerRow = width * this.texelBytes;
    const full = Math.floor(texels / width);
    const rest = texels - full * width;
    if (full > 0) encoder.copyBufferToTexture({ buffer, bytesPerRow }, { texture: this.#texture! }, [width, full]);
    // The last row alone: a copy of whole rows would read past the tensor's bytes.
    if (rest > 0) encoder.copyBufferToTexture({ buffer, offset: full * bytesPerRow, bytesPerRow }, { texture: this.#texture!, origin: [0, full] }, [rest, 1]);
    return view;
  }

  /**
   * Call when the work that read the textures is done: frees those replaced by a larger one, and
   * the texture itself if that work used less than half of it (memory follows the images).
   */
  trim(): void {
    for (const t of this.#retired) t.destroy();
    this.#retired = [];
    if (this.#texture && this.#texture.height > 2 * this.#rowsUsed) {
      this.#texture.destroy();
      this.#texture = this.#view = undefined;
    }
    this.#rowsUsed = 0;
  }

  destroy(): void {
    this.trim();
    this.#texture?.destroy();
    this.#texture = this.#view = undefined;
  }

  #fit(width: number, rows: number): GPUTextureView {
    const t = this.#texture;
    if (t && t.width === width && t.height >= rows) return this.#view!;
    // Dispatches encoded but not yet submitted may still read the old texture: destroyed at trim().
    if (t) this.#retired.push(t);
    this.#texture = this.#device.createTexture({ label: 'musiq texture copy', size: [width, rows], format: this.#format, usage: TEXTURE_BINDING | COPY_DST });
    this.#view = this.#texture.createView();
    return this.#view;
  }
}
