import type { Io } from './io';

/**
 * A progress bar on stderr for long imports. Silent when stderr is not a terminal (pipes, CI, files), so
 * scripted output stays clean.
 */
export const progressBar = (io: Io, label: string, total: number, minimum = 10_000): ((done: number) => void) => {
  if (!io.stderr.isTTY || total < minimum) return () => undefined;
  const width = Math.max(10, Math.min(40, (io.stderr.columns ?? 80) - label.length - 30));
  let last = -1;
  return (done: number) => {
    const percent = Math.min(100, Math.floor((done / total) * 100));
    if (percent === last) return;
    last = percent;
    const filled = Math.round((percent / 100) * width);
    io.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${percent}% ${done}/${total}`);
    if (done >= total) io.stderr.write('\n');
  };
};

/** A one-line counter on stderr for work of unknown size (a sync's pages); silent when stderr is not a terminal. */
export const progressLine = (io: Io, label: string): { update: (text: string) => void; done: () => void } => {
  if (!io.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let shown = false;
  return {
    update: (text) => {
      shown = true;
      io.stderr.write(`\r${label} ${text}\u001b[K`);
    },
    done: () => {
      if (shown) io.stderr.write('\n');
      shown = false;
    },
  };
};
