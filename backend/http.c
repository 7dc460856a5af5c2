/*
 * http.c: the answer to a request, and the one map from our error codes to
 * HTTP statuses.
 *
 * A struct gk_req is made by routes_dispatch and freed here, by the one
 * reply it gets: http_reply_json sends the body, counts the request in
 * /metrics, writes its log line (method, path, status, latency, user id;
 * never a token or a body) and lowers s->inflight, which SIGTERM waits on.
 * An error body never echoes the input: it carries the stable code name
 * and a message the server wrote.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "gridkeepd.h"

int
http_status_of(int code)
{
	switch (code) {
	case GK_OK:
		return 200;
	case GK_E_AUTH:
	case GK_E_CREDENTIALS:
		return 401;
	case GK_E_ROLE:
		return 403;
	case GK_E_NOT_FOUND:
		return 404;
	case GK_E_METHOD:
		return 405;
	case GK_E_DB_CHANGED:
	case GK_E_EXISTS:
		return 409;
	case GK_E_TOO_LARGE:
	case GK_E_BATCH:
		return 413;
	case GK_E_THROTTLED:
		return 429;
	case GK_E_BUSY:
	case GK_E_NOMEM:
		return 503;
	case GK_E_IO:
		return 507;
	case GK_E_DB:
	case GK_E_CORRUPT:
	case GK_E_SCHEMA_NEWER:
		return 500;
	case GK_E_JSON:
	case GK_E_DEPTH:
	case GK_E_TYPE:
	case GK_E_UNKNOWN_TABLE:
	case GK_E_UNKNOWN_FIELD:
	case GK_E_TOO_LONG:
	case GK_E_UTF8:
	case GK_E_CONTROL:
	case GK_E_MISSING:
	case GK_E_RANGE:
	case GK_E_ENUM:
	case GK_E_ID:
	case GK_E_HLC:
	case GK_E_NODE:
	case GK_E_TIME:
	case GK_E_OP:
	case GK_E_SIGN:
	case GK_E_TRANSITION:
	case GK_E_PLAN_REQUIRED:
	case GK_E_TRANSFER:
	case GK_E_DUPLICATE_EARN:
	case GK_E_INCONSISTENT:
	case GK_E_SKEW:
	case GK_E_REQUEST:
	case GK_E_CURSOR:
	case GK_E_USAGE:
		return 400;
	default:
		return 500;
	}
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return "Status";
	}
}

static int64_t
http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *
http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "?";
	}
}

/*
 * Send status with the bytes of body (borrowed), then count, log and free
 * r. The one place a request ends.
 */
static void
http_finish(struct gk_req *r, int status, const char *body, size_t len)
{
	struct gk_server *s = r->s;
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *out = evhttp_request_get_output_buffer(r->req);
	const char *uri = evhttp_request_get_uri(r->req);
	const char *method =
	    http_method_name(evhttp_request_get_command(r->req));
	char path[128];
	int64_t us;
	size_t n;

	/*
	 * The path without the query (which may hold a cursor), clipped and
	 * without controls: it is logged, never trusted. Copied now: the
	 * reply may free the request (when the client has gone).
	 */
	n = uri != NULL ? strcspn(uri, "?") : 0;
	if (n >= sizeof path)
		n = sizeof path - 1;
	for (size_t i = 0; i < n; i++)
		path[i] = (uri[i] > ' ' && uri[i] < 0x7f) ? uri[i] : '?';
	path[n] = '\0';

	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type",
		                  "application/json; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	/* A handler that knows better (a login lockout) sets its own. */
	if ((status == 503 || status == 429) &&
	    evhttp_find_header(h, "Retry-After") == NULL)
		evhttp_add_header(h, "Retry-After", status == 429 ? "60" : "1");
	if (status == 401 && evhttp_find_header(h, "WWW-Authenticate") == NULL)
		evhttp_add_header(h, "WWW-Authenticate", "Bearer");
	if (body != NULL && len > 0)
		evbuffer_add(out, body, len);
	evhttp_send_reply(r->req, status, http_reason(status), NULL);
	r->req = NULL;

	us = http_now_us() - r->start_us;
	metrics_request(s->metrics,
	                r->route != NULL ? r->route->name : "unknown", status,
	                us);
	log_msg(&s->log, GK_LOG_INFO, "request %s %s %d %lld.%03lldms user=%s",
	        method, path, status, (long long)(us / 1000),
	        (long long)(us % 1000), r->authed ? r->user.id : "-");
	s->inflight--;
	json_decref(r->body);
	free(r);
}

void
http_reply_raw(struct gk_req *r, int status, const char *body, size_t len)
{
	http_finish(r, status, body, len);
}

void
http_reply_json(struct gk_req *r, int status, json_t *body)
{
	char *text = NULL;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text == NULL) {
			static const char nomem[] =
			    "{\"error\":{\"code\":\"no_memory\","
			    "\"message\":\"out of memory\"}}";
			http_finish(r, 503, nomem, sizeof nomem - 1);
			return;
		}
	}
	http_finish(r, status, text, text != NULL ? strlen(text) : 0);
	free(text);
}

void
http_reply_error(struct gk_req *r, int code, const char *fmt, ...)
{
	char msg[GK_ERRMSG_MAX];
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	body = json_pack("{s:{s:s,s:s}}", "error", "code", gk_code_name(code),
	                 "message", msg);
	if (body == NULL) /* msg was not UTF-8: keep the code only */
		body = json_pack("{s:{s:s,s:s}}", "error", "code",
		                 gk_code_name(code), "message", "");
	http_reply_json(r, http_status_of(code), body);
}

const char *
http_query(struct gk_req *r, const char *key, char *buf, size_t size)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	struct evkeyvalq q;
	const char *query, *v;
	const char *res = NULL;

	if (uri == NULL || (query = evhttp_uri_get_query(uri)) == NULL)
		return NULL;
	if (strstr(query, "%00") != NULL) /* would decode short: refuse */
		return NULL;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) != 0)
		goto out;
	if ((v = evhttp_find_header(&q, key)) != NULL && strlen(v) < size) {
		memcpy(buf, v, strlen(v) + 1);
		res = buf;
	}
out:
	evhttp_clear_headers(&q);
	return res;
}
