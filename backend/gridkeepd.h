/*
 * gridkeepd.h: the map of backend/, the sync server and its operator
 * commands. One block per .c file, in reading order (see HACKING).
 *
 * Everything the server knows at run time is in one struct gk_server,
 * passed to every function: no global mutable state, so a test can run a
 * server and its replicas in one process. Errors are gk codes with a
 * message in a struct gk_error; gridkeepd.c prints them, once.
 */
#ifndef GK_GRIDKEEPD_H
#define GK_GRIDKEEPD_H

#include <stdint.h>

#include "sync.h"

/* Exit statuses, the same for every command. */
#define GKD_EXIT_OK    0
#define GKD_EXIT_FAIL  1 /* an error, or check found a broken invariant */
#define GKD_EXIT_USAGE 2 /* a bad command line */

/* The database used when neither -d nor $GRIDKEEPD_DB names one. */
#define GKD_DEFAULT_DB "gridkeep.db"

/* ---- config.c: settings from gridkeepd.conf(5), then from flags ------- */

struct gk_config {
	char listen[128];    /* "127.0.0.1:8080"; port 0 picks a free one */
	char log_file[1024]; /* "" = stderr */
	int log_level;       /* enum gk_log_level */
	size_t max_body;     /* bytes of a request body: 1 MiB */
	size_t max_headers;  /* bytes of the request headers: 8 KiB */
	int timeout_s;       /* idle connection timeout: 30 */
	int max_connections; /* open connections before accept pauses: 1000 */
	int max_batch;       /* changes per push: 1000 */
	int pull_page;       /* most changes per pull page: 1000 */
	int64_t token_ttl_s; /* a device token's life: 90 days */
	int hash_threads;    /* Argon2id workers: 2 */
	int hash_queue;      /* logins waiting for a worker before 503: 32 */
	int login_limit;     /* failed logins per account per hour: 100 */
	int64_t max_skew_ms; /* HLC ahead of our clock before clock_skew */
	int checkpoint_ms;   /* WAL checkpoint timer, off the request path */
};

/* Fill c with the defaults above. */
void config_defaults(struct gk_config *c);
/* Read "key = value" lines; unknown keys and bad values are errors. */
int config_load(struct gk_config *c, const char *path, struct gk_error *err);
/* Set one setting by its gridkeepd.conf name (flags use this too). */
int config_set(struct gk_config *c, const char *key, const char *value,
               struct gk_error *err);

/* ---- log.c: one line per request and event, with a level ------------- */

enum gk_log_level { GK_LOG_ERROR, GK_LOG_WARN, GK_LOG_INFO, GK_LOG_DEBUG };

struct gk_log {
	FILE *f;         /* stderr, or the log file */
	char path[1024]; /* "" for stderr */
	int level;
};

/* Open path for appending ("" or NULL: stderr). Never logs secrets. */
int log_open(struct gk_log *l, const char *path, int level,
             struct gk_error *err);
/* SIGHUP: reopen the file (after logrotate moved it). */
int log_reopen(struct gk_log *l);
void log_close(struct gk_log *l);
void log_msg(struct gk_log *l, enum gk_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the server ------------------------------------------------------- */

struct gk_user {
	char id[GK_ID_LEN + 1];
	char username[65];
	enum gk_role role;
	char unit[GK_ID_LEN + 1];  /* the scope: this unit's subtree */
	unsigned char session[32]; /* SHA-256 of the token that was used */
};

struct event_base;
struct evhttp;
struct evhttp_request;
struct gk_hashpool;
struct gk_metrics;
struct gk_stmt_cache;
struct gk_units;

struct gk_server {
	const char *db_path; /* borrowed: -d, $GRIDKEEPD_DB or the default */
	sqlite3 *db;         /* owned; NULL until a command opens it */
	struct gk_env env;   /* the clock and random source */
	struct hlc hlc;      /* stamps the server's own changes */
	uint64_t node;       /* this database's node id (server_meta) */
	char db_id[GK_ID_LEN + 1];
	struct gk_policy policy;

	/* serve only; all owned, NULL otherwise */
	const char *config_path; /* borrowed: -c */
	struct gk_config cfg;
	struct gk_log log;
	struct event_base *base;
	struct evhttp *http;
	struct gk_merge *merge;
	struct gk_hashpool *pool;
	struct gk_metrics *metrics;
	struct gk_stmt_cache *stmts; /* see store_stmt */
	struct gk_units *units;      /* the unit tree, see scope.c */
	int stopping;                /* SIGTERM: finish requests, then exit */
	int inflight;                /* requests not yet answered */
};

/*
 * A command of the table in gridkeepd.c. exec gets the words after the
 * command's name (at most maxargs of them, checked before) and returns
 * GK_OK or a code with err set; any error makes the exit status 1.
 */
struct gkd_command {
	const char *name;
	const char *summary; /* one line for `gridkeepd help` */
	int maxargs;
	int (*exec)(struct gk_server *s, int argc, char **argv,
	            struct gk_error *err);
};

/* ---- gridkeepd.c: main, options, the command table, usage, version ---- */

/* (main only) */

/* ---- operator.c: creating and opening the database; init ------------- */

/*
 * Open s->db_path, creating it if create is set; s->db is closed by
 * operator_close. The file must exist otherwise.
 */
int operator_open(struct gk_server *s, int create, struct gk_error *err);
void operator_close(struct gk_server *s);
/*
 * Create the database or bring it to this binary's schema, and give a new
 * one its database id and node id; load both into s. Prints what it did.
 * Idempotent: a second run keeps the ids.
 */
int operator_create(struct gk_server *s, struct gk_error *err);

int operator_init_exec(struct gk_server *s, int argc, char **argv,
                       struct gk_error *err);
/* ---- check.c: `gridkeepd check` ------------------------------------- */

/* Integrity, schema and the record invariants, each on its own line. */
int operator_check_exec(struct gk_server *s, int argc, char **argv,
                        struct gk_error *err);

/* ---- backup.c: `gridkeepd backup FILE`, online and checked ------------ */

int backup_exec(struct gk_server *s, int argc, char **argv,
                struct gk_error *err);

/* ---- store.c: the server's storage: server_meta and the change log --- */

/* sqlite3_prepare_v2 with err set on failure (*st is then NULL). */
int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st,
                  struct gk_error *err);
/* Step a statement that returns no row; GK_E_DB with err set otherwise. */
int store_step_done(sqlite3 *db, sqlite3_stmt *st, struct gk_error *err);
/*
 * store_meta_get copies server_meta[key] into buf: GK_OK, GK_E_NOT_FOUND,
 * or GK_E_DB / GK_E_TOO_LONG with err set.
 */
int store_meta_get(sqlite3 *db, const char *key, char *buf, size_t size,
                   struct gk_error *err);
int store_meta_put_tx(sqlite3 *db, const char *key, const char *value,
                      struct gk_error *err);
/*
 * The unit a change belongs to, read from the records after the change was
 * applied: a hazard's or inspection's grid, the unit of a depot, volunteer
 * or notice, the depot's unit for stock moves and standards, and so on.
 * GK_E_NOT_FOUND if the row (or what it hangs on) is not there.
 */
int store_change_unit_tx(sqlite3 *db, const struct gk_change *c,
                         char unit[GK_ID_LEN + 1], struct gk_error *err);
/*
 * Append an applied change to the change log, with its canonical JSON and
 * one scope row for unit; *seq (may be NULL) gets its sequence number.
 * received_ms is the server's clock.
 */
int store_log_change_tx(sqlite3 *db, const struct gk_change *c,
                        const char *unit, int64_t received_ms, int64_t *seq,
                        struct gk_error *err);

/*
 * Write a change made on the server itself (operator commands, the demo,
 * resource endpoints): give it an id, the server's node and a fresh HLC,
 * author = actor's user, validate it as a push by actor would be, apply it
 * and log it. Inside the caller's transaction; the caller sets c->table,
 * op, row and fields (owned by the caller still).
 */
int store_write_change_tx(struct gk_server *s, struct gk_merge *m,
                          struct gk_change *c, const struct gk_actor *actor,
                          struct gk_error *err);
/*
 * A prepared statement for sql, cached per server and reset for reuse: the
 * cache is keyed by the sql pointer, so pass a string constant. Caller must
 * not finalize it. NULL with err set on failure. Needs s->stmts, made by
 * store_open_cache (serve and tests).
 */
sqlite3_stmt *store_stmt(struct gk_server *s, const char *sql,
                         struct gk_error *err);
int store_open_cache(struct gk_server *s, struct gk_error *err);
void store_close_cache(struct gk_server *s);

/* ---- server.c: `gridkeepd serve`: the event loop and its limits ------- */

int server_serve_exec(struct gk_server *s, int argc, char **argv,
                      struct gk_error *err);

/* ---- http.c: a request in flight, and its answer ---------------------- */

#define GK_MAX_PATH_ARGS 2

/*
 * One request, from dispatch to its answer. Allocated by routes_dispatch,
 * freed by http_reply_* (which may run later, from a worker's callback:
 * login answers after Argon2id). Every request gets exactly one reply.
 */
struct gk_req {
	struct gk_server *s;
	struct evhttp_request *req;
	const struct gk_route *route;
	char args[GK_MAX_PATH_ARGS]
	         [GK_ID_LEN + 1]; /* the :params of the path */
	int authed;               /* user is valid */
	struct gk_user user;
	json_t *body;     /* a POST's JSON object, owned; NULL otherwise */
	int64_t start_us; /* monotonic, for the latency */
	char peer[64];    /* client address, for throttling and the log */
};

/* Answer with a JSON body (stolen) and free r. */
void http_reply_json(struct gk_req *r, int status, json_t *body);
/* Answer {"error":{"code":..., "message":...}} with code's status. */
void http_reply_error(struct gk_req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The HTTP status of an error code (400 for the validation codes). */
int http_status_of(int code);
/* A query parameter, decoded, copied to buf; NULL if absent or too long. */
const char *http_query(struct gk_req *r, const char *key, char *buf,
                       size_t size);

/* ---- routes.c: the table of endpoints, and the one dispatcher --------- */

struct gk_route {
	int method;          /* EVHTTP_REQ_GET or EVHTTP_REQ_POST */
	const char *pattern; /* "/api/v1/hazards/:id"; :x captures into args */
	const char *name;    /* the label in /metrics */
	size_t max_body;     /* 0: the configured max_body */
	unsigned roles;      /* GK_ROLE_BIT mask; 0: no login needed */
	void (*handler)(struct gk_req *r);
};

/* evhttp's gencb: frame checks, route, body, token and role, then handler. */
void routes_dispatch(struct evhttp_request *req, void *arg);

/* ---- metrics.c: /healthz and /metrics (Prometheus text) --------------- */

struct gk_metrics *metrics_new(void);
void metrics_free(struct gk_metrics *m);
/* One answered request: route name ("unknown" if none), status, latency. */
void metrics_request(struct gk_metrics *m, const char *route, int status,
                     int64_t us);
void metrics_changes(struct gk_metrics *m, int accepted, int duplicate,
                     const int rejected_by_code[GK_CODE_COUNT]);
void metrics_login_failed(struct gk_metrics *m);
void metrics_healthz(struct gk_req *r);
void metrics_scrape(struct gk_req *r);

/* ---- sha256.c: SHA-256, for token hashes ------------------------------ */

void sha256(const void *data, size_t len, unsigned char out[32]);

/* ---- auth.c: passwords, tokens, sessions, throttling ------------------ */

/* Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane); blocking. */
int auth_hash_password(const struct gk_env *env, const char *pw, size_t len,
                       char *out, size_t outlen, struct gk_error *err);
/* 1 on a match, 0 otherwise (a malformed hash is never a match). */
int auth_verify_password(const char *encoded, const char *pw, size_t len);
/*
 * The user behind a bearer token: a session that exists, is not revoked
 * or expired, of an active user. GK_E_AUTH otherwise. Role and scope come
 * from the database on every request, never from the token.
 */
int auth_session(struct gk_server *s, const char *token, struct gk_user *out,
                 struct gk_error *err);

/* ---- hashpool.c: Argon2id off the event loop --------------------------- */

struct gk_hashjob {
	/* in */
	char encoded[128]; /* the stored hash, or the dummy one */
	char password[1025];
	size_t password_len;
	/* out */
	int match;
	/* run on the loop thread when done */
	void (*done)(struct gk_hashjob *job);
	void *arg;
	struct gk_hashjob *next; /* the pool's queue */
};

struct gk_hashpool *hashpool_new(struct event_base *base, int threads,
                                 int queue, struct gk_error *err);
/* Queue a verify; GK_E_BUSY when the queue is full (answer 503). */
int hashpool_submit(struct gk_hashpool *p, struct gk_hashjob *job);
/* Stop the workers after the jobs in hand; pending jobs still get done(). */
void hashpool_free(struct gk_hashpool *p);

/* ---- api-auth.c: login, logout, me, devices ----------------------------- */

void api_auth_login(struct gk_req *r);
void api_auth_logout(struct gk_req *r);
void api_auth_me(struct gk_req *r);
void api_auth_devices(struct gk_req *r);
void api_auth_revoke(struct gk_req *r);

/* ---- users.c: `gridkeepd user ...` and `gridkeepd device ...` --------- */

int users_user_exec(struct gk_server *s, int argc, char **argv,
                    struct gk_error *err);
int users_device_exec(struct gk_server *s, int argc, char **argv,
                      struct gk_error *err);

/* ---- scope.c: the unit tree and who may see which change -------------- */

/* Load (or reload after a unit changed) the unit tree; caller owns. */
int scope_load(struct gk_server *s, struct gk_error *err);
void scope_free(struct gk_server *s);
/* 1 if unit is scope or inside its subtree. */
int scope_contains(struct gk_server *s, const char *scope, const char *unit);

/* ---- api-sync.c: push and pull (see gridkeep-sync(7)) ------------------- */

/*
 * The cores, without HTTP, so tests and the fuzzer call them directly.
 * Each returns GK_OK and a JSON answer (caller owns) or an error code
 * with err set for a refusal of the whole request.
 */
int sync_push(struct gk_server *s, const struct gk_user *u, json_t *body,
              json_t **answer, struct gk_error *err);
/* A pull answers with stored change text spliced in: *out is the whole
 * JSON answer (caller frees), never re-encoded change by change. */
int sync_pull(struct gk_server *s, const struct gk_user *u, const char *cursor,
              int limit, char **out, size_t *len, struct gk_error *err);
void api_sync_push(struct gk_req *r);
void api_sync_pull(struct gk_req *r);

/* ---- demo.c: a demo street, written as real changes ------------------- */

int demo_exec(struct gk_server *s, int argc, char **argv, struct gk_error *err);

#endif
