/*
 * net.h: the private interface of net.c (HTTP requests to the server on
 * libevent's own client) and the few helpers agent.c and session.c share.
 * Only agent.c, session.c and cmd_sync.c include it; everything else
 * talks to the agent through gridkeep.h.
 *
 * One struct net_conn is one evhttp_connection to one server, and carries
 * one request at a time. A request's answer arrives in its callback on
 * the caller's event_base, never from inside libevent's own stack, so the
 * callback may free the connection or start the next request.
 */
#ifndef GK_NET_H
#define GK_NET_H

#include "gridkeep.h"

struct event_base;
struct net_conn;

#define NET_MAX_ANSWER (16 * 1024 * 1024) /* bytes of one answer body */
#define NET_TIMEOUT_S  30                 /* connect, and each read/write */

enum net_method { NET_GET, NET_POST };

/*
 * What came back. status is the HTTP status, 0 when no answer came (then
 * err is GK_E_IO "cannot reach SERVER: ..."). json is the body parsed as
 * an untrusted JSON object (NULL if it was not one); for a status other
 * than 200, err holds the error body's code (mapped back to enum gk_code,
 * GK_E_IO when unknown) and message. date_ms is the Date header, 0 if
 * absent; retry_after the Retry-After seconds, 0 if absent. All of it is
 * borrowed for the duration of the callback.
 */
struct net_answer {
	int status;
	json_t *json;
	int64_t date_ms;
	int64_t retry_after;
	struct gk_error err;
};

typedef void (*net_cb)(void *arg, const struct net_answer *ans);

/*
 * Parse "http://host[:port][/]" into host and port (80 by default).
 * Only http://; no user info, query or path beyond "/".
 */
int net_url_parse(const char *url, char *host, size_t size, int *port,
                  struct gk_error *err);
/* A connection to server (a base URL); caller owns (net_free). */
struct net_conn *net_new(struct event_base *base, const char *server,
                         struct gk_error *err);
/* Cancel a request in flight (its callback is never called) and free. */
void net_free(struct net_conn *n);
/*
 * Send one request: path is absolute ("/api/v1/sync/pull?..."), token
 * (may be NULL or "") the bearer token, body (POST only, may be NULL) is
 * sent as application/json. GK_E_BUSY if a request is in flight.
 */
int net_request(struct net_conn *n, enum net_method method, const char *path,
                const char *token, const char *body, size_t len, net_cb cb,
                void *arg, struct gk_error *err);
/* 1 while a request is in flight. */
int net_busy(const struct net_conn *n);
/* The code whose stable name is name, or -1. */
int net_code_by_name(const char *name);
/* Depth of a JSON value (a scalar is 1). */
int net_json_depth(json_t *v, int limit);

/* ---- shared by session.c and agent.c ------------------------------------ */

/*
 * The server's database changed (restored from a backup, or replaced):
 * forget the cursor, put every sent and accepted outbox row back to
 * saved (rejected ones stay as they are) and store the new db_id. Inside
 * the caller's transaction.
 */
int session_db_changed_tx(struct gk_client *c, const char *db_id,
                          struct gk_error *err);
/*
 * GRIDKEEP_CLOCK_OFFSET_MS (a testing aid): shift c's wall clock by that
 * many milliseconds, once. Called by session_load.
 */
void session_test_clock(struct gk_client *c);

#endif
