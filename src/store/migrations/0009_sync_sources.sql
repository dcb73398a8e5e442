-- ARBridge schema 9: HubSpot's invoice object and CSV files are read through the sync engine too, so their
-- runs are recorded in sync_runs beside those of the accounting connections.
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_source_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_source_check CHECK (source IN ('quickbooks', 'xero', 'stripe', 'hubspot', 'csv'));
