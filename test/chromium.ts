// Headless Chromium for the browser tests: Debian's build (WebGPU on SwiftShader), driven by
// playwright-core. `undefined` when it is not installed, so a test can skip and say why.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/lib/chromium/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian package "chromium"; .ci/run installs it)`;

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // No background networking: this machine's network is closed, and Chromium would retry forever.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}
