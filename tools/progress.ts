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

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(sec).padStart(2, '0')}`;
}

/**
 * Progress of a batch run, on stderr only: on a terminal a live line (done/total, images per
 * second, ETA, current file); otherwise one plain line every `everyMs` at most, so logs of an
 * hours-long job stay short.
 */
export function batchProgress(total: number, stream: NodeJS.WriteStream = process.stderr, everyMs = Number(process.env.MUSIQ_PROGRESS_MS ?? 10_000)) {
  const tty = stream.isTTY === true;
  const bar = progressBar('scoring', stream);
  const t0 = Date.now();
  let lastLine = t0;
  return {
    update(done: number, current: string): void {
      const s = (Date.now() - t0) / 1000;
      const rate = done / s;
      const detail = `${done}/${total}  ${rate.toFixed(2)} img/s  ETA ${clock((total - done) / rate)}  ${current}`;
      if (tty) bar.update(done, total, detail);
      else if (Date.now() - lastLine >= everyMs) {
        lastLine = Date.now();
        stream.write(`musiq: ${detail}\n`);
      }
    },
    done(): void {
      bar.done();
    },
  };
}
