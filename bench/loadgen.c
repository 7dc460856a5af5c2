/*
 * loadgen.c: a load generator for gridkeepd's sync API (issue 4).
 *
 * It talks HTTP/1.1 to a server on 127.0.0.1 through libevent's evhttp
 * client, on keep-alive connections with TCP_NODELAY, and measures one
 * thing per run, chosen by the mode:
 *
 *   ingest      one client pushes -n changes in pushes of -b (1,000);
 *               changes/s overall and per 100,000, so a fall as the log
 *               grows shows. Changes are generated 100,000 at a time
 *               before each segment is pushed: only the pushes are timed.
 *   pull        one client pulls the whole log in pages of -l (1,000).
 *   rtt         one client, unloaded: push 1 change, pull to the end;
 *               p50/p99 over -c round trips (2,000).
 *   fanout      -k clients (50) each push 10 changes, then pull everyone's
 *               new changes, again and again for -t seconds or until -n
 *               changes were pushed; round trips/s and p50/p99.
 *   grid-pull   a grid worker pulls its scope from the start, before and
 *               after the history of the other grids grows 100 times.
 *   login-storm the rtt round trip's p99 alone, then while -k (20)
 *               connections log in as fast as they are answered.
 *   rss         print the server's VmRSS and VmHWM (-p PID) and exit.
 *   sample      print -n generated changes, one JSON object a line (the
 *               documents of bench/pouch-load.js); no server needed.
 *
 * The changes come from tests/gen.c, on a world loaded from the demo
 * database (-d, opened read-only): its real units, grids, items, depots,
 * volunteers, notices and hazards, so every change is in the scope of the
 * demo's admin (or, for grid-pull, of one grid). Only appends and new
 * hazards: no edits of units or users, which would move scopes.
 *
 * Every result is a line "loadgen MODE key=value ..." for scripts. Every
 * run is bounded: counts are capped and a deadline (-T) ends it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gen.h"
#include "sync.h"

#define LOADGEN_MAX_CHANGES 10000000L
#define LOADGEN_MAX_CLIENTS 1000
#define LOADGEN_SEGMENT     100000L
#define LOADGEN_HOST        "127.0.0.1"

/* ---- options and the run's context --------------------------------------
 */

struct loadgen_opts {
	const char *mode;
	int port;
	const char *db;       /* the demo database, for ids */
	const char *user;     /* the pushing user: admin */
	const char *password; /* of every user ($LOADGEN_PASSWORD) */
	const char *worker;   /* grid-pull's grid worker */
	long n;               /* changes */
	int batch;            /* changes per push */
	int limit;            /* changes per pull page */
	int clients;
	int seconds;
	int count; /* round trips */
	int growth;
	long pid; /* the server, for RSS */
	uint64_t seed;
	int timeout; /* seconds before the whole run gives up */
};

/* Changes made on a world loaded from the demo database. */
struct loadgen_gen {
	struct gk_testenv t;
	struct gen_world w;
	struct gen_replica r;
	struct gen_mix mix;
};

/* A growing byte buffer. */
struct loadgen_buf {
	char *p;
	size_t len, cap;
};

struct loadgen;

/* One keep-alive connection and the request in flight on it. */
struct loadgen_conn {
	struct loadgen *lg;
	struct evhttp_connection *evcon;
	int idx;
	int nodelay_fd; /* the socket TCP_NODELAY was set on */
	char token[256];
	char cursor[128]; /* "" before the first pull */
	int busy;         /* a request is in flight */
	int status;       /* of the last answer; 0: no answer */
	struct loadgen_buf resp;
	int64_t sent_us;
	void (*next)(struct loadgen_conn *); /* after an answer, if set */

	/* fanout and login-storm state */
	int state;
	int64_t rt_start_us;
	long pulled;
	struct loadgen_buf body;
	struct loadgen_gen *gen; /* fanout: each client is a station */
};

/* Latencies in microseconds. */
struct loadgen_lat {
	int64_t *v;
	size_t n, cap;
};

struct loadgen_push_count {
	long accepted, duplicate, rejected;
	char first_reject[128];
};

struct loadgen {
	struct loadgen_opts o;
	struct event_base *base;
	struct event *deadline;
	int failed;
	int stopping;
	int64_t stop_at_us;
	long pushed_total, rts;
	long pulled_total;
	int active;
	struct loadgen_lat lat;
	struct loadgen_push_count pc;
	long logins, logins_failed;
};

static void loadgen_die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void loadgen_usage(void) __attribute__((noreturn));

static void
loadgen_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int64_t
loadgen_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
loadgen_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- buffers and latencies ---------------------------------------------- */

static void
loadgen_buf_reserve(struct loadgen_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if ((b->p = realloc(b->p, cap)) == NULL)
		loadgen_die("out of memory");
	b->cap = cap;
}

static void
loadgen_buf_add(struct loadgen_buf *b, const char *s, size_t n)
{
	loadgen_buf_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
loadgen_buf_str(struct loadgen_buf *b, const char *s)
{
	loadgen_buf_add(b, s, strlen(s));
}

static void
loadgen_lat_add(struct loadgen_lat *l, int64_t us)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if ((l->v = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			loadgen_die("out of memory");
	}
	l->v[l->n++] = us;
}

static int
loadgen_cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile in ms (nearest rank); sorts l. */
static double
loadgen_lat_pct(struct loadgen_lat *l, int p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof *l->v, loadgen_cmp64);
	i = (l->n * (size_t)p + 99) / 100;
	if (i > 0)
		i--;
	if (i >= l->n)
		i = l->n - 1;
	return (double)l->v[i] / 1000.0;
}

/* ---- the server's memory --------------------------------------------------
 */

static void
loadgen_rss(const struct loadgen *lg, const char *label)
{
	char path[64], line[256];
	long rss = -1, hwm = -1;
	FILE *f;

	if (lg->o.pid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%ld/status", lg->o.pid);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			hwm = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	printf("loadgen rss when=%s vmrss_kib=%ld vmhwm_kib=%ld\n", label, rss,
	       hwm);
	fflush(stdout);
}

/* ---- changes ------------------------------------------------------------ */

enum loadgen_scope {
	LOADGEN_ALL,   /* everything of the demo */
	LOADGEN_GRID,  /* only the grid `grid` */
	LOADGEN_OTHERS /* everything but the grid `grid` */
};

/* Remember the rows of one query (id, aux) as kind k. */
static void
loadgen_load_rows(struct gen_world *w, sqlite3 *db, enum gen_kind k,
                  const char *sql, const char *grid)
{
	sqlite3_stmt *st;
	struct gen_rows *rs = &w->rows[k];
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		loadgen_die("demo database: %s", sqlite3_errmsg(db));
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id == NULL || strlen(id) != GK_ID_LEN)
			loadgen_die("demo database: bad id in %s", sql);
		if (rs->n == rs->cap) {
			rs->cap = rs->cap ? rs->cap * 2 : 16;
			rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
			if (rs->v == NULL)
				loadgen_die("out of memory");
		}
		memcpy(rs->v[rs->n].id, id, GK_ID_LEN + 1);
		rs->v[rs->n].aux = sqlite3_column_int(st, 1);
		rs->n++;
	}
	if (rc != SQLITE_DONE)
		loadgen_die("demo database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

/* The unit of a user of the demo, by name. */
static void
loadgen_user_unit(const char *dbpath, const char *user, char out[GK_ID_LEN + 1])
{
	sqlite3 *db;
	sqlite3_stmt *st;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		loadgen_die("%s: %s", dbpath, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, "SELECT unit FROM users WHERE username = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		loadgen_die("%s: %s", dbpath, sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_column_bytes(st, 0) != GK_ID_LEN)
		loadgen_die("%s: no user %s", dbpath, user);
	memcpy(out, sqlite3_column_text(st, 0), GK_ID_LEN + 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static const char loadgen_status_sql[] =
    "CASE status WHEN 'new' THEN 0 WHEN 'reported' THEN 1 "
    "WHEN 'verified' THEN 2 WHEN 'rectifying' THEN 3 WHEN 'resolved' "
    "THEN 4 WHEN 'closed' THEN 5 ELSE 6 END";

/*
 * A generator over the demo's rows in scope (grid: a grid's id for
 * LOADGEN_GRID and LOADGEN_OTHERS). The seed fixes the changes; the
 * serial that names activities and lots starts from the clock, so two
 * runs against one database never make the same earn activity twice.
 */
static struct loadgen_gen *
loadgen_gen_new(const struct loadgen_opts *o, enum loadgen_scope scope,
                const char *grid, unsigned salt)
{
	struct loadgen_gen *g = calloc(1, sizeof *g);
	struct gk_error err = {0};
	char sql[512];
	sqlite3 *db;
	const char *hz = scope == LOADGEN_ALL    ? ""
	                 : scope == LOADGEN_GRID ? " AND grid = ?1"
	                                         : " AND grid <> ?1";

	if (g == NULL)
		loadgen_die("out of memory");
	gk_testenv_init(&g->t, o->seed + salt * 7919u, loadgen_wall_ms());
	gen_world_init(&g->w, &g->t);
	/* Room for 8M changes per world, 1,024 worlds per process. */
	g->w.serial = ((uint64_t)loadgen_wall_ms() % (1u << 30)) << 33 |
	              (uint64_t)(salt % 1024) << 23;
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		loadgen_die("%s: %s", o->db, sqlite3_errmsg(db));
	loadgen_load_rows(
	    &g->w, db, GEN_K_UNIT,
	    "SELECT id, CASE level WHEN 'district' THEN 0 "
	    "WHEN 'street' THEN 1 WHEN 'community' THEN 2 "
	    "ELSE 3 END FROM units WHERE deleted IS NOT 1 ORDER BY id",
	    NULL);
	snprintf(sql, sizeof sql,
	         "SELECT id, 3 FROM units WHERE level = 'grid' AND "
	         "deleted IS NOT 1%s ORDER BY id",
	         scope == LOADGEN_ALL    ? ""
	         : scope == LOADGEN_GRID ? " AND id = ?1"
	                                 : " AND id <> ?1");
	loadgen_load_rows(&g->w, db, GEN_K_GRID, sql, grid);
	loadgen_load_rows(&g->w, db, GEN_K_ITEM,
	                  "SELECT id, shelf_life_days IS NOT NULL FROM items "
	                  "WHERE deleted IS NOT 1 ORDER BY id",
	                  NULL);
	/*
	 * Depots and volunteers: for LOADGEN_OTHERS only those of units that
	 * are not the grid's ancestors, whose changes reach down into the
	 * grid (a grid worker sees its community's and street's depots).
	 */
	if (scope != LOADGEN_GRID) {
		static const char anc[] =
		    "WITH RECURSIVE anc(id) AS (SELECT ?1 UNION SELECT "
		    "u.parent FROM units u JOIN anc ON u.id = anc.id WHERE "
		    "u.parent IS NOT NULL) ";
		const char *only = scope == LOADGEN_OTHERS
		                       ? " AND unit NOT IN (SELECT id FROM anc)"
		                       : "";
		snprintf(sql, sizeof sql,
		         "%sSELECT id, 0 FROM depots WHERE deleted IS NOT 1%s "
		         "ORDER BY id",
		         scope == LOADGEN_OTHERS ? anc : "", only);
		loadgen_load_rows(&g->w, db, GEN_K_DEPOT, sql, grid);
		snprintf(sql, sizeof sql,
		         "%sSELECT id, 0 FROM volunteers WHERE deleted IS NOT "
		         "1%s ORDER BY id",
		         scope == LOADGEN_OTHERS ? anc : "", only);
		loadgen_load_rows(&g->w, db, GEN_K_VOLUNTEER, sql, grid);
	}
	if (scope == LOADGEN_ALL)
		loadgen_load_rows(
		    &g->w, db, GEN_K_NOTICE,
		    "SELECT id, 0 FROM notices WHERE deleted IS NOT "
		    "1 ORDER BY id",
		    NULL);
	snprintf(
	    sql, sizeof sql,
	    "SELECT id, %s FROM hazards WHERE deleted IS NOT 1%s ORDER BY id",
	    loadgen_status_sql, hz);
	loadgen_load_rows(&g->w, db, GEN_K_HAZARD, sql, grid);
	sqlite3_close(db);
	if (g->w.rows[GEN_K_GRID].n == 0 || g->w.rows[GEN_K_UNIT].n == 0)
		loadgen_die("%s: no grids: is it a demo database?", o->db);
	if (scope == LOADGEN_ALL &&
	    (g->w.rows[GEN_K_DEPOT].n < 2 || g->w.rows[GEN_K_VOLUNTEER].n == 0))
		loadgen_die("%s: too few depots or volunteers", o->db);

	if (gen_replica_init(&g->r, &g->w, NULL, 0, &err) != GK_OK)
		loadgen_die("replica: %s", err.msg);
	/* A day of work: ledgers, events and patrols, new hazards. Ledgers,
	 * notices and requests only where they stay in scope: the other
	 * grids have no depot pair of their own. */
	g->mix.weight[GEN_HAZARD] = 250;
	g->mix.weight[GEN_HAZARD_EVENT] = 1500;
	g->mix.weight[GEN_INSPECTION] = 1200;
	if (scope == LOADGEN_ALL) {
		g->mix.weight[GEN_STOCK_MOVE] = 3800;
		g->mix.weight[GEN_NOTICE_ACK] = 300;
		g->mix.weight[GEN_REPLENISH] = 274;
	}
	if (scope != LOADGEN_GRID && g->w.rows[GEN_K_VOLUNTEER].n > 0)
		g->mix.weight[GEN_POINT_ENTRY] = 2000;
	return g;
}

static void
loadgen_gen_free(struct loadgen_gen *g)
{
	if (g == NULL)
		return;
	gen_replica_free(&g->r);
	gen_world_free(&g->w);
	free(g);
}

/* Append one change's canonical JSON to b (the server sets the author). */
static void
loadgen_gen_one(struct loadgen_gen *g, struct loadgen_buf *b)
{
	struct gk_change c;
	char *json;

	g->t.now = loadgen_wall_ms();
	gen_change(&g->r, &g->mix, &c);
	c.author[0] = '\0';
	if ((json = change_encode(&c)) == NULL)
		loadgen_die("out of memory encoding a change");
	loadgen_buf_str(b, json);
	free(json);
	change_clear(&c);
}

/* A push body of n changes into b (reset first). */
static void
loadgen_gen_push(struct loadgen_gen *g, int n, struct loadgen_buf *b)
{
	b->len = 0;
	loadgen_buf_str(b, "{\"changes\":[");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			loadgen_buf_add(b, ",", 1);
		loadgen_gen_one(g, b);
	}
	loadgen_buf_str(b, "]}");
}

/* ---- reading answers ---------------------------------------------------- */

static const char *
loadgen_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *
loadgen_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Any JSON value at p: the byte after it, or NULL. */
static const char *
loadgen_skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return loadgen_skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		       *p != ' ' && *p != '\n')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			if ((p = loadgen_skip_string(p, end)) == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			if (--depth == 0)
				return p + 1;
		p++;
	}
	return NULL;
}

struct loadgen_page {
	long changes;
	int more;
	char cursor[128];
};

/*
 * Read a pull answer's "changes" (counted, not decoded), "more" and
 * "cursor" without building it in memory: a pull page is ~350 KB, and the
 * client's parse should not set the figure. -1 if it is not such an object.
 */
static int
loadgen_scan_pull(const char *p, size_t len, struct loadgen_page *pg)
{
	const char *end = p + len, *k, *v;
	size_t klen;

	memset(pg, 0, sizeof *pg);
	p = loadgen_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		p = loadgen_ws(p, end);
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p != '"')
			return -1;
		k = p + 1;
		if ((p = loadgen_skip_string(p, end)) == NULL)
			return -1;
		klen = (size_t)(p - 1 - k);
		p = loadgen_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		v = p = loadgen_ws(p, end);
		if (klen == 7 && memcmp(k, "changes", 7) == 0) {
			if (p >= end || *p++ != '[')
				return -1;
			p = loadgen_ws(p, end);
			if (p < end && *p == ']') {
				p++;
			} else {
				for (;;) {
					p = loadgen_skip_value(
					    loadgen_ws(p, end), end);
					if (p == NULL)
						return -1;
					pg->changes++;
					p = loadgen_ws(p, end);
					if (p < end && *p == ',') {
						p++;
						continue;
					}
					if (p < end && *p == ']') {
						p++;
						break;
					}
					return -1;
				}
			}
		} else {
			if ((p = loadgen_skip_value(p, end)) == NULL)
				return -1;
			if (klen == 4 && memcmp(k, "more", 4) == 0)
				pg->more = *v == 't';
			else if (klen == 6 && memcmp(k, "cursor", 6) == 0 &&
			         *v == '"' &&
			         (size_t)(p - v - 2) < sizeof pg->cursor) {
				memcpy(pg->cursor, v + 1, (size_t)(p - v - 2));
				pg->cursor[p - v - 2] = '\0';
			}
		}
		p = loadgen_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			return 0;
		return -1;
	}
}

/* Count a push answer's results into pc; -1 if it is not one. */
static int
loadgen_read_push(const struct loadgen_buf *b, int expect,
                  struct loadgen_push_count *pc)
{
	json_t *root, *results, *r;
	size_t i;
	int n = 0;

	root = json_loadb(b->p, b->len, 0, NULL);
	results = json_object_get(root, "results");
	if (!json_is_array(results)) {
		json_decref(root);
		return -1;
	}
	json_array_foreach (results, i, r) {
		const char *st =
		    json_string_value(json_object_get(r, "status"));
		if (st == NULL)
			continue;
		n++;
		if (strcmp(st, "accepted") == 0) {
			pc->accepted++;
		} else if (strcmp(st, "duplicate") == 0) {
			pc->duplicate++;
		} else {
			pc->rejected++;
			if (pc->first_reject[0] == '\0') {
				const char *code = json_string_value(
				    json_object_get(r, "code"));
				snprintf(pc->first_reject,
				         sizeof pc->first_reject, "%s",
				         code ? code : st);
			}
		}
	}
	json_decref(root);
	return n == expect ? 0 : -1;
}

/* ---- HTTP ------------------------------------------------------------- */

static void
loadgen_nodelay(struct loadgen_conn *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);
	int fd = bev ? (int)bufferevent_getfd(bev) : -1, one = 1;

	if (fd >= 0 && fd != c->nodelay_fd) {
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		               sizeof one) != 0)
			loadgen_die("TCP_NODELAY: %s", strerror(errno));
		c->nodelay_fd = fd;
	}
}

static void
loadgen_conn_init(struct loadgen *lg, struct loadgen_conn *c, int idx)
{
	memset(c, 0, sizeof *c);
	c->lg = lg;
	c->idx = idx;
	c->nodelay_fd = -1;
	c->evcon = evhttp_connection_base_new(lg->base, NULL, LOADGEN_HOST,
	                                      (unsigned short)lg->o.port);
	if (c->evcon == NULL)
		loadgen_die("evhttp_connection_base_new failed");
	evhttp_connection_set_timeout(c->evcon, 120);
}

static void
loadgen_conn_free(struct loadgen_conn *c)
{
	if (c->evcon != NULL)
		evhttp_connection_free(c->evcon);
	free(c->resp.p);
	free(c->body.p);
	c->evcon = NULL;
}

static void
loadgen_on_reply(struct evhttp_request *req, void *arg)
{
	struct loadgen_conn *c = arg;
	struct evbuffer *in;
	size_t n;

	c->busy = 0;
	c->resp.len = 0;
	loadgen_buf_reserve(&c->resp, 0);
	c->resp.p[0] = '\0';
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		c->status = 0;
		fprintf(stderr, "loadgen: connection %d: no answer\n", c->idx);
		c->lg->failed = 1;
		event_base_loopbreak(c->lg->base);
		return;
	}
	c->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	loadgen_buf_reserve(&c->resp, n);
	evbuffer_remove(in, c->resp.p, n);
	c->resp.len = n;
	c->resp.p[n] = '\0';
	loadgen_nodelay(c);
	if (c->next != NULL)
		c->next(c);
}

/* Send a request on c; the answer lands in c->resp, then c->next runs. */
static void
loadgen_send(struct loadgen_conn *c, enum evhttp_cmd_type method,
             const char *uri, const char *body, size_t len)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char auth[300];

	if ((req = evhttp_request_new(loadgen_on_reply, c)) == NULL)
		loadgen_die("evhttp_request_new failed");
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", LOADGEN_HOST);
	if (c->token[0] != '\0') {
		snprintf(auth, sizeof auth, "Bearer %s", c->token);
		evhttp_add_header(h, "Authorization", auth);
	}
	if (body != NULL) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	}
	loadgen_nodelay(c);
	c->busy = 1;
	c->status = 0;
	c->sent_us = loadgen_now_us();
	if (evhttp_make_request(c->evcon, req, method, uri) != 0)
		loadgen_die("evhttp_make_request failed");
}

/* Send and run the loop until the answer (other connections run too). */
static int
loadgen_call(struct loadgen_conn *c, enum evhttp_cmd_type method,
             const char *uri, const char *body, size_t len)
{
	c->next = NULL;
	loadgen_send(c, method, uri, body, len);
	while (c->busy && !c->lg->failed)
		event_base_loop(c->lg->base, EVLOOP_ONCE);
	return c->lg->failed ? -1 : c->status;
}

static void
loadgen_expect(struct loadgen_conn *c, int status, int want, const char *what)
{
	if (status != want)
		loadgen_die("%s: HTTP %d (want %d): %.300s", what, status, want,
		            c->resp.p ? c->resp.p : "");
}

static void
loadgen_login(struct loadgen_conn *c, const char *user, const char *device)
{
	json_t *body, *ans;
	char *text;
	const char *tok;

	body = json_pack("{s:s, s:s, s:s}", "username", user, "password",
	                 c->lg->o.password, "device", device);
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		loadgen_die("out of memory");
	json_decref(body);
	c->token[0] = '\0';
	loadgen_expect(c,
	               loadgen_call(c, EVHTTP_REQ_POST, "/api/v1/login", text,
	                            strlen(text)),
	               200, "login");
	free(text);
	ans = json_loadb(c->resp.p, c->resp.len, 0, NULL);
	tok = json_string_value(json_object_get(ans, "token"));
	if (tok == NULL || strlen(tok) >= sizeof c->token)
		loadgen_die("login: no token in %.200s", c->resp.p);
	snprintf(c->token, sizeof c->token, "%s", tok);
	json_decref(ans);
}

static void
loadgen_pull_uri(const struct loadgen_conn *c, int limit, char *uri,
                 size_t size)
{
	if (c->cursor[0] == '\0')
		snprintf(uri, size, "/api/v1/sync/pull?limit=%d", limit);
	else
		snprintf(uri, size, "/api/v1/sync/pull?cursor=%s&limit=%d",
		         c->cursor, limit);
}

/* One pull page on c (blocking); its count and more in *pg. */
static void
loadgen_pull_page(struct loadgen_conn *c, int limit, struct loadgen_page *pg)
{
	char uri[256];

	loadgen_pull_uri(c, limit, uri, sizeof uri);
	loadgen_expect(c, loadgen_call(c, EVHTTP_REQ_GET, uri, NULL, 0), 200,
	               "pull");
	if (loadgen_scan_pull(c->resp.p, c->resp.len, pg) != 0 ||
	    pg->cursor[0] == '\0')
		loadgen_die("pull: not a pull answer: %.300s", c->resp.p);
	memcpy(c->cursor, pg->cursor, sizeof c->cursor);
}

/* Pull until "more" is false; the number of changes. */
static long
loadgen_pull_all(struct loadgen_conn *c, int limit, int *pages)
{
	struct loadgen_page pg;
	long n = 0;

	do {
		loadgen_pull_page(c, limit, &pg);
		n += pg.changes;
		if (pages != NULL)
			(*pages)++;
	} while (pg.more && !c->lg->failed);
	return n;
}

/* One push of body (n changes) on c, blocking; counted into lg->pc. */
static void
loadgen_push(struct loadgen_conn *c, const struct loadgen_buf *body, int n)
{
	loadgen_expect(c,
	               loadgen_call(c, EVHTTP_REQ_POST, "/api/v1/sync/push",
	                            body->p, body->len),
	               200, "push");
	if (loadgen_read_push(&c->resp, n, &c->lg->pc) != 0)
		loadgen_die("push: answer without %d results: %.300s", n,
		            c->resp.p);
}

static void
loadgen_device(const char *what, int i, char *out, size_t size)
{
	snprintf(out, size, "loadgen-%s-%d-%ld", what, i, (long)getpid());
}

static void
loadgen_print_pc(const struct loadgen *lg, const char *mode)
{
	printf("loadgen %s results accepted=%ld duplicate=%ld rejected=%ld "
	       "first_reject=%s\n",
	       mode, lg->pc.accepted, lg->pc.duplicate, lg->pc.rejected,
	       lg->pc.first_reject[0] ? lg->pc.first_reject : "-");
	fflush(stdout);
}

/* ---- ingest ------------------------------------------------------------- */

static int
loadgen_ingest(struct loadgen *lg)
{
	struct loadgen_conn c;
	struct loadgen_gen *g = loadgen_gen_new(&lg->o, LOADGEN_ALL, NULL, 0);
	struct loadgen_buf *bodies;
	long done = 0, nb;
	int64_t t0, t, push_us = 0, gen_us = 0;
	double first = 0, last = 0;
	char dev[96];

	loadgen_conn_init(lg, &c, 0);
	loadgen_device("ingest", 0, dev, sizeof dev);
	loadgen_login(&c, lg->o.user, dev);
	nb = (LOADGEN_SEGMENT + lg->o.batch - 1) / lg->o.batch;
	if ((bodies = calloc((size_t)nb, sizeof *bodies)) == NULL)
		loadgen_die("out of memory");
	while (done < lg->o.n && !lg->failed) {
		long seg = lg->o.n - done < LOADGEN_SEGMENT ? lg->o.n - done
		                                            : LOADGEN_SEGMENT;
		long nbodies = 0, left = seg;
		size_t bytes = 0;

		t0 = loadgen_now_us();
		while (left > 0) {
			int k = left < lg->o.batch ? (int)left : lg->o.batch;
			loadgen_gen_push(g, k, &bodies[nbodies++]);
			bytes += bodies[nbodies - 1].len;
			left -= k;
		}
		gen_us += loadgen_now_us() - t0;
		t0 = loadgen_now_us();
		left = seg;
		for (long i = 0; i < nbodies && !lg->failed; i++) {
			int k = left < lg->o.batch ? (int)left : lg->o.batch;
			t = loadgen_now_us();
			loadgen_push(&c, &bodies[i], k);
			loadgen_lat_add(&lg->lat, loadgen_now_us() - t);
			left -= k;
		}
		t = loadgen_now_us() - t0;
		push_us += t;
		last = (double)seg * 1e6 / (double)t;
		if (done == 0)
			first = last;
		printf("loadgen ingest from=%ld to=%ld changes_per_s=%.0f "
		       "push_s=%.2f bytes_per_change=%.0f\n",
		       done, done + seg, last, (double)t / 1e6,
		       (double)bytes / (double)seg);
		fflush(stdout);
		done += seg;
	}
	printf("loadgen ingest total changes=%ld batch=%d push_s=%.2f "
	       "changes_per_s=%.0f first_segment_per_s=%.0f "
	       "last_segment_per_s=%.0f push_p50_ms=%.1f push_p99_ms=%.1f "
	       "generate_s=%.2f\n",
	       done, lg->o.batch, (double)push_us / 1e6,
	       (double)done * 1e6 / (double)push_us, first, last,
	       loadgen_lat_pct(&lg->lat, 50), loadgen_lat_pct(&lg->lat, 99),
	       (double)gen_us / 1e6);
	loadgen_print_pc(lg, "ingest");
	loadgen_rss(lg, "after-ingest");
	for (long i = 0; i < nb; i++)
		free(bodies[i].p);
	free(bodies);
	loadgen_conn_free(&c);
	loadgen_gen_free(g);
	return lg->failed;
}

/* ---- pull --------------------------------------------------------------- */

static int
loadgen_pull(struct loadgen *lg)
{
	struct loadgen_conn c;
	struct loadgen_page pg;
	long n = 0, pages = 0;
	int64_t t0, t;
	size_t bytes = 0;
	char dev[96];

	loadgen_conn_init(lg, &c, 0);
	loadgen_device("pull", 0, dev, sizeof dev);
	loadgen_login(&c, lg->o.user, dev);
	t0 = loadgen_now_us();
	do {
		loadgen_pull_page(&c, lg->o.limit, &pg);
		n += pg.changes;
		bytes += c.resp.len;
		pages++;
	} while (pg.more && n < lg->o.n && !lg->failed);
	t = loadgen_now_us() - t0;
	printf("loadgen pull changes=%ld pages=%ld limit=%d seconds=%.2f "
	       "changes_per_s=%.0f mib=%.1f\n",
	       n, pages, lg->o.limit, (double)t / 1e6,
	       (double)n * 1e6 / (double)t, (double)bytes / 1048576.0);
	loadgen_rss(lg, "after-pull");
	loadgen_conn_free(&c);
	return lg->failed;
}

/* ---- rtt and login-storm ------------------------------------------------ */

/* One push of one change and a pull to the end; its time in us. */
static int64_t
loadgen_round_trip(struct loadgen_conn *c, struct loadgen_gen *g,
                   struct loadgen_buf *b)
{
	int64_t t0;

	loadgen_gen_push(g, 1, b);
	t0 = loadgen_now_us();
	loadgen_push(c, b, 1);
	loadgen_pull_all(c, c->lg->o.limit, NULL);
	return loadgen_now_us() - t0;
}

static void
loadgen_rtt_run(struct loadgen *lg, struct loadgen_conn *c,
                struct loadgen_gen *g, int count, struct loadgen_lat *lat)
{
	struct loadgen_buf b = {0};

	for (int i = 0; i < count && !lg->failed; i++)
		loadgen_lat_add(lat, loadgen_round_trip(c, g, &b));
	free(b.p);
}

static int
loadgen_rtt(struct loadgen *lg)
{
	struct loadgen_conn c;
	struct loadgen_gen *g = loadgen_gen_new(&lg->o, LOADGEN_ALL, NULL, 0);
	struct loadgen_lat lat = {0};
	double p50, p99;
	char dev[96];

	loadgen_conn_init(lg, &c, 0);
	loadgen_device("rtt", 0, dev, sizeof dev);
	loadgen_login(&c, lg->o.user, dev);
	loadgen_pull_all(&c, lg->o.limit, NULL); /* catch up */
	loadgen_rtt_run(lg, &c, g, 50, &lat);    /* warm up */
	lat.n = 0;
	loadgen_rtt_run(lg, &c, g, lg->o.count, &lat);
	p50 = loadgen_lat_pct(&lat, 50);
	p99 = loadgen_lat_pct(&lat, 99);
	printf("loadgen rtt round_trips=%zu p50_ms=%.3f p99_ms=%.3f "
	       "max_ms=%.3f\n",
	       lat.n, p50, p99,
	       lat.n ? (double)lat.v[lat.n - 1] / 1000.0 : 0.0);
	loadgen_print_pc(lg, "rtt");
	free(lat.v);
	loadgen_conn_free(&c);
	loadgen_gen_free(g);
	return lg->failed;
}

static const char *const loadgen_storm_users[] = {
    "hp.sunli",   "hp.wutao",    "gm.zhenghong", "gm.fengwei",
    "xf.liufang", "hp.chenjing", "gm.zhouqiang"};

static void loadgen_storm_next(struct loadgen_conn *c);

static void
loadgen_storm_send(struct loadgen_conn *c)
{
	json_t *body;
	char *text, dev[96];
	size_t nu = sizeof loadgen_storm_users / sizeof loadgen_storm_users[0];

	loadgen_device("storm", c->idx, dev, sizeof dev);
	body = json_pack("{s:s, s:s, s:s}", "username",
	                 loadgen_storm_users[(size_t)c->idx % nu], "password",
	                 c->lg->o.password, "device", dev);
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		loadgen_die("out of memory");
	json_decref(body);
	c->next = loadgen_storm_next;
	loadgen_send(c, EVHTTP_REQ_POST, "/api/v1/login", text, strlen(text));
	free(text);
}

static void
loadgen_storm_next(struct loadgen_conn *c)
{
	if (c->status == 200)
		c->lg->logins++;
	else
		c->lg->logins_failed++;
	if (!c->lg->stopping)
		loadgen_storm_send(c);
	else
		c->lg->active--;
}

static int
loadgen_login_storm(struct loadgen *lg)
{
	struct loadgen_conn c, *storm;
	struct loadgen_gen *g = loadgen_gen_new(&lg->o, LOADGEN_ALL, NULL, 0);
	struct loadgen_lat calm = {0}, busy = {0};
	double p99_calm, p99_busy, p50_calm, p50_busy;
	int64_t t0, t;
	char dev[96];

	if ((storm = calloc((size_t)lg->o.clients, sizeof *storm)) == NULL)
		loadgen_die("out of memory");
	loadgen_conn_init(lg, &c, 0);
	loadgen_device("storm-sync", 0, dev, sizeof dev);
	loadgen_login(&c, lg->o.user, dev);
	loadgen_pull_all(&c, lg->o.limit, NULL);
	loadgen_rtt_run(lg, &c, g, 50, &calm);
	calm.n = 0;
	loadgen_rtt_run(lg, &c, g, lg->o.count, &calm);
	p50_calm = loadgen_lat_pct(&calm, 50);
	p99_calm = loadgen_lat_pct(&calm, 99);

	for (int i = 0; i < lg->o.clients; i++) {
		loadgen_conn_init(lg, &storm[i], i + 1);
		loadgen_storm_send(&storm[i]);
		lg->active++;
	}
	/* Let the logins fill the workers' queue first. */
	t0 = loadgen_now_us();
	while (loadgen_now_us() - t0 < 300000 && !lg->failed)
		event_base_loop(lg->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	lg->logins = lg->logins_failed = 0;
	t0 = loadgen_now_us();
	loadgen_rtt_run(lg, &c, g, lg->o.count, &busy);
	t = loadgen_now_us() - t0;
	lg->stopping = 1;
	while (lg->active > 0 && !lg->failed)
		event_base_loop(lg->base, EVLOOP_ONCE);
	p50_busy = loadgen_lat_pct(&busy, 50);
	p99_busy = loadgen_lat_pct(&busy, 99);
	printf("loadgen login-storm logins=%d round_trips=%zu "
	       "p50_ms_calm=%.3f p99_ms_calm=%.3f p50_ms_storm=%.3f "
	       "p99_ms_storm=%.3f p99_ratio=%.2f logins_ok=%ld "
	       "logins_failed=%ld logins_per_s=%.1f\n",
	       lg->o.clients, busy.n, p50_calm, p99_calm, p50_busy, p99_busy,
	       p99_calm > 0 ? p99_busy / p99_calm : 0.0, lg->logins,
	       lg->logins_failed, (double)lg->logins * 1e6 / (double)t);
	loadgen_print_pc(lg, "login-storm");
	for (int i = 0; i < lg->o.clients; i++)
		loadgen_conn_free(&storm[i]);
	free(storm);
	free(calm.v);
	free(busy.v);
	loadgen_conn_free(&c);
	loadgen_gen_free(g);
	return lg->failed;
}

/* ---- fanout ------------------------------------------------------------- */

enum { LOADGEN_PUSHING, LOADGEN_PULLING };

static void loadgen_fan_next(struct loadgen_conn *c);

static void
loadgen_fan_push(struct loadgen_conn *c)
{
	struct loadgen *lg = c->lg;

	if (lg->stopping || loadgen_now_us() >= lg->stop_at_us ||
	    lg->pushed_total >= lg->o.n) {
		lg->stopping = 1;
		if (--lg->active == 0)
			event_base_loopbreak(lg->base);
		return;
	}
	loadgen_gen_push(c->gen, 10, &c->body);
	lg->pushed_total += 10;
	c->state = LOADGEN_PUSHING;
	c->next = loadgen_fan_next;
	c->rt_start_us = loadgen_now_us();
	loadgen_send(c, EVHTTP_REQ_POST, "/api/v1/sync/push", c->body.p,
	             c->body.len);
}

static void
loadgen_fan_next(struct loadgen_conn *c)
{
	struct loadgen *lg = c->lg;
	struct loadgen_page pg;
	char uri[256];

	if (c->status != 200) {
		fprintf(stderr, "loadgen: fanout %d: HTTP %d: %.300s\n", c->idx,
		        c->status, c->resp.p);
		lg->failed = 1;
		event_base_loopbreak(lg->base);
		return;
	}
	if (c->state == LOADGEN_PUSHING) {
		if (loadgen_read_push(&c->resp, 10, &lg->pc) != 0) {
			fprintf(stderr, "loadgen: fanout: bad push answer\n");
			lg->failed = 1;
			event_base_loopbreak(lg->base);
			return;
		}
	} else {
		if (loadgen_scan_pull(c->resp.p, c->resp.len, &pg) != 0 ||
		    pg.cursor[0] == '\0') {
			fprintf(stderr, "loadgen: fanout: bad pull answer\n");
			lg->failed = 1;
			event_base_loopbreak(lg->base);
			return;
		}
		memcpy(c->cursor, pg.cursor, sizeof c->cursor);
		lg->pulled_total += pg.changes;
		if (!pg.more) {
			loadgen_lat_add(&lg->lat,
			                loadgen_now_us() - c->rt_start_us);
			lg->rts++;
			loadgen_fan_push(c);
			return;
		}
	}
	c->state = LOADGEN_PULLING;
	loadgen_pull_uri(c, lg->o.limit, uri, sizeof uri);
	loadgen_send(c, EVHTTP_REQ_GET, uri, NULL, 0);
}

static int
loadgen_fanout(struct loadgen *lg)
{
	struct loadgen_conn *cs;
	int k = lg->o.clients;
	int64_t t0, t;
	char dev[96];

	if ((cs = calloc((size_t)k, sizeof *cs)) == NULL)
		loadgen_die("out of memory");
	for (int i = 0; i < k; i++) {
		loadgen_conn_init(lg, &cs[i], i);
		cs[i].gen =
		    loadgen_gen_new(&lg->o, LOADGEN_ALL, NULL, (unsigned)i);
		loadgen_device("fanout", i, dev, sizeof dev);
		loadgen_login(&cs[i], lg->o.user, dev);
	}
	/* One client catches up; the others start from its cursor (the
	 * same user: the same scope). */
	loadgen_pull_all(&cs[0], lg->o.limit, NULL);
	for (int i = 1; i < k; i++)
		memcpy(cs[i].cursor, cs[0].cursor, sizeof cs[0].cursor);
	loadgen_rss(lg, "fanout-start");
	t0 = loadgen_now_us();
	lg->stop_at_us = t0 + (int64_t)lg->o.seconds * 1000000;
	lg->active = k;
	for (int i = 0; i < k; i++)
		loadgen_fan_push(&cs[i]);
	while (lg->active > 0 && !lg->failed)
		event_base_loop(lg->base, EVLOOP_ONCE);
	t = loadgen_now_us() - t0;
	printf("loadgen fanout clients=%d seconds=%.1f round_trips=%ld "
	       "round_trips_per_s=%.1f p50_ms=%.1f p99_ms=%.1f "
	       "changes_pushed=%ld changes_pulled=%ld\n",
	       k, (double)t / 1e6, lg->rts, (double)lg->rts * 1e6 / (double)t,
	       loadgen_lat_pct(&lg->lat, 50), loadgen_lat_pct(&lg->lat, 99),
	       lg->pushed_total, lg->pulled_total);
	loadgen_print_pc(lg, "fanout");
	loadgen_rss(lg, "after-fanout");
	for (int i = 0; i < k; i++) {
		loadgen_gen_free(cs[i].gen);
		loadgen_conn_free(&cs[i]);
	}
	free(cs);
	return lg->failed;
}

/* ---- grid-pull ----------------------------------------------------------- */

/* The median time of `reps` full pulls from the start, in ms. */
static double
loadgen_time_full_pull(struct loadgen_conn *c, int reps, long *changes,
                       int *pages)
{
	struct loadgen_lat l = {0};
	double ms;

	for (int i = 0; i < reps && !c->lg->failed; i++) {
		int64_t t0 = loadgen_now_us();
		c->cursor[0] = '\0';
		*pages = 0;
		*changes = loadgen_pull_all(c, c->lg->o.limit, pages);
		loadgen_lat_add(&l, loadgen_now_us() - t0);
	}
	ms = loadgen_lat_pct(&l, 50);
	free(l.v);
	return ms;
}

static void
loadgen_push_n(struct loadgen_conn *c, struct loadgen_gen *g, long n)
{
	struct loadgen_buf b = {0};

	while (n > 0 && !c->lg->failed) {
		int k = n < c->lg->o.batch ? (int)n : c->lg->o.batch;
		loadgen_gen_push(g, k, &b);
		loadgen_push(c, &b, k);
		n -= k;
	}
	free(b.p);
}

static int
loadgen_grid_pull(struct loadgen *lg)
{
	struct loadgen_conn admin, worker;
	struct loadgen_gen *mine, *others;
	char grid[GK_ID_LEN + 1], dev[96];
	long n0, n1, base = lg->o.n;
	int p0, p1;
	double before, after;

	loadgen_user_unit(lg->o.db, lg->o.worker, grid);
	mine = loadgen_gen_new(&lg->o, LOADGEN_GRID, grid, 1000);
	others = loadgen_gen_new(&lg->o, LOADGEN_OTHERS, grid, 1001);
	loadgen_conn_init(lg, &admin, 0);
	loadgen_conn_init(lg, &worker, 1);
	loadgen_device("grid-admin", 0, dev, sizeof dev);
	loadgen_login(&admin, lg->o.user, dev);
	loadgen_device("grid-worker", 1, dev, sizeof dev);
	loadgen_login(&worker, lg->o.worker, dev);

	/* The grid's own history, and as much again in the others. */
	loadgen_push_n(&admin, mine, base);
	loadgen_push_n(&admin, others, base);
	before = loadgen_time_full_pull(&worker, 21, &n0, &p0);
	printf("loadgen grid-pull phase=before others=%ld changes=%ld "
	       "pages=%d ms=%.1f\n",
	       base, n0, p0, before);
	fflush(stdout);
	loadgen_push_n(&admin, others, base * (lg->o.growth - 1));
	after = loadgen_time_full_pull(&worker, 21, &n1, &p1);
	printf("loadgen grid-pull phase=after others=%ld changes=%ld pages=%d "
	       "ms=%.1f\n",
	       base * lg->o.growth, n1, p1, after);
	printf("loadgen grid-pull worker=%s growth=%d before_ms=%.1f "
	       "after_ms=%.1f ratio=%.2f\n",
	       lg->o.worker, lg->o.growth, before, after,
	       before > 0 ? after / before : 0.0);
	loadgen_print_pc(lg, "grid-pull");
	if (n1 != n0)
		fprintf(stderr,
		        "loadgen: grid-pull: the worker saw %ld changes, then "
		        "%ld: other grids' changes leak into its scope?\n",
		        n0, n1);
	loadgen_conn_free(&admin);
	loadgen_conn_free(&worker);
	loadgen_gen_free(mine);
	loadgen_gen_free(others);
	return lg->failed;
}

/* ---- sample ------------------------------------------------------------- */

static int
loadgen_sample(struct loadgen *lg)
{
	struct loadgen_gen *g = loadgen_gen_new(&lg->o, LOADGEN_ALL, NULL, 0);
	struct loadgen_buf b = {0};

	for (long i = 0; i < lg->o.n; i++) {
		b.len = 0;
		loadgen_gen_one(g, &b);
		loadgen_buf_add(&b, "\n", 1);
		fwrite(b.p, 1, b.len, stdout);
	}
	free(b.p);
	loadgen_gen_free(g);
	return ferror(stdout) ? 1 : 0;
}

/* ---- main ---------------------------------------------------------------- */

static void
loadgen_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct loadgen *lg = arg;

	(void)fd;
	(void)what;
	fprintf(stderr, "loadgen: %s: deadline of %d s reached\n", lg->o.mode,
	        lg->o.timeout);
	lg->failed = 1;
	event_base_loopbreak(lg->base);
}

static void
loadgen_usage(void)
{
	fputs("usage: loadgen MODE [-p PORT] [-d DEMO_DB] [-u USER] "
	      "[-w WORKER]\n"
	      "               [-n COUNT] [-b BATCH] [-l LIMIT] [-k CLIENTS] "
	      "[-t SECONDS]\n"
	      "               [-c ROUNDS] [-g GROWTH] [-P SERVER_PID] "
	      "[-s SEED] [-T TIMEOUT]\n"
	      "modes: ingest pull rtt fanout grid-pull login-storm rss "
	      "sample\n"
	      "the password is read from $LOADGEN_PASSWORD\n",
	      stderr);
	exit(2);
}

static long
loadgen_num(const char *s, long lo, long hi, char flag)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: -%c wants %ld..%ld\n", flag, lo, hi);
		loadgen_usage();
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct loadgen lg;
	struct loadgen_opts *o = &lg.o;
	struct timeval tv;
	int ch, rc;
	int set_n = 0, set_k = 0;

	memset(&lg, 0, sizeof lg);
	o->db = "demo.db";
	o->user = "admin";
	o->worker = "hp.sunli";
	o->batch = 1000;
	o->limit = 1000;
	o->seconds = 30;
	o->count = 2000;
	o->growth = 100;
	o->timeout = 900;
	o->seed = (uint64_t)loadgen_wall_ms() ^ ((uint64_t)getpid() << 32);
	while ((ch = getopt(argc, argv, "p:d:u:w:n:b:l:k:t:c:g:P:s:T:")) !=
	       -1) {
		switch (ch) {
		case 'p':
			o->port = (int)loadgen_num(optarg, 1, 65535, 'p');
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'w':
			o->worker = optarg;
			break;
		case 'n':
			o->n = loadgen_num(optarg, 1, LOADGEN_MAX_CHANGES, 'n');
			set_n = 1;
			break;
		case 'b':
			o->batch = (int)loadgen_num(optarg, 1, 10000, 'b');
			break;
		case 'l':
			o->limit = (int)loadgen_num(optarg, 1, 10000, 'l');
			break;
		case 'k':
			o->clients = (int)loadgen_num(optarg, 1,
			                              LOADGEN_MAX_CLIENTS, 'k');
			set_k = 1;
			break;
		case 't':
			o->seconds = (int)loadgen_num(optarg, 1, 3600, 't');
			break;
		case 'c':
			o->count = (int)loadgen_num(optarg, 1, 1000000, 'c');
			break;
		case 'g':
			o->growth = (int)loadgen_num(optarg, 2, 1000, 'g');
			break;
		case 'P':
			o->pid = loadgen_num(optarg, 1, 1L << 30, 'P');
			break;
		case 's':
			o->seed =
			    (uint64_t)loadgen_num(optarg, 0, LONG_MAX, 's');
			break;
		case 'T':
			o->timeout = (int)loadgen_num(optarg, 1, 7200, 'T');
			break;
		default:
			loadgen_usage();
		}
	}
	/* The mode may come before or after the options (getopt permutes). */
	if (optind != argc - 1)
		loadgen_usage();
	o->mode = argv[optind];
	if (!set_n)
		o->n = strcmp(o->mode, "ingest") == 0      ? 1000000
		       : strcmp(o->mode, "fanout") == 0    ? 100000
		       : strcmp(o->mode, "grid-pull") == 0 ? 1000
		       : strcmp(o->mode, "sample") == 0    ? 10000
		                                        : LOADGEN_MAX_CHANGES;
	if (!set_k)
		o->clients = strcmp(o->mode, "fanout") == 0 ? 50 : 20;

	if (strcmp(o->mode, "rss") == 0) {
		loadgen_rss(&lg, "now");
		return 0;
	}
	if (strcmp(o->mode, "sample") == 0)
		return loadgen_sample(&lg);
	if (o->port == 0)
		loadgen_usage();
	if ((o->password = getenv("LOADGEN_PASSWORD")) == NULL ||
	    o->password[0] == '\0')
		loadgen_die("set LOADGEN_PASSWORD");
	signal(SIGPIPE, SIG_IGN);
	if ((lg.base = event_base_new()) == NULL)
		loadgen_die("event_base_new failed");
	lg.deadline = evtimer_new(lg.base, loadgen_on_deadline, &lg);
	tv.tv_sec = o->timeout;
	tv.tv_usec = 0;
	evtimer_add(lg.deadline, &tv);

	if (strcmp(o->mode, "ingest") == 0)
		rc = loadgen_ingest(&lg);
	else if (strcmp(o->mode, "pull") == 0)
		rc = loadgen_pull(&lg);
	else if (strcmp(o->mode, "rtt") == 0)
		rc = loadgen_rtt(&lg);
	else if (strcmp(o->mode, "fanout") == 0)
		rc = loadgen_fanout(&lg);
	else if (strcmp(o->mode, "grid-pull") == 0)
		rc = loadgen_grid_pull(&lg);
	else if (strcmp(o->mode, "login-storm") == 0)
		rc = loadgen_login_storm(&lg);
	else
		loadgen_usage();
	event_free(lg.deadline);
	event_base_free(lg.base);
	free(lg.lat.v);
	return rc;
}
