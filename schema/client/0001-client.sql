-- 0001-client.sql: tables only a station's replica holds.
--
-- client_meta: this install's node id, its HLC, the server and its
-- database id, the pull cursor.
-- outbox: every local change, as sent, with its visible state: saved here,
-- sent, accepted, or rejected (then also in rejected_changes).

CREATE TABLE client_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  json TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'saved'
    CHECK (state IN ('saved', 'sent', 'accepted', 'rejected')),
  created_at INTEGER NOT NULL,
  sent_at INTEGER
);
CREATE INDEX outbox_state ON outbox(state, seq);

CREATE TABLE rejected_changes (
  change_id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  rejected_at INTEGER NOT NULL
) WITHOUT ROWID;
