// The GPU's own errors; each is a MusiqError, so a CLI prints it as one line.
import { MusiqError } from '../common/errors.ts';

/** A GPU validation/out-of-memory/internal error, attributed to the kernel that caused it. */
export class GpuError extends MusiqError {
  override name = 'GpuError';
  constructor(readonly kernel: string, readonly detail: string) {
    super(`GPU error in kernel "${kernel}": ${detail.split('\n').filter(Boolean).slice(0, 4).join(' | ')}`);
  }
}

export class NoAdapterError extends MusiqError {
  override name = 'NoAdapterError';
}

/** The GPU device is gone (driver reset, GPU process crash, `device.destroy()`): nothing on it can run again. */
export class DeviceLostError extends MusiqError {
  override name = 'DeviceLostError';
}

/** A caller-owned runtime whose device is gone cannot be revived by the scorer that borrowed it. */
export function lostRuntime(why: string): DeviceLostError {
  return new DeviceLostError(`musiq: the runtime passed as createScorer({ runtime }) lost its GPU device (${why}); create a new Runtime and a new scorer`);
}
