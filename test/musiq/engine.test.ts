// The scorer's engines: 'cpu' (WebAssembly, model.wasm.ts) and 'gpu' (WGSL) score alike through the
// public API; 'auto' picks the CPU on SwiftShader and on CPU adapters without subgroups only; a bad
// choice is a clear error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gpu } from '../gpu.ts';
import { createScorer } from '../../src/index.node.ts';
import { chooseEngine } from '../../src/musiq/scorer.ts';
import { MusiqError } from '../../src/common/errors.ts';
import { writeSyntheticCheckpoint } from '../../tools/write-checkpoint.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const image = (name: string) => new Uint8Array(readFileSync(`${fixtures}images/${name}`));

// Both are f32 against the same model; each is within 2e-5 of the float64 reference
// (model.test.ts, model.wasm.test.ts), so they are within 4e-5 of each other.
const TOL = 4e-5;

function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what} length`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= TOL * Math.max(1, Math.abs(b[i])))) assert.unreachable(`${what}[${i}]: cpu ${a[i]} vs gpu ${b[i]}`);
  }
}

test('engine "cpu" scores like engine "gpu" (scores, embedding, AVA distribution, attention map)', async () => {
  const runtime = await gpu();
  for (const name of ['tiny_koniq_s0', 'tiny_ava_s0']) {
    const checkpoint = new Uint8Array(readFileSync(`${fixtures}checkpoints/${name}.npz`));
    const progress: number[] = [];
    const cpu = await createScorer({ checkpoint, runtime, engine: 'cpu', onProgress: (p) => progress.push(p.done / p.total) });
    const gpuScorer = await createScorer({ checkpoint, runtime, engine: 'gpu' });
    assert.is(cpu.engine, 'cpu');
    assert.is(gpuScorer.engine, 'gpu');
    assert.is(progress.at(-1), 1, 'load progress reaches the end');
    assert.equal(cpu.precision, { file: 'f32', gpu: 'f32' });
    for (const file of ['round_448x321.png', 'tiny_31x47.png', 'small_64x64.png']) {
      const a = await cpu.score(image(file), file, { attention: true });
      const b = await gpuScorer.score(image(file), file, { attention: true });
      near([a.score], [b.score], `${name} ${file} score`);
      near(a.embedding, b.embedding, `${name} ${file} embedding`);
      near(a.attention!.values, b.attention!.values, `${name} ${file} attention`);
      assert.equal([a.attention!.gridH, a.attention!.gridW, a.tokens, a.width, a.height], [b.attention!.gridH, b.attention!.gridW, b.tokens, b.width, b.height]);
      if (b.distribution) near(a.distribution!, b.distribution, `${name} ${file} distribution`);
      for (const k of ['decode', 'preprocess', 'stem', 'encoder', 'total'] as const) assert.ok(a.timings[k] >= 0, k);
    }
    // A 1×1 image: the resized scales give 49 + 144 patches, the native one 1.
    const dot = { width: 1, height: 1, data: new Uint8Array([200, 30, 90]) };
    const [da, db] = [await cpu.score(dot), await gpuScorer.score(dot)];
    assert.is(da.tokens, 49 + 144 + 1);
    near([da.score], [db.score], `${name} 1×1 score`);
    try {
      await cpu.score(new Uint8Array([1, 2, 3]), 'junk.bin');
      assert.unreachable('junk decoded');
    } catch (e) {
      assert.ok(e instanceof MusiqError && e.message.includes('junk.bin'), String(e));
    }
    cpu.dispose();
    gpuScorer.dispose();
    try {
      await cpu.score(image('tiny_31x47.png'));
      assert.unreachable('scored after dispose');
    } catch (e) {
      assert.match((e as Error).message, /after dispose/);
    }
  }
});

test('engine "cpu" scores like engine "gpu" with a full-size checkpoint (over 100 MiB of packed weights, the memory grown many times)', async () => {
  const checkpoint = writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 1 });
  const runtime = await gpu();
  const scores = [];
  for (const engine of ['cpu', 'gpu'] as const) {
    const scorer = await createScorer({ checkpoint, runtime, engine });
    scores.push((await scorer.score(image('grad_512x384.png'))).score);
    scorer.dispose();
  }
  near([scores[0]], [scores[1]], 'full-size score');
});

test('engine "cpu": the imagenet head gives its top 5 and a NaN score, as on the GPU', async () => {
  const checkpoint = writeSyntheticCheckpoint({ config: 'tiny', numClasses: 1000, seed: 3 });
  const runtime = await gpu();
  const cpu = await createScorer({ checkpoint, runtime, engine: 'cpu' });
  const gpuScorer = await createScorer({ checkpoint, runtime, engine: 'gpu' });
  const a = await cpu.score(image('small_64x64.png'));
  const b = await gpuScorer.score(image('small_64x64.png'));
  cpu.dispose();
  gpuScorer.dispose();
  assert.ok(Number.isNaN(a.score));
  assert.equal(a.top5!.map((t) => t.index), b.top5!.map((t) => t.index));
  near(a.logits, b.logits, 'imagenet logits');
});

test('engine "auto": the CPU on SwiftShader and on CPU adapters without subgroups; a bad engine name is a MusiqError', async () => {
  const runtime = await gpu();
  const fake = (architecture: string, isFallback: boolean, subgroups = true) =>
    ({ adapter: { ...runtime.adapter, architecture, isFallback }, features: new Set(subgroups ? ['subgroups'] : []) }) as unknown as Runtime;
  assert.is(chooseEngine(fake('swiftshader', true)), 'cpu');
  assert.is(chooseEngine(fake('swiftshader', true), 'gpu'), 'gpu');
  assert.is(chooseEngine(fake('software', true)), 'gpu', "Dawn's lavapipe");
  assert.is(chooseEngine(fake('software', true), 'cpu'), 'cpu');
  assert.is(chooseEngine(fake('', true, false)), 'cpu', "Deno's wgpu on lavapipe");
  assert.is(chooseEngine(fake('ampere', false)), 'gpu');
  assert.is(chooseEngine(fake('ampere', false, false)), 'gpu', 'a GPU without subgroups');
  const checkpoint = new Uint8Array(readFileSync(`${fixtures}checkpoints/tiny_koniq_s0.npz`));
  const auto = await createScorer({ checkpoint, runtime });
  assert.is(auto.engine, chooseEngine(runtime));
  auto.dispose();
  try {
    await createScorer({ checkpoint, runtime, engine: 'wasm' as 'cpu' });
    assert.unreachable('engine "wasm" accepted');
  } catch (e) {
    assert.ok(e instanceof MusiqError && /engine must be "auto", "gpu" or "cpu"/.test(e.message), String(e));
  }
});

test.run();
