// Node: WebGPU through Dawn (npm `webgpu`). Nothing global is installed except the polling pacing
// below, and that only while a Node runtime that asked for it (the default) is alive.
import { readFileSync } from 'node:fs';
import { setShaderLoader } from './shaders.ts';
import { NoAdapterError } from './errors.ts';
import { NO_ADAPTER_HELP } from './device.ts';
import { Runtime } from './runtime.ts';

let gpu: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (gpu) return gpu;
  let mod: { create: (flags: string[]) => GPU };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new NoAdapterError(`musiq: cannot load Dawn (npm package "webgpu"): ${(e as Error).message}; ${NO_ADAPTER_HELP}`);
  }
  // Without this Dawn rounds timestamps to 65 µs, which hides every small kernel.
  gpu = mod.create(['disable-dawn-features=timestamp_quantization']);
  return gpu;
}

/**
 * How Dawn's event polling is paced. Dawn's Node binding keeps a loop of setImmediate(tick)
 * running while any of its promises is pending (mapAsync, onSubmittedWorkDone, popErrorScope:
 * crbug.com/dawn/1127), which holds a CPU core at 100% for as long as the GPU works. On a CPU
 * adapter that core is one the driver computes on: with 2 cores lavapipe ran the model 1.4-1.7×
 * slower (`npm run bench:model -- --vs-spin`). So after `spinMs` of immediate ticks, a tick
 * waits on a timer instead: `intervalMs`, or once the wait has lasted longer, a `backoff` share
 * of that time, up to `maxIntervalMs`. A wait shorter than spinMs (a fast GPU) sees no delay, one
 * up to 32 ms ends at most 1 ms late as before, a longer one at most ~1/32 of its length late,
 * and a seconds-long wait on a CPU adapter is polled ~60 times a second instead of 1000. Each
 * wake-up preempts one of lavapipe's threads on a two-core machine: a 1024×768 image's median
 * 4.66-5.34 s against 4.99-5.43 with a tick every 1 ms (Zen 1 host, `bench:model`, four
 * alternating rounds; a 1/16 share 4.37-5.16). 1/32 leaves waits up to 32 ms (a GPU's image) as
 * they were.
 */
export const dawnPolling = { spinMs: 2, intervalMs: 1, backoff: 1 / 32, maxIntervalMs: 16 };

let pacedRuntimes = 0;
let realSetImmediate: typeof setImmediate | undefined;

/**
 * Replaces globalThis.setImmediate with one that paces Dawn's ticks only. Dawn looks setImmediate
 * up on the global object for every tick and passes a bare native function (no name, no
 * arguments); every other caller gets the real setImmediate. Bound functions are native too but
 * are named "bound …". Counted: the real one is put back when the last paced runtime goes.
 */
function startPacing(): void {
  if (pacedRuntimes++ > 0) return;
  const immediate = (realSetImmediate = globalThis.setImmediate);
  const nativeSource = Function.prototype.toString.call(Function.prototype);
  let burstStart = 0;
  let inDawnTick = false;
  const paced = (callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    const dawnTick = args.length === 0 && callback.name === '' && Function.prototype.toString.call(callback) === nativeSource;
    if (!dawnTick) return immediate(callback, ...args);
    const now = performance.now();
    // While a promise is pending Dawn schedules the next tick from inside the current one
    // (AsyncRunner::ScheduleProcessEvents); a tick scheduled from anywhere else starts a new wait.
    // (Telling waits apart by the gap between ticks let a short wait that followed a long one
    // within ~70 ms inherit its 16 ms ticks: an empty dispatch's round trip read 17 ms.)
    if (!inDawnTick) burstStart = now;
    const tick = () => {
      inDawnTick = true;
      try {
        callback();
      } finally {
        inDawnTick = false;
      }
    };
    const waited = now - burstStart;
    if (waited < dawnPolling.spinMs) return immediate(tick);
    return setTimeout(tick, Math.round(Math.min(dawnPolling.maxIntervalMs, Math.max(dawnPolling.intervalMs, waited * dawnPolling.backoff))));
  };
  globalThis.setImmediate = Object.assign(paced, immediate) as typeof setImmediate;
}

function stopPacing(): void {
  if (--pacedRuntimes > 0 || !realSetImmediate) return;
  globalThis.setImmediate = realSetImmediate;
  realSetImmediate = undefined;
}

const kernelDir = new URL('../kernels/', import.meta.url);
setShaderLoader((name) => {
  try {
    return readFileSync(new URL(`${name}.wgsl`, kernelDir), 'utf8');
  } catch {
    throw new Error(`musiq: kernel source src/kernels/${name}.wgsl not found`);
  }
});

export interface NodeRuntimeOptions {
  profile?: boolean;
  defaultLimits?: boolean;
  /**
   * Pace Dawn's polling (see `dawnPolling`) while this runtime lives, by wrapping
   * globalThis.setImmediate; restored when the last such runtime is destroyed or lost. Default:
   * on, unless the environment has MUSIQ_DAWN_PACING=0 (how the CLI turns it off).
   */
  pacedPolling?: boolean;
}

/** A Runtime on Dawn (Vulkan/Metal/D3D12 as the machine has; lavapipe on GPU-less Linux). */
export async function createNodeRuntime(options: NodeRuntimeOptions = {}): Promise<Runtime> {
  const { pacedPolling = process.env.MUSIQ_DAWN_PACING !== '0', ...rest } = options;
  const rt = await Runtime.create({ gpu: await nodeGpu(), ...rest });
  if (pacedPolling) {
    startPacing();
    // `lost` also resolves when the runtime is destroyed.
    void rt.device.lost.then(stopPacing);
  }
  return rt;
}
