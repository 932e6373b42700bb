// Builds the browser bundles with esbuild: the library (dist/musiq.browser.js) and the demo
// (dist/demo.js). The WGSL files are inlined through the virtual module `musiq:kernels`, so the
// browser runs the very same src/kernels/*.wgsl as Node. Node built-ins cannot sneak in:
// platform 'browser' makes any `node:` import a build error.
import { build, type Plugin } from 'esbuild';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const kernelDir = join(root, 'src', 'kernels');

function wgslFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return wgslFiles(path);
    return name.endsWith('.wgsl') ? [path] : [];
  });
}

const kernelsPlugin: Plugin = {
  name: 'musiq-kernels',
  setup(b) {
    b.onResolve({ filter: /^musiq:kernels$/ }, () => ({ path: 'kernels', namespace: 'musiq' }));
    b.onLoad({ filter: /.*/, namespace: 'musiq' }, () => {
      const files = wgslFiles(kernelDir);
      const map = Object.fromEntries(files.map((f) => [relative(kernelDir, f).replace(/\\/g, '/').replace(/\.wgsl$/, ''), readFileSync(f, 'utf8')]));
      return { contents: `export default ${JSON.stringify(map)};`, loader: 'js', watchFiles: files };
    });
  },
};

export async function buildBrowser(outdir = join(root, 'dist')): Promise<void> {
  await build({
    entryPoints: { 'musiq.browser': join(root, 'src/index.browser.ts'), demo: join(root, 'web/demo.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    plugins: [kernelsPlugin],
    logLevel: 'warning',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildBrowser();
  console.error('built dist/musiq.browser.js and dist/demo.js');
}
