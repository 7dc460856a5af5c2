/*
 * test-agent.c: the sync agent as the terminal UI drives it, in one
 * process: a login through agent_login_wait, the offline unlock, and the
 * background schedule (agent_auto) on the caller's event loop against the
 * real gridkeepd, up and then stopped: a sync on time while the server
 * answers, exponential backoff with jitter, bounded, while it does not.
 * Then what a pull page may do to a replica (agent_apply_page): all of it
 * or nothing, drops included, and which server addresses are taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "gridkeep.h"
#include "httpc.h"
#include "net.h"
#include "testutil.h"

struct fx {
	char dir[256], db[512], replica[600], url[64];
	struct httpc_server srv;
	struct gk_client c;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct gk_error err = {0};
	struct agent_result r;

	if (f == NULL || httpc_tmpdir(f->dir, sizeof f->dir) != 0 ||
	    httpc_make_db(f->dir, "demo", f->db, sizeof f->db) != 0 ||
	    httpc_start(&f->srv, f->db, NULL) != 0)
		return -1;
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/", f->srv.port);
	snprintf(f->replica, sizeof f->replica, "%s/A.db", f->dir);
	f->c.env = gk_env_system;
	f->c.db_path = f->replica;
	validate_policy_default(&f->c.policy);
	if (replica_open(&f->c, REPLICA_CREATE, NULL, &err) != GK_OK ||
	    session_load(&f->c, &err) != GK_OK) {
		print_message("# %s\n", err.msg);
		return -1;
	}
	if (agent_login_wait(&f->c, f->url, "hp.chenjing", "gridkeep-demo",
	                     "test-agent", &r) != GK_OK) {
		print_message("# login: %s\n", r.err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	client_close(&f->c);
	httpc_free(&f->srv);
	httpc_rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_a_login_is_stored_and_unlocks_offline(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char path[GK_PATH_MAX], buf[300];

	assert_true(f->c.sess.logged_in);
	assert_string_equal(f->c.sess.username, "hp.chenjing");
	assert_int_equal(f->c.sess.role, GK_ROLE_STATION);
	assert_true(f->c.sess.token[0] != '\0');
	/* The server's address is stored without its trailing slash. */
	assert_int_equal(
	    replica_meta_get(&f->c, "server", buf, sizeof buf, &err), GK_OK);
	assert_true(strcmp(buf, f->url) != 0 &&
	            strncmp(buf, f->url, strlen(buf)) == 0);
	assert_int_equal(
	    replica_meta_get(&f->c, "device", buf, sizeof buf, &err), GK_OK);
	assert_string_equal(buf, "test-agent");
	assert_int_equal(session_unlock(&f->c, "gridkeep-demo", &err), GK_OK);
	assert_int_equal(session_unlock(&f->c, "gridkeep-dem0", &err),
	                 GK_E_CREDENTIALS);
	assert_int_equal(session_token_path(&f->c, path, sizeof path, &err),
	                 GK_OK);
	assert_true(strstr(path, "A.db.token") != NULL);
}

struct watch {
	struct event_base *base;
	struct gk_agent *a;
	int attempts, stop_after;
	int codes[8], online[8], next_in[8];
	int progress;
};

static void
on_progress(void *arg, const struct agent_progress *p)
{
	struct watch *w = arg;

	assert_true(strcmp(p->phase, "push") == 0 ||
	            strcmp(p->phase, "pull") == 0);
	w->progress++;
}

static void
on_done(void *arg, const struct agent_result *r)
{
	struct watch *w = arg;

	if (w->attempts < 8) {
		w->codes[w->attempts] = r->code;
		w->online[w->attempts] = r->online;
		/* The next attempt is planned before done is called. */
		w->next_in[w->attempts] = agent_next_in(w->a);
	}
	if (++w->attempts >= w->stop_after)
		event_base_loopbreak(w->base);
}

static void
run_auto(struct fx *f, struct watch *w, int interval, int max, int attempts)
{
	struct timeval limit = {20, 0};

	memset(w, 0, sizeof *w);
	w->base = event_base_new();
	assert_non_null(w->base);
	w->a = agent_new(&f->c, w->base);
	assert_non_null(w->a);
	w->stop_after = attempts;
	assert_int_equal(agent_next_in(w->a), -1);
	assert_int_equal(
	    agent_auto(w->a, interval, max, on_progress, on_done, w), GK_OK);
	assert_true(agent_next_in(w->a) >= 0);
	event_base_loopexit(w->base, &limit);
	event_base_dispatch(w->base);
	agent_free(w->a);
	event_base_free(w->base);
}

static void
test_the_background_sync_runs_on_the_callers_loop(void **state)
{
	struct fx *f = *state;
	struct watch w;

	run_auto(f, &w, 30, 300, 1);
	assert_int_equal(w.attempts, 1);
	assert_int_equal(w.codes[0], GK_OK);
	assert_true(w.online[0]);
	assert_true(w.progress > 0);
	/* After a success the next sync is one interval away. */
	assert_true(w.next_in[0] >= 29 && w.next_in[0] <= 30);
	assert_true(tu_int(f->c.db, "SELECT count(*) FROM units") > 0);
}

static void
test_an_unreachable_server_is_retried_with_a_bounded_backoff(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	struct watch w;
	char msg[GK_ERRMSG_MAX];

	assert_int_equal(httpc_stop(&f->srv), 0);
	run_auto(f, &w, 1, 2, 3);
	assert_int_equal(w.attempts, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(w.codes[i], GK_E_IO);
		assert_false(w.online[i]);
		assert_true(w.next_in[i] >= 1 && w.next_in[i] <= 2);
	}
	assert_int_equal(
	    replica_meta_get(&f->c, "last_error", msg, sizeof msg, &err),
	    GK_OK);
	assert_true(strstr(msg, "cannot reach") != NULL);
}

static void
test_a_sync_asked_for_while_one_runs_is_refused_as_busy(void **state)
{
	struct fx *f = *state;
	struct event_base *base = event_base_new();
	struct gk_agent *a = agent_new(&f->c, base);
	struct watch w;

	memset(&w, 0, sizeof w);
	w.base = base;
	w.a = a;
	w.stop_after = 1;
	assert_int_equal(agent_sync(a, NULL, on_done, &w), GK_OK);
	assert_true(agent_busy(a));
	assert_int_equal(agent_sync(a, NULL, on_done, &w), GK_E_BUSY);
	event_base_dispatch(base);
	assert_false(agent_busy(a));
	assert_int_equal(w.attempts, 1);
	/* Freeing an agent with nothing in flight, and one mid-sync. */
	assert_int_equal(agent_sync(a, NULL, on_done, &w), GK_OK);
	agent_free(a);
	event_base_free(base);
}

/* A hazard insert and its first event, as a server would send them. */
#define HZ_ID  "01a20000-0000-7000-8000-0000000000a1"
#define GRID   "01a20000-0000-7000-8000-0000000000b1"
#define NODE   "1111111111111111"
#define CURSOR "v1.01a20000-0000-7000-8000-000000000001.x.1.abc"
#define DBID   "01a20000-0000-7000-8000-000000000001"

static json_t *
page_of(const char *changes, const char *drops)
{
	char text[4096];
	json_t *j;

	snprintf(text, sizeof text,
	         "{\"db_id\":\"" DBID "\",\"cursor\":\"" CURSOR
	         "\",\"more\":false,\"changes\":[%s],\"drop\":[%s]}",
	         changes, drops);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char hazard_insert[] =
    "{\"id\":\"01a20000-0000-7000-8000-0000000000c1\",\"node\":\"" NODE
    "\",\"hlc\":\"0001000000000000\",\"table\":\"hazards\",\"op\":"
    "\"insert\",\"row\":\"" HZ_ID "\",\"fields\":{\"grid\":\"" GRID
    "\",\"category\":\"fire\",\"risk_level\":3,\"title\":\"t\","
    "\"occurred_at\":\"2026-11-20T08:00:00Z\"}}";
static const char hazard_event[] =
    "{\"id\":\"01a20000-0000-7000-8000-0000000000c2\",\"node\":\"" NODE
    "\",\"hlc\":\"0001000000000001\",\"table\":\"hazard_events\","
    "\"op\":\"append\",\"row\":\"01a20000-0000-7000-8000-0000000000d1\","
    "\"fields\":{\"hazard\":\"" HZ_ID "\",\"kind\":\"transition\","
    "\"from_status\":\"new\",\"to_status\":\"reported\","
    "\"occurred_at\":\"2026-11-20T08:00:00Z\"}}";

static void
test_a_page_with_one_bad_change_applies_nothing(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char changes[2048], cursor[256];
	int64_t n = -1;
	json_t *page;

	assert_int_equal(db_exec(f->c.db,
	                         "DELETE FROM client_meta WHERE key = 'cursor'",
	                         &err),
	                 GK_OK);
	/* The second change names a table no replica has. */
	snprintf(changes, sizeof changes, "%s,%s", hazard_insert,
	         "{\"id\":\"01a20000-0000-7000-8000-0000000000c9\",\"node\":"
	         "\"" NODE "\",\"hlc\":\"0001000000000002\",\"table\":"
	         "\"secrets\",\"op\":\"append\",\"row\":"
	         "\"01a20000-0000-7000-8000-0000000000d9\",\"fields\":{}}");
	page = page_of(changes, "");
	assert_int_not_equal(agent_apply_page(&f->c, page, &n, &err), GK_OK);
	assert_true(strstr(err.msg, "malformed change") != NULL);
	json_decref(page);
	assert_int_equal(
	    tu_int(f->c.db,
	           "SELECT count(*) FROM hazards WHERE id = '" HZ_ID "'"),
	    0);
	assert_int_equal(
	    replica_meta_get(&f->c, "cursor", cursor, sizeof cursor, &err),
	    GK_E_NOT_FOUND);

	/* A cursor that is not one a server makes is refused too. */
	page = page_of(hazard_insert, "");
	json_object_set_new(page, "cursor", json_string("v1.x y"));
	assert_int_equal(agent_apply_page(&f->c, page, &n, &err), GK_E_JSON);
	json_decref(page);
	assert_int_equal(
	    tu_int(f->c.db,
	           "SELECT count(*) FROM hazards WHERE id = '" HZ_ID "'"),
	    0);
}

static void
test_a_drop_deletes_the_rows_and_keeps_their_waiting_changes(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char changes[2048], cursor[256];
	int64_t n = -1;
	json_t *page;

	snprintf(changes, sizeof changes, "%s,%s", hazard_insert, hazard_event);
	page = page_of(changes, "");
	assert_int_equal(agent_apply_page(&f->c, page, &n, &err), GK_OK);
	json_decref(page);
	assert_int_equal(n, 2);
	assert_int_equal(
	    tu_int(f->c.db, "SELECT count(*) FROM hazards WHERE id = '" HZ_ID
	                    "' AND status = 'reported'"),
	    1);
	assert_int_equal(
	    replica_meta_get(&f->c, "cursor", cursor, sizeof cursor, &err),
	    GK_OK);
	assert_string_equal(cursor, CURSOR);
	/* A local change of the hazard still waits in the outbox. */
	assert_int_equal(
	    db_exec(
	        f->c.db,
	        "INSERT INTO outbox(id, tbl, row_id, json, state, "
	        "created_at) VALUES('01a20000-0000-7000-8000-0000000000e1', "
	        "'hazards', '" HZ_ID "', '{}', 'saved', 0)",
	        &err),
	    GK_OK);

	/* The user was moved: the next page says to drop the hazard. */
	page = page_of("", "{\"table\":\"hazards\",\"row\":\"" HZ_ID "\"}");
	assert_int_equal(agent_apply_page(&f->c, page, &n, &err), GK_OK);
	json_decref(page);
	assert_int_equal(n, 0);
	assert_int_equal(
	    tu_int(f->c.db,
	           "SELECT count(*) FROM hazards WHERE id = '" HZ_ID "'"),
	    0);
	assert_int_equal(tu_int(f->c.db, "SELECT count(*) FROM hazard_events "
	                                 "WHERE hazard = '" HZ_ID "'"),
	                 0);
	assert_int_equal(tu_int(f->c.db, "SELECT count(*) FROM outbox WHERE "
	                                 "row_id = '" HZ_ID "'"),
	                 1);
	/* A drop naming no table of ours is refused, nothing done. */
	page =
	    page_of("", "{\"table\":\"sqlite_master\",\"row\":\"" HZ_ID "\"}");
	assert_int_equal(agent_apply_page(&f->c, page, &n, &err), GK_E_JSON);
	json_decref(page);
	assert_int_equal(
	    db_exec(f->c.db, "DELETE FROM outbox WHERE row_id = '" HZ_ID "'",
	            &err),
	    GK_OK);
}

static void
test_only_plain_http_base_addresses_are_taken(void **state)
{
	static const char *const good[] = {"http://127.0.0.1:8080",
	                                   "http://127.0.0.1:8080/",
	                                   "http://gridkeep.example.org"};
	static const char *const bad[] = {"https://127.0.0.1:8080",
	                                  "127.0.0.1:8080",
	                                  "http://",
	                                  "http://h:0",
	                                  "http://h:65536",
	                                  "http://h:80x",
	                                  "http://u@h:80",
	                                  "http://h/api",
	                                  "http://h?x=1",
	                                  "http://h o"};
	struct gk_error err = {0};
	char host[256];
	int port;

	(void)state;
	assert_int_equal(net_url_parse(good[0], host, sizeof host, &port, &err),
	                 GK_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(net_url_parse(good[1], host, sizeof host, &port, &err),
	                 GK_OK);
	assert_int_equal(net_url_parse(good[2], host, sizeof host, &port, &err),
	                 GK_OK);
	assert_int_equal(port, 80);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (net_url_parse(bad[i], host, sizeof host, &port, &err) ==
		    GK_OK)
			fail_msg("%s was taken", bad[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_login_is_stored_and_unlocks_offline),
	    cmocka_unit_test(test_the_background_sync_runs_on_the_callers_loop),
	    cmocka_unit_test(
	        test_an_unreachable_server_is_retried_with_a_bounded_backoff),
	    cmocka_unit_test(
	        test_a_sync_asked_for_while_one_runs_is_refused_as_busy),
	    cmocka_unit_test(test_a_page_with_one_bad_change_applies_nothing),
	    cmocka_unit_test(
	        test_a_drop_deletes_the_rows_and_keeps_their_waiting_changes),
	    cmocka_unit_test(test_only_plain_http_base_addresses_are_taken),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
