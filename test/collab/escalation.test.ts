import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { parsePolicy } from '../../src/domain/policy';
import { setCompanyLink } from '../../src/hubspot/links';
import { addEscalationException, escalationSteps, runEscalationLadder } from '../../src/services/escalation';
import { ensurePortal, idsByExternalId, upsertCustomers, upsertInvoices } from '../../src/store/facts';
import { savePolicy } from '../../src/store/policies';
import type { Store } from '../../src/store/store';
import { describeEachStore, openTestStore } from '../helpers/stores';

const PORTAL = 7_630;

describeEachStore('the escalation ladder on the store', (backend) => {
  let store: Store;
  let acme: number;
  let beta: number;

  const invoice = (id: string, customerId: string, dueDate: string) => ({
    id, number: id, customerId, currency: 'USD', totalMinor: 100_000, issueDate: '2026-01-01', dueDate, voidedDate: null, disputed: false,
    salesRep: null, product: null, dealId: null, terms: null,
  });

  beforeAll(async () => {
    store = await openTestStore(backend);
    const db = store.db;
    await ensurePortal(db, PORTAL);
    await upsertCustomers(db, PORTAL, 'csv', [
      { id: 'AC', name: 'Acme', domain: null, industry: null, country: null },
      { id: 'BE', name: 'Beta', domain: null, industry: null, country: null },
    ]);
    await upsertInvoices(db, PORTAL, 'csv', [invoice('A-1', 'AC', '2026-03-01'), invoice('B-1', 'BE', '2026-03-01')]);
    const ids = await idsByExternalId(db, 'customers', PORTAL, 'csv', ['AC', 'BE']);
    acme = ids.get('AC') as number;
    beta = ids.get('BE') as number;
    await setCompanyLink(db, PORTAL, { customerId: String(acme), companyId: '9100', method: 'name', detail: 'acme' });
    await db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: '9100', name: 'Acme', owner_id: '501' }).execute();
    await savePolicy(db, PORTAL, parsePolicy({ escalation: { escalateToOwnerId: '900' } }));
  });
  afterAll(async () => store.close());

  const log = async (customerId: number) => (await store.db.selectFrom('communication_log').select(['kind', 'summary', 'status', 'author'])
    .where('customer_id', '=', customerId).where('kind', '=', 'escalation').orderBy('id').execute());

  it('walks one account up the ladder, each step once, recorded with who and when', async () => {
    // 7 days: a reminder is logged.
    expect(await runEscalationLadder(store.db, PORTAL, '2026-03-08')).toMatchObject({ taken: 2, helpRequests: 0 });
    expect(await runEscalationLadder(store.db, PORTAL, '2026-03-08')).toMatchObject({ taken: 0 });
    expect((await log(acme)).map((e) => e.status)).toEqual(['reminder']);
    // 30 days: the owner of the linked company is asked for help (one help request + task intent).
    expect(await runEscalationLadder(store.db, PORTAL, '2026-03-31')).toMatchObject({ taken: 2, helpRequests: 1 });
    const requests = await store.db.selectFrom('help_requests').selectAll().where('portal_id', '=', PORTAL).execute();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ customer_id: acme, company_id: '9100', owner_id: '501', requested_by: 'escalation ladder', needed_by: '2026-04-02' });
    expect(requests[0]?.needed).toContain('A-1 (due 2026-03-01)');
    // Beta has no HubSpot company: the step is recorded and logged, no request.
    expect((await log(beta)).map((e) => e.summary)).toEqual([
      'Payment reminder due (7+ days past due): B-1 (due 2026-03-01)', 'Owner asked for help (30+ days past due): B-1 (due 2026-03-01) (no HubSpot owner to ask)',
    ]);
    // 60 days: a task for the escalation user; 90 days: credit hold flagged.
    await runEscalationLadder(store.db, PORTAL, '2026-04-30');
    const tasks = await store.db.selectFrom('hubspot_tasks').select(['purpose', 'owner_id', 'company_id']).where('portal_id', '=', PORTAL).orderBy('id').execute();
    expect(tasks).toEqual([
      { purpose: 'help_request', owner_id: '501', company_id: '9100' },
      { purpose: 'escalation', owner_id: '900', company_id: '9100' },
    ]);
    await runEscalationLadder(store.db, PORTAL, '2026-05-30');
    expect((await escalationSteps(store.db, PORTAL, acme)).map((s) => [s.action, s.taken_on, s.taken_by, s.days_past_due])).toEqual([
      ['credit_hold', '2026-05-30', 'escalation ladder', 90], ['escalate_manager', '2026-04-30', 'escalation ladder', 60],
      ['ask_rep', '2026-03-31', 'escalation ladder', 30], ['reminder', '2026-03-08', 'escalation ladder', 7],
    ]);
    expect((await log(acme)).map((e) => e.status)).toEqual(['reminder', 'ask_rep', 'escalate_manager', 'credit_hold']);
  });

  it('holds a customer\'s steps under an exception until its end date, then takes the level reached', async () => {
    await upsertInvoices(store.db, PORTAL, 'csv', [invoice('B-2', 'BE', '2026-06-01')]);
    await addEscalationException(store.db, PORTAL, { customerId: beta, reason: 'Payment plan agreed with the CFO', until: '2026-07-15', actions: null, by: 'anna@example.com' }, '2026-06-02');
    expect(await runEscalationLadder(store.db, PORTAL, '2026-07-15')).toMatchObject({ taken: 0, held: 1 }); // B-2 (44 days, ask_rep); B-1's credit hold is taken already
    const after = await runEscalationLadder(store.db, PORTAL, '2026-07-16');
    expect(after).toMatchObject({ taken: 1, held: 0 }); // B-2 reached ask_rep (45 days); B-1's credit hold was taken on 05-30
    await expect(addEscalationException(store.db, PORTAL, { customerId: beta, reason: 'x', until: '2026-01-01', actions: null, by: null }, '2026-06-02'))
      .rejects.toMatchObject({ details: { fields: { until: ['must not be in the past'] } } });
  });
});
