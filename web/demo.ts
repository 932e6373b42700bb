// The browser demo: load a checkpoint (cached in Cache Storage), score dropped images, draw
// where the CLS token looks. `?checkpoint=<url>&image=<url>[&engine=gpu|cpu]` drives it from tests.
import { createScorer, createBrowserRuntime, type Scorer, type ScoreResult, type Runtime } from '../src/index.browser.ts';
import { axpby } from '../src/kernels/elementwise.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const CACHE = 'musiq-checkpoints-v1';
const LAST = 'musiq:last-checkpoint';

let runtime: Runtime | undefined;
let scorer: Scorer | undefined;
let scorerName = '';

async function getRuntime(): Promise<Runtime> {
  if (!runtime) {
    runtime = await createBrowserRuntime();
    // Browsers take the GPU away (driver reset, GPU process crash, a long-hidden tab): say so and
    // offer a fresh start. The checkpoint comes back from Cache Storage, not the network.
    void runtime.device.lost.then((info) => {
      $('lostText').textContent = `The GPU device was lost (${info.reason || 'unknown'}: ${info.message}). Scores need a new device.`;
      $('lost').hidden = false;
    });
    const a = runtime.adapter;
    $('adapter').textContent = `WebGPU adapter: ${runtime.adapterName}${a.isFallback ? ' — a software adapter: expect seconds per image, not milliseconds' : ''}`;
  }
  return runtime;
}

function status(text: string, progress?: number): void {
  $('ckptStatus').textContent = text;
  const bar = $<HTMLProgressElement>('ckptProgress');
  bar.hidden = progress === undefined;
  if (progress !== undefined) bar.value = progress;
}

/** Bytes of a URL, read once from the network and then from Cache Storage, with download progress. */
async function cachedFetch(url: string): Promise<ArrayBuffer> {
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE) : undefined;
  const hit = await cache?.match(url);
  if (hit) {
    status(`reading ${url} from the browser cache…`);
    return hit.arrayBuffer();
  }
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || 0;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    status(`downloading ${(received / 2 ** 20).toFixed(1)}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MiB`, total ? received / total : undefined);
  }
  const bytes = new Uint8Array(received);
  let o = 0;
  for (const c of chunks) bytes.set(c, (o += c.length) - c.length);
  await cache?.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } })).catch(() => undefined);
  return bytes.buffer;
}

async function loadCheckpoint(name: string, bytes: ArrayBuffer): Promise<void> {
  scorer?.dispose();
  scorer = undefined;
  const rt = await getRuntime();
  status(`loading ${name}…`, 0);
  const engine = (new URLSearchParams(location.search).get('engine') ?? 'auto') as 'auto' | 'gpu' | 'cpu';
  scorer = await createScorer({ checkpoint: bytes, runtime: rt, engine, onProgress: ({ done, total }) => status(`loading ${name}: ${done}/${total} tensors`, done / total) });
  scorerName = name;
  const d = scorer.dims;
  const { file, gpu } = scorer.precision;
  $('precision').textContent = file;
  $('engine').textContent = scorer.engine;
  const where = scorer.engine === 'cpu' ? 'on the CPU (WebAssembly: faster than this software adapter)' : 'on the GPU';
  status(`${name}: ${scorer.variant} head, ${d.layers} layers × ${d.hidden} hidden, ${file} weights${scorer.engine === 'gpu' && gpu !== file ? ` (${gpu} on the GPU)` : ''}, ${where}`);
}

async function loadFromUrl(url: string): Promise<void> {
  await loadCheckpoint(url.split('/').pop() || url, await cachedFetch(url));
  localStorage.setItem(LAST, url);
}

async function loadFromFile(file: File): Promise<void> {
  // A picked file is stored under a synthetic URL so a reload finds it without picking again.
  const key = new URL(`/musiq-local/${encodeURIComponent(file.name)}?size=${file.size}&t=${file.lastModified}`, location.href).href;
  const bytes = await file.arrayBuffer();
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE) : undefined;
  await cache?.put(key, new Response(bytes)).catch(() => undefined);
  await loadCheckpoint(file.name, bytes);
  localStorage.setItem(LAST, key);
}

function range(r: ScoreResult): string {
  return r.variant === 'ava' ? 'mean rating, 1–10' : r.variant === 'imagenet' ? 'ImageNet classes' : 'MOS scale, ≈0–100';
}

/** Multiplies a white→red map of the CLS attention over the native-scale patch grid onto the image. */
function drawHeatmap(canvas: HTMLCanvasElement, r: ScoreResult): void {
  const map = r.attention;
  if (!map) return;
  canvas.width = map.gridW;
  canvas.height = map.gridH;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(map.gridW, map.gridH);
  let max = 0;
  for (const v of map.values) max = Math.max(max, v);
  map.values.forEach((v, i) => {
    const t = max > 0 ? v / max : 0;
    img.data.set([255, Math.round(255 * (1 - 0.8 * t)), Math.round(255 * (1 - t)), 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  canvas.style.imageRendering = 'pixelated';
}

async function scoreOne(name: string, bytes: ArrayBuffer): Promise<ScoreResult> {
  if (!scorer) throw new Error('load a checkpoint first');
  const card = document.createElement('div');
  card.className = 'card';
  const url = URL.createObjectURL(new Blob([bytes]));
  card.innerHTML = `<div class="frame"><img alt=""><canvas></canvas></div><div class="score">…</div><div class="muted"></div>`;
  card.querySelector('img')!.src = url;
  $('results').prepend(card);
  try {
    const r = await scorer.score(new Uint8Array(bytes), name, { attention: true });
    card.querySelector('.score')!.textContent = r.score.toFixed(3);
    card.querySelector('.muted')!.textContent = `${name} · ${scorerName} (${range(r)}) · ${r.width}×${r.height}, ${r.tokens} tokens · ${r.timings.total.toFixed(0)} ms`;
    drawHeatmap(card.querySelector('canvas')!, r);
    return r;
  } catch (e) {
    card.querySelector('.score')!.innerHTML = `<span class="error">${(e as Error).message}</span>`;
    throw e;
  }
}

async function scoreFiles(files: Iterable<File>): Promise<void> {
  for (const f of files) await scoreOne(f.name, await f.arrayBuffer()).catch(() => undefined);
}

/** Runs one kernel in this page and reads it back: proof the WGSL executes here, for tests. */
async function selfTest(): Promise<number[]> {
  const rt = await getRuntime();
  const a = rt.upload(new Float32Array([1, 2, 3, 4])), b = rt.upload(new Float32Array([10, 20, 30, 40]));
  const y = axpby(rt, a, b, 2, 0.5);
  const out = [...(await rt.read(y))];
  [a, b, y].forEach((t) => t.dispose());
  return out;
}
(globalThis as unknown as { musiqSelfTest: typeof selfTest }).musiqSelfTest = selfTest;

function wire(): void {
  $('lostReload').addEventListener('click', () => location.reload());
  $('ckptFile').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) loadFromFile(f).catch((err: Error) => status(`error: ${err.message}`));
  });
  $('ckptLoad').addEventListener('click', () => {
    const url = $<HTMLInputElement>('ckptUrl').value.trim();
    if (url) loadFromUrl(url).catch((err: Error) => status(`error: ${err.message}`));
  });
  $('images').addEventListener('change', (e) => void scoreFiles((e.target as HTMLInputElement).files ?? []));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void scoreFiles(e.dataTransfer?.files ?? []);
  });
}

async function main(): Promise<void> {
  wire();
  const params = new URLSearchParams(location.search);
  const ckpt = params.get('checkpoint');
  const image = params.get('image');
  try {
    await getRuntime();
    if (ckpt) await loadFromUrl(new URL(ckpt, location.href).href);
    else {
      const last = localStorage.getItem(LAST);
      if (last) await loadFromUrl(last).catch(() => status('pick a checkpoint'));
    }
    if (image) {
      const res = await fetch(new URL(image, location.href));
      if (!res.ok) throw new Error(`${image}: HTTP ${res.status}`);
      const r = await scoreOne(image.split('/').pop() || image, await res.arrayBuffer());
      $('score').textContent = String(r.score);
    }
  } catch (e) {
    $('error').textContent = (e as Error).message;
    status(`error: ${(e as Error).message}`);
  }
}

void main();
