/*
 * bench-client.c: the station client's performance targets (issue 5),
 * measured on the real code: the sync agent against a real gridkeepd on
 * 127.0.0.1, the pull apply, and the Hazards screen of the terminal UI.
 *
 *   (a) the first sync of a station's scope (the demo plus -n changes,
 *       100,000) from gridkeepd into a fresh replica, and into a replica
 *       that already holds -r records (500,000), end to end through
 *       agent_sync_wait: records/s (target >= 20,000);
 *   (b) one pulled change applied (agent_apply_page on a page of one
 *       change) on the big replica: p50/p99 over -c runs (target 1 ms);
 *   (c) the Hazards screen on the big replica: open (open, reload, draw
 *       into an 80x24 curses window of a terminal made with newterm on
 *       /dev/null), then 20 PgDn each drawn: p50/p99 per screen over -u
 *       runs (target 50 ms).
 *
 * The server's data: `gridkeepd demo` in a temporary directory (tests/
 * httpc.c makes and starts it, $top_builddir/gridkeepd), then -n changes
 * pushed through the API in pushes of 1,000, made by tests/gen.c over the
 * demo's rows of 和平社区 (hp.chenjing's community), so they all lie in
 * that station's scope. The admin pushes them (the generator's hazard
 * events take every transition, which only the admin may take in every
 * case); hp.chenjing pulls them.
 *
 * The big replica: the same generator over the same community, its
 * changes applied with merge_apply_batch in 10,000-change transactions
 * (only appends and new records, so each change is one record: stock
 * moves, point entries, hazard events, patrols, hazards, notice acks,
 * requests...), with times spread over the 60 days before now. Then it
 * logs in as hp.chenjing and syncs like any station.
 *
 *   bench-client [-n SERVER_CHANGES] [-r RECORDS] [-c RUNS] [-u UI_RUNS]
 *                [-s SEED] [-k] [-p fresh,big,one,ui]
 *
 * -k keeps the temporary directory. -p runs only the measurements named
 * (for a profile of one of them); the big replica is built for big, one
 * and ui. Each phase prints a "bench-client
 * PHASE key=value ..." line for scripts (bench/run-client-bench.sh), with
 * the peak RSS so far. See bench/README.md, "Station client".
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "gen.h"
#include "gridkeep.h"
#include "httpc.h"
#include "ui.h"

#define STATION     "hp.chenjing"
#define ADMIN       "admin"
#define PASSWORD    "gridkeep-demo" /* backend/demo.c */
#define PUSH_BATCH  1000
#define APPLY_BATCH 10000
#define DAY_MS      86400000LL

/* The measurements -p may choose; the big replica is built for the last
 * three. */
#define PH_FRESH 0x1
#define PH_BIG   0x2
#define PH_ONE   0x4
#define PH_UI    0x8
#define PH_ALL   0xf

struct opts {
	long server_changes; /* -n */
	long records;        /* -r */
	int runs;            /* -c: single-change pages */
	int ui_runs;         /* -u */
	uint64_t seed;       /* -s */
	int keep;            /* -k */
	unsigned phases;     /* -p: PH_* bits */
};

/* A generator over the rows of one community of a database. */
struct world {
	struct gk_testenv t;
	struct gen_world w;
	struct gen_replica r;
	struct gen_mix mix;
};

struct strbuf {
	char *p;
	size_t len, cap;
};

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("bench-client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

/* CPU seconds (user + system) this process has used. */
static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds another process has used (/proc/PID/stat), 0 if unknown. */
static double
proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command's closing parenthesis: the state is the 3rd
	 * field, utime the 14th and stime the 15th. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	           " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	           &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The 1-minute load average, for reading a run's figures. */
static double
loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void
sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct strbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile of v[0..n) (sorts v). */
static double
pct(double *v, int n, int p)
{
	int i;

	qsort(v, (size_t)n, sizeof *v, cmp_double);
	i = (int)((double)p / 100.0 * (double)n + 0.5) - 1;
	return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

/* ---- a world over one community's rows ------------------------------------
 */

/* The subtree of the unit ?1. */
#define SUBTREE                                                                \
	"WITH RECURSIVE sub(id) AS (SELECT ?1 UNION SELECT u.id FROM units "   \
	"u JOIN sub ON u.parent = sub.id) "

static void
load_rows(struct gen_world *w, sqlite3 *db, enum gen_kind k, const char *sql,
          const char *unit)
{
	struct gen_rows *rs = &w->rows[k];
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id == NULL || strlen(id) != GK_ID_LEN)
			die("bad id from %s", sql);
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 64;
			if ((rs->v = realloc(rs->v, rs->cap * sizeof *rs->v)) ==
			    NULL)
				die("out of memory");
		}
		memcpy(rs->v[rs->n].id, id, GK_ID_LEN + 1);
		rs->v[rs->n].aux = sqlite3_column_int(st, 1);
		rs->n++;
	}
	if (rc != SQLITE_DONE)
		die("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* The unit of a user, from a database holding users (the server's). */
static void
user_unit(sqlite3 *db, const char *username, char out[GK_ID_LEN + 1])
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT unit FROM users WHERE username = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		die("users: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_bytes(st, 0) != GK_ID_LEN)
		die("no user %s", username);
	memcpy(out, sqlite3_column_text(st, 0), GK_ID_LEN + 1);
	sqlite3_finalize(st);
}

/*
 * A generator over the rows of unit's subtree in db (read as it is now),
 * starting at start_ms. full: the big replica's mix (every append kind
 * and a few new records), else the server's (what stays in the scope).
 */
static struct world *
world_new(sqlite3 *db, const char *unit, uint64_t seed, int64_t start_ms,
          int full)
{
	struct world *g = calloc(1, sizeof *g);
	struct gk_error err = {0};

	if (g == NULL)
		die("out of memory");
	gk_testenv_init(&g->t, seed, start_ms);
	gen_world_init(&g->w, &g->t);
	/* Activities and lots never repeat those of another world. */
	g->w.serial = (seed % 4096) << 40 | ((uint64_t)wall_ms() % (1u << 20))
	                                        << 20;
	load_rows(&g->w, db, GEN_K_UNIT,
	          SUBTREE "SELECT id, CASE level WHEN 'district' THEN 0 "
	                  "WHEN 'street' THEN 1 WHEN 'community' THEN 2 ELSE "
	                  "3 END FROM units WHERE id IN sub AND deleted IS "
	                  "NOT 1 ORDER BY id",
	          unit);
	load_rows(&g->w, db, GEN_K_GRID,
	          SUBTREE "SELECT id, 3 FROM units WHERE id IN sub AND level = "
	                  "'grid' AND deleted IS NOT 1 ORDER BY id",
	          unit);
	load_rows(&g->w, db, GEN_K_ITEM,
	          "SELECT id, shelf_life_days IS NOT NULL FROM items WHERE "
	          "deleted IS NOT 1 ORDER BY id",
	          NULL);
	load_rows(&g->w, db, GEN_K_DEPOT,
	          SUBTREE "SELECT id, 0 FROM depots WHERE unit IN sub AND "
	                  "deleted IS NOT 1 ORDER BY id",
	          unit);
	load_rows(&g->w, db, GEN_K_VOLUNTEER,
	          SUBTREE "SELECT id, 0 FROM volunteers WHERE unit IN sub AND "
	                  "deleted IS NOT 1 ORDER BY id",
	          unit);
	if (full)
		load_rows(&g->w, db, GEN_K_NOTICE,
		          "SELECT id, 0 FROM notices WHERE deleted IS NOT 1 "
		          "ORDER BY id",
		          NULL);
	load_rows(&g->w, db, GEN_K_HAZARD,
	          SUBTREE "SELECT id, CASE status WHEN 'new' THEN 0 WHEN "
	                  "'reported' THEN 1 WHEN 'verified' THEN 2 WHEN "
	                  "'rectifying' THEN 3 WHEN 'resolved' THEN 4 WHEN "
	                  "'closed' THEN 5 ELSE 6 END FROM hazards WHERE grid "
	                  "IN sub AND deleted IS NOT 1 ORDER BY id",
	          unit);
	if (g->w.rows[GEN_K_GRID].n == 0)
		die("no grids under %s", unit);
	if (gen_replica_init(&g->r, &g->w, NULL, 0, &err) != GK_OK)
		die("generator: %s", err.msg);
	/* A station's day (see bench/loadgen.c): ledgers, events, patrols. */
	g->mix.weight[GEN_HAZARD] = 250;
	g->mix.weight[GEN_HAZARD_EVENT] = 1500;
	g->mix.weight[GEN_INSPECTION] = 1200;
	g->mix.weight[GEN_STOCK_MOVE] = 3800;
	g->mix.weight[GEN_POINT_ENTRY] = 2000;
	if (full) {
		g->mix.weight[GEN_NOTICE_ACK] = 300;
		g->mix.weight[GEN_REPLENISH] = 270;
		g->mix.weight[GEN_VOLUNTEER] = 20;
		g->mix.weight[GEN_STANDARD] = 10;
		g->mix.weight[GEN_DEPOT] = 3;
		g->mix.weight[GEN_ITEM] = 5;
	}
	return g;
}

static void
world_free(struct world *g)
{
	gen_replica_free(&g->r);
	gen_world_free(&g->w);
	free(g);
}

/* ---- the server -----------------------------------------------------------
 */

static void
login_token(struct httpc_server *s, const char *user, char *tok, size_t size)
{
	struct httpc_response r = {0};
	char body[256];
	json_t *j;
	const char *t;

	snprintf(body, sizeof body,
	         "{\"username\":\"%s\",\"password\":\"%s\",\"device\":"
	         "\"bench-client\"}",
	         user, PASSWORD);
	if (httpc_request(s, "POST", "/api/v1/login", NULL, body, &r) != 200 ||
	    (j = httpc_json(&r)) == NULL ||
	    (t = json_string_value(json_object_get(j, "token"))) == NULL)
		die("login %s: status %d: %s", user, r.status,
		    r.body ? r.body : "");
	snprintf(tok, size, "%s", t);
	json_decref(j);
	httpc_response_free(&r);
}

/* Push n changes made by g as user, in pushes of PUSH_BATCH. */
static void
server_fill(struct httpc_server *s, struct world *g, long n)
{
	struct strbuf b = {0};
	char tok[256];
	long done = 0, accepted = 0, rejected = 0;
	double t0 = now_s(), push_s = 0;
	char first[256] = "";

	login_token(s, ADMIN, tok, sizeof tok);
	while (done < n) {
		int k = n - done < PUSH_BATCH ? (int)(n - done) : PUSH_BATCH;
		struct httpc_response r = {0};
		json_t *j, *res, *v;
		size_t i;
		double t;

		b.len = 0;
		sb_str(&b, "{\"changes\":[");
		for (int i2 = 0; i2 < k; i2++) {
			struct gk_change c;
			char *json;

			g->t.now = wall_ms();
			gen_change(&g->r, &g->mix, &c);
			c.author[0] = '\0';
			if ((json = change_encode(&c)) == NULL)
				die("out of memory");
			if (i2 > 0)
				sb_add(&b, ",", 1);
			sb_str(&b, json);
			free(json);
			change_clear(&c);
		}
		sb_str(&b, "]}");
		t = now_s();
		if (httpc_request(s, "POST", "/api/v1/sync/push", tok, b.p,
		                  &r) != 200 ||
		    (j = httpc_json(&r)) == NULL)
			die("push: status %d: %.300s", r.status,
			    r.body ? r.body : "");
		push_s += now_s() - t;
		res = json_object_get(j, "results");
		json_array_foreach (res, i, v) {
			const char *st =
			    json_string_value(json_object_get(v, "status"));
			if (st != NULL && strcmp(st, "rejected") == 0) {
				rejected++;
				if (first[0] == '\0')
					snprintf(
					    first, sizeof first, "%s: %s",
					    json_string_value(
					        json_object_get(v, "code")),
					    json_string_value(
					        json_object_get(v, "message")));
			} else
				accepted++;
		}
		json_decref(j);
		httpc_response_free(&r);
		done += k;
	}
	free(b.p);
	printf("bench-client server changes=%ld accepted=%ld rejected=%ld "
	       "seconds=%.1f push_s=%.1f%s%s\n",
	       done, accepted, rejected, now_s() - t0, push_s,
	       first[0] ? " first_reject=" : "", first);
	fflush(stdout);
}

/* ---- the client -----------------------------------------------------------
 */

static void
client_init(struct gk_client *c, const char *path)
{
	struct gk_error err = {0};

	memset(c, 0, sizeof *c);
	c->env = gk_env_system;
	c->db_path = path;
	validate_policy_default(&c->policy);
	if (replica_open(c, REPLICA_CREATE, NULL, &err) != GK_OK)
		die("%s: %s", path, err.msg);
}

static int64_t
count_records(sqlite3 *db)
{
	const struct gk_table *const *ts;
	int64_t total = 0;
	int n;

	ts = record_tables(&n);
	for (int i = 0; i < n; i++) {
		char sql[128];
		sqlite3_stmt *st;

		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s",
		         ts[i]->name);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			die("%s", sqlite3_errmsg(db));
		if (sqlite3_step(st) == SQLITE_ROW)
			total += sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return total;
}

/* Fill the replica with about `records` records of the community unit. */
static void
build_big(struct gk_client *c, sqlite3 *demo, const char *unit,
          const struct opts *o)
{
	struct gk_error err = {0};
	struct gk_merge *m;
	struct gk_change *cs;
	struct world *g;
	double t0 = now_s(), apply_s = 0;
	long done = 0;
	int64_t start = wall_ms() - 60 * DAY_MS;
	int64_t step = 60 * DAY_MS / (o->records > 0 ? o->records : 1);

	if ((m = merge_new(c->db, &err)) == NULL)
		die("merge: %s", err.msg);
	if ((cs = calloc(APPLY_BATCH, sizeof *cs)) == NULL)
		die("out of memory");
	g = world_new(demo, unit, o->seed * 31 + 7, start, 1);
	while (done < o->records) {
		int k = o->records - done < APPLY_BATCH
		            ? (int)(o->records - done)
		            : APPLY_BATCH;
		double t;

		for (int i = 0; i < k; i++) {
			g->t.now += step;
			gen_change(&g->r, &g->mix, &cs[i]);
		}
		t = now_s();
		if (merge_apply_batch(m, cs, (size_t)k, NULL, &err) != GK_OK)
			die("apply: %s: %s", gk_code_name(err.code), err.msg);
		apply_s += now_s() - t;
		for (int i = 0; i < k; i++)
			change_clear(&cs[i]);
		done += k;
	}
	merge_free(m);
	free(cs);
	world_free(g);
	if (db_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)", &err) != GK_OK)
		die("checkpoint: %s", err.msg);
	printf("bench-client build changes=%ld records=%lld seconds=%.1f "
	       "apply_s=%.1f apply_per_s=%.0f peak_rss_mib=%ld\n",
	       done, (long long)count_records(c->db), now_s() - t0, apply_s,
	       (double)done / apply_s, peak_rss_mib());
	fflush(stdout);
}

struct progress {
	long calls;
};

static void
on_progress(void *arg, const struct agent_progress *p)
{
	struct progress *pr = arg;

	(void)p;
	pr->calls++;
}

/* Log in as the station (untimed), then one timed first sync. */
static void
first_sync(struct gk_client *c, const char *url, pid_t server,
           const char *label)
{
	struct agent_result r;
	struct progress pr = {0};
	int64_t before = count_records(c->db);
	double t0, dt, cpu0, scpu0;

	memset(&r, 0, sizeof r);
	if (agent_login_wait(c, url, STATION, PASSWORD, label, &r) != GK_OK)
		die("login %s: %s", STATION, r.err.msg);
	memset(&r, 0, sizeof r);
	cpu0 = self_cpu_s();
	scpu0 = proc_cpu_s(server);
	t0 = now_s();
	if (agent_sync_wait(c, on_progress, &pr, &r) != GK_OK)
		die("sync (%s): %s: %s", label, gk_code_name(r.code),
		    r.err.msg);
	dt = now_s() - t0;
	printf("bench-client sync replica=%s records_before=%lld pulled=%lld "
	       "dropped=%lld records_after=%lld seconds=%.2f "
	       "records_per_s=%.0f client_cpu_s=%.2f server_cpu_s=%.2f "
	       "load=%.2f progress_calls=%ld peak_rss_mib=%ld\n",
	       label, (long long)before, (long long)r.pulled,
	       (long long)r.dropped, (long long)count_records(c->db), dt,
	       (double)r.pulled / dt, self_cpu_s() - cpu0,
	       proc_cpu_s(server) - scpu0, loadavg(), pr.calls, peak_rss_mib());
	fflush(stdout);
}

/* (b): one-change pages through agent_apply_page. */
static void
incremental(struct gk_client *c, const char *unit, const struct opts *o)
{
	struct gk_error err = {0};
	char db_id[128], cursor[1024];
	double *v = calloc((size_t)o->runs, sizeof *v);
	struct world *g;
	int64_t applied_total = 0;
	double cpu, cpu0;

	if (v == NULL)
		die("out of memory");
	if (replica_meta_get(c, "db_id", db_id, sizeof db_id, &err) != GK_OK)
		die("db_id: %s", err.msg);
	if (replica_meta_get(c, "cursor", cursor, sizeof cursor, &err) != GK_OK)
		die("cursor: %s", err.msg);
	g = world_new(c->db, unit, o->seed * 131 + 3, wall_ms(), 1);
	cpu = 0;
	for (int i = 0; i < o->runs; i++) {
		struct gk_change ch;
		json_t *page, *arr;
		int64_t applied = 0;
		double t0;

		g->t.now = wall_ms();
		gen_change(&g->r, &g->mix, &ch);
		arr = json_array();
		json_array_append_new(arr, change_to_json(&ch));
		page = json_pack("{s:s, s:s, s:b, s:o, s:[]}", "db_id", db_id,
		                 "cursor", cursor, "more", 0, "changes", arr,
		                 "drop");
		if (page == NULL)
			die("out of memory");
		cpu0 = self_cpu_s();
		t0 = now_s();
		if (agent_apply_page(c, page, &applied, &err) != GK_OK)
			die("apply page %d: %s: %s", i, gk_code_name(err.code),
			    err.msg);
		v[i] = (now_s() - t0) * 1000.0;
		cpu += self_cpu_s() - cpu0;
		applied_total += applied;
		json_decref(page);
		change_clear(&ch);
	}
	{
		double p50 = pct(v, o->runs, 50);
		double p99 = pct(v, o->runs, 99); /* v is sorted now */
		printf("bench-client apply-one runs=%d applied=%lld "
		       "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f "
		       "cpu_ms_per_run=%.3f load=%.2f records=%lld "
		       "peak_rss_mib=%ld\n",
		       o->runs, (long long)applied_total, p50, p99,
		       v[o->runs - 1], cpu * 1000.0 / o->runs, loadavg(),
		       (long long)count_records(c->db), peak_rss_mib());
	}
	fflush(stdout);
	world_free(g);
	free(v);
}

/* ---- (c) the Hazards screen ------------------------------------------------
 */

/*
 * The screen runs in a frame of this file's own: the functions ui.c
 * gives the screens (ui.h), without the event loop, the agent or the
 * unlock. Defining them here keeps ui.o out of the link, so what is timed
 * is the Hazards screen's own code (ui_hazards.c, ui_list.c, ui_draw.c)
 * and curses writing to the terminal.
 */
struct ui {
	struct gk_client *c;
	WINDOW *body;
	int color;
	struct ui_overlay *overlay;
	char flash[256];
	int dirty;
};

struct gk_client *
ui_client(struct ui *u)
{
	return u->c;
}

WINDOW *
ui_body(struct ui *u)
{
	return u->body;
}

int
ui_color(struct ui *u)
{
	return u->color;
}

void
ui_cursor(struct ui *u, int y, int x)
{
	(void)u;
	(void)y;
	(void)x;
}

struct ui_overlay *
ui_overlay_get(struct ui *u)
{
	return u->overlay;
}

void
ui_overlay_set(struct ui *u, struct ui_overlay *o)
{
	u->overlay = o;
}

void
ui_sync_info(struct ui *u, struct ui_syncinfo *out)
{
	(void)u;
	memset(out, 0, sizeof *out);
	out->online = -1;
	out->next_in = -1;
}

void
ui_dirty(struct ui *u)
{
	u->dirty = 1;
}

void
ui_flash(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->flash, sizeof u->flash, fmt, ap);
	va_end(ap);
}

void
ui_changed(struct ui *u)
{
	u->dirty = 1;
}

void
ui_sync_now(struct ui *u)
{
	(void)u;
}

#define UI_LINES 24
#define UI_COLS  80
#define UI_BODY  (UI_LINES - 3) /* tabs, message and status lines */
#define UI_PAGES 20

/* Draw the screen's body and write it to the terminal; its time in ms. */
static double
ui_paint(struct ui *u, void *st)
{
	double t0 = now_s();

	werase(u->body);
	ui_screen_hazards.draw(u, st, u->body, UI_BODY, UI_COLS);
	wnoutrefresh(u->body);
	doupdate();
	return (now_s() - t0) * 1000.0;
}

/* (c): open + reload + draw, then UI_PAGES PgDn each drawn, -u times. */
static void
bench_ui(struct gk_client *c, const struct opts *o)
{
	const struct ui_screen *s = &ui_screen_hazards;
	double *open_ms = calloc((size_t)o->ui_runs, sizeof *open_ms);
	double *page_ms =
	    calloc((size_t)o->ui_runs * UI_PAGES, sizeof *page_ms);
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	struct ui u;
	SCREEN *scr;
	int npages = 0, hazards = 0;
	double cpu0;

	if (s->open == NULL || s->draw == NULL || s->key == NULL) {
		printf("bench-client hazards-screen skipped: the screen has "
		       "no open, draw or key in this build\n");
		free(open_ms);
		free(page_ms);
		if (out != NULL)
			fclose(out);
		if (in != NULL)
			fclose(in);
		return;
	}
	if (open_ms == NULL || page_ms == NULL || out == NULL || in == NULL)
		die("out of memory or no /dev/null");
	if ((scr = newterm("xterm-256color", out, in)) == NULL)
		die("newterm xterm-256color failed");
	set_term(scr);
	resizeterm(UI_LINES, UI_COLS);
	memset(&u, 0, sizeof u);
	u.c = c;
	u.color = ui_colors_start();
	if ((u.body = newwin(UI_BODY, UI_COLS, 1, 0)) == NULL)
		die("newwin failed");
	{
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(c->db,
		                       "SELECT count(*) FROM hazards WHERE "
		                       "deleted IS NOT 1",
		                       -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			hazards = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	cpu0 = self_cpu_s();
	for (int r = 0; r < o->ui_runs; r++) {
		double t0 = now_s();
		void *st = s->open(&u);

		if (s->reload != NULL)
			s->reload(&u, st);
		ui_paint(&u, st);
		open_ms[r] = (now_s() - t0) * 1000.0;
		for (int p = 0; p < UI_PAGES; p++) {
			t0 = now_s();
			s->key(&u, st, KEY_NPAGE, 1);
			ui_paint(&u, st);
			page_ms[npages++] = (now_s() - t0) * 1000.0;
		}
		if (s->close != NULL)
			s->close(st);
	}
	{
		double op50 = pct(open_ms, o->ui_runs, 50);
		double op99 = pct(open_ms, o->ui_runs, 99);
		double pp50 = pct(page_ms, npages, 50);
		double pp99 = pct(page_ms, npages, 99);

		/* pct sorted both: the last is the slowest. */
		printf("bench-client hazards-screen hazards=%d runs=%d "
		       "size=%dx%d open_p50_ms=%.2f open_p99_ms=%.2f "
		       "open_max_ms=%.2f pgdn_p50_ms=%.3f pgdn_p99_ms=%.3f "
		       "pgdn_max_ms=%.3f cpu_s=%.2f load=%.2f "
		       "peak_rss_mib=%ld\n",
		       hazards, o->ui_runs, UI_COLS, UI_LINES, op50, op99,
		       open_ms[o->ui_runs - 1], pp50, pp99, page_ms[npages - 1],
		       self_cpu_s() - cpu0, loadavg(), peak_rss_mib());
	}
	fflush(stdout);
	delwin(u.body);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	free(open_ms);
	free(page_ms);
}

/* ---- main -------------------------------------------------------------------
 */

static void
usage(void)
{
	fputs("usage: bench-client [-n SERVER_CHANGES] [-r RECORDS] [-c RUNS] "
	      "[-u UI_RUNS] [-s SEED] [-k] [-p fresh,big,one,ui]\n",
	      stderr);
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* "fresh,big,one,ui" (any of them) into PH_* bits. */
static unsigned
phases(const char *arg)
{
	static const char *const names[] = {"fresh", "big", "one", "ui"};
	unsigned bits = 0;
	const char *p = arg;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		int i;

		for (i = 0; i < 4; i++)
			if (strlen(names[i]) == n &&
			    strncmp(p, names[i], n) == 0)
				break;
		if (i == 4)
			usage();
		bits |= 1u << i;
		p += n + (p[n] == ',');
	}
	return bits != 0 ? bits : PH_ALL;
}

int
main(int argc, char **argv)
{
	struct opts o = {100000, 500000, 1000, 50, 1, 0, PH_ALL};
	struct httpc_server srv;
	struct gk_client fresh, big;
	char dir[512], demo_path[600], path[700], url[64];
	char unit[GK_ID_LEN + 1];
	struct world *sg;
	sqlite3 *demo;
	int ch;

	while ((ch = getopt(argc, argv, "n:r:c:u:s:kp:")) != -1) {
		switch (ch) {
		case 'n':
			o.server_changes = num(optarg, 1, 10000000);
			break;
		case 'r':
			o.records = num(optarg, 0, 10000000);
			break;
		case 'c':
			o.runs = (int)num(optarg, 1, 1000000);
			break;
		case 'u':
			o.ui_runs = (int)num(optarg, 1, 100000);
			break;
		case 's':
			o.seed = (uint64_t)num(optarg, 0, 1L << 40);
			break;
		case 'k':
			o.keep = 1;
			break;
		case 'p':
			o.phases = phases(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	setlocale(LC_ALL, "C.UTF-8");
	printf("bench-client machine sqlite=%s jansson=%s libevent=%s "
	       "curses=\"%s\"\n",
	       sqlite3_libversion(), JANSSON_VERSION, event_get_version(),
	       curses_version());

	if (httpc_tmpdir(dir, sizeof dir) != 0 ||
	    httpc_make_db(dir, "demo", demo_path, sizeof demo_path) != 0)
		die("cannot make the demo database");
	if (sqlite3_open_v2(demo_path, &demo, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die("%s: %s", demo_path, sqlite3_errmsg(demo));
	user_unit(demo, STATION, unit);

	/* The server's data, then the server. */
	sg = world_new(demo, unit, o.seed, wall_ms(), 0);
	if (httpc_start(&srv, demo_path, NULL) != 0)
		die("gridkeepd did not start");
	snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
	server_fill(&srv, sg, o.server_changes);
	world_free(sg);

	/* (a) into a fresh replica. */
	if (o.phases & PH_FRESH) {
		snprintf(path, sizeof path, "%s/fresh.db", dir);
		client_init(&fresh, path);
		first_sync(&fresh, url, srv.pid, "fresh");
		client_close(&fresh);
	}

	/* (a) into a replica of o.records records, then (b) and (c) on it. */
	if (o.phases & (PH_BIG | PH_ONE | PH_UI)) {
		snprintf(path, sizeof path, "%s/big.db", dir);
		client_init(&big, path);
		build_big(&big, demo, unit, &o);
		first_sync(&big, url, srv.pid, "big");
		httpc_stop(&srv);
		if (o.phases & PH_ONE)
			incremental(&big, unit, &o);
		if (o.phases & PH_UI)
			bench_ui(&big, &o);
		client_close(&big);
	}
	httpc_stop(&srv);
	sqlite3_close(demo);
	if (o.keep)
		printf("kept %s\n", dir);
	else
		httpc_free(&srv), httpc_rmdir(dir);
	return 0;
}
