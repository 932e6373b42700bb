// A broken, truncated or foreign .npz/.npy: one line that names the file and what is wrong with it.
import { MusiqError } from '../runtime/errors.ts';

export class NpzError extends MusiqError {
  override name = 'NpzError';
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}
