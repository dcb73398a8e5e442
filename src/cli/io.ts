/** Where a command writes, and the environment it reads: injected so tests run commands in-process. */
export type Io = {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
};

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });

/** Exit codes of `arbridge`. */
export const EXIT = { ok: 0, badInput: 1, usage: 2 } as const;

/** A failure the user can fix by changing the input (exit 1), as opposed to a usage error (exit 2). */
export class InputError extends Error {
  constructor(message: string, readonly lines: readonly string[] = []) {
    super(message);
    this.name = 'InputError';
  }
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
