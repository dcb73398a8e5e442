import pino, { type Logger } from 'pino';

/** Structured JSON logs on stderr; fields that may carry secrets are redacted wherever they appear. */
export const createLogger = (level: string, destination: NodeJS.WritableStream = process.stderr): Logger =>
  pino(
    {
      level,
      base: { service: 'arbridge' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.access_token', '*.refresh_token', '*.password', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination,
  );

export type { Logger };
