// The same engine in headless Chromium (SwiftShader WebGPU): the demo page scores a fixture with
// a tiny checkpoint, on the CPU engine its default picks there and on the GPU engine, and the score
// must equal the Node result for the same bytes; then the same
// with the checkpoint converted to f16 (`musiq convert`), which SwiftShader, lacking shader-f16,
// widens to f32 at upload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { gpu } from './gpu.ts';
import { buildDemo } from '../tools/build.ts';
import { serve } from '../tools/serve.ts';
import { createScorer } from '../src/index.node.ts';
import { convertCheckpoint } from '../tools/convert.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
const CKPT = 'checkpoints/tiny_koniq_s0.npz';
const IMAGE = 'images/grad_512x384.png';

// SwiftShader and Dawn/lavapipe both compute in f32 with the same kernels; what differs is
// transcendental precision (exp, tanh) and fma contraction: ~1e-6 relative on the logits,
// so 1e-5 absolute on a score of magnitude ~10 leaves a clear margin.
const TOL = 1e-5;
// test/musiq/convert-score.test.ts: an f16 file scores within 1e-3 · max(1, |score|) of the original.
const F16_TOL = 1e-3;
const converted = mkdtempSync(join(tmpdir(), 'musiq-browser-f16-'));

if (chromiumMissing) {
  console.log(`\n  SKIPPED browser tests: ${chromiumMissing}`);
} else {
  let server: Server;
  let base = '';

  test.before(async () => {
    await buildDemo();
    await convertCheckpoint(fixtures + CKPT, join(converted, 'tiny_koniq_f16.npz'), 'f16');
    server = await serve(0, { '/fixtures/': fixtures, '/converted/': converted });
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  test.after(async () => {
    rmSync(converted, { recursive: true, force: true });
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** The demo's score, precision and adapter for a checkpoint URL and the test image. */
  async function runPage(page: import('playwright-core').Page, checkpoint: string, logs: string[], engine?: string): Promise<{ score: number; precision: string; adapter: string; engine: string }> {
    await page.goto(`${base}/?checkpoint=${checkpoint}&image=/fixtures/${IMAGE}${engine ? `&engine=${engine}` : ''}`);
    await page.waitForFunction(
      () => (document.querySelector('[data-testid=score]')?.textContent || document.querySelector('[data-testid=error]')?.textContent || '') !== '',
      undefined,
      { timeout: 180_000 },
    );
    const error = await page.textContent('[data-testid=error]');
    assert.is(error, '', `page error: ${error}\n${logs.join('\n')}`);
    return {
      score: Number(await page.textContent('[data-testid=score]')),
      precision: (await page.textContent('[data-testid=precision]')) ?? '',
      adapter: (await page.textContent('[data-testid=adapter]')) ?? '',
      engine: (await page.textContent('[data-testid=engine]')) ?? '',
    };
  }

  test('demo page scores a fixture like Node does on both engines, and runs a kernel in the page', async () => {
    const rt = await gpu();
    const scorer = await createScorer({ checkpoint: fixtures + CKPT, runtime: rt });
    const nodeScore = (await scorer.score(readFileSync(fixtures + IMAGE), IMAGE)).score;
    scorer.dispose();

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      page.on('pageerror', (e) => logs.push(e.message));
      for (const asked of ['gpu', 'cpu', undefined]) {
        const { score: pageScore, precision, adapter, engine } = await runPage(page, `/fixtures/${CKPT}`, logs, asked);
        console.log(`\n  browser adapter: ${adapter}; engine ${engine}${asked ? '' : ' (its default)'}: score page ${pageScore} vs node ${nodeScore}`);
        assert.is(engine, asked ?? (/swiftshader/i.test(adapter) ? 'cpu' : 'gpu'));
        assert.is(precision, 'f32');
        assert.ok(Math.abs(pageScore - nodeScore) <= TOL, `page ${engine} ${pageScore} vs node ${nodeScore}`);
      }

      const kernelOut = await page.evaluate(() => (globalThis as unknown as { musiqSelfTest: () => Promise<number[]> }).musiqSelfTest());
      assert.equal(kernelOut, [1 * 2 + 10 * 0.5, 2 * 2 + 20 * 0.5, 3 * 2 + 30 * 0.5, 4 * 2 + 40 * 0.5]);

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: artifacts + 'demo.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });

  test('an f16 checkpoint from musiq convert scores in the page within the f16 tolerance of Node', async () => {
    const rt = await gpu();
    const image = readFileSync(fixtures + IMAGE);
    const original = await createScorer({ checkpoint: fixtures + CKPT, runtime: rt });
    const nodeScore = (await original.score(image, IMAGE)).score;
    original.dispose();
    const half = await createScorer({ checkpoint: join(converted, 'tiny_koniq_f16.npz'), runtime: rt });
    const nodeF16Score = (await half.score(image, IMAGE)).score;
    half.dispose();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      page.on('pageerror', (e) => logs.push(e.message));
      const { score, precision } = await runPage(page, '/converted/tiny_koniq_f16.npz', logs);
      console.log(`\n  f16 file: page ${score}, node ${nodeF16Score} (same file), node ${nodeScore} (f32 original); page says: ${await page.textContent('#ckptStatus')}`);
      assert.is(precision, 'f16');
      assert.ok(Math.abs(score - nodeScore) <= F16_TOL * Math.max(1, Math.abs(nodeScore)), `page ${score} vs node f32 ${nodeScore}`);
      // The very same f16 values in f32 math on both sides (f16 or f32 storage does not change a value).
      assert.ok(Math.abs(score - nodeF16Score) <= TOL, `page ${score} vs node f16 file ${nodeF16Score}`);
    } finally {
      await browser.close();
    }
  });
}

test.run();
