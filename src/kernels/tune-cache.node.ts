// Node persistence for tuning results: one JSON object in $MUSIQ_HOME/tune.json, or
// ~/.cache/musiq/tune.json. Best effort: an unreadable file means re-tuning, an unwritable one
// means the choice lives only for this process; neither can change a result.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TuneCache } from './tune.ts';

export function defaultTunePath(): string {
  const home = process.env.MUSIQ_HOME;
  return home ? join(home, 'tune.json') : join(homedir(), '.cache', 'musiq', 'tune.json');
}

function readEntries(path: string): Record<string, string> {
  try {
    const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function fileTuneCache(path = defaultTunePath()): TuneCache {
  return {
    get: (key) => {
      const value = readEntries(path)[key];
      return typeof value === 'string' ? value : undefined;
    },
    set: (key, value) => {
      try {
        const entries = { ...readEntries(path), [key]: value };
        mkdirSync(dirname(path), { recursive: true });
        // Write then rename, so a concurrent reader never sees half a file.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(entries, null, 1) + '\n');
        renameSync(tmp, path);
      } catch {
        // Read-only home or similar: keep the in-memory choice only.
      }
    },
  };
}
