// One GPU runtime shared by all test files (device creation costs ~0.5 s on lavapipe).
// Under Deno (`deno run test/run.ts`) it is Deno's own WebGPU (wgpu + naga), not the Dawn addon:
// the same kernels and tests on a third WebGPU implementation. The shader files are still read
// through gpu.node.ts's loader (node:fs works in Deno); its Dawn import only runs in Node.
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { Runtime } from '../src/runtime/runtime.ts';

/** Deno's navigator.gpu when running in Deno, else undefined (Node gets Dawn). */
export const denoGpu: GPU | undefined = 'Deno' in globalThis ? navigator.gpu : undefined;

let rt: Promise<Runtime> | undefined;

/** A runtime of its own (e.g. profiling) on the same WebGPU as gpu(): Deno's under Deno, else Dawn. */
export function newRuntime(options: { profile?: boolean; defaultLimits?: boolean } = {}): Promise<Runtime> {
  return denoGpu ? Runtime.create({ gpu: denoGpu, ...options }) : createNodeRuntime(options);
}

export function gpu(): Promise<Runtime> {
  rt ??= newRuntime().then((r) => {
    const info = (r.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const lanes = r.features.has('subgroups') ? `; subgroups of ${info?.subgroupMinSize ?? '?'}-${info?.subgroupMaxSize ?? '?'} lanes` : '';
    console.log(`\n  GPU adapter: ${r.adapterName} [${r.adapter.vendor}/${r.adapter.architecture}]; features: ${[...r.features].join(', ') || 'none'}${lanes}`);
    return r;
  });
  return rt;
}

export async function closeGpu(): Promise<void> {
  if (rt) (await rt).destroy();
}

/**
 * Why a kernel needing subgroups of at least `lanes` lanes cannot run on this adapter, or
 * undefined. Read from the adapter itself, not from the kernel's own check, so that a kernel
 * wrongly refusing to run still fails its test. lavapipe's subgroups are
 * LP_NATIVE_VECTOR_WIDTH / 32 lanes wide: 4 at 128, 8 at 256 (the default), 16 at 512.
 */
export function subgroupSkip(rt: Runtime, lanes: number): string | undefined {
  if (!rt.features.has('subgroups')) return 'the adapter has no subgroups feature';
  const min = (rt.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo?.subgroupMinSize;
  if (min === undefined) return 'the adapter does not report its subgroup size';
  return min < lanes ? `subgroups may be ${min} lanes wide, the kernel needs ${lanes}` : undefined;
}
