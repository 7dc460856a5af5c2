/*
 * gridkeep.h: the map of client/, the station client. One block per .c
 * file, in reading order (see HACKING).
 *
 * Everything the client knows at run time is in one struct gk_client,
 * passed to every function: no global mutable state, so a test can run the
 * server and two replicas in one process. Errors are gk codes with a
 * message in a struct gk_error; gridkeep.c prints them, once. The sync
 * agent and the terminal UI join in later issues.
 */
#ifndef GK_GRIDKEEP_H
#define GK_GRIDKEEP_H

#include <stdint.h>
#include <stdio.h>

#include "sync.h"

/* Exit statuses, the same for every command. */
#define GK_EXIT_OK    0
#define GK_EXIT_FAIL  1 /* an error, or check found a problem */
#define GK_EXIT_USAGE 2 /* a bad command line */

#define GK_PATH_MAX 4096

/* ---- i18n: every message a person reads goes through gettext ---------- */

#include <libintl.h>
#define _(s)  gettext(s)
#define N_(s) (s) /* marked for xgettext, translated where it is shown */

/*
 * The login this replica holds, from client_meta and the token file.
 * Loaded by session_load; logged_in is 0 before the first login.
 */
struct gk_session {
	int logged_in;    /* a user is stored (the token may be gone) */
	char server[256]; /* base URL, "http://127.0.0.1:8080" */
	char user_id[GK_ID_LEN + 1];
	char username[65];
	char display_name[101];
	enum gk_role role;
	char unit[GK_ID_LEN + 1];
	char unit_name[101];
	char device[65];
	char token[128]; /* empty after logout, or when the file is gone */
};

struct gk_merge;

struct gk_client {
	const char *db_path; /* -d (borrowed), or default_path once
	                        replica_open found it; NULL before */
	char default_path[GK_PATH_MAX];
	int is_default; /* db_path is the default: init makes its dir */
	sqlite3 *db;    /* owned; NULL until a command opens it */
	struct gk_env env;
	uint64_t node; /* this install's node id (client_meta) */

	struct gk_session sess;  /* session_load fills it */
	struct gk_policy policy; /* validate_policy_default */
	struct hlc clock;        /* loaded by write_begin, saved by commit */
	int64_t clock_offset_ms; /* server time - our wall clock, learned on
	                            each sync (client_meta "clock_offset") */
	struct gk_merge *merge;  /* owned, made on first use */
	int64_t test_shift_ms;   /* GRIDKEEP_CLOCK_OFFSET_MS (tests only):
	                            session_load shifts env's clock by it */
};

/* The wall clock corrected by what the server told us, in ms. */
int64_t client_now_ms(const struct gk_client *c);

/* A command of the table in gridkeep.c; see struct gkd_command. */
struct gk_client_command {
	const char *name;
	const char *summary; /* one line for `gridkeep help` */
	int maxargs;
	int (*exec)(struct gk_client *c, int argc, char **argv,
	            struct gk_error *err);
};

/* ---- gridkeep.c: main, options, the commands, usage, version ------------ */

/* (main only) */

/* ---- replica.c: the local replica database ------------------------------ */

/* The outbox states of DESIGN.md, in the order status prints them. */
enum replica_state {
	REPLICA_SAVED,
	REPLICA_SENT,
	REPLICA_ACCEPTED,
	REPLICA_REJECTED,
	REPLICA_NSTATES
};
extern const char *const replica_state_names[REPLICA_NSTATES];

/*
 * $XDG_DATA_HOME/gridkeep/replica.db (when XDG_DATA_HOME is absolute),
 * else $HOME/.local/share/gridkeep/replica.db, into buf.
 */
int replica_default_path(char *buf, size_t size, struct gk_error *err);
/* Make the directories above path that are missing, mode 0700. */
int replica_make_dir(const char *path, struct gk_error *err);
/*
 * Open c->db_path into c->db. With REPLICA_CREATE, make the file if it is
 * missing, bring it to this binary's schema and give it a node id;
 * *created (may be NULL) says whether the file was new. Without, the file
 * must exist. Unless REPLICA_RAW, it is then verified (replica_verify).
 */
#define REPLICA_CREATE 0x1
#define REPLICA_RAW    0x2
int replica_open(struct gk_client *c, int flags, int *created,
                 struct gk_error *err);
/*
 * The replica holds this binary's schema (a newer one is refused with
 * GK_E_SCHEMA_NEWER; an older one, or a server's database, too) and a
 * node id, which is loaded into c->node.
 */
int replica_verify(struct gk_client *c, struct gk_error *err);
void replica_close(struct gk_client *c);
/* Free everything c holds (merge, replica); c can be opened again. */
void client_close(struct gk_client *c);
/* The schema versions of the open replica: "records" and "client". */
void replica_schema(struct gk_client *c, int *records, int *client);
/* Count the outbox by state. */
int replica_outbox_counts(struct gk_client *c, int64_t counts[REPLICA_NSTATES],
                          struct gk_error *err);

/*
 * client_meta of the open replica: copy key's value into buf (GK_E_NOT_FOUND
 * if absent), or set it inside the caller's transaction.
 */
int replica_meta_get(struct gk_client *c, const char *key, char *buf,
                     size_t size, struct gk_error *err);
int replica_meta_put_tx(struct gk_client *c, const char *key, const char *value,
                        struct gk_error *err);

/* ---- write.c: the local write path ------------------------------------- */

/*
 * A local write is one transaction: write_begin, one or more
 * write_change_tx, write_commit. The clock is loaded at begin and saved
 * at commit in the same transaction, so a crash loses neither the write
 * nor the stamp order.
 */
int write_begin(struct gk_client *c, struct gk_error *err);
int write_commit(struct gk_client *c, struct gk_error *err);
void write_rollback(struct gk_client *c);
/*
 * Make one local change: stamp it, author it as the logged-in user,
 * check it as the server will (validate_change with the session's role,
 * then validate_change_tx), apply it through the merge and queue it in
 * the outbox as "saved". fields is borrowed. row is the record's id (a
 * new record's id comes from uuid_v7). change_id (may be NULL) receives
 * the change's id. Refused changes leave the transaction usable.
 */
int write_change_tx(struct gk_client *c, const char *table, enum gk_op op,
                    const char *row, json_t *fields,
                    char change_id[GK_ID_LEN + 1], struct gk_error *err);

/* ---- actions.c: what staff do, as data for the commands and the forms --- */

/*
 * Every action a person takes (report a hazard, issue stock, award points)
 * is described once here: its inputs, who may take it, and how it becomes
 * changes. The subcommands (cmd_records.c) turn inputs into options, the
 * terminal UI into forms, and both run it through action_run, so the two
 * can never check differently.
 */
enum act_itype {
	ACT_TEXT,     /* one line */
	ACT_LONGTEXT, /* may hold newlines */
	ACT_INT,      /* integer in [min, max] */
	ACT_ENUM,     /* one of words[] */
	ACT_REF,      /* a record, by id or by its name/code: see ref */
	ACT_TIME,     /* local "YYYY-MM-DD HH:MM", or "now" */
	ACT_DATE,     /* "YYYY-MM-DD" */
	ACT_BOOL      /* yes/no */
};
#define ACT_REQ 0x1 /* must be given */

struct act_input {
	const char *name;  /* option (--name) and input key */
	const char *label; /* N_(): the form's label */
	enum act_itype type;
	unsigned flags;
	const char *const *words; /* ACT_ENUM */
	const char *ref;          /* ACT_REF: "grid", "unit", "depot", "item",
	                             "volunteer", "notice", "hazard" */
	int64_t min, max;         /* ACT_INT range; text: max bytes */
	const char *help;         /* N_(): one line for --help and the form */
};

struct act_result {
	char row[GK_ID_LEN + 1]; /* the record made or acted on */
	char field[32];          /* on error: the input at fault, or "" */
};

struct gk_action {
	const char *name;   /* the subcommand: "report", "issue", ... */
	const char *title;  /* N_(): "Report a hazard" */
	const char *target; /* the ref kind of the record acted on ("hazard",
	                       "depot", "volunteer", "notice"), or NULL */
	unsigned roles;     /* GK_ROLE_BIT mask */
	const struct act_input *inputs;
	int ninputs;
	int (*run)(struct gk_client *c, const char *target, json_t *input,
	           struct act_result *res, struct gk_error *err);
};

/* Every action, in the order help lists them. */
const struct gk_action *const *action_all(int *n);
const struct gk_action *action_find(const char *name);
/*
 * 1 if the logged-in user may take a on target now (role, and for hazards
 * the transition from the current status); 0 with err saying why.
 */
int action_allowed(struct gk_client *c, const struct gk_action *a,
                   const char *target, struct gk_error *err);
/*
 * Take an action: input is an object of input name -> string as typed
 * (borrowed). Checks everything a form must refuse (required, ranges,
 * an issue larger than the stock on hand, a transition the role may not
 * make), then writes its changes in one transaction. On error res->field
 * names the input at fault, and nothing is written.
 */
int action_run(struct gk_client *c, const struct gk_action *a,
               const char *target, json_t *input, struct act_result *res,
               struct gk_error *err);
/* A record named by id, or by exact name/code/username, into id. */
int action_resolve_ref(struct gk_client *c, const char *ref, const char *text,
                       char id[GK_ID_LEN + 1], struct gk_error *err);

/* ---- session.c: the login, the token file, the offline unlock ----------- */

/* Load c->sess from client_meta and the token file. */
int session_load(struct gk_client *c, struct gk_error *err);
/*
 * Store a successful login: the user, unit, server and database id in
 * client_meta with an Argon2id hash of the password (one transaction), and
 * the token in the token file, mode 0600, written atomically.
 */
int session_save(struct gk_client *c, const char *server, const char *device,
                 const char *password, json_t *answer, struct gk_error *err);
/* GK_OK if password matches the stored hash, else GK_E_CREDENTIALS. */
int session_unlock(struct gk_client *c, const char *password,
                   struct gk_error *err);
/* Remove the token (logout); the replica and the user stay. */
int session_forget_token(struct gk_client *c, struct gk_error *err);
/* The token file: the replica's path with ".token" appended. */
int session_token_path(const struct gk_client *c, char *buf, size_t size,
                       struct gk_error *err);
/* Read a password from the terminal (echo off) or one line of stdin. */
int session_read_password(const char *prompt, char *buf, size_t size,
                          struct gk_error *err);

/* ---- net.c, agent.c: the sync agent on libevent's HTTP client ----------- */

struct event_base;
struct gk_agent;

struct agent_progress {
	const char *phase; /* "push" or "pull" */
	int64_t done;      /* changes pushed / pulled so far in this sync */
	int64_t total;     /* to push; -1 when unknown (pull) */
};

struct agent_result {
	int code;   /* GK_OK, or what ended the sync */
	int online; /* the server answered at all */
	int64_t pushed, accepted, duplicate, rejected, restamped;
	int64_t pulled, dropped;
	struct gk_error err;
};

typedef void (*agent_progress_cb)(void *arg, const struct agent_progress *p);
typedef void (*agent_done_cb)(void *arg, const struct agent_result *r);

/* Caller owns the agent (agent_free cancels a sync in flight). */
struct gk_agent *agent_new(struct gk_client *c, struct event_base *base);
void agent_free(struct gk_agent *a);
/* Start one sync now (push the outbox, then pull); GK_E_BUSY if running. */
int agent_sync(struct gk_agent *a, agent_progress_cb progress,
               agent_done_cb done, void *arg);
int agent_busy(const struct gk_agent *a);
/*
 * Sync in the background every interval_s seconds; while the server is
 * unreachable, back off exponentially (with jitter) up to max_s. done is
 * called after each attempt. agent_sync still works, and resets backoff.
 */
int agent_auto(struct gk_agent *a, int interval_s, int max_s,
               agent_progress_cb progress, agent_done_cb done, void *arg);
/* Seconds until the next background attempt, -1 if none is planned. */
int agent_next_in(const struct gk_agent *a);
/* POST /api/v1/login, then session_save. */
int agent_login(struct gk_agent *a, const char *server, const char *username,
                const char *password, const char *device, agent_done_cb done,
                void *arg);
/* The blocking forms for the commands: run a private event loop. */
int agent_sync_wait(struct gk_client *c, agent_progress_cb progress, void *arg,
                    struct agent_result *r);
int agent_login_wait(struct gk_client *c, const char *server,
                     const char *username, const char *password,
                     const char *device, struct agent_result *r);
/*
 * Apply one pull answer (borrowed): drops, changes and the new cursor in
 * one transaction. *applied counts the changes. Exposed for bench/.
 */
int agent_apply_page(struct gk_client *c, json_t *page, int64_t *applied,
                     struct gk_error *err);

/* ---- export.c: CSV, JSON and GeoJSON of the records --------------------- */

enum export_format { EXPORT_CSV, EXPORT_JSON, EXPORT_GEOJSON };
/*
 * Write one table (every non-deleted row, by id, derived columns included)
 * to out: CSV in UTF-8 with a header row, a JSON array of objects, or a
 * GeoJSON FeatureCollection of the rows with a place (hazards, depots).
 */
int export_table(struct gk_client *c, const char *table, enum export_format fmt,
                 FILE *out, struct gk_error *err);

/* ---- cmd_sync.c, cmd_records.c: the subcommands ------------------------ */

int cmd_login(struct gk_client *c, int argc, char **argv, struct gk_error *err);
int cmd_logout(struct gk_client *c, int argc, char **argv,
               struct gk_error *err);
int cmd_sync(struct gk_client *c, int argc, char **argv, struct gk_error *err);
int cmd_status(struct gk_client *c, int argc, char **argv,
               struct gk_error *err);
int cmd_export(struct gk_client *c, int argc, char **argv,
               struct gk_error *err);
/* Run action a from a command line: --input value ..., [target]. */
int cmd_action(struct gk_client *c, const struct gk_action *a, int argc,
               char **argv, struct gk_error *err);

/* ---- ui*.c: the terminal UI (see ui.h) ---------------------------------- */

/* Run the terminal UI until the user quits. */
int ui_main(struct gk_client *c, struct gk_error *err);

#endif
