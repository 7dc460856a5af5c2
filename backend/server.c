/*
 * server.c: `gridkeepd serve`: set up, run and tear down the event loop
 * that answers the HTTP API.
 *
 * One libevent loop runs everything: evhttp, the signals (as evsignal
 * events, so no handler runs outside the loop), the timers, and the
 * answers of the Argon2id pool (hashpool.c), whose workers wake the loop
 * through event_active; hence evthread_use_pthreads() before the base is
 * made. SQLite and evhttp are only touched on the loop thread.
 *
 * Start: settings (defaults < -c file < flags); the database must exist,
 * pass quick_check and have this binary's schema; the HLC starts above
 * every stamp logged recently (see server_hlc_start); then the loop,
 * evhttp and its limits, the listener, and the `listening on ADDR:PORT`
 * line with the real port (tests read it).
 *
 * Limits (HARDENING.md): max body and header sizes, an idle timeout,
 * GET and POST only, lingering close so a client sees its 413. evhttp
 * 2.1 has no connection cap, so server.c keeps one: every 200 ms it
 * counts the sockets this process holds (/proc/self/fd) less those it
 * held before serving; at max_connections the listener is disabled, below
 * it enabled again. A new connection (the bevcb) bumps the count at once
 * so a burst cannot overshoot by much. An accept error (EMFILE) disables
 * the listener for the next tick rather than spinning on it.
 *
 * Stop (SIGTERM, SIGINT): the listening socket is closed, new requests on
 * open connections get 503, requests in flight (a login waiting for its
 * hash) are answered; then the loop ends, at the latest after `timeout`
 * seconds. A second SIGTERM or SIGINT ends the loop at once. Teardown
 * runs in the reverse order of setup: the hash pool first (its last
 * answers still go out), evhttp (closing connections), the timers, the
 * statements, the signal events last (a signal after them is ignored, so
 * a late SIGTERM cannot kill the process before main closes the database
 * cleanly). SIGHUP reopens the log.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "gridkeepd.h"

#define SERVER_TICK_MS 200 /* connection count and accept-pause period */
#define SERVER_STOP_MS 20  /* how often a stopping server looks again */

/* The state of one serve run, reached by every callback. */
struct server_ctx {
	struct gk_server *s;
	struct evhttp_bound_socket *bound; /* NULL once stopping */
	struct evconnlistener *listener;   /* evhttp's; NULL once stopping */
	int listening;                     /* the listener is enabled */
	int base_sockets;                  /* sockets before any client */
	int conns;                         /* open client connections */
	int64_t paused_until_ms;           /* after an accept error */
	int64_t stop_deadline_ms;
	struct event *ev_term, *ev_int, *ev_hup;
	struct event *ev_tick, *ev_checkpoint, *ev_stop;
};

static int64_t
server_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval
server_tv(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return tv;
}

/* The sockets this process holds (-1 if /proc cannot be read). */
static int
server_count_sockets(void)
{
	char path[300], link[64];
	struct dirent *d;
	DIR *dir;
	ssize_t n;
	int count = 0;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%s", d->d_name);
		n = readlink(path, link, sizeof link - 1);
		if (n > 7 && memcmp(link, "socket:", 7) == 0)
			count++;
	}
	closedir(dir);
	return count;
}

/* Enable or disable the listener to match the cap and any pause. */
static void
server_update_listener(struct server_ctx *c)
{
	int want;

	if (c->listener == NULL)
		return;
	want = !c->s->stopping && c->conns < c->s->cfg.max_connections &&
	       server_mono_ms() >= c->paused_until_ms;
	if (want && !c->listening) {
		if (evconnlistener_enable(c->listener) == 0) {
			c->listening = 1;
			log_msg(&c->s->log, GK_LOG_INFO,
			        "accepting again (%d connections)", c->conns);
		}
	} else if (!want && c->listening) {
		if (evconnlistener_disable(c->listener) == 0) {
			c->listening = 0;
			log_msg(&c->s->log, GK_LOG_WARN,
			        "not accepting for now (%d connections, "
			        "max_connections %d)",
			        c->conns, c->s->cfg.max_connections);
		}
	}
}

/* Every SERVER_TICK_MS: recount the connections, adjust the listener. */
static void
server_tick(evutil_socket_t fd, short what, void *arg)
{
	struct server_ctx *c = arg;
	int n = server_count_sockets();

	(void)fd;
	(void)what;
	if (n >= 0) {
		c->conns = n - c->base_sockets;
		if (c->conns < 0)
			c->conns = 0;
	}
	metrics_connections(c->s->metrics, c->conns);
	server_update_listener(c);
}

/*
 * evhttp's bevcb: make the bufferevent of a new connection (the socket is
 * set on it afterwards; TCP_NODELAY comes from the listening socket, which
 * Linux accepted sockets inherit) and count the connection at once.
 */
static struct bufferevent *
server_new_bev(struct event_base *base, void *arg)
{
	struct server_ctx *c = arg;

	c->conns++;
	if (c->conns >= c->s->cfg.max_connections)
		server_update_listener(c);
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* event_base_foreach_event: the server_ctx is the argument of the tick. */
static int
server_find_ctx(const struct event_base *base, const struct event *ev,
                void *arg)
{
	(void)base;
	if (event_get_callback(ev) != server_tick)
		return 0;
	*(struct server_ctx **)arg = event_get_callback_arg(ev);
	return 1;
}

/*
 * An accept error evhttp would retry at once (EMFILE): pause a tick. The
 * listener's callback argument is evhttp's, not ours, so the context is
 * found through the tick event on the loop (no global needed).
 */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct server_ctx *c = NULL;
	int e = EVUTIL_SOCKET_ERROR();

	(void)arg;
	evconnlistener_disable(l);
	event_base_foreach_event(evconnlistener_get_base(l), server_find_ctx,
	                         &c);
	if (c == NULL)
		return; /* no tick yet: cannot happen after server_listen */
	c->listening = 0;
	c->paused_until_ms = server_mono_ms() + SERVER_TICK_MS;
	log_msg(&c->s->log, GK_LOG_WARN, "accept: %s; pausing %d ms",
	        evutil_socket_error_to_string(e), SERVER_TICK_MS);
}

/* The WAL checkpoint, on a timer between requests, never on one. */
static void
server_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct server_ctx *c = arg;
	char *msg = NULL;

	(void)fd;
	(void)what;
	if (sqlite3_exec(c->s->db, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL,
	                 &msg) != SQLITE_OK) {
		log_msg(&c->s->log, GK_LOG_WARN, "wal checkpoint: %s",
		        msg != NULL ? msg : "failed");
		sqlite3_free(msg);
	}
}

/* While stopping: end the loop once nothing is in flight, or at the
 * deadline. */
static void
server_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct server_ctx *c = arg;

	(void)fd;
	(void)what;
	if (c->s->inflight <= 0) {
		event_base_loopexit(c->s->base, NULL);
	} else if (server_mono_ms() >= c->stop_deadline_ms) {
		log_msg(&c->s->log, GK_LOG_WARN,
		        "stopping with %d requests unanswered", c->s->inflight);
		event_base_loopexit(c->s->base, NULL);
	}
}

static void
server_on_stop(evutil_socket_t sig, short what, void *arg)
{
	struct server_ctx *c = arg;
	struct timeval tv = server_tv(SERVER_STOP_MS);

	(void)what;
	if (c->s->stopping) {
		log_msg(&c->s->log, GK_LOG_WARN,
		        "signal %d again: stopping now", (int)sig);
		event_base_loopbreak(c->s->base);
		return;
	}
	c->s->stopping = 1;
	c->stop_deadline_ms =
	    server_mono_ms() + (int64_t)c->s->cfg.timeout_s * 1000;
	log_msg(&c->s->log, GK_LOG_INFO,
	        "signal %d: stopping (%d requests in flight)", (int)sig,
	        c->s->inflight);
	if (c->bound != NULL) {
		evhttp_del_accept_socket(c->s->http, c->bound);
		c->bound = NULL;
		c->listener = NULL;
		c->listening = 0;
	}
	event_add(c->ev_stop, &tv);
	server_stop_check(-1, 0, c);
}

static void
server_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server_ctx *c = arg;

	(void)sig;
	(void)what;
	log_reopen(&c->s->log);
}

/*
 * Start the HLC above every stamp the log holds. A stamp is at most
 * max_skew ahead of the clock that received it, so only the changes of
 * the last max_skew (and a minute more for clock steps) can be ahead of
 * our wall clock now; the latest change is always read.
 */
static int
server_hlc_start(struct gk_server *s, struct gk_error *err)
{
	sqlite3_stmt *st;
	const char *h;
	uint64_t stamp;
	int64_t since = s->env.now_ms(s->env.arg) - s->cfg.max_skew_ms - 60000;
	int rc, n = 0;

	if ((rc = store_prepare(s->db,
	                        "SELECT json_extract(json, '$.hlc'), "
	                        "received_at FROM changes ORDER BY seq DESC",
	                        &st, err)) != GK_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		h = (const char *)sqlite3_column_text(st, 0);
		if (h != NULL && hlc_parse(h, strlen(h), &stamp) == GK_OK &&
		    stamp > s->hlc.last)
			s->hlc.last = stamp;
		if (++n > 1 && sqlite3_column_int64(st, 1) < since)
			break;
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE
	         ? GK_OK
	         : gk_error_set(err, GK_E_DB, "reading the change log: %s",
	                        sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc;
}

/* The database is there, sound, of our schema; its ids are loaded. */
static int
server_open_db(struct gk_server *s, struct gk_error *err)
{
	char node[GK_NODE_LEN + 2], why[GK_ERRMSG_MAX];
	int rc;

	if ((rc = operator_open(s, 0, err)) != GK_OK) {
		if (rc == GK_E_NOT_FOUND)
			gk_error_set(
			    err, rc,
			    "no database at %s: run gridkeepd init first",
			    s->db_path);
		return rc;
	}
	if ((rc = db_check(s->db, 0, err)) != GK_OK) {
		snprintf(why, sizeof why, "%s", err->msg);
		return gk_error_set(err, rc, "%s: %s; not serving", s->db_path,
		                    why);
	}
	if (schema_version(s->db, "records") > schema_latest("records") ||
	    schema_version(s->db, "server") > schema_latest("server"))
		return gk_error_set(err, GK_E_SCHEMA_NEWER,
		                    "%s has a newer schema than this gridkeepd",
		                    s->db_path);
	if (schema_version(s->db, "records") != schema_latest("records") ||
	    schema_version(s->db, "server") != schema_latest("server"))
		return gk_error_set(
		    err, GK_E_USAGE,
		    "%s has an older schema: run gridkeepd init "
		    "first",
		    s->db_path);
	if ((rc = store_meta_get(s->db, "db_id", s->db_id, sizeof s->db_id,
	                         err)) != GK_OK ||
	    (rc = store_meta_get(s->db, "node", node, sizeof node, err)) !=
	        GK_OK) {
		snprintf(why, sizeof why, "%s", err->msg);
		return gk_error_set(err, rc, "%s: %s (run gridkeepd init)",
		                    s->db_path, why);
	}
	if (!uuid_valid(s->db_id, strlen(s->db_id)) ||
	    node_parse(node, strlen(node), &s->node) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT,
		                    "%s: server_meta holds a bad id",
		                    s->db_path);
	return server_hlc_start(s, err);
}

/* Split "host:port" ("[v6]:port" too); port 0 picks a free one. */
static int
server_parse_listen(const char *text, char *host, size_t size,
                    ev_uint16_t *port, struct gk_error *err)
{
	const char *colon = strrchr(text, ':');
	const char *h = text;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL || colon == text)
		goto bad;
	hlen = (size_t)(colon - text);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= size)
		goto bad;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (ev_uint16_t)p;
	return GK_OK;
bad:
	return gk_error_set(err, GK_E_USAGE,
	                    "listen must be ADDRESS:PORT, not %.64s", text);
}

/* Bind, set TCP_NODELAY for accepted sockets, and log the real address. */
static int
server_listen(struct server_ctx *c, struct gk_error *err)
{
	struct gk_server *s = c->s;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char host[128], addr[INET6_ADDRSTRLEN];
	ev_uint16_t port = 0;
	evutil_socket_t fd;
	int rc, one = 1, real_port = 0;

	if ((rc = server_parse_listen(s->cfg.listen, host, sizeof host, &port,
	                              err)) != GK_OK)
		return rc;
	if ((c->bound = evhttp_bind_socket_with_handle(s->http, host, port)) ==
	    NULL)
		return gk_error_set(err, GK_E_IO, "cannot listen on %s: %s",
		                    s->cfg.listen, strerror(errno));
	fd = evhttp_bound_socket_get_fd(c->bound);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		log_msg(&s->log, GK_LOG_WARN, "TCP_NODELAY: %s",
		        strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return gk_error_set(err, GK_E_IO, "getsockname: %s",
		                    strerror(errno));
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof addr);
		real_port = ntohs(sin->sin_port);
		log_msg(&s->log, GK_LOG_INFO, "listening on %s:%d", addr,
		        real_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof addr);
		real_port = ntohs(sin6->sin6_port);
		log_msg(&s->log, GK_LOG_INFO, "listening on [%s]:%d", addr,
		        real_port);
	}
	c->listener = evhttp_bound_socket_get_listener(c->bound);
	c->listening = 1;
	evconnlistener_set_error_cb(c->listener, server_accept_error);
	return GK_OK;
}

/* -c and -l, given as getopt sees them after "serve". */
static int
server_options(struct gk_server *s, int argc, char **argv, const char **listen,
               struct gk_error *err)
{
	char *av[16];
	int ch, ac = 0;

	if (argc > 14)
		return gk_error_set(err, GK_E_USAGE,
		                    "serve: too many arguments");
	av[ac++] = "serve";
	for (int i = 0; i < argc; i++)
		av[ac++] = argv[i];
	av[ac] = NULL;
	optind = 0; /* glibc: start over, the global options were parsed */
	opterr = 0;
	while ((ch = getopt(ac, av, "+c:l:")) != -1) {
		switch (ch) {
		case 'c':
			s->config_path = optarg;
			break;
		case 'l':
			*listen = optarg;
			break;
		default:
			return gk_error_set(err, GK_E_USAGE,
			                    "serve: usage: serve [-c file] "
			                    "[-l address:port]");
		}
	}
	if (optind != ac)
		return gk_error_set(err, GK_E_USAGE,
		                    "serve: unexpected argument %.64s",
		                    av[optind]);
	return GK_OK;
}

/* Make an event, or say why not. */
static int
server_event(struct server_ctx *c, struct event **ev, evutil_socket_t fd,
             short what, event_callback_fn cb, int period_ms,
             struct gk_error *err)
{
	struct timeval tv = server_tv(period_ms);

	if ((*ev = event_new(c->s->base, fd, what, cb, c)) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "cannot make an event");
	if (period_ms < 0)
		return GK_OK;
	if (event_add(*ev, period_ms > 0 ? &tv : NULL) != 0)
		return gk_error_set(err, GK_E_NOMEM, "cannot add an event");
	return GK_OK;
}

/* Free what server_serve_exec made, in the reverse order; the database
 * itself is closed by main (operator_close). */
static void
server_teardown(struct server_ctx *c)
{
	struct gk_server *s = c->s;

	if (s->pool != NULL) {
		hashpool_free(s->pool); /* its last answers go out now */
		s->pool = NULL;
		if (s->base != NULL)
			event_base_loop(s->base, EVLOOP_NONBLOCK);
	}
	if (s->http != NULL)
		evhttp_free(s->http);
	s->http = NULL;
	if (c->ev_tick != NULL)
		event_free(c->ev_tick);
	if (c->ev_checkpoint != NULL)
		event_free(c->ev_checkpoint);
	if (c->ev_stop != NULL)
		event_free(c->ev_stop);
	if (s->units != NULL)
		scope_free(s);
	if (s->merge != NULL)
		merge_free(s->merge);
	s->merge = NULL;
	store_close_cache(s);
	metrics_free(s->metrics);
	s->metrics = NULL;
	/*
	 * The signal events go last: until then a second SIGTERM is theirs.
	 * Once they are gone we are all but done: ignore it rather than die
	 * of it before main closes the database.
	 */
	if (c->ev_hup != NULL)
		event_free(c->ev_hup);
	if (c->ev_term != NULL)
		event_free(c->ev_term);
	if (c->ev_int != NULL)
		event_free(c->ev_int);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (s->base != NULL)
		event_base_free(s->base);
	s->base = NULL;
	if (s->db != NULL && sqlite3_next_stmt(s->db, NULL) != NULL)
		log_msg(&s->log, GK_LOG_WARN,
		        "a statement was left open at exit");
}

int
server_serve_exec(struct gk_server *s, int argc, char **argv,
                  struct gk_error *err)
{
	struct server_ctx c;
	const char *listen = NULL;
	int rc;

	memset(&c, 0, sizeof c);
	c.s = s;
	config_defaults(&s->cfg);
	if ((rc = server_options(s, argc, argv, &listen, err)) != GK_OK)
		return rc;
	if (s->config_path != NULL &&
	    (rc = config_load(&s->cfg, s->config_path, err)) != GK_OK)
		return rc;
	if (listen != NULL &&
	    (rc = config_set(&s->cfg, "listen", listen, err)) != GK_OK)
		return rc;
	if ((rc = log_open(&s->log, s->cfg.log_file, s->cfg.log_level, err)) !=
	    GK_OK)
		return rc;

	if ((rc = server_open_db(s, err)) != GK_OK ||
	    (rc = store_open_cache(s, err)) != GK_OK)
		goto out;
	if ((s->merge = merge_new(s->db, err)) == NULL ||
	    (s->metrics = metrics_new()) == NULL) {
		rc = s->merge == NULL
		         ? err->code
		         : gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = scope_load(s, err)) != GK_OK)
		goto out;

	signal(SIGPIPE, SIG_IGN);
	/*
	 * Big blocks (Argon2id's 19 MiB, 1 MiB push bodies) always from mmap,
	 * so free returns them: glibc would otherwise raise its threshold
	 * after the first one and keep every hash thread's 19 MiB for good.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (evthread_use_pthreads() != 0 ||
	    (s->base = event_base_new()) == NULL) {
		rc =
		    gk_error_set(err, GK_E_NOMEM, "cannot make the event loop");
		goto out;
	}
	if ((s->pool = hashpool_new(s->base, s->cfg.hash_threads,
	                            s->cfg.hash_queue, err)) == NULL) {
		rc = err->code != GK_OK ? err->code : GK_E_NOMEM;
		goto out;
	}
	if ((s->http = evhttp_new(s->base)) == NULL) {
		rc = gk_error_set(err, GK_E_NOMEM, "cannot make the server");
		goto out;
	}
	evhttp_set_max_body_size(s->http, (ev_ssize_t)s->cfg.max_body);
	evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->cfg.max_headers);
	evhttp_set_timeout(s->http, s->cfg.timeout_s);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_default_content_type(s->http, "application/json");
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(s->http, routes_dispatch, s);
	evhttp_set_bevcb(s->http, server_new_bev, &c);

	if ((rc = server_event(&c, &c.ev_term, SIGTERM, EV_SIGNAL | EV_PERSIST,
	                       server_on_stop, 0, err)) != GK_OK ||
	    (rc = server_event(&c, &c.ev_int, SIGINT, EV_SIGNAL | EV_PERSIST,
	                       server_on_stop, 0, err)) != GK_OK ||
	    (rc = server_event(&c, &c.ev_hup, SIGHUP, EV_SIGNAL | EV_PERSIST,
	                       server_on_hup, 0, err)) != GK_OK ||
	    (rc = server_event(&c, &c.ev_stop, -1, EV_PERSIST,
	                       server_stop_check, -1, err)) != GK_OK ||
	    (rc = server_event(&c, &c.ev_checkpoint, -1, EV_PERSIST,
	                       server_checkpoint, s->cfg.checkpoint_ms, err)) !=
	        GK_OK)
		goto out;
	{
		char node[GK_NODE_LEN + 1], hlc[GK_HLC_LEN + 1];
		node_format(s->node, node);
		hlc_format(s->hlc.last, hlc);
		log_msg(&s->log, GK_LOG_INFO,
		        "serving %s: database id %s, node %s, last stamp %s",
		        s->db_path, s->db_id, node, hlc);
	}
	if ((rc = server_listen(&c, err)) != GK_OK)
		goto out;
	/* Every socket held now is ours, not a client's. */
	c.base_sockets = server_count_sockets();
	if ((rc = server_event(&c, &c.ev_tick, -1, EV_PERSIST, server_tick,
	                       SERVER_TICK_MS, err)) != GK_OK)
		goto out;

	if (event_base_dispatch(s->base) != 0) {
		rc = gk_error_set(err, GK_E_IO, "the event loop failed");
		goto out;
	}
	log_msg(&s->log, GK_LOG_INFO, "stopped");
	rc = GK_OK;
out:
	if (rc != GK_OK && s->log.f != NULL && s->log.f != stderr)
		log_msg(&s->log, GK_LOG_ERROR, "%s", err->msg);
	server_teardown(&c);
	log_close(&s->log);
	return rc;
}
