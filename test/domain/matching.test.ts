import { describe, expect, it } from '@jest/globals';
import {
  buildCompanyIndex, buildDealIndex, matchableDomain, matchCustomer, matchInvoice, normalizeCompanyName, normalizeDomain,
  normalizeReference, type CompanyRecord, type CustomerRecord,
} from '../../src/domain/matching';

describe('normalizeDomain', () => {
  it.each([
    ['acme.com', 'acme.com'],
    ['ACME.COM', 'acme.com'],
    ['  www.acme.com  ', 'acme.com'],
    ['https://www.Acme.com/about?x=1#top', 'acme.com'],
    ['http://acme.com:8080', 'acme.com'],
    ['//cdn.acme.com/x', 'cdn.acme.com'],
    ['acme.com.', 'acme.com'],
    ['jane.doe@Acme.co.uk', 'acme.co.uk'],
    ['mailto:billing@acme.com', 'acme.com'],
    ['https://user:pw@shop.acme.com:443/', 'shop.acme.com'],
    ['www.www.acme.com', 'acme.com'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it.each([[''], ['   '], ['localhost'], ['not a domain'], ['acme..com'], ['@'], [null], [undefined]])('%j is no domain', (input) => {
    expect(normalizeDomain(input)).toBeNull();
  });

  it('ignores free-mail domains, from emails and websites alike', () => {
    for (const text of ['jane@gmail.com', 'JOE@Outlook.com', 'x@yahoo.com', 'a@hotmail.com', 'b@icloud.com', 'https://www.gmail.com']) {
      expect(matchableDomain(text)).toBeNull();
    }
    expect(matchableDomain('jane@acme.com')).toBe('acme.com');
    expect(normalizeDomain('jane@gmail.com')).toBe('gmail.com'); // normalized, but not matchable
  });
});

describe('normalizeCompanyName', () => {
  it.each([
    ['Acme Inc.', 'acme'],
    ['ACME, INC', 'acme'],
    ['Acme', 'acme'],
    ['Acme LLC', 'acme'],
    ['Acme L.L.C.', 'acme'],
    ['Acme Holdings Co., Ltd.', 'acme holdings'],
    ['Müller GmbH', 'muller'],
    ['Mueller GmbH', 'mueller'],
    ['Société Générale S.A.', 'societe generale'],
    ['Philips B.V.', 'philips'],
    ['Siemens AG', 'siemens'],
    ['Tesco PLC', 'tesco'],
    ['Amy\'s Bird Sanctuary', 'amys bird sanctuary'],
    ['Amy’s   Bird\tSanctuary', 'amys bird sanctuary'],
    ['Smith & Sons Corp', 'smith sons'],
    ['Smith-Jones Corporation', 'smith jones'],
    ['ＡＣＭＥ　Ｉｎｃ', 'acme'], // full-width letters and space (NFKD)
    ['The Company', 'the'],
    ['Company', 'company'], // only a legal form: kept
    ['Inc', 'inc'],
    ['Co-op Food', 'co op food'], // "co" only goes at the end
  ])('%j → %j', (input, expected) => {
    expect(normalizeCompanyName(input)).toBe(expected);
  });

  it.each([[''], ['  '], ['...'], [null]])('%j has no name', (input) => {
    expect(normalizeCompanyName(input)).toBeNull();
  });
});

describe('normalizeReference', () => {
  it('trims, upper-cases and collapses whitespace', () => {
    expect(normalizeReference(' po-1001 ')).toBe('PO-1001');
    expect(normalizeReference('Quote  77\tA')).toBe('QUOTE 77 A');
    expect(normalizeReference('')).toBeNull();
    expect(normalizeReference(null)).toBeNull();
  });
});

const company = (companyId: string, name: string | null, domain: string | null = null, customerRef: string | null = null): CompanyRecord =>
  ({ companyId, name, domain, customerRef });
const customer = (over: Partial<CustomerRecord> = {}): CustomerRecord =>
  ({ source: 'csv', externalId: 'C1', name: null, domain: null, mappedCompanyId: null, ...over });

describe('matchCustomer', () => {
  const index = buildCompanyIndex([
    company('10', 'Acme Inc', 'acme.com'),
    company('11', 'Explicit Target', 'explicit.com', 'csv:C1'),
    company('12', 'Bare Target', null, 'C1'),
    company('20', 'Umbrella East', 'umbrella.com'),
    company('21', 'Umbrella West', 'www.umbrella.com'),
    company('30', 'Initech, LLC', 'initech.io'),
    company('31', 'Gmail', 'gmail.com'),
    company('40', 'Twin Co'),
    company('41', 'Twin Corp.'),
    company('50', 'Dup Ref A', null, 'csv:DUP'),
    company('51', 'Dup Ref B', null, 'csv:DUP'),
  ]);

  it('links customers from HubSpot by their own id', () => {
    expect(matchCustomer(customer({ source: 'hubspot', externalId: '777', name: 'Acme Inc' }), index))
      .toEqual({ matched: true, companyId: '777', method: 'hubspot', detail: 'customer from HubSpot' });
  });

  it('prefers the explicit id, source-qualified before bare', () => {
    expect(matchCustomer(customer({ name: 'Acme', domain: 'acme.com' }), index))
      .toEqual({ matched: true, companyId: '11', method: 'explicit_id', detail: 'csv:C1' });
    expect(matchCustomer(customer({ source: 'qbo' }), index))
      .toEqual({ matched: true, companyId: '12', method: 'explicit_id', detail: 'C1' });
  });

  it('then a mapping row, then the domain, then the name', () => {
    expect(matchCustomer(customer({ externalId: 'C2', domain: 'acme.com', mappedCompanyId: '99' }), index))
      .toEqual({ matched: true, companyId: '99', method: 'mapping', detail: 'csv,C2' });
    expect(matchCustomer(customer({ externalId: 'C2', domain: 'billing@ACME.com', name: 'Initech' }), index))
      .toEqual({ matched: true, companyId: '10', method: 'domain', detail: 'acme.com' });
    expect(matchCustomer(customer({ externalId: 'C2', name: 'ACME, Inc.' }), index))
      .toEqual({ matched: true, companyId: '10', method: 'name', detail: 'acme' });
  });

  it('never matches on a free-mail domain, and falls through to the name', () => {
    expect(matchCustomer(customer({ externalId: 'C3', domain: 'jane@gmail.com', name: 'Initech Inc.' }), index))
      .toEqual({ matched: true, companyId: '30', method: 'name', detail: 'initech' });
    expect(matchCustomer(customer({ externalId: 'C3', domain: 'jane@gmail.com' }), index)).toEqual({ matched: false, reason: 'none' });
  });

  it('reports ambiguity with its candidates, and still links at a later level with one candidate', () => {
    expect(matchCustomer(customer({ externalId: 'C4', domain: 'umbrella.com', name: 'Umbrella Holdings' }), index)).toEqual({
      matched: false, reason: 'ambiguous', ambiguities: [{ level: 'domain', value: 'umbrella.com', candidates: ['20', '21'] }],
    });
    expect(matchCustomer(customer({ externalId: 'C4', domain: 'umbrella.com', name: 'Umbrella West' }), index))
      .toEqual({ matched: true, companyId: '21', method: 'name', detail: 'umbrella west' });
    expect(matchCustomer(customer({ externalId: 'C5', name: 'twin' }), index)).toEqual({
      matched: false, reason: 'ambiguous', ambiguities: [{ level: 'name', value: 'twin', candidates: ['40', '41'] }],
    });
    expect(matchCustomer(customer({ externalId: 'DUP', name: 'twin' }), index)).toEqual({
      matched: false, reason: 'ambiguous', ambiguities: [
        { level: 'explicit_id', value: 'csv:DUP', candidates: ['50', '51'] },
        { level: 'name', value: 'twin', candidates: ['40', '41'] },
      ],
    });
  });

  it('finds nothing for a customer without usable attributes', () => {
    expect(matchCustomer(customer({ externalId: 'C9', name: 'Nobody Ltd', domain: 'nobody.example' }), index)).toEqual({ matched: false, reason: 'none' });
  });

  it('sorts candidate ids numerically', () => {
    const big = buildCompanyIndex([company('100', 'X'), company('9', 'X'), company('25', 'X')]);
    expect(matchCustomer(customer({ name: 'x' }), big)).toMatchObject({ ambiguities: [{ candidates: ['9', '25', '100'] }] });
  });
});

describe('matchInvoice', () => {
  const index = buildDealIndex([
    { dealId: '1', reference: 'PO-1001' },
    { dealId: '2', reference: null },
    { dealId: '3', reference: 'q-77' },
    { dealId: '4', reference: 'Q-77 ' },
  ]);
  const none = { dealId: null, hubspotDealId: null, reference: null };

  it('takes the invoice\'s own deal id when the deal is known', () => {
    expect(matchInvoice({ ...none, dealId: '2', hubspotDealId: '1' }, index)).toEqual({ matched: true, dealId: '2', method: 'invoice_deal_id', detail: '2' });
  });

  it('then HubSpot\'s association, then the reference', () => {
    expect(matchInvoice({ ...none, dealId: '404', hubspotDealId: '1' }, index)).toEqual({ matched: true, dealId: '1', method: 'association', detail: '1' });
    expect(matchInvoice({ ...none, dealId: '404', reference: ' po-1001' }, index)).toEqual({ matched: true, dealId: '1', method: 'reference', detail: 'PO-1001' });
  });

  it('reports a reference several deals carry as ambiguous', () => {
    expect(matchInvoice({ ...none, reference: 'Q-77' }, index)).toEqual({
      matched: false, reason: 'ambiguous', ambiguities: [{ level: 'reference', value: 'Q-77', candidates: ['3', '4'] }],
    });
    expect(matchInvoice({ ...none, reference: 'PO-9' }, index)).toEqual({ matched: false, reason: 'none' });
    expect(matchInvoice(none, index)).toEqual({ matched: false, reason: 'none' });
  });
});
