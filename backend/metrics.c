/*
 * metrics.c: the server's counters, /metrics in the Prometheus text
 * format, and /healthz.
 *
 * Everything is counted on the loop thread, so no locks. Requests are
 * counted by (route, status) in a small table that grows as pairs appear
 * (routes are the table's names plus "unknown"; statuses are few), with a
 * latency histogram per route. The database size is read at scrape time
 * (page_count * page_size); open connections are set by server.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "gridkeepd.h"

/* Upper bounds of the latency buckets, in microseconds (+Inf is last). */
static const int64_t metrics_le_us[] = {1000,   2500,    5000,    10000,
                                        25000,  50000,   100000,  250000,
                                        500000, 1000000, 2500000, 5000000};
static const char *const metrics_le_text[] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",   "0.25",   "0.5",   "1",    "2.5",   "5"};
#define METRICS_NLE    (sizeof metrics_le_us / sizeof metrics_le_us[0])
#define METRICS_MAX    128 /* (route, status) pairs; more fold into one */
#define METRICS_ROUTES 32

struct metrics_count {
	const char *route; /* a string constant: a route's name */
	int status;
	uint64_t n;
};

struct metrics_hist {
	const char *route;
	uint64_t buckets[METRICS_NLE]; /* not cumulative; summed at scrape */
	uint64_t count;
	int64_t sum_us;
};

struct gk_metrics {
	struct metrics_count counts[METRICS_MAX];
	int ncounts;
	struct metrics_hist hists[METRICS_ROUTES];
	int nhists;
	uint64_t accepted, duplicate;
	uint64_t rejected[GK_CODE_COUNT];
	uint64_t logins_failed;
	int connections;
};

struct gk_metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct gk_metrics));
}

void
metrics_free(struct gk_metrics *m)
{
	free(m);
}

void
metrics_request(struct gk_metrics *m, const char *route, int status, int64_t us)
{
	struct metrics_hist *h = NULL;
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->ncounts; i++)
		if (m->counts[i].status == status &&
		    strcmp(m->counts[i].route, route) == 0)
			break;
	if (i == m->ncounts && m->ncounts < METRICS_MAX) {
		m->counts[i].route = route;
		m->counts[i].status = status;
		m->ncounts++;
	}
	if (i < METRICS_MAX)
		m->counts[i].n++;

	for (i = 0; i < m->nhists; i++)
		if (strcmp(m->hists[i].route, route) == 0)
			h = &m->hists[i];
	if (h == NULL && m->nhists < METRICS_ROUTES) {
		h = &m->hists[m->nhists++];
		h->route = route;
	}
	if (h == NULL)
		return;
	if (us < 0)
		us = 0;
	for (i = 0; i < (int)METRICS_NLE; i++)
		if (us <= metrics_le_us[i]) {
			h->buckets[i]++;
			break;
		}
	h->count++;
	h->sum_us += us;
}

void
metrics_changes(struct gk_metrics *m, int accepted, int duplicate,
                const int rejected_by_code[GK_CODE_COUNT])
{
	if (m == NULL)
		return;
	m->accepted += (uint64_t)(accepted > 0 ? accepted : 0);
	m->duplicate += (uint64_t)(duplicate > 0 ? duplicate : 0);
	for (int i = 0; rejected_by_code != NULL && i < GK_CODE_COUNT; i++)
		if (rejected_by_code[i] > 0)
			m->rejected[i] += (uint64_t)rejected_by_code[i];
}

void
metrics_connections(struct gk_metrics *m, int open)
{
	if (m != NULL)
		m->connections = open;
}

void
metrics_login_failed(struct gk_metrics *m)
{
	if (m != NULL)
		m->logins_failed++;
}

/* A cheap query that proves the database answers: 1 or 0. */
static int
metrics_db_ok(struct gk_server *s)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT 1", NULL);
	int ok;

	if (st == NULL)
		return 0;
	ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
	sqlite3_reset(st); /* hold no read transaction between requests */
	return ok;
}

void
metrics_healthz(struct gk_req *r)
{
	if (r->s->stopping)
		http_reply_error(r, GK_E_BUSY, "the server is stopping");
	else if (!metrics_db_ok(r->s))
		http_reply_error(r, GK_E_BUSY, "the database does not answer");
	else
		http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* page_count * page_size, or -1. */
static int64_t
metrics_db_bytes(struct gk_server *s)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	st = store_stmt(s,
	                "SELECT p.page_count * s.page_size FROM "
	                "pragma_page_count() AS p, pragma_page_size() AS s",
	                NULL);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return n;
}

/* metrics_scrape answers text/plain: not through http_reply_json. */
void
metrics_scrape(struct gk_req *r)
{
	struct gk_metrics *m = r->s->metrics;
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h;
	uint64_t cum;
	int i;

	if (b == NULL) {
		http_reply_error(r, GK_E_NOMEM, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "# HELP gridkeep_requests_total HTTP requests "
	                       "answered, by route and status.\n"
	                       "# TYPE gridkeep_requests_total counter\n");
	for (i = 0; i < m->ncounts; i++)
		evbuffer_add_printf(b,
		                    "gridkeep_requests_total{route=\"%s\","
		                    "status=\"%d\"} %llu\n",
		                    m->counts[i].route, m->counts[i].status,
		                    (unsigned long long)m->counts[i].n);
	evbuffer_add_printf(
	    b, "# HELP gridkeep_request_duration_seconds Time from "
	       "dispatch to answer, by route.\n"
	       "# TYPE gridkeep_request_duration_seconds "
	       "histogram\n");
	for (i = 0; i < m->nhists; i++) {
		struct metrics_hist *hi = &m->hists[i];
		cum = 0;
		for (size_t k = 0; k < METRICS_NLE; k++) {
			cum += hi->buckets[k];
			evbuffer_add_printf(
			    b,
			    "gridkeep_request_duration_seconds_bucket{route="
			    "\"%s\",le=\"%s\"} %llu\n",
			    hi->route, metrics_le_text[k],
			    (unsigned long long)cum);
		}
		evbuffer_add_printf(
		    b,
		    "gridkeep_request_duration_seconds_bucket{route=\"%s\","
		    "le=\"+Inf\"} %llu\n"
		    "gridkeep_request_duration_seconds_sum{route=\"%s\"} "
		    "%lld.%06lld\n"
		    "gridkeep_request_duration_seconds_count{route=\"%s\"} "
		    "%llu\n",
		    hi->route, (unsigned long long)hi->count, hi->route,
		    (long long)(hi->sum_us / 1000000),
		    (long long)(hi->sum_us % 1000000), hi->route,
		    (unsigned long long)hi->count);
	}
	evbuffer_add_printf(b,
	                    "# HELP gridkeep_changes_total Pushed changes, by "
	                    "result and rejection code.\n"
	                    "# TYPE gridkeep_changes_total counter\n"
	                    "gridkeep_changes_total{result=\"accepted\",code="
	                    "\"\"} %llu\n"
	                    "gridkeep_changes_total{result=\"duplicate\",code="
	                    "\"\"} %llu\n",
	                    (unsigned long long)m->accepted,
	                    (unsigned long long)m->duplicate);
	for (i = 0; i < GK_CODE_COUNT; i++)
		if (m->rejected[i] != 0)
			evbuffer_add_printf(
			    b,
			    "gridkeep_changes_total{result=\"rejected\",code="
			    "\"%s\"} %llu\n",
			    gk_code_name(i),
			    (unsigned long long)m->rejected[i]);
	evbuffer_add_printf(
	    b,
	    "# HELP gridkeep_logins_failed_total Logins refused.\n"
	    "# TYPE gridkeep_logins_failed_total counter\n"
	    "gridkeep_logins_failed_total %llu\n"
	    "# HELP gridkeep_db_bytes Size of the database file.\n"
	    "# TYPE gridkeep_db_bytes gauge\n"
	    "gridkeep_db_bytes %lld\n"
	    "# HELP gridkeep_connections_open Open client connections.\n"
	    "# TYPE gridkeep_connections_open gauge\n"
	    "gridkeep_connections_open %d\n"
	    "# HELP gridkeep_requests_in_flight Requests not yet answered.\n"
	    "# TYPE gridkeep_requests_in_flight gauge\n"
	    "gridkeep_requests_in_flight %d\n",
	    (unsigned long long)m->logins_failed,
	    (long long)metrics_db_bytes(r->s), m->connections, r->s->inflight);

	h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Type",
	                  "text/plain; version=0.0.4; charset=utf-8");
	http_reply_raw(r, 200, (const char *)evbuffer_pullup(b, -1),
	               evbuffer_get_length(b));
	evbuffer_free(b);
}
