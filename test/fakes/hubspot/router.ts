import { validationError, type Reply } from './errors';
import { resolveObjectType, type ObjectTypeInfo } from './schema';
import type { Portal } from './state';

export type BaseCtx = {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** http://127.0.0.1:<port>, for paging links. */
  baseUrl: string;
  path: string;
  /** Names the portal a request concerned, for the request log (OAuth calls carry no bearer token). */
  setLogPortal(portalId: number | null): void;
};

export type CrmCtx = BaseCtx & { portal: Portal };

type Handler = { kind: 'crm'; run: (ctx: CrmCtx) => Reply } | { kind: 'oauth'; run: (ctx: BaseCtx) => Reply };

export type Route = { method: string; segments: string[]; search: boolean; handler: Handler };

export class Router {
  readonly routes: Route[] = [];

  crm(method: string, pattern: string, run: (ctx: CrmCtx) => Reply, opts: { search?: boolean } = {}): void {
    this.routes.push({ method, segments: split(pattern), search: opts.search ?? false, handler: { kind: 'crm', run } });
  }

  oauth(method: string, pattern: string, run: (ctx: BaseCtx) => Reply): void {
    this.routes.push({ method, segments: split(pattern), search: false, handler: { kind: 'oauth', run } });
  }

  /** The first route whose method and path match (`:name` segments capture), or why none did. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { route: null; pathKnown: boolean } {
    const parts = split(path);
    let pathKnown = false;
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((seg, i) => {
        const part = parts[i] as string;
        if (seg.startsWith(':')) {
          params[seg.slice(1)] = decodeURIComponent(part);
          return true;
        }
        return seg === part;
      });
      if (!ok) continue;
      pathKnown = true;
      if (route.method === method) return { route, params };
    }
    return { route: null, pathKnown };
  }
}

const split = (path: string): string[] => path.split('/').filter((s) => s !== '');

// ---- request helpers ----

export const objectType = (raw: string): ObjectTypeInfo => {
  const type = resolveObjectType(raw);
  if (!type) throw validationError(`Unable to infer object type from: ${raw}`);
  return type;
};

/** A repeated or comma-separated query parameter (`properties=a,b` or `properties=a&properties=b`). */
export const listParam = (query: URLSearchParams, name: string): string[] | undefined => {
  const all = query.getAll(name);
  if (all.length === 0) return undefined;
  return all.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
};

export const intParam = (raw: unknown, name: string, fallback: number, max: number): number => {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw validationError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  if (n > max) throw validationError(`${name} must be at most ${max}, got ${n}`);
  return n;
};

export const boolParam = (query: URLSearchParams, name: string): boolean => query.get(name) === 'true';

export const bodyObject = (body: unknown): Record<string, unknown> => {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw validationError('The request body must be a JSON object');
  return body as Record<string, unknown>;
};

/** `inputs` of a batch body, at most `max` of them (HubSpot: 100 for objects, 1,000/2,000 for associations). */
export const batchInputs = (body: unknown, max: number): Array<Record<string, unknown>> => {
  const inputs = bodyObject(body).inputs;
  if (!Array.isArray(inputs)) throw validationError('inputs must be an array');
  if (inputs.length > max) {
    throw validationError(`Batch input is too large: ${inputs.length} inputs given, the limit is ${max}`, {
      context: { inputs: [String(inputs.length)] },
    });
  }
  return inputs.map((input, i) => {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw validationError(`inputs[${i}] must be an object`);
    return input as Record<string, unknown>;
  });
};

export const stringField = (value: unknown, name: string): string => {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw validationError(`${name} is required (a string)`);
};

export const stringList = (value: unknown, name: string): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw validationError(`${name} must be an array of strings`);
  return value as string[];
};

/** The timestamps of a batch answer (startedAt/completedAt; the SDK deserializes both to Date). */
export const batchEnvelope = (startedAt: string, results: unknown[], errors: unknown[]): { status: number; body: Record<string, unknown> } => {
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (errors.length > 0) {
    body.numErrors = errors.length;
    body.errors = errors;
  }
  return { status: errors.length > 0 ? 207 : 200, body };
};
