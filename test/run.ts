// Runs every test/**/*.test.ts file through uvu in one process, so the GPU device
// is created once and shared (device creation on lavapipe costs ~0.5 s).
// Usage: node --import tsx test/run.ts [substring-filter]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'artifacts' ? [] : walk(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = walk(root).filter((f) => relative(root, f).includes(filter));
if (files.length === 0) {
  console.error(`no test files match "${filter}"`);
  process.exit(1);
}
// uvu's `test.run()` in each file queues its suite; uvu runs the queue after the last import.
(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;
const uvu = await import('uvu');
for (const [i, file] of files.entries()) {
  (globalThis as { UVU_INDEX?: number }).UVU_INDEX = i;
  (globalThis as { UVU_QUEUE?: unknown[][] }).UVU_QUEUE?.push([relative(root, file)]);
  await import(pathToFileURL(file).href);
}
const { exec } = uvu as unknown as { exec: (bail?: boolean) => Promise<void> };
// uvu prints its totals but does not return them; keep a copy of its output to print the
// plain closing line CI reads ("N passed, N failed").
const write = process.stdout.write.bind(process.stdout);
let out = '';
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  out += String(chunk);
  return write(chunk, ...rest);
}) as typeof process.stdout.write;
await exec(false);
process.stdout.write = write;
const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const uvuPassed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const uvuSkipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
// A case that called skip() returned normally, so uvu counted it as passed: it is a skip.
const { skips } = await import('./skip.ts');
const reasons = new Map<string, number>();
for (const s of skips) reasons.set(`${s.need}: ${s.reason}`, (reasons.get(`${s.need}: ${s.reason}`) ?? 0) + 1);
for (const [reason, n] of reasons) console.log(`skipped ${n}× (${reason})`);
console.log(`${uvuPassed - skips.length} passed, ${total - uvuPassed - uvuSkipped} failed, ${uvuSkipped + skips.length} skipped`);
const { closeGpu } = await import('./gpu.ts');
await closeGpu();
