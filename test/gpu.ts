// One GPU runtime shared by all test files (device creation costs ~0.5 s on lavapipe).
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import type { Runtime } from '../src/runtime/runtime.ts';

let rt: Promise<Runtime> | undefined;

export function gpu(): Promise<Runtime> {
  rt ??= createNodeRuntime().then((r) => {
    console.log(`\n  GPU adapter: ${r.adapterName} [${r.adapter.vendor}/${r.adapter.architecture}]; features: ${[...r.features].join(', ') || 'none'}`);
    return r;
  });
  return rt;
}

export async function closeGpu(): Promise<void> {
  if (rt) (await rt).destroy();
}
