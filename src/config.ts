import path from 'node:path';
import { z } from 'zod';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ARBRIDGE_DATA_DIR: z.string().min(1).default('.arbridge-data'),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _').optional(),
  ARBRIDGE_PORTAL_ID: z.coerce.number().int().positive().default(1),
  ARBRIDGE_DEMO: z.enum(['auto', 'off']).default('auto'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Readonly<{
  env: 'development' | 'test' | 'production';
  port: number;
  host: string;
  /** Where the embedded store lives when DATABASE_URL is not set. */
  dataDir: string;
  databaseUrl: string | null;
  databaseSchema: string | null;
  /** The portal the CLI works on, and the development default for HTTP requests without a portal header. */
  defaultPortalId: number;
  /** 'auto' loads the demo portfolio when the store is empty on start. */
  demo: 'auto' | 'off';
  logLevel: string;
}>;

/** Reads the environment once, validated; a bad value stops the process with the variable named. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.ARBRIDGE_DATA_DIR),
    databaseUrl: e.DATABASE_URL ?? null,
    databaseSchema: e.DATABASE_SCHEMA ?? null,
    defaultPortalId: e.ARBRIDGE_PORTAL_ID,
    demo: e.ARBRIDGE_DEMO,
    logLevel: e.LOG_LEVEL,
  });
};
