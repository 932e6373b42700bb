// What the report says about the adapter: identity, subgroup sizes, features and the limits the
// kernels depend on, as the device got them.
import type { Runtime } from '../runtime/runtime.ts';
import type { BenchAdapterInfo } from './schema.ts';

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export function adapterInfo(rt: Runtime): BenchAdapterInfo {
  const a = rt.adapter;
  const info = (rt.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  return {
    description: a.description || rt.adapterName,
    vendor: a.vendor,
    architecture: a.architecture,
    device: a.device,
    isFallback: a.isFallback,
    subgroupMinSize: info?.subgroupMinSize ?? null,
    subgroupMaxSize: info?.subgroupMaxSize ?? null,
    features: [...rt.features].sort(),
    limits: Object.fromEntries(LIMITS.map((k) => [k, rt.limits[k]])),
  };
}
