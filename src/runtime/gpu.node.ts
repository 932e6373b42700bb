// Node: WebGPU through Dawn (npm `webgpu`). Globals (GPUBufferUsage, ...) are installed once.
import { readFileSync } from 'node:fs';
import { setShaderLoader } from './shaders.ts';
import { NoAdapterError } from './errors.ts';
import { NO_ADAPTER_HELP } from './device.ts';
import { Runtime } from './runtime.ts';

let gpu: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (gpu) return gpu;
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new NoAdapterError(`musiq: cannot load Dawn (npm package "webgpu"): ${(e as Error).message}; ${NO_ADAPTER_HELP}`);
  }
  Object.assign(globalThis, mod.globals);
  // Without this Dawn rounds timestamps to 65 µs, which hides every small kernel.
  gpu = mod.create(['disable-dawn-features=timestamp_quantization']);
  return gpu;
}

const kernelDir = new URL('../kernels/', import.meta.url);
setShaderLoader((name) => {
  try {
    return readFileSync(new URL(`${name}.wgsl`, kernelDir), 'utf8');
  } catch {
    throw new Error(`musiq: kernel source src/kernels/${name}.wgsl not found`);
  }
});

/** A Runtime on Dawn (Vulkan/Metal/D3D12 as the machine has; lavapipe on GPU-less Linux). */
export async function createNodeRuntime(options: { profile?: boolean; defaultLimits?: boolean } = {}): Promise<Runtime> {
  return Runtime.create({ gpu: await nodeGpu(), ...options });
}
