import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { startService, type Running } from '../../src/http/main';
import { tempDir } from '../helpers/cli';
import type { Backend } from '../helpers/stores';

/** Where the browser tests find Chromium (CHROMIUM_PATH, as for the card previews). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Declares a browser suite. Without Chromium it is skipped with a visible notice, except with CI=true, where
 * a missing Chromium is a failing test (CI installs it first).
 */
export const describeWithChromium = (title: string, body: () => void): void => {
  if (fs.existsSync(CHROMIUM_PATH)) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('runs in Chromium', () => {
        throw new Error(`Chromium is required when CI=true but ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
      });
    });
    return;
  }
  process.stderr.write(
    `\n*** NOTICE: Chromium is not installed at ${CHROMIUM_PATH}: the browser tests "${title}" are SKIPPED.\n`
      + '*** Install it with: apt-get install chromium\n\n',
  );
  describe.skip(title, body);
};

/** Headless Chromium with a fresh profile; each test opens its own context (no shared cookies). */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });

/** A free TCP port on loopback (the service's public URL must name its port before it starts). */
export const freePort = async (): Promise<number> => {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

export type TestService = { url: string; running: Running; stop: () => Promise<void> };

/** The real service (startService) on loopback, on the backend's store, with the given environment. */
export const startTestService = async (backend: Backend, env: Record<string, string>): Promise<TestService> => {
  const port = await freePort();
  const options = backend.options();
  const dataDir = tempDir();
  const storeEnv: Record<string, string> = options.kind === 'postgres'
    ? { DATABASE_URL: options.url, ...(options.schema ? { DATABASE_SCHEMA: options.schema } : {}) }
    : { ARBRIDGE_DATA_DIR: path.join(dataDir, 'data') };
  const url = `http://127.0.0.1:${port}`;
  const running = await startService(loadConfig({
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ARBRIDGE_PUBLIC_URL: url, ARBRIDGE_DEMO: 'off',
    LOG_LEVEL: 'silent', HUBSPOT_PUSH_INTERVAL_MINUTES: '0', ARBRIDGE_SECRET_KEY: Buffer.alloc(32, 11).toString('base64'),
    ...storeEnv, ...env,
  }));
  return {
    url,
    running,
    stop: async () => {
      await running.stop();
      await backend.cleanup(options);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
