import { notFound, standardError, validationError, type Reply } from './errors';
import {
  batchEnvelope, batchInputs, bodyObject, boolParam, intParam, listParam, objectType, stringField, stringList,
  type CrmCtx, type Router,
} from './router';
import { ASSOCIATION_TYPES, OBJECT_TYPES, type ObjectTypeInfo } from './schema';
import { compileSearch } from './search';
import { compareIds, type Portal, type StoredObject, type ValueError } from './state';

const MAX_BATCH = 100;
const MAX_PAGE = 100;

type RenderOptions = {
  /** Property names to return; undefined → the type's defaults; 'set' → every property holding a value (write answers). */
  properties?: string[] | 'set';
  history?: string[];
  associations?: ObjectTypeInfo[];
  writeTraceId?: unknown;
};

/**
 * A record as HubSpot answers it (SimplePublicObject / SimplePublicObjectWithAssociations): the requested properties
 * that exist on the type (null when empty) plus createdate/hs_createdate, hs_lastmodifieddate and hs_object_id.
 */
export const renderObject = (portal: Portal, obj: StoredObject, opts: RenderOptions = {}): Record<string, unknown> => {
  const type = OBJECT_TYPES[obj.type];
  const names = opts.properties === 'set'
    ? [...obj.values.entries()].filter(([, v]) => v !== null).map(([k]) => k)
    : [...(opts.properties && opts.properties.length > 0 ? opts.properties : type.defaultProperties),
      type.createdProperty, 'hs_lastmodifieddate', 'hs_object_id'];
  const properties: Record<string, string | null> = {};
  for (const name of names) {
    if (portal.property(type.name, name)) properties[name] = obj.values.get(name) ?? null;
  }
  const out: Record<string, unknown> = { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: obj.archived };
  if (obj.archivedAt) out.archivedAt = obj.archivedAt;
  if (opts.history && opts.history.length > 0) {
    const history: Record<string, unknown[]> = {};
    for (const name of opts.history) {
      if (portal.property(type.name, name)) history[name] = (obj.history.get(name) ?? []).map((h) => ({ ...h }));
    }
    out.propertiesWithHistory = history;
  }
  if (opts.associations && opts.associations.length > 0) {
    const associations: Record<string, unknown> = {};
    for (const target of opts.associations) {
      const results = portal.associations(type.name, obj.id, target.name).flatMap(({ toId, typeIds }) =>
        typeIds.map((typeId) => ({ id: toId, type: ASSOCIATION_TYPES.get(typeId)?.name ?? String(typeId) })));
      if (results.length > 0) associations[target.name] = { results };
    }
    if (Object.keys(associations).length > 0) out.associations = associations;
  }
  if (typeof opts.writeTraceId === 'string') out.objectWriteTraceId = opts.writeTraceId;
  return out;
};

/** The associations of a create body, checked: `[{to: {id}, types: [{associationCategory, associationTypeId}]}]`. */
const parseCreateAssociations = (portal: Portal, type: ObjectTypeInfo, raw: unknown, where: string): Array<{ toType: ObjectTypeInfo; toId: string; typeId: number }> => {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError(`${where}associations must be an array`);
  return raw.flatMap((a: unknown, i) => {
    const at = `${where}associations[${i}]`;
    const entry = (a ?? {}) as { to?: { id?: unknown }; types?: unknown };
    const toId = stringField(entry.to?.id, `${at}.to.id`);
    if (!Array.isArray(entry.types) || entry.types.length === 0) throw validationError(`${at}.types must be a non-empty array`);
    return entry.types.map((t: unknown) => {
      const spec = (t ?? {}) as { associationCategory?: unknown; associationTypeId?: unknown };
      const def = ASSOCIATION_TYPES.get(Number(spec.associationTypeId));
      if (!def || def.from !== type.name || spec.associationCategory !== 'HUBSPOT_DEFINED') {
        throw validationError(`${at}: association type ${JSON.stringify(spec.associationCategory)}/${JSON.stringify(spec.associationTypeId)} is not valid from a ${type.singular}`);
      }
      const toType = OBJECT_TYPES[def.to];
      if (!portal.find(toType.name, toId)) throw validationError(`${at}: no ${toType.singular} with id ${toId} exists`);
      return { toType, toId, typeId: def.typeId };
    });
  });
};

const readOptions = (ctx: CrmCtx): RenderOptions => ({
  properties: listParam(ctx.query, 'properties'),
  history: listParam(ctx.query, 'propertiesWithHistory'),
  associations: listParam(ctx.query, 'associations')?.map(objectType),
});

/** All inputs' values checked first, so a batch with one bad value writes nothing (HubSpot answers 400). */
const checkAll = (portal: Portal, type: ObjectTypeInfo, inputs: Array<Record<string, unknown>>, create: boolean): Array<Record<string, string | null>> => {
  const errors: ValueError[] = [];
  const values = inputs.map((input) => {
    const { values: v, errors: e } = portal.normalize(type, input.properties, true);
    errors.push(...e);
    if (create) {
      for (const name of type.requiredOnCreate) {
        if (v[name] === undefined || v[name] === null) errors.push({ name, error: 'REQUIRED_PROPERTY', message: `Property "${name}" is required when creating a ${type.singular}` });
      }
    }
    return v;
  });
  if (errors.length > 0) throw portal.valueErrors(errors);
  return values;
};

const duplicates = (ids: string[]): string[] => [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];

export const objectRoutes = (r: Router): void => {
  r.crm('GET', '/crm/v3/objects/:type', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const limit = intParam(ctx.query.get('limit') ?? undefined, 'limit', 10, MAX_PAGE);
    const after = ctx.query.get('after');
    const archived = boolParam(ctx.query, 'archived');
    const all = [...ctx.portal.objectsOf(type.name).values()].filter((o) => o.archived === archived).sort((a, b) => compareIds(a.id, b.id));
    const start = after ? all.findIndex((o) => compareIds(o.id, after) >= 0) : 0;
    const from = start < 0 ? all.length : start;
    const page = all.slice(from, from + limit);
    const opts = readOptions(ctx);
    const body: Record<string, unknown> = { results: page.map((o) => renderObject(ctx.portal, o, opts)) };
    const next = all[from + limit];
    if (next) {
      const query = new URLSearchParams(ctx.query);
      query.set('after', next.id);
      body.paging = { next: { after: next.id, link: `${ctx.baseUrl}${ctx.path}?${query.toString()}` } };
    }
    return { status: 200, body };
  });

  r.crm('POST', '/crm/v3/objects/:type', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const body = bodyObject(ctx.body);
    const values = ctx.portal.checkedValues(type, body.properties, { create: true });
    const links = parseCreateAssociations(ctx.portal, type, body.associations, '');
    ctx.portal.checkUnique(type, values, null);
    const obj = ctx.portal.createObject(type, values);
    for (const l of links) ctx.portal.associate(type.name, obj.id, l.toType.name, l.toId, l.typeId);
    return { status: 201, body: renderObject(ctx.portal, obj, { properties: 'set' }) };
  });

  r.crm('POST', '/crm/v3/objects/:type/batch/read', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const body = bodyObject(ctx.body);
    const inputs = batchInputs(body, MAX_BATCH);
    const idProperty = typeof body.idProperty === 'string' && body.idProperty !== 'hs_object_id'
      ? ctx.portal.uniqueProperty(type, body.idProperty) : undefined;
    const archived = boolParam(ctx.query, 'archived');
    const ids = [...new Set(inputs.map((input, i) => stringField(input.id, `inputs[${i}].id`)))];
    const opts: RenderOptions = { properties: stringList(body.properties, 'properties'), history: stringList(body.propertiesWithHistory, 'propertiesWithHistory') };
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const obj = ctx.portal.find(type.name, id, { idProperty, archived });
      if (obj) results.push(renderObject(ctx.portal, obj, opts));
      else missing.push(id);
    }
    const errors = missing.length === 0 ? [] : [standardError('OBJECT_NOT_FOUND',
      `Could not get some ${type.label} objects, they may be deleted or not exist. Check that ids are valid.`, { ids: missing })];
    return batchEnvelope(started, results, errors);
  });

  r.crm('POST', '/crm/v3/objects/:type/batch/create', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const inputs = batchInputs(ctx.body, MAX_BATCH);
    const values = checkAll(ctx.portal, type, inputs, true);
    const links = inputs.map((input, i) => parseCreateAssociations(ctx.portal, type, input.associations, `inputs[${i}].`));
    const claimed = new Map<string, string>();
    values.forEach((v, i) => ctx.portal.checkUnique(type, v, null, claimed, `input ${i}`));
    const results = values.map((v, i) => {
      const obj = ctx.portal.createObject(type, v);
      for (const l of links[i] ?? []) ctx.portal.associate(type.name, obj.id, l.toType.name, l.toId, l.typeId);
      return renderObject(ctx.portal, obj, { properties: 'set', writeTraceId: inputs[i]?.objectWriteTraceId });
    });
    return { status: 201, body: batchEnvelope(started, results, []).body };
  });

  // An id that names no live record does not fail the batch: HubSpot documents 207 Multi-Status for batch/update,
  // so the others are written and the missing ids come back in `errors` (OBJECT_NOT_FOUND, context.ids).
  r.crm('POST', '/crm/v3/objects/:type/batch/update', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const inputs = batchInputs(ctx.body, MAX_BATCH);
    const keys = inputs.map((input, i) => `${typeof input.idProperty === 'string' ? input.idProperty : ''}:${stringField(input.id, `inputs[${i}].id`)}`);
    const dup = duplicates(keys);
    if (dup.length > 0) throw validationError(`Duplicate IDs found in batch input: [${dup.map((k) => k.slice(k.indexOf(':') + 1)).join(', ')}]. IDs must be unique`);
    const values = checkAll(ctx.portal, type, inputs, false);
    const targets = inputs.map((input) => {
      const idProperty = typeof input.idProperty === 'string' && input.idProperty !== 'hs_object_id'
        ? ctx.portal.uniqueProperty(type, input.idProperty) : undefined;
      return ctx.portal.find(type.name, String(input.id), { idProperty });
    });
    const claimed = new Map<string, string>();
    targets.forEach((obj, i) => {
      if (obj) ctx.portal.checkUnique(type, values[i] ?? {}, obj.id, claimed, obj.id);
    });
    const results: unknown[] = [];
    const missing: string[] = [];
    targets.forEach((obj, i) => {
      if (!obj) {
        missing.push(String(inputs[i]?.id));
        return;
      }
      ctx.portal.update(obj, values[i] ?? {});
      results.push(renderObject(ctx.portal, obj, { properties: 'set', writeTraceId: inputs[i]?.objectWriteTraceId }));
    });
    const errors = missing.length === 0 ? [] : [standardError('OBJECT_NOT_FOUND',
      `Could not update some ${type.label} objects, they may be deleted or not exist. Check that ids are valid.`, { ids: missing })];
    return batchEnvelope(started, results, errors);
  });

  r.crm('POST', '/crm/v3/objects/:type/batch/upsert', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const inputs = batchInputs(ctx.body, MAX_BATCH);
    const keyed = inputs.map((input, i) => {
      if (typeof input.idProperty !== 'string') throw validationError(`inputs[${i}].idProperty is required for an upsert`);
      return { idProperty: ctx.portal.uniqueProperty(type, input.idProperty), id: stringField(input.id, `inputs[${i}].id`) };
    });
    const dup = duplicates(keyed.map((k) => `${k.idProperty}=${k.id}`));
    if (dup.length > 0) throw validationError(`Duplicate IDs found in batch input: [${dup.join(', ')}]. IDs must be unique`);
    const values = checkAll(ctx.portal, type, inputs, false);
    const targets = keyed.map((k) => ctx.portal.find(type.name, k.id, { idProperty: k.idProperty }));
    const claimed = new Map<string, string>();
    const merged = keyed.map((k, i) => ({ ...values[i], [k.idProperty]: k.id }));
    targets.forEach((obj, i) => ctx.portal.checkUnique(type, merged[i] ?? {}, obj?.id ?? null, claimed, obj?.id ?? `input ${i}`));
    const missingRequired = targets.flatMap((obj, i) => (obj ? [] : type.requiredOnCreate.filter((n) => merged[i]?.[n] == null)));
    if (missingRequired.length > 0) {
      throw ctx.portal.valueErrors(missingRequired.map((name) => ({ name, error: 'REQUIRED_PROPERTY', message: `Property "${name}" is required when creating a ${type.singular}` })));
    }
    const results = targets.map((existing, i) => {
      const obj = existing ?? ctx.portal.createObject(type, merged[i] ?? {});
      if (existing) ctx.portal.update(existing, merged[i] ?? {});
      return { ...renderObject(ctx.portal, obj, { properties: 'set', writeTraceId: inputs[i]?.objectWriteTraceId }), new: !existing };
    });
    return batchEnvelope(started, results, []);
  });

  r.crm('POST', '/crm/v3/objects/:type/batch/archive', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const inputs = batchInputs(ctx.body, MAX_BATCH);
    inputs.forEach((input, i) => {
      const obj = ctx.portal.find(type.name, stringField(input.id, `inputs[${i}].id`));
      if (obj) ctx.portal.archive(obj);
    });
    return { status: 204 };
  });

  r.crm('POST', '/crm/v3/objects/:type/search', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const search = compileSearch(ctx.portal, type, bodyObject(ctx.body));
    const hits = [...ctx.portal.objectsOf(type.name).values()].filter((o) => !o.archived && search.matches(o)).sort(search.compare);
    const page = hits.slice(search.offset, search.offset + search.limit);
    const body: Record<string, unknown> = {
      total: hits.length, results: page.map((o) => renderObject(ctx.portal, o, { properties: search.properties })),
    };
    if (search.offset + search.limit < hits.length) body.paging = { next: { after: String(search.offset + search.limit) } };
    return { status: 200, body };
  }, { search: true });

  const findOr404 = (ctx: CrmCtx, type: ObjectTypeInfo, opts: { archived?: boolean } = {}): StoredObject => {
    const raw = ctx.query.get('idProperty');
    const idProperty = raw && raw !== 'hs_object_id' ? ctx.portal.uniqueProperty(type, raw) : undefined;
    const obj = ctx.portal.find(type.name, ctx.params.id as string, { idProperty, ...opts });
    if (!obj) throw notFound();
    return obj;
  };

  r.crm('GET', '/crm/v3/objects/:type/:id', (ctx): Reply => {
    const type = objectType(ctx.params.type as string);
    const obj = findOr404(ctx, type, { archived: boolParam(ctx.query, 'archived') });
    return { status: 200, body: renderObject(ctx.portal, obj, readOptions(ctx)) };
  });

  r.crm('PATCH', '/crm/v3/objects/:type/:id', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const obj = findOr404(ctx, type);
    const values = ctx.portal.checkedValues(type, bodyObject(ctx.body).properties, { create: false });
    ctx.portal.checkUnique(type, values, obj.id);
    ctx.portal.update(obj, values);
    return { status: 200, body: renderObject(ctx.portal, obj, { properties: 'set' }) };
  });

  r.crm('DELETE', '/crm/v3/objects/:type/:id', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const obj = ctx.portal.find(type.name, ctx.params.id as string);
    if (obj) ctx.portal.archive(obj);
    return { status: 204 };
  });
};
