/*
 * agent.h: the inside of the sync agent, shared by agent.c (starting,
 * ending and scheduling syncs, login), agent_push.c and agent_pull.c.
 * Only those files include it; everyone else uses gridkeep.h.
 *
 * Durability: most of the agent's transactions (marking a batch sent,
 * recording an answer, applying a pull page) commit with
 * synchronous=NORMAL and put the connection back to FULL afterwards. In
 * WAL mode such a commit survives a crash of the program; a power cut
 * may lose those made since the last FULL commit or checkpoint (never
 * corrupting the file), and the next sync repairs that, since every
 * step is idempotent: a batch sent again comes back duplicate, a page
 * pulled again changes nothing. This saves an fsync per page and batch.
 * Local writes (write.c), the only copy of what staff typed, stay FULL,
 * and so does a re-stamp (agent_begin's durable), whose new stamp the
 * server may keep.
 */
#ifndef GK_AGENT_H
#define GK_AGENT_H

#include <event2/event.h>

#include "gridkeep.h"
#include "net.h"

#define AGENT_BATCH       500
#define AGENT_BATCH_BYTES (512 * 1024)
#define AGENT_PAGE        1000
#define AGENT_SKEW_ROUNDS 3 /* re-stamp rounds in one sync, then reject */
#define AGENT_RESTARTS    2 /* db_changed / bad_cursor restarts per sync */
#define AGENT_CURSOR_MAX  200
/* A server's stamp further ahead of our corrected clock than this is
 * never taken into it: the clock would carry it into every later stamp
 * (and at 2^63 - 1 overflow into the sign bit, which no replica reads). */
#define AGENT_AHEAD_MS (INT64_C(24) * 3600 * 1000)

enum agent_state { AG_IDLE, AG_PUSH, AG_PULL, AG_LOGIN };

struct gk_agent {
	struct gk_client *c;
	struct event_base *base;
	struct net_conn *net;
	char net_server[256];
	enum agent_state state;

	/* The sync in progress. */
	agent_progress_cb progress;
	agent_done_cb done;
	void *arg;
	int is_auto;
	struct agent_result r;
	int64_t push_total;
	int skew_rounds, restarts;
	int batch_max;
	size_t batch_bytes;
	int64_t *seqs; /* the batch in flight, in order */
	char (*ids)[GK_ID_LEN + 1];
	size_t nbatch, cap;
	struct event *finish_ev; /* runs finish from a clean stack */
	json_t *page;            /* a pulled page waiting to be applied */
	struct event *apply_ev;  /* applies it (agent_pull_apply_cb) */

	/* The background schedule. */
	struct event *timer;
	int auto_on, interval_s, max_s, backoff_s;
	int64_t next_at; /* ms, wall clock */
	agent_progress_cb aprogress;
	agent_done_cb adone;
	void *aarg;

	/* A login in flight. */
	char *password;
	char server[256], device[65];
};

/* agent_push.c: push the outbox, batch by batch; then the pull. */
void agent_push_next(struct gk_agent *a);
/* Take the push answer ans for the batch in a->seqs/ids, in one
 * transaction; a malformed answer changes nothing. */
int agent_push_apply(struct gk_agent *a, json_t *ans, struct gk_error *err);
/* agent_pull.c: pull the next page after the stored cursor. */
void agent_pull_next(struct gk_agent *a);
void agent_pull_apply_cb(evutil_socket_t fd, short what, void *arg);
/* agent.c: end the sync (or login) with code, a->r.err saying why. */
void agent_finish(struct gk_agent *a, int code);

/* Helpers (agent.c). */
int64_t agent_wall(const struct gk_agent *a);
/* Load client_meta "hlc" into c->clock / store it and the offset. */
int agent_load_clock_tx(struct gk_client *c, struct gk_error *err);
int agent_save_clock_tx(struct gk_client *c, struct gk_error *err);
/* Take the server's time (ms, from an answer) into c->clock_offset_ms. */
void agent_learn_offset(struct gk_agent *a, int64_t server_ms);
/* An agent transaction (see above: durable keeps FULL); commit and
 * rollback put the connection back to FULL. */
int agent_begin(struct gk_client *c, int durable, struct gk_error *err);
int agent_commit(struct gk_client *c, struct gk_error *err);
void agent_rollback(struct gk_client *c);
/* Run sql with ?1 = a1, ?2 = a2 to completion. */
int agent_exec_int(sqlite3 *db, const char *sql, int64_t a1, int64_t a2,
                   struct gk_error *err);
/* The server's database changed: the whole sync starts over. */
int agent_db_changed(struct gk_agent *a, const char *db_id);
void agent_progress(struct gk_agent *a, const char *phase, int64_t done,
                    int64_t total);

#endif
