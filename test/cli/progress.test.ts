import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { Io } from '../../src/cli/io';
import { progressBar } from '../../src/cli/progress';

const stderr = (isTTY: boolean) => {
  const chunks: string[] = [];
  const stream = Object.assign(new Writable({ write(chunk: Buffer, _e, done) { chunks.push(chunk.toString()); done(); } }), { isTTY, columns: 80 });
  return { stream, chunks };
};
const io = (s: Io['stderr']): Io => ({ stdout: s, stderr: s, env: {}, cwd: '/' });

describe('progressBar', () => {
  it('draws on a terminal and ends with a newline at 100%', () => {
    const { stream, chunks } = stderr(true);
    const tick = progressBar(io(stream), 'importing invoices', 20_000);
    tick(5_000);
    tick(20_000);
    const text = chunks.join('');
    expect(text).toContain('importing invoices [');
    expect(text).toContain('25% 5000/20000');
    expect(text).toMatch(/100% 20000\/20000\n$/);
  });

  it('is silent when stderr is not a terminal, and for small files', () => {
    const piped = stderr(false);
    progressBar(io(piped.stream), 'importing', 50_000)(50_000);
    expect(piped.chunks).toEqual([]);
    const small = stderr(true);
    progressBar(io(small.stream), 'importing', 100)(100);
    expect(small.chunks).toEqual([]);
  });
});
