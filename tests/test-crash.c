/*
 * test-crash.c: what survives a crash, and what a backup holds.
 *
 * The real gridkeepd serves a demo database while a station pushes stock
 * moves in batches; another process kills the server with SIGKILL at a
 * random moment, 50 times. After each restart every change whose push was
 * acknowledged must be there exactly once, and the database must pass its
 * integrity check. At the end the station re-sends everything it never
 * heard back about, as a client does: each comes back accepted or
 * duplicate, and the stock equals the sum of all moves sent, each once.
 * A backup taken while pushes run is consistent, and a server restored
 * from it has a database id of its own.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpc.h"
#include "testutil.h"

#define KILLS     50
#define MAX_MOVES 100000

struct move {
	char id[GK_ID_LEN + 1];
	char row[GK_ID_LEN + 1];
	int qty;
	int acked; /* the server answered accepted or duplicate */
};

struct fx {
	char dir[256];
	char db[512];
	struct httpc_server srv;
	char token[128];
	char depot[GK_ID_LEN + 1], item[GK_ID_LEN + 1];
	struct gk_testenv te;
	struct gk_env env;
	struct hlc hlc;
	uint64_t node;
	struct move *moves;
	int nmoves;
};

static int
login(struct fx *f, const char *user)
{
	struct httpc_response r = {0};
	char body[256];
	json_t *j;
	int ok = 0;

	snprintf(body, sizeof body,
	         "{\"username\":\"%s\",\"password\":\"gridkeep-demo\","
	         "\"device\":\"crash-test\"}",
	         user);
	if (httpc_request(&f->srv, "POST", "/api/v1/login", NULL, body, &r) ==
	        200 &&
	    (j = httpc_json(&r)) != NULL) {
		const char *t = json_string_value(json_object_get(j, "token"));
		if (t != NULL && strlen(t) < sizeof f->token) {
			strcpy(f->token, t);
			ok = 1;
		}
		json_decref(j);
	}
	httpc_response_free(&r);
	return ok;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	sqlite3 *db;
	struct gk_error err = {0};
	char buf[64];

	if (f == NULL || httpc_tmpdir(f->dir, sizeof f->dir) != 0 ||
	    httpc_make_db(f->dir, "demo", f->db, sizeof f->db) != 0)
		return -1;
	/* A depot of 和平社区 and an item, read from the demo itself. */
	if (db_open(f->db, GK_DB_READONLY, &db, &err) != GK_OK)
		return -1;
	tu_text(db,
	        "SELECT d.id FROM depots d JOIN users u ON u.unit = d.unit "
	        "WHERE u.username = 'hp.chenjing' LIMIT 1",
	        f->depot, sizeof f->depot);
	tu_text(db, "SELECT id FROM items ORDER BY code LIMIT 1", f->item,
	        sizeof f->item);
	db_close(db);
	if (strlen(f->depot) != GK_ID_LEN || strlen(f->item) != GK_ID_LEN)
		return -1;
	gk_testenv_init(&f->te, (uint64_t)time(NULL), 0);
	f->env = gk_testenv_env(&f->te);
	f->node = node_new(&f->env);
	f->moves = calloc(MAX_MOVES, sizeof *f->moves);
	if (f->moves == NULL || httpc_start(&f->srv, f->db, NULL) != 0 ||
	    !login(f, "hp.chenjing"))
		return -1;
	(void)buf;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	httpc_free(&f->srv);
	httpc_rmdir(f->dir);
	free(f->moves);
	free(f);
	return 0;
}

/* The JSON of move m as a change, stamped now by the station's clock. */
static int
move_json(struct fx *f, struct move *m, char *out, size_t size)
{
	char hlc[GK_HLC_LEN + 1], node[GK_NODE_LEN + 1], at[32];
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	hlc_format(hlc_now(&f->hlc, now), hlc);
	node_format(f->node, node);
	text_time_format(now / 1000 * 1000, at);
	return snprintf(out, size,
	                "{\"id\":\"%s\",\"node\":\"%s\",\"hlc\":\"%s\","
	                "\"table\":\"stock_moves\",\"op\":\"append\","
	                "\"row\":\"%s\",\"fields\":{\"depot\":\"%s\","
	                "\"item\":\"%s\",\"kind\":\"receive\",\"quantity\":%d,"
	                "\"source\":\"donation\",\"occurred_at\":\"%s\"}}",
	                m->id, node, hlc, m->row, f->depot, f->item, m->qty,
	                at);
}

/*
 * Push moves[from..from+n) in one request. Marks the acknowledged ones and
 * returns how many were, or -1 if no answer came (the server died).
 */
static int
push(struct fx *f, int from, int n)
{
	size_t cap = (size_t)n * 600 + 64, len = 0;
	char *body = malloc(cap);
	struct httpc_response r = {0};
	json_t *j, *results;
	int acked = -1;

	if (body == NULL)
		return -1;
	len += (size_t)snprintf(body, cap, "{\"changes\":[");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			body[len++] = ',';
		len += (size_t)move_json(f, &f->moves[from + i], body + len,
		                         cap - len);
	}
	snprintf(body + len, cap - len, "]}");
	if (httpc_request(&f->srv, "POST", "/api/v1/sync/push", f->token, body,
	                  &r) == 200 &&
	    (j = httpc_json(&r)) != NULL) {
		results = json_object_get(j, "results");
		acked = 0;
		for (size_t i = 0; i < json_array_size(results); i++) {
			const char *st = json_string_value(json_object_get(
			    json_array_get(results, i), "status"));
			if (st != NULL && (strcmp(st, "accepted") == 0 ||
			                   strcmp(st, "duplicate") == 0)) {
				f->moves[from + (int)i].acked = 1;
				acked++;
			}
		}
		json_decref(j);
	}
	httpc_response_free(&r);
	free(body);
	return acked;
}

static struct move *
new_move(struct fx *f)
{
	struct move *m = &f->moves[f->nmoves++];

	uuid_v7(&gk_env_system, m->id);
	uuid_v7(&gk_env_system, m->row);
	m->qty = 1 + (int)gk_testenv_below(&f->te, 9);
	return m;
}

/* Every acknowledged move of moves[from..] is in the log and the ledger
 * exactly once. */
static void
assert_acked_present_once(struct fx *f, int from)
{
	sqlite3 *db;
	sqlite3_stmt *log, *row;
	struct gk_error err = {0};

	assert_int_equal(db_open(f->db, GK_DB_READONLY, &db, &err), GK_OK);
	assert_int_equal(db_check(db, 1, &err), GK_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM changes WHERE id = ?1",
	                       -1, &log, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM stock_moves WHERE id = ?1",
	                       -1, &row, NULL),
	    SQLITE_OK);
	for (int i = from; i < f->nmoves; i++) {
		struct move *m = &f->moves[i];
		sqlite3_bind_text(log, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(row, 1, m->row, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(log), SQLITE_ROW);
		assert_int_equal(sqlite3_step(row), SQLITE_ROW);
		int in_log = sqlite3_column_int(log, 0);
		int in_ledger = sqlite3_column_int(row, 0);
		if (m->acked && (in_log != 1 || in_ledger != 1))
			fail_msg("acknowledged move %s: %d in the log, %d in "
			         "the ledger",
			         m->id, in_log, in_ledger);
		assert_true(in_log <= 1 && in_ledger == in_log);
		sqlite3_reset(log);
		sqlite3_reset(row);
	}
	sqlite3_finalize(log);
	sqlite3_finalize(row);
	db_close(db);
}

static void
test_killed_server_keeps_every_acknowledged_change_once(void **state)
{
	struct fx *f = *state;
	int acked_total = 0, cut_mid_push = 0;

	for (int k = 0; k < KILLS; k++) {
		pid_t killer, victim = f->srv.pid;
		/* Somewhere in the first few pushes, often mid-commit. */
		useconds_t delay =
		    (useconds_t)(10000 + gk_testenv_below(&f->te, 90000));
		int first = f->nmoves;
		struct timespec t0, t1;

		killer = fork();
		assert_true(killer >= 0);
		if (killer == 0) {
			usleep(delay);
			kill(victim, SIGKILL);
			_exit(0);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			int n = 1 + (int)gk_testenv_below(&f->te, 40), a;
			if (f->nmoves + n > MAX_MOVES)
				break;
			int from = f->nmoves;
			for (int i = 0; i < n; i++)
				new_move(f);
			if ((a = push(f, from, n)) < 0) {
				cut_mid_push++;
				break;
			}
			acked_total += a;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (t1.tv_sec - t0.tv_sec > 5)
				break; /* bounded, whatever happens */
		}
		assert_int_equal(waitpid(killer, NULL, 0), killer);
		httpc_kill9(&f->srv); /* reap it (it is already dead) */
		assert_int_equal(httpc_start(&f->srv, f->db, NULL), 0);
		assert_acked_present_once(f, first);
	}
	assert_acked_present_once(f, 0); /* and nothing earlier was lost */
	print_message("# %d kills, %d of them cutting a push off, %d moves "
	              "sent, %d acknowledged\n",
	              KILLS, cut_mid_push, f->nmoves, acked_total);
	assert_true(acked_total > 0 && acked_total < f->nmoves);

	/* The station re-sends what it never heard back about. */
	for (int i = 0; i < f->nmoves; i++)
		if (!f->moves[i].acked)
			assert_int_equal(push(f, i, 1), 1);
	{
		/* Now every move sent is in the ledger exactly once. */
		sqlite3 *db;
		sqlite3_stmt *st;
		struct gk_error err = {0};

		assert_int_equal(db_open(f->db, GK_DB_READONLY, &db, &err),
		                 GK_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(db,
		                       "SELECT count(*), sum(quantity) FROM "
		                       "stock_moves WHERE id = ?1",
		                       -1, &st, NULL),
		    SQLITE_OK);
		for (int i = 0; i < f->nmoves; i++) {
			sqlite3_bind_text(st, 1, f->moves[i].row, -1,
			                  SQLITE_STATIC);
			assert_int_equal(sqlite3_step(st), SQLITE_ROW);
			assert_int_equal(sqlite3_column_int(st, 0), 1);
			assert_int_equal(sqlite3_column_int(st, 1),
			                 f->moves[i].qty);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		db_close(db);
	}
	assert_int_equal(httpc_stop(&f->srv), 0);
	{
		const char *args[] = {"check", NULL};
		char out[8192];
		int st = httpc_run(f->db, args, out, sizeof out);
		if (st != 0)
			fail_msg("check after the crashes: %s", out);
	}
}

static void
test_backup_during_pushes_restores_to_a_consistent_database(void **state)
{
	struct fx *f = *state;
	char backup[600], out[8192];
	const char *bargs[] = {"backup", backup, NULL};
	const char *cargs[] = {"check", NULL};
	struct httpc_server restored = {0};
	struct httpc_response r = {0};
	char old_cursor[512] = "";
	pid_t pusher;
	json_t *j;

	if (!httpc_alive(&f->srv))
		assert_int_equal(httpc_start(&f->srv, f->db, NULL), 0);
	/* A cursor of the live database, as a client holds one. */
	assert_int_equal(httpc_request(&f->srv, "GET", "/api/v1/sync/pull",
	                               f->token, NULL, &r),
	                 200);
	j = httpc_json(&r);
	assert_non_null(j);
	snprintf(old_cursor, sizeof old_cursor, "%s",
	         json_string_value(json_object_get(j, "cursor")));
	json_decref(j);
	httpc_response_free(&r);

	pusher = fork();
	assert_true(pusher >= 0);
	if (pusher == 0) {
		/* Push for about a second while the parent backs up. */
		for (int i = 0; i < 40 && f->nmoves + 10 < MAX_MOVES; i++) {
			int from = f->nmoves;
			for (int k = 0; k < 10; k++)
				new_move(f);
			push(f, from, 10);
			usleep(20000);
		}
		_exit(0);
	}
	snprintf(backup, sizeof backup, "%s/backup.db", f->dir);
	for (int i = 0; i < 3; i++) {
		int st = httpc_run(f->db, bargs, out, sizeof out);
		if (st != 0)
			fail_msg("backup during pushes: %s", out);
		usleep(100000);
	}
	assert_int_equal(waitpid(pusher, NULL, 0), pusher);
	if (httpc_run(backup, cargs, out, sizeof out) != 0)
		fail_msg("check of the backup: %s", out);

	/* Restored, it serves, and a client's cursor is refused so that the
	 * client re-pulls and re-sends what the backup lacks. */
	assert_int_equal(httpc_start(&restored, backup, NULL), 0);
	{
		char path[700];
		snprintf(path, sizeof path, "/api/v1/sync/pull?cursor=%s",
		         old_cursor);
		assert_int_equal(
		    httpc_request(&restored, "GET", path, f->token, NULL, &r),
		    409);
		assert_string_equal(httpc_error_code(&r), "db_changed");
		httpc_response_free(&r);
	}
	assert_int_equal(httpc_stop(&restored), 0);
	httpc_free(&restored);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_killed_server_keeps_every_acknowledged_change_once),
	    cmocka_unit_test(
	        test_backup_during_pushes_restores_to_a_consistent_database),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
