import { z } from 'zod';
import { isIsoDate } from '../domain/calendar';
import { INVOICE_ATTRIBUTES, type ChangePage } from '../connectors/types';

// What a connector hands the engine, checked before anything is written: a page that breaks these rules is a
// fault of the connector or the source, reported with the object it concerns rather than half stored.

// External ids hold no control characters (the store refuses them; packed fact rows use them as separators).
const ExternalId = z.string().min(1).max(300).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code');
const IsoDate = z.string().refine(isIsoDate, 'must be a calendar date YYYY-MM-DD');
const Minor = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');
const Text = z.string().nullable();
const Timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO timestamp').nullable();

const SourceCustomerSchema = z.object({
  id: ExternalId,
  name: Text,
  email: Text,
  domain: Text,
  country: Text,
  currency: Currency.nullable(),
  archived: z.boolean(),
  creditLimitMinor: Minor.nullable(),
  creditLimitCurrency: Currency.nullable(),
  updatedAt: Timestamp,
  industry: Text.optional(),
});

const SourceInvoiceSchema = z.object({
  id: ExternalId,
  number: Text,
  customerId: ExternalId,
  currency: Currency,
  totalMinor: Minor.nonnegative(),
  issueDate: IsoDate,
  dueDate: IsoDate,
  status: z.enum(['draft', 'open', 'paid', 'void', 'uncollectible', 'deleted']),
  sourceStatus: z.string(),
  voidedDate: IsoDate.nullable(),
  disputed: z.boolean(),
  terms: Text,
  reference: Text,
  lines: z.array(z.object({
    productId: Text,
    description: Text,
    quantity: z.number().finite().nullable(),
    amountMinor: Minor,
  })),
  updatedAt: Timestamp,
  salesRep: Text.optional(),
  dealId: Text.optional(),
  hubspotDealId: Text.optional(),
});

const SourcePaymentSchema = z.object({
  id: ExternalId,
  kind: z.enum(['payment', 'credit_note', 'write_off']),
  date: IsoDate,
  currency: Currency,
  amountMinor: Minor,
  allocations: z.array(z.object({ invoiceId: ExternalId, amountMinor: Minor })),
  removed: z.boolean(),
  updatedAt: Timestamp,
}).superRefine((payment, ctx) => {
  // A payment that stays must have a positive amount and positive allocations (the store's checks).
  if (payment.removed) return;
  if (payment.amountMinor <= 0) ctx.addIssue({ code: 'custom', path: ['amountMinor'], message: 'must be positive' });
  payment.allocations.forEach((a, i) => {
    if (a.amountMinor <= 0) ctx.addIssue({ code: 'custom', path: ['allocations', i, 'amountMinor'], message: 'must be positive' });
  });
});

export const ChangePageSchema = z.object({
  customers: z.array(SourceCustomerSchema),
  invoices: z.array(SourceInvoiceSchema),
  payments: z.array(SourcePaymentSchema),
  cursor: z.string().min(1, 'must not be empty'),
  done: z.boolean(),
  keep: z.array(z.enum(INVOICE_ATTRIBUTES)).optional(),
});

/** The page's first problems, as `invoices[3] (in_123).currency: must be …`. */
const describeIssues = (page: unknown, issues: z.ZodError['issues']): string => issues.slice(0, 3).map((issue) => {
  const [list, index, ...rest] = issue.path;
  let where = issue.path.map(String).join('.');
  if (typeof list === 'string' && typeof index === 'number') {
    const item = (page as Record<string, unknown[]>)[list]?.[index] as { id?: unknown } | undefined;
    const id = typeof item?.id === 'string' ? ` (${item.id})` : '';
    where = `${list}[${index}]${id}${rest.length ? `.${rest.map(String).join('.')}` : ''}`;
  }
  return `${where || 'page'}: ${issue.message}`;
}).join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '');

export class InvalidPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPageError';
  }
}

/** The page, checked; throws InvalidPageError naming the objects at fault. */
export const checkPage = (page: unknown): ChangePage => {
  const parsed = ChangePageSchema.safeParse(page);
  if (!parsed.success) throw new InvalidPageError(`The source sent a page that cannot be stored: ${describeIssues(page, parsed.error.issues)}`);
  return parsed.data;
};
