/*
 * agent.c: the sync agent, a state machine on the caller's event_base.
 *
 * One sync is a push, then a pull (gridkeep-sync(7)):
 *
 *   push  the outbox rows still "saved" or "sent", in seq order, in
 *         batches of at most AGENT_BATCH changes and AGENT_BATCH_BYTES of
 *         body. A batch is marked "sent" in its own transaction BEFORE it
 *         goes out, so after a crash at most that batch is sent again (the
 *         server answers "duplicate" for what it already has). Its answer
 *         is one transaction: accepted and duplicate rows become
 *         "accepted"; rejected rows "rejected" with a rejected_changes row;
 *         clock_skew re-stamps the change (and every later one still in
 *         the future) with the clock corrected by the server's time, fixes
 *         the local record's stamp (merge_restamp_tx) and leaves it
 *         "saved" to go again in the same sync.
 *   pull  pages of changes after the stored cursor; each page is applied
 *         with its drops, its new cursor and db_id in ONE transaction
 *         (agent_apply_page), so a cut connection resumes where it was.
 *
 * A changed server database (409 db_changed, or a login or pull answer
 * with another db_id) clears the cursor, puts every sent and accepted
 * row back to "saved", and the sync starts over: push everything, then
 * pull from the start. bad_cursor pulls from the start. 401 stops ("log in
 * again"); unreachable, 429 and 5xx stop, and the background scheduler
 * (agent_auto) tries again later, backing off exponentially with jitter.
 *
 * Nothing here blocks for long: each step is one request on the loop and
 * one short transaction. The callbacks (progress, done) run on the loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent.h"

/* ---- small helpers ------------------------------------------------------ */

int64_t
agent_wall(const struct gk_agent *a)
{
	return a->c->env.now_ms(a->c->env.arg);
}

/* Load the stored clock (client_meta "hlc") into c->clock. */
int
agent_load_clock_tx(struct gk_client *c, struct gk_error *err)
{
	char buf[64];
	uint64_t last;
	int rc = replica_meta_get(c, "hlc", buf, sizeof buf, err);

	if (rc == GK_E_NOT_FOUND)
		return GK_OK;
	if (rc != GK_OK)
		return rc;
	if (hlc_parse(buf, strlen(buf), &last) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT, "%s",
		                    _("the replica's clock is damaged"));
	if (last > c->clock.last)
		c->clock.last = last;
	return GK_OK;
}

int
agent_save_clock_tx(struct gk_client *c, struct gk_error *err)
{
	char stamp[GK_HLC_LEN + 1], off[32];
	int rc;

	hlc_format(c->clock.last, stamp);
	snprintf(off, sizeof off, "%" PRId64, c->clock_offset_ms);
	if ((rc = replica_meta_put_tx(c, "hlc", stamp, err)) != GK_OK)
		return rc;
	return replica_meta_put_tx(c, "clock_offset", off, err);
}

/*
 * Learn the server's clock from an answer's time (whole seconds): the
 * offset moves only when it is off by more than that resolution allows,
 * so a good clock keeps an offset of 0.
 */
void
agent_learn_offset(struct gk_agent *a, int64_t server_ms)
{
	int64_t est, cur = a->c->clock_offset_ms;

	/* A stamp holds the milliseconds in 47 bits (to the year 6429): a
	 * server time past 2^46 (the year 4199) is a broken server, and
	 * taking it would overflow every local stamp. */
	if (server_ms <= 0 || server_ms > (INT64_C(1) << 46))
		return;
	est = server_ms + 500 - agent_wall(a);
	if (est - cur > 2000 || cur - est > 2000)
		a->c->clock_offset_ms = est;
	else if (est > -2000 && est < 2000)
		a->c->clock_offset_ms = 0;
}

int
agent_begin(struct gk_client *c, int durable, struct gk_error *err)
{
	if (c->merge == NULL && (c->merge = merge_new(c->db, err)) == NULL)
		return err->code != GK_OK ? err->code : GK_E_DB;
	/* See agent.h: what the agent writes, the server holds too. */
	if (!durable)
		sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
		             NULL);
	if (db_begin(c->db) != GK_OK) {
		sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL,
		             NULL);
		return gk_error_set(err, GK_E_DB, _("cannot begin: %s"),
		                    sqlite3_errmsg(c->db));
	}
	return GK_OK;
}

int
agent_commit(struct gk_client *c, struct gk_error *err)
{
	int rc = db_commit(c->db);

	if (rc != GK_OK)
		gk_error_set(err, GK_E_IO, _("cannot commit: %s"),
		             sqlite3_errmsg(c->db));
	sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return rc == GK_OK ? GK_OK : GK_E_IO;
}

void
agent_rollback(struct gk_client *c)
{
	db_rollback(c->db);
	sqlite3_exec(c->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
}

int
agent_exec_int(sqlite3 *db, const char *sql, int64_t a1, int64_t a2,
               struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, a1);
	sqlite3_bind_int64(st, 2, a2);
	rc = sqlite3_step(st) == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The network connection for server, made (again) if needed. */
static int
agent_net(struct gk_agent *a, const char *server, struct gk_error *err)
{
	if (a->net != NULL && strcmp(a->net_server, server) == 0)
		return GK_OK;
	net_free(a->net);
	a->net_server[0] = '\0';
	if ((a->net = net_new(a->base, server, err)) == NULL)
		return err->code;
	snprintf(a->net_server, sizeof a->net_server, "%s", server);
	return GK_OK;
}

/* The server's database changed: start the whole sync over. */
int
agent_db_changed(struct gk_agent *a, const char *db_id)
{
	struct gk_client *c = a->c;
	struct gk_error *err = &a->r.err;
	int64_t n[REPLICA_NSTATES];
	int rc;

	if (++a->restarts > AGENT_RESTARTS)
		return gk_error_set(err, GK_E_DB_CHANGED, "%s",
		                    _("the server's database keeps changing: "
		                      "try again later"));
	if ((rc = agent_begin(c, 0, err)) != GK_OK)
		return rc;
	if ((rc = session_db_changed_tx(c, db_id, err)) != GK_OK) {
		agent_rollback(c);
		return rc;
	}
	if ((rc = agent_commit(c, err)) != GK_OK)
		return rc;
	/* The whole outbox goes again: the progress counts it. */
	if (replica_outbox_counts(c, n, err) == GK_OK)
		a->push_total = a->r.accepted + a->r.duplicate + a->r.rejected +
		                n[REPLICA_SAVED] + n[REPLICA_SENT];
	return GK_OK;
}

void
agent_progress(struct gk_agent *a, const char *phase, int64_t done,
               int64_t total)
{
	struct agent_progress p = {phase, done, total};

	if (a->progress != NULL)
		a->progress(a->arg, &p);
}

/* ---- starting and ending a sync ----------------------------------------- */

static void agent_schedule(struct gk_agent *a, int seconds);

/* The background schedule after an attempt that ended with r. */
static void
agent_reschedule(struct gk_agent *a, const struct agent_result *r)
{
	int code = r->code, delay;
	uint32_t rnd;

	if (!a->auto_on)
		return;
	if (code == GK_OK ||
	    (r->online && code != GK_E_BUSY && code != GK_E_IO &&
	     code != GK_E_THROTTLED && code != GK_E_DB && code != GK_E_NOMEM)) {
		a->backoff_s = 0;
		agent_schedule(a, a->interval_s);
		return;
	}
	/* Unreachable or overloaded: back off, with jitter. */
	if (a->backoff_s == 0)
		a->backoff_s = a->interval_s < 15 ? a->interval_s : 15;
	else
		a->backoff_s *= 2;
	if (a->backoff_s > a->max_s)
		a->backoff_s = a->max_s;
	if (a->backoff_s < 1)
		a->backoff_s = 1;
	a->c->env.random(a->c->env.arg, &rnd, sizeof rnd);
	delay =
	    a->backoff_s / 2 + (int)(rnd % (uint32_t)(a->backoff_s / 2 + 1));
	agent_schedule(a, delay > 0 ? delay : 1);
}

/* The last attempt in client_meta: last_sync, or last_attempt/last_error. */
static void
agent_record(struct gk_agent *a, int code)
{
	struct gk_client *c = a->c;
	struct gk_error ignored;
	char now[32];

	snprintf(now, sizeof now, "%" PRId64, agent_wall(a));
	if (c->db == NULL || agent_begin(c, 0, &ignored) != GK_OK)
		return;
	if (code == GK_OK) {
		replica_meta_put_tx(c, "last_sync", now, &ignored);
		replica_meta_put_tx(c, "last_error", "", &ignored);
	} else {
		replica_meta_put_tx(c, "last_attempt", now, &ignored);
		replica_meta_put_tx(
		    c, "last_error",
		    a->r.err.msg[0] != '\0' ? a->r.err.msg : gk_code_name(code),
		    &ignored);
	}
	if (agent_commit(c, &ignored) != GK_OK)
		agent_rollback(c);
}

void
agent_finish(struct gk_agent *a, int code)
{
	struct agent_result r;
	agent_done_cb done = a->done;
	void *arg = a->arg;
	int was_login = a->state == AG_LOGIN;

	/* Whatever is still in flight belongs to this sync: drop it. */
	if (net_busy(a->net)) {
		net_free(a->net);
		a->net = NULL;
		a->net_server[0] = '\0';
	}
	if (a->page != NULL) {
		json_decref(a->page);
		a->page = NULL;
	}
	evtimer_del(a->apply_ev);
	a->r.code = code;
	if (code == GK_OK)
		memset(&a->r.err, 0, sizeof a->r.err);
	else if (a->r.err.code == GK_OK)
		gk_error_set(&a->r.err, code, "%s", gk_code_name(code));
	if (!was_login)
		agent_record(a, code);
	r = a->r;
	a->state = AG_IDLE;
	a->done = NULL;
	a->progress = NULL;
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
		a->password = NULL;
	}
	if (!was_login)
		agent_reschedule(a, &r);
	if (done != NULL)
		done(arg, &r);
}

/* A sync that cannot start finishes from the loop, like any other. */
static void
agent_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gk_agent *a = arg;

	(void)fd;
	(void)what;
	agent_finish(a, a->r.err.code != GK_OK ? a->r.err.code : GK_E_IO);
}

static void
agent_fail_soon(struct gk_agent *a)
{
	event_active(a->finish_ev, EV_WRITE, 0);
}

/*
 * Keep the stored user as the server has it now (the operator may have
 * moved them, renamed them or changed their role). In the caller's
 * transaction; *changed says whether anything differed.
 */
static int
agent_user_tx(struct gk_client *c, json_t *user, int *changed,
              struct gk_error *err)
{
	static const char *const keys[] = {"username", "display_name", "role",
	                                   "unit"};
	char old[128];
	enum gk_role role;
	int rc;

	*changed = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(user, keys[i]);
		const char *s = json_string_value(v);

		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 100 ||
		    text_check(s, json_string_length(v), 0) != GK_OK ||
		    (i == 2 && record_role_parse(s, &role) != GK_OK) ||
		    (i == 3 && !uuid_valid(s, json_string_length(v))))
			return GK_OK; /* not one we store: keep ours */
		if (replica_meta_get(c, keys[i], old, sizeof old, err) ==
		        GK_OK &&
		    strcmp(old, s) == 0)
			continue;
		if ((rc = replica_meta_put_tx(c, keys[i], s, err)) != GK_OK)
			return rc;
		if (i == 3 && (rc = replica_meta_put_tx(c, "unit_name", "",
		                                        err)) != GK_OK)
			return rc;
		*changed = 1;
	}
	return GK_OK;
}

/*
 * The first answer of every sync, GET /api/v1/me: who we are now, the
 * server's database id and time. A changed database is found here, before
 * anything is pushed to it: changes that hang on records the new database
 * lacks would otherwise be rejected before their records went again.
 */
static void
agent_me_answer(void *arg, const struct net_answer *ans)
{
	struct gk_agent *a = arg;
	struct gk_client *c = a->c;
	json_t *dbid = json_object_get(ans->json, "db_id");
	json_t *stime = json_object_get(ans->json, "server_time");
	char stored[GK_ID_LEN + 2];
	struct gk_error ignored;
	int64_t server_ms = 0;
	int rc, changed = 0;

	if (ans->status > 0)
		a->r.online = 1;
	if (ans->status != 200 || ans->json == NULL) {
		a->r.err = ans->err;
		if (ans->status == 401)
			gk_error_set(&a->r.err, GK_E_AUTH, "%s",
			             _("the server no longer accepts this "
			               "device's token: log in again: gridkeep "
			               "login"));
		agent_finish(a,
		             a->r.err.code != GK_OK ? a->r.err.code : GK_E_IO);
		return;
	}
	if (json_is_string(stime) &&
	    text_time_parse(json_string_value(stime), json_string_length(stime),
	                    &server_ms) == GK_OK)
		agent_learn_offset(a, server_ms);
	if ((rc = agent_begin(c, 0, &a->r.err)) == GK_OK) {
		rc = agent_user_tx(c, json_object_get(ans->json, "user"),
		                   &changed, &a->r.err);
		if (rc == GK_OK)
			rc = agent_commit(c, &a->r.err);
		else
			agent_rollback(c);
	}
	if (rc == GK_OK && changed)
		rc = session_load(c, &a->r.err);
	if (rc != GK_OK) {
		agent_finish(a, rc);
		return;
	}
	if (replica_meta_get(c, "db_id", stored, sizeof stored, &ignored) !=
	    GK_OK)
		stored[0] = '\0';
	if (json_is_string(dbid) &&
	    uuid_valid(json_string_value(dbid), json_string_length(dbid)) &&
	    stored[0] != '\0' && strcmp(stored, json_string_value(dbid)) != 0 &&
	    (rc = agent_db_changed(a, json_string_value(dbid))) != GK_OK) {
		agent_finish(a, rc);
		return;
	}
	agent_push_next(a);
}

static int
agent_start(struct gk_agent *a, agent_progress_cb progress, agent_done_cb done,
            void *arg, int is_auto)
{
	struct gk_client *c = a->c;
	int64_t counts[REPLICA_NSTATES];
	int rc;

	if (a->state != AG_IDLE)
		return GK_E_BUSY;
	memset(&a->r, 0, sizeof a->r);
	a->progress = progress;
	a->done = done;
	a->arg = arg;
	a->is_auto = is_auto;
	a->skew_rounds = a->restarts = 0;
	a->batch_max = AGENT_BATCH;
	a->batch_bytes = AGENT_BATCH_BYTES;
	a->state = AG_PUSH;
	if (c->db == NULL) {
		gk_error_set(&a->r.err, GK_E_USAGE, "%s",
		             _("no replica is open"));
		agent_fail_soon(a);
		return GK_OK;
	}
	if ((rc = session_load(c, &a->r.err)) != GK_OK) {
		agent_fail_soon(a);
		return GK_OK;
	}
	if (!c->sess.logged_in || c->sess.server[0] == '\0') {
		gk_error_set(&a->r.err, GK_E_AUTH, "%s",
		             _("not logged in: gridkeep login SERVER USER"));
		agent_fail_soon(a);
		return GK_OK;
	}
	if (c->sess.token[0] == '\0') {
		gk_error_set(&a->r.err, GK_E_AUTH, "%s",
		             _("logged out: log in again: gridkeep login "
		               "SERVER USER"));
		agent_fail_soon(a);
		return GK_OK;
	}
	if ((rc = agent_net(a, c->sess.server, &a->r.err)) != GK_OK ||
	    (rc = replica_outbox_counts(c, counts, &a->r.err)) != GK_OK) {
		agent_fail_soon(a);
		return GK_OK;
	}
	a->push_total = counts[REPLICA_SAVED] + counts[REPLICA_SENT];
	if ((rc = net_request(a->net, NET_GET, "/api/v1/me", c->sess.token,
	                      NULL, 0, agent_me_answer, a, &a->r.err)) != GK_OK)
		agent_fail_soon(a);
	return GK_OK;
}

int
agent_sync(struct gk_agent *a, agent_progress_cb progress, agent_done_cb done,
           void *arg)
{
	if (a->state != AG_IDLE)
		return GK_E_BUSY;
	a->backoff_s = 0;
	return agent_start(a, progress, done, arg, 0);
}

int
agent_busy(const struct gk_agent *a)
{
	return a != NULL && a->state != AG_IDLE;
}

/* ---- the background schedule -------------------------------------------- */

static void
agent_schedule(struct gk_agent *a, int seconds)
{
	struct timeval tv = {seconds, 0};

	evtimer_del(a->timer);
	evtimer_add(a->timer, &tv);
	a->next_at = agent_wall(a) + (int64_t)seconds * 1000;
}

static void
agent_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gk_agent *a = arg;

	(void)fd;
	(void)what;
	a->next_at = 0;
	if (a->state != AG_IDLE) {
		/* A sync (or login) is running; its end reschedules. */
		agent_schedule(a, a->interval_s);
		return;
	}
	agent_start(a, a->aprogress, a->adone, a->aarg, 1);
}

int
agent_auto(struct gk_agent *a, int interval_s, int max_s,
           agent_progress_cb progress, agent_done_cb done, void *arg)
{
	if (interval_s < 1)
		interval_s = 1;
	if (max_s < interval_s)
		max_s = interval_s;
	a->auto_on = 1;
	a->interval_s = interval_s;
	a->max_s = max_s;
	a->backoff_s = 0;
	a->aprogress = progress;
	a->adone = done;
	a->aarg = arg;
	if (a->state == AG_IDLE)
		agent_schedule(a, 0);
	return GK_OK;
}

int
agent_next_in(const struct gk_agent *a)
{
	int64_t left;

	if (a == NULL || !a->auto_on || a->next_at == 0)
		return -1;
	left = a->next_at - agent_wall(a);
	if (left <= 0)
		return 0;
	return (int)((left + 999) / 1000);
}

/* ---- the agent itself ---------------------------------------------------- */

struct gk_agent *
agent_new(struct gk_client *c, struct event_base *base)
{
	struct gk_agent *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->c = c;
	a->base = base;
	a->timer = evtimer_new(base, agent_timer_cb, a);
	a->finish_ev = event_new(base, -1, 0, agent_finish_cb, a);
	a->apply_ev = evtimer_new(base, agent_pull_apply_cb, a);
	if (a->timer == NULL || a->finish_ev == NULL || a->apply_ev == NULL) {
		agent_free(a);
		return NULL;
	}
	return a;
}

void
agent_free(struct gk_agent *a)
{
	if (a == NULL)
		return;
	net_free(a->net);
	if (a->timer != NULL)
		event_free(a->timer);
	if (a->finish_ev != NULL)
		event_free(a->finish_ev);
	if (a->apply_ev != NULL)
		event_free(a->apply_ev);
	json_decref(a->page);
	if (a->password != NULL) {
		explicit_bzero(a->password, strlen(a->password));
		free(a->password);
	}
	free(a->seqs);
	free(a->ids);
	free(a);
}

/* ---- login ----------------------------------------------------------------
 */

static void
agent_login_undone(void *arg, const struct net_answer *ans)
{
	struct gk_agent *a = arg;

	(void)ans;
	agent_finish(a, a->r.err.code != GK_OK ? a->r.err.code : GK_E_IO);
}

/*
 * A login the replica refused to store (another user's changes wait in
 * it, or it belongs to another server): end the token the server just
 * made, best effort, so that no device is left logged in for nothing.
 */
static int
agent_login_undo(struct gk_agent *a, json_t *answer)
{
	json_t *token = json_object_get(answer, "token");
	struct gk_error ignored;
	char t[160];

	if (!json_is_string(token) || json_string_length(token) >= sizeof t)
		return GK_E_JSON;
	snprintf(t, sizeof t, "%s", json_string_value(token));
	return net_request(a->net, NET_POST, "/api/v1/logout", t, "{}", 2,
	                   agent_login_undone, a, &ignored);
}

static void
agent_login_answer(void *arg, const struct net_answer *ans)
{
	struct gk_agent *a = arg;
	int rc;

	if (ans->status > 0)
		a->r.online = 1;
	if (ans->status == 200) {
		rc = session_save(a->c, a->server, a->device, a->password,
		                  ans->json, &a->r.err);
		if (rc != GK_OK && agent_login_undo(a, ans->json) == GK_OK)
			return; /* finishes when the server has answered */
		agent_finish(a, rc);
		return;
	}
	a->r.err = ans->err;
	if (ans->status == 401)
		gk_error_set(&a->r.err, GK_E_CREDENTIALS, "%s",
		             _("wrong user name or password"));
	else if (ans->status == 429)
		gk_error_set(&a->r.err, GK_E_THROTTLED,
		             _("too many failed logins: try again in %" PRId64
		               " seconds"),
		             ans->retry_after > 0 ? ans->retry_after : 60);
	agent_finish(a, a->r.err.code != GK_OK ? a->r.err.code : GK_E_IO);
}

int
agent_login(struct gk_agent *a, const char *server, const char *username,
            const char *password, const char *device, agent_done_cb done,
            void *arg)
{
	struct gk_client *c = a->c;
	char host[65], len_srv[256];
	size_t slen = strlen(server);
	json_t *body;
	char *text;
	int rc;

	if (a->state != AG_IDLE)
		return GK_E_BUSY;
	memset(&a->r, 0, sizeof a->r);
	a->done = done;
	a->arg = arg;
	a->progress = NULL;
	a->state = AG_LOGIN;
	if (device == NULL || device[0] == '\0') {
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "station");
		host[sizeof host - 1] = '\0';
		device = host;
	}
	/* "http://host:8080/" and "http://host:8080" are one server. */
	while (slen > 0 && server[slen - 1] == '/')
		slen--;
	if (slen >= sizeof len_srv || strlen(device) >= sizeof a->device) {
		gk_error_set(&a->r.err, GK_E_TOO_LONG, "%s",
		             _("the server's address or the device name is too "
		               "long"));
		agent_fail_soon(a);
		return GK_OK;
	}
	memcpy(len_srv, server, slen);
	len_srv[slen] = '\0';
	snprintf(a->server, sizeof a->server, "%s", len_srv);
	snprintf(a->device, sizeof a->device, "%s", device);
	if (c->db == NULL) {
		gk_error_set(&a->r.err, GK_E_USAGE, "%s",
		             _("no replica is open"));
		agent_fail_soon(a);
		return GK_OK;
	}
	if ((rc = agent_net(a, a->server, &a->r.err)) != GK_OK) {
		agent_fail_soon(a);
		return GK_OK;
	}
	if ((a->password = strdup(password)) == NULL ||
	    (body = json_pack("{s:s, s:s, s:s}", "username", username,
	                      "password", password, "device", a->device)) ==
	        NULL) {
		gk_error_set(&a->r.err, GK_E_NOMEM, "%s", _("out of memory"));
		agent_fail_soon(a);
		return GK_OK;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		gk_error_set(&a->r.err, GK_E_NOMEM, "%s", _("out of memory"));
		agent_fail_soon(a);
		return GK_OK;
	}
	rc = net_request(a->net, NET_POST, "/api/v1/login", NULL, text,
	                 strlen(text), agent_login_answer, a, &a->r.err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc != GK_OK)
		agent_fail_soon(a);
	return GK_OK;
}

/* ---- the blocking forms ----------------------------------------------------
 */

struct agent_wait {
	struct event_base *base;
	struct agent_result *r;
	int finished;
	agent_progress_cb progress; /* the caller's, with its own arg */
	void *arg;
};

static void
agent_wait_progress(void *arg, const struct agent_progress *p)
{
	struct agent_wait *w = arg;

	if (w->progress != NULL)
		w->progress(w->arg, p);
}

static void
agent_wait_done(void *arg, const struct agent_result *r)
{
	struct agent_wait *w = arg;

	*w->r = *r;
	w->finished = 1;
	event_base_loopbreak(w->base);
}

int
agent_sync_wait(struct gk_client *c, agent_progress_cb progress, void *arg,
                struct agent_result *r)
{
	struct agent_wait w = {NULL, r, 0, progress, arg};
	struct gk_agent *a;

	memset(r, 0, sizeof *r);
	if ((w.base = event_base_new()) == NULL ||
	    (a = agent_new(c, w.base)) == NULL) {
		if (w.base != NULL)
			event_base_free(w.base);
		r->code =
		    gk_error_set(&r->err, GK_E_NOMEM, "%s", _("out of memory"));
		return r->code;
	}
	if (agent_sync(a, agent_wait_progress, agent_wait_done, &w) == GK_OK)
		while (!w.finished && event_base_dispatch(w.base) == 0)
			;
	agent_free(a);
	event_base_free(w.base);
	return r->code;
}

int
agent_login_wait(struct gk_client *c, const char *server, const char *username,
                 const char *password, const char *device,
                 struct agent_result *r)
{
	struct agent_wait w = {NULL, r, 0, NULL, NULL};
	struct gk_agent *a;

	memset(r, 0, sizeof *r);
	if ((w.base = event_base_new()) == NULL ||
	    (a = agent_new(c, w.base)) == NULL) {
		if (w.base != NULL)
			event_base_free(w.base);
		r->code =
		    gk_error_set(&r->err, GK_E_NOMEM, "%s", _("out of memory"));
		return r->code;
	}
	if (agent_login(a, server, username, password, device, agent_wait_done,
	                &w) == GK_OK)
		while (!w.finished && event_base_dispatch(w.base) == 0)
			;
	agent_free(a);
	event_base_free(w.base);
	return r->code;
}
