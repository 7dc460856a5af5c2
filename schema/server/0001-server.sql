-- 0001-server.sql: tables only gridkeepd holds; they never leave the server.
--
-- server_meta: this database's id (a restored backup keeps it, a new
-- database gets a new one) and the server's node id.
-- credentials: password hashes, apart from the synced users table.
-- sessions: one row per device login; only the SHA-256 of a token.
-- login_failures: throttling counters, kept across restarts.
-- changes: the change log. seq is the rowid, so appending is cheap; json
-- is the change exactly as a pull sends it. change_scopes lists the units a
-- change belongs to, so a pull scans only its scope, in seq order.

CREATE TABLE server_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE credentials (
  user_id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  changed_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  user_id TEXT NOT NULL,
  device TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  locked_until INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE changes (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  author TEXT,
  received_at INTEGER NOT NULL, -- server clock, ms since the epoch
  json TEXT NOT NULL
);
CREATE INDEX changes_row ON changes(row_id, seq);

CREATE TABLE change_scopes (
  unit TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (unit, seq)
) WITHOUT ROWID;
