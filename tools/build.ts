// `npm run build` (also run by `prepare` and `prepack`): writes dist/, what the npm package ships.
//   dist/node/      ESM for Node: the library entry (index.js) and the `musiq` bin (cli.js), with shared chunks
//   dist/browser/   ESM for browsers and bundlers (index.js); shaders inlined, no `node:` import possible
//   dist/deno/      ESM for Deno (export condition `deno`): its own navigator.gpu, files by Deno's API
//   dist/kernels/   the WGSL files Node reads at run time (src/kernels/**/*.wgsl, copied as they are)
//   dist/assets/    data files the CLI reads at run time (assets/, copied as they are)
//   dist/types/     .d.ts for both entries
//   dist/demo.js    the demo page's self-contained bundle (`npm run demo`); not shipped
//   dist/bench.js   /bench.html's bundle: `musiq bench` in the browser; not shipped
// Dependencies stay imports (`packages: 'external'`), so a consumer's bundler or Node resolves
// fflate and webgpu once, from the consumer's own node_modules.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const kernelDir = join(root, 'src', 'kernels');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, ext);
    return name.endsWith(ext) ? [path] : [];
  });
}

/** The browser has no file system: `musiq:kernels` becomes a map of every src/kernels/**.wgsl text. */
export const kernelsPlugin: Plugin = {
  name: 'musiq-kernels',
  setup(b) {
    b.onResolve({ filter: /^musiq:kernels$/ }, () => ({ path: 'kernels', namespace: 'musiq' }));
    b.onLoad({ filter: /.*/, namespace: 'musiq' }, () => {
      const files = filesUnder(kernelDir, '.wgsl');
      const map = Object.fromEntries(files.map((f) => [relative(kernelDir, f).replace(/\\/g, '/').replace(/\.wgsl$/, ''), readFileSync(f, 'utf8')]));
      return { contents: `export default ${JSON.stringify(map)};`, loader: 'js', watchFiles: files };
    });
  },
};

const common: BuildOptions = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning' };

/** The demo and bench pages' bundles, dependencies included (each page loads its own with a plain <script>). */
export async function buildDemo(): Promise<void> {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  await build({
    ...common,
    entryPoints: { demo: join(root, 'web/demo.ts'), bench: join(root, 'web/bench.ts') },
    outdir: dist,
    platform: 'browser',
    plugins: [kernelsPlugin],
    define: { MUSIQ_VERSION: JSON.stringify(version) },
  });
}

async function buildNode(): Promise<void> {
  // One build with splitting, so the bin and the library share their code as chunks. Paths that
  // code resolves from import.meta.url (`../kernels/`, `../assets/`) hold because every file lands
  // one level below dist/, as the sources lie one level below src/ or the repository.
  await build({
    ...common,
    entryPoints: { index: join(root, 'src/index.node.ts'), cli: join(root, 'tools/cli.ts') },
    outdir: join(dist, 'node'),
    platform: 'node',
    packages: 'external',
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });
}

/** The browser and Deno entries: navigator.gpu, shaders inlined, never a `node:` import or the Dawn addon. */
async function buildWebGpuEntry(entry: string, out: string): Promise<void> {
  // The runtime dependencies by name, not `packages: 'external'`, which would also let a `node:`
  // import through: on platform 'browser' that stays a build error.
  const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  await build({
    ...common,
    entryPoints: { index: join(root, entry) },
    outdir: join(dist, out),
    platform: 'browser',
    external: Object.keys(dependencies),
    plugins: [kernelsPlugin],
  });
}

/**
 * Declarations from tsc. The sources import `./x.ts` (run directly by tsx); a consumer's tsc
 * resolves `./x.js` to `./x.d.ts`, so the specifiers are rewritten in the emitted files.
 */
function buildTypes(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const file of filesUnder(join(dist, 'types'), '.d.ts')) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g, '$1$2$3.js$2');
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

export async function buildAll(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  await Promise.all([buildNode(), buildWebGpuEntry('src/index.browser.ts', 'browser'), buildWebGpuEntry('src/index.deno.ts', 'deno'), buildDemo()]);
  for (const wgsl of filesUnder(kernelDir, '.wgsl')) cpSync(wgsl, join(dist, 'kernels', relative(kernelDir, wgsl)));
  if (existsSync(join(root, 'assets'))) cpSync(join(root, 'assets'), join(dist, 'assets'), { recursive: true });
  buildTypes();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  await buildAll();
  console.error(`built dist/ (node, browser, deno, types, kernels, demo) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
