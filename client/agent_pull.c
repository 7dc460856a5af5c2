/*
 * agent_pull.c: the pull half of a sync, and agent_apply_page.
 *
 * Pages of changes after the stored cursor until "more" is false. Each
 * page is ONE transaction: its drops (rows the user may no longer hold,
 * a hazard with its events; their outbox rows stay), each change checked
 * for shape (change_from_json) and merged with the replica's prepared
 * statements (c->merge), then the new cursor and db_id. A page applied
 * twice changes nothing, so a cut anywhere resumes cleanly. Another db_id
 * than the stored one, or 409, is a changed database: the sync starts
 * over; bad_cursor pulls from the start.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agent.h"

/* ---- pull --------------------------------------------------------------- */

static int
agent_cursor_valid(const char *s, size_t len)
{
	if (len == 0 || len > AGENT_CURSOR_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		      ch == '_'))
			return 0;
	}
	return 1;
}

/* Delete one dropped row (a hazard with its events), inside the txn. */
static int
agent_drop_tx(struct gk_client *c, json_t *d, struct gk_error *err)
{
	json_t *tj = json_object_get(d, "table"),
	       *rj = json_object_get(d, "row");
	const struct gk_table *t;
	sqlite3_stmt *st;
	char sql[128];
	int rc;

	if (!json_is_string(tj) || !json_is_string(rj) ||
	    (t = record_table(json_string_value(tj))) == NULL ||
	    !uuid_valid(json_string_value(rj), json_string_length(rj)))
		return gk_error_set(err, GK_E_JSON, "%s",
		                    _("the server's drop list is malformed"));
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0)
			snprintf(sql, sizeof sql,
			         "DELETE FROM %s WHERE id = ?1", t->name);
		else if (strcmp(t->name, "hazards") == 0)
			snprintf(sql, sizeof sql,
			         "DELETE FROM hazard_events WHERE hazard = ?1");
		else
			break;
		if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
			return gk_error_set(err, GK_E_DB, "%s",
			                    sqlite3_errmsg(c->db));
		sqlite3_bind_text(st, 1, json_string_value(rj), -1,
		                  SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return gk_error_set(err, GK_E_DB, "%s",
			                    sqlite3_errmsg(c->db));
	}
	return GK_OK;
}

int
agent_apply_page(struct gk_client *c, json_t *page, int64_t *applied,
                 struct gk_error *err)
{
	json_t *cursor = json_object_get(page, "cursor");
	json_t *changes = json_object_get(page, "changes");
	json_t *drops = json_object_get(page, "drop");
	json_t *dbid = json_object_get(page, "db_id");
	json_t *more = json_object_get(page, "more");
	uint64_t max_hlc = 0;
	json_t *e;
	size_t i;
	int rc;

	*applied = 0;
	if (!json_is_object(page) || !json_is_string(cursor) ||
	    !agent_cursor_valid(json_string_value(cursor),
	                        json_string_length(cursor)) ||
	    !json_is_array(changes) ||
	    (drops != NULL && !json_is_array(drops)) || !json_is_string(dbid) ||
	    !uuid_valid(json_string_value(dbid), json_string_length(dbid)) ||
	    !json_is_boolean(more))
		return gk_error_set(err, GK_E_JSON, "%s",
		                    _("the server's pull answer is malformed"));
	if ((rc = agent_begin(c, 0, err)) != GK_OK)
		return rc;
	if ((rc = agent_load_clock_tx(c, err)) != GK_OK)
		goto fail;
	json_array_foreach (drops, i, e)
		if ((rc = agent_drop_tx(c, e, err)) != GK_OK)
			goto fail;
	json_array_foreach (changes, i, e) {
		struct gk_error ce = {0};
		struct gk_change ch;

		if ((rc = change_from_json(e, &ch, &ce)) != GK_OK) {
			gk_error_set(
			    err, rc,
			    _("the server sent a malformed change: %s"),
			    ce.msg);
			goto fail;
		}
		rc = merge_apply_tx(c->merge, &ch, NULL, err);
		if (ch.hlc > max_hlc)
			max_hlc = ch.hlc;
		change_clear(&ch);
		if (rc != GK_OK)
			goto fail;
		(*applied)++;
	}
	/* A stamp absurdly far ahead is applied, but not taken into the
	 * clock (AGENT_AHEAD_MS). */
	if (max_hlc != 0)
		hlc_recv(&c->clock, max_hlc, client_now_ms(c), AGENT_AHEAD_MS);
	if ((rc = replica_meta_put_tx(c, "cursor", json_string_value(cursor),
	                              err)) != GK_OK ||
	    (rc = replica_meta_put_tx(c, "db_id", json_string_value(dbid),
	                              err)) != GK_OK ||
	    (rc = agent_save_clock_tx(c, err)) != GK_OK)
		goto fail;
	return agent_commit(c, err);
fail:
	agent_rollback(c);
	return rc;
}

static int
agent_clear_cursor(struct gk_agent *a)
{
	struct gk_client *c = a->c;
	int rc;

	if (++a->restarts > AGENT_RESTARTS)
		return gk_error_set(&a->r.err, GK_E_CURSOR, "%s",
		                    _("the server keeps refusing our cursor"));
	if ((rc = agent_begin(c, 0, &a->r.err)) != GK_OK)
		return rc;
	if ((rc = db_exec(c->db, "DELETE FROM client_meta WHERE key = 'cursor'",
	                  &a->r.err)) != GK_OK) {
		agent_rollback(c);
		return rc;
	}
	return agent_commit(c, &a->r.err);
}

static void agent_pull_answer(void *arg, const struct net_answer *ans);

/* Ask for the page after cursor ("" = from the start). */
static int
agent_pull_request(struct gk_agent *a, const char *cursor)
{
	char path[AGENT_CURSOR_MAX + 64];

	if (cursor[0] != '\0')
		snprintf(path, sizeof path,
		         "/api/v1/sync/pull?cursor=%s&limit=%d", cursor,
		         AGENT_PAGE);
	else
		snprintf(path, sizeof path, "/api/v1/sync/pull?limit=%d",
		         AGENT_PAGE);
	return net_request(a->net, NET_GET, path, a->c->sess.token, NULL, 0,
	                   agent_pull_answer, a, &a->r.err);
}

/* Apply the page waiting in a->page; GK_OK or the sync is finished. */
static int
agent_pull_apply(struct gk_agent *a)
{
	json_t *page = a->page;
	int64_t n = 0;
	int rc;

	a->page = NULL;
	evtimer_del(a->apply_ev);
	if (page == NULL)
		return GK_OK;
	rc = agent_apply_page(a->c, page, &n, &a->r.err);
	if (rc == GK_OK) {
		a->r.pulled += n;
		a->r.dropped +=
		    (int64_t)json_array_size(json_object_get(page, "drop"));
		agent_progress(a, "pull", a->r.pulled, -1);
	}
	json_decref(page);
	if (rc != GK_OK)
		agent_finish(a, rc); /* also cancels the next page's request */
	return rc;
}

/* The page kept while the next one was asked for, applied from the loop. */
void
agent_pull_apply_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	agent_pull_apply(arg);
}

/*
 * A page arrived. When more follow, the next is asked for at once with
 * this page's cursor, and this page is applied from a timer of 0 s: the
 * loop sends the request first, so the server reads the next page while
 * we apply this one. The cursor is stored only with the page it follows,
 * so a crash in between pulls that page again, which changes nothing.
 */
static void
agent_pull_answer(void *arg, const struct net_answer *ans)
{
	struct gk_agent *a = arg;
	struct gk_client *c = a->c;
	static const struct timeval now = {0, 0};
	char stored[GK_ID_LEN + 2];
	struct gk_error ignored;
	json_t *dbid, *cursor;
	int rc;

	if (ans->status > 0)
		a->r.online = 1;
	/* The page before this one first, if it is still waiting. */
	if (agent_pull_apply(a) != GK_OK)
		return;
	if (ans->status == 200 && ans->json == NULL) {
		a->r.err = ans->err; /* not JSON */
		agent_finish(a, GK_E_JSON);
		return;
	}
	if (ans->status == 200) {
		dbid = json_object_get(ans->json, "db_id");
		if (replica_meta_get(c, "db_id", stored, sizeof stored,
		                     &ignored) != GK_OK)
			stored[0] = '\0';
		if (json_is_string(dbid) && stored[0] != '\0' &&
		    strcmp(stored, json_string_value(dbid)) != 0 &&
		    uuid_valid(json_string_value(dbid),
		               json_string_length(dbid))) {
			/* Another database behind the same server. */
			if ((rc = agent_db_changed(
			         a, json_string_value(dbid))) != GK_OK) {
				agent_finish(a, rc);
				return;
			}
			agent_push_next(a);
			return;
		}
		agent_learn_offset(a, ans->date_ms);
		a->page = json_incref(ans->json);
		cursor = json_object_get(ans->json, "cursor");
		if (!json_is_true(json_object_get(ans->json, "more"))) {
			if (agent_pull_apply(a) == GK_OK)
				agent_finish(a, GK_OK);
			return;
		}
		if (!json_is_string(cursor) ||
		    !agent_cursor_valid(json_string_value(cursor),
		                        json_string_length(cursor))) {
			gk_error_set(&a->r.err, GK_E_JSON, "%s",
			             _("the server's pull answer is "
			               "malformed"));
			agent_finish(a, GK_E_JSON);
			return;
		}
		if ((rc = agent_pull_request(a, json_string_value(cursor))) !=
		    GK_OK) {
			agent_finish(a, rc);
			return;
		}
		evtimer_add(a->apply_ev, &now);
		return;
	}
	a->r.err = ans->err;
	if (ans->status == 400 && ans->err.code == GK_E_CURSOR) {
		if ((rc = agent_clear_cursor(a)) != GK_OK) {
			agent_finish(a, rc);
			return;
		}
		agent_pull_next(a);
		return;
	}
	if (ans->status == 409 && ans->err.code == GK_E_DB_CHANGED) {
		if ((rc = agent_db_changed(a, "")) != GK_OK) {
			agent_finish(a, rc);
			return;
		}
		agent_push_next(a);
		return;
	}
	if (ans->status == 401)
		gk_error_set(&a->r.err, GK_E_AUTH, "%s",
		             _("the server no longer accepts this device's "
		               "token: log in again: gridkeep login"));
	agent_finish(a, a->r.err.code != GK_OK ? a->r.err.code : GK_E_IO);
}

void
agent_pull_next(struct gk_agent *a)
{
	char cursor[AGENT_CURSOR_MAX + 2];
	struct gk_error ignored;
	int rc;

	a->state = AG_PULL;
	if (replica_meta_get(a->c, "cursor", cursor, sizeof cursor, &ignored) !=
	        GK_OK ||
	    !agent_cursor_valid(cursor, strlen(cursor)))
		cursor[0] = '\0';
	if ((rc = agent_pull_request(a, cursor)) != GK_OK)
		agent_finish(a, rc);
}
