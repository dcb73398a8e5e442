import type { ColumnType, Generated } from 'kysely';

// Kysely table types, matching migrations/*.sql. Dates are ISO strings (parsers are set on both drivers).
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type PortalsTable = { portal_id: number; name: string | null; created_at: Timestamp };

export type CustomersTable = {
  id: Generated<number>;
  portal_id: number;
  source: string;
  external_id: string;
  name: string | null;
  domain: string | null;
  industry: string | null;
  country: string | null;
  credit_limit_minor: number | null;
  credit_limit_currency: string | null;
  source_updated_at: Timestamp | null;
  updated_at: Timestamp;
};

export type InvoicesTable = {
  id: Generated<number>;
  portal_id: number;
  source: string;
  external_id: string;
  customer_id: number;
  number: string | null;
  currency: string;
  total_minor: number;
  issue_date: string;
  due_date: string;
  voided_date: string | null;
  disputed: boolean;
  sales_rep: string | null;
  product: string | null;
  deal_id: string | null;
  terms: string | null;
  source_status: string | null;
  source_updated_at: Timestamp | null;
  updated_at: Timestamp;
};

export type PaymentsTable = {
  id: Generated<number>;
  portal_id: number;
  source: string;
  external_id: string;
  kind: 'payment' | 'credit_note' | 'write_off';
  payment_date: string;
  currency: string;
  amount_minor: number;
  source_updated_at: Timestamp | null;
  updated_at: Timestamp;
};

export type PaymentAllocationsTable = {
  portal_id: number;
  payment_id: number;
  invoice_id: number;
  customer_id: number;
  payment_date: string;
  kind: 'payment' | 'credit_note' | 'write_off';
  amount_minor: number;
};

export type PoliciesTable = { portal_id: number; policy: unknown; updated_at: Timestamp };

export type Database = {
  portals: PortalsTable;
  customers: CustomersTable;
  invoices: InvoicesTable;
  payments: PaymentsTable;
  payment_allocations: PaymentAllocationsTable;
  policies: PoliciesTable;
  schema_migrations: { version: string; applied_at: Timestamp };
};
