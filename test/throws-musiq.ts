// The assertion every bad-input test makes: the call throws a MusiqError whose one-line message
// matches `pattern` (one line, because the CLI prints it as the whole error).
import * as assert from 'uvu/assert';
import { MusiqError } from '../src/common/errors.ts';

export function throwsMusiq(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, MusiqError);
    assert.match((e as Error).message, pattern);
    assert.not.match((e as Error).message, /\n/);
    return;
  }
  assert.unreachable(`expected a MusiqError matching ${pattern}`);
}
