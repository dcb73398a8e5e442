import pino, { type Logger } from 'pino';

const SECRET_FIELDS = [
  'access_token', 'refresh_token', 'accessToken', 'refreshToken', 'client_secret', 'clientSecret',
  'password', 'secret', 'token', 'authorization', 'cookie',
];

/** Secret-bearing fields at the top level and one or two levels down, and request/response headers. */
const SECRET_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-hubspot-signature-v3"]',
  'headers.authorization', '*.headers.authorization',
];

/** Structured JSON logs on stderr; fields that may carry secrets are redacted wherever they appear. */
export const createLogger = (level: string, destination: NodeJS.WritableStream = process.stderr): Logger =>
  pino(
    {
      level,
      base: { service: 'arbridge' },
      redact: {
        paths: SECRET_PATHS,
        censor: '[redacted]',
      },
    },
    destination,
  );

export type { Logger };
