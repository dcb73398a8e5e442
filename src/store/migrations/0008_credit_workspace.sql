-- ARBridge schema 8: credit limits set by hand on the company card. The accounting source's limit stays in
-- credit_limit_minor/currency (syncs keep writing it); a manual limit lives beside it and wins while it is set,
-- so clearing it brings the source's limit back at once.
ALTER TABLE customers
  ADD COLUMN manual_credit_limit_minor bigint,
  ADD COLUMN manual_credit_limit_currency text,
  ADD COLUMN credit_limit_set_by text,
  ADD COLUMN credit_limit_set_at timestamptz,
  ADD CONSTRAINT customers_manual_credit_limit_check CHECK (
    (manual_credit_limit_minor IS NULL) = (manual_credit_limit_currency IS NULL)
    AND (manual_credit_limit_minor IS NULL OR manual_credit_limit_minor >= 0));

-- The workspace's promise lists read promises by due date.
CREATE INDEX communication_log_promises ON communication_log (portal_id, promise_date) WHERE kind = 'promise';
