-- ARBridge schema 7: disputes are resolved (when and how), and log entries are mirrored to HubSpot as notes.

-- A dispute is open until resolved: resolved_on and resolution are set together, with status 'resolved'.
ALTER TABLE communication_log
  ADD COLUMN resolved_on date,
  ADD COLUMN resolution text CHECK (resolution IS NULL OR length(resolution) BETWEEN 1 AND 2000),
  -- Set (committed) before the note is created in HubSpot: a row with an intent and no hubspot_note_id may
  -- have a note already (a lost answer), which is looked up by its marker before creating another.
  ADD COLUMN hubspot_note_intent_at timestamptz,
  ADD CONSTRAINT communication_log_resolved CHECK ((resolved_on IS NULL) = (resolution IS NULL)),
  ADD CONSTRAINT communication_log_dispute_status CHECK (kind <> 'dispute' OR status IN ('open', 'resolved'));

CREATE INDEX communication_log_notes_pending ON communication_log (portal_id, id) WHERE hubspot_note_id IS NULL;
