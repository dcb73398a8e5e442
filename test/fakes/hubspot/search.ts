import { validationError } from './errors';
import { intParam, stringList } from './router';
import { resolveObjectType, type ObjectTypeInfo, type PropertyDef } from './schema';
import { compareIds, toMillis, type Portal, type StoredObject } from './state';

/** HubSpot's CRM search limits: 5 groups × 6 filters, 18 filters in all, one sort, 200 a page, 10,000 results. */
export const SEARCH_LIMITS = { groups: 5, filtersPerGroup: 6, filters: 18, pageSize: 200, results: 10_000, bodyChars: 3_000 };

const OPERATORS = new Set([
  'EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN',
]);

type Predicate = (obj: StoredObject) => boolean;

export type CompiledSearch = {
  matches: Predicate;
  compare: (a: StoredObject, b: StoredObject) => number;
  properties: string[] | undefined;
  limit: number;
  offset: number;
};

/** Orders two stored values by the property's type (numbers and dates numerically, text without case). */
const compareValues = (def: PropertyDef, a: string, b: string): number => {
  if (def.type === 'number') return Number(a) - Number(b);
  if (def.type === 'date' || def.type === 'datetime') return toMillis(a) - toMillis(b);
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

const asString = (v: unknown, what: string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw validationError(`${what} is required for this operator`);
};

const tokenMatcher = (pattern: string): ((value: string) => boolean) => {
  const re = new RegExp(`^${pattern.toLowerCase().split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (value) => {
    const v = value.toLowerCase();
    return re.test(v) || v.split(/[^\p{L}\p{N}]+/u).some((token) => token !== '' && re.test(token));
  };
};

const compileFilter = (portal: Portal, type: ObjectTypeInfo, raw: unknown): Predicate => {
  if (raw === null || typeof raw !== 'object') throw validationError('Each filter must be an object');
  const f = raw as Record<string, unknown>;
  const propertyName = typeof f.propertyName === 'string' ? f.propertyName : '';
  const operator = typeof f.operator === 'string' ? f.operator : '';
  if (!OPERATORS.has(operator)) throw validationError(`Unknown filter operator ${JSON.stringify(f.operator)} on ${propertyName || 'a filter'}`);
  const values = (): string[] => {
    const list = stringList(Array.isArray(f.values) ? f.values.map((v) => (typeof v === 'number' ? String(v) : v)) : f.values, `values of the ${operator} filter on ${propertyName}`);
    if (!list) throw validationError(`values is required for the ${operator} filter on ${propertyName}`);
    return list;
  };

  const assoc = /^associations\.(.+)$/.exec(propertyName);
  if (assoc) {
    const target = resolveObjectType(assoc[1] as string);
    if (!target) throw validationError(`Unable to infer object type from: ${assoc[1]}`);
    const wanted = operator === 'EQ' ? [asString(f.value, `value of the filter on ${propertyName}`)] : operator === 'IN' ? values() : null;
    if (!wanted) throw validationError(`Only EQ and IN filter on ${propertyName}`);
    return (obj) => portal.associations(type.name, obj.id, target.name).some((a) => wanted.includes(a.toId));
  }

  const def = portal.property(type.name, propertyName);
  if (!def) throw validationError(`There was a problem with the request: property ${JSON.stringify(propertyName)} does not exist on ${type.name}`);
  const get = (obj: StoredObject): string | null => {
    const v = obj.values.get(propertyName) ?? null;
    return v === '' ? null : v;
  };
  const eq = (v: string | null, target: string): boolean => v !== null && compareValues(def, v, target) === 0;
  const what = `value of the ${operator} filter on ${propertyName}`;
  switch (operator) {
    case 'EQ': { const t = asString(f.value, what); return (o) => eq(get(o), t); }
    case 'NEQ': { const t = asString(f.value, what); return (o) => !eq(get(o), t); }
    case 'LT': { const t = asString(f.value, what); return (o) => { const v = get(o); return v !== null && compareValues(def, v, t) < 0; }; }
    case 'LTE': { const t = asString(f.value, what); return (o) => { const v = get(o); return v !== null && compareValues(def, v, t) <= 0; }; }
    case 'GT': { const t = asString(f.value, what); return (o) => { const v = get(o); return v !== null && compareValues(def, v, t) > 0; }; }
    case 'GTE': { const t = asString(f.value, what); return (o) => { const v = get(o); return v !== null && compareValues(def, v, t) >= 0; }; }
    case 'BETWEEN': {
      const low = asString(f.value, what);
      const high = asString(f.highValue, `highValue of the BETWEEN filter on ${propertyName}`);
      return (o) => { const v = get(o); return v !== null && compareValues(def, v, low) >= 0 && compareValues(def, v, high) <= 0; };
    }
    case 'IN': { const list = values(); return (o) => list.some((t) => eq(get(o), t)); }
    case 'NOT_IN': { const list = values(); return (o) => !list.some((t) => eq(get(o), t)); }
    case 'HAS_PROPERTY': return (o) => get(o) !== null;
    case 'NOT_HAS_PROPERTY': return (o) => get(o) === null;
    case 'CONTAINS_TOKEN': { const m = tokenMatcher(asString(f.value, what)); return (o) => { const v = get(o); return v !== null && m(v); }; }
    default: { const m = tokenMatcher(asString(f.value, what)); return (o) => { const v = get(o); return v === null || !m(v); }; }
  }
};

const compileSort = (portal: Portal, type: ObjectTypeInfo, sorts: unknown): ((a: StoredObject, b: StoredObject) => number) => {
  const byId = (a: StoredObject, b: StoredObject): number => compareIds(a.id, b.id);
  if (sorts === undefined || sorts === null) return byId;
  if (!Array.isArray(sorts)) throw validationError('sorts must be an array');
  if (sorts.length === 0) return byId;
  if (sorts.length > 1) throw validationError('Only one sort is allowed');
  const sort = sorts[0] as unknown;
  let name: string;
  let descending: boolean;
  if (typeof sort === 'string') {
    descending = sort.startsWith('-');
    name = descending ? sort.slice(1) : sort;
  } else if (sort && typeof sort === 'object' && typeof (sort as { propertyName?: unknown }).propertyName === 'string') {
    const s = sort as { propertyName: string; direction?: unknown };
    if (s.direction !== undefined && s.direction !== 'ASCENDING' && s.direction !== 'DESCENDING') {
      throw validationError(`Sort direction must be ASCENDING or DESCENDING, got ${JSON.stringify(s.direction)}`);
    }
    name = s.propertyName;
    descending = s.direction === 'DESCENDING';
  } else {
    throw validationError('A sort is a property name ("-name" descending) or {propertyName, direction}');
  }
  const def = portal.property(type.name, name);
  if (!def) throw validationError(`Cannot sort by ${JSON.stringify(name)}: no such property on ${type.name}`);
  return (a, b) => {
    const x = a.values.get(name) ?? null;
    const y = b.values.get(name) ?? null;
    if (x === null || y === null) return x === y ? byId(a, b) : x === null ? 1 : -1; // no value sorts last either way
    const c = compareValues(def, x, y);
    return c !== 0 ? (descending ? -c : c) : byId(a, b);
  };
};

/** Checks a search body against HubSpot's limits and compiles its filters, sort and page. */
export const compileSearch = (portal: Portal, type: ObjectTypeInfo, body: Record<string, unknown>): CompiledSearch => {
  const size = JSON.stringify(body).length;
  if (size > SEARCH_LIMITS.bodyChars) throw validationError(`The search request is ${size} characters long, the limit is ${SEARCH_LIMITS.bodyChars}`);
  const groups = body.filterGroups ?? [];
  if (!Array.isArray(groups)) throw validationError('filterGroups must be an array');
  if (groups.length > SEARCH_LIMITS.groups) throw validationError(`Too many filter groups: ${groups.length}, the limit is ${SEARCH_LIMITS.groups}`);
  let total = 0;
  const compiled = groups.map((group: unknown, i) => {
    const filters = (group as { filters?: unknown } | null)?.filters ?? [];
    if (!Array.isArray(filters)) throw validationError(`filterGroups[${i}].filters must be an array`);
    if (filters.length > SEARCH_LIMITS.filtersPerGroup) {
      throw validationError(`Too many filters in filterGroups[${i}]: ${filters.length}, the limit is ${SEARCH_LIMITS.filtersPerGroup}`);
    }
    total += filters.length;
    return filters.map((f) => compileFilter(portal, type, f));
  });
  if (total > SEARCH_LIMITS.filters) throw validationError(`Too many filters: ${total}, the limit is ${SEARCH_LIMITS.filters} in all groups`);

  let queryMatch: Predicate = () => true;
  if (body.query !== undefined && body.query !== null && body.query !== '') {
    if (typeof body.query !== 'string') throw validationError('query must be a string');
    const q = body.query.toLowerCase();
    queryMatch = (o) => type.queryProperties.some((p) => (o.values.get(p) ?? '').toLowerCase().includes(q));
  }

  const limit = intParam(body.limit, 'limit', 10, SEARCH_LIMITS.pageSize);
  const afterRaw = body.after ?? '0';
  const offset = typeof afterRaw === 'number' ? afterRaw : Number(afterRaw);
  if (!Number.isInteger(offset) || offset < 0) throw validationError(`after must be a non-negative integer, got ${JSON.stringify(afterRaw)}`);
  if (offset + limit > SEARCH_LIMITS.results) {
    throw validationError(`Paging past ${SEARCH_LIMITS.results} results is not allowed (after ${offset}, limit ${limit}); narrow the filters instead`);
  }
  return {
    matches: (o) => queryMatch(o) && (compiled.length === 0 || compiled.some((fs) => fs.every((p) => p(o)))),
    compare: compileSort(portal, type, body.sorts),
    properties: stringList(body.properties, 'properties'),
    limit,
    offset,
  };
};
