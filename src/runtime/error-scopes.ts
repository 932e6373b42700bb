// GPU errors, attributed to the kernel that caused them: each pipeline creation, dispatch and
// submit runs in its own validation scope, and the first error found is thrown at the next wait.
import { GpuError } from './errors.ts';

export class ErrorScopes {
  #scopes: { label: string; error: Promise<GPUError | null> }[] = [];
  #uncaptured: string[] = [];

  constructor(private readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (ev) => {
      this.#uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    });
  }

  /** Runs `encode` in a validation scope whose error is blamed on `label`. */
  run<T>(label: string, encode: () => T): T {
    this.device.pushErrorScope('validation');
    try {
      return encode();
    } finally {
      this.#scopes.push({ label, error: this.device.popErrorScope() });
    }
  }

  /** Waits for every open scope; throws the first error as a GpuError naming its kernel. */
  async throwFirst(): Promise<void> {
    const scopes = this.#scopes;
    this.#scopes = [];
    const errors = await Promise.all(scopes.map((s) => s.error.catch((e: Error) => ({ message: e.message }) as GPUError)));
    const i = errors.findIndex((e) => e !== null);
    if (i >= 0) throw new GpuError(scopes[i].label, errors[i]!.message);
    if (this.#uncaptured.length) throw new GpuError('unknown', this.#uncaptured.splice(0).join(' | '));
  }
}
