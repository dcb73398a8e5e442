import { apiError, notFound, standardError, validationError, HubSpotHttpError } from './errors';
import { batchEnvelope, batchInputs, bodyObject, boolParam, objectType, type Router } from './router';
import { BOOL_OPTIONS, FIELD_TYPES, type GroupDef, type ObjectTypeInfo, type OptionDef, type PropertyDef, type PropertyType } from './schema';
import type { Portal } from './state';

const NAME_RE = /^[a-z][a-z0-9_]*$/;
const MAX_UNIQUE = 10;

/** A property as the SDK's Property model has it (createdAt/updatedAt/archivedAt deserialize to Date). */
export const renderProperty = (def: PropertyDef): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    name: def.name, label: def.label, type: def.type, fieldType: def.fieldType, description: def.description,
    groupName: def.groupName, options: def.options.map((o) => ({ ...o })), displayOrder: def.displayOrder,
    calculated: def.calculated, externalOptions: def.externalOptions, hasUniqueValue: def.hasUniqueValue, hidden: def.hidden,
    hubspotDefined: def.hubspotDefined, formField: def.formField, archived: def.archived,
    modificationMetadata: { archivable: !def.hubspotDefined, readOnlyDefinition: def.readOnlyDefinition, readOnlyValue: def.readOnlyValue },
    createdAt: def.createdAt, updatedAt: def.updatedAt,
  };
  if (def.calculationFormula !== undefined) out.calculationFormula = def.calculationFormula;
  if (def.archivedAt) out.archivedAt = def.archivedAt;
  return out;
};

const renderGroup = (g: GroupDef): Record<string, unknown> => ({ name: g.name, label: g.label, displayOrder: g.displayOrder, archived: g.archived });

const parseOptions = (raw: unknown, where: string): OptionDef[] | undefined => {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw validationError(`${where}options must be an array`);
  const options = raw.map((o: unknown, i) => {
    const opt = (o ?? {}) as Record<string, unknown>;
    if (typeof opt.label !== 'string' || typeof opt.value !== 'string') throw validationError(`${where}options[${i}] needs a label and a value (strings)`);
    const out: OptionDef = { label: opt.label, value: opt.value, displayOrder: typeof opt.displayOrder === 'number' ? opt.displayOrder : i, hidden: opt.hidden === true };
    if (typeof opt.description === 'string') out.description = opt.description;
    return out;
  });
  const values = options.map((o) => o.value);
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw validationError(`${where}options: the value ${JSON.stringify(dup)} appears twice`);
  return options;
};

const checkTypes = (type: unknown, fieldType: unknown, where: string): { type: PropertyType; fieldType: string } => {
  if (typeof type !== 'string' || !(type in FIELD_TYPES)) {
    throw validationError(`${where}type must be one of ${Object.keys(FIELD_TYPES).join(', ')}, got ${JSON.stringify(type)}`);
  }
  const allowed = FIELD_TYPES[type as PropertyType];
  if (typeof fieldType !== 'string' || !allowed.includes(fieldType)) {
    throw validationError(`${where}fieldType ${JSON.stringify(fieldType)} is not valid for type ${type}; use one of ${allowed.join(', ')}`);
  }
  return { type: type as PropertyType, fieldType };
};

/** Validates a PropertyCreate and adds it; 409 when the name is taken (archived properties keep their names). */
const createProperty = (portal: Portal, type: ObjectTypeInfo, raw: unknown, where = ''): PropertyDef => {
  const body = bodyObject(raw);
  const name = body.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw validationError(`${where}name must start with a lower-case letter and hold only a-z, 0-9 and _, got ${JSON.stringify(name)}`);
  }
  if (typeof body.label !== 'string' || body.label === '') throw validationError(`${where}label is required for property ${name}`);
  const types = checkTypes(body.type, body.fieldType, where);
  const groupName = body.groupName;
  if (typeof groupName !== 'string' || !portal.groupsOf(type.name).get(groupName) || portal.groupsOf(type.name).get(groupName)?.archived) {
    throw validationError(`${where}property group ${JSON.stringify(groupName)} does not exist on ${type.name}`);
  }
  const existing = portal.propertiesOf(type.name).get(name);
  if (existing) {
    throw apiError(409, 'OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists${existing.archived ? ' (archived)' : ''}.`, {
      subCategory: 'PropertyCrudError.PROPERTY_EXISTS', context: { name: [name] },
    });
  }
  const hasUniqueValue = body.hasUniqueValue === true;
  if (hasUniqueValue && [...portal.propertiesOf(type.name).values()].filter((p) => p.hasUniqueValue && !p.archived).length >= MAX_UNIQUE) {
    throw validationError(`${where}${type.name} already has ${MAX_UNIQUE} unique-value properties, the limit`);
  }
  const options = parseOptions(body.options, where) ?? (types.type === 'bool' ? BOOL_OPTIONS.map((o) => ({ ...o })) : []);
  const at = portal.now();
  const def: PropertyDef = {
    name, label: body.label, ...types, groupName, description: typeof body.description === 'string' ? body.description : '',
    options, displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1, hasUniqueValue,
    hidden: body.hidden === true, formField: body.formField === true, calculated: types.fieldType === 'calculation_equation',
    externalOptions: body.externalOptions === true, hubspotDefined: false, readOnlyValue: types.fieldType === 'calculation_equation',
    readOnlyDefinition: false, createdAt: at, updatedAt: at, archived: false,
  };
  if (typeof body.calculationFormula === 'string') def.calculationFormula = body.calculationFormula;
  portal.propertiesOf(type.name).set(name, def);
  return def;
};

const liveProperty = (portal: Portal, type: ObjectTypeInfo, name: string, archived = false): PropertyDef => {
  const def = portal.propertiesOf(type.name).get(name);
  if (!def || def.archived !== archived) throw notFound(`Unable to find property ${name} on ${type.name}`);
  return def;
};

const liveGroup = (portal: Portal, type: ObjectTypeInfo, name: string): GroupDef => {
  const group = portal.groupsOf(type.name).get(name);
  if (!group || group.archived) throw notFound(`Unable to find property group ${name} on ${type.name}`);
  return group;
};

export const propertyRoutes = (r: Router): void => {
  r.crm('GET', '/crm/v3/properties/:type', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const archived = boolParam(ctx.query, 'archived');
    const results = [...ctx.portal.propertiesOf(type.name).values()].filter((p) => p.archived === archived).map(renderProperty);
    return { status: 200, body: { results } };
  });

  r.crm('POST', '/crm/v3/properties/:type', (ctx) => {
    const type = objectType(ctx.params.type as string);
    return { status: 201, body: renderProperty(createProperty(ctx.portal, type, ctx.body)) };
  });

  // Each input stands alone: created ones are answered in results, refused ones (taken name, bad definition) in
  // errors with a 207.
  r.crm('POST', '/crm/v3/properties/:type/batch/create', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    batchInputs(ctx.body, 100).forEach((input, i) => {
      try {
        results.push(renderProperty(createProperty(ctx.portal, type, input, `inputs[${i}].`)));
      } catch (e) {
        if (!(e instanceof HubSpotHttpError)) throw e;
        const b = e.reply.body as { category: string; message: string };
        errors.push(standardError(b.category, b.message, { name: [String(input.name)] }));
      }
    });
    const env = batchEnvelope(started, results, errors);
    return { status: errors.length > 0 ? 207 : 201, body: env.body };
  });

  r.crm('POST', '/crm/v3/properties/:type/batch/read', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const started = new Date().toISOString();
    const archived = bodyObject(ctx.body).archived === true;
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of batchInputs(ctx.body, 100)) {
      const name = String(input.name);
      const def = ctx.portal.propertiesOf(type.name).get(name);
      if (def && def.archived === archived) results.push(renderProperty(def));
      else missing.push(name);
    }
    const errors = missing.length === 0 ? [] : [standardError('OBJECT_NOT_FOUND', `Unable to find properties on ${type.name}: ${missing.join(', ')}`, { names: missing })];
    return batchEnvelope(started, results, errors);
  });

  r.crm('POST', '/crm/v3/properties/:type/batch/archive', (ctx) => {
    const type = objectType(ctx.params.type as string);
    for (const input of batchInputs(ctx.body, 100)) {
      const def = ctx.portal.propertiesOf(type.name).get(String(input.name));
      if (def && !def.hubspotDefined && !def.archived) Object.assign(def, { archived: true, archivedAt: ctx.portal.now() });
    }
    return { status: 204 };
  });

  r.crm('GET', '/crm/v3/properties/:type/groups', (ctx) => {
    const type = objectType(ctx.params.type as string);
    return { status: 200, body: { results: [...ctx.portal.groupsOf(type.name).values()].filter((g) => !g.archived).map(renderGroup) } };
  });

  r.crm('POST', '/crm/v3/properties/:type/groups', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const body = bodyObject(ctx.body);
    if (typeof body.name !== 'string' || !NAME_RE.test(body.name)) throw validationError(`name must start with a lower-case letter and hold only a-z, 0-9 and _, got ${JSON.stringify(body.name)}`);
    if (typeof body.label !== 'string' || body.label === '') throw validationError(`label is required for property group ${body.name}`);
    const existing = ctx.portal.groupsOf(type.name).get(body.name);
    if (existing && !existing.archived) {
      throw apiError(409, 'OBJECT_ALREADY_EXISTS', `A property group named '${body.name}' already exists.`, { context: { name: [body.name] } });
    }
    const group: GroupDef = { name: body.name, label: body.label, displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1, archived: false };
    ctx.portal.groupsOf(type.name).set(group.name, group);
    return { status: 201, body: renderGroup(group) };
  });

  r.crm('GET', '/crm/v3/properties/:type/groups/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    return { status: 200, body: renderGroup(liveGroup(ctx.portal, type, ctx.params.name as string)) };
  });

  r.crm('PATCH', '/crm/v3/properties/:type/groups/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const group = liveGroup(ctx.portal, type, ctx.params.name as string);
    const body = bodyObject(ctx.body);
    if (body.label !== undefined) {
      if (typeof body.label !== 'string' || body.label === '') throw validationError('label must be a non-empty string');
      group.label = body.label;
    }
    if (typeof body.displayOrder === 'number') group.displayOrder = body.displayOrder;
    return { status: 200, body: renderGroup(group) };
  });

  r.crm('DELETE', '/crm/v3/properties/:type/groups/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const group = liveGroup(ctx.portal, type, ctx.params.name as string);
    if ([...ctx.portal.propertiesOf(type.name).values()].some((p) => !p.archived && p.groupName === group.name)) {
      throw validationError(`Property group ${group.name} still holds properties; move or archive them first`);
    }
    group.archived = true;
    return { status: 204 };
  });

  r.crm('GET', '/crm/v3/properties/:type/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    return { status: 200, body: renderProperty(liveProperty(ctx.portal, type, ctx.params.name as string, boolParam(ctx.query, 'archived'))) };
  });

  r.crm('PATCH', '/crm/v3/properties/:type/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const def = liveProperty(ctx.portal, type, ctx.params.name as string);
    const body = bodyObject(ctx.body);
    if (def.readOnlyDefinition) throw validationError(`Property ${def.name} is defined by HubSpot and its definition is read-only`);
    const next: PropertyDef = { ...def };
    if (body.label !== undefined) {
      if (typeof body.label !== 'string' || body.label === '') throw validationError('label must be a non-empty string');
      next.label = body.label;
    }
    if (typeof body.description === 'string') next.description = body.description;
    if (body.groupName !== undefined) {
      if (typeof body.groupName !== 'string') throw validationError('groupName must be a string');
      liveGroup(ctx.portal, type, body.groupName);
      next.groupName = body.groupName;
    }
    if (body.type !== undefined || body.fieldType !== undefined) Object.assign(next, checkTypes(body.type ?? def.type, body.fieldType ?? def.fieldType, ''));
    const options = parseOptions(body.options, '');
    if (options) next.options = options;
    if (typeof body.displayOrder === 'number') next.displayOrder = body.displayOrder;
    if (typeof body.hidden === 'boolean') next.hidden = body.hidden;
    if (typeof body.formField === 'boolean') next.formField = body.formField;
    if (typeof body.calculationFormula === 'string') next.calculationFormula = body.calculationFormula;
    next.updatedAt = ctx.portal.now();
    Object.assign(def, next);
    return { status: 200, body: renderProperty(def) };
  });

  r.crm('DELETE', '/crm/v3/properties/:type/:name', (ctx) => {
    const type = objectType(ctx.params.type as string);
    const def = liveProperty(ctx.portal, type, ctx.params.name as string);
    if (def.hubspotDefined) throw validationError(`Property ${def.name} is defined by HubSpot and cannot be archived`);
    def.archived = true;
    def.archivedAt = ctx.portal.now();
    return { status: 204 };
  });
};
