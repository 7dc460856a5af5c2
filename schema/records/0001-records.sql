-- 0001-records.sql: the record tables that the server and every replica share.
--
-- Columns after "id" follow sync/record.c field by field (tests/test-schema
-- checks it). Mutable tables end with "_stamps": the (HLC, node) of the
-- change that last set each field, 16 bytes per field, used by the merge.
-- Append-only tables end with author, hlc and node of the change that made
-- the row. No NOT NULL on fields: a change may arrive before the one that
-- created its row, and the merge must accept it in any order.

CREATE TABLE units (
  id TEXT PRIMARY KEY,
  parent TEXT, level TEXT, name TEXT, code TEXT, households INTEGER,
  deleted INTEGER,
  _stamps BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX units_parent ON units(parent);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT, display_name TEXT, role TEXT, unit TEXT, active INTEGER,
  deleted INTEGER,
  _stamps BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_unit ON users(unit);

CREATE TABLE items (
  id TEXT PRIMARY KEY,
  code TEXT, name TEXT, uom TEXT, shelf_life_days INTEGER, deleted INTEGER,
  _stamps BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE depots (
  id TEXT PRIMARY KEY,
  unit TEXT, name TEXT, place TEXT, lat REAL, lon REAL, custodian TEXT,
  contact TEXT, agreement INTEGER, deleted INTEGER,
  _stamps BLOB NOT NULL
);
CREATE INDEX depots_unit ON depots(unit);

CREATE TABLE standards (
  id TEXT PRIMARY KEY,
  depot TEXT, item TEXT, min_qty INTEGER, deleted INTEGER,
  _stamps BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX standards_depot_item ON standards(depot, item);

CREATE TABLE volunteers (
  id TEXT PRIMARY KEY,
  unit TEXT, name TEXT, contact TEXT, skills TEXT, active INTEGER,
  deleted INTEGER,
  _stamps BLOB NOT NULL
);
CREATE INDEX volunteers_unit ON volunteers(unit);

CREATE TABLE notices (
  id TEXT PRIMARY KEY,
  unit TEXT, kind TEXT, level INTEGER, title TEXT, body TEXT,
  expires_at TEXT, targets TEXT, occurred_at TEXT, deleted INTEGER,
  _stamps BLOB NOT NULL
);
CREATE INDEX notices_unit ON notices(unit);

-- status .. conflicts are derived from hazard_events by sync/hazard.c.
CREATE TABLE hazards (
  id TEXT PRIMARY KEY,
  grid TEXT, category TEXT, risk_level INTEGER, title TEXT, description TEXT,
  place TEXT, lat REAL, lon REAL, occurred_at TEXT, deleted INTEGER,
  _stamps BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'new',
  reporter TEXT,
  plan_measures TEXT, plan_responsible TEXT, plan_deadline TEXT,
  plan_acceptor TEXT,
  resolved_at TEXT,
  conflicts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hazards_grid_status ON hazards(grid, status);

-- conflict is derived: 1 when the event's transition was illegal at its
-- place in (hlc, node) order.
CREATE TABLE hazard_events (
  id TEXT PRIMARY KEY,
  hazard TEXT, kind TEXT, from_status TEXT, to_status TEXT, note TEXT,
  plan_measures TEXT, plan_responsible TEXT, plan_deadline TEXT,
  plan_acceptor TEXT, reject_reason TEXT, duplicate_of TEXT, occurred_at TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL,
  conflict INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hazard_events_order ON hazard_events(hazard, hlc, node, id);

CREATE TABLE inspections (
  id TEXT PRIMARY KEY,
  grid TEXT, occurred_at TEXT, ended_at TEXT, checklist TEXT, notes TEXT,
  places_visited INTEGER, hazards_found TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL
);
CREATE INDEX inspections_grid_time ON inspections(grid, occurred_at);

CREATE TABLE stock_moves (
  id TEXT PRIMARY KEY,
  depot TEXT, item TEXT, kind TEXT, quantity INTEGER, lot TEXT, expiry TEXT,
  source TEXT, purpose TEXT, recipient TEXT, transfer_id TEXT,
  counterpart TEXT, request_id TEXT, counted INTEGER, seen_on_hand INTEGER,
  dispose_reason TEXT, note TEXT, occurred_at TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX stock_moves_depot_item ON stock_moves(depot, item);
CREATE INDEX stock_moves_transfer ON stock_moves(transfer_id)
  WHERE transfer_id IS NOT NULL;

CREATE TABLE point_entries (
  id TEXT PRIMARY KEY,
  volunteer TEXT, kind TEXT, points INTEGER, minutes INTEGER, activity TEXT,
  ref_entry TEXT, reason TEXT, occurred_at TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL
) WITHOUT ROWID;
-- Balances by volunteer, and the one-earn-per-(activity, volunteer) check
-- of validate_change_tx. Deliberately not UNIQUE: two offline replicas can
-- each record an earn for one activity; the server refuses the second at
-- push, and a replica must still be able to apply any page it pulls.
CREATE INDEX point_entries_volunteer ON point_entries(volunteer, kind, activity);

CREATE TABLE notice_acks (
  id TEXT PRIMARY KEY,
  notice TEXT, households_told INTEGER, households_total INTEGER, note TEXT,
  occurred_at TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX notice_acks_notice ON notice_acks(notice, author);

CREATE TABLE replenishment_requests (
  id TEXT PRIMARY KEY,
  depot TEXT, item TEXT, quantity INTEGER, upstream TEXT, parent TEXT,
  reason TEXT, occurred_at TEXT,
  author TEXT, hlc INTEGER NOT NULL, node TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX replenishment_requests_depot ON replenishment_requests(depot);
CREATE INDEX replenishment_requests_upstream ON replenishment_requests(upstream);
