-- ARBridge schema 4: payment-terms acknowledgments, the communication log, accounting connections.

-- Payment terms a customer acknowledged for a deal, captured at sale (from the deal card). Every capture is
-- kept; the latest (recorded_at, id) of a deal is the one on record.
CREATE TABLE payment_terms_acks (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  deal_id            text NOT NULL,
  company_id         text,
  terms              text NOT NULL CHECK (length(terms) BETWEEN 1 AND 200),
  terms_days         integer CHECK (terms_days BETWEEN 0 AND 3650),
  contact_name       text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 200),
  contact_email      text,
  contact_id         text,
  acknowledged_on    date NOT NULL,
  evidence_url       text,
  recorded_by        text,
  recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_terms_acks_deal ON payment_terms_acks (portal_id, deal_id, recorded_at DESC, id DESC);
CREATE INDEX payment_terms_acks_company ON payment_terms_acks (portal_id, company_id, recorded_at DESC, id DESC);

-- What was said and agreed with a customer: notes, calls, emails, promises to pay, disputes, help
-- requests, escalation steps and terms acknowledgments. `entry_key` makes an entry written on behalf of
-- another record (a help request, an escalation step) exactly-once.
CREATE TABLE communication_log (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  customer_id        bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  kind               text NOT NULL CHECK (kind IN ('note', 'call', 'email', 'promise', 'dispute', 'help_request', 'escalation', 'terms_ack')),
  occurred_on        date NOT NULL,
  summary            text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
  author             text,
  promise_date       date,
  amount_minor       bigint CHECK (amount_minor IS NULL OR amount_minor >= 0),
  currency           text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
  status             text,
  deal_id            text,
  invoice_id         bigint REFERENCES invoices (id) ON DELETE SET NULL,
  entry_key          text,
  hubspot_note_id    text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK ((amount_minor IS NULL) = (currency IS NULL)),
  CHECK (kind <> 'promise' OR (promise_date IS NOT NULL AND amount_minor IS NOT NULL))
);
CREATE INDEX communication_log_customer ON communication_log (portal_id, customer_id, occurred_on DESC, id DESC);
CREATE UNIQUE INDEX communication_log_entry_key ON communication_log (portal_id, entry_key) WHERE entry_key IS NOT NULL;

-- One connection per portal and accounting system; credentials are sealed (AES-256-GCM, see secrets/).
CREATE TABLE accounting_connections (
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source             text NOT NULL CHECK (source IN ('quickbooks', 'xero', 'stripe')),
  status             text NOT NULL CHECK (status IN ('connected', 'error', 'disconnected')),
  tenant_id          text,
  tenant_name        text,
  credentials_enc    text,
  scopes             text,
  expires_at         timestamptz,
  connected_at       timestamptz,
  connected_by       text,
  last_sync_at       timestamptz,
  last_error         text,
  last_error_at      timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, source)
);
