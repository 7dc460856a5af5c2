-- 0002-ui-indexes.sql: indexes for the terminal UI's lists (client only).
--
-- The hazard list is ordered by risk level, then the newest occurred time,
-- and filtered by status, risk, deadline and deletion: this index holds
-- all of those, so counting the list and skipping to a window of it (the
-- screen reads only the rows it shows) never touches the table rows, on a
-- replica of hundreds of thousands of records.
CREATE INDEX IF NOT EXISTS hazards_ui_list ON hazards(
  risk_level, occurred_at DESC, id DESC, status, deleted, plan_deadline);
