import { notFound, validationError } from './errors';
import { boolParam, intParam, type Router } from './router';
import type { OwnerDef } from './state';

/** PublicOwner: id string, userId number, createdAt/updatedAt deserialized to Date, type PERSON. */
export const renderOwner = (o: OwnerDef): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    id: o.id, email: o.email, type: 'PERSON', archived: o.archived, teams: [], createdAt: o.createdAt, updatedAt: o.updatedAt,
  };
  if (o.firstName !== undefined) out.firstName = o.firstName;
  if (o.lastName !== undefined) out.lastName = o.lastName;
  if (o.userId !== undefined) {
    out.userId = o.userId;
    out.userIdIncludingInactive = o.userId;
  }
  return out;
};

export const ownerRoutes = (r: Router): void => {
  // The SDK calls `/crm/v3/owners/`; the router ignores the trailing slash.
  r.crm('GET', '/crm/v3/owners', (ctx) => {
    const limit = intParam(ctx.query.get('limit') ?? undefined, 'limit', 100, 500);
    const afterRaw = ctx.query.get('after');
    const offset = afterRaw ? Number(afterRaw) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw validationError(`after must be a cursor from a previous page, got ${JSON.stringify(afterRaw)}`);
    const email = ctx.query.get('email')?.toLowerCase();
    const archived = boolParam(ctx.query, 'archived');
    const all = ctx.portal.owners.filter((o) => o.archived === archived && (email === undefined || o.email.toLowerCase() === email));
    const body: Record<string, unknown> = { results: all.slice(offset, offset + limit).map(renderOwner) };
    if (offset + limit < all.length) {
      const query = new URLSearchParams(ctx.query);
      query.set('after', String(offset + limit));
      body.paging = { next: { after: String(offset + limit), link: `${ctx.baseUrl}/crm/v3/owners/?${query.toString()}` } };
    }
    return { status: 200, body };
  });

  r.crm('GET', '/crm/v3/owners/:ownerId', (ctx) => {
    const idProperty = ctx.query.get('idProperty') ?? 'id';
    if (idProperty !== 'id' && idProperty !== 'userId') throw validationError(`idProperty must be id or userId, got ${JSON.stringify(idProperty)}`);
    const archived = boolParam(ctx.query, 'archived');
    const wanted = ctx.params.ownerId as string;
    const owner = ctx.portal.owners.find((o) => o.archived === archived && (idProperty === 'id' ? o.id === wanted : String(o.userId) === wanted));
    if (!owner) throw notFound(`No owner with ${idProperty} ${wanted}`);
    return { status: 200, body: renderOwner(owner) };
  });
};
