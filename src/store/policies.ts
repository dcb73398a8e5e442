import { DEFAULT_POLICY, parsePolicy, type Policy } from '../domain/policy';
import { touchPortal } from './facts';
import type { Executor } from './facts';

/** The portal's policy, or the documented defaults when it has none. */
export const loadPolicy = async (db: Executor, portalId: number): Promise<Policy> => {
  const row = await db.selectFrom('policies').select('policy').where('portal_id', '=', portalId).executeTakeFirst();
  return row ? parsePolicy(row.policy) : DEFAULT_POLICY;
};

export const savePolicy = async (db: Executor, portalId: number, policy: Policy): Promise<void> => {
  const value = JSON.stringify(parsePolicy(policy));
  await db.insertInto('policies').values({ portal_id: portalId, policy: value })
    .onConflict((oc) => oc.column('portal_id').doUpdateSet({ policy: value, updated_at: new Date() })).execute();
  await touchPortal(db, portalId);
};
