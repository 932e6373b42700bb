// Browser: navigator.gpu; shaders are inlined by the bundler as the virtual module below.
import { setShaderLoader } from './shaders.ts';
import { Runtime } from './runtime.ts';
// @ts-expect-error virtual module made by tools/build.ts from src/kernels/*.wgsl
import kernels from 'musiq:kernels';

export async function browserGpu(): Promise<GPU | undefined> {
  return (globalThis.navigator as Navigator | undefined)?.gpu;
}

setShaderLoader((name) => {
  const text = (kernels as Record<string, string>)[name];
  if (text === undefined) throw new Error(`musiq: kernel ${name}.wgsl is not in this bundle`);
  return text;
});

export async function createBrowserRuntime(options: { profile?: boolean; defaultLimits?: boolean } = {}): Promise<Runtime> {
  return Runtime.create({ gpu: await browserGpu(), ...options });
}
