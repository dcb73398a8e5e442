/**
 * Stripe's form-style parameters as stripe-node sends them in a query string or a form body: `created[gte]=1`,
 * `expand[0]=data.customer`, `types[]=invoice.paid`, nested to any depth.
 */

export type Params = { [key: string]: ParamValue };
export type ParamValue = string | ParamValue[] | Params;

const splitKey = (key: string): string[] => {
  const first = key.indexOf('[');
  if (first < 0) return [key];
  const parts = [key.slice(0, first)];
  const re = /\[([^\]]*)\]/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(key.slice(first))) !== null) parts.push(match[1] as string);
  return parts;
};

export const parseParams = (search: URLSearchParams): Params => {
  const root: Params = {};
  for (const [key, value] of search) {
    const path = splitKey(key);
    let node: Params | ParamValue[] = root;
    path.forEach((part, i) => {
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1] as string);
      if (Array.isArray(node)) {
        const index = part === '' ? node.length : Number(part);
        if (last) node[index] = value;
        else {
          node[index] ??= nextIsIndex ? [] : {};
          node = node[index] as Params | ParamValue[];
        }
        return;
      }
      if (last) node[part] = value;
      else {
        node[part] ??= nextIsIndex ? [] : {};
        node = node[part] as Params | ParamValue[];
      }
    });
  }
  return root;
};

/** Thrown by handlers; becomes Stripe's error answer. */
export class StripeFakeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: 'invalid_request_error' | 'api_error' | 'rate_limit_error' | 'authentication_error' | 'permission_error' = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export const invalid = (message: string, param: string | null = null, code: string | null = null): StripeFakeError =>
  new StripeFakeError(400, message, 'invalid_request_error', code, param);

export const missing = (what: string, id: string, param = 'id'): StripeFakeError =>
  new StripeFakeError(404, `No such ${what}: '${id}'`, 'invalid_request_error', 'resource_missing', param);

export const str = (params: Params, name: string): string | undefined => {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${name}`, name);
  return value;
};

export const int = (params: Params, name: string, path = name): number | undefined => {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw invalid(`Invalid integer: ${String(value)}`, path);
  return Number(value);
};

export const strings = (params: Params, name: string): string[] | undefined => {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(`Invalid array: ${name}`, name);
  return value as string[];
};

export type Range = { gt?: number; gte?: number; lt?: number; lte?: number };

/** `created=123` or `created[gte]=…&created[lt]=…`. */
export const range = (params: Params, name: string): Range | undefined => {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const exact = int(params, name);
    return { gte: exact, lte: exact };
  }
  if (Array.isArray(value)) throw invalid(`Invalid hash: ${name}`, name);
  const out: Range = {};
  for (const key of Object.keys(value)) {
    if (key !== 'gt' && key !== 'gte' && key !== 'lt' && key !== 'lte') throw invalid(`Received unknown parameter: ${name}[${key}]`, `${name}[${key}]`);
    out[key] = int(value, key, `${name}[${key}]`);
  }
  return out;
};

export const inRange = (value: number | null, r: Range | undefined): boolean => {
  if (!r) return true;
  if (value === null) return false;
  return (r.gt === undefined || value > r.gt) && (r.gte === undefined || value >= r.gte)
    && (r.lt === undefined || value < r.lt) && (r.lte === undefined || value <= r.lte);
};
