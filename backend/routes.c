/*
 * routes.c: the table of endpoints, and routes_dispatch, the one evhttp
 * callback every request goes through (evhttp_set_cb matches whole paths
 * only, so the table is ours).
 *
 * Dispatch runs the checks in this order, each answering with a JSON
 * error and ending the request:
 *
 *   1. stopping (SIGTERM): 503, Connection: close;
 *   2. framing (HARDENING.md): Content-Length with Transfer-Encoding, or
 *      a Transfer-Encoding other than exactly "chunked", or either header
 *      twice: 400 and close;
 *      a path that decodes to a NUL (%00) or is not a path: 400;
 *   3. the route: unknown path 404 not_found, known path with another
 *      method 405 (with Allow); a :param must be a UUID, else 404;
 *   4. the body: a GET carries none (400); a POST is application/json, at
 *      most the route's limit (413), one JSON object without duplicate
 *      keys (bad_json), nested at most GK_MAX_DEPTH deep (too_deep);
 *   5. the token, for routes with roles: "Authorization: Bearer" (any
 *      case), at most 128 characters, a live session (auth_session) else
 *      401; a role outside the route's mask 403;
 *   6. the handler, which answers exactly once through http_reply_*.
 *
 * Nothing here is echoed from the request into an answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gridkeepd.h"

#define ROUTES_ALL                                                             \
	(GK_ROLE_BIT(GK_ROLE_ADMIN) | GK_ROLE_BIT(GK_ROLE_STREET) |            \
	 GK_ROLE_BIT(GK_ROLE_STATION) | GK_ROLE_BIT(GK_ROLE_GRID_WORKER))
#define ROUTES_TOKEN_MAX 128
#define ROUTES_PATH_MAX  512

static const struct gk_route routes_table[] = {
    {EVHTTP_REQ_GET, "/healthz", "healthz", 0, 0, metrics_healthz},
    {EVHTTP_REQ_GET, "/metrics", "metrics", 0, 0, metrics_scrape},
    {EVHTTP_REQ_POST, "/api/v1/login", "login", 4096, 0, api_auth_login},
    {EVHTTP_REQ_POST, "/api/v1/logout", "logout", 0, ROUTES_ALL,
     api_auth_logout},
    {EVHTTP_REQ_GET, "/api/v1/me", "me", 0, ROUTES_ALL, api_auth_me},
    {EVHTTP_REQ_GET, "/api/v1/devices", "devices", 0, ROUTES_ALL,
     api_auth_devices},
    {EVHTTP_REQ_POST, "/api/v1/devices/revoke", "revoke", 0, ROUTES_ALL,
     api_auth_revoke},
    {EVHTTP_REQ_POST, "/api/v1/sync/push", "push", 0, ROUTES_ALL,
     api_sync_push},
    {EVHTTP_REQ_GET, "/api/v1/sync/pull", "pull", 0, ROUTES_ALL, api_sync_pull},
};
#define ROUTES_N (sizeof routes_table / sizeof routes_table[0])

static int64_t
routes_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Match path against a pattern, segment by segment; ":x" segments are
 * copied into args (when not NULL). 1 on a match, 0 if the shape differs,
 * -1 if the shape matches but a parameter is not a UUID.
 */
static int
routes_match(const char *pattern, const char *path,
             char args[GK_MAX_PATH_ARGS][GK_ID_LEN + 1])
{
	const char *p = pattern, *q = path;
	int nargs = 0, bad = 0;

	while (*p != '\0' && *q != '\0') {
		size_t plen = strcspn(p, "/"), qlen = strcspn(q, "/");

		if (p[0] == ':' && plen > 1) {
			if (qlen == 0 || nargs == GK_MAX_PATH_ARGS)
				return 0;
			if (!uuid_valid(q, qlen)) {
				bad = 1;
			} else if (args != NULL) {
				memcpy(args[nargs], q, GK_ID_LEN);
				args[nargs][GK_ID_LEN] = '\0';
			}
			nargs++;
		} else if (plen != qlen || memcmp(p, q, plen) != 0) {
			return 0;
		}
		p += plen;
		q += qlen;
		if ((*p == '/') != (*q == '/'))
			return 0;
		if (*p == '/') {
			p++;
			q++;
		}
	}
	if (*p != '\0' || *q != '\0')
		return 0;
	return bad ? -1 : 1;
}

/* The nesting of containers in v, counted from level; stops past max. */
static int
routes_depth(json_t *v, int level, int max)
{
	const char *key;
	json_t *e;
	size_t i;
	int d, deepest = level;

	if (!json_is_object(v) && !json_is_array(v))
		return level - 1;
	if (level > max)
		return level;
	if (json_is_object(v)) {
		json_object_foreach (v, key, e) {
			if ((d = routes_depth(e, level + 1, max)) > deepest)
				deepest = d;
			if (deepest > max)
				break;
		}
	} else {
		json_array_foreach (v, i, e) {
			if ((d = routes_depth(e, level + 1, max)) > deepest)
				deepest = d;
			if (deepest > max)
				break;
		}
	}
	return deepest;
}

/* A framing error: answer 400 and close the connection after it. */
static void
routes_bad_framing(struct gk_req *r, const char *msg)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	                  "Connection", "close");
	http_reply_error(r, GK_E_REQUEST, "%s", msg);
}

/* 1 if ct is "application/json", optionally with parameters. */
static int
routes_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof want - 1;

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Steps 4: the body of r. GK_OK, or the request was answered. */
static int
routes_body(struct gk_req *r)
{
	struct evhttp_request *req = r->req;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	size_t limit =
	    r->route->max_body != 0 ? r->route->max_body : r->s->cfg.max_body;
	json_error_t jerr;
	unsigned char *buf;

	if (r->route->method != EVHTTP_REQ_POST) {
		if (len != 0) {
			http_reply_error(r, GK_E_REQUEST,
			                 "a GET request has no body");
			return GK_E_REQUEST;
		}
		return GK_OK;
	}
	if (!routes_is_json(evhttp_find_header(
	        evhttp_request_get_input_headers(req), "Content-Type"))) {
		http_reply_error(r, GK_E_REQUEST,
		                 "the body must be application/json");
		return GK_E_REQUEST;
	}
	if (len > limit) {
		http_reply_error(r, GK_E_TOO_LARGE,
		                 "the body is over %zu bytes", limit);
		return GK_E_TOO_LARGE;
	}
	if ((buf = evbuffer_pullup(in, -1)) == NULL && len != 0) {
		http_reply_error(r, GK_E_NOMEM, "out of memory");
		return GK_E_NOMEM;
	}
	r->body =
	    json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->body == NULL || !json_is_object(r->body)) {
		http_reply_error(r, GK_E_JSON,
		                 r->body == NULL
		                     ? "the body is not valid JSON"
		                     : "the body is not a JSON object");
		return GK_E_JSON;
	}
	if (routes_depth(r->body, 1, GK_MAX_DEPTH) > GK_MAX_DEPTH) {
		http_reply_error(r, GK_E_DEPTH, "the body nests over %d levels",
		                 GK_MAX_DEPTH);
		return GK_E_DEPTH;
	}
	return GK_OK;
}

/* Step 5: the bearer token and the role. GK_OK, or answered. */
static int
routes_auth(struct gk_req *r)
{
	const char *h = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Authorization");
	struct gk_error err = {0};
	char token[ROUTES_TOKEN_MAX + 1];
	size_t n;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		http_reply_error(r, GK_E_AUTH, "a bearer token is needed");
		return GK_E_AUTH;
	}
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n == 0 || n > ROUTES_TOKEN_MAX) {
		http_reply_error(r, GK_E_AUTH, "the token is not valid");
		return GK_E_AUTH;
	}
	memcpy(token, h, n);
	token[n] = '\0';
	if (auth_session(r->s, token, &r->user, &err) != GK_OK) {
		if (err.code == GK_E_DB || err.code == GK_E_IO ||
		    err.code == GK_E_BUSY || err.code == GK_E_NOMEM) {
			http_reply_error(r, err.code, "cannot check the token");
			return err.code;
		}
		http_reply_error(r, GK_E_AUTH, "the token is not valid");
		return GK_E_AUTH;
	}
	r->authed = 1;
	if ((GK_ROLE_BIT(r->user.role) & r->route->roles) == 0) {
		http_reply_error(r, GK_E_ROLE, "your role may not do this");
		return GK_E_ROLE;
	}
	return GK_OK;
}

/* Step 3: find the route of method and path; NULL if answered. */
static const struct gk_route *
routes_find(struct gk_req *r, const char *path)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(r->req);
	const char *allow = NULL;
	int m, bad_arg = 0;

	for (size_t i = 0; i < ROUTES_N; i++) {
		m = routes_match(routes_table[i].pattern, path, NULL);
		if (m == 0)
			continue;
		if (m < 0) {
			bad_arg = 1;
			continue;
		}
		if ((int)method == routes_table[i].method) {
			routes_match(routes_table[i].pattern, path, r->args);
			return &routes_table[i];
		}
		allow =
		    routes_table[i].method == EVHTTP_REQ_GET ? "GET" : "POST";
	}
	if (allow != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		                  "Allow", allow);
		http_reply_error(r, GK_E_METHOD, "use %s here", allow);
	} else {
		http_reply_error(r, GK_E_NOT_FOUND, "%s",
		                 bad_arg ? "no such record"
		                         : "no such endpoint");
	}
	return NULL;
}

void
routes_dispatch(struct evhttp_request *req, void *arg)
{
	struct gk_server *s = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri *uri;
	const struct gk_route *route;
	const struct evkeyval *kv;
	const char *te = NULL, *raw;
	char *path = NULL, *addr = NULL;
	int nte = 0, ncl = 0;
	struct gk_req *r;
	size_t len = 0;
	ev_uint16_t port = 0;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	r->s = s;
	r->req = req;
	r->start_us = routes_now_us();
	s->inflight++;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr,
	                           &port);
	snprintf(r->peer, sizeof r->peer, "%s", addr != NULL ? addr : "");

	if (s->stopping) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Connection", "close");
		http_reply_error(r, GK_E_BUSY, "the server is stopping");
		goto out;
	}
	TAILQ_FOREACH(kv, in, next)
	{
		if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			nte++;
			te = kv->value;
		} else if (strcasecmp(kv->key, "Content-Length") == 0) {
			ncl++;
		}
	}
	if (nte > 0 && ncl > 0) {
		routes_bad_framing(r, "Content-Length with Transfer-Encoding");
		goto out;
	}
	if (nte > 1 || ncl > 1 || (te != NULL && strcmp(te, "chunked") != 0)) {
		routes_bad_framing(r, "unsupported framing");
		goto out;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (raw = evhttp_uri_get_path(uri)) == NULL || raw[0] != '/' ||
	    strlen(raw) > ROUTES_PATH_MAX) {
		http_reply_error(r, GK_E_REQUEST, "bad path");
		goto out;
	}
	if ((path = evhttp_uridecode(raw, 0, &len)) == NULL ||
	    strlen(path) != len) {
		http_reply_error(r, GK_E_REQUEST, "bad path");
		goto out;
	}
	/* r is freed by the answer when there is no route: not r->route. */
	if ((route = routes_find(r, path)) == NULL)
		goto out;
	r->route = route;
	if (routes_body(r) != GK_OK)
		goto out;
	if (r->route->roles != 0 && routes_auth(r) != GK_OK)
		goto out;
	r->route->handler(r);
out:
	free(path);
}
