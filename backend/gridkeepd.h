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

/*
 * Open an existing database at this binary's schema for a command that
 * writes changes: ids, node, the statement cache and a clock past every
 * stamp already logged. operator_close_ready closes the cache.
 */
int operator_open_ready(struct gk_server *s, struct gk_error *err);
void operator_close_ready(struct gk_server *s);
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
 * its scope rows: one per unit whose users may read it, reckoned from the
 * record's unit (see store.c); *seq (may be NULL) gets its sequence number.
 * received_ms is the server's clock. Uses s->stmts when it is open.
 */
int store_log_change_tx(struct gk_server *s, const struct gk_change *c,
                        const char *unit, int64_t received_ms, int64_t *seq,
                        struct gk_error *err);
/*
 * Write the scope rows of logged change seq (store_log_change_tx does);
 * *added (may be NULL) grows by the rows that were missing. check uses it.
 */
int store_scope_change_tx(struct gk_server *s, const struct gk_change *c,
                          const char *unit, int64_t seq, int *added,
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

/* serve [-c file] [-l address:port]: runs until SIGTERM or SIGINT. */
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
/* Answer with len bytes of text already encoded (borrowed) and free r;
 * Content-Type is application/json unless the handler set one. */
void http_reply_raw(struct gk_req *r, int status, const char *body, size_t len);
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
/* The number of open client connections (server.c counts them). */
void metrics_connections(struct gk_metrics *m, int open);
void metrics_healthz(struct gk_req *r);
void metrics_scrape(struct gk_req *r);

/* ---- sha256.c: SHA-256, for token hashes ------------------------------ */

void sha256(const void *data, size_t len, unsigned char out[32]);

/* ---- auth.c: passwords, tokens, sessions, throttling ------------------ */

#define AUTH_PASSWORD_MAX 1024 /* bytes; longer passwords are refused */
#define AUTH_HASH_MAX     128  /* an encoded Argon2id hash and its NUL */
#define AUTH_TOKEN_LEN    43   /* 32 random bytes in base64url */
#define AUTH_DEVICE_MAX   64   /* bytes of a device name */

/* Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane); blocking. */
int auth_hash_password(const struct gk_env *env, const char *pw, size_t len,
                       char *out, size_t outlen, struct gk_error *err);
/* The same with a given 16-byte salt (a hash pool worker's rehash). */
int auth_hash_salted(const unsigned char salt[16], const char *pw, size_t len,
                     char *out, size_t outlen);
/* 1 on a match, 0 otherwise (a malformed hash is never a match). */
int auth_verify_password(const char *encoded, const char *pw, size_t len);
/* 1 if an encoded hash is not Argon2id or costs less than the policy. */
int auth_needs_rehash(const char *encoded);
/*
 * base64url without padding; out gets the text and a NUL. Returns its
 * length, or 0 if size is too small.
 */
size_t auth_b64url(const void *data, size_t len, char *out, size_t size);
/* A new bearer token, and the SHA-256 of its text that the server keeps. */
void auth_token_new(const struct gk_env *env, char token[AUTH_TOKEN_LEN + 1],
                    unsigned char hash[32]);
/*
 * The user behind a bearer token: a session that exists, is not revoked
 * or expired, of an active user. GK_E_AUTH otherwise. Role and scope come
 * from the database on every request, never from the token.
 */
int auth_session(struct gk_server *s, const char *token, struct gk_user *out,
                 struct gk_error *err);

/*
 * Login throttling, per account ("user:NAME") and per client address
 * ("addr:IP"), kept in login_failures. auth_throttle_check is called
 * before any Argon2id: GK_E_THROTTLED with *retry_s (seconds, >= 1) while
 * either key is locked. auth_throttle_fail counts a failure on both keys,
 * auth_throttle_reset clears the account's after a good login.
 */
struct auth_failures {
	int64_t failures;     /* in the current window */
	int64_t window_start; /* ms; a window lasts an hour */
	int64_t locked_until; /* ms; 0 = not locked */
};
#define AUTH_LOCK_AFTER_USER 5  /* failures before an account's first lock */
#define AUTH_LOCK_AFTER_ADDR 20 /* the same for an address (shared NAT) */
#define AUTH_LOCK_BASE_MS    15000
#define AUTH_LOCK_MAX_MS     (15 * 60 * 1000)
/* The state after one more failure at now_ms (pure, for tests). */
void auth_failures_next(struct auth_failures *f, int64_t now_ms, int lock_after,
                        int hourly_limit);
int auth_throttle_check(struct gk_server *s, const char *username,
                        const char *peer, int64_t *retry_s,
                        struct gk_error *err);
int auth_throttle_fail(struct gk_server *s, const char *username,
                       const char *peer, struct gk_error *err);
int auth_throttle_reset(struct gk_server *s, const char *username,
                        struct gk_error *err);

/* ---- store-auth.c: the SQL of users, credentials, sessions, failures -- */

/* A user record as accounts see it. */
struct gk_userinfo {
	struct gk_user u; /* id, username, role, unit (session unset) */
	char display_name[101];
	int active;  /* users.active (NULL counts as active) */
	int deleted; /* users.deleted */
};

/* One sessions row. */
struct gk_session {
	unsigned char token_hash[32];
	char user_id[GK_ID_LEN + 1];
	char device[AUTH_DEVICE_MAX + 1];
	int64_t created_at, last_used_at, expires_at; /* ms */
	int64_t revoked_at;                           /* ms; 0 if not */
};

/* Each is GK_OK, GK_E_NOT_FOUND, or GK_E_DB with err set. They use
 * store_stmt, so s->stmts must be open (store_open_cache). */
int store_auth_user_by_name(struct gk_server *s, const char *username,
                            struct gk_userinfo *out, struct gk_error *err);
int store_auth_user_by_id(struct gk_server *s, const char *id,
                          struct gk_userinfo *out, struct gk_error *err);
/* Every user not deleted, by username; cb's non-zero return stops. */
int store_auth_users(struct gk_server *s,
                     int (*cb)(void *arg, const struct gk_userinfo *u,
                               int has_password, int sessions),
                     void *arg, struct gk_error *err);
/* A unit (not deleted) by its id or else by its code. */
int store_auth_unit_find(struct gk_server *s, const char *id_or_code,
                         char unit[GK_ID_LEN + 1], struct gk_error *err);
int store_auth_credentials_get(struct gk_server *s, const char *user_id,
                               char hash[AUTH_HASH_MAX], struct gk_error *err);
int store_auth_credentials_put_tx(struct gk_server *s, const char *user_id,
                                  const char *hash, struct gk_error *err);
int store_auth_session_get(struct gk_server *s, const unsigned char hash[32],
                           struct gk_session *out, struct gk_error *err);
int store_auth_session_put_tx(struct gk_server *s, const struct gk_session *ses,
                              struct gk_error *err);
int store_auth_session_touch(struct gk_server *s, const unsigned char hash[32],
                             int64_t now_ms, struct gk_error *err);
int store_auth_session_revoke(struct gk_server *s, const unsigned char hash[32],
                              int64_t now_ms, struct gk_error *err);
/* Revoke a user's sessions whose token hash starts with prefix (8 bytes);
 * GK_E_NOT_FOUND if none. */
int store_auth_device_revoke(struct gk_server *s, const char *user_id,
                             const unsigned char prefix[8], int64_t now_ms,
                             struct gk_error *err);
/* Revoke every session of a user (disabled). */
int store_auth_sessions_revoke_all_tx(struct gk_server *s, const char *user_id,
                                      int64_t now_ms, struct gk_error *err);
/* A user's sessions, newest first; cb's non-zero return stops. */
int store_auth_sessions(struct gk_server *s, const char *user_id,
                        int (*cb)(void *arg, const struct gk_session *ses),
                        void *arg, struct gk_error *err);
int store_auth_failures_get(struct gk_server *s, const char *key,
                            struct auth_failures *f, struct gk_error *err);
int store_auth_failures_put_tx(struct gk_server *s, const char *key,
                               const struct auth_failures *f,
                               struct gk_error *err);
int store_auth_failures_clear(struct gk_server *s, const char *key,
                              struct gk_error *err);
/* The greatest HLC of the latest logged changes (0 if none): the
 * operator's commands start their clock there, so their changes sort after
 * what came before even if the wall clock stepped back. */
int store_auth_recent_hlc(struct gk_server *s, uint64_t *out,
                          struct gk_error *err);

/* ---- hashpool.c: Argon2id off the event loop --------------------------- */

/*
 * A verify job. The caller owns it (embeds it in its own struct, reached
 * by arg) and frees it in done(), which runs on the loop thread exactly
 * once per submitted job, also when the pool is freed first (ran = 0).
 * The password is zeroed by the pool before done() runs.
 */
struct gk_hashjob {
	/* in */
	char encoded[AUTH_HASH_MAX]; /* the stored hash, or the dummy one */
	char password[AUTH_PASSWORD_MAX + 1];
	size_t password_len;
	int rehash;             /* on a match, also hash with salt */
	unsigned char salt[16]; /* for rehash */
	/* out */
	int match;
	int ran;                      /* 0: the pool stopped before it ran */
	char rehashed[AUTH_HASH_MAX]; /* the new hash, "" if none */
	/* run on the loop thread when done */
	void (*done)(struct gk_hashjob *job);
	void *arg;
	struct gk_hashjob *next; /* the pool's queue */
};

struct gk_hashpool *hashpool_new(struct event_base *base, int threads,
                                 int queue, struct gk_error *err);
/* Queue a verify; GK_E_BUSY when the queue is full (answer 503). */
int hashpool_submit(struct gk_hashpool *p, struct gk_hashjob *job);
/* A fixed Argon2id hash made at start, that unknown users are verified
 * against so they take as long as known ones. */
const char *hashpool_dummy(const struct gk_hashpool *p);
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
/*
 * Add a user (a change on the users records, as the admin) with a
 * password, in the caller's transaction; id gets the new user's id.
 * GK_E_EXISTS if the username is taken. s->db, node and stmts are open.
 */
int users_add_tx(struct gk_server *s, const char *username, enum gk_role role,
                 const char *unit, const char *display_name,
                 const char *password, char id[GK_ID_LEN + 1],
                 struct gk_error *err);
/*
 * Read a new password from the terminal (echo off, asked twice) or, when
 * standard input is not one, as one line of it; never from the command
 * line. buf holds AUTH_PASSWORD_MAX + 3 bytes; zero it after use.
 */
int users_read_password(char *buf, size_t *len, struct gk_error *err);
/* Set (or replace) a user's password, in the caller's transaction. */
int users_set_password_tx(struct gk_server *s, const char *user_id,
                          const char *password, struct gk_error *err);

/* ---- units.c: `gridkeepd unit add | import | list` --------------------- */

int units_unit_exec(struct gk_server *s, int argc, char **argv,
                    struct gk_error *err);
/*
 * Add a unit as the admin, in the caller's transaction; parent may be NULL
 * (a district), code and households may be NULL / -1. id gets its id.
 */
int units_add_tx(struct gk_server *s, const char *name, const char *level,
                 const char *parent, const char *code, long households,
                 char id[GK_ID_LEN + 1], struct gk_error *err);

/* ---- scope.c: the unit tree and who may see which change -------------- */

/* Load (or reload after a unit changed) the unit tree; caller owns. */
int scope_load(struct gk_server *s, struct gk_error *err);
void scope_free(struct gk_server *s);
/* 1 if unit is scope or inside its subtree. */
int scope_contains(struct gk_server *s, const char *scope, const char *unit);
/* Load the tree if there is none, or reload it if another connection
 * committed since (an operator command beside the server). */
int scope_refresh(struct gk_server *s, struct gk_error *err);

/* ---- store-sync.c: the SQL of push and pull --------------------------- */

/* Where a change's record belongs, found before it is applied. */
struct store_sync_unit {
	char unit[GK_ID_LEN + 1];     /* the record's unit: its scope rows */
	char check[GK_ID_LEN + 1];    /* must lie inside the pusher's scope */
	char moved_to[GK_ID_LEN + 1]; /* users only: a move's new unit */
	char ref_table[32];           /* what a refusal names: table, id */
	char ref_id[GK_ID_LEN + 1];
	int anywhere; /* the catalogue: no unit, any scope */
};
struct store_sync_page {
	int n, more;  /* items written; 1 if the page was full */
	int64_t last; /* seq of the last item, or the one it started after */
};
/* 1 if change_id is in the log, 0 if not, -1 with err set. */
int store_sync_known(struct gk_server *s, const char *change_id,
                     struct gk_error *err);
/*
 * The unit of c's record: for a mutable row that exists, as it is now (a
 * change of its unit field is GK_E_INCONSISTENT, except for users); else
 * from its fields or the row they name. GK_E_NOT_FOUND (the words of
 * store_sync_not_found) if that is missing. author_unit: notice acks.
 */
int store_sync_unit_tx(struct gk_server *s, const struct gk_change *c,
                       const char *author_unit, struct store_sync_unit *out,
                       struct gk_error *err);
/* GK_E_NOT_FOUND, "table id not found": missing and out of scope alike. */
int store_sync_not_found(struct gk_error *err, const char *table,
                         const char *id);
/* The pull and drop queries (exported for EXPLAIN in tests). */
extern const char store_sync_pull_sql[];
extern const char store_sync_drop_sql[];
/* Write up to limit stored change texts of scope after seq, comma-separated. */
int store_sync_changes(struct gk_server *s, const char *scope, int64_t after,
                       int limit, FILE *out, struct store_sync_page *pg,
                       struct gk_error *err);
/* The secret that signs pull cursors (server_meta cursor_key), made by the
 * first call in its own transaction: never call it inside one. */
int store_sync_cursor_key(struct gk_server *s, unsigned char key[32],
                          struct gk_error *err);
/* Write up to limit {"table","row"} a client of new_scope must drop. */
int store_sync_drops(struct gk_server *s, const char *old_scope,
                     const char *new_scope, int64_t after, int64_t upto,
                     int limit, FILE *out, struct store_sync_page *pg,
                     struct gk_error *err);

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
