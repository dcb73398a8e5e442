import { jest } from '@jest/globals';
import { hubspot } from '@hubspot/ui-extensions';
import {
  CompanyCardSchema, CustomerChoicesSchema, DealCardSchema, LinkResultSchema, ReportMetricsSchema,
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

export const matchedCompany = (): CompanyCard => CompanyCardSchema.parse({
  portal_id: 42, company_id: '987', as_of: '2026-06-30',
  match: { status: 'matched', customer_id: '501', customer_name: 'Acme GmbH', source: 'xero', method: 'domain', detail: 'acme.example' },
  summary: {
    as_of: '2026-06-30',
    customer: { id: '501', name: 'Acme GmbH', domain: 'acme.example', industry: null, country: 'DE' },
    currencies: [
      {
        currency: 'EUR',
        metrics: metrics({ outstanding: '12345.60', overdue: '2000.00', on_time_rate: 0.75, weighted_days_late: 12.34 }),
        risk: { score: 57, tier: 'C', reasons: ['2 of the last 6 invoices were paid more than 30 days late', '1 disputed invoice is open'] },
      },
      {
        currency: 'USD',
        metrics: metrics({ outstanding: '99.99', overdue: '0.00', on_time_rate: 1, weighted_days_late: -2 }),
        risk: { score: 95, tier: 'A', reasons: [] },
      },
    ],
    invoices: [],
    payments: [],
  },
});

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
