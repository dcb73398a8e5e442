import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Temp directories that `removeTemps` deletes (call it in afterAll). */
const temps: string[] = [];
export const tempDir = (prefix: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
export const removeTemps = (): void => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
};

/** A copy of the project (hsproject.json, app-config/, extensions/) in a temp directory. */
export const copyProject = (): string => {
  const dir = tempDir('arbridge-hs-');
  const noModules = (src: string) => !path.relative(ROOT, src).split(path.sep).includes('node_modules');
  fs.copyFileSync(path.join(ROOT, 'hsproject.json'), path.join(dir, 'hsproject.json'));
  fs.cpSync(path.join(ROOT, 'app-config'), path.join(dir, 'app-config'), { recursive: true, filter: noModules });
  fs.cpSync(path.join(ROOT, 'extensions'), path.join(dir, 'extensions'), { recursive: true, filter: noModules });
  return dir;
};

export const readJson = (dir: string, file: string): Json => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Json;

export const editJson = (dir: string, file: string, change: (json: Json) => void): void => {
  const json = readJson(dir, file);
  change(json);
  fs.writeFileSync(path.join(dir, file), JSON.stringify(json, null, 2));
};
