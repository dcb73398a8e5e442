-- ARBridge schema 2: the HubSpot side. Installs and their encrypted tokens, idempotency of card actions,
-- a mirror of the HubSpot records matching needs, the links between accounting records and HubSpot
-- records (with how each was made), the delta write-back (what was last written, what is waiting) and
-- incremental sync cursors.

-- One OAuth install per portal. Tokens are AES-256-GCM envelopes (see src/secrets/crypto.ts), never plain.
CREATE TABLE hubspot_installs (
  portal_id          bigint PRIMARY KEY REFERENCES portals (portal_id) ON DELETE CASCADE,
  hub_domain         text,
  scopes             text NOT NULL DEFAULT '',
  access_token_enc   text NOT NULL,
  refresh_token_enc  text NOT NULL,
  expires_at         timestamptz NOT NULL,
  installed_at       timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- POST actions from cards carry an idempotency key: the first response is kept and replayed.
CREATE TABLE idempotency_keys (
  portal_id     bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  key           text NOT NULL,
  method        text NOT NULL,
  path          text NOT NULL,
  request_hash  text NOT NULL,
  status_code   integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, key)
);

-- The HubSpot records matching reads, copied from HubSpot (source of truth stays HubSpot).
CREATE TABLE hubspot_companies (
  portal_id      bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  company_id     text NOT NULL,
  name           text,
  domain         text,
  customer_ref   text,            -- the arbridge_customer_id property: an explicit accounting customer id
  owner_id       text,
  hs_updated_at  timestamptz,
  synced_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, company_id)
);
CREATE INDEX hubspot_companies_by_domain ON hubspot_companies (portal_id, domain);

CREATE TABLE hubspot_deals (
  portal_id      bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  deal_id        text NOT NULL,
  name           text,
  amount         text,            -- as HubSpot holds it (a decimal string)
  currency       text,
  stage          text,
  owner_id       text,
  company_id     text,            -- the primary associated company
  reference      text,            -- a quote or PO reference, from the configured deal property
  hs_updated_at  timestamptz,
  synced_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, deal_id)
);
CREATE INDEX hubspot_deals_by_reference ON hubspot_deals (portal_id, reference);

-- Explicit customer ↔ company mappings loaded from a CSV (arbridge hubspot map-companies).
CREATE TABLE company_mappings (
  portal_id    bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source       text NOT NULL,
  external_id  text NOT NULL,
  company_id   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, source, external_id)
);

-- A PO or quote reference on an invoice, and the deal HubSpot associates with it (HubSpot-sourced invoices).
ALTER TABLE invoices ADD COLUMN reference text;
ALTER TABLE invoices ADD COLUMN hubspot_deal_id text;

-- Customer ↔ company. company_id is null for a manual unlink, which later matching respects.
CREATE TABLE company_links (
  portal_id    bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  customer_id  bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  company_id   text,
  method       text NOT NULL CHECK (method IN ('hubspot', 'explicit_id', 'mapping', 'domain', 'name', 'manual', 'manual_unlink')),
  detail       text,
  linked_by    text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, customer_id),
  CHECK ((method = 'manual_unlink') = (company_id IS NULL))
);
CREATE INDEX company_links_by_company ON company_links (portal_id, company_id);

-- Invoice ↔ deal, the same way.
CREATE TABLE deal_links (
  portal_id    bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  invoice_id   bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  deal_id      text,
  method       text NOT NULL CHECK (method IN ('invoice_deal_id', 'association', 'reference', 'manual', 'manual_unlink')),
  detail       text,
  linked_by    text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, invoice_id),
  CHECK ((method = 'manual_unlink') = (deal_id IS NULL))
);
CREATE INDEX deal_links_by_deal ON deal_links (portal_id, deal_id);

-- The value last confirmed written per record and property: the base of delta writes.
CREATE TABLE hubspot_written (
  portal_id    bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  object_type  text NOT NULL CHECK (object_type IN ('companies', 'deals')),
  object_id    text NOT NULL,
  property     text NOT NULL,
  value        text NOT NULL,
  written_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, object_type, object_id, property)
);

-- Property writes waiting for HubSpot: one row per record, replaced while it waits; `version` grows with
-- every replacement so a confirmation deletes the row only when nothing newer arrived meanwhile. A worker
-- sending a row holds its lease (`lease_token` until `leased_until`); nothing else claims it meanwhile.
CREATE TABLE hubspot_outbox (
  id               bigserial PRIMARY KEY,
  portal_id        bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  object_type      text NOT NULL CHECK (object_type IN ('companies', 'deals')),
  object_id        text NOT NULL,
  properties       jsonb NOT NULL,
  version          integer NOT NULL DEFAULT 1,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_token      text,
  leased_until     timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (portal_id, object_type, object_id)
);
CREATE INDEX hubspot_outbox_due ON hubspot_outbox (portal_id, next_attempt_at);

-- HubSpot webhook events as delivered (signed, per portal), kept once per event id: deliveries are retried
-- and may come in any order; what acts on them reads this table.
CREATE TABLE hubspot_webhook_events (
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  event_id           text NOT NULL,
  subscription_type  text NOT NULL,
  object_type_id     text,
  object_id          text NOT NULL,
  property_name      text,
  property_value     text,
  occurred_at        timestamptz NOT NULL,
  received_at        timestamptz NOT NULL DEFAULT now(),
  processed_at       timestamptz,
  PRIMARY KEY (portal_id, event_id)
);
CREATE INDEX hubspot_webhook_events_unprocessed ON hubspot_webhook_events (portal_id, received_at) WHERE processed_at IS NULL;

-- Where each incremental pull stopped; advanced in the transaction that stores what it covers.
CREATE TABLE sync_cursors (
  portal_id   bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  source      text NOT NULL,
  stream      text NOT NULL,
  cursor      text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, source, stream)
);
