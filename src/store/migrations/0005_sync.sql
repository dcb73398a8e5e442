-- ARBridge schema 5: syncing accounting systems (Stripe, Xero, QuickBooks Online): invoice lines, customer
-- attributes the sources keep, webhook events received, and a record of every sync run.

-- What a source says of a customer beyond the columns of schema 1. An archived (deleted) customer stays:
-- its invoices are facts.
ALTER TABLE customers ADD COLUMN email text;
ALTER TABLE customers ADD COLUMN archived boolean NOT NULL DEFAULT false;

-- An invoice's lines as the source has them, replaced as a whole whenever the invoice is synced.
-- Amounts are minor units of the invoice's currency (a discount line may be negative).
CREATE TABLE invoice_lines (
  portal_id     bigint NOT NULL,
  invoice_id    bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  line_no       integer NOT NULL CHECK (line_no >= 1),
  product_id    text,
  description   text,
  quantity      numeric,
  amount_minor  bigint NOT NULL,
  PRIMARY KEY (invoice_id, line_no)
);

-- Verified webhook events of accounting sources, once per (portal, source, event id). They are hints: a sync
-- pulls what changed, and marks the events received before it started as processed.
CREATE TABLE source_webhook_events (
  portal_id     bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source        text NOT NULL CHECK (source IN ('quickbooks', 'xero', 'stripe')),
  event_id      text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 300),
  tenant_id     text,
  object_type   text NOT NULL,
  object_id     text,
  occurred_at   timestamptz,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  PRIMARY KEY (portal_id, source, event_id)
);
CREATE INDEX source_webhook_events_unprocessed ON source_webhook_events (portal_id, source, received_at) WHERE processed_at IS NULL;

-- One row per sync of a connection: what it read, and how it ended (finished_at null while it runs, or
-- forever when the process died; the next run resumes from the cursor all the same).
CREATE TABLE sync_runs (
  id                   bigserial PRIMARY KEY,
  portal_id            bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source               text NOT NULL CHECK (source IN ('quickbooks', 'xero', 'stripe')),
  full_sync            boolean NOT NULL DEFAULT false,
  trigger              text NOT NULL DEFAULT 'manual',
  started_at           timestamptz NOT NULL DEFAULT now(),
  finished_at          timestamptz,
  pages                integer NOT NULL DEFAULT 0,
  customers            integer NOT NULL DEFAULT 0,
  invoices             integer NOT NULL DEFAULT 0,
  invoices_removed     integer NOT NULL DEFAULT 0,
  payments             integer NOT NULL DEFAULT 0,
  payments_removed     integer NOT NULL DEFAULT 0,
  skipped_allocations  integer NOT NULL DEFAULT 0,
  error                text
);
CREATE INDEX sync_runs_latest ON sync_runs (portal_id, source, started_at DESC, id DESC);
