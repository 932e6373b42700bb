// Errors a user can act on. `MusiqError` messages are one line, fit for a CLI.
export class MusiqError extends Error {
  override name = 'MusiqError';
}

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
