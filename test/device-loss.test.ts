// A lost GPU device (test: device.destroy() under the scorer, as a driver reset or a browser
// reclaiming the GPU would do it): pending and later score() calls reject promptly with a
// DeviceLostError that says so, reload() brings the scorer back with the same scores, and a
// scorer on a caller's runtime says the caller must make a new one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime, createScorer, DeviceLostError } from '../src/index.node.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CKPT = fixtures + 'checkpoints/tiny_koniq_s0.npz';
const image = readFileSync(fixtures + 'images/grad_512x384.png');
// Far above the ~1 s measured on lavapipe; a hang would hit it instead of the test runner's limit.
const PROMPT_MS = 20_000;

async function rejection(p: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const t0 = performance.now();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${PROMPT_MS} ms`)), PROMPT_MS).unref());
  try {
    await Promise.race([p, timeout]);
  } catch (error) {
    return { error: error as Error, ms: performance.now() - t0 };
  }
  throw new Error('expected a rejection');
}

test('pending and later score() reject with DeviceLostError; reload() restores the same score', async () => {
  const scorer = await createScorer({ engine: 'gpu', checkpoint: CKPT });
  try {
    const before = (await scorer.score(image, 'grad')).score;
    const pending = scorer.score(image, 'grad');
    scorer.runtime.device.destroy();
    const p = await rejection(pending);
    assert.instance(p.error, DeviceLostError, p.error.message);
    assert.match(p.error.message, /GPU device was lost \(destroyed/);
    console.log(`\n  pending score rejected ${p.ms.toFixed(0)} ms after the loss`);
    const later = await rejection(scorer.score(image, 'grad'));
    assert.instance(later.error, DeviceLostError);
    assert.match(later.error.message, 'reload()');

    const t0 = performance.now();
    await scorer.reload();
    const after = (await scorer.score(image, 'grad')).score;
    console.log(`  reload() and the next score took ${(performance.now() - t0).toFixed(0)} ms`);
    // A new device runs the same kernels (same tuned choice from the same cache): the same bits.
    assert.is(after, before);
    assert.is(scorer.runtime.lost, undefined);
  } finally {
    scorer.dispose();
  }
});

test('createScorer works again after a loss; a caller-owned lost runtime cannot be reloaded', async () => {
  const rt = await createNodeRuntime();
  const scorer = await createScorer({ engine: 'gpu', checkpoint: CKPT, runtime: rt });
  rt.device.destroy();
  const lost = await rejection(scorer.score(image, 'grad'));
  assert.instance(lost.error, DeviceLostError);
  const reload = await rejection(scorer.reload());
  assert.instance(reload.error, DeviceLostError);
  assert.match(reload.error.message, 'create a new Runtime');
  scorer.dispose();
  const fresh = await createScorer({ engine: 'gpu', checkpoint: CKPT });
  assert.ok(Number.isFinite((await fresh.score(image, 'grad')).score));
  fresh.dispose();
});

test.run();
