// A tiny static server for the demo: web/ at /, dist/ at /dist/, and any extra folders mounted
// by the caller (tests mount test/fixtures). Listens on 127.0.0.1 only. Sends CORS headers so a
// page elsewhere may load checkpoints from here. `bytesPerSecond` paces every response, so a
// benchmark can stand a real download in for localhost's instant one.
import { createServer, type Server } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.npz': 'application/octet-stream',
  '.json': 'application/json',
};

/** mounts: URL prefix (e.g. '/fixtures/') → folder. '/' → web/ and '/dist/' → dist/ are always there. */
export function serve(port: number, mounts: Record<string, string> = {}, options: { bytesPerSecond?: number } = {}): Promise<Server> {
  const table = Object.entries({ ...mounts, '/dist/': join(root, 'dist'), '/': join(root, 'web') }).sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = decodeURIComponent(url.pathname);
    if (path === '/') path = '/index.html';
    const mount = table.find(([prefix]) => path.startsWith(prefix));
    const dir = mount?.[1];
    const file = dir && normalize(join(dir, path.slice(mount[0].length)));
    let size = -1;
    try {
      if (file && (file + sep).startsWith(normalize(dir + sep)) && statSync(file).isFile()) size = statSync(file).size;
    } catch {
      /* not found below */
    }
    if (size < 0 || !file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-cache' });
    const body = createReadStream(file);
    (options.bytesPerSecond ? body.pipe(paced(options.bytesPerSecond)) : body).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Passes chunks on no faster than `bytesPerSecond`, counted from the first. */
function paced(bytesPerSecond: number): Transform {
  const start = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      setTimeout(() => done(null, chunk), Math.max(0, start + (sent / bytesPerSecond) * 1000 - Date.now()));
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { buildDemo } = await import('./build.ts');
  await buildDemo();
  const port = Number(process.env.PORT ?? 8080);
  const server = await serve(port, { '/fixtures/': join(root, 'test', 'fixtures') });
  const addr = server.address();
  const at = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
  console.log(`musiq demo: ${at}/  kernel benchmark: ${at}/bench.html  (Ctrl-C to stop)`);
}
