// Errors a user can act on. `MusiqError` messages are one line, fit for a CLI. Every layer throws
// it, so it lives at the bottom, below the GPU runtime (whose own errors extend it).
export class MusiqError extends Error {
  override name = 'MusiqError';
}
