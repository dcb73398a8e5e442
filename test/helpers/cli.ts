import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/io';

export type CliRun = { code: number; stdout: string; stderr: string };

const sink = (chunks: string[]): Writable =>
  new Writable({ write(chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done(); } });

/** Runs `arbridge` in-process with its own working directory and environment. */
export const runCli = async (args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> => {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: sink(out),
    stderr: sink(err),
    env: { ARBRIDGE_DATA_DIR: path.join(options.cwd, '.arbridge-data'), ...options.env },
    cwd: options.cwd,
  };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
};

export const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'arbridge-test-'));

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'csv');
