-- ARBridge schema 3: a per-portal data version. Every transaction that changes what cards show (facts,
-- links, the HubSpot mirror, policies) increments it as its last statement, so the new version becomes
-- visible together with the data; card answers are cached per portal and record until it moves.
ALTER TABLE portals ADD COLUMN data_version bigint NOT NULL DEFAULT 0;
