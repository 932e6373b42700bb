// Compute pipelines, compiled once per kernel, entry point, override constants and include swaps.
import { shaderSource } from './shaders.ts';
import type { ErrorScopes } from './error-scopes.ts';

export class PipelineCache {
  #pipelines = new Map<string, GPUComputePipeline>();
  #compiling = new Map<string, Promise<void>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly scopes: ErrorScopes,
  ) {}

  get(kernel: string, entry = 'main', constants: Record<string, number> = {}, includes: Record<string, string> = {}): GPUComputePipeline {
    const key = keyOf(kernel, entry, constants, includes);
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.scopes.run(kernel, () => this.device.createComputePipeline(this.#descriptor(kernel, entry, constants, includes)));
      this.#pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Compiles a pipeline that get() will be asked for, without blocking the caller: where the
   * driver compiles at pipeline creation (SwiftShader), this lets the compile run while the page
   * does other work. Rejects as createComputePipelineAsync does; get() then compiles it again and
   * reports the error in its usual way.
   */
  prepare(kernel: string, entry = 'main', constants: Record<string, number> = {}, includes: Record<string, string> = {}): Promise<void> {
    const key = keyOf(kernel, entry, constants, includes);
    if (this.#pipelines.has(key)) return Promise.resolve();
    // A pipeline asked for twice while it compiles is compiled once.
    let compiling = this.#compiling.get(key);
    if (!compiling) {
      compiling = this.device.createComputePipelineAsync(this.#descriptor(kernel, entry, constants, includes)).then(
        (p) => {
          if (!this.#pipelines.has(key)) this.#pipelines.set(key, p);
        },
      );
      compiling.finally(() => this.#compiling.delete(key)).catch(() => undefined);
      this.#compiling.set(key, compiling);
    }
    return compiling;
  }

  #descriptor(kernel: string, entry: string, constants: Record<string, number>, includes: Record<string, string>): GPUComputePipelineDescriptor {
    const module = this.device.createShaderModule({ label: kernel, code: shaderSource(kernel, includes) });
    return { label: kernel, layout: 'auto', compute: { module, entryPoint: entry, constants } };
  }

  clear(): void {
    this.#pipelines.clear();
  }
}

const keyOf = (kernel: string, entry: string, constants: Record<string, number>, includes: Record<string, string>) =>
  `${kernel}:${entry}:${JSON.stringify(constants)}:${JSON.stringify(includes)}`;
