// Helpers shared by the npz tests (uvu 0.5 has no assert.rejects).
import * as assert from 'uvu/assert';
import { NpzError } from '../../src/npz/errors.ts';

/** Awaits `fn`, which must throw an NpzError (or `type`) whose message matches `pattern`. */
export async function rejects(fn: () => Promise<unknown>, pattern: RegExp, type: Function = NpzError): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, type, `expected ${type.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, pattern);
    return e as Error;
  }
  throw new Error(`expected a ${type.name} matching ${pattern}, but nothing was thrown`);
}
