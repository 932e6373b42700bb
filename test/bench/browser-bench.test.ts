// /bench.html?quick in headless Chromium (SwiftShader): the page runs the shipped benchmark with
// the browser build and leaves a report that passes the same checks as the CLI's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Server } from 'node:http';
import { buildDemo } from '../../tools/build.ts';
import { serve } from '../../tools/serve.ts';
import { chromiumMissing, launchChromium } from '../chromium.ts';
import { checkReport } from '../../src/bench/report.ts';
import { parseReport } from '../../src/bench/compare.ts';

if (chromiumMissing) {
  console.log(`\n  SKIPPED browser bench test: ${chromiumMissing}`);
} else {
  let server: Server;
  let base = '';
  test.before(async () => {
    await buildDemo();
    server = await serve(0);
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  test.after(() => new Promise<void>((r) => server.close(() => r())));

  test('/bench.html?quick runs by itself and leaves a musiq-bench/1 report in [data-testid=bench-json]', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const logs: string[] = [];
      page.on('pageerror', (e) => logs.push(e.message));
      // One small size (154 tokens) and three light groups keep it to a CI-sized run on SwiftShader.
      await page.goto(`${base}/bench.html?quick&size=64x48&groups=attention,layernorm,maxpool&nomodel`);
      await page.waitForFunction(
        () => (document.querySelector('[data-testid=bench-json]')?.textContent || document.querySelector('[data-testid=bench-error]')?.textContent || '') !== '',
        undefined,
        { timeout: 300_000 },
      );
      const error = await page.textContent('[data-testid=bench-error]');
      assert.is(error, '', `${error}\n${logs.join('\n')}\n${await page.textContent('[data-testid=bench-log]')}`);
      const report = parseReport('bench.html', (await page.textContent('[data-testid=bench-json]'))!);
      console.log(`\n  bench.html on ${report.adapter.description} (${report.runtime.version}): peak ${report.peak.fmaGflops.toFixed(1)} GFLOP/s, ${report.peak.bandwidthGBps.toFixed(1)} GB/s, ${report.kernels.length} rows`);
      assert.equal(checkReport(report), []);
      assert.is(report.runtime.name, 'browser');
      assert.equal([...new Set(report.kernels.map((k) => k.group))].sort(), ["attention", "layernorm", "maxpool"]);
      assert.ok((await page.textContent('[data-testid=bench-table]'))!.includes('of roofline'), 'the table with its verdicts is shown');
    } finally {
      await browser.close();
    }
  });
}

test.run();
