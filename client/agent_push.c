/*
 * agent_push.c: the push half of a sync (see agent.c for the whole).
 *
 * The outbox rows still "saved" or "sent" go out in seq order, in
 * batches of at most AGENT_BATCH changes and AGENT_BATCH_BYTES of body,
 * spliced from their stored JSON. A batch is marked "sent" in its own
 * transaction before it goes, so a crash re-sends at most that batch. Its
 * answer is one transaction: accepted and duplicate become "accepted",
 * rejected "rejected" with its code and message (it never stops the
 * others); clock_skew re-stamps (agent_restamp_tx) and the row goes out
 * again in the same sync. A 413 halves the batch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* ---- push --------------------------------------------------------------- */

static int
agent_batch_room(struct gk_agent *a, size_t n)
{
	if (n <= a->cap)
		return 0;
	size_t cap = a->cap ? a->cap * 2 : 64;
	while (cap < n)
		cap *= 2;
	int64_t *s = realloc(a->seqs, cap * sizeof *s);
	if (s == NULL)
		return -1;
	a->seqs = s;
	char(*ids)[GK_ID_LEN + 1] = realloc(a->ids, cap * sizeof *ids);
	if (ids == NULL)
		return -1;
	a->ids = ids;
	a->cap = cap;
	return 0;
}

/*
 * Read the next batch into a->seqs/ids and body (caller frees); nbatch 0
 * when the outbox has nothing left to send.
 */
static int
agent_load_batch(struct gk_agent *a, char **body, size_t *len,
                 struct gk_error *err)
{
	struct gk_client *c = a->c;
	sqlite3_stmt *st;
	FILE *f;
	int rc;

	*body = NULL;
	*len = 0;
	a->nbatch = 0;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT seq, id, json FROM outbox WHERE state "
	                       "IN ('saved', 'sent') ORDER BY seq LIMIT ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_int(st, 1, a->batch_max);
	if ((f = open_memstream(body, len)) == NULL) {
		sqlite3_finalize(st);
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	}
	fputs("{\"changes\":[", f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 1);
		const char *json = (const char *)sqlite3_column_text(st, 2);
		size_t jlen = (size_t)sqlite3_column_bytes(st, 2);

		if (a->nbatch > 0 &&
		    (size_t)ftell(f) + jlen + 3 > a->batch_bytes)
			break;
		if (agent_batch_room(a, a->nbatch + 1) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		a->seqs[a->nbatch] = sqlite3_column_int64(st, 0);
		snprintf(a->ids[a->nbatch], GK_ID_LEN + 1, "%s",
		         id != NULL ? id : "");
		if (a->nbatch > 0)
			fputc(',', f);
		fwrite(json, 1, jlen, f);
		a->nbatch++;
	}
	fputs("]}", f);
	sqlite3_finalize(st);
	if (fclose(f) != 0 || rc == SQLITE_NOMEM) {
		free(*body);
		*body = NULL;
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(*body);
		*body = NULL;
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	}
	return GK_OK;
}

/* Mark the batch sent, in one transaction, before it goes out. */
static int
agent_mark_sent(struct gk_agent *a, struct gk_error *err)
{
	struct gk_client *c = a->c;
	int64_t now = agent_wall(a);
	int rc;

	if ((rc = agent_begin(c, 0, err)) != GK_OK)
		return rc;
	for (size_t i = 0; i < a->nbatch && rc == GK_OK; i++)
		rc = agent_exec_int(c->db,
		                    "UPDATE outbox SET state = 'sent', "
		                    "sent_at = ?2 WHERE seq = ?1",
		                    a->seqs[i], now, err);
	if (rc != GK_OK) {
		agent_rollback(c);
		return rc;
	}
	return agent_commit(c, err);
}

/* Record a rejection: the row "rejected", its code and message. */
static int
agent_reject_tx(struct gk_agent *a, size_t i, const char *code, json_t *message,
                struct gk_error *err)
{
	struct gk_client *c = a->c;
	const char *msg = code;
	sqlite3_stmt *st;
	int rc;

	if (json_is_string(message) && json_string_length(message) <= 500 &&
	    text_check(json_string_value(message), json_string_length(message),
	               0) == GK_OK)
		msg = json_string_value(message);
	if ((rc = agent_exec_int(c->db,
	                         "UPDATE outbox SET state = 'rejected' "
	                         "WHERE seq = ?1",
	                         a->seqs[i], 0, err)) != GK_OK)
		return rc;
	if (sqlite3_prepare_v2(c->db,
	                       "INSERT OR REPLACE INTO rejected_changes("
	                       "change_id, code, message, rejected_at) "
	                       "VALUES(?1, ?2, ?3, ?4)",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_text(st, 1, a->ids[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, msg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, agent_wall(a));
	rc = sqlite3_step(st) == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	a->r.rejected++;
	return rc;
}

/*
 * Give the outbox row seq (its change in json) a new stamp from the
 * corrected clock, rewrite it as "saved" and move the local record's
 * stamp with it.
 */
static int
agent_restamp_one_tx(struct gk_agent *a, int64_t seq, const char *json,
                     size_t len, struct gk_error *err)
{
	struct gk_client *c = a->c;
	struct gk_change ch;
	sqlite3_stmt *st;
	uint64_t fresh;
	char *text;
	int rc;

	if ((rc = change_decode(json, len, &ch, err)) != GK_OK)
		return rc;
	fresh = hlc_now(&c->clock, client_now_ms(c));
	if ((rc = merge_restamp_tx(c->merge, &ch, fresh, err)) != GK_OK) {
		change_clear(&ch);
		return rc;
	}
	ch.hlc = fresh;
	text = change_encode(&ch);
	change_clear(&ch);
	if (text == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	if (sqlite3_prepare_v2(c->db,
	                       "UPDATE outbox SET json = ?2, state = 'saved', "
	                       "sent_at = NULL WHERE seq = ?1",
	                       -1, &st, NULL) != SQLITE_OK) {
		free(text);
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	free(text);
	a->r.restamped++;
	return rc;
}

/*
 * After a clock_skew: re-stamp the batch's skewed changes (skewed[i]) and
 * every later unsent change whose stamp is still ahead of the corrected
 * clock, all in seq order, from a clock set back to the server's. The
 * server's stamp is above every change it accepted, so a re-stamped
 * change still sorts after all it has seen.
 */
static int
agent_restamp_tx(struct gk_agent *a, const char *skewed, uint64_t server_hlc,
                 struct gk_error *err)
{
	struct gk_client *c = a->c;
	int64_t last_seq = a->seqs[a->nbatch - 1];
	int64_t limit;
	sqlite3_stmt *st;
	int rc = GK_OK, r;

	c->clock.last = server_hlc;
	limit = client_now_ms(c) + 1000;
	/* The batch first: those rows are 'sent', in seq order. */
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT seq, json FROM outbox WHERE seq = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	for (size_t i = 0; i < a->nbatch && rc == GK_OK; i++) {
		if (!skewed[i])
			continue;
		sqlite3_bind_int64(st, 1, a->seqs[i]);
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = agent_restamp_one_tx(
			    a, a->seqs[i],
			    (const char *)sqlite3_column_text(st, 1),
			    (size_t)sqlite3_column_bytes(st, 1), err);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != GK_OK)
		return rc;
	/* Then the rest of the outbox that is still in the future. */
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT seq, json FROM outbox WHERE state IN "
	                       "('saved', 'sent') AND seq > ?1 ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_int64(st, 1, last_seq);
	while (rc == GK_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *json = (const char *)sqlite3_column_text(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		json_t *j = json_loadb(json, len, 0, NULL);
		json_t *h = json_object_get(j, "hlc");
		uint64_t stamp = 0;

		if (json_is_string(h))
			hlc_parse(json_string_value(h), json_string_length(h),
			          &stamp);
		json_decref(j);
		if (hlc_ms(stamp) > limit)
			rc = agent_restamp_one_tx(
			    a, sqlite3_column_int64(st, 0), json, len, err);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The push answer, in one transaction (also fuzzed: tests/fuzz). */
int
agent_push_apply(struct gk_agent *a, json_t *ans, struct gk_error *err)
{
	struct gk_client *c = a->c;
	json_t *results = json_object_get(ans, "results");
	json_t *shlc = json_object_get(ans, "server_hlc");
	json_t *stime = json_object_get(ans, "server_time");
	uint64_t server_hlc = 0;
	int64_t server_ms = 0;
	char *skewed = NULL;
	int rc, any_skew = 0;

	if (!json_is_array(results) || json_array_size(results) != a->nbatch ||
	    !json_is_string(shlc) ||
	    hlc_parse(json_string_value(shlc), json_string_length(shlc),
	              &server_hlc) != GK_OK)
		return gk_error_set(err, GK_E_JSON, "%s",
		                    _("the server's push answer is malformed"));
	if (json_is_string(stime))
		text_time_parse(json_string_value(stime),
		                json_string_length(stime), &server_ms);
	if ((skewed = calloc(a->nbatch, 1)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	/* A re-stamp commits with FULL: once the server may hold the new
	 * stamp, this replica must never fall back to the old one. */
	for (size_t i = 0; i < a->nbatch && !any_skew; i++) {
		json_t *code =
		    json_object_get(json_array_get(results, i), "code");
		any_skew = json_is_string(code) &&
		           strcmp(json_string_value(code), "clock_skew") == 0;
	}
	rc = agent_begin(c, any_skew, err);
	any_skew = 0;
	if (rc != GK_OK) {
		free(skewed);
		return rc;
	}
	if ((rc = agent_load_clock_tx(c, err)) != GK_OK)
		goto fail;
	agent_learn_offset(a, server_ms);
	/* A re-stamp sets the clock to server_hlc: one it cannot take (top
	 * bit set, or far ahead of the server's own time) would wrap or
	 * poison every later stamp. */
	if (hlc_recv(&c->clock, server_hlc, client_now_ms(c), AGENT_AHEAD_MS) !=
	    GK_OK) {
		rc = gk_error_set(err, GK_E_JSON, "%s",
		                  _("the server's push answer is malformed"));
		goto fail;
	}

	for (size_t i = 0; i < a->nbatch; i++) {
		json_t *res = json_array_get(results, i);
		json_t *st = json_object_get(res, "status");
		json_t *id = json_object_get(res, "id");
		json_t *code = json_object_get(res, "code");
		const char *s = json_is_string(st) ? json_string_value(st) : "";
		const char *cname = "bad_json";

		if (json_is_string(id) &&
		    strcmp(json_string_value(id), a->ids[i]) != 0) {
			rc = gk_error_set(err, GK_E_JSON, "%s",
			                  _("the server's push answer does not "
			                    "match the changes sent"));
			goto fail;
		}
		if (strcmp(s, "accepted") == 0 || strcmp(s, "duplicate") == 0) {
			if (s[0] == 'a')
				a->r.accepted++;
			else
				a->r.duplicate++;
			rc = agent_exec_int(c->db,
			                    "UPDATE outbox SET state = "
			                    "'accepted' WHERE seq = ?1",
			                    a->seqs[i], 0, err);
		} else if (strcmp(s, "rejected") == 0) {
			if (json_is_string(code) &&
			    net_code_by_name(json_string_value(code)) > 0)
				cname = json_string_value(code);
			if (strcmp(cname, "clock_skew") == 0 &&
			    a->skew_rounds < AGENT_SKEW_ROUNDS) {
				skewed[i] = 1;
				any_skew = 1;
			} else {
				rc = agent_reject_tx(
				    a, i, cname,
				    json_object_get(res, "message"), err);
			}
		} else {
			rc = gk_error_set(err, GK_E_JSON, "%s",
			                  _("the server's push answer is "
			                    "malformed"));
		}
		if (rc != GK_OK)
			goto fail;
	}
	if (any_skew) {
		a->skew_rounds++;
		if ((rc = agent_restamp_tx(a, skewed, server_hlc, err)) !=
		    GK_OK)
			goto fail;
	}
	if ((rc = agent_save_clock_tx(c, err)) != GK_OK)
		goto fail;
	free(skewed);
	return agent_commit(c, err);
fail:
	free(skewed);
	agent_rollback(c);
	return rc;
}

static void
agent_push_answer(void *arg, const struct net_answer *ans)
{
	struct gk_agent *a = arg;
	int rc;

	if (ans->status > 0)
		a->r.online = 1;
	if (ans->status == 200) {
		a->r.pushed += (int64_t)a->nbatch;
		if ((rc = agent_push_apply(a, ans->json, &a->r.err)) != GK_OK) {
			agent_finish(a, rc);
			return;
		}
		agent_progress(a, "push",
		               a->r.accepted + a->r.duplicate + a->r.rejected,
		               a->push_total);
		agent_push_next(a);
		return;
	}
	a->r.err = ans->err;
	if (ans->status == 413 && a->nbatch > 1) {
		/* Smaller batches; the rows are still 'sent'. */
		a->batch_max = (int)(a->nbatch / 2);
		a->batch_bytes /= 2;
		agent_push_next(a);
		return;
	}
	if (ans->status == 413) {
		/* One change the server will never take in any batch: it is
		 * rejected here, so that it blocks none of the others. */
		json_t *msg = json_string(_("larger than the server takes in "
		                            "one request"));
		struct gk_client *c = a->c;

		if ((rc = agent_begin(c, 0, &a->r.err)) == GK_OK &&
		    (rc = agent_reject_tx(a, 0, gk_code_name(GK_E_TOO_LARGE),
		                          msg, &a->r.err)) != GK_OK)
			agent_rollback(c);
		else if (rc == GK_OK)
			rc = agent_commit(c, &a->r.err);
		json_decref(msg);
		if (rc != GK_OK) {
			agent_finish(a, rc);
			return;
		}
		agent_push_next(a);
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
agent_push_next(struct gk_agent *a)
{
	struct gk_client *c = a->c;
	char *body;
	size_t len;
	int rc;

	a->state = AG_PUSH;
	if ((rc = agent_load_batch(a, &body, &len, &a->r.err)) != GK_OK) {
		agent_finish(a, rc);
		return;
	}
	if (a->nbatch == 0) {
		free(body);
		agent_pull_next(a);
		return;
	}
	if ((rc = agent_mark_sent(a, &a->r.err)) != GK_OK ||
	    (rc = net_request(a->net, NET_POST, "/api/v1/sync/push",
	                      c->sess.token, body, len, agent_push_answer, a,
	                      &a->r.err)) != GK_OK) {
		free(body);
		agent_finish(a, rc);
		return;
	}
	free(body);
}
