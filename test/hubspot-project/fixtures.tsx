import { jest } from '@jest/globals';
import { hubspot } from '@hubspot/ui-extensions';
import {
  CompanyCardSchema, CustomerChoicesSchema, DealCardSchema, InvoiceLineSchema, LinkResultSchema, ReportMetricsSchema,
  type CompanyCard, type CustomerChoices, type DealCard, type LinkResult,
} from '../../extensions/card-api.ts';
import type { z } from 'zod';

// Card API answers for the card tests, each built by parsing with the contract's schema, so every body a test serves
// is a valid contract object; and a fake `hubspot.fetch` that routes requests to them and records what was sent.

export const BASE = 'https://arbridge.example.com';

const metrics = (over: Partial<z.input<typeof ReportMetricsSchema>>) => ReportMetricsSchema.parse({
  invoice_count: 4, open_count: 2, outstanding: '0.00', overdue: '0.00',
  aging: [{ bucket: 'current', amount: '0.00', count: 0 }],
  dso_simple: 40, dso_countback: 38.5, bpdso: 20, add: 20, cei: 80.5, on_time_rate: null,
  weighted_days_late: null, at_risk_rate: 0, over_60_share: 0,
  ...over,
});

type InvoiceInput = z.input<typeof InvoiceLineSchema>;

const invoice = (n: number, over: Partial<InvoiceInput> = {}): InvoiceInput => ({
  id: `e${n}`, number: `INV-${1000 + n}`, currency: 'EUR', amount: '100.00', paid: '100.00', open: '0.00',
  issue_date: `2026-01-${String(n).padStart(2, '0')}`, due_date: `2026-02-${String(n).padStart(2, '0')}`,
  paid_date: `2026-02-${String(n + 2).padStart(2, '0')}`, days_late: 2, status: 'paid', disputed: false,
  sales_rep: null, product: null, deal_id: null, ...over,
});

/** The matched company's invoices, in the order the service lists them (by issue date): 11 in EUR, 1 in USD. */
export const companyInvoices = (): InvoiceInput[] => [
  invoice(1, { amount: '300.00', paid: '300.00', days_late: 5 }),
  invoice(2, { amount: '1200.00', paid: '1200.00', days_late: -1 }),
  invoice(3, { amount: '1000.00', paid: '400.00', open: '600.00', paid_date: null, days_late: 30, status: 'overdue', disputed: true }),
  invoice(4, { amount: '50.00', paid: '50.00', days_late: 0 }),
  invoice(5, { amount: '500.00', paid: '0.00', open: '0.00', paid_date: null, days_late: null, status: 'credited' }),
  invoice(6, { amount: '750.00', paid: '750.00', days_late: 12 }),
  invoice(7, { amount: '80.00', paid: '0.00', open: '0.00', paid_date: null, days_late: 45, status: 'written_off' }),
  invoice(8, { amount: '2000.00', paid: '2000.00', days_late: 3 }),
  invoice(9, { amount: '420.00', paid: '420.00', days_late: 8 }),
  invoice(10, { amount: '1400.00', paid: '0.00', open: '1400.00', paid_date: null, days_late: 19, status: 'overdue' }),
  invoice(11, { amount: '9345.60', paid: '0.00', open: '9345.60', paid_date: null, days_late: null, status: 'open', due_date: '2026-07-15' }),
  invoice(12, { id: 'u1', number: null, currency: 'USD', amount: '99.99', paid: '0.00', open: '99.99', paid_date: null, days_late: null, status: 'open', due_date: '2026-07-12' }),
];

export const EUR_AGING = [
  { bucket: 'current', amount: '9345.60', count: 1 },
  { bucket: '1-30', amount: '2000.00', count: 2 },
  { bucket: '31-60', amount: '0.00', count: 0 },
  { bucket: '61-90', amount: '0.00', count: 0 },
  { bucket: '90+', amount: '0.00', count: 0 },
];

export const matchedCompany = (): CompanyCard => CompanyCardSchema.parse({
  portal_id: 42, company_id: '987', as_of: '2026-06-30',
  match: { status: 'matched', customer_id: '501', customer_name: 'Acme GmbH', source: 'xero', method: 'domain', detail: 'acme.example' },
  summary: {
    as_of: '2026-06-30',
    customer: { id: '501', name: 'Acme GmbH', domain: 'acme.example', industry: null, country: 'DE' },
    currencies: [
      {
        currency: 'EUR',
        metrics: metrics({ outstanding: '12345.60', overdue: '2000.00', on_time_rate: 0.75, weighted_days_late: 12.34, aging: EUR_AGING }),
        risk: { score: 57, tier: 'C', reasons: ['2 of the last 6 invoices were paid more than 30 days late', '1 disputed invoice is open'] },
      },
      {
        currency: 'USD',
        metrics: metrics({ outstanding: '99.99', overdue: '0.00', on_time_rate: 1, weighted_days_late: -2, aging: [{ bucket: 'current', amount: '99.99', count: 1 }] }),
        risk: { score: 95, tier: 'A', reasons: [] },
      },
    ],
    invoices: companyInvoices(),
    payments: [
      { id: 's3', invoice_id: 'e3', date: '2026-03-01', amount: '400.00', currency: 'EUR', kind: 'payment' },
      { id: 's5', invoice_id: 'e5', date: '2026-01-20', amount: '500.00', currency: 'EUR', kind: 'credit_note' },
      { id: 's7', invoice_id: 'e7', date: '2026-04-01', amount: '80.00', currency: 'EUR', kind: 'write_off' },
    ],
  },
});

/** A matched company whose customer has no invoices synced yet. */
export const matchedCompanyWithoutInvoices = (): CompanyCard => {
  const card = matchedCompany();
  return CompanyCardSchema.parse({ ...card, summary: { ...card.summary!, currencies: [], invoices: [], payments: [] } });
};

export const unmatchedCompany = (): CompanyCard => CompanyCardSchema.parse({
  portal_id: 42, company_id: '987', as_of: '2026-06-30', match: { status: 'unmatched' }, summary: null,
});

export const customerChoices = (): CustomerChoices => CustomerChoicesSchema.parse({
  customers: [
    { id: '501', source: 'xero', external_id: 'C-17', name: 'Acme GmbH', domain: 'acme.example' },
    { id: '502', source: 'csv', external_id: 'ACME-2', name: null, domain: null },
  ],
});

export const linkResult = (status: 'matched' | 'unmatched'): LinkResult => LinkResultSchema.parse(status === 'matched'
  ? { company_id: '987', match: { status: 'matched', customer_id: '501', customer_name: 'Acme GmbH', source: 'xero', method: 'manual', detail: null } }
  : { company_id: '987', match: { status: 'unmatched' } });

export const dealCard = (company: 'matched' | 'unmatched' | 'none' = 'matched'): DealCard => DealCardSchema.parse({
  portal_id: 42, deal_id: '555', as_of: '2026-06-30',
  invoices: [
    { id: 'i1', number: 'INV-1001', currency: 'EUR', amount: '1000.00', collected: '400.00', outstanding: '600.00', overdue: '600.00', due_date: '2026-05-31', status: 'overdue', link_method: 'invoice_deal_id' },
    { id: 'i2', number: null, currency: 'USD', amount: '250.50', collected: '250.50', outstanding: '0.00', overdue: '0.00', due_date: '2026-07-31', status: 'paid', link_method: 'association' },
  ],
  totals: [
    { currency: 'EUR', invoiced: '1000.00', collected: '400.00', outstanding: '600.00', overdue: '600.00' },
    { currency: 'USD', invoiced: '250.50', collected: '250.50', outstanding: '0.00', overdue: '0.00' },
  ],
  company: company === 'none' ? null : {
    company_id: '987',
    match: company === 'matched'
      ? { status: 'matched', customer_id: '501', customer_name: 'Acme GmbH', source: 'xero', method: 'name', detail: null }
      : { status: 'unmatched' },
    risk: company === 'matched' ? [{ currency: 'EUR', risk: { score: 35, tier: 'D', reasons: ['Half of the open balance is more than 60 days past due'] } }] : [],
  },
});

export type Sent = { url: string; method: string; body: Record<string, unknown> | undefined };
export type Answer = { status: number; body: unknown } | 'network-error' | 'pending';
type Route = (req: Sent) => Answer | undefined;

export const jsonResponse = (status: number, body: unknown): Response =>
  ({ ok: status >= 200 && status < 300, status, json: async () => body }) as unknown as Response;

/**
 * Replaces `hubspot.fetch` with a router: each request goes to the first route that answers it, unanswered requests
 * fail the test. `sent` lists every request in order.
 */
export const fakeFetch = (...routes: Route[]) => {
  const sent: Sent[] = [];
  const spy = jest.spyOn(hubspot, 'fetch').mockImplementation(async (url, options) => {
    const req: Sent = { url: String(url), method: options?.method ?? 'GET', body: options?.body as Record<string, unknown> | undefined };
    sent.push(req);
    for (const route of routes) {
      const answer = route(req);
      if (answer === undefined) continue;
      if (answer === 'network-error') throw new TypeError('fetch failed');
      if (answer === 'pending') return new Promise<Response>(() => undefined);
      return jsonResponse(answer.status, answer.body);
    }
    throw new Error(`no route for ${req.method} ${req.url}`);
  });
  return { sent, spy };
};

/** A route answering `method url` with the given answers in turn (the last one repeats). */
export const on = (method: string, url: string, ...answers: Answer[]): Route => {
  let i = 0;
  return (req) => {
    if (req.method !== method || req.url !== url) return undefined;
    const answer = answers[Math.min(i, answers.length - 1)];
    i += 1;
    return answer;
  };
};

export const ok = (body: unknown): Answer => ({ status: 200, body });

/** Polls `check` until it passes (for effects that change nothing on screen), failing after `timeoutMs`. */
export const eventually = async (check: () => void, timeoutMs = 1000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
};
