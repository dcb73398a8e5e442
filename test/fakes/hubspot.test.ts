import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { AssociationSpecAssociationCategoryEnum as V4Category } from '@hubspot/api-client/lib/codegen/crm/associations/v4';
import { FilterOperatorEnum, AssociationSpecAssociationCategoryEnum as V3Category } from '@hubspot/api-client/lib/codegen/crm/companies';
import {
  PropertyCreateFieldTypeEnum as FieldType, PropertyCreateTypeEnum as PropType,
} from '@hubspot/api-client/lib/codegen/crm/properties';
import { hubspotClient } from '../../src/hubspot/client';
import { startFakeHubSpot, type FakeHubSpot, type FakeHubSpotOptions } from './hubspot';

const A = 101;
const B = 202;
const TOKEN_A = 'pat-na1-portal-a';
const TOKEN_B = 'pat-na1-portal-b';

type Failure = { code: number; body: Record<string, unknown>; headers: Record<string, string> };

/** The ApiException a call ends with (fails the test when it succeeds). */
const failure = async (call: Promise<unknown>): Promise<Failure> => {
  try {
    await call;
  } catch (e) {
    const f = e as Failure;
    if (typeof f.code !== 'number') throw e;
    return f;
  }
  throw new Error('the call succeeded; a failure was expected');
};

let fake: FakeHubSpot;

const start = async (options: FakeHubSpotOptions = {}): Promise<void> => {
  fake = await startFakeHubSpot(options);
  fake.addPortal(A, { privateToken: TOKEN_A, hubDomain: 'a.example.com' });
  fake.addPortal(B, { privateToken: TOKEN_B });
};

const clientA = () => hubspotClient(TOKEN_A, fake.url);
const clientB = () => hubspotClient(TOKEN_B, fake.url);

afterEach(async () => {
  await fake.close();
});

describe('objects (v3)', () => {
  beforeEach(() => start());

  it('creates, reads, updates and archives a company with fully populated models', async () => {
    const hs = clientA();
    const created = await hs.crm.companies.basicApi.create({ properties: { name: 'Acme', domain: 'acme.test' }, associations: [] });
    expect(typeof created.id).toBe('string');
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.updatedAt).toBeInstanceOf(Date);
    expect(created.archived).toBe(false);
    expect(created.properties).toMatchObject({ name: 'Acme', domain: 'acme.test', hs_object_id: created.id });
    expect(typeof created.properties.createdate).toBe('string');

    const read = await hs.crm.companies.basicApi.getById(created.id, ['name', 'industry', 'no_such_property']);
    expect(Object.keys(read.properties).sort()).toEqual(['createdate', 'hs_lastmodifieddate', 'hs_object_id', 'industry', 'name']);
    expect(read.properties.industry).toBeNull();
    expect(read.properties.createdate).toBe(created.createdAt.toISOString());

    const defaults = await hs.crm.companies.basicApi.getById(created.id);
    expect(Object.keys(defaults.properties).sort()).toEqual(['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name']);

    const updated = await hs.crm.companies.basicApi.update(created.id, { properties: { industry: 'RETAIL', annualrevenue: '1200.50' } });
    expect(updated.properties.annualrevenue).toBe('1200.50');
    expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(updated.properties.hs_lastmodifieddate).toBe(updated.updatedAt.toISOString());

    const withHistory = await hs.crm.companies.basicApi.getById(created.id, ['industry'], ['industry']);
    expect(withHistory.propertiesWithHistory?.industry?.[0]).toMatchObject({ value: 'RETAIL', sourceType: 'API' });
    expect(withHistory.propertiesWithHistory?.industry?.[0]?.timestamp).toBeInstanceOf(Date);

    await hs.crm.companies.basicApi.archive(created.id);
    const gone = await failure(hs.crm.companies.basicApi.getById(created.id));
    expect(gone.code).toBe(404);
    expect(gone.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    const archived = await hs.crm.companies.basicApi.getById(created.id, undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
    expect(archived.archivedAt).toBeInstanceOf(Date);
    expect(fake.getObject(A, 'companies', created.id)?.archived).toBe(true);
  });

  it('moves hs_lastmodifieddate only when a value changes', async () => {
    const hs = clientA();
    const id = fake.createObject(A, 'deals', { dealname: 'Renewal', amount: '100' });
    const before = fake.getObject(A, 'deals', id);
    await hs.crm.deals.basicApi.update(id, { properties: { amount: '100', dealname: 'Renewal' } });
    expect(fake.getObject(A, 'deals', id)?.properties.hs_lastmodifieddate).toBe(before?.properties.hs_lastmodifieddate);
    await hs.crm.deals.basicApi.update(id, { properties: { amount: '101' } });
    const after = fake.getObject(A, 'deals', id);
    expect(after?.properties.hs_lastmodifieddate).not.toBe(before?.properties.hs_lastmodifieddate);
    expect(Date.parse(after?.updatedAt ?? '')).toBeGreaterThan(Date.parse(before?.updatedAt ?? ''));
  });

  it('pages a list with after cursors and links, and lists associations', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => fake.createObject(A, 'companies', { name: `Co ${i}` }));
    const deal = fake.createObject(A, 'deals', { dealname: 'D' });
    fake.associate(A, 'deals', deal, 'companies', ids[0] as string, 5);
    const hs = clientA();
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await hs.crm.companies.basicApi.getPage(10, after, ['name'], undefined, ['deals']);
      pages += 1;
      seen.push(...page.results.map((r) => r.id));
      after = page.paging?.next?.after;
      if (after) expect(page.paging?.next?.link).toContain(`after=${after}`);
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    const first = await hs.crm.companies.basicApi.getById(ids[0] as string, ['name'], undefined, ['deals']);
    expect(first.associations?.deals?.results).toEqual([
      { id: deal, type: 'company_to_deal' }, { id: deal, type: 'company_to_deal_unlabeled' },
    ]);
    const other = await hs.crm.companies.basicApi.getById(ids[1] as string, ['name'], undefined, ['deals']);
    expect(other.associations).toBeUndefined();
  });

  it('refuses unknown properties, read-only values and bad option values with HubSpot validation errors', async () => {
    const hs = clientA();
    const id = fake.createObject(A, 'companies', { name: 'Acme' });
    const unknown = await failure(hs.crm.companies.basicApi.update(id, { properties: { ar_balance: '12' } }));
    expect(unknown.code).toBe(400);
    expect(unknown.body.category).toBe('VALIDATION_ERROR');
    expect(unknown.body.message).toMatch(/^Property values were not valid: .*PROPERTY_DOESNT_EXIST/);
    expect(unknown.body.message).toContain('ar_balance');
    const readOnly = await failure(hs.crm.companies.basicApi.update(id, { properties: { hs_object_id: '5' } }));
    expect(readOnly.body.message).toContain('READ_ONLY_VALUE');
    const option = await failure(hs.crm.deals.basicApi.create({ properties: { dealname: 'X', dealstage: 'nonsense' } }));
    expect(option.body.message).toContain('INVALID_OPTION');
    const number = await failure(hs.crm.deals.basicApi.create({ properties: { dealname: 'X', amount: '12,5' } }));
    expect(number.body.message).toContain('amount');
    const padded = await failure(hs.crm.deals.basicApi.create({ properties: { dealname: 'X', amount: '12 ' } }));
    expect(padded.body.message).toContain('LEADING_TRAILING_WHITESPACE');
    expect(fake.objects(A, 'deals')).toHaveLength(0);
  });

  it('serves invoices, tasks and notes, with associations on create', async () => {
    const hs = clientA();
    const company = fake.createObject(A, 'companies', { name: 'Acme' });
    const deal = fake.createObject(A, 'deals', { dealname: 'D' });
    const invoice = await hs.crm.commerce.invoices.basicApi.create({
      properties: { hs_invoice_status: 'open', hs_amount_billed: '250.00', hs_balance_due: '250', hs_due_date: '2024-07-31', hs_currency: 'USD' },
      associations: [
        { to: { id: company }, types: [{ associationCategory: V3Category.HubspotDefined, associationTypeId: 179 }] },
        { to: { id: deal }, types: [{ associationCategory: V3Category.HubspotDefined, associationTypeId: 175 }] },
      ],
    });
    expect(invoice.properties).toMatchObject({ hs_amount_billed: '250.00', hs_due_date: '2024-07-31', hs_invoice_status: 'open' });
    const invoiceRead = await hs.crm.commerce.invoices.basicApi.getById(invoice.id, ['hs_balance_due'], undefined, ['companies', 'deals']);
    expect(invoiceRead.properties.hs_createdate).toBe(invoice.createdAt.toISOString());
    expect(invoiceRead.associations?.companies?.results).toEqual([{ id: company, type: 'invoice_to_company' }]);
    expect(fake.associations(A, 'companies', company, 'invoices')).toEqual([{ toId: invoice.id, typeIds: [180] }]);

    const task = await hs.crm.objects.tasks.basicApi.create({
      properties: { hs_task_subject: 'Call about invoice', hs_timestamp: '2024-07-01T09:00:00Z', hs_task_status: 'NOT_STARTED', hs_task_priority: 'HIGH' },
      associations: [{ to: { id: company }, types: [{ associationCategory: V3Category.HubspotDefined, associationTypeId: 192 }] }],
    });
    expect(task.properties.hs_timestamp).toBe('2024-07-01T09:00:00.000Z');
    const byGeneric = await hs.crm.objects.basicApi.getById('0-27', task.id, ['hs_task_subject']);
    expect(byGeneric.properties.hs_task_subject).toBe('Call about invoice');

    const noteWithoutTime = await failure(hs.crm.objects.notes.basicApi.create({ properties: { hs_note_body: 'x' }, associations: [] }));
    expect(noteWithoutTime.code).toBe(400);
    expect(noteWithoutTime.body.message).toContain('hs_timestamp');
    const note = await hs.crm.objects.notes.basicApi.create({
      properties: { hs_note_body: 'Promised to pay', hs_timestamp: String(Date.UTC(2024, 6, 2)) },
      associations: [{ to: { id: deal }, types: [{ associationCategory: V3Category.HubspotDefined, associationTypeId: 214 }] }],
    });
    expect(note.properties.hs_timestamp).toBe('2024-07-02T00:00:00.000Z');
    const fromCompany = await hs.crm.companies.basicApi.getById(company, undefined, undefined, ['tasks', 'notes']);
    expect(fromCompany.associations?.tasks?.results).toEqual([{ id: task.id, type: 'company_to_task' }]);
    expect(fromCompany.associations?.notes).toBeUndefined();
    const badType = await failure(hs.crm.objects.tasks.basicApi.create({
      properties: { hs_timestamp: '2024-07-01T09:00:00Z' },
      associations: [{ to: { id: company }, types: [{ associationCategory: V3Category.HubspotDefined, associationTypeId: 216 }] }],
    }));
    expect(badType.code).toBe(400);
  });
});

describe('batch endpoints', () => {
  beforeEach(() => start());

  it('reads, creates, updates, upserts and archives in batches', async () => {
    const hs = clientA();
    const created = await hs.crm.companies.batchApi.create({
      inputs: [{ properties: { name: 'One' }, associations: [] }, { properties: { name: 'Two', domain: 'two.test' }, associations: [] }],
    });
    expect(created.status).toBe('COMPLETE');
    expect(created.startedAt).toBeInstanceOf(Date);
    expect(created.completedAt).toBeInstanceOf(Date);
    expect(created.results.map((r) => r.properties.name)).toEqual(['One', 'Two']);
    const [one, two] = created.results.map((r) => r.id) as [string, string];

    const read = await hs.crm.companies.batchApi.read({ inputs: [{ id: one }, { id: '999999' }, { id: two }], properties: ['domain'], propertiesWithHistory: [] });
    expect(read.results.map((r) => r.id)).toEqual([one, two]);
    expect(read.results[1]?.properties.domain).toBe('two.test');
    expect('errors' in read && read.errors?.[0]).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['999999'] } });
    expect('numErrors' in read && read.numErrors).toBe(1);

    const updated = await hs.crm.companies.batchApi.update({
      inputs: [{ id: one, properties: { country: 'France' } }, { id: '424242', properties: { country: 'Spain' } }],
    });
    expect(updated.results.map((r) => r.id)).toEqual([one]);
    expect('errors' in updated && updated.errors?.[0]?.context).toEqual({ ids: ['424242'] });
    expect(fake.getObject(A, 'companies', one)?.properties.country).toBe('France');

    const dup = await failure(hs.crm.companies.batchApi.update({ inputs: [{ id: one, properties: { country: 'A' } }, { id: one, properties: { country: 'B' } }] }));
    expect(dup.code).toBe(400);
    expect(dup.body.message).toContain('Duplicate IDs');

    await hs.crm.properties.coreApi.create('companies', {
      name: 'acct_customer_id', label: 'Accounting customer id', type: PropType.String, fieldType: FieldType.Text,
      groupName: 'companyinformation', hasUniqueValue: true,
    });
    const first = await hs.crm.companies.batchApi.upsert({ inputs: [
      { id: 'C-1', idProperty: 'acct_customer_id', properties: { name: 'Upserted' } },
      { id: 'C-2', idProperty: 'acct_customer_id', properties: { name: 'Other' } },
    ] });
    expect(first.results.map((r) => r._new)).toEqual([true, true]);
    expect(first.results[0]?.properties.acct_customer_id).toBe('C-1');
    const second = await hs.crm.companies.batchApi.upsert({ inputs: [{ id: 'C-1', idProperty: 'acct_customer_id', properties: { name: 'Renamed' } }] });
    expect(second.results[0]?._new).toBe(false);
    expect(second.results[0]?.id).toBe(first.results[0]?.id);
    const byUnique = await hs.crm.companies.basicApi.getById('C-1', ['name'], undefined, undefined, false, 'acct_customer_id');
    expect(byUnique.properties.name).toBe('Renamed');
    const notUnique = await failure(hs.crm.companies.batchApi.upsert({ inputs: [{ id: 'x', idProperty: 'name', properties: {} }] }));
    expect(notUnique.body.message).toContain('non-unique');
    const conflict = await failure(hs.crm.companies.basicApi.update(one, { properties: { acct_customer_id: 'C-2' } }));
    expect(conflict.code).toBe(409);

    await hs.crm.companies.batchApi.archive({ inputs: [{ id: one }, { id: two }] });
    expect(fake.objects(A, 'companies').filter((o) => !o.archived).map((o) => o.properties.name).sort()).toEqual(['Other', 'Renamed']);
  });

  it('answers 400 VALIDATION_ERROR to more than 100 inputs and writes nothing on a bad value', async () => {
    const hs = clientA();
    const inputs = Array.from({ length: 101 }, (_, i) => ({ id: String(i + 1) }));
    const tooMany = await failure(hs.crm.deals.batchApi.read({ inputs, properties: [], propertiesWithHistory: [] }));
    expect(tooMany.code).toBe(400);
    expect(tooMany.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    const id = fake.createObject(A, 'deals', { dealname: 'Keep' });
    const bad = await failure(hs.crm.deals.batchApi.update({ inputs: [
      { id, properties: { dealname: 'Changed' } }, { id, idProperty: 'hs_object_id', properties: { unknown_thing: '1' } },
    ] }));
    expect(bad.code).toBe(400);
    expect(fake.getObject(A, 'deals', id)?.properties.dealname).toBe('Keep');
    const tooManyCreates = await failure(hs.crm.deals.batchApi.create({ inputs: Array.from({ length: 101 }, () => ({ properties: {}, associations: [] })) }));
    expect(tooManyCreates.code).toBe(400);
    expect(fake.objects(A, 'deals')).toHaveLength(1);
  });
});

describe('search', () => {
  beforeEach(() => start({ searchRateLimit: null }));

  const seed = (): { company: string; deals: string[] } => {
    const company = fake.createObject(A, 'companies', { name: 'Acme Corp', domain: 'acme.test' });
    const deals = [
      fake.createObject(A, 'deals', { dealname: 'Alpha renewal', amount: '500', dealstage: 'closedwon', closedate: '2024-01-15T00:00:00Z' }),
      fake.createObject(A, 'deals', { dealname: 'Beta upsell', amount: '1500', dealstage: 'closedwon', closedate: '2024-03-01T00:00:00Z' }),
      fake.createObject(A, 'deals', { dealname: 'Gamma new', amount: '90', dealstage: 'contractsent' }),
      fake.createObject(A, 'deals', { dealname: 'Delta', dealstage: 'closedlost' }),
    ];
    fake.associate(A, 'deals', deals[1] as string, 'companies', company);
    return { company, deals };
  };

  it('filters, sorts and pages like HubSpot', async () => {
    const { company, deals } = seed();
    const hs = clientA();
    const won = await hs.crm.deals.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: FilterOperatorEnum.Eq, value: 'closedwon' },
        { propertyName: 'amount', operator: FilterOperatorEnum.Gt, value: '100' }] }],
      sorts: ['-amount'], properties: ['dealname', 'amount'], limit: 1,
    });
    expect(won.total).toBe(2);
    expect(won.results.map((r) => r.properties.dealname)).toEqual(['Beta upsell']);
    expect(Object.keys(won.results[0]?.properties ?? {}).sort()).toEqual(['amount', 'createdate', 'dealname', 'hs_lastmodifieddate', 'hs_object_id']);
    expect(won.results[0]?.createdAt).toBeInstanceOf(Date);
    expect(won.paging?.next?.after).toBe('1');
    const next = await hs.crm.deals.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: FilterOperatorEnum.Eq, value: 'closedwon' }] }],
      sorts: [{ propertyName: 'amount', direction: 'DESCENDING' } as never], limit: 1, after: '1',
    });
    expect(next.results.map((r) => r.id)).toEqual([deals[0]]);
    expect(next.paging).toBeUndefined();

    const search = (filters: object[], extra: object = {}) =>
      hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: filters as never }], ...extra }).then((r) => r.results.map((x) => x.id));
    expect(await search([{ propertyName: 'amount', operator: 'BETWEEN', value: '90', highValue: '500' }])).toEqual([deals[0], deals[2]]);
    expect(await search([{ propertyName: 'dealstage', operator: 'IN', values: ['contractsent', 'closedlost'] }])).toEqual([deals[2], deals[3]]);
    expect(await search([{ propertyName: 'amount', operator: 'NOT_HAS_PROPERTY' }])).toEqual([deals[3]]);
    expect(await search([{ propertyName: 'closedate', operator: 'GTE', value: String(Date.UTC(2024, 1, 1)) }])).toEqual([deals[1]]);
    expect(await search([{ propertyName: 'dealname', operator: 'CONTAINS_TOKEN', value: 'renew*' }])).toEqual([deals[0]]);
    expect(await search([{ propertyName: 'associations.company', operator: 'EQ', value: company }])).toEqual([deals[1]]);
    expect(await search([{ propertyName: 'hs_object_id', operator: 'GT', value: deals[1] }], { sorts: ['hs_object_id'] })).toEqual([deals[2], deals[3]]);
    const either = await hs.crm.deals.searchApi.doSearch({ filterGroups: [
      { filters: [{ propertyName: 'dealstage', operator: FilterOperatorEnum.Eq, value: 'closedlost' }] },
      { filters: [{ propertyName: 'amount', operator: FilterOperatorEnum.Lt, value: '100' }] },
    ] });
    expect(either.results.map((r) => r.id)).toEqual([deals[2], deals[3]]);
    const byQuery = await hs.crm.companies.searchApi.doSearch({ query: 'acme' });
    expect(byQuery.results.map((r) => r.id)).toEqual([company]);
  });

  it('enforces the documented search limits', async () => {
    const hs = clientA();
    const filter = { propertyName: 'amount', operator: FilterOperatorEnum.HasProperty };
    const groups = await failure(hs.crm.deals.searchApi.doSearch({ filterGroups: Array.from({ length: 6 }, () => ({ filters: [filter] })) }));
    expect(groups.code).toBe(400);
    const perGroup = await failure(hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: Array.from({ length: 7 }, () => filter) }] }));
    expect(perGroup.code).toBe(400);
    const total = await failure(hs.crm.deals.searchApi.doSearch({ filterGroups: Array.from({ length: 4 }, () => ({ filters: Array.from({ length: 5 }, () => filter) })) }));
    expect(total.body.message).toContain('18');
    const limit = await failure(hs.crm.deals.searchApi.doSearch({ limit: 201 }));
    expect(limit.code).toBe(400);
    const deep = await failure(hs.crm.deals.searchApi.doSearch({ limit: 100, after: '9950' }));
    expect(deep.body.message).toContain('10000');
    const sorts = await failure(hs.crm.deals.searchApi.doSearch({ sorts: ['amount', 'dealname'] }));
    expect(sorts.code).toBe(400);
    const long = await failure(hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [
      { propertyName: 'dealname', operator: FilterOperatorEnum.In, values: Array.from({ length: 400 }, (_, i) => `deal-${i}`) }] }] }));
    expect(long.body.message).toContain('3000');
    const operator = await failure(hs.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'LIKE' as never }] }] }));
    expect(operator.body.category).toBe('VALIDATION_ERROR');
  });
});

describe('properties and groups', () => {
  beforeEach(() => start());

  it('lists the seeded properties and creates, reads, updates and archives custom ones', async () => {
    const props = clientA().crm.properties;
    const all = await props.coreApi.getAll('companies');
    const name = all.results.find((p) => p.name === 'name');
    expect(name).toMatchObject({ type: 'string', fieldType: 'text', groupName: 'companyinformation', hubspotDefined: true, options: [] });
    expect(name?.modificationMetadata).toMatchObject({ archivable: false, readOnlyValue: false });
    const invoiceProps = await props.coreApi.getAll('invoices');
    expect(invoiceProps.results.map((p) => p.name)).toEqual(expect.arrayContaining([
      'hs_invoice_status', 'hs_amount_billed', 'hs_balance_due', 'hs_amount_paid', 'hs_due_date', 'hs_invoice_date', 'hs_number', 'hs_currency']));

    const group = await props.groupsApi.create('companies', { name: 'arbridge', label: 'ARBridge', displayOrder: 3 });
    expect(group).toMatchObject({ name: 'arbridge', label: 'ARBridge', displayOrder: 3, archived: false });
    const groupAgain = await failure(props.groupsApi.create('companies', { name: 'arbridge', label: 'Again' }));
    expect(groupAgain.code).toBe(409);
    expect((await props.groupsApi.update('companies', 'arbridge', { label: 'AR Bridge' })).label).toBe('AR Bridge');
    expect((await props.groupsApi.getByName('companies', 'arbridge')).label).toBe('AR Bridge');
    expect((await props.groupsApi.getAll('companies')).results.map((g) => g.name)).toEqual(['companyinformation', 'arbridge']);

    const created = await props.coreApi.create('companies', {
      name: 'ar_risk_tier', label: 'AR risk tier', type: PropType.Enumeration, fieldType: FieldType.Select, groupName: 'arbridge',
      options: [{ label: 'A', value: 'A', hidden: false, displayOrder: 0 }, { label: 'B', value: 'B', hidden: false, displayOrder: 1 }],
    });
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.options.map((o) => o.value)).toEqual(['A', 'B']);
    expect(fake.properties(A, 'companies').find((p) => p.name === 'ar_risk_tier')?.groupName).toBe('arbridge');
    expect(fake.properties(B, 'companies').find((p) => p.name === 'ar_risk_tier')).toBeUndefined();

    const conflict = await failure(props.coreApi.create('companies', {
      name: 'ar_risk_tier', label: 'Again', type: PropType.String, fieldType: FieldType.Text, groupName: 'arbridge',
    }));
    expect(conflict.code).toBe(409);
    expect(conflict.body).toMatchObject({ status: 'error', category: 'OBJECT_ALREADY_EXISTS' });
    expect(typeof conflict.body.correlationId).toBe('string');
    const mismatch = await failure(props.coreApi.create('companies', {
      name: 'ar_balance', label: 'Balance', type: PropType.Number, fieldType: FieldType.Text, groupName: 'arbridge',
    }));
    expect(mismatch.code).toBe(400);
    expect(mismatch.body.message).toContain('fieldType');
    const noGroup = await failure(props.coreApi.create('companies', {
      name: 'ar_balance', label: 'Balance', type: PropType.Number, fieldType: FieldType.Number, groupName: 'missing_group',
    }));
    expect(noGroup.body.message).toContain('missing_group');

    const updated = await props.coreApi.update('companies', 'ar_risk_tier', { label: 'Risk tier' });
    expect(updated.label).toBe('Risk tier');
    expect(updated.updatedAt).toBeInstanceOf(Date);
    expect((await props.coreApi.getByName('companies', 'ar_risk_tier')).label).toBe('Risk tier');
    const id = fake.createObject(A, 'companies', { name: 'Acme' });
    await clientA().crm.companies.basicApi.update(id, { properties: { ar_risk_tier: 'B' } });
    expect(fake.getObject(A, 'companies', id)?.properties.ar_risk_tier).toBe('B');

    await props.coreApi.archive('companies', 'ar_risk_tier');
    expect((await failure(props.coreApi.getByName('companies', 'ar_risk_tier'))).code).toBe(404);
    const afterArchive = await failure(clientA().crm.companies.basicApi.update(id, { properties: { ar_risk_tier: 'A' } }));
    expect(afterArchive.body.message).toContain('PROPERTY_DOESNT_EXIST');
  });

  it('batch-creates properties (207 for the taken names) and batch-reads them', async () => {
    const props = clientA().crm.properties;
    const first = await props.batchApi.create('deals', { inputs: [
      { name: 'ar_open_balance', label: 'Open balance', type: PropType.Number, fieldType: FieldType.Number, groupName: 'dealinformation' },
      { name: 'ar_overdue', label: 'Overdue', type: PropType.Bool, fieldType: FieldType.Booleancheckbox, groupName: 'dealinformation' },
    ] });
    expect(first.status).toBe('COMPLETE');
    expect(first.results.map((p) => p.name)).toEqual(['ar_open_balance', 'ar_overdue']);
    expect(first.results[1]?.options.map((o) => o.value)).toEqual(['true', 'false']);
    const again = await props.batchApi.create('deals', { inputs: [
      { name: 'ar_open_balance', label: 'Open balance', type: PropType.Number, fieldType: FieldType.Number, groupName: 'dealinformation' },
      { name: 'ar_last_payment', label: 'Last payment', type: PropType.Date, fieldType: FieldType.Date, groupName: 'dealinformation' },
    ] });
    expect(again.results.map((p) => p.name)).toEqual(['ar_last_payment']);
    expect('errors' in again && again.errors?.[0]).toMatchObject({ category: 'OBJECT_ALREADY_EXISTS', context: { name: ['ar_open_balance'] } });
    const read = await props.batchApi.read('deals', { archived: false, inputs: [{ name: 'ar_overdue' }, { name: 'amount' }] });
    expect(read.results.map((p) => p.name).sort()).toEqual(['amount', 'ar_overdue']);
  });
});

describe('associations (v4)', () => {
  beforeEach(() => start());

  it('creates labelled and default associations both ways and reads them paged', async () => {
    const v4 = clientA().crm.associations.v4;
    const deal = fake.createObject(A, 'deals', { dealname: 'D' });
    const [c1, c2, c3] = ['C1', 'C2', 'C3'].map((name) => fake.createObject(A, 'companies', { name })) as [string, string, string];

    const labelled = await v4.basicApi.create('deals', deal, 'companies', c1, [{ associationCategory: V4Category.HubspotDefined, associationTypeId: 5 }]);
    expect(labelled).toMatchObject({ fromObjectTypeId: '0-3', fromObjectId: deal, toObjectTypeId: '0-2', toObjectId: c1, labels: ['Primary'] });
    const def = await v4.basicApi.createDefault('deals', deal, 'companies', c2);
    expect(def.status).toBe('COMPLETE');
    expect(def.completedAt).toBeInstanceOf(Date);
    expect(def.results.map((r) => [r._from.id, r.to.id, r.associationSpec.associationTypeId])).toEqual([[deal, c2, 341], [c2, deal, 342]]);
    await v4.basicApi.createDefault('deals', deal, 'companies', c3);

    const page = await v4.basicApi.getPage('deals', deal, 'companies', undefined, 2);
    expect(page.results.map((r) => r.toObjectId)).toEqual([c1, c2]);
    expect(page.results[0]?.associationTypes).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 341, label: null },
    ]);
    expect(page.paging?.next?.after).toBeDefined();
    const rest = await v4.basicApi.getPage('deals', deal, 'companies', page.paging?.next?.after, 2);
    expect(rest.results.map((r) => r.toObjectId)).toEqual([c3]);
    expect(rest.paging).toBeUndefined();
    const reverse = await v4.basicApi.getPage('companies', c1, '0-3');
    expect(reverse.results).toEqual([{ toObjectId: deal, associationTypes: [
      { category: 'HUBSPOT_DEFINED', typeId: 6, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 342, label: null }] }]);

    // A new primary replaces the old one.
    await v4.basicApi.create('deals', deal, 'companies', c3, [{ associationCategory: V4Category.HubspotDefined, associationTypeId: 5 }]);
    expect(fake.associations(A, 'deals', deal, 'companies').map((a) => [a.toId, a.typeIds])).toEqual([[c1, [341]], [c2, [341]], [c3, [5, 341]]]);

    await v4.basicApi.archive('deals', deal, 'companies', c2);
    expect(fake.associations(A, 'companies', c2, 'deals')).toEqual([]);
    const wrongType = await failure(v4.basicApi.create('deals', deal, 'companies', c1, [{ associationCategory: V4Category.HubspotDefined, associationTypeId: 192 }]));
    expect(wrongType.code).toBe(400);
    const missing = await failure(v4.basicApi.createDefault('deals', deal, 'companies', '77777777'));
    expect(missing.code).toBe(404);
  });

  it('batch-reads (207 for records without associations) and batch-associates by default', async () => {
    const v4 = clientA().crm.associations.v4;
    const invoices = ['1', '2', '3'].map((n) => fake.createObject(A, 'invoices', { hs_number: n })) as [string, string, string];
    const company = fake.createObject(A, 'companies', { name: 'Acme' });
    const created = await v4.batchApi.createDefault('invoices', 'companies', { inputs: [
      { _from: { id: invoices[0] }, to: { id: company } }, { _from: { id: invoices[1] }, to: { id: company } },
    ] });
    expect(created.results).toHaveLength(4);
    expect(created.results[0]?.associationSpec.associationTypeId).toBe(179);

    const read = await v4.batchApi.getPage('invoices', 'companies', { inputs: invoices.map((id) => ({ id })) });
    expect(read.status).toBe('COMPLETE');
    expect(read.results.map((r) => [r._from.id, r.to.map((t) => t.toObjectId)])).toEqual([[invoices[0], [company]], [invoices[1], [company]]]);
    expect(read.results[0]?.to[0]?.associationTypes).toEqual([{ category: 'HUBSPOT_DEFINED', typeId: 179, label: null }]);
    expect('errors' in read && read.errors?.[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { fromObjectId: [invoices[2]] } });

    const tooMany = await failure(v4.batchApi.getPage('invoices', 'companies', { inputs: Array.from({ length: 1001 }, (_, i) => ({ id: String(i) })) }));
    expect(tooMany.code).toBe(400);
  });
});

describe('owners', () => {
  beforeEach(() => start());

  it('pages owners, filters by email and reads one by id or userId', async () => {
    fake.addOwner(A, { id: '11', email: 'ann@a.example.com', firstName: 'Ann', lastName: 'Lee', userId: 501 });
    fake.addOwner(A, { id: '12', email: 'bob@a.example.com', firstName: 'Bob', userId: 502 });
    fake.addOwner(A, { id: '13', email: 'cy@a.example.com' });
    const owners = clientA().crm.owners.ownersApi;
    const first = await owners.getPage(undefined, undefined, 2);
    expect(first.results.map((o) => o.id)).toEqual(['11', '12']);
    expect(first.results[0]).toMatchObject({ email: 'ann@a.example.com', firstName: 'Ann', lastName: 'Lee', userId: 501, type: 'PERSON', archived: false });
    expect(first.results[0]?.createdAt).toBeInstanceOf(Date);
    const second = await owners.getPage(undefined, first.paging?.next?.after, 2);
    expect(second.results.map((o) => o.id)).toEqual(['13']);
    expect((await owners.getPage('BOB@a.example.com')).results.map((o) => o.id)).toEqual(['12']);
    expect((await owners.getById(11)).email).toBe('ann@a.example.com');
    expect((await owners.getById(502, 'userId')).id).toBe('12');
    expect((await failure(owners.getById(99))).code).toBe(404);
    expect((await clientB().crm.owners.ownersApi.getPage()).results).toEqual([]);
    // hubspot_owner_id takes only the portal's owners.
    const deal = fake.createObject(A, 'deals', { dealname: 'D' });
    await clientA().crm.deals.basicApi.update(deal, { properties: { hubspot_owner_id: '12' } });
    const bad = await failure(clientA().crm.deals.basicApi.update(deal, { properties: { hubspot_owner_id: '99' } }));
    expect(bad.body.message).toContain('INVALID_OPTION');
  });
});

describe('OAuth and authentication', () => {
  const oauthOptions = { clientId: 'cid', clientSecret: 'secret', redirectUri: 'http://127.0.0.1/oauth/hubspot/callback' };
  beforeEach(() => start(oauthOptions));

  it('exchanges a code, introspects, refreshes, expires and revokes tokens', async () => {
    const oauth = hubspotClient('', fake.url).oauth;
    const code = fake.issueAuthorizationCode(303, ['oauth', 'crm.objects.companies.read']);
    const tokens = await oauth.tokensApi.create('authorization_code', code, oauthOptions.redirectUri, 'cid', 'secret');
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 1800 });
    expect(typeof tokens.accessToken).toBe('string');
    expect(typeof tokens.refreshToken).toBe('string');
    expect(fake.requests.at(-1)).toMatchObject({ method: 'POST', path: '/oauth/v1/token', status: 200, portalId: 303 });

    const info = await oauth.accessTokensApi.get(tokens.accessToken);
    expect(info).toMatchObject({ hubId: 303, appId: 1234567, tokenType: 'access', scopes: ['oauth', 'crm.objects.companies.read'], token: tokens.accessToken });
    expect(info.expiresIn).toBeGreaterThan(0);
    expect(typeof info.userId).toBe('number');
    expect(typeof info.hubDomain).toBe('string');

    const company = fake.createObject(303, 'companies', { name: 'Installed' });
    const read = await hubspotClient(tokens.accessToken, fake.url).crm.companies.basicApi.getById(company, ['name']);
    expect(read.properties.name).toBe('Installed');

    const reused = await failure(oauth.tokensApi.create('authorization_code', code, oauthOptions.redirectUri, 'cid', 'secret'));
    expect(reused.code).toBe(400);
    expect(reused.body.status).toBe('BAD_AUTH_CODE');
    const badSecret = await failure(oauth.tokensApi.create('refresh_token', undefined, undefined, 'cid', 'wrong', tokens.refreshToken));
    expect(badSecret.body.status).toBe('BAD_CLIENT_SECRET');
    const badClient = await failure(oauth.tokensApi.create('refresh_token', undefined, undefined, 'other', 'secret', tokens.refreshToken));
    expect(badClient.body.status).toBe('BAD_CLIENT_ID');
    const badRedirect = await failure(oauth.tokensApi.create('authorization_code', fake.issueAuthorizationCode(303), 'http://elsewhere/cb', 'cid', 'secret'));
    expect(badRedirect.body.status).toBe('BAD_REDIRECT_URI');

    fake.expireAccessTokens();
    const expired = await failure(hubspotClient(tokens.accessToken, fake.url).crm.companies.basicApi.getById(company));
    expect(expired.code).toBe(401);
    expect(expired.body).toMatchObject({ status: 'error', category: 'EXPIRED_AUTHENTICATION' });

    const refreshed = await oauth.tokensApi.create('refresh_token', undefined, undefined, 'cid', 'secret', tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    const info2 = await oauth.refreshTokensApi.get(tokens.refreshToken);
    expect(info2).toMatchObject({ hubId: 303, clientId: 'cid', tokenType: 'refresh' });
    expect((await hubspotClient(refreshed.accessToken, fake.url).crm.companies.basicApi.getById(company)).id).toBe(company);

    await oauth.refreshTokensApi.archive(tokens.refreshToken);
    const revoked = await failure(hubspotClient(refreshed.accessToken, fake.url).crm.companies.basicApi.getById(company));
    expect(revoked.code).toBe(401);
    expect(revoked.body.category).toBe('INVALID_AUTHENTICATION');
    const afterRevoke = await failure(oauth.tokensApi.create('refresh_token', undefined, undefined, 'cid', 'secret', tokens.refreshToken));
    expect(afterRevoke.body.status).toBe('BAD_REFRESH_TOKEN');
  });

  it('answers 401 with HubSpot error body to a missing or unknown token', async () => {
    const missing = await failure(hubspotClient('', fake.url).crm.companies.basicApi.getPage());
    expect(missing.code).toBe(401);
    expect(missing.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(typeof missing.body.correlationId).toBe('string');
    const unknown = await failure(hubspotClient('pat-na1-nobody', fake.url).crm.companies.basicApi.getPage());
    expect(unknown.code).toBe(401);
    expect(unknown.body.category).toBe('INVALID_AUTHENTICATION');
    expect(fake.requests.map((r) => [r.status, r.portalId])).toEqual([[401, null], [401, null]]);
  });

  it('keeps portals apart: portal B cannot read or write portal A records', async () => {
    const id = fake.createObject(A, 'companies', { name: 'Secret of A' });
    const b = clientB();
    expect((await failure(b.crm.companies.basicApi.getById(id))).code).toBe(404);
    const read = await b.crm.companies.batchApi.read({ inputs: [{ id }], properties: ['name'], propertiesWithHistory: [] });
    expect(read.results).toEqual([]);
    expect((await b.crm.companies.searchApi.doSearch({ query: 'secret' })).total).toBe(0);
    expect((await b.crm.companies.basicApi.getPage()).results).toEqual([]);
    const update = await b.crm.companies.batchApi.update({ inputs: [{ id, properties: { name: 'Overwritten' } }] });
    expect(update.results).toEqual([]);
    expect((await failure(b.crm.associations.v4.basicApi.getPage('companies', id, 'deals'))).code).toBe(404);
    expect(fake.getObject(A, 'companies', id)?.properties.name).toBe('Secret of A');
    expect(fake.requests.every((r) => r.portalId === B)).toBe(true);
  });
});

describe('rate limits', () => {
  it('answers 429 past the ten-secondly limit per portal, with HubSpot headers and body; search is counted apart', async () => {
    await start({ rateLimit: { max: 3, windowMs: 60_000 }, searchRateLimit: { max: 2, windowMs: 60_000 } });
    const hs = clientA();
    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const info = await hs.crm.companies.basicApi.getPageWithHttpInfo();
      expect(info.headers['x-hubspot-ratelimit-max']).toBe('3');
      expect(info.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('60000');
      remaining.push(info.headers['x-hubspot-ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await failure(hs.crm.companies.basicApi.getPage());
    expect(limited.code).toBe(429);
    expect(limited.body).toMatchObject({
      status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(typeof limited.body.correlationId).toBe('string');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-hubspot-ratelimit-remaining']).toBe('0');

    // Another portal has its own budget; search has its own (5/s by default, 2 here).
    expect((await clientB().crm.companies.basicApi.getPage()).results).toEqual([]);
    await hs.crm.companies.searchApi.doSearch({});
    await hs.crm.companies.searchApi.doSearch({});
    const searchLimited = await failure(hs.crm.companies.searchApi.doSearch({}));
    expect(searchLimited.code).toBe(429);
    expect(searchLimited.body).toMatchObject({ message: 'You have reached your secondly limit.', policyName: 'SECONDLY' });
    expect(fake.requests.filter((r) => r.status === 429).map((r) => r.path)).toEqual(['/crm/v3/objects/companies', '/crm/v3/objects/companies/search']);

    fake.setRateLimit(null);
    expect((await hs.crm.companies.basicApi.getPage()).results).toEqual([]);
  });
});

describe('fault injection and the request log', () => {
  const run = async (seed: number): Promise<number[]> => {
    await start({ faults: { rate: 0.5, kinds: ['429', '500'], seed } });
    const id = fake.createObject(A, 'companies', { name: 'Acme' });
    const hs = clientA();
    const statuses: number[] = [];
    for (let i = 0; i < 24; i += 1) {
      statuses.push(await hs.crm.companies.basicApi.getById(id).then(() => 200, (e: Failure) => e.code));
    }
    expect(fake.requests.map((r) => r.status)).toEqual(statuses);
    expect(fake.requests.filter((r) => r.fault !== undefined).map((r) => r.status)).toEqual(statuses.filter((s) => s !== 200));
    await fake.close();
    return statuses;
  };

  it('fails the same requests for the same seed', async () => {
    const first = await run(7);
    const second = await run(7);
    const other = await run(8);
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 429, 500]));
    expect(other).not.toEqual(first);
    await start();
  });

  it('applies the write before a 500 "after", answers Retry-After on injected 429s and delays slow answers', async () => {
    await start({ faults: { rate: 1, kinds: ['500'], when: 'after' } });
    const id = fake.createObject(A, 'deals', { dealname: 'Before' });
    const hs = clientA();
    const lost = await failure(hs.crm.deals.batchApi.update({ inputs: [{ id, properties: { dealname: 'After' } }] }));
    expect(lost.code).toBe(500);
    expect(fake.getObject(A, 'deals', id)?.properties.dealname).toBe('After');

    fake.setFaults({ rate: 1, kinds: ['500'] });
    await failure(hs.crm.deals.batchApi.update({ inputs: [{ id, properties: { dealname: 'Never' } }] }));
    expect(fake.getObject(A, 'deals', id)?.properties.dealname).toBe('After');

    fake.setFaults({ rate: 1, kinds: ['429'], retryAfterSeconds: 3 });
    const throttled = await failure(hs.crm.deals.basicApi.getById(id));
    expect(throttled.code).toBe(429);
    expect(throttled.headers['retry-after']).toBe('3');
    expect(throttled.body.policyName).toBe('TEN_SECONDLY_ROLLING');

    fake.setFaults({ rate: 1, kinds: ['slow'], slowMs: 20 });
    expect((await hs.crm.deals.basicApi.getById(id, ['dealname'])).properties.dealname).toBe('After');
    fake.setFaults(null);

    expect(fake.requests.map((r) => [r.method, r.path, r.status, r.fault])).toEqual([
      ['POST', '/crm/v3/objects/deals/batch/update', 500, '500'],
      ['POST', '/crm/v3/objects/deals/batch/update', 500, '500'],
      ['GET', `/crm/v3/objects/deals/${id}`, 429, '429'],
      ['GET', `/crm/v3/objects/deals/${id}`, 200, 'slow'],
    ]);
    const last = fake.requests.at(-1);
    expect(last).toMatchObject({ query: { properties: 'dealname' }, portalId: A });
    expect(typeof last?.at).toBe('number');
    expect(fake.requests[0]?.body).toEqual({ inputs: [{ id, properties: { dealname: 'After' } }] });
    fake.clearRequests();
    expect(fake.requests).toEqual([]);
  });
});
