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

#include "sync.h"

/* Exit statuses, the same for every command. */
#define GK_EXIT_OK    0
#define GK_EXIT_FAIL  1 /* an error, or check found a problem */
#define GK_EXIT_USAGE 2 /* a bad command line */

#define GK_PATH_MAX 4096

struct gk_client {
	const char *db_path; /* -d (borrowed), or default_path once
	                        replica_open found it; NULL before */
	char default_path[GK_PATH_MAX];
	int is_default; /* db_path is the default: init makes its dir */
	sqlite3 *db;    /* owned; NULL until a command opens it */
	struct gk_env env;
	uint64_t node; /* this install's node id (client_meta) */
};

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
/* The schema versions of the open replica: "records" and "client". */
void replica_schema(struct gk_client *c, int *records, int *client);
/* Count the outbox by state. */
int replica_outbox_counts(struct gk_client *c, int64_t counts[REPLICA_NSTATES],
                          struct gk_error *err);

#endif
