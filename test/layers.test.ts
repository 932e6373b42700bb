// The architecture, enforced: every import in src/ points to its own layer or a lower one, sibling
// layers (image, npz) do not import each other, and no file reaches itself through its imports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
/** Bottom to top. Layers of equal rank are siblings. `.` is the entry points (src/*.ts). */
const RANK: Record<string, number> = { common: 0, runtime: 1, kernels: 2, image: 3, npz: 3, musiq: 4, bench: 5, '.': 6 };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
}
const layerOf = (file: string) => relative(src, file).split('/').slice(0, -1)[0] ?? '.';
const imports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((m) => resolve(dirname(file), m[1]));

const files = walk(src);
const graph = new Map(files.map((f) => [f, imports(f)]));

test('every src/ directory is a known layer', () => {
  for (const f of files) assert.ok(layerOf(f) in RANK, `${relative(src, f)}: layer "${layerOf(f)}" has no rank in test/layers.test.ts`);
});

test('imports only go down the layers (common → runtime → kernels → image, npz → musiq → bench → entry points)', () => {
  const bad: string[] = [];
  for (const [f, deps] of graph) {
    for (const d of deps) {
      const [from, to] = [layerOf(f), layerOf(d)];
      if (from !== to && RANK[to] >= RANK[from]) bad.push(`${relative(src, f)} → ${relative(src, d)}`);
    }
  }
  assert.equal(bad, []);
});

test('no import cycles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') return void cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(src, p)).join(' → '));
    state.set(f, 'open');
    for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.equal(cycles, []);
});

test.run();
