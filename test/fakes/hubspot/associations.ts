import { notFound, standardError, validationError } from './errors';
import { batchEnvelope, batchInputs, intParam, objectType, stringField, type CrmCtx, type Router } from './router';
import { ASSOCIATION_TYPES, defaultAssociationType, type ObjectTypeInfo } from './schema';
import type { Portal } from './state';

const PAGE = 500;
const MAX_READ = 1_000;
const MAX_CREATE = 2_000;

/** AssociationSpecWithLabel list of one pair. */
const specs = (typeIds: number[]): Array<Record<string, unknown>> =>
  typeIds.map((typeId) => ({ category: 'HUBSPOT_DEFINED', typeId, label: ASSOCIATION_TYPES.get(typeId)?.label ?? null }));

/** One page of a record's associations (offset cursor) as MultiAssociatedObjectWithLabel entries. */
const page = (portal: Portal, from: ObjectTypeInfo, id: string, to: ObjectTypeInfo, after: string | undefined, limit: number) => {
  const offset = after === undefined ? 0 : Number(after);
  if (!Number.isInteger(offset) || offset < 0) throw validationError(`after must be a cursor from a previous page, got ${JSON.stringify(after)}`);
  const all = portal.associations(from.name, id, to.name);
  const results = all.slice(offset, offset + limit).map((a) => ({ toObjectId: a.toId, associationTypes: specs(a.typeIds) }));
  const next = offset + limit < all.length ? String(offset + limit) : undefined;
  return { results, next, total: all.length };
};

const requireRecord = (portal: Portal, type: ObjectTypeInfo, id: string): void => {
  if (!portal.find(type.name, id)) throw notFound(`No ${type.singular} with id ${id} exists`);
};

/** The default type both ways, as createDefault answers (PublicDefaultAssociation entries). */
const associateDefault = (portal: Portal, from: ObjectTypeInfo, fromId: string, to: ObjectTypeInfo, toId: string): Array<Record<string, unknown>> => {
  const def = defaultAssociationType(from.name, to.name);
  if (!def) throw validationError(`HubSpot defines no default association from ${from.singular} to ${to.singular}`);
  portal.associate(from.name, fromId, to.name, toId, def.typeId);
  return [
    { from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: def.typeId } },
    { from: { id: toId }, to: { id: fromId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: def.reverse } },
  ];
};

/** Checks AssociationSpec[] for a pair and returns the type ids. */
const parseSpecs = (raw: unknown, from: ObjectTypeInfo, to: ObjectTypeInfo, where: string): number[] => {
  if (!Array.isArray(raw) || raw.length === 0) throw validationError(`${where} must be a non-empty array of {associationCategory, associationTypeId}`);
  return raw.map((s: unknown, i) => {
    const spec = (s ?? {}) as { associationCategory?: unknown; associationTypeId?: unknown };
    const def = ASSOCIATION_TYPES.get(Number(spec.associationTypeId));
    if (!def || def.from !== from.name || def.to !== to.name || spec.associationCategory !== 'HUBSPOT_DEFINED') {
      throw validationError(`${where}[${i}]: ${JSON.stringify(spec.associationCategory)}/${JSON.stringify(spec.associationTypeId)} is not an association type from ${from.singular} to ${to.singular}`);
    }
    return def.typeId;
  });
};

const labelsBetween = (from: ObjectTypeInfo, fromId: string, to: ObjectTypeInfo, toId: string, typeIds: number[]): Record<string, unknown> => ({
  fromObjectTypeId: from.objectTypeId, fromObjectId: fromId, toObjectTypeId: to.objectTypeId, toObjectId: toId,
  labels: typeIds.map((t) => ASSOCIATION_TYPES.get(t)?.label).filter((l): l is string => typeof l === 'string'),
});

const pair = (ctx: CrmCtx, fromKey: string, toKey: string): [ObjectTypeInfo, ObjectTypeInfo] =>
  [objectType(ctx.params[fromKey] as string), objectType(ctx.params[toKey] as string)];

export const associationRoutes = (r: Router): void => {
  r.crm('PUT', '/crm/v4/objects/:from/:id/associations/default/:to/:toId', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const fromId = ctx.params.id as string;
    const toId = ctx.params.toId as string;
    requireRecord(ctx.portal, from, fromId);
    requireRecord(ctx.portal, to, toId);
    const started = new Date().toISOString();
    return batchEnvelope(started, associateDefault(ctx.portal, from, fromId, to, toId), []);
  });

  r.crm('PUT', '/crm/v4/objects/:from/:id/associations/:to/:toId', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const fromId = ctx.params.id as string;
    const toId = ctx.params.toId as string;
    const typeIds = parseSpecs(ctx.body, from, to, 'body');
    requireRecord(ctx.portal, from, fromId);
    requireRecord(ctx.portal, to, toId);
    for (const typeId of typeIds) ctx.portal.associate(from.name, fromId, to.name, toId, typeId);
    return { status: 201, body: labelsBetween(from, fromId, to, toId, typeIds) };
  });

  r.crm('DELETE', '/crm/v4/objects/:from/:id/associations/:to/:toId', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    ctx.portal.unassociate(from.name, ctx.params.id as string, to.name, ctx.params.toId as string);
    return { status: 204 };
  });

  r.crm('GET', '/crm/v4/objects/:from/:id/associations/:to', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const id = ctx.params.id as string;
    requireRecord(ctx.portal, from, id);
    const limit = intParam(ctx.query.get('limit') ?? undefined, 'limit', PAGE, PAGE);
    const p = page(ctx.portal, from, id, to, ctx.query.get('after') ?? undefined, limit);
    const body: Record<string, unknown> = { results: p.results };
    if (p.next !== undefined) {
      const query = new URLSearchParams(ctx.query);
      query.set('after', p.next);
      body.paging = { next: { after: p.next, link: `${ctx.baseUrl}${ctx.path}?${query.toString()}` } };
    }
    return { status: 200, body };
  });

  // Inputs with no association of the asked type come back in errors (207), as HubSpot reports them.
  r.crm('POST', '/crm/v4/associations/:from/:to/batch/read', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const started = new Date().toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    batchInputs(ctx.body, MAX_READ).forEach((input, i) => {
      const id = stringField(input.id, `inputs[${i}].id`);
      const p = page(ctx.portal, from, id, to, typeof input.after === 'string' ? input.after : undefined, PAGE);
      if (p.total === 0) {
        errors.push({ ...standardError('OBJECT_NOT_FOUND', `No ${to.name} are associated with ${from.singular} ${id}.`, { fromObjectId: [id] }),
          subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND' });
        return;
      }
      const entry: Record<string, unknown> = { from: { id }, to: p.results };
      if (p.next !== undefined) entry.paging = { next: { after: p.next } };
      results.push(entry);
    });
    return batchEnvelope(started, results, errors);
  });

  r.crm('POST', '/crm/v4/associations/:from/:to/batch/associate/default', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const started = new Date().toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    batchInputs(ctx.body, MAX_CREATE).forEach((input, i) => {
      const fromId = stringField((input.from as { id?: unknown } | undefined)?.id, `inputs[${i}].from.id`);
      const toId = stringField((input.to as { id?: unknown } | undefined)?.id, `inputs[${i}].to.id`);
      const missing = [[from, fromId], [to, toId]].filter(([t, id]) => !ctx.portal.find((t as ObjectTypeInfo).name, id as string));
      if (missing.length > 0) {
        errors.push(standardError('OBJECT_NOT_FOUND', `No ${missing.map(([t, id]) => `${(t as ObjectTypeInfo).singular} ${id as string}`).join(' and no ')} exists.`,
          { ids: missing.map(([, id]) => id as string) }));
        return;
      }
      results.push(...associateDefault(ctx.portal, from, fromId, to, toId));
    });
    return batchEnvelope(started, results, errors);
  });

  r.crm('POST', '/crm/v4/associations/:from/:to/batch/create', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    const started = new Date().toISOString();
    const results: unknown[] = [];
    const errors: unknown[] = [];
    batchInputs(ctx.body, MAX_CREATE).forEach((input, i) => {
      const fromId = stringField((input.from as { id?: unknown } | undefined)?.id, `inputs[${i}].from.id`);
      const toId = stringField((input.to as { id?: unknown } | undefined)?.id, `inputs[${i}].to.id`);
      const typeIds = parseSpecs(input.types, from, to, `inputs[${i}].types`);
      if (!ctx.portal.find(from.name, fromId) || !ctx.portal.find(to.name, toId)) {
        errors.push(standardError('OBJECT_NOT_FOUND', `No ${from.singular} ${fromId} or no ${to.singular} ${toId} exists.`, { ids: [fromId, toId] }));
        return;
      }
      for (const typeId of typeIds) ctx.portal.associate(from.name, fromId, to.name, toId, typeId);
      results.push(labelsBetween(from, fromId, to, toId, typeIds));
    });
    const env = batchEnvelope(started, results, errors);
    return { status: errors.length > 0 ? 207 : 201, body: env.body };
  });

  r.crm('POST', '/crm/v4/associations/:from/:to/batch/archive', (ctx) => {
    const [from, to] = pair(ctx, 'from', 'to');
    batchInputs(ctx.body, MAX_CREATE).forEach((input, i) => {
      const fromId = stringField((input.from as { id?: unknown } | undefined)?.id, `inputs[${i}].from.id`);
      const targets = Array.isArray(input.to) ? input.to : [];
      for (const t of targets) ctx.portal.unassociate(from.name, fromId, to.name, stringField((t as { id?: unknown }).id, `inputs[${i}].to[].id`));
    });
    return { status: 204 };
  });
};
