import type { ColumnType, Generated } from 'kysely';

// Kysely table types, matching migrations/*.sql. Dates are ISO strings (parsers are set on both drivers).
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type PortalsTable = { portal_id: number; name: string | null; created_at: Timestamp; data_version: Generated<number> };

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
  email: string | null;
  archived: Generated<boolean>;
  /** A limit set by hand (0008): wins over the source's credit_limit_* while set. */
  manual_credit_limit_minor: Generated<number | null>;
  manual_credit_limit_currency: Generated<string | null>;
  credit_limit_set_by: Generated<string | null>;
  credit_limit_set_at: Generated<Date | null>;
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
  reference: string | null;
  hubspot_deal_id: string | null;
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

export type HubSpotInstallsTable = {
  portal_id: number;
  hub_domain: string | null;
  scopes: string;
  access_token_enc: string;
  refresh_token_enc: string;
  expires_at: Timestamp;
  installed_at: Timestamp;
  updated_at: Timestamp;
};

export type IdempotencyKeysTable = {
  portal_id: number;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response: unknown;
  created_at: Timestamp;
};

export type HubSpotCompaniesTable = {
  portal_id: number;
  company_id: string;
  name: string | null;
  domain: string | null;
  customer_ref: string | null;
  owner_id: string | null;
  hs_updated_at: Timestamp | null;
  synced_at: Timestamp;
};

export type HubSpotDealsTable = {
  portal_id: number;
  deal_id: string;
  name: string | null;
  amount: string | null;
  currency: string | null;
  stage: string | null;
  owner_id: string | null;
  company_id: string | null;
  reference: string | null;
  hs_updated_at: Timestamp | null;
  synced_at: Timestamp;
};

export type CompanyMappingsTable = { portal_id: number; source: string; external_id: string; company_id: string; updated_at: Timestamp };

export type CompanyLinkMethod = 'hubspot' | 'explicit_id' | 'mapping' | 'domain' | 'name' | 'manual' | 'manual_unlink';
export type DealLinkMethod = 'invoice_deal_id' | 'association' | 'reference' | 'manual' | 'manual_unlink';

export type CompanyLinksTable = {
  portal_id: number;
  customer_id: number;
  company_id: string | null;
  method: CompanyLinkMethod;
  detail: string | null;
  linked_by: string | null;
  updated_at: Timestamp;
};

export type DealLinksTable = {
  portal_id: number;
  invoice_id: number;
  deal_id: string | null;
  method: DealLinkMethod;
  detail: string | null;
  linked_by: string | null;
  updated_at: Timestamp;
};

export type HubSpotObjectType = 'companies' | 'deals';

export type HubSpotWrittenTable = {
  portal_id: number;
  object_type: HubSpotObjectType;
  object_id: string;
  property: string;
  value: string;
  written_at: Timestamp;
};

export type HubSpotOutboxTable = {
  id: Generated<number>;
  portal_id: number;
  object_type: HubSpotObjectType;
  object_id: string;
  properties: Record<string, string>;
  version: Generated<number>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_token: string | null;
  leased_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
};

export type HubSpotWebhookEventsTable = {
  portal_id: number;
  event_id: string;
  subscription_type: string;
  object_type_id: string | null;
  object_id: string;
  property_name: string | null;
  property_value: string | null;
  occurred_at: Timestamp;
  received_at: Timestamp;
  processed_at: Timestamp | null;
};

export type SyncCursorsTable = { portal_id: number; source: string; stream: string; cursor: string; updated_at: Timestamp };

export type PaymentTermsAcksTable = {
  id: Generated<number>;
  portal_id: number;
  deal_id: string;
  company_id: string | null;
  terms: string;
  terms_days: number | null;
  contact_name: string;
  contact_email: string | null;
  contact_id: string | null;
  acknowledged_on: string;
  evidence_url: string | null;
  recorded_by: string | null;
  recorded_at: Timestamp;
};

export type CommunicationKind = 'note' | 'call' | 'email' | 'promise' | 'dispute' | 'help_request' | 'escalation' | 'terms_ack';

export type CommunicationLogTable = {
  id: Generated<number>;
  portal_id: number;
  customer_id: number;
  kind: CommunicationKind;
  occurred_on: string;
  summary: string;
  author: string | null;
  promise_date: string | null;
  amount_minor: number | null;
  currency: string | null;
  status: string | null;
  deal_id: string | null;
  invoice_id: number | null;
  entry_key: string | null;
  hubspot_note_id: string | null;
  created_at: Timestamp;
  resolved_on: string | null;
  resolution: string | null;
  hubspot_note_intent_at: Timestamp | null;
};

export type AccountingSource = 'quickbooks' | 'xero' | 'stripe';

export type AccountingConnectionsTable = {
  portal_id: number;
  source: AccountingSource;
  status: 'connected' | 'error' | 'disconnected';
  tenant_id: string | null;
  tenant_name: string | null;
  credentials_enc: string | null;
  scopes: string | null;
  expires_at: Timestamp | null;
  connected_at: Timestamp | null;
  connected_by: string | null;
  last_sync_at: Timestamp | null;
  last_error: string | null;
  last_error_at: Timestamp | null;
  updated_at: Timestamp;
};

export type InvoiceLinesTable = {
  portal_id: number;
  invoice_id: number;
  line_no: number;
  product_id: string | null;
  description: string | null;
  quantity: number | null;
  amount_minor: number;
};

export type SourceWebhookEventsTable = {
  portal_id: number;
  source: AccountingSource;
  event_id: string;
  tenant_id: string | null;
  object_type: string;
  object_id: string | null;
  occurred_at: Timestamp | null;
  received_at: Generated<Date>;
  processed_at: Timestamp | null;
};

export type SyncRunsTable = {
  id: Generated<number>;
  portal_id: number;
  source: AccountingSource | 'hubspot' | 'csv';
  full_sync: Generated<boolean>;
  trigger: Generated<string>;
  started_at: Generated<Date>;
  finished_at: Timestamp | null;
  pages: Generated<number>;
  customers: Generated<number>;
  invoices: Generated<number>;
  invoices_removed: Generated<number>;
  payments: Generated<number>;
  payments_removed: Generated<number>;
  skipped_allocations: Generated<number>;
  error: string | null;
};

export type HelpRequestStatus = 'open' | 'accepted' | 'done' | 'declined';

export type HelpRequestsTable = {
  id: Generated<number>;
  portal_id: number;
  customer_id: number;
  object_type: 'company' | 'deal';
  object_id: string;
  company_id: string | null;
  deal_id: string | null;
  owner_id: string | null;
  needed: string;
  needed_by: string;
  status: Generated<HelpRequestStatus>;
  requested_by: string | null;
  requested_on: string;
  sla_due_on: string;
  answered_on: string | null;
  status_by: string | null;
  escalated_on: string | null;
  escalated_to: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
};

export type HubSpotTaskPurpose = 'help_request' | 'help_request_sla' | 'escalation' | 'big_deal';

export type HubSpotTasksTable = {
  id: Generated<number>;
  portal_id: number;
  task_key: string;
  purpose: HubSpotTaskPurpose;
  owner_id: string | null;
  subject: string;
  body: string;
  due_on: string;
  company_id: string | null;
  deal_id: string | null;
  status: Generated<'pending' | 'created' | 'failed'>;
  attempts: Generated<number>;
  hubspot_task_id: string | null;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
};

export type EscalationExceptionsTable = {
  id: Generated<number>;
  portal_id: number;
  customer_id: number;
  reason: string;
  until: string;
  actions: string[] | null;
  created_by: string | null;
  created_at: Timestamp;
};

export type EscalationStepsTable = {
  id: Generated<number>;
  portal_id: number;
  customer_id: number;
  invoice_id: number;
  action: 'reminder' | 'ask_rep' | 'escalate_manager' | 'credit_hold';
  level_days: number;
  days_past_due: number;
  taken_on: string;
  taken_by: string;
  taken_at: Timestamp;
};

export type BigDealAlertsTable = {
  portal_id: number;
  deal_id: string;
  amount_minor: number;
  currency: string;
  stage: string;
  event_id: string | null;
  company_id: string | null;
  created_at: Timestamp;
};

export type Database = {
  portals: PortalsTable;
  customers: CustomersTable;
  invoices: InvoicesTable;
  payments: PaymentsTable;
  payment_allocations: PaymentAllocationsTable;
  policies: PoliciesTable;
  hubspot_installs: HubSpotInstallsTable;
  idempotency_keys: IdempotencyKeysTable;
  hubspot_companies: HubSpotCompaniesTable;
  hubspot_deals: HubSpotDealsTable;
  company_mappings: CompanyMappingsTable;
  company_links: CompanyLinksTable;
  deal_links: DealLinksTable;
  hubspot_written: HubSpotWrittenTable;
  hubspot_outbox: HubSpotOutboxTable;
  sync_cursors: SyncCursorsTable;
  hubspot_webhook_events: HubSpotWebhookEventsTable;
  payment_terms_acks: PaymentTermsAcksTable;
  communication_log: CommunicationLogTable;
  accounting_connections: AccountingConnectionsTable;
  invoice_lines: InvoiceLinesTable;
  source_webhook_events: SourceWebhookEventsTable;
  sync_runs: SyncRunsTable;
  help_requests: HelpRequestsTable;
  hubspot_tasks: HubSpotTasksTable;
  escalation_exceptions: EscalationExceptionsTable;
  escalation_steps: EscalationStepsTable;
  big_deal_alerts: BigDealAlertsTable;
  schema_migrations: { version: string; applied_at: Timestamp };
};
