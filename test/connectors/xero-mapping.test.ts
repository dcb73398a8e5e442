import { describe, expect, it } from '@jest/globals';
import { Invoice, LineItem, type Contact } from 'xero-node';
import {
  invoiceStatus, mapContact, mapInvoice, toMinor, xeroDate, xeroInstant, xeroTimestamp, XeroMappingError,
} from '../../src/connectors/xero/mapping';

// The pure parts of the Xero mapping: Xero's dates and decimals, statuses, and the edge cases of objects.

describe('Xero dates', () => {
  it('reads /Date(ms±hhmm)/ text, the Date objects xero-node makes of it, and ISO text', () => {
    expect(xeroDate('/Date(1792454400000+0000)/')).toBe('2026-10-20');
    expect(xeroDate('/Date(1792454400000)/')).toBe('2026-10-20');
    // An offset moves the local reading: 20 Oct 11:00 UTC is 21 Oct 00:00 at +13:00.
    expect(xeroDate('/Date(1792494000000+1300)/')).toBe('2026-10-21');
    expect(xeroDate('/Date(1792454400000-0500)/')).toBe('2026-10-19');
    expect(xeroDate(new Date(1792454400000))).toBe('2026-10-20');
    expect(xeroDate('2026-10-20T00:00:00')).toBe('2026-10-20');
    expect(xeroDate(undefined)).toBeNull();
    expect(xeroDate('yesterday')).toBeNull();
    expect(xeroInstant('/Date(1793377600123+0000)/')?.toISOString()).toBe('2026-10-30T16:26:40.123Z');
    expect(xeroTimestamp(new Date('2026-10-30T16:26:40Z'))).toBe('2026-10-30T16:26:40.000Z');
    expect(xeroTimestamp(new Date(Number.NaN))).toBeNull();
  });
});

describe('Xero amounts', () => {
  it('turns decimals into minor units by the currency exponent', () => {
    expect(toMinor(460, 'NZD')).toBe(46_000);
    expect(toMinor(99.99, 'USD')).toBe(9_999);
    expect(toMinor(0.1 + 0.2, 'USD')).toBe(30);
    expect(toMinor(12_000, 'JPY')).toBe(12_000);
    expect(toMinor(1.234, 'KWD')).toBe(1_234);
    expect(toMinor(-15.5, 'NZD')).toBe(-1_550);
    expect(toMinor(undefined, 'NZD')).toBe(0);
    expect(() => toMinor('abc', 'NZD')).toThrow(XeroMappingError);
  });
});

describe('Xero objects', () => {
  it('maps statuses, and refuses one Xero does not document', () => {
    expect(['DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID', 'VOIDED', 'DELETED'].map(invoiceStatus)).toEqual(['draft', 'draft', 'open', 'paid', 'void', 'deleted']);
    expect(() => invoiceStatus('OPEN')).toThrow(XeroMappingError);
  });

  it('takes a contact\'s domain from its email, else its website; GDPR-erased contacts are archived', () => {
    const contact = (fields: Partial<Record<keyof Contact, unknown>>): Contact => ({ contactID: 'c1', ...fields }) as Contact;
    expect(mapContact(contact({ emailAddress: 'Billing@Example.CO.NZ', website: 'https://other.example' })).domain).toBe('example.co.nz');
    expect(mapContact(contact({ website: 'www.acme.example' })).domain).toBe('acme.example');
    expect(mapContact(contact({})).domain).toBeNull();
    expect(mapContact(contact({ contactStatus: 'GDPRREQUEST' })).archived).toBe(true);
    expect(mapContact(contact({ defaultCurrency: 'nzd' })).currency).toBe('NZD');
    expect(() => mapContact({} as Contact)).toThrow(/ContactID/);
  });

  it('maps a minimal invoice, falls back to the issue date for a missing due date, and names what is missing', () => {
    const invoice = Object.assign(new Invoice(), {
      invoiceID: 'i1', contact: { contactID: 'c1' }, currencyCode: 'AUD', status: 'AUTHORISED', date: new Date('2026-10-20T00:00:00Z'),
      total: 10.5, lineAmountTypes: 'Exclusive', lineItems: [Object.assign(new LineItem(), { lineAmount: 10, taxAmount: 0.5, quantity: 1 })],
    }) as unknown as Invoice;
    expect(mapInvoice(invoice)).toMatchObject({
      id: 'i1', number: null, currency: 'AUD', totalMinor: 1_050, issueDate: '2026-10-20', dueDate: '2026-10-20', reference: null, updatedAt: null,
      lines: [{ productId: null, description: null, quantity: 1, amountMinor: 1_050 }],
    });
    expect(() => mapInvoice({ ...invoice, currencyCode: undefined } as Invoice)).toThrow(/currency/);
    expect(() => mapInvoice({ ...invoice, contact: undefined } as Invoice)).toThrow(/Contact.ContactID/);
    expect(() => mapInvoice({ ...invoice, date: undefined } as Invoice)).toThrow(/no date/);
  });
});
