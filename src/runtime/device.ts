// Getting a GPUDevice with the limits and features MUSIQ wants, on any WebGPU implementation.
import { MusiqError } from '../common/errors.ts';
import { NoAdapterError } from './errors.ts';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallback: boolean;
  features: string[];
}

/** A CPU adapter: lavapipe under Dawn (architecture 'software'), or any fallback adapter (SwiftShader, wgpu's lavapipe). */
export function isCpuAdapter(a: AdapterDescription): boolean {
  return a.architecture === 'software' || a.isFallback;
}

export interface DeviceHandle {
  device: GPUDevice;
  adapter: AdapterDescription;
  /** Features that were both available and requested. */
  features: Set<string>;
}

export const OPTIONAL_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;

/** The limits worth raising above WebGPU's defaults: big storage bindings and fat workgroups. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export const NO_ADAPTER_HELP =
  'no WebGPU adapter found. On Linux without a GPU install a software Vulkan driver: ' +
  'Mesa >= 25 lavapipe (Debian bookworm: `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`) ' +
  'and set XDG_RUNTIME_DIR; in a browser enable WebGPU (Chromium: --enable-unsafe-webgpu).';

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    // `isFallbackAdapter` moved from the adapter to its info; accept either.
    isFallback: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...adapter.features].sort(),
  };
}

export function adapterLabel(a: AdapterDescription): string {
  const name = a.description || [a.vendor, a.architecture, a.device].filter(Boolean).join(' ');
  return `${name}${a.isFallback ? ' (software fallback)' : ''}`;
}

/** `defaultLimits`: WebGPU's guaranteed minimums instead of the adapter's maxima (what a strict browser gives). */
export async function openDevice(gpu: GPU | undefined, powerPreference: GPUPowerPreference = 'high-performance', defaultLimits = false): Promise<DeviceHandle> {
  if (!gpu) throw new NoAdapterError(`musiq: WebGPU is not available in this runtime; ${NO_ADAPTER_HELP}`);
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new NoAdapterError(`musiq: ${NO_ADAPTER_HELP}`);
  const description = describeAdapter(adapter);
  // Dawn's null backend answers every call and executes nothing: scores would be zeros.
  if (description.device === 'null-backend' || /null backend/i.test(description.description)) {
    throw new NoAdapterError(`musiq: only Dawn's null backend is available, which runs no shaders; ${NO_ADAPTER_HELP}`);
  }
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  if (!defaultLimits) for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  } catch (e) {
    throw new MusiqError(`musiq: requestDevice failed on ${adapterLabel(description)}: ${(e as Error).message}`);
  }
  return { device, adapter: description, features: new Set(features) };
}

/** A device's subgroup sizes where it says (Dawn's adapterInfo; not in every runtime's types). */
export function subgroupSizes(rt: { readonly device: GPUDevice }): { min?: number; max?: number } {
  const info = (rt.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  return { min: info?.subgroupMinSize, max: info?.subgroupMaxSize };
}

/** Why a kernel that broadcasts from lanes 0..lanes-1 of a `lanes`-invocation workgroup cannot run here, or undefined. */
export function subgroupProblem(rt: { readonly device: GPUDevice; readonly features: Set<string> }, lanes: number): string | undefined {
  if (!rt.features.has('subgroups')) return 'the adapter has no subgroups';
  const { min } = subgroupSizes(rt);
  return min !== undefined && min >= lanes ? undefined : `subgroups may be narrower than ${lanes} lanes (min ${min ?? 'unknown'})`;
}
