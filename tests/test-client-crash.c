/*
 * test-client-crash.c: a station's sync cut off at random moments resumes
 * with nothing lost or doubled.
 *
 * The real gridkeepd serves a demo database on 127.0.0.1; the real
 * gridkeep binary syncs two replicas: A, which makes a few hundred stock
 * moves offline before each round (through the client's own write path,
 * in this process), and P, which pulls them (as a new install before each
 * of its rounds, so each of its first syncs pulls several pages). In each round
 * one `gridkeep sync` is cut by SIGKILL at a random moment: of the client, or
 * of the server (then restarted on its port), mid-push or mid-pull. The
 * next `gridkeep sync` must complete. At the end every change A made is in
 * the server's change log exactly once, the stock on hand there is the
 * sum of the moves made, and A and P hold exactly what a fresh replica
 * pulls. GK_SEED replays a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#include "gridkeep.h"
#include "httpc.h"
#include "testutil.h"

#define MIN_CUTS    50
#define MAX_ROUNDS  150
#define MOVES_ROUND 200
#define TIME_BUDGET 50 /* seconds for the cut rounds */

struct fx {
	char dir[256], db[512];
	char gk[GK_PATH_MAX + 16];
	char a[600], p[600], fresh[600];
	char url[64];
	char depot[GK_ID_LEN + 1], item[GK_ID_LEN + 1];
	struct httpc_server srv;
	struct gk_testenv rnd;
	int64_t made; /* the sum of every move A made */
	int64_t nmoves;
	int cuts;
	int cut[2][2]; /* [pulling][the server killed] */
};

static int copy_file(const char *from, const char *to);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start `gridkeep -d replica args...` with output to dir/client.log. */
static pid_t
gk_spawn(struct fx *f, const char *replica, const char *a1, const char *a2,
         const char *a3, const char *stdin_text)
{
	char log[600];
	int in[2];
	pid_t pid;

	snprintf(log, sizeof log, "%s/client.log", f->dir);
	if (pipe(in) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(in[0], 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close(in[0]);
		close(in[1]);
		execl(f->gk, "gridkeep", "-d", replica, a1, a2, a3,
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	if (stdin_text != NULL &&
	    write(in[1], stdin_text, strlen(stdin_text)) < 0)
		perror("write");
	close(in[1]);
	return pid;
}

static int
gk_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

static int
gk_run(struct fx *f, const char *replica, const char *a1, const char *a2,
       const char *a3, const char *stdin_text)
{
	pid_t pid = gk_spawn(f, replica, a1, a2, a3, stdin_text);

	return pid < 0 ? -1 : gk_wait(pid);
}

static void
show_log(struct fx *f)
{
	char path[600], *text;
	size_t len;

	snprintf(path, sizeof path, "%s/client.log", f->dir);
	if ((text = tu_slurp(path, &len)) != NULL) {
		print_message("# client log (last part):\n%s\n",
		              len > 2000 ? text + len - 2000 : text);
		free(text);
	}
}

static int
gk_login(struct fx *f, const char *replica)
{
	return gk_run(f, replica, "login", f->url, "hp.chenjing",
	              "gridkeep-demo\n");
}

static int
server_restart(struct fx *f)
{
	char port[16];
	const char *args[] = {"-l", NULL, NULL};
	char db[512];

	snprintf(port, sizeof port, "127.0.0.1:%d", f->srv.port);
	args[1] = port;
	snprintf(db, sizeof db, "%s", f->db);
	httpc_free(&f->srv);
	return httpc_start(&f->srv, db, args);
}

/* Make n receive moves on A, offline, through the client's write path. */
static int
make_moves(struct fx *f, int n)
{
	struct gk_client c;
	struct gk_error err = {0};
	char row[GK_ID_LEN + 1];
	int rc;

	memset(&c, 0, sizeof c);
	c.env = gk_env_system;
	c.db_path = f->a;
	validate_policy_default(&c.policy);
	if ((rc = replica_open(&c, 0, NULL, &err)) != GK_OK ||
	    (rc = session_load(&c, &err)) != GK_OK ||
	    (rc = write_begin(&c, &err)) != GK_OK)
		goto out;
	for (int i = 0; i < n; i++) {
		int64_t q = 1 + (int64_t)gk_testenv_below(&f->rnd, 9);
		json_t *fields = json_pack(
		    "{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "depot", f->depot,
		    "item", f->item, "kind", "receive", "quantity",
		    (json_int_t)q, "source", "donation", "note", "crash-test",
		    "occurred_at", "2026-11-20T08:00:00Z");

		uuid_v7(&c.env, row);
		rc = write_change_tx(&c, "stock_moves", GK_OP_APPEND, row,
		                     fields, NULL, &err);
		json_decref(fields);
		if (rc != GK_OK) {
			write_rollback(&c);
			goto out;
		}
		f->made += q;
	}
	rc = write_commit(&c, &err);
	if (rc == GK_OK)
		f->nmoves += n;
out:
	if (rc != GK_OK)
		print_message("# make_moves: %s\n", err.msg);
	client_close(&c);
	return rc;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *bd = getenv("top_builddir"), *seed_s = getenv("GK_SEED");
	uint64_t seed;
	sqlite3 *db;
	struct gk_error err = {0};
	char dir[GK_PATH_MAX], tok[700], ptok[700];

	if (f == NULL || httpc_tmpdir(f->dir, sizeof f->dir) != 0 ||
	    httpc_make_db(f->dir, "demo", f->db, sizeof f->db) != 0)
		return -1;
	if (realpath(bd != NULL ? bd : ".", dir) == NULL)
		return -1;
	snprintf(f->gk, sizeof f->gk, "%s/gridkeep", dir);
	snprintf(f->a, sizeof f->a, "%s/A.db", f->dir);
	snprintf(f->p, sizeof f->p, "%s/P.db", f->dir);
	snprintf(f->fresh, sizeof f->fresh, "%s/F.db", f->dir);
	seed = seed_s != NULL ? strtoull(seed_s, NULL, 10)
	                      : (uint64_t)time(NULL) ^ (uint64_t)getpid();
	print_message("# GK_SEED=%" PRIu64 "\n", seed);
	gk_testenv_init(&f->rnd, seed, 0);

	if (db_open(f->db, GK_DB_READONLY, &db, &err) != GK_OK)
		return -1;
	tu_text(db,
	        "SELECT d.id FROM depots d JOIN users u ON u.unit = d.unit "
	        "WHERE u.username = 'hp.chenjing' LIMIT 1",
	        f->depot, sizeof f->depot);
	tu_text(db,
	        "SELECT id FROM items WHERE shelf_life_days IS NULL "
	        "ORDER BY code LIMIT 1",
	        f->item, sizeof f->item);
	db_close(db);
	if (strlen(f->depot) != GK_ID_LEN || strlen(f->item) != GK_ID_LEN ||
	    httpc_start(&f->srv, f->db, NULL) != 0)
		return -1;
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->srv.port);
	snprintf(dir, sizeof dir, "%s/P0.db", f->dir);
	snprintf(tok, sizeof tok, "%s/P0.db.token", f->dir);
	snprintf(ptok, sizeof ptok, "%s.token", f->p);
	if (gk_login(f, f->a) != 0 || gk_login(f, f->p) != 0 ||
	    copy_file(f->p, dir) != 0 || copy_file(ptok, tok) != 0 ||
	    gk_run(f, f->a, "sync", NULL, NULL, NULL) != 0 ||
	    gk_run(f, f->p, "sync", NULL, NULL, NULL) != 0) {
		show_log(f);
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
	httpc_free(&f->srv);
	httpc_rmdir(f->dir);
	free(f);
	return 0;
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;
	int ok = in != NULL && out != NULL;

	while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/*
 * P starts over as the new install it was right after its login (a copy
 * kept in setup): every page of its next sync is new to it.
 */
static int
renew_p(struct fx *f)
{
	const char *const suffix[] = {"-wal", "-shm"};
	char from[700], to[700];

	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(to, sizeof to, "%s%s", f->p, suffix[i]);
		unlink(to);
	}
	snprintf(from, sizeof from, "%s/P0.db", f->dir);
	snprintf(to, sizeof to, "%s/P0.db.token", f->dir);
	if (copy_file(from, f->p) != 0)
		return -1;
	snprintf(from, sizeof from, "%s.token", f->p);
	return copy_file(to, from);
}

/* The stock moves of this test a database holds. */
static int64_t
moves_in(const char *path)
{
	struct gk_error err = {0};
	int64_t n;
	sqlite3 *db;

	if (db_open(path, GK_DB_READONLY, &db, &err) != GK_OK)
		fail_msg("open %s: %s", path, err.msg);
	n = tu_int(db, "SELECT count(*) FROM stock_moves WHERE note = "
	               "'crash-test'");
	db_close(db);
	return n;
}

static void
test_a_sync_cut_at_random_moments_resumes_on_the_next_run(void **state)
{
	struct fx *f = *state;
	int64_t start = mono_ms(), push_ms = 60, pull_ms = 60;
	int round;

	for (round = 0; round < MAX_ROUNDS && f->cuts < MIN_CUTS; round++) {
		int pulling = round % 2 == 1;
		int kill_server = gk_testenv_below(&f->rnd, 2) == 1;
		const char *replica = pulling ? f->p : f->a;
		int64_t span = pulling ? pull_ms : push_ms, t0;
		int64_t delay =
		    (int64_t)gk_testenv_below(&f->rnd, (uint64_t)span + 1);
		pid_t pid;
		int st, alive;

		if (mono_ms() - start > TIME_BUDGET * 1000)
			break;
		if (pulling)
			assert_int_equal(renew_p(f), 0);
		else
			assert_int_equal(make_moves(f, MOVES_ROUND), GK_OK);
		t0 = mono_ms();
		pid = gk_spawn(f, replica, "sync", NULL, NULL, NULL);
		assert_true(pid > 0);
		usleep((useconds_t)delay * 1000);
		alive = waitpid(pid, &st, WNOHANG) == 0;
		if (alive) {
			if (kill_server)
				httpc_kill9(&f->srv);
			else
				kill(pid, SIGKILL);
			gk_wait(pid);
			f->cuts++;
			f->cut[pulling][kill_server]++;
			if (kill_server)
				assert_int_equal(server_restart(f), 0);
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			/* It finished first: aim within its length next time.
			 */
			int64_t took = mono_ms() - t0;
			if (pulling)
				pull_ms = took + 20;
			else
				push_ms = took + 20;
		}
		st = gk_run(f, replica, "sync", NULL, NULL, NULL);
		if (st != 0) {
			show_log(f);
			fail_msg("round %d: the sync after a cut exited %d",
			         round, st);
		}
		/* Nothing lost, nothing doubled: the server has every move
		 * made so far, once, and so has the replica that synced. */
		if (moves_in(f->db) != f->nmoves ||
		    moves_in(replica) != f->nmoves)
			fail_msg(
			    "round %d (%s, cut %s): the server has %" PRId64
			    " moves, the replica %" PRId64 ", made %" PRId64,
			    round, pulling ? "pull" : "push",
			    kill_server ? "server" : "client", moves_in(f->db),
			    moves_in(replica), f->nmoves);
	}
	print_message("# %d rounds, %d cuts (mid-push: %d of the client, %d "
	              "of the server; mid-pull: %d and %d), %" PRId64
	              " moves in %" PRId64 " ms\n",
	              round, f->cuts, f->cut[0][0], f->cut[0][1], f->cut[1][0],
	              f->cut[1][1], f->nmoves, mono_ms() - start);
	assert_true(f->cuts >= MIN_CUTS);
	for (int p = 0; p < 2; p++)
		for (int k = 0; k < 2; k++)
			assert_true(f->cut[p][k] > 0);
}

static void
test_every_change_made_offline_is_on_the_server_exactly_once(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	char sql[1024];
	sqlite3 *db;

	/* Nothing waits on A any more. */
	assert_int_equal(gk_run(f, f->a, "sync", NULL, NULL, NULL), 0);
	assert_int_equal(db_open(f->a, GK_DB_READONLY, &db, &err), GK_OK);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM outbox WHERE state "
	                            "<> 'accepted'"),
	                 0);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM outbox"), f->nmoves);
	db_close(db);

	assert_int_equal(httpc_stop(&f->srv), 0);
	assert_int_equal(db_open(f->db, 0, &db, &err), GK_OK);
	snprintf(sql, sizeof sql, "ATTACH '%s' AS a", f->a);
	assert_int_equal(db_exec(db, sql, &err), GK_OK);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM a.outbox o JOIN "
	                            "changes c ON c.id = o.id"),
	                 f->nmoves);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM changes WHERE json "
	                            "LIKE '%crash-test%'"),
	                 f->nmoves);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM stock_moves WHERE "
	                            "note = 'crash-test'"),
	                 f->nmoves);
	snprintf(sql, sizeof sql,
	         "SELECT sum(quantity) FROM stock_moves WHERE note = "
	         "'crash-test' AND depot = '%s' AND item = '%s'",
	         f->depot, f->item);
	assert_int_equal(tu_int(db, sql), f->made);
	assert_int_equal(db_check(db, 1, &err), GK_OK);
	db_close(db);
	assert_int_equal(server_restart(f), 0);
}

static char *
dump_of(struct fx *f, const char *replica)
{
	struct gk_error err = {0};
	char *out = NULL;
	size_t len;
	sqlite3 *db;

	(void)f;
	if (db_open(replica, GK_DB_READONLY, &db, &err) != GK_OK)
		fail_msg("open %s: %s", replica, err.msg);
	if (dump_records(db, &out, &len, &err) != GK_OK)
		fail_msg("dump %s: %s", replica, err.msg);
	db_close(db);
	return out;
}

static void
test_both_replicas_hold_what_a_fresh_one_pulls(void **state)
{
	struct fx *f = *state;
	char *fresh, *a, *p;

	assert_int_equal(gk_login(f, f->fresh), 0);
	assert_int_equal(gk_run(f, f->fresh, "sync", NULL, NULL, NULL), 0);
	assert_int_equal(gk_run(f, f->a, "sync", NULL, NULL, NULL), 0);
	assert_int_equal(gk_run(f, f->p, "sync", NULL, NULL, NULL), 0);
	fresh = dump_of(f, f->fresh);
	a = dump_of(f, f->a);
	p = dump_of(f, f->p);
	assert_true(strstr(fresh, "crash-test") != NULL);
	assert_string_equal(a, fresh);
	assert_string_equal(p, fresh);
	free(fresh);
	free(a);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_a_sync_cut_at_random_moments_resumes_on_the_next_run),
	    cmocka_unit_test(
	        test_every_change_made_offline_is_on_the_server_exactly_once),
	    cmocka_unit_test(test_both_replicas_hold_what_a_fresh_one_pulls),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
