// The same engine in headless Chromium (SwiftShader WebGPU): the demo page scores a fixture with
// a tiny checkpoint, and the score must equal the Node result for the same bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { gpu } from './gpu.ts';
import { buildDemo } from '../tools/build.ts';
import { serve } from '../tools/serve.ts';
import { createScorer } from '../src/index.node.ts';
import { chromiumMissing, launchChromium } from './chromium.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
const CKPT = 'checkpoints/tiny_koniq_s0.npz';
const IMAGE = 'images/grad_512x384.png';

// SwiftShader and Dawn/lavapipe both compute in f32 with the same kernels; what differs is
// transcendental precision (exp, tanh) and fma contraction: ~1e-6 relative on the logits,
// so 1e-5 absolute on a score of magnitude ~10 leaves a clear margin.
const TOL = 1e-5;

if (chromiumMissing) {
  console.log(`\n  SKIPPED browser tests: ${chromiumMissing}`);
} else {
  let server: Server;
  let base = '';

  test.before(async () => {
    await buildDemo();
    server = await serve(0, { '/fixtures/': fixtures });
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  test.after(() => new Promise<void>((r) => server.close(() => r())));

  test('demo page scores a fixture like Node does, and runs a kernel in the page', async () => {
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
      await page.goto(`${base}/?checkpoint=/fixtures/${CKPT}&image=/fixtures/${IMAGE}`);
      await page.waitForFunction(
        () => (document.querySelector('[data-testid=score]')?.textContent || document.querySelector('[data-testid=error]')?.textContent || '') !== '',
        undefined,
        { timeout: 180_000 },
      );
      const error = await page.textContent('[data-testid=error]');
      assert.is(error, '', `page error: ${error}\n${logs.join('\n')}`);
      const pageScore = Number(await page.textContent('[data-testid=score]'));
      const adapter = await page.textContent('[data-testid=adapter]');
      console.log(`\n  browser adapter: ${adapter}; score page ${pageScore} vs node ${nodeScore}`);
      assert.ok(Math.abs(pageScore - nodeScore) <= TOL, `page ${pageScore} vs node ${nodeScore}`);

      const kernelOut = await page.evaluate(() => (globalThis as unknown as { musiqSelfTest: () => Promise<number[]> }).musiqSelfTest());
      assert.equal(kernelOut, [1 * 2 + 10 * 0.5, 2 * 2 + 20 * 0.5, 3 * 2 + 30 * 0.5, 4 * 2 + 40 * 0.5]);

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: artifacts + 'demo.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
}

test.run();
