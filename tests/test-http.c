/*
 * test-http.c: the HTTP server core of `gridkeepd serve`, from outside:
 * the real binary on 127.0.0.1:0 (tests/httpc.h), a demo database.
 *
 * Most cases are data, in tests/http/NAME.test, read by
 * each_case_in_tests_http_answers_as_written; the tests below are those
 * that need more than one request: limits, signals, the config file,
 * many connections. After every test the shared server must still answer
 * /healthz (the teardown checks), and nothing may crash or hang: every
 * loop is bounded in count, every wait in time.
 *
 * A .test file is blocks separated by blank lines ('#' lines are
 * comments):
 *
 *	request: METHOD PATH            (or raw: lines, see below)
 *	header: Name: value             (any number)
 *	body: {"text": "sent as is"}    (Content-Type: application/json
 *	                                 unless a header: sets one)
 *	status: 400                     (or several: "400 404": any of them)
 *	code: bad_json                  (the error code of the JSON body)
 *	expect-header: Name: value      (present in the answer, exact value)
 *
 * raw: lines replace request/header/body: each is one line of the bytes
 * sent, ended by CRLF ("raw:" alone sends an empty line); \0 in a raw:
 * line is not supported, send such bytes from C.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "gridkeepd.h"
#include "httpc.h"
#include "testutil.h"

struct fixture {
	char dir[256];
	char db[512];
	struct httpc_server srv;
};

static struct fixture *fx;

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write text to dir/name; its path goes to path. */
static void
write_file(const char *dir, const char *name, const char *text, char *path,
           size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The server answers GET /healthz with 200 {"status":"ok"}. */
static void
assert_healthy(struct httpc_server *s)
{
	struct httpc_response r;

	assert_int_equal(httpc_request(s, "GET", "/healthz", NULL, NULL, &r),
	                 200);
	assert_non_null(strstr(r.body, "\"ok\""));
	httpc_response_free(&r);
}

/* Wait (at most 5 s) until at least n requests besides the scrape itself
 * are in flight, as /metrics says. */
static void
wait_inflight(struct httpc_server *s, int n)
{
	struct httpc_response r;
	long long end = now_ms() + 5000;
	const char *p;
	int got = 0;

	while (now_ms() < end) {
		assert_int_equal(
		    httpc_request(s, "GET", "/metrics", NULL, NULL, &r), 200);
		p = strstr(r.body, "\ngridkeep_requests_in_flight ");
		got = p != NULL ? atoi(p + 29) - 1 : 0;
		httpc_response_free(&r);
		if (got >= n)
			return;
		sleep_ms(2);
	}
	fail_msg("only %d requests in flight", got);
}

/* Wait (at most 5 s) for text to appear in the server's log. */
static void
wait_log(struct httpc_server *s, const char *text)
{
	long long end = now_ms() + 5000;
	char *log;
	int found = 0;

	while (!found && now_ms() < end) {
		log = httpc_log(s);
		found = log != NULL && strstr(log, text) != NULL;
		free(log);
		if (!found)
			sleep_ms(1);
	}
	if (!found)
		fail_msg("no \"%s\" in the log", text);
}

/* A fresh demo database in a new directory, for a test's own server. */
static void
own_db(char *dir, size_t dsize, char *db, size_t size)
{
	assert_int_equal(httpc_tmpdir(dir, dsize), 0);
	assert_int_equal(httpc_make_db(dir, "demo", db, size), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	if ((fx = calloc(1, sizeof *fx)) == NULL)
		return -1;
	if (httpc_tmpdir(fx->dir, sizeof fx->dir) != 0 ||
	    httpc_make_db(fx->dir, "demo", fx->db, sizeof fx->db) != 0 ||
	    httpc_start(&fx->srv, fx->db, NULL) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	int st;

	(void)state;
	st = httpc_stop(&fx->srv);
	if (st != 0)
		fprintf(stderr, "gridkeepd exited %d\n", st);
	httpc_free(&fx->srv);
	httpc_rmdir(fx->dir);
	free(fx);
	return st == 0 ? 0 : -1;
}

/* After every test: the shared server is still up and answers. */
static int
still_healthy(void **state)
{
	struct httpc_response r;
	int st;

	(void)state;
	if (!httpc_alive(&fx->srv)) {
		char *log = httpc_log(&fx->srv);
		fprintf(stderr, "the server died; its log:\n%s\n",
		        log != NULL ? log : "");
		free(log);
		return -1;
	}
	st = httpc_request(&fx->srv, "GET", "/healthz", NULL, NULL, &r);
	httpc_response_free(&r);
	return st == 200 ? 0 : -1;
}

/* ---- the data-driven cases ---------------------------------------------- */

struct http_case {
	const char *file;
	int line;
	char *req; /* the bytes to send */
	size_t req_len;
	int statuses[4], nstatuses;
	char code[64];
	char expect_header[256];
};

/* Copy src into dst, truncated to fit. */
static void
copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Run one case; 0 if it answered as written, else a message on stderr. */
static int
run_case(const struct http_case *c)
{
	struct httpc_response r;
	int st, ok = 0;

	st = httpc_raw(fx->srv.port, c->req, c->req_len, &r);
	for (int i = 0; i < c->nstatuses; i++)
		if (st == c->statuses[i])
			ok = 1;
	if (ok && c->code[0] != '\0' &&
	    strcmp(httpc_error_code(&r), c->code) != 0)
		ok = 0;
	if (ok && c->expect_header[0] != '\0') {
		char name[256];
		const char *colon = strchr(c->expect_header, ':');
		const char *v;
		snprintf(name, sizeof name, "%.*s",
		         (int)(colon - c->expect_header), c->expect_header);
		v = httpc_header(&r, name);
		if (v == NULL || strcmp(v, colon + 2) != 0)
			ok = 0;
	}
	if (!ok)
		fprintf(stderr, "%s:%d: got %d %s (code \"%s\")\n", c->file,
		        c->line, st, r.body != NULL ? r.body : "(no answer)",
		        httpc_error_code(&r));
	httpc_response_free(&r);
	return ok ? 0 : -1;
}

/* Finish the request of a parsed block into c->req. */
static void
build_case(struct http_case *c, const char *reqline, const char *headers,
           const char *body, const char *raw)
{
	FILE *f;

	free(c->req);
	c->req = NULL;
	assert_non_null(f = open_memstream(&c->req, &c->req_len));
	if (raw[0] != '\0') {
		fputs(raw, f);
	} else {
		fprintf(f, "%s HTTP/1.1\r\nHost: 127.0.0.1\r\n", reqline);
		fprintf(f, "Connection: close\r\n%s", headers);
		if (body[0] != '\0' && strstr(headers, "Content-Type:") == NULL)
			fprintf(f, "Content-Type: application/json\r\n");
		if (body[0] != '\0')
			fprintf(f, "Content-Length: %zu\r\n", strlen(body));
		fprintf(f, "\r\n%s", body);
	}
	assert_int_equal(fclose(f), 0);
}

/* Read one .test file and run its cases; the number that failed. */
static int
run_file(const char *path, int *count)
{
	char line[8192], reqline[1024] = "", headers[8192] = "";
	char body[8192] = "", raw[16384] = "";
	struct http_case c;
	FILE *f;
	int lineno = 0, failed = 0, in_block = 0;

	memset(&c, 0, sizeof c);
	assert_non_null(f = fopen(path, "r"));
	c.file = path;
	for (;;) {
		char *got = fgets(line, sizeof line, f);
		if (got != NULL) {
			lineno++;
			line[strcspn(line, "\n")] = '\0';
		}
		if (got == NULL || line[0] == '\0') {
			if (in_block) {
				build_case(&c, reqline, headers, body, raw);
				if (c.nstatuses == 0)
					fail_msg(
					    "%s:%d: a case without status:",
					    path, c.line);
				failed += run_case(&c) != 0;
				(*count)++;
			}
			in_block = 0;
			reqline[0] = headers[0] = body[0] = raw[0] = '\0';
			c.nstatuses = 0;
			c.code[0] = c.expect_header[0] = '\0';
			if (got == NULL)
				break;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!in_block)
			c.line = lineno;
		in_block = 1;
		if (strncmp(line, "request: ", 9) == 0) {
			copy(reqline, sizeof reqline, line + 9);
		} else if (strncmp(line, "header: ", 8) == 0) {
			size_t n = strlen(headers);
			snprintf(headers + n, sizeof headers - n, "%s\r\n",
			         line + 8);
		} else if (strncmp(line, "body: ", 6) == 0) {
			snprintf(body, sizeof body, "%s", line + 6);
		} else if (strncmp(line, "raw:", 4) == 0) {
			size_t n = strlen(raw);
			const char *t = line[4] == ' ' ? line + 5 : line + 4;
			snprintf(raw + n, sizeof raw - n, "%s\r\n", t);
		} else if (strncmp(line, "status: ", 8) == 0) {
			char *p = line + 8, *end;
			while (c.nstatuses < 4) {
				long v = strtol(p, &end, 10);
				if (end == p)
					break;
				c.statuses[c.nstatuses++] = (int)v;
				p = end;
			}
		} else if (strncmp(line, "code: ", 6) == 0) {
			copy(c.code, sizeof c.code, line + 6);
		} else if (strncmp(line, "expect-header: ", 15) == 0) {
			copy(c.expect_header, sizeof c.expect_header,
			     line + 15);
		} else {
			fail_msg("%s:%d: unknown line: %s", path, lineno, line);
		}
	}
	fclose(f);
	free(c.req);
	return failed;
}

static int
names_test_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".test") == 0;
}

static void
each_case_in_tests_http_answers_as_written(void **state)
{
	struct dirent **names;
	char dir[4096], path[8192];
	int n, failed = 0, count = 0;

	(void)state;
	snprintf(dir, sizeof dir, "%s", tu_srcpath("tests/http"));
	assert_true((n = scandir(dir, &names, names_test_file, alphasort)) > 0);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		failed += run_file(path, &count);
		free(names[i]);
		assert_true(httpc_alive(&fx->srv));
	}
	free(names);
	fprintf(stderr, "# %d cases, %d failed\n", count, failed);
	assert_true(count > 20);
	assert_int_equal(failed, 0);
}

/* ---- limits ------------------------------------------------------------ */

/* A body over max_body: evhttp answers 413 and lingers, so the client
 * reads the answer instead of a reset. */
static void
a_body_over_max_body_gets_413_not_a_reset(void **state)
{
	struct httpc_response r;
	size_t len = 1048576 + 4096;
	char *body;

	(void)state;
	assert_non_null(body = malloc(len + 1));
	memset(body, ' ', len);
	body[0] = '{';
	body[len - 1] = '}';
	body[len] = '\0';
	assert_int_equal(httpc_request_h(&fx->srv, "POST", "/api/v1/sync/push",
	                                 NULL, NULL, body, len, &r),
	                 413);
	httpc_response_free(&r);
	free(body);
}

/* A chunked body that grows over max_body is refused the same way. */
static void
a_chunked_body_over_max_body_gets_413(void **state)
{
	struct httpc_response r;
	size_t chunk = 65536, n = 20, len;
	char *req, *p;

	(void)state;
	assert_non_null(req = malloc(256 + n * (chunk + 16)));
	p = req + sprintf(req, "POST /api/v1/sync/push HTTP/1.1\r\n"
	                       "Host: x\r\nContent-Type: application/json\r\n"
	                       "Transfer-Encoding: chunked\r\n\r\n");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%zx\r\n", chunk);
		memset(p, ' ', chunk);
		p += chunk;
		p += sprintf(p, "\r\n");
	}
	p += sprintf(p, "0\r\n\r\n");
	len = (size_t)(p - req);
	assert_int_equal(httpc_raw(fx->srv.port, req, len, &r), 413);
	httpc_response_free(&r);
	free(req);
}

/* The login route has its own 4 KiB limit, under max_body. */
static void
a_login_body_over_4096_bytes_gets_413(void **state)
{
	struct httpc_response r;
	char body[6000];

	(void)state;
	snprintf(body, sizeof body, "{\"username\":\"%5000d\"}", 1);
	assert_int_equal(
	    httpc_request(&fx->srv, "POST", "/api/v1/login", NULL, body, &r),
	    413);
	assert_string_equal(httpc_error_code(&r), "too_large");
	httpc_response_free(&r);
}

/* Headers over max_headers: refused (evhttp's answer or a close), and the
 * server stays up. */
static void
headers_over_max_headers_are_refused_and_the_server_stays_up(void **state)
{
	struct httpc_response r;
	char *h;
	size_t n = 16384;
	int st;

	(void)state;
	assert_non_null(h = malloc(n + 64));
	snprintf(h, n + 64, "X-Big: %*d\r\n", (int)n, 1);
	st = httpc_request_h(&fx->srv, "GET", "/healthz", NULL, h, NULL, 0, &r);
	assert_true(st == -1 || (st >= 400 && st < 500));
	httpc_response_free(&r);
	free(h);
}

/* ---- metrics ------------------------------------------------------------- */

static void
metrics_count_requests_by_route_and_status(void **state)
{
	struct httpc_response r;

	(void)state;
	assert_int_equal(
	    httpc_request(&fx->srv, "GET", "/no/such", NULL, NULL, &r), 404);
	httpc_response_free(&r);
	assert_healthy(&fx->srv);
	assert_int_equal(
	    httpc_request(&fx->srv, "GET", "/metrics", NULL, NULL, &r), 200);
	assert_non_null(strstr(httpc_header(&r, "Content-Type"), "text/plain"));
	assert_non_null(
	    strstr(r.body, "# TYPE gridkeep_requests_total counter\n"));
	assert_non_null(strstr(
	    r.body,
	    "gridkeep_requests_total{route=\"healthz\",status=\"200\"} "));
	assert_non_null(strstr(
	    r.body,
	    "gridkeep_requests_total{route=\"unknown\",status=\"404\"} "));
	assert_non_null(strstr(r.body,
	                       "gridkeep_request_duration_seconds_"
	                       "bucket{route=\"healthz\",le=\"+Inf\"}"));
	assert_non_null(strstr(r.body, "\ngridkeep_db_bytes "));
	assert_null(strstr(r.body, "gridkeep_db_bytes -1"));
	assert_non_null(strstr(r.body, "\ngridkeep_logins_failed_total "));
	httpc_response_free(&r);
}

/* ---- signals ------------------------------------------------------------- */

/*
 * SIGTERM lets the requests in flight finish: logins wait for the hash
 * pool (one thread here), so some are in flight when the signal comes.
 * Every one is answered, the exit status is 0, the database is sound.
 */
static void
sigterm_answers_requests_in_flight_and_exits_0_with_the_db_intact(void **state)
{
	const char *args[] = {"-c", NULL, NULL};
	char dir[256], db[512], conf[512], body[256], req[1024];
	struct httpc_server s;
	struct httpc_response r;
	struct gk_error err = {0};
	int fds[4], answered = 0, ran = 0, st;
	sqlite3 *h = NULL;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	write_file(dir, "gk.conf", "hash_threads = 1\n", conf, sizeof conf);
	args[1] = conf;
	assert_int_equal(httpc_start(&s, db, args), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof body,
		         "{\"username\":\"nobody%d\",\"password\":\"wrong\","
		         "\"device\":\"test\"}",
		         i);
		snprintf(req, sizeof req,
		         "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
		         "Content-Type: application/json\r\n"
		         "Content-Length: %zu\r\n\r\n%s",
		         strlen(body), body);
		assert_true((fds[i] = httpc_connect(s.port)) >= 0);
		assert_int_equal(send(fds[i], req, strlen(req), MSG_NOSIGNAL),
		                 (ssize_t)strlen(req));
	}
	wait_inflight(&s, 2); /* read and queued; a hash is running */
	assert_int_equal(httpc_signal(&s, SIGTERM), 0);
	for (int i = 0; i < 4; i++) {
		char buf[2048];
		ssize_t n = recv(fds[i], buf, sizeof buf - 1, 0);
		if (n > 12) {
			buf[n] = '\0';
			answered++;
			/* 401: the login ran; 503: it came after the signal */
			ran += strncmp(buf, "HTTP/1.1 401", 12) == 0;
			assert_true(strncmp(buf, "HTTP/1.1 401", 12) == 0 ||
			            strncmp(buf, "HTTP/1.1 503", 12) == 0);
		}
		close(fds[i]);
	}
	assert_int_equal(answered, 4);
	assert_true(ran >= 2); /* those in flight at the signal */
	st = httpc_wait_exit(&s, 10000);
	assert_int_equal(st, 0);
	char *log = httpc_log(&s);
	assert_non_null(log);
	assert_non_null(strstr(log, "stopping"));
	assert_non_null(strstr(log, "request POST /api/v1/login 401"));
	assert_null(strstr(log, "wrong")); /* the password is never logged */
	free(log);
	httpc_free(&s);
	memset(&r, 0, sizeof r);

	assert_int_equal(db_open(db, 0, &h, &err), GK_OK);
	assert_int_equal(db_check(h, 1, &err), GK_OK);
	db_close(h);
	httpc_rmdir(dir);
}

/* SIGINT stops the server as SIGTERM does; a second signal while it waits
 * for requests in flight stops it at once, still with exit status 0 and
 * the database sound. */
static void
sigint_stops_the_server_and_a_second_signal_stops_it_at_once(void **state)
{
	const char *args[] = {"-c", NULL, NULL};
	char dir[256], db[512], conf[512], body[256], req[1024];
	struct httpc_server s;
	struct gk_error err = {0};
	int fds[16];
	sqlite3 *h = NULL;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	write_file(dir, "gk.conf", "hash_threads = 1\n", conf, sizeof conf);
	args[1] = conf;
	assert_int_equal(httpc_start(&s, db, args), 0);
	for (int i = 0; i < 16; i++) {
		snprintf(body, sizeof body,
		         "{\"username\":\"ghost%d\",\"password\":\"x\","
		         "\"device\":\"test\"}",
		         i);
		snprintf(req, sizeof req,
		         "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
		         "Content-Type: application/json\r\n"
		         "Content-Length: %zu\r\n\r\n%s",
		         strlen(body), body);
		assert_true((fds[i] = httpc_connect(s.port)) >= 0);
		assert_int_equal(send(fds[i], req, strlen(req), MSG_NOSIGNAL),
		                 (ssize_t)strlen(req));
	}
	wait_inflight(&s, 4);
	assert_int_equal(httpc_signal(&s, SIGINT), 0);
	/* Signals do not queue: send the second once the first was seen. */
	wait_log(&s, "signal 2: stopping");
	assert_int_equal(httpc_signal(&s, SIGINT), 0);
	assert_int_equal(httpc_wait_exit(&s, 10000), 0);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	char *log = httpc_log(&s);
	int again =
	    log != NULL && strstr(log, "signal 2 again: stopping now") != NULL;
	free(log);
	assert_true(again);
	httpc_free(&s);
	assert_int_equal(db_open(db, 0, &h, &err), GK_OK);
	assert_int_equal(db_check(h, 1, &err), GK_OK);
	db_close(h);
	httpc_rmdir(dir);
}

/* SIGHUP reopens the log file by name: after logrotate moved it, new lines
 * go to a new file. */
static void
sighup_reopens_the_log_file(void **state)
{
	const char *args[] = {"-l", "127.0.0.1:0", "-c", NULL, NULL};
	char dir[256], db[512], conf[512], logp[512], moved[600], text[700];
	struct httpc_server s;
	struct httpc_response r;
	char *a, *b;
	long long end;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	snprintf(logp, sizeof logp, "%s/gridkeepd.log", dir);
	snprintf(text, sizeof text, "log_file = %s\n", logp);
	write_file(dir, "gk.conf", text, conf, sizeof conf);
	args[3] = conf;
	assert_int_equal(httpc_start_ex(&s, db, args, logp), 0);
	assert_int_equal(httpc_request(&s, "GET", "/healthz", NULL, NULL, &r),
	                 200);
	httpc_response_free(&r);
	snprintf(moved, sizeof moved, "%s.1", logp);
	assert_int_equal(rename(logp, moved), 0);
	assert_int_equal(httpc_signal(&s, SIGHUP), 0);
	/* The reopened file appears with its "log reopened" line. */
	b = NULL;
	for (end = now_ms() + 5000; now_ms() < end; sleep_ms(10)) {
		b = tu_slurp(logp, NULL);
		if (b != NULL && strstr(b, "log reopened") != NULL)
			break;
		free(b);
		b = NULL;
	}
	assert_non_null(b);
	free(b);
	assert_int_equal(
	    httpc_request(&s, "GET", "/no-such-path", NULL, NULL, &r), 404);
	httpc_response_free(&r);
	assert_int_equal(httpc_stop(&s), 0);
	assert_non_null(a = tu_slurp(moved, NULL));
	assert_non_null(b = tu_slurp(logp, NULL));
	assert_non_null(strstr(a, "request GET /healthz 200"));
	assert_null(strstr(a, "no-such-path"));
	assert_non_null(strstr(b, "request GET /no-such-path 404"));
	assert_non_null(strstr(b, "stopped"));
	free(a);
	free(b);
	httpc_free(&s);
	httpc_rmdir(dir);
}

/* ---- the config file ----------------------------------------------------- */

/* A free port on 127.0.0.1 (bound, read, closed). */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd, port;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void
the_config_file_sets_the_listen_address_and_limits(void **state)
{
	const char *args[] = {"-c", NULL, NULL};
	char dir[256], db[512], conf[512], text[512];
	struct httpc_server s;
	struct httpc_response r;
	int port = free_port();

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	snprintf(text, sizeof text,
	         "# a comment\n"
	         "\n"
	         "listen = 127.0.0.1:%d\n"
	         "max_body = 2048   # bytes\n"
	         "log_level = debug\n",
	         port);
	write_file(dir, "gk.conf", text, conf, sizeof conf);
	args[1] = conf;
	assert_int_equal(httpc_start_ex(&s, db, args, NULL), 0);
	assert_int_equal(s.port, port);
	assert_healthy(&s);
	char body[4096];
	snprintf(body, sizeof body, "{\"x\":\"%3000d\"}", 1);
	assert_int_equal(
	    httpc_request(&s, "POST", "/api/v1/sync/push", NULL, body, &r),
	    413);
	httpc_response_free(&r);
	assert_int_equal(httpc_stop(&s), 0);
	httpc_free(&s);
	httpc_rmdir(dir);
}

static void
an_unknown_key_or_bad_value_in_the_config_fails_with_its_line(void **state)
{
	const char *args[] = {"serve", "-c", NULL, NULL};
	char dir[256], db[512], conf[512], out[4096];

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	write_file(dir, "a.conf",
	           "listen = 127.0.0.1:0\n\n# x\nlisten_on = 1\n", conf,
	           sizeof conf);
	args[2] = conf;
	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "a.conf:4:"));
	assert_non_null(strstr(out, "unknown setting"));

	write_file(dir, "b.conf", "max_body = 12k\n", conf, sizeof conf);
	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "b.conf:1:"));
	write_file(dir, "c.conf", "log_level = loud\n", conf, sizeof conf);
	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "c.conf:1:"));
	write_file(dir, "d.conf", "timeout 30\n", conf, sizeof conf);
	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "d.conf:1:"));
	httpc_rmdir(dir);
}

static void
serve_refuses_a_missing_database_and_a_bad_flag(void **state)
{
	const char *args[] = {"serve", "-x", NULL};
	const char *args2[] = {"serve", "-l", "127.0.0.1:0", NULL};
	char dir[256], db[512], out[4096];

	(void)state;
	assert_int_equal(httpc_tmpdir(dir, sizeof dir), 0);
	snprintf(db, sizeof db, "%s/none.db", dir);
	assert_int_equal(httpc_run(db, args2, out, sizeof out), 1);
	assert_non_null(strstr(out, "gridkeepd init"));
	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "usage"));
	httpc_rmdir(dir);
}

/* A client that leaves while its login waits for the hash pool: the
 * answer has nowhere to go, and the server goes on unharmed. */
static void
a_client_that_leaves_before_its_answer_does_not_harm_the_server(void **state)
{
	static const char body[] =
	    "{\"username\":\"leaver\",\"password\":\"x\",\"device\":\"t\"}";
	char req[512];
	int fd;

	(void)state;
	snprintf(req, sizeof req,
	         "POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
	         "Content-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         sizeof body - 1, body);
	for (int i = 0; i < 3; i++) {
		assert_true((fd = httpc_connect(fx->srv.port)) >= 0);
		assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
		                 (ssize_t)strlen(req));
		sleep_ms(5);
		close(fd);
	}
	sleep_ms(300); /* the hashes finish; their answers find no one */
	assert_healthy(&fx->srv);
}

/* Keep-alive: several requests on one connection, each answered. */
static void
requests_on_one_kept_alive_connection_are_each_answered(void **state)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[4096];
	int fd, got = 0;

	(void)state;
	assert_true((fd = httpc_connect(fx->srv.port)) >= 0);
	for (int i = 0; i < 5; i++) {
		ssize_t n;
		assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL),
		                 (ssize_t)(sizeof req - 1));
		n = recv(fd, buf, sizeof buf - 1, 0);
		assert_true(n > 12);
		buf[n] = '\0';
		if (strncmp(buf, "HTTP/1.1 200", 12) == 0 &&
		    strstr(buf, "{\"status\":\"ok\"}") != NULL)
			got++;
	}
	close(fd);
	assert_int_equal(got, 5);
}

/* A database that fails PRAGMA quick_check is never served. */
static void
serve_refuses_a_database_that_fails_quick_check(void **state)
{
	const char *args[] = {"serve", "-l", "127.0.0.1:0", NULL};
	static const unsigned char junk[] = {0x0d, 0x00, 0x00, 0x00,
	                                     0x50, 0x0f, 0xff, 0xff};
	char dir[256], db[512], out[4096];
	struct gk_error err = {0};
	long long page, size;
	sqlite3 *h = NULL;
	FILE *f;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	assert_int_equal(db_open(db, 0, &h, &err), GK_OK);
	page = tu_int(h, "SELECT rootpage FROM sqlite_master "
	                 "WHERE name = 'hazards'");
	size = tu_int(h, "PRAGMA page_size");
	assert_int_equal(db_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", &err),
	                 GK_OK);
	db_close(h);
	/* A table's root page that claims its free space is past its end. */
	assert_non_null(f = fopen(db, "r+b"));
	assert_int_equal(fseek(f, (long)((page - 1) * size), SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(httpc_run(db, args, out, sizeof out), 1);
	assert_non_null(strstr(out, "quick_check"));
	assert_non_null(strstr(out, "not serving"));
	assert_null(strstr(out, "listening on"));
	httpc_rmdir(dir);
}

/* ---- many connections ---------------------------------------------------- */

static void
two_hundred_sequential_connections_are_all_answered(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++)
		assert_healthy(&fx->srv);
}

static void
a_hundred_idle_connections_do_not_stop_others_being_served(void **state)
{
	static const char req[] =
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int fds[100], answered = 0;
	char buf[1024];

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_true((fds[i] = httpc_connect(fx->srv.port)) >= 0);
	assert_healthy(&fx->srv);
	for (int i = 0; i < 100; i++)
		assert_int_equal(
		    send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL),
		    (ssize_t)(sizeof req - 1));
	for (int i = 0; i < 100; i++) {
		ssize_t n = recv(fds[i], buf, sizeof buf - 1, 0);
		if (n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0)
			answered++;
		close(fds[i]);
	}
	assert_int_equal(answered, 100);
}

/* At max_connections the listener pauses: a new connection waits in the
 * backlog until an open one closes, then it is served. */
static void
at_max_connections_a_new_connection_waits_until_one_closes(void **state)
{
	static const char req[] =
	    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *args[] = {"-c", NULL, NULL};
	char dir[256], db[512], conf[512], buf[1024];
	struct httpc_server s;
	struct timeval tv = {0, 500000};
	int fds[5], fd;
	ssize_t n;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	write_file(dir, "gk.conf", "max_connections = 5\n", conf, sizeof conf);
	args[1] = conf;
	assert_int_equal(httpc_start(&s, db, args), 0);
	for (int i = 0; i < 5; i++)
		assert_true((fds[i] = httpc_connect(s.port)) >= 0);
	sleep_ms(500); /* accepted and counted */
	assert_true((fd = httpc_connect(s.port)) >= 0); /* in the backlog */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL),
	                 (ssize_t)(sizeof req - 1));
	n = recv(fd, buf, sizeof buf - 1, 0);
	assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	tv.tv_sec = 5;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	n = recv(fd, buf, sizeof buf - 1, 0);
	assert_true(n > 12);
	assert_memory_equal(buf, "HTTP/1.1 200", 12);
	close(fd);
	assert_healthy(&s);
	assert_int_equal(httpc_stop(&s), 0);
	httpc_free(&s);
	httpc_rmdir(dir);
}

/* The CPU time (user + system, in clock ticks) a process has used. */
static long
cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(p = strrchr(buf, ')'));
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime */
	assert_int_equal(sscanf(p + 2,
	                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	                        "%lu %lu",
	                        &ut, &st),
	                 2);
	return (long)(ut + st);
}

/*
 * Out of descriptors (EMFILE), accept fails; evhttp alone would retry at
 * once forever. The server pauses accepting instead (no busy loop), and
 * serves again once connections close.
 */
static void
out_of_descriptors_the_server_pauses_accepting_without_spinning(void **state)
{
	struct rlimit lim = {48, 48};
	char dir[256], db[512];
	struct httpc_server s;
	int fds[80], n = 0;
	long before, used;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	assert_int_equal(httpc_start(&s, db, NULL), 0);
	assert_healthy(&s);
	assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &lim, NULL), 0);
	for (int i = 0; i < 80; i++)
		if ((fds[n] = httpc_connect(s.port)) >= 0)
			n++;
	assert_true(n > 48); /* the backlog takes the rest */
	sleep_ms(300);
	before = cpu_ticks(s.pid);
	sleep_ms(1000);
	used = cpu_ticks(s.pid) - before;
	assert_true(used < 50); /* under half a second of the second */
	for (int i = 0; i < n; i++)
		close(fds[i]);
	sleep_ms(300);
	assert_healthy(&s);
	char *log = httpc_log(&s);
	assert_non_null(log);
	assert_non_null(strstr(log, "accept:"));
	free(log);
	assert_int_equal(httpc_stop(&s), 0);
	httpc_free(&s);
	httpc_rmdir(dir);
}

/* An idle connection is closed after `timeout` seconds. */
static void
an_idle_connection_is_closed_after_the_timeout(void **state)
{
	const char *args[] = {"-c", NULL, NULL};
	char dir[256], db[512], conf[512], buf[64];
	struct httpc_server s;
	long long t0;
	ssize_t n;
	int fd;

	(void)state;
	own_db(dir, sizeof dir, db, sizeof db);
	write_file(dir, "gk.conf", "timeout = 1\n", conf, sizeof conf);
	args[1] = conf;
	assert_int_equal(httpc_start(&s, db, args), 0);
	assert_true((fd = httpc_connect(s.port)) >= 0);
	assert_int_equal(send(fd, "GET /hea", 8, MSG_NOSIGNAL), 8);
	t0 = now_ms();
	n = recv(fd, buf, sizeof buf, 0); /* closed, or evhttp's 408 */
	assert_true(n >= 0);
	assert_true(now_ms() - t0 < 5000);
	close(fd);
	assert_healthy(&s);
	assert_int_equal(httpc_stop(&s), 0);
	httpc_free(&s);
	httpc_rmdir(dir);
}

/* ---- in-process: the settings and the status map ---------------------- */

static void
config_defaults_are_as_documented_and_bad_values_are_refused(void **state)
{
	struct gk_config c;
	struct gk_error err = {0};

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.max_body, 1048576);
	assert_int_equal(c.max_headers, 8192);
	assert_int_equal(c.timeout_s, 30);
	assert_int_equal(c.max_connections, 1000);
	assert_int_equal(c.max_batch, 1000);
	assert_int_equal(c.pull_page, 1000);
	assert_int_equal(c.token_ttl_s, 90LL * 86400);
	{
		/* cores less one for the event loop, within 1..4 */
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		int want = cores > 5 ? 4 : cores > 2 ? (int)cores - 1 : 1;
		assert_int_equal(c.hash_threads, want);
	}
	assert_int_equal(c.hash_queue, 32);
	assert_int_equal(c.login_limit, 100);
	assert_int_equal(c.max_skew_ms, 300000);
	assert_int_equal(c.checkpoint_ms, 1000);
	assert_int_equal(c.log_level, GK_LOG_INFO);

	assert_int_equal(config_set(&c, "max_skew", "0", &err), GK_OK);
	assert_int_equal(c.max_skew_ms, 0);
	assert_int_equal(config_set(&c, "log_level", "debug", &err), GK_OK);
	assert_int_equal(c.log_level, GK_LOG_DEBUG);
	assert_int_equal(config_set(&c, "token_ttl", "86400", &err), GK_OK);
	assert_int_equal(c.token_ttl_s, 86400);
	static const char *const bad[][2] = {
	    {"max_body", "-1"},    {"max_body", "1k"},
	    {"max_body", ""},      {"max_body", "+5000"},
	    {"timeout", "0"},      {"hash_threads", "99999999999999999999"},
	    {"log_level", "INFO"}, {"checkpoint_interval", "1.5"},
	    {"no_such_key", "1"},  {"max_connections", " 5"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(config_set(&c, bad[i][0], bad[i][1], &err),
		                 GK_E_USAGE);
	assert_int_equal(c.max_body, 1048576); /* untouched by failures */
}

static void
each_error_code_maps_to_its_http_status(void **state)
{
	static const struct {
		int code, status;
	} map[] = {
	    {GK_E_JSON, 400},
	    {GK_E_DEPTH, 400},
	    {GK_E_TYPE, 400},
	    {GK_E_UNKNOWN_TABLE, 400},
	    {GK_E_UNKNOWN_FIELD, 400},
	    {GK_E_TOO_LONG, 400},
	    {GK_E_UTF8, 400},
	    {GK_E_CONTROL, 400},
	    {GK_E_MISSING, 400},
	    {GK_E_RANGE, 400},
	    {GK_E_ENUM, 400},
	    {GK_E_ID, 400},
	    {GK_E_HLC, 400},
	    {GK_E_NODE, 400},
	    {GK_E_TIME, 400},
	    {GK_E_OP, 400},
	    {GK_E_SIGN, 400},
	    {GK_E_TRANSITION, 400},
	    {GK_E_PLAN_REQUIRED, 400},
	    {GK_E_TRANSFER, 400},
	    {GK_E_DUPLICATE_EARN, 400},
	    {GK_E_INCONSISTENT, 400},
	    {GK_E_SKEW, 400},
	    {GK_E_REQUEST, 400},
	    {GK_E_CURSOR, 400},
	    {GK_E_USAGE, 400},
	    {GK_E_AUTH, 401},
	    {GK_E_CREDENTIALS, 401},
	    {GK_E_ROLE, 403},
	    {GK_E_NOT_FOUND, 404},
	    {GK_E_METHOD, 405},
	    {GK_E_DB_CHANGED, 409},
	    {GK_E_EXISTS, 409},
	    {GK_E_TOO_LARGE, 413},
	    {GK_E_BATCH, 413},
	    {GK_E_THROTTLED, 429},
	    {GK_E_BUSY, 503},
	    {GK_E_NOMEM, 503},
	    {GK_E_IO, 507},
	    {GK_E_DB, 500},
	    {GK_E_CORRUPT, 500},
	    {GK_E_SCHEMA_NEWER, 500},
	    {GK_CODE_COUNT + 7, 500},
	};

	(void)state;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (http_status_of(map[i].code) != map[i].status)
			fail_msg("%s: %d, not %d", gk_code_name(map[i].code),
			         http_status_of(map[i].code), map[i].status);
	}
	/* every code has a status of 400 or more */
	for (int c = 1; c < GK_CODE_COUNT; c++)
		assert_true(http_status_of(c) >= 400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        config_defaults_are_as_documented_and_bad_values_are_refused),
	    cmocka_unit_test(each_error_code_maps_to_its_http_status),
	    cmocka_unit_test_teardown(
	        each_case_in_tests_http_answers_as_written, still_healthy),
	    cmocka_unit_test_teardown(a_body_over_max_body_gets_413_not_a_reset,
	                              still_healthy),
	    cmocka_unit_test_teardown(a_chunked_body_over_max_body_gets_413,
	                              still_healthy),
	    cmocka_unit_test_teardown(a_login_body_over_4096_bytes_gets_413,
	                              still_healthy),
	    cmocka_unit_test_teardown(
	        headers_over_max_headers_are_refused_and_the_server_stays_up,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        metrics_count_requests_by_route_and_status, still_healthy),
	    cmocka_unit_test_teardown(
	        sigterm_answers_requests_in_flight_and_exits_0_with_the_db_intact,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        sigint_stops_the_server_and_a_second_signal_stops_it_at_once,
	        still_healthy),
	    cmocka_unit_test_teardown(sighup_reopens_the_log_file,
	                              still_healthy),
	    cmocka_unit_test_teardown(
	        the_config_file_sets_the_listen_address_and_limits,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        an_unknown_key_or_bad_value_in_the_config_fails_with_its_line,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        serve_refuses_a_missing_database_and_a_bad_flag, still_healthy),
	    cmocka_unit_test_teardown(
	        serve_refuses_a_database_that_fails_quick_check, still_healthy),
	    cmocka_unit_test_teardown(
	        a_client_that_leaves_before_its_answer_does_not_harm_the_server,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        requests_on_one_kept_alive_connection_are_each_answered,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        two_hundred_sequential_connections_are_all_answered,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        a_hundred_idle_connections_do_not_stop_others_being_served,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        at_max_connections_a_new_connection_waits_until_one_closes,
	        still_healthy),
	    cmocka_unit_test_teardown(
	        an_idle_connection_is_closed_after_the_timeout, still_healthy),
	    cmocka_unit_test_teardown(
	        out_of_descriptors_the_server_pauses_accepting_without_spinning,
	        still_healthy),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
