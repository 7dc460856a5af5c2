/*
 * write.c: the local write path, the only way the client changes records.
 *
 * A local write is one SQLite transaction: write_begin loads the clock,
 * each write_change_tx stamps one change, checks it exactly as the server
 * will (validate.c), applies it through the merge like any pulled change
 * and queues it in the outbox as "saved"; write_commit stores the clock
 * and commits. So the records, the outbox and the clock move together or
 * not at all, and nothing is acknowledged before COMMIT returned.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridkeep.h"

int
write_begin(struct gk_client *c, struct gk_error *err)
{
	char buf[64];
	uint64_t last;
	int rc;

	if (c->db == NULL)
		return gk_error_set(err, GK_E_USAGE, "%s",
		                    _("no replica is open"));
	if (c->merge == NULL && (c->merge = merge_new(c->db, err)) == NULL)
		return err != NULL ? err->code : GK_E_DB;
	if (db_begin(c->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, _("cannot begin: %s"),
		                    sqlite3_errmsg(c->db));

	rc = replica_meta_get(c, "hlc", buf, sizeof buf, err);
	if (rc == GK_OK) {
		if (hlc_parse(buf, strlen(buf), &last) != GK_OK) {
			db_rollback(c->db);
			return gk_error_set(
			    err, GK_E_CORRUPT, "%s",
			    _("the replica's clock is damaged"));
		}
		if (last > c->clock.last)
			c->clock.last = last;
	} else if (rc != GK_E_NOT_FOUND) {
		db_rollback(c->db);
		return rc;
	}

	rc = replica_meta_get(c, "clock_offset", buf, sizeof buf, err);
	if (rc == GK_OK) {
		char *end;
		long long off = strtoll(buf, &end, 10);

		/* A damaged offset is ignored: the wall clock is still right
		 * enough, and the next sync rewrites it. */
		if (end != buf && *end == '\0')
			c->clock_offset_ms = off;
	} else if (rc != GK_E_NOT_FOUND) {
		db_rollback(c->db);
		return rc;
	}
	return GK_OK;
}

int
write_commit(struct gk_client *c, struct gk_error *err)
{
	char stamp[GK_HLC_LEN + 1];
	int rc;

	hlc_format(c->clock.last, stamp);
	if ((rc = replica_meta_put_tx(c, "hlc", stamp, err)) != GK_OK) {
		db_rollback(c->db);
		return rc;
	}
	if ((rc = db_commit(c->db)) != GK_OK)
		return gk_error_set(err, rc, _("cannot commit: %s"),
		                    sqlite3_errmsg(c->db));
	return GK_OK;
}

void
write_rollback(struct gk_client *c)
{
	if (c->db != NULL)
		db_rollback(c->db);
}

/* Queue the change in the outbox as "saved". */
static int
write_outbox_tx(struct gk_client *c, const struct gk_change *ch,
                struct gk_error *err)
{
	sqlite3_stmt *st;
	char *json;
	int rc;

	if ((json = change_encode(ch)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	if (sqlite3_prepare_v2(c->db,
	                       "INSERT INTO outbox(id, tbl, row_id, json, "
	                       "state, created_at) "
	                       "VALUES(?1, ?2, ?3, ?4, 'saved', ?5)",
	                       -1, &st, NULL) != SQLITE_OK) {
		free(json);
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	}
	sqlite3_bind_text(st, 1, ch->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ch->table->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ch->row, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, c->env.now_ms(c->env.arg));
	rc = sqlite3_step(st) == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "outbox: %s",
	                        sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	free(json);
	return rc;
}

int
write_change_tx(struct gk_client *c, const char *table, enum gk_op op,
                const char *row, json_t *fields, char change_id[GK_ID_LEN + 1],
                struct gk_error *err)
{
	struct gk_change ch;
	struct gk_actor actor;
	enum gk_applied applied;
	uint64_t saved_clock = c->clock.last;
	int rc;

	if (!c->sess.logged_in)
		return gk_error_set(err, GK_E_AUTH, "%s",
		                    _("not logged in: gridkeep login SERVER "
		                      "USER"));
	if (c->merge == NULL || sqlite3_get_autocommit(c->db))
		return gk_error_set(err, GK_E_USAGE,
		                    "write_change_tx outside write_begin");
	memset(&ch, 0, sizeof ch);
	if ((ch.table = record_table(table)) == NULL)
		return gk_error_set(err, GK_E_UNKNOWN_TABLE,
		                    _("unknown table %s"), table);
	if (row == NULL || !uuid_valid(row, strlen(row)))
		return gk_error_set(err, GK_E_ID, "%s",
		                    _("the record id is not a valid id"));
	if (!json_is_object(fields))
		return gk_error_set(err, GK_E_TYPE, "%s",
		                    _("the fields are not an object"));
	uuid_v7(&c->env, ch.id);
	ch.node = c->node;
	ch.hlc = hlc_now(&c->clock, client_now_ms(c));
	ch.op = op;
	memcpy(ch.row, row, GK_ID_LEN + 1);
	snprintf(ch.author, sizeof ch.author, "%s", c->sess.user_id);
	ch.fields = fields; /* borrowed: never change_clear'ed here */

	actor.role = c->sess.role;
	actor.user_id = c->sess.user_id;
	if ((rc = validate_change(&ch, &actor, &c->policy, err)) != GK_OK ||
	    (rc = validate_change_tx(c->db, &ch, &c->policy, err)) != GK_OK) {
		c->clock.last = saved_clock;
		return rc;
	}

	/* A savepoint, so a failure half-way leaves the transaction as it
	 * was and the caller may go on or roll back. */
	if (db_exec(c->db, "SAVEPOINT write_change", err) != GK_OK)
		return GK_E_DB;
	if ((rc = merge_apply_tx(c->merge, &ch, &applied, err)) != GK_OK ||
	    (rc = write_outbox_tx(c, &ch, err)) != GK_OK) {
		sqlite3_exec(c->db,
		             "ROLLBACK TO write_change; RELEASE write_change",
		             NULL, NULL, NULL);
		c->clock.last = saved_clock;
		return rc;
	}
	if (db_exec(c->db, "RELEASE write_change", err) != GK_OK)
		return GK_E_DB;
	if (change_id != NULL)
		memcpy(change_id, ch.id, GK_ID_LEN + 1);
	return GK_OK;
}
