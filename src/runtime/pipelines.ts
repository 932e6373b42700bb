// Compute pipelines, compiled once per kernel, entry point, override constants and include swaps.
import { shaderSource } from './shaders.ts';
import type { ErrorScopes } from './error-scopes.ts';

export class PipelineCache {
  #pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly scopes: ErrorScopes,
  ) {}

  get(kernel: string, entry = 'main', constants: Record<string, number> = {}, includes: Record<string, string> = {}): GPUComputePipeline {
    const key = `${kernel}:${entry}:${JSON.stringify(constants)}:${JSON.stringify(includes)}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.scopes.run(kernel, () => {
        const module = this.device.createShaderModule({ label: kernel, code: shaderSource(kernel, includes) });
        return this.device.createComputePipeline({ label: kernel, layout: 'auto', compute: { module, entryPoint: entry, constants } });
      });
      this.#pipelines.set(key, p);
    }
    return p;
  }

  clear(): void {
    this.#pipelines.clear();
  }
}
