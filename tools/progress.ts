// A one-line progress bar on stderr, drawn only on a terminal (logs stay clean).
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  let last = 0;
  return {
    update(done: number, total: number | undefined, detail = ''): void {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 80 && done !== total) return;
      last = now;
      const width = 28;
      const frac = total ? Math.min(1, done / total) : 0;
      const bar = total ? '█'.repeat(Math.round(frac * width)).padEnd(width, '░') : '';
      const pct = total ? `${(frac * 100).toFixed(0).padStart(3)}%` : '';
      stream.write(`\r\x1b[2K${label} ${bar} ${pct} ${detail}`.slice(0, (stream.columns || 100) - 1));
    },
    done(): void {
      if (tty) stream.write('\r\x1b[2K');
    },
  };
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
