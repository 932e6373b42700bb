// /bench.html: `musiq bench` in the browser, the same code (src/bench/) on navigator.gpu. With
// ?quick it starts by itself and, when done, puts the JSON report into [data-testid=bench-json]
// (headless runs read it there); the table and a download link are for people.
import { createBrowserRuntime } from '../src/index.browser.ts';
import { runBench, type BenchOptions } from '../src/bench/run.ts';
import { GROUPS } from '../src/bench/cases.ts';
import { checkReport, formatReport } from '../src/bench/report.ts';
import type { BenchRuntimeInfo } from '../src/bench/schema.ts';

declare const MUSIQ_VERSION: string; // tools/build.ts defines it from package.json

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const q = new URLSearchParams(location.search);

/** The browser and its version from the user agent (Chrome/131.0…, Firefox/133.0, Version/18.1 Safari). */
function runtimeInfo(): BenchRuntimeInfo {
  const ua = navigator.userAgent;
  const m = /(Edg|Chrome|Firefox)\/([\d.]+)/.exec(ua) ?? /Version\/([\d.]+).*(Safari)/.exec(ua);
  const version = m ? (m[1] === 'Edg' || m[1] === 'Chrome' || m[1] === 'Firefox' ? `${m[1]}/${m[2]}` : `Safari/${m[1]}`) : 'unknown';
  return { name: 'browser', version, webgpu: ua };
}

function log(line: string): void {
  const el = $('log');
  el.textContent += line + '\n';
  el.scrollTop = el.scrollHeight;
}

async function run(quick: boolean): Promise<void> {
  for (const id of ['runQuick', 'runFull']) $<HTMLButtonElement>(id).disabled = true;
  $('error').textContent = '';
  $('table').textContent = '';
  const sizeText = $<HTMLInputElement>('size').value.trim();
  const m = /^(\d+)x(\d+)$/.exec(sizeText);
  try {
    if (!m || +m[1] < 32 || +m[2] < 32) throw new Error(`size must be WxH (at least 32×32), got "${sizeText}"`);
    const size: [number, number] = [+m[1], +m[2]];
    const groups = q.get('groups')?.split(',').filter((g) => g && g !== 'none');
    const bad = groups?.filter((g) => !(GROUPS as readonly string[]).includes(g)) ?? [];
    if (bad.length) throw new Error(`unknown group ${bad.join(', ')} (one of ${GROUPS.join(', ')})`);
    const options: BenchOptions = {
      width: size[0],
      height: size[1],
      quick,
      groups,
      modelSizes: q.has('nomodel') ? [] : quick ? [size] : [[512, 384], [1024, 768]],
    };
    const t0 = performance.now();
    const report = await runBench(
      { open: (profile) => createBrowserRuntime({ profile }), runtime: runtimeInfo(), packageVersion: MUSIQ_VERSION, driverCache: () => "unknown (the browser's GPU process keeps its own)", log },
      options,
    );
    const problems = checkReport(report);
    for (const p of problems) log(`check failed: ${p}`);
    log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    $('table').textContent = formatReport(report);
    const json = JSON.stringify(report);
    const link = $<HTMLAnchorElement>('download');
    link.href = URL.createObjectURL(new Blob([json + '\n'], { type: 'application/json' }));
    link.hidden = false;
    $('json').textContent = json;
  } catch (e) {
    $('error').textContent = `bench failed: ${(e as Error).message}`;
  } finally {
    for (const id of ['runQuick', 'runFull']) $<HTMLButtonElement>(id).disabled = false;
  }
}

$('runQuick').addEventListener('click', () => void run(true));
$('runFull').addEventListener('click', () => void run(false));
if (q.get('size')) $<HTMLInputElement>('size').value = q.get('size')!;
if (q.has('quick')) void run(true);
