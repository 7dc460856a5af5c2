/*
 * merge.c: applying a change to a replica, so that every replica that has
 * applied the same set of changes holds the same rows, whatever the order
 * of arrival and however often a change arrives.
 *
 * Mutable records (units, users, items, depots, standards, volunteers,
 * notices, hazards) merge field by field, last writer wins. Each row keeps
 * in its "_stamps" column the (hlc, node) of the change that last set each
 * field: GK_STAMP_LEN bytes per field in the order of record.c, 8 bytes of
 * hlc then 8 of node, both big-endian, so memcmp orders stamps the way
 * change_cmp_stamp does. All zeros = never set. A change sets a field only
 * if its stamp is greater than the field's; so the greatest stamp wins for
 * every field no matter the order, and re-applying a change is a no-op.
 * A delete is a tombstone: the "deleted" field set to true under the same
 * rule. A change may arrive before the one that created its row (pull
 * pages, random delivery); it then creates the row with just its fields.
 *
 * Append-only records are inserted if absent (by id) and never changed.
 * Their author, hlc and node come from the change. A hazard event (or a
 * hazard row arriving after its events) re-derives the hazard's status in
 * hazard.c, inside the same transaction.
 *
 * A client whose change the server refused for its clock (clock_skew)
 * stamps it again and re-sends it; merge_restamp_tx then moves the old
 * stamp to the new one wherever the row still holds it, so the replica
 * ends as if the change had been made with the new stamp.
 *
 * Cost: one indexed lookup and one write per mutable change, one insert per
 * append; statements are prepared once per struct gk_merge and reused.
 * Nothing here validates: callers check untrusted changes with validate.c
 * first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

#define GK_STAMP_LEN 16

struct table_stmts {
	sqlite3_stmt *select;  /* mutable: _stamps of a row */
	sqlite3_stmt *insert;  /* both: a whole row */
	sqlite3_stmt *update;  /* mutable: flagged fields + _stamps */
	sqlite3_stmt *restamp; /* mutable: _stamps; append: hlc of a row */
};

struct gk_merge {
	sqlite3 *db;
	struct gk_hazard_deriver *haz;
	const struct gk_table *hazards, *events;
	int ntables;
	struct table_stmts *st;
};

static int
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out, struct gk_error *err)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
	                       NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "prepare: %s",
		                    sqlite3_errmsg(db));
	return GK_OK;
}

/* A growable SQL text; the statements are short, so a fixed buffer will do. */
struct sqlbuf {
	char s[4096];
	size_t n;
};

static void
sql_add(struct sqlbuf *b, const char *text)
{
	size_t k = strlen(text);

	if (b->n + k < sizeof b->s) {
		memcpy(b->s + b->n, text, k + 1);
		b->n += k;
	}
}

static int
prepare_table(struct gk_merge *m, const struct gk_table *t,
              struct table_stmts *ts, struct gk_error *err)
{
	struct sqlbuf b = {.n = 0};
	char num[64];
	int rc, n = t->nfields;

	/* INSERT INTO t(id, f..., _stamps | author, hlc, node) VALUES(?...) */
	sql_add(&b, "INSERT INTO ");
	sql_add(&b, t->name);
	sql_add(&b, "(id");
	for (int i = 0; i < n; i++) {
		sql_add(&b, ",");
		sql_add(&b, t->fields[i].name);
	}
	sql_add(&b, t->kind == GK_MUTABLE ? ",_stamps) VALUES(?"
	                                  : ",author,hlc,node) VALUES(?");
	for (int i = 0; i < n + (t->kind == GK_MUTABLE ? 1 : 3); i++)
		sql_add(&b, ",?");
	sql_add(&b,
	        t->kind == GK_MUTABLE ? ")" : ") ON CONFLICT(id) DO NOTHING");
	if (b.n >= sizeof b.s - 1)
		return gk_error_set(err, GK_E_DB, "statement too long");
	if ((rc = prepare(m->db, b.s, &ts->insert, err)) != GK_OK)
		return rc;
	b.n = 0;
	sql_add(&b, "UPDATE ");
	sql_add(&b, t->name);
	sql_add(&b, t->kind == GK_MUTABLE
	                ? " SET _stamps=?2 WHERE id=?1"
	                : " SET hlc=?2 WHERE id=?1 AND hlc=?3 AND node=?4");
	if ((rc = prepare(m->db, b.s, &ts->restamp, err)) != GK_OK)
		return rc;
	if (t->kind == GK_APPEND)
		return GK_OK;

	b.n = 0;
	sql_add(&b, "SELECT _stamps FROM ");
	sql_add(&b, t->name);
	sql_add(&b, " WHERE id=?1");
	if ((rc = prepare(m->db, b.s, &ts->select, err)) != GK_OK)
		return rc;

	/* UPDATE t SET f = CASE WHEN ?flag THEN ?value ELSE f END, ... */
	b.n = 0;
	sql_add(&b, "UPDATE ");
	sql_add(&b, t->name);
	sql_add(&b, " SET ");
	for (int i = 0; i < n; i++) {
		const char *f = t->fields[i].name;
		sql_add(&b, f);
		snprintf(num, sizeof num, "=CASE WHEN ?%d THEN ?%d ELSE ",
		         2 + 2 * i, 3 + 2 * i);
		sql_add(&b, num);
		sql_add(&b, f);
		sql_add(&b, " END,");
	}
	snprintf(num, sizeof num, "_stamps=?%d WHERE id=?1", 2 + 2 * n);
	sql_add(&b, num);
	if (b.n >= sizeof b.s - 1)
		return gk_error_set(err, GK_E_DB, "statement too long");
	return prepare(m->db, b.s, &ts->update, err);
}

struct gk_merge *
merge_new(sqlite3 *db, struct gk_error *err)
{
	const struct gk_table *const *tables;
	struct gk_merge *m = calloc(1, sizeof *m);
	int n;

	if (m == NULL) {
		gk_error_set(err, GK_E_NOMEM, "out of memory");
		return NULL;
	}
	tables = record_tables(&n);
	m->db = db;
	m->ntables = n;
	m->hazards = record_table("hazards");
	m->events = record_table("hazard_events");
	m->st = calloc((size_t)n, sizeof *m->st);
	if (m->st == NULL) {
		gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < n; i++)
		if (prepare_table(m, tables[i], &m->st[i], err) != GK_OK)
			goto fail;
	if ((m->haz = hazard_deriver_new(db, err)) == NULL)
		goto fail;
	return m;
fail:
	merge_free(m);
	return NULL;
}

void
merge_free(struct gk_merge *m)
{
	if (m == NULL)
		return;
	for (int i = 0; m->st != NULL && i < m->ntables; i++) {
		sqlite3_finalize(m->st[i].select);
		sqlite3_finalize(m->st[i].insert);
		sqlite3_finalize(m->st[i].update);
		sqlite3_finalize(m->st[i].restamp);
	}
	free(m->st);
	hazard_deriver_free(m->haz);
	free(m);
}

/* Bind a JSON field value (already validated) as its column's value. */
static int
bind_value(sqlite3_stmt *st, int idx, const struct gk_field *f, json_t *v)
{
	char *s;
	int rc;

	if (v == NULL || json_is_null(v))
		return sqlite3_bind_null(st, idx);
	switch (f->type) {
	case GK_F_BOOL:
		return sqlite3_bind_int(st, idx, json_is_true(v));
	case GK_F_INT:
		return sqlite3_bind_int64(st, idx, json_integer_value(v));
	case GK_F_REAL:
		return sqlite3_bind_double(st, idx, json_number_value(v));
	case GK_F_IDLIST:
		s = json_dumps(v, JSON_COMPACT);
		if (s == NULL)
			return SQLITE_NOMEM;
		rc = sqlite3_bind_text(st, idx, s, -1, free);
		return rc;
	default:
		if (!json_is_string(v))
			return sqlite3_bind_null(st, idx);
		return sqlite3_bind_text(st, idx, json_string_value(v),
		                         (int)json_string_length(v),
		                         SQLITE_TRANSIENT);
	}
}

static void
stamp_put(unsigned char *p, uint64_t hlc, uint64_t node)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (unsigned char)(hlc >> (56 - 8 * i));
		p[8 + i] = (unsigned char)(node >> (56 - 8 * i));
	}
}

/* The value a change sets for field i, or NULL if it does not set it. */
static json_t *
change_value(const struct gk_change *c, int i, int deleted_field,
             json_t *true_value)
{
	if (c->op == GK_OP_DELETE)
		return i == deleted_field ? true_value : NULL;
	return json_object_get(c->fields, c->table->fields[i].name);
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st, struct gk_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	return GK_OK;
}

static int
apply_mutable(struct gk_merge *m, const struct gk_change *c,
              struct table_stmts *ts, enum gk_applied *applied,
              struct gk_error *err)
{
	const struct gk_table *t = c->table;
	unsigned char stamps[GK_MAX_FIELDS * GK_STAMP_LEN];
	unsigned char mine[GK_STAMP_LEN];
	size_t slen = (size_t)t->nfields * GK_STAMP_LEN;
	int deleted_field = record_field(t, "deleted");
	json_t *yes = json_true();
	int rc, exists, taken = 0;

	stamp_put(mine, c->hlc, c->node);
	memset(stamps, 0, slen);
	sqlite3_bind_text(ts->select, 1, c->row, -1, SQLITE_STATIC);
	rc = sqlite3_step(ts->select);
	exists = rc == SQLITE_ROW;
	if (exists) {
		const void *blob = sqlite3_column_blob(ts->select, 0);
		size_t have = (size_t)sqlite3_column_bytes(ts->select, 0);
		/* A row written before a migration added fields is shorter:
		 * the new fields were never set. */
		memcpy(stamps, blob, have < slen ? have : slen);
	}
	sqlite3_reset(ts->select);
	sqlite3_clear_bindings(ts->select);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(m->db));

	sqlite3_stmt *st = exists ? ts->update : ts->insert;
	for (int i = 0; i < t->nfields; i++) {
		json_t *v = change_value(c, i, deleted_field, yes);
		unsigned char *s = stamps + (size_t)i * GK_STAMP_LEN;
		int take = v != NULL && memcmp(mine, s, GK_STAMP_LEN) > 0;

		if (take) {
			memcpy(s, mine, GK_STAMP_LEN);
			taken++;
		}
		if (exists) {
			sqlite3_bind_int(st, 2 + 2 * i, take);
			if (take)
				bind_value(st, 3 + 2 * i, &t->fields[i], v);
		} else if (take) {
			bind_value(st, 2 + i, &t->fields[i], v);
		}
	}
	if (taken == 0) {
		sqlite3_clear_bindings(st);
		*applied = GK_APPLY_NOOP;
		return GK_OK;
	}
	sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, exists ? 2 + 2 * t->nfields : 2 + t->nfields,
	                  stamps, (int)slen, SQLITE_STATIC);
	if ((rc = step_done(m->db, st, err)) != GK_OK)
		return rc;
	*applied = GK_APPLY_NEW;
	/* A hazard whose events arrived first is derived on its insert. */
	if (!exists && t == m->hazards)
		return hazard_derive_tx(m->haz, c->row, err);
	return GK_OK;
}

static int
apply_append(struct gk_merge *m, const struct gk_change *c,
             struct table_stmts *ts, enum gk_applied *applied,
             struct gk_error *err)
{
	const struct gk_table *t = c->table;
	sqlite3_stmt *st = ts->insert;
	char node[GK_NODE_LEN + 1];
	int rc, n = t->nfields;

	sqlite3_bind_text(st, 1, c->row, -1, SQLITE_STATIC);
	for (int i = 0; i < n; i++)
		bind_value(st, 2 + i, &t->fields[i],
		           json_object_get(c->fields, t->fields[i].name));
	if (c->author[0] != '\0')
		sqlite3_bind_text(st, 2 + n, c->author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3 + n, (sqlite3_int64)c->hlc);
	node_format(c->node, node);
	sqlite3_bind_text(st, 4 + n, node, GK_NODE_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(m->db));
	*applied = sqlite3_changes(m->db) > 0 ? GK_APPLY_NEW : GK_APPLY_NOOP;
	if (*applied == GK_APPLY_NEW && t == m->events) {
		json_t *h = json_object_get(c->fields, "hazard");
		if (json_is_string(h))
			return hazard_derive_tx(m->haz, json_string_value(h),
			                        err);
	}
	return GK_OK;
}

int
merge_apply_tx(struct gk_merge *m, const struct gk_change *c,
               enum gk_applied *applied, struct gk_error *err)
{
	struct table_stmts *ts = &m->st[c->table->index];
	enum gk_applied dummy;

	if (applied == NULL)
		applied = &dummy;
	*applied = GK_APPLY_NOOP;
	if (c->table->kind == GK_MUTABLE)
		return apply_mutable(m, c, ts, applied, err);
	return apply_append(m, c, ts, applied, err);
}

int
merge_apply_batch(struct gk_merge *m, const struct gk_change *cs, size_t n,
                  enum gk_applied *results, struct gk_error *err)
{
	int rc;

	if (db_begin(m->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "begin: %s",
		                    sqlite3_errmsg(m->db));
	for (size_t i = 0; i < n; i++) {
		rc = merge_apply_tx(m, &cs[i], results ? &results[i] : NULL,
		                    err);
		if (rc != GK_OK) {
			db_rollback(m->db);
			return rc;
		}
	}
	if ((rc = db_commit(m->db)) != GK_OK)
		return gk_error_set(err, rc, "commit: %s",
		                    sqlite3_errmsg(m->db));
	return GK_OK;
}

/*
 * A change this replica made was refused for its clock and stamped again
 * (the client re-sends it): move the stamp (old hlc, node) to (new_hlc,
 * node) wherever the local row still holds exactly that stamp, so that
 * this replica ends with what every other one will have. A mutable row's
 * fields keep their values; a ledger row its place, and a hazard event
 * re-derives its hazard.
 */
int
merge_restamp_tx(struct gk_merge *m, const struct gk_change *old,
                 uint64_t new_hlc, struct gk_error *err)
{
	const struct gk_table *t = old->table;
	struct table_stmts *ts = &m->st[t->index];
	unsigned char stamps[GK_MAX_FIELDS * GK_STAMP_LEN];
	unsigned char was[GK_STAMP_LEN], now[GK_STAMP_LEN];
	size_t slen = (size_t)t->nfields * GK_STAMP_LEN, have = 0;
	char node[GK_NODE_LEN + 1];
	int rc, moved = 0;

	if (t->kind == GK_APPEND) {
		node_format(old->node, node);
		sqlite3_bind_text(ts->restamp, 1, old->row, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ts->restamp, 2, (sqlite3_int64)new_hlc);
		sqlite3_bind_int64(ts->restamp, 3, (sqlite3_int64)old->hlc);
		sqlite3_bind_text(ts->restamp, 4, node, GK_NODE_LEN,
		                  SQLITE_STATIC);
		if ((rc = step_done(m->db, ts->restamp, err)) != GK_OK)
			return rc;
		if (sqlite3_changes(m->db) > 0 && t == m->events) {
			json_t *h = json_object_get(old->fields, "hazard");
			if (json_is_string(h))
				return hazard_derive_tx(
				    m->haz, json_string_value(h), err);
		}
		return GK_OK;
	}

	stamp_put(was, old->hlc, old->node);
	stamp_put(now, new_hlc, old->node);
	memset(stamps, 0, slen);
	sqlite3_bind_text(ts->select, 1, old->row, -1, SQLITE_STATIC);
	rc = sqlite3_step(ts->select);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(ts->select, 0);
		have = (size_t)sqlite3_column_bytes(ts->select, 0);
		if (have > slen)
			have = slen;
		memcpy(stamps, blob, have);
	}
	sqlite3_reset(ts->select);
	sqlite3_clear_bindings(ts->select);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(m->db));
	for (int i = 0; i < t->nfields; i++) {
		unsigned char *s = stamps + (size_t)i * GK_STAMP_LEN;
		if (memcmp(s, was, GK_STAMP_LEN) == 0) {
			memcpy(s, now, GK_STAMP_LEN);
			moved++;
		}
	}
	if (moved == 0)
		return GK_OK;
	sqlite3_bind_text(ts->restamp, 1, old->row, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ts->restamp, 2, stamps, (int)slen, SQLITE_STATIC);
	return step_done(m->db, ts->restamp, err);
}
