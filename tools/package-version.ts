import { readFileSync } from 'node:fs';

/**
 * This package's version, from its package.json: one level up from tools/ (a clone) and two from
 * dist/node/ (the build, where this code lands in a chunk), so the first that names us wins.
 */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'musiq-webgpu' && pkg.version) return pkg.version;
    } catch {
      // try the next
    }
  }
  return 'unknown';
}
