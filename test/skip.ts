// Skipping a test case honestly: skip() records the case, test/run.ts counts it as skipped (not
// passed) in the closing line and lists the reasons. A CI configuration names in
// MUSIQ_TEST_MUST_RUN what its machine has (e.g. "subgroups-8,shader-f16"); a skip for one of
// those is a failure instead, so a kernel that stops running where it should cannot hide.
import { unreachable } from 'uvu/assert';

/** What a skipped case lacked. */
export type Need = 'subgroups-4' | 'subgroups-8' | 'shader-f16' | 'timestamp-query' | 'zlib-crc32' | 'lavapipe' | 'slow';

export const skips: { need: Need; reason: string }[] = [];

/** Marks the running test skipped; the caller returns right after. Throws where `need` must run. */
export function skip(need: Need, reason: string): void {
  const must = (process.env.MUSIQ_TEST_MUST_RUN ?? '').split(',').map((s) => s.trim());
  if (must.includes(need)) {
    unreachable(`would skip (${reason}), but MUSIQ_TEST_MUST_RUN says this machine has ${need}`);
  }
  skips.push({ need, reason });
  console.log(`  (skipped: ${reason})`);
}
