import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { today } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { addDays } from '../../src/domain/calendar';
import { setCompanyLink } from '../../src/hubspot/links';
import { loadDemo } from '../../src/services/demo';
import { ensurePortal } from '../../src/store/facts';
import { openStore, storeOptionsFrom, type Store } from '../../src/store/store';
import { runCli, tempDir } from '../helpers/cli';

// `arbridge help-requests …` and `arbridge escalation except` in-process against an on-disk PGlite store.

const PORTAL = 1;
const COMPANY = '7300001';
const DEAL = '8300001';
const USER = 'sam.ar@example.com';

describe('arbridge help-requests and escalation except', () => {
  const cwd = tempDir();
  const env = { ARBRIDGE_USER: USER };
  const TODAY = today();
  let customerId: number;
  let customerRef: string;

  /** Opens the CLI's store for a moment (one PGlite process at a time). */
  const withStore = async <T>(work: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openStore(storeOptionsFrom(loadConfig({ ARBRIDGE_DATA_DIR: path.join(cwd, '.arbridge-data') })));
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  const run = (args: string[]) => runCli(args, { cwd, env });

  beforeAll(async () => {
    await withStore(async ({ db }) => {
      await ensurePortal(db, PORTAL);
      await loadDemo(db, PORTAL, { customers: 3, invoices: 30, seed: 5, endDate: TODAY });
      const customer = await db.selectFrom('customers').select(['id', 'external_id']).where('portal_id', '=', PORTAL).orderBy('id').executeTakeFirstOrThrow();
      customerId = Number(customer.id);
      customerRef = customer.external_id;
      await setCompanyLink(db, PORTAL, { customerId: String(customer.id), companyId: COMPANY, method: 'manual', linkedBy: USER });
      await db.insertInto('hubspot_companies').values({ portal_id: PORTAL, company_id: COMPANY, name: 'Acme', owner_id: '601' }).execute();
      await db.insertInto('hubspot_deals').values({ portal_id: PORTAL, deal_id: DEAL, name: 'Renewal', company_id: COMPANY, owner_id: '602' }).execute();
    });
  });

  it('creates help requests on a company and a deal, lists them, and moves one on', async () => {
    const by = addDays(TODAY, 3);
    const company = await run(['help-requests', 'create', '--company', COMPANY, '--needed', 'Ask their CFO about the March invoices', '--by', by]);
    expect(company).toMatchObject({ code: 0, stderr: '' });
    expect(company.stdout).toMatch(new RegExp(`^help request (\\d+): asked owner 601 by ${by} \\(SLA \\d{4}-\\d{2}-\\d{2}\\); the HubSpot task is sent with the next round\\n$`));
    const companyId = /help request (\d+)/.exec(company.stdout)![1]!;
    const deal = await run(['help-requests', 'create', '--deal', DEAL, '--needed', 'Signed change order', '--by', by]);
    expect(deal.code).toBe(0);
    expect(deal.stdout).toContain('asked owner 602');
    const dealId = /help request (\d+)/.exec(deal.stdout)![1]!;

    const json = await run(['help-requests', 'list', '--format', 'json']);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { id: string; object_type: string; object_id: string; status: string; sla: string; requested_by: string; task: { status: string } }[];
    expect(listed.map((r) => [r.id, r.object_type, r.object_id, r.status, r.sla, r.requested_by, r.task.status])).toEqual([
      [dealId, 'deal', DEAL, 'open', 'within', USER, 'pending'],
      [companyId, 'company', COMPANY, 'open', 'within', USER, 'pending'],
    ]);

    expect(await run(['help-requests', 'status', companyId, 'accepted'])).toEqual({ code: 0, stdout: `help request ${companyId}: accepted\n`, stderr: '' });
    expect(await run(['help-requests', 'status', companyId, 'done'])).toEqual({ code: 0, stdout: `help request ${companyId}: done\n`, stderr: '' });

    const table = await run(['help-requests', 'list', '--status', 'done']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+RECORD\s+STATUS\s+SLA\s+NEEDED BY\s+OWNER\s+TASK\s+NEEDED$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${companyId}\\s+company ${COMPANY}\\s+done\\s+answered\\s+${by}\\s+601\\s+pending\\s+Ask their CFO about the March invoices$`));
    expect((await run(['help-requests', 'list', '--status', 'declined'])).stdout).toBe('no help requests\n');

    const stored = await withStore(({ db }) => db.selectFrom('help_requests').select(['id', 'status', 'status_by']).orderBy('id').execute());
    expect(stored.map((r) => [String(r.id), r.status, r.status_by])).toEqual([[companyId, 'done', USER], [dealId, 'open', null]]);
  });

  it('refuses what the service refuses with exit 1, naming the field, and bad usage with exit 2', async () => {
    const past = await run(['help-requests', 'create', '--company', COMPANY, '--needed', 'x', '--by', '2020-01-01']);
    expect(past.code).toBe(1);
    expect(past.stderr).toBe('arbridge: neededBy 2020-01-01 is in the past (neededBy: must not be in the past)\n');
    const unknown = await run(['help-requests', 'create', '--deal', '999', '--needed', 'x', '--by', addDays(TODAY, 1)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('(objectId: not a known deal)');
    const back = await run(['help-requests', 'status', '1', 'accepted']);
    expect(back.code).toBe(1);
    expect(back.stderr).toBe('arbridge: Help request 1 is done; it cannot become accepted (status: cannot go from done to accepted)\n');
    expect((await run(['help-requests', 'status', '999999', 'done'])).code).toBe(1);

    expect((await run(['help-requests', 'create', '--company', COMPANY, '--deal', DEAL, '--needed', 'x', '--by', TODAY])).code).toBe(2);
    expect((await run(['help-requests', 'create', '--needed', 'x', '--by', TODAY])).code).toBe(2);
    expect((await run(['help-requests', 'create', '--company', COMPANY, '--needed', 'x', '--by', '30/06/2026'])).code).toBe(2);
    expect((await run(['help-requests', 'status', '1', 'open'])).code).toBe(2);
    expect((await run(['help-requests', 'list', '--status', 'closed'])).code).toBe(2);
    expect((await run(['escalation', 'except', '--customer', String(customerId), '--reason', 'r', '--until', TODAY, '--actions', 'reminder,nap'])).code).toBe(2);
    const noWhen = await run(['escalation', 'except', '--customer', String(customerId), '--reason', 'r']);
    expect(noWhen.code).toBe(2);
    expect(noWhen.stderr).toContain('--until');
  });

  it('records an escalation exception by ARBridge or accounting customer id', async () => {
    const until = addDays(TODAY, 30);
    const all = await run(['escalation', 'except', '--customer', String(customerId), '--reason', 'Paying in instalments agreed with their CFO', '--until', until]);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toMatch(new RegExp(`^escalation exception \\d+: customer ${customerId} held until ${until} \\(all steps\\)\\n$`));
    const some = await run(['escalation', 'except', '--customer', customerRef, '--reason', 'Disputed invoice', '--until', until, '--actions', 'ask_rep,credit_hold']);
    expect(some.code).toBe(0);
    expect(some.stdout).toContain('(ask_rep, credit_hold)');
    const stored = await withStore(({ db }) => db.selectFrom('escalation_exceptions').select(['customer_id', 'reason', 'until', 'actions', 'created_by']).orderBy('id').execute());
    expect(stored.map((r) => [Number(r.customer_id), r.reason, r.until, r.actions, r.created_by])).toEqual([
      [customerId, 'Paying in instalments agreed with their CFO', until, null, USER],
      [customerId, 'Disputed invoice', until, ['ask_rep', 'credit_hold'], USER],
    ]);
    const past = await run(['escalation', 'except', '--customer', String(customerId), '--reason', 'r', '--until', '2020-01-01']);
    expect(past).toMatchObject({ code: 1, stderr: 'arbridge: until 2020-01-01 is in the past (until: must not be in the past)\n' });
    const nobody = await run(['escalation', 'except', '--customer', 'NOPE-1', '--reason', 'r', '--until', until]);
    expect(nobody).toMatchObject({ code: 1, stderr: `arbridge: --customer: no customer NOPE-1 in portal ${PORTAL}\n` });
  });
});
