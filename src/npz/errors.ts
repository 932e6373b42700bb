// A broken, truncated or foreign .npz/.npy: one line that names the file and what is wrong with it.
import { MusiqError } from '../common/errors.ts';

export class NpzError extends MusiqError {
  override name = 'NpzError';
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** A member name fit for a one-line message: quoted, control characters escaped, long names cut. */
export function quote(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}
