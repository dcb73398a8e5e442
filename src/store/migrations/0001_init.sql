-- ARBridge schema 1: tenants, dated facts (customers, invoices, settlements) and per-portal policy.
-- Every row carries portal_id; (portal_id, source, external_id) makes every upsert idempotent.
-- External ids hold no control characters: packed fact rows (see store/facts.ts) use them as separators.

CREATE TABLE portals (
  portal_id   bigint PRIMARY KEY,
  name        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id                bigserial PRIMARY KEY,
  portal_id         bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source            text NOT NULL,
  external_id       text NOT NULL CHECK (external_id !~ '[[:cntrl:]]'),
  name              text,
  domain            text,
  industry          text,
  country           text,
  credit_limit_minor bigint,
  credit_limit_currency text,
  source_updated_at timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (portal_id, source, external_id)
);

CREATE TABLE invoices (
  id                bigserial PRIMARY KEY,
  portal_id         bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source            text NOT NULL,
  external_id       text NOT NULL CHECK (external_id !~ '[[:cntrl:]]'),
  customer_id       bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  number            text,
  currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  total_minor       bigint NOT NULL CHECK (total_minor >= 0),
  issue_date        date NOT NULL,
  due_date          date NOT NULL,
  voided_date       date,
  disputed          boolean NOT NULL DEFAULT false,
  sales_rep         text,
  product           text,
  deal_id           text,
  terms             text,
  source_status     text,
  source_updated_at timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (portal_id, source, external_id)
);
CREATE INDEX invoices_by_customer ON invoices (portal_id, customer_id);

-- Payments, credit notes and write-offs: one dated document each, applied to invoices by allocations.
CREATE TABLE payments (
  id                bigserial PRIMARY KEY,
  portal_id         bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source            text NOT NULL,
  external_id       text NOT NULL CHECK (external_id !~ '[[:cntrl:]]'),
  kind              text NOT NULL CHECK (kind IN ('payment', 'credit_note', 'write_off')),
  payment_date      date NOT NULL,
  currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  source_updated_at timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (portal_id, source, external_id)
);

-- One row per (payment, invoice): a complete settlement fact. The payment's date and kind and the invoice's
-- customer are copied here (and kept in step by the upserts) so that metrics read settlements per customer
-- without joining payments and invoices. Only payment and invoice are foreign keys: the portal and the
-- customer come with them (and go with them on delete), and two fewer checks per row keep bulk loads fast.
CREATE TABLE payment_allocations (
  portal_id     bigint NOT NULL,
  payment_id    bigint NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
  invoice_id    bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  customer_id   bigint NOT NULL,
  payment_date  date NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('payment', 'credit_note', 'write_off')),
  amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
  PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_by_invoice ON payment_allocations (invoice_id);
CREATE INDEX payment_allocations_by_customer ON payment_allocations (portal_id, customer_id);

CREATE TABLE policies (
  portal_id   bigint PRIMARY KEY REFERENCES portals (portal_id) ON DELETE CASCADE,
  policy      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Settlements are amounts of their invoice's currency: an invoice that has any cannot change currency.
-- A trigger, so the check costs nothing on inserts and holds for every writer.
CREATE FUNCTION invoices_keep_settled_currency() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.currency <> OLD.currency AND EXISTS (SELECT 1 FROM payment_allocations a WHERE a.invoice_id = OLD.id) THEN
    RAISE EXCEPTION 'Invoice % has settlements in %; it cannot change currency to %', OLD.external_id, OLD.currency, NEW.currency
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER invoices_keep_settled_currency BEFORE UPDATE OF currency ON invoices
  FOR EACH ROW EXECUTE FUNCTION invoices_keep_settled_currency();
