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

struct gk_server {
	const char *db_path; /* borrowed: -d, $GRIDKEEPD_DB or the default */
	sqlite3 *db;         /* owned; NULL until a command opens it */
	struct gk_env env;   /* the clock and random source */
	struct hlc hlc;      /* stamps the server's own changes */
	uint64_t node;       /* this database's node id (server_meta) */
	char db_id[GK_ID_LEN + 1];
	struct gk_policy policy;
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

/* ---- demo.c: a demo street, written as real changes ------------------- */

int demo_exec(struct gk_server *s, int argc, char **argv, struct gk_error *err);

#endif
