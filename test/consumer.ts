// A consumer's install of the package, as a user gets it: `npm pack`, then `npm install <tarball>
// --omit=dev` into an empty project outside the repository (from npm's cache: `npm ci` put every
// runtime dependency there). Used by the tests that run the installed package in other runtimes.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The outer `npm test` leaves npm_* variables that would redirect a nested npm (prefix, cache config). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), ...extra };
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What `npm pack --json` reports of the tarball. */
export interface Packed {
  filename: string;
  size: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

/** Packs the package and installs the tarball --omit=dev into `<work>/app`; returns the app folder and npm's pack report. */
export async function installPacked(prefix: string): Promise<{ work: string; app: string; packed: Packed }> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const pack = await run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], root);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  // prepack's build prints to stdout too; the JSON report is the last thing printed.
  const packed = JSON.parse(pack.stdout.slice(pack.stdout.lastIndexOf('\n[') + 1))[0] as Packed;
  const { filename } = packed;
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, filename)], app);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed: ${install.stderr}`);
  return { work, app, packed };
}
