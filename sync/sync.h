/*
 * sync.h: the shared core of gridkeep, used by gridkeepd and gridkeep alike.
 *
 * The same C code decides on both ends what a change means, so a replica and
 * the server can never disagree. This header is the map of sync/: one block
 * per file, in the order a newcomer should read them (see HACKING).
 *
 * Ownership, once for all: a function that returns a pointer or fills a
 * struct says "caller owns" when the caller must free it with the matching
 * matching _free or _clear function. Strings passed in are borrowed, never
 * kept. Errors are return codes (enum gk_code); where a message helps, it is
 * written into a struct gk_error the caller provides. Nothing here logs.
 *
 * Nothing in sync/ reads the clock or the random source directly: both come
 * in a struct gk_env, so a test can run every replica deterministically.
 */
#ifndef GK_SYNC_H
#define GK_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

/* ---- error.c: stable error codes and their names ---------------------- */

/*
 * Every code has a stable lowercase name (gk_code_name) that crosses the
 * wire and appears in tests; never renumber or rename one, only add.
 */
enum gk_code {
	GK_OK = 0,
	GK_E_NOMEM,         /* "no_memory" */
	GK_E_JSON,          /* "bad_json": not parseable, or not an object */
	GK_E_DEPTH,         /* "too_deep": nesting over GK_MAX_DEPTH */
	GK_E_TYPE,          /* "bad_type": a value of the wrong JSON type */
	GK_E_UNKNOWN_TABLE, /* "unknown_table" */
	GK_E_UNKNOWN_FIELD, /* "unknown_field": also a server-owned field */
	GK_E_TOO_LONG,      /* "too_long": text or array over its limit */
	GK_E_UTF8,          /* "bad_utf8" */
	GK_E_CONTROL,       /* "control_char": C0, DEL or C1 in text */
	GK_E_MISSING,       /* "missing_field" */
	GK_E_RANGE,         /* "out_of_range": a number outside its range */
	GK_E_ENUM,          /* "bad_value": not one of the allowed words */
	GK_E_ID,            /* "bad_id": not a canonical lowercase UUID */
	GK_E_HLC,           /* "bad_hlc": not a 16-digit hex HLC */
	GK_E_NODE,          /* "bad_node": not a 16-digit hex node id */
	GK_E_TIME,          /* "bad_time": not YYYY-MM-DDTHH:MM:SSZ / a date */
	GK_E_OP,            /* "bad_op": op unknown or wrong for the table */
	GK_E_SIGN,          /* "wrong_sign": ledger entry with the wrong sign */
	GK_E_TRANSITION,    /* "bad_transition": a transition never allowed */
	GK_E_ROLE,          /* "forbidden_role": the role may not do this */
	GK_E_PLAN_REQUIRED, /* "plan_required": risk 1-2 needs 一点一案 */
	GK_E_TRANSFER,      /* "transfer_mismatch": pair does not match */
	GK_E_DUPLICATE_EARN, /* "duplicate_earn": second earn for activity */
	GK_E_INCONSISTENT,   /* "inconsistent": fields contradict each other */
	GK_E_SKEW,           /* "clock_skew": HLC too far ahead of us */
	GK_E_DB,             /* "db_error" */
	GK_E_SCHEMA_NEWER,   /* "schema_newer": database newer than binary */
	GK_E_CORRUPT,        /* "corrupt": integrity check failed */
	GK_E_IO,             /* "io_error" */
	GK_E_USAGE,          /* "usage" */
	GK_E_NOT_FOUND,      /* "not_found" */
	GK_E_AUTH,           /* "unauthorized": no valid token */
	GK_E_CREDENTIALS,    /* "bad_credentials": wrong user or password */
	GK_E_THROTTLED,      /* "too_many_attempts": login throttled */
	GK_E_BUSY,           /* "busy": overloaded, retry later */
	GK_E_DB_CHANGED,     /* "db_changed": cursor of another database */
	GK_E_METHOD,         /* "method_not_allowed" */
	GK_E_TOO_LARGE,      /* "too_large": body over its limit */
	GK_E_BATCH,          /* "too_many_changes": push batch over limit */
	GK_E_REQUEST,        /* "bad_request": framing, query or path */
	GK_E_CURSOR,         /* "bad_cursor": not a cursor we issued */
	GK_E_EXISTS,         /* "exists": a unique name already taken */
	GK_CODE_COUNT
};

#define GK_ERRMSG_MAX 256

struct gk_error {
	int code;
	char msg[GK_ERRMSG_MAX];
};

/* The stable name of a code ("bad_type"); "unknown" for a bad code. */
const char *gk_code_name(int code);
/* Set err (if not NULL) to code and a printf-style message; returns code. */
int gk_error_set(struct gk_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- env.c: the clock and the random source, as parameters ------------- */

struct gk_env {
	/* Wall clock in milliseconds since the Unix epoch (UTC). */
	int64_t (*now_ms)(void *arg);
	/* Fill buf with len unpredictable bytes; never fails. */
	void (*random)(void *arg, void *buf, size_t len);
	void *arg;
};

/* The real clock (CLOCK_REALTIME) and getrandom(2). */
extern const struct gk_env gk_env_system;

/* A deterministic env for tests: a settable clock and a seeded PRNG. */
struct gk_testenv {
	int64_t now;    /* returned by now_ms; advance it yourself */
	uint64_t state; /* xorshift state, seeded by gk_testenv_init */
};
void gk_testenv_init(struct gk_testenv *t, uint64_t seed, int64_t now);
struct gk_env gk_testenv_env(struct gk_testenv *t);
/* A uniform number in [0, n), from the same PRNG; n > 0. */
uint64_t gk_testenv_below(struct gk_testenv *t, uint64_t n);

/* ---- uuid.c: UUIDv7 record and change ids ------------------------------ */

#define GK_ID_LEN 36 /* "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" */

/* Write a new UUIDv7 (time-ordered) in canonical lowercase text + NUL. */
void uuid_v7(const struct gk_env *env, char out[GK_ID_LEN + 1]);
/* 1 if s[0..len) is a canonical lowercase UUID (any version), else 0. */
int uuid_valid(const char *s, size_t len);

/* ---- hlc.c: hybrid logical clock --------------------------------------- */

/*
 * An HLC stamp is 64 bits: 48 bits of milliseconds since the epoch and a
 * 16-bit counter. Its text form is 16 lowercase hex digits, so text order
 * is time order. A node id is 64 random bits, also 16 hex digits. Changes
 * are ordered by (hlc, node).
 */
#define GK_HLC_LEN  16
#define GK_NODE_LEN 16

struct hlc {
	uint64_t last; /* the greatest stamp issued or seen */
};

/* A stamp greater than every stamp issued or seen, even if wall stepped back.
 */
uint64_t hlc_now(struct hlc *h, int64_t wall_ms);
/*
 * Take in a stamp from elsewhere so later local stamps sort after it.
 * Refuses (GK_E_SKEW, clock untouched) a stamp more than max_skew_ms ahead
 * of wall_ms; max_skew_ms < 0 disables the check. A stamp with the top
 * bit set is GK_E_HLC.
 */
int hlc_recv(struct hlc *h, uint64_t remote, int64_t wall_ms,
             int64_t max_skew_ms);
/* The milliseconds part of a stamp. */
int64_t hlc_ms(uint64_t stamp);
void hlc_format(uint64_t stamp, char out[GK_HLC_LEN + 1]);
/* Parse exactly 16 lowercase hex digits; GK_E_HLC otherwise. */
int hlc_parse(const char *s, size_t len, uint64_t *out);
/* Node ids share the text form of stamps. */
void node_format(uint64_t node, char out[GK_NODE_LEN + 1]);
int node_parse(const char *s, size_t len, uint64_t *out);
uint64_t node_new(const struct gk_env *env);

/* ---- text.c: UTF-8 and time checks -------------------------------------- */

/* GK_OK, GK_E_UTF8 (malformed, overlong, surrogate) or GK_E_CONTROL. */
int text_check(const char *s, size_t len, int allow_newline);
/* "YYYY-MM-DDTHH:MM:SSZ" (optionally with .sss) as a real UTC time. */
int text_time_parse(const char *s, size_t len, int64_t *ms_out);
void text_time_format(int64_t ms, char out[32]);
/* "YYYY-MM-DD" as a real date; returns days since the epoch. */
int text_date_parse(const char *s, size_t len, int64_t *days_out);

/* ---- record.c: the record kinds, their fields and rules ----------------- */

enum gk_role {
	GK_ROLE_ADMIN,
	GK_ROLE_STREET,
	GK_ROLE_STATION,
	GK_ROLE_GRID_WORKER,
	GK_ROLE_COUNT
};
#define GK_ROLE_BIT(r) (1u << (r))
const char *record_role_name(enum gk_role r);
int record_role_parse(const char *s, enum gk_role *out);

enum gk_ftype {
	GK_F_TEXT,  /* UTF-8, no controls; max = byte length */
	GK_F_INT,   /* integer in [min, max] */
	GK_F_REAL,  /* number in [min, max] */
	GK_F_BOOL,  /* true / false, stored 0 / 1 */
	GK_F_ID,    /* a record id (UUID) */
	GK_F_ENUM,  /* one of words[] */
	GK_F_TIME,  /* UTC time text, see text_time_parse */
	GK_F_DATE,  /* date text, see text_date_parse */
	GK_F_IDLIST /* JSON array of 1..max record ids, stored as JSON text */
};

/* Field flags. */
#define GK_REQ       0x1 /* required on insert/append */
#define GK_MULTILINE 0x2 /* text may hold \n and \t */
#define GK_NONZERO   0x4 /* integer may not be 0 */

struct gk_field {
	const char *name;
	enum gk_ftype type;
	unsigned flags;
	int64_t min, max;         /* range; for text and lists, max length */
	const char *const *words; /* GK_F_ENUM: NULL-terminated */
};

enum gk_tkind { GK_MUTABLE, GK_APPEND };

/*
 * A record table. The fields are what a change may carry, in the order of
 * the table's columns after "id". Mutable tables also hold a "_stamps"
 * column (GK_STAMP_LEN bytes per field, see merge.c); append-only tables
 * hold "author", "hlc" and "node" from their change. Columns the core
 * derives (hazard status, event conflict flags) are not fields at all.
 */
struct gk_table {
	const char *name;
	enum gk_tkind kind;
	const struct gk_field *fields;
	int nfields;
	unsigned writers; /* GK_ROLE_BIT mask of roles that may write */
	int index;        /* position in record_tables() */
};

#define GK_MAX_FIELDS 24

/* All record tables, in dependency order (parents before children). */
const struct gk_table *const *record_tables(int *n);
const struct gk_table *record_table(const char *name);
/* Index of a field in t->fields, or -1. */
int record_field(const struct gk_table *t, const char *name);

/* Words shared by the rules (record.c keeps the lists). */
extern const char *const gk_hazard_status_words[]; /* "new", "reported", ... */
extern const char *const gk_stock_kind_words[];
extern const char *const gk_point_kind_words[];

/* ---- change.c: the change, and its JSON form ------------------------------
 */

enum gk_op {
	GK_OP_INSERT, /* mutable: create; all GK_REQ fields present */
	GK_OP_UPDATE, /* mutable: set some fields */
	GK_OP_DELETE, /* mutable: tombstone (sets "deleted" true) */
	GK_OP_APPEND  /* append-only: the whole row */
};

/*
 * One write, as it travels. fields is a JSON object (field name -> value)
 * that the change owns. author is the user who made the change: a replica
 * writes its own user's id, and the server replaces whatever a push says
 * with the authenticated user's, so it is never taken from the client
 * (empty when unknown).
 */
struct gk_change {
	char id[GK_ID_LEN + 1];
	uint64_t node;
	uint64_t hlc;
	const struct gk_table *table;
	enum gk_op op;
	char row[GK_ID_LEN + 1];
	char author[GK_ID_LEN + 1];
	json_t *fields;
};

#define GK_MAX_DEPTH        8
#define GK_MAX_CHANGE_BYTES 65536

const char *change_op_name(enum gk_op op);
/*
 * Parse one change from untrusted JSON text: size, depth, shape and the
 * envelope (ids, stamps, table, op). Field values are checked later by
 * validate_change. On success the caller owns *out (change_clear).
 */
int change_decode(const char *buf, size_t len, struct gk_change *out,
                  struct gk_error *err);
/* The same from an already-parsed object (borrowed). */
int change_from_json(json_t *obj, struct gk_change *out, struct gk_error *err);
/* The canonical JSON object of a change; caller owns the reference. */
json_t *change_to_json(const struct gk_change *c);
/* Canonical compact text (sorted keys); caller frees with free(). */
char *change_encode(const struct gk_change *c);
/* Deep copy; caller owns dst. */
int change_copy(struct gk_change *dst, const struct gk_change *src);
void change_clear(struct gk_change *c);
/* Order of (hlc, node): <0, 0, >0. */
int change_cmp_stamp(uint64_t hlc_a, uint64_t node_a, uint64_t hlc_b,
                     uint64_t node_b);

/* ---- validate.c: the domain rules, applied to untrusted changes ---------- */

/* Tunable parts of the rules; validate_policy_default fills the defaults. */
struct gk_policy {
	int earn_points_per_hour; /* 1 */
	int earn_cap_minutes;     /* 120 */
	int64_t max_skew_ms;      /* 5 minutes */
	int response_hours[5];    /* by risk level 1..4: 2, 24, 72, 72 */
};
void validate_policy_default(struct gk_policy *p);

struct gk_actor {
	enum gk_role role;
	const char *user_id; /* may be NULL in tests */
};

/*
 * Stateless checks of one change against the rules: every field known,
 * typed, sized, valid UTF-8 without controls; required fields present;
 * ledger signs; the hazard transition allowed at all and allowed to this
 * role. The first failure is returned with its code and message.
 */
int validate_change(const struct gk_change *c, const struct gk_actor *actor,
                    const struct gk_policy *pol, struct gk_error *err);
/*
 * Checks that need the database (inside the caller's transaction): a plan
 * for a risk 1-2 hazard, a transfer that matches its other half, a second
 * earn entry for the same (activity, volunteer).
 */
int validate_change_tx(sqlite3 *db, const struct gk_change *c,
                       const struct gk_policy *pol, struct gk_error *err);

/* ---- hazard.c: the hazard workflow and the status derived from events --- */

enum gk_hstatus {
	GK_HS_NEW,
	GK_HS_REPORTED,
	GK_HS_VERIFIED,
	GK_HS_RECTIFYING,
	GK_HS_RESOLVED,
	GK_HS_CLOSED,
	GK_HS_REJECTED,
	GK_HS_COUNT
};
int hazard_status_parse(const char *s, enum gk_hstatus *out);
const char *hazard_status_name(enum gk_hstatus s);
/* GK_ROLE_BIT mask of roles that may make from -> to; 0 = never allowed. */
unsigned hazard_transition_roles(enum gk_hstatus from, enum gk_hstatus to);

/* Prepared statements for deriving, reused across calls; caller owns. */
struct gk_hazard_deriver;
struct gk_hazard_deriver *hazard_deriver_new(sqlite3 *db, struct gk_error *err);
void hazard_deriver_free(struct gk_hazard_deriver *d);
/*
 * Re-derive a hazard's status, plan, reporter, resolved time and the
 * conflict flag of each of its events from the events in (hlc, node)
 * order. Runs inside the caller's transaction; idempotent; a hazard row
 * that does not exist yet is left for its insert to derive.
 */
int hazard_derive_tx(struct gk_hazard_deriver *d, const char *hazard_id,
                     struct gk_error *err);

/* ---- db.c: opening a database the way both ends need it ---------------- */

/*
 * Open (creating if asked) a SQLite file with WAL, synchronous=FULL,
 * foreign keys, defensive mode and a busy timeout. Caller owns *out.
 */
#define GK_DB_CREATE   0x1
#define GK_DB_READONLY 0x2
int db_open(const char *path, int flags, sqlite3 **out, struct gk_error *err);
void db_close(sqlite3 *db);
int db_begin(sqlite3 *db);  /* BEGIN IMMEDIATE */
int db_commit(sqlite3 *db); /* GK_OK only once COMMIT returned SQLITE_OK */
void db_rollback(sqlite3 *db);
int db_exec(sqlite3 *db, const char *sql, struct gk_error *err);
/* PRAGMA quick_check (full=0) or integrity_check (full=1) says "ok". */
int db_check(sqlite3 *db, int full, struct gk_error *err);

/* ---- schema.c: the numbered migrations built from schema/ --------------- */

enum gk_schema_side { GK_SIDE_SERVER, GK_SIDE_CLIENT };

/*
 * Bring a database to this binary's schema for the records plus one side's
 * own tables, in one transaction. A database newer than the binary is
 * refused with GK_E_SCHEMA_NEWER and left untouched.
 */
int schema_migrate(sqlite3 *db, enum gk_schema_side side, struct gk_error *err);
/* The highest migration this binary knows for a track ("records", ...). */
int schema_latest(const char *track);
/* The version a database holds for a track, 0 if none. */
int schema_version(sqlite3 *db, const char *track);

/*
 * server_meta or client_meta (by side): copy the value of key into buf.
 * GK_E_NOT_FOUND if absent, GK_E_TOO_LONG if it does not fit, with err set.
 */
int db_meta_get(sqlite3 *db, enum gk_schema_side side, const char *key,
                char *buf, size_t size, struct gk_error *err);
/* Set key to value, inside the caller's transaction. */
int db_meta_put_tx(sqlite3 *db, enum gk_schema_side side, const char *key,
                   const char *value, struct gk_error *err);

/* ---- merge.c: applying changes to a replica ---------------------------- */

struct gk_merge; /* prepared statements, reused across batches */

/* Caller owns the result (merge_free); NULL on failure with err set. */
struct gk_merge *merge_new(sqlite3 *db, struct gk_error *err);
void merge_free(struct gk_merge *m);

enum gk_applied {
	GK_APPLY_NEW, /* the change altered the replica */
	GK_APPLY_NOOP /* already had it, or every field was older */
};
/*
 * Apply one change inside the caller's transaction: mutable records last-
 * writer-wins per field by (hlc, node), append-only records insert-if-
 * absent. Does not validate: callers validate untrusted changes first.
 */
int merge_apply_tx(struct gk_merge *m, const struct gk_change *c,
                   enum gk_applied *applied, struct gk_error *err);
/* Apply n changes in one transaction; results[] may be NULL. */
int merge_apply_batch(struct gk_merge *m, const struct gk_change *cs, size_t n,
                      enum gk_applied *results, struct gk_error *err);
/*
 * Inside the caller's transaction: where the row of old still holds the
 * stamp (old->hlc, old->node), in a mutable row's _stamps or an append
 * row's hlc, put (new_hlc, old->node) instead (a change re-stamped after
 * clock_skew). Values are untouched; a hazard event re-derives its hazard.
 */
int merge_restamp_tx(struct gk_merge *m, const struct gk_change *old,
                     uint64_t new_hlc, struct gk_error *err);

/* ---- views.c: figures derived from the ledgers -------------------------- */

struct gk_stock_row {
	char depot[GK_ID_LEN + 1], item[GK_ID_LEN + 1];
	int64_t on_hand;    /* sum of every move; may be negative */
	int64_t expired;    /* of which in lots past their expiry */
	int64_t in_transit; /* sent out by this depot, not yet received */
	int64_t minimum;    /* reserve standard, -1 if none */
	int64_t shortfall;  /* max(0, minimum - (on_hand - expired)) */
};
struct gk_points_row {
	char volunteer[GK_ID_LEN + 1];
	int64_t points;  /* may be negative: a discrepancy, shown */
	int64_t minutes; /* hours served, never lowered by redeeming */
};
struct gk_overdue_row {
	char hazard[GK_ID_LEN + 1];
	int past_deadline; /* plan deadline passed, not resolved */
	int response_late; /* still "reported" past its response target */
};
typedef int (*views_stock_cb)(void *arg, const struct gk_stock_row *r);
typedef int (*views_points_cb)(void *arg, const struct gk_points_row *r);
typedef int (*views_overdue_cb)(void *arg, const struct gk_overdue_row *r);
/*
 * Each walks its rows in id order and calls cb; a non-zero return from cb
 * stops the walk and is returned. today_days is days since the epoch.
 */
int views_stock(sqlite3 *db, int64_t today_days, views_stock_cb cb, void *arg);
int views_points(sqlite3 *db, views_points_cb cb, void *arg);
int views_overdue(sqlite3 *db, int64_t now_ms, const struct gk_policy *pol,
                  views_overdue_cb cb, void *arg);

/* ---- dump.c: a canonical text dump of the records ----------------------- */

/*
 * Every record table, rows in id order, every column including stamps and
 * derived ones, in one stable text form: two replicas hold the same
 * records if and only if their dumps are byte-identical. Caller frees *out.
 */
int dump_records(sqlite3 *db, char **out, size_t *len, struct gk_error *err);

#endif
