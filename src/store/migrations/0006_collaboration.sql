-- ARBridge schema 6 (collaboration): help requests, HubSpot tasks written exactly once, the escalation
-- ladder's steps and exceptions, and big-deal alerts.

-- AR asks the owner of a company or deal for help on an overdue account: what is needed and by when.
CREATE TABLE help_requests (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  customer_id        bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  object_type        text NOT NULL CHECK (object_type IN ('company', 'deal')),
  object_id          text NOT NULL,
  company_id         text,
  deal_id            text,
  owner_id           text,
  needed             text NOT NULL CHECK (length(needed) BETWEEN 1 AND 2000),
  needed_by          date NOT NULL,
  status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'done', 'declined')),
  requested_by       text,
  requested_on       date NOT NULL,
  sla_due_on         date NOT NULL,
  answered_on        date,
  status_by          text,
  escalated_on       date,
  escalated_to       text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX help_requests_company ON help_requests (portal_id, company_id, id DESC);
CREATE INDEX help_requests_deal ON help_requests (portal_id, deal_id, id DESC);
CREATE INDEX help_requests_open ON help_requests (portal_id, status, sla_due_on);

-- A HubSpot task to create, once. The row (with its unique key) is committed before the call; the task id is
-- recorded after it. `attempts` counts calls sent: a row with attempts > 0 and no id may have a task in
-- HubSpot already (a lost answer), which is looked up by its marker before another create.
CREATE TABLE hubspot_tasks (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  task_key           text NOT NULL,
  purpose            text NOT NULL CHECK (purpose IN ('help_request', 'help_request_sla', 'escalation', 'big_deal')),
  owner_id           text,
  subject            text NOT NULL,
  body               text NOT NULL,
  due_on             date NOT NULL,
  company_id         text,
  deal_id            text,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'created', 'failed')),
  attempts           integer NOT NULL DEFAULT 0,
  hubspot_task_id    text,
  last_error         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  sent_at            timestamptz,
  CHECK (company_id IS NOT NULL OR deal_id IS NOT NULL),
  UNIQUE (portal_id, task_key)
);
CREATE INDEX hubspot_tasks_pending ON hubspot_tasks (portal_id, id) WHERE status = 'pending';

-- Management by exception: a customer's ladder steps are held until an end date (inclusive), for a reason.
-- `actions` null holds every step, else only those named.
CREATE TABLE escalation_exceptions (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  customer_id        bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  until              date NOT NULL,
  actions            text[],
  created_by         text,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalation_exceptions_customer ON escalation_exceptions (portal_id, customer_id, until);

-- Each ladder step taken: once per invoice and action, with who and when.
CREATE TABLE escalation_steps (
  id                 bigserial PRIMARY KEY,
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  customer_id        bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  invoice_id         bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  action             text NOT NULL CHECK (action IN ('reminder', 'ask_rep', 'escalate_manager', 'credit_hold')),
  level_days         integer NOT NULL,
  days_past_due      integer NOT NULL,
  taken_on           date NOT NULL,
  taken_by           text NOT NULL,
  taken_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (portal_id, invoice_id, action)
);
CREATE INDEX escalation_steps_customer ON escalation_steps (portal_id, customer_id, taken_on DESC);

-- One AR alert per deal that closed won at or above the big-deal threshold.
CREATE TABLE big_deal_alerts (
  portal_id          bigint NOT NULL REFERENCES portals (portal_id) ON DELETE CASCADE,
  deal_id            text NOT NULL,
  amount_minor       bigint NOT NULL,
  currency           text NOT NULL,
  stage              text NOT NULL,
  event_id           text,
  company_id         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (portal_id, deal_id)
);
