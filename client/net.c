/*
 * net.c: HTTP requests to the server, on libevent's own HTTP client.
 *
 * One net_conn holds one evhttp_connection (kept alive between requests:
 * a sync is a run of pushes and pulls) and carries one request at a time.
 * Everything the server says is untrusted: the answer's size is capped
 * (NET_MAX_ANSWER), its JSON is parsed with duplicate keys refused and its
 * depth bounded, and an error body is read only for its stable code and a
 * message of clean text.
 *
 * libevent calls the request's callback from deep inside the connection's
 * own processing, where freeing the connection is not allowed. So the
 * callback only copies what arrived and activates a private event; the
 * caller's callback runs from that event, on a clean stack, and may free
 * the connection or send the next request.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "net.h"

#define NET_MAX_DEPTH 12 /* a pull page: page, changes, change (8 deep) */

struct net_conn {
	struct event_base *base;
	struct evdns_base *dns; /* only for a host that is not an address */
	struct evhttp_connection *evcon;
	char server[256];
	char host[256];
	int port;

	struct evhttp_request *req; /* in flight, owned by libevent */
	struct event *deliver;      /* runs the caller's callback */
	struct event *deadline;     /* the whole request's time limit */
	net_cb cb;
	void *arg;
	int busy;

	/* What arrived, kept until the callback has run. */
	int status;
	enum evhttp_request_error fail;
	int failed, timed_out, dns_error;
	char *body;
	size_t body_len;
	int64_t date_ms, retry_after;
};

int
net_code_by_name(const char *name)
{
	for (int i = 0; i < GK_CODE_COUNT; i++)
		if (strcmp(gk_code_name(i), name) == 0)
			return i;
	return -1;
}

int
net_json_depth(json_t *v, int limit)
{
	const char *key;
	json_t *e;
	size_t i;
	int d, max = 0;

	if (limit <= 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach (v, key, e) {
			if ((d = net_json_depth(e, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			if ((d = net_json_depth(e, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
		return max + 1;
	}
	return 1;
}

int
net_url_parse(const char *url, char *host, size_t size, int *port,
              struct gk_error *err)
{
	const char *p, *end, *colon;
	size_t hlen;

	if (strncmp(url, "http://", 7) != 0)
		return gk_error_set(err, GK_E_USAGE,
		                    _("%s: the server's address is "
		                      "http://HOST[:PORT]"),
		                    url);
	p = url + 7;
	end = p + strcspn(p, "/?#");
	if (*end == '?' || *end == '#' || (*end == '/' && end[1] != '\0'))
		return gk_error_set(err, GK_E_USAGE,
		                    _("%s: give the server's address without a "
		                      "path"),
		                    url);
	if (memchr(p, '@', (size_t)(end - p)) != NULL)
		return gk_error_set(err, GK_E_USAGE,
		                    _("%s: no user name in the address"), url);
	colon = memchr(p, ':', (size_t)(end - p));
	hlen = (size_t)((colon != NULL ? colon : end) - p);
	if (hlen == 0 || hlen >= size)
		return gk_error_set(err, GK_E_USAGE, _("%s: no host"), url);
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '-')
			return gk_error_set(err, GK_E_USAGE,
			                    _("%s: a bad host name"), url);
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	*port = 80;
	if (colon != NULL) {
		long v = 0;
		const char *q = colon + 1;

		if (q == end || end - q > 5)
			return gk_error_set(err, GK_E_USAGE,
			                    _("%s: a bad port"), url);
		for (; q < end; q++) {
			if (!isdigit((unsigned char)*q))
				return gk_error_set(err, GK_E_USAGE,
				                    _("%s: a bad port"), url);
			v = v * 10 + (*q - '0');
		}
		if (v < 1 || v > 65535)
			return gk_error_set(err, GK_E_USAGE,
			                    _("%s: a bad port"), url);
		*port = (int)v;
	}
	return GK_OK;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), in ms; 0 if not. */
static int64_t
net_parse_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	int d, y, h, mi, sec, n = 0;
	const char *m;
	struct tm tm;
	time_t t;

	if (s == NULL || strlen(s) != 29 ||
	    sscanf(s + 5, "%2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &h, &mi,
	           &sec, &n) != 6 ||
	    n != 24)
		return 0;
	if ((m = strstr(months, mon)) == NULL || (m - months) % 3 != 0)
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = d;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	return (int64_t)t * 1000;
}

static void net_deliver(evutil_socket_t fd, short what, void *arg);

/* A new connection to n's server with our limits; NULL out of memory. */
static struct evhttp_connection *
net_connection(struct net_conn *n)
{
	struct evhttp_connection *ev;

	ev = evhttp_connection_base_new(n->base, n->dns, n->host,
	                                (unsigned short)n->port);
	if (ev == NULL)
		return NULL;
	evhttp_connection_set_timeout(ev, NET_TIMEOUT_S);
	evhttp_connection_set_retries(ev, 0);
	evhttp_connection_set_max_body_size(ev, NET_MAX_ANSWER);
	evhttp_connection_set_max_headers_size(ev, 16384);
	return ev;
}
static void net_timeout(evutil_socket_t fd, short what, void *arg);

struct net_conn *
net_new(struct event_base *base, const char *server, struct gk_error *err)
{
	struct net_conn *n;
	struct in6_addr ignored6;
	struct in_addr ignored4;

	if ((n = calloc(1, sizeof *n)) == NULL) {
		gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
		return NULL;
	}
	n->base = base;
	if (strlen(server) >= sizeof n->server) {
		gk_error_set(err, GK_E_TOO_LONG, "%s",
		             _("the server's address is too long"));
		goto fail;
	}
	snprintf(n->server, sizeof n->server, "%s", server);
	if (net_url_parse(server, n->host, sizeof n->host, &n->port, err) !=
	    GK_OK)
		goto fail;
	if (evutil_inet_pton(AF_INET, n->host, &ignored4) != 1 &&
	    evutil_inet_pton(AF_INET6, n->host, &ignored6) != 1 &&
	    (n->dns = evdns_base_new(
	         base, EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL) {
		gk_error_set(err, GK_E_IO, _("cannot reach %s: no resolver"),
		             server);
		goto fail;
	}
	n->evcon = net_connection(n);
	n->deliver = event_new(base, -1, 0, net_deliver, n);
	n->deadline = evtimer_new(base, net_timeout, n);
	if (n->evcon == NULL || n->deliver == NULL || n->deadline == NULL) {
		gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
		goto fail;
	}
	return n;
fail:
	net_free(n);
	return NULL;
}

static void
net_reset(struct net_conn *n)
{
	free(n->body);
	n->body = NULL;
	n->body_len = 0;
	n->status = 0;
	n->failed = n->timed_out = n->dns_error = 0;
	n->date_ms = n->retry_after = 0;
	n->req = NULL;
}

void
net_free(struct net_conn *n)
{
	if (n == NULL)
		return;
	/* Freeing the connection frees a request in flight without calling
	 * its callbacks. */
	if (n->evcon != NULL)
		evhttp_connection_free(n->evcon);
	if (n->dns != NULL)
		evdns_base_free(n->dns, 0);
	if (n->deliver != NULL)
		event_free(n->deliver);
	if (n->deadline != NULL)
		event_free(n->deadline);
	net_reset(n);
	free(n);
}

int
net_busy(const struct net_conn *n)
{
	return n != NULL && n->busy;
}

static void
net_error_cb(enum evhttp_request_error e, void *arg)
{
	struct net_conn *n = arg;
	struct bufferevent *bev;

	n->failed = 1;
	n->fail = e;
	if (n->evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(n->evcon)) != NULL)
		n->dns_error = bufferevent_socket_get_dns_error(bev);
}

/* libevent's callback: copy what came and hand over to net_deliver. */
static void
net_done(struct evhttp_request *req, void *arg)
{
	struct net_conn *n = arg;
	struct evbuffer *in;
	const char *v;
	size_t len;

	n->req = NULL;
	if (req != NULL && !n->failed &&
	    (n->status = evhttp_request_get_response_code(req)) > 0) {
		struct evkeyvalq *h = evhttp_request_get_input_headers(req);

		in = evhttp_request_get_input_buffer(req);
		len = evbuffer_get_length(in);
		if (len > NET_MAX_ANSWER) {
			n->status = 0;
			n->failed = 1;
			n->fail = EVREQ_HTTP_DATA_TOO_LONG;
		} else if ((n->body = malloc(len + 1)) != NULL) {
			evbuffer_remove(in, n->body, len);
			n->body[len] = '\0';
			n->body_len = len;
		}
		n->date_ms = net_parse_date(evhttp_find_header(h, "Date"));
		if ((v = evhttp_find_header(h, "Retry-After")) != NULL)
			n->retry_after = strtoll(v, NULL, 10);
		/* An hour at most: a server cannot park a station for ever. */
		if (n->retry_after < 0 || n->retry_after > 3600)
			n->retry_after = n->retry_after < 0 ? 0 : 3600;
	} else {
		n->status = 0;
	}
	event_active(n->deliver, EV_WRITE, 0);
}

static void
net_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *n = arg;

	(void)fd;
	(void)what;
	if (n->req == NULL)
		return; /* the answer is in, about to be delivered */
	/* Drop the connection and its request; report a timeout. */
	evhttp_connection_free(n->evcon);
	n->evcon = net_connection(n);
	n->req = NULL;
	n->timed_out = 1;
	n->status = 0;
	event_active(n->deliver, EV_WRITE, 0);
}

static const char *
net_fail_text(struct net_conn *n)
{
	if (n->timed_out)
		return _("no answer in time");
	if (n->dns_error != 0)
		return _("no such host");
	if (!n->failed)
		return _("the connection failed");
	switch (n->fail) {
	case EVREQ_HTTP_TIMEOUT:
		return _("no answer in time");
	case EVREQ_HTTP_EOF:
		return _("connection refused or closed");
	case EVREQ_HTTP_INVALID_HEADER:
		return _("not an HTTP answer");
	case EVREQ_HTTP_BUFFER_ERROR:
		return _("connection refused or reset");
	case EVREQ_HTTP_DATA_TOO_LONG:
		return _("the answer is too large");
	default:
		return _("the connection failed");
	}
}

/* Parse n->body as a JSON object into ans->json (NULL if it is not one). */
static void
net_parse(struct net_conn *n, struct net_answer *ans)
{
	json_error_t jerr;
	json_t *j;

	ans->json = NULL;
	if (n->body == NULL || n->body_len == 0)
		return;
	j = json_loadb(n->body, n->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return;
	if (!json_is_object(j) ||
	    net_json_depth(j, NET_MAX_DEPTH + 1) > NET_MAX_DEPTH) {
		json_decref(j);
		return;
	}
	ans->json = j;
}

/* The error of a non-200 answer, from its body's code and message. */
static void
net_answer_error(struct net_conn *n, struct net_answer *ans)
{
	json_t *e = json_object_get(ans->json, "error");
	json_t *code = json_object_get(e, "code");
	json_t *msg = json_object_get(e, "message");
	int c = -1;

	if (json_is_string(code))
		c = net_code_by_name(json_string_value(code));
	if (c <= 0)
		c = ans->status == 401 ? GK_E_AUTH : GK_E_IO;
	if (json_is_string(msg) && json_string_length(msg) < 200 &&
	    text_check(json_string_value(msg), json_string_length(msg), 0) ==
	        GK_OK)
		gk_error_set(&ans->err, c, "%s: %s", n->server,
		             json_string_value(msg));
	else
		gk_error_set(&ans->err, c, _("%s answered HTTP %d"), n->server,
		             ans->status);
}

static void
net_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct net_conn *n = arg;
	struct net_answer ans;
	net_cb cb = n->cb;
	void *cbarg = n->arg;

	(void)fd;
	(void)what;
	evtimer_del(n->deadline);
	memset(&ans, 0, sizeof ans);
	ans.status = n->status;
	ans.date_ms = n->date_ms;
	ans.retry_after = n->retry_after;
	if (ans.status == 0) {
		gk_error_set(&ans.err, GK_E_IO, _("cannot reach %s: %s"),
		             n->server, net_fail_text(n));
	} else {
		net_parse(n, &ans);
		if (ans.status != 200)
			net_answer_error(n, &ans);
		else if (ans.json == NULL)
			gk_error_set(&ans.err, GK_E_JSON,
			             _("%s: the answer is not JSON"),
			             n->server);
	}
	n->busy = 0;
	net_reset(n);
	cb(cbarg, &ans);
	json_decref(ans.json);
}

int
net_request(struct net_conn *n, enum net_method method, const char *path,
            const char *token, const char *body, size_t len, net_cb cb,
            void *arg, struct gk_error *err)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct timeval tv = {NET_TIMEOUT_S * 4, 0};
	char hostport[300], auth[160];

	if (n->busy)
		return gk_error_set(err, GK_E_BUSY, "%s",
		                    _("a request is in flight"));
	if (n->evcon == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	net_reset(n);
	if ((req = evhttp_request_new(net_done, n)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	evhttp_request_set_error_cb(req, net_error_cb);
	h = evhttp_request_get_output_headers(req);
	if (n->port == 80)
		snprintf(hostport, sizeof hostport, "%s", n->host);
	else
		snprintf(hostport, sizeof hostport, "%s:%d", n->host, n->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Accept", "application/json");
	evhttp_add_header(h, "User-Agent", "gridkeep/" PACKAGE_VERSION);
	if (token != NULL && token[0] != '\0') {
		snprintf(auth, sizeof auth, "Bearer %s", token);
		evhttp_add_header(h, "Authorization", auth);
		explicit_bzero(auth, sizeof auth);
	}
	if (method == NET_POST) {
		evhttp_add_header(h, "Content-Type", "application/json");
		if (body != NULL && len > 0)
			evbuffer_add(evhttp_request_get_output_buffer(req),
			             body, len);
	}
	n->cb = cb;
	n->arg = arg;
	n->busy = 1;
	n->req = req;
	if (evhttp_make_request(n->evcon, req,
	                        method == NET_POST ? EVHTTP_REQ_POST
	                                           : EVHTTP_REQ_GET,
	                        path) != 0) {
		/* libevent freed the request */
		n->busy = 0;
		n->req = NULL;
		return gk_error_set(err, GK_E_IO, _("cannot reach %s: %s"),
		                    n->server, _("the request failed"));
	}
	evtimer_add(n->deadline, &tv);
	return GK_OK;
}
