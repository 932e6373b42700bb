// Adapter limits are errors that name the limit and the value, never a GPU validation error or a
// wrong score: a device with WebGPU's default limits (what a strict browser gives) still scores,
// because the stem runs in chunks that fit, and a tensor too big to bind is refused up front.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeRuntime, createScorer, MusiqError } from '../src/index.node.ts';
import { checkFits } from '../src/runtime/pool.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const expected = JSON.parse(readFileSync(fixtures + 'expected/tiny_koniq_s0.json', 'utf8')) as { results: { image: string; score: number }[] };

test('checkFits names the limit and its value', () => {
  const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 256 * 2 ** 20 };
  checkFits(100 * 2 ** 20, 100 * 2 ** 20, limits);
  assert.throws(() => checkFits(200 * 2 ** 20, 200 * 2 ** 20, limits), (e: Error) => e instanceof MusiqError && /maxStorageBufferBindingSize of 134217728 bytes \(128 MiB\)/.test(e.message));
  assert.throws(() => checkFits(300 * 2 ** 20, 300 * 2 ** 20, { ...limits, maxStorageBufferBindingSize: 2 ** 31 }), /maxBufferSize of 268435456 bytes/);
});

test('default limits: a fixture scores as expected, and an oversized tensor is a one-line MusiqError', async () => {
  const rt = await createNodeRuntime({ defaultLimits: true });
  try {
    assert.is(rt.limits.maxStorageBufferBindingSize, 128 * 2 ** 20, 'the default WebGPU limit');
    const scorer = await createScorer({ engine: 'gpu', checkpoint: fixtures + 'checkpoints/tiny_koniq_s0.npz', runtime: rt });
    const e = expected.results.find((r) => r.image.endsWith('checker_1024x768.png'))!;
    const { score } = await scorer.score(readFileSync(fixtures + 'images/checker_1024x768.png'), 'checker');
    // The fixture tolerance (see test/cli.test.ts): independent float32 implementation.
    assert.ok(Math.abs(score - e.score) <= 5e-5, `${score} vs ${e.score}`);
    scorer.dispose();
    try {
      rt.empty([40 * 2 ** 20]); // 160 MiB of f32
      assert.unreachable('expected a MusiqError');
    } catch (err) {
      assert.instance(err, MusiqError);
      assert.match((err as Error).message, /^musiq: a 160\.0 MiB tensor exceeds this adapter's maxStorageBufferBindingSize of 134217728 bytes/);
    }
    await rt.sync(); // and nothing reached the GPU to fail there
  } finally {
    rt.destroy();
  }
});

test.run();
