/*
 * gen.h: a generator of valid changes over every record kind, shared by
 * the convergence test (tests/test-converge.c) and the apply benchmark
 * (bench/bench-apply.c).
 *
 * A world (struct gen_world) holds what every replica could know about:
 * the ids made so far, by kind, so that later changes point at earlier
 * rows (a stock move at a depot and an item, an event at a hazard), and a
 * little state that makes ledgers plausible (transfers sent and not yet
 * received, earn entries that a revoke may reverse). The world draws all
 * its randomness from one seeded struct gk_testenv, whose "now" is the
 * true time of the run: the same seed gives the same changes.
 *
 * A replica (struct gen_replica) is one place where people type: its own
 * node id, hybrid logical clock and wall clock (the world's time plus an
 * offset the caller may change, even backwards). A change is made on a
 * replica: stamped with hlc_now on its wall clock, checked with
 * validate_change for an admin (a failure aborts: the generator is also a
 * test of the validator), applied to the replica's database if it has one,
 * and handed to the caller, who delivers it elsewhere. A replica with a
 * database reads its own view of the records (a hazard's status, the stock
 * a counter sees), so two replicas that have not yet heard of each other
 * make concurrent, conflicting acts, as people do offline. A replica
 * without one (the benchmark's) follows the world's view instead.
 *
 * Nothing here uses cmocka: the benchmark links it without. Bugs and out
 * of memory abort with a message on stderr.
 */
#ifndef GK_GEN_H
#define GK_GEN_H

#include "sync.h"

/* What one call makes. */
enum gen_op {
	GEN_UNIT,         /* insert a unit under an existing one */
	GEN_USER,         /* insert a user */
	GEN_ITEM,         /* insert a catalogue item */
	GEN_DEPOT,        /* insert a depot */
	GEN_STANDARD,     /* insert a reserve standard */
	GEN_VOLUNTEER,    /* insert a volunteer */
	GEN_NOTICE,       /* insert a notice */
	GEN_HAZARD,       /* insert a hazard */
	GEN_EDIT,         /* update a random subset of fields of any row */
	GEN_HOT_EDIT,     /* update one of a few (row, field) pairs that every
	                     replica keeps editing: concurrent edits */
	GEN_DELETE,       /* tombstone a row */
	GEN_UNDELETE,     /* update deleted=false */
	GEN_HAZARD_EVENT, /* a transition from the status seen, a note, a plan
	                   */
	GEN_INSPECTION,   /* a patrol of a grid */
	GEN_STOCK_MOVE,   /* any kind, with its sign and companions */
	GEN_POINT_ENTRY,  /* any kind; earn unique per activity */
	GEN_NOTICE_ACK,   /* an acknowledgement of a notice */
	GEN_REPLENISH,    /* a replenishment request, sometimes forwarded */
	GEN_OP_COUNT
};

const char *gen_op_name(enum gen_op op);

/* Relative weights of the operations; gen_change picks one by them. */
struct gen_mix {
	unsigned weight[GEN_OP_COUNT];
};
/* Every kind often enough to meet in a 10,000-change run. */
extern const struct gen_mix gen_mix_converge;
/* A realistic day: mostly ledgers, events and patrols, some edits. */
extern const struct gen_mix gen_mix_bench;

/* A known row, by kind; what aux means depends on the kind. */
struct gen_row {
	char id[GK_ID_LEN + 1];
	int aux; /* units: level 0-3; items: has a shelf life; hazards:
	            the status last made anywhere (enum gk_hstatus) */
};

struct gen_rows {
	struct gen_row *v;
	size_t n, cap;
};

/* An earn entry, so that a revoke can reverse it once. */
struct gen_earn {
	char id[GK_ID_LEN + 1], volunteer[GK_ID_LEN + 1];
	char activity[24];
	int points, minutes, revoked;
};

/* A transfer sent and not yet received. */
struct gen_transfer {
	char transfer[GK_ID_LEN + 1];
	char from[GK_ID_LEN + 1], to[GK_ID_LEN + 1], item[GK_ID_LEN + 1];
	char request[GK_ID_LEN + 1]; /* empty if it fulfils none */
	int64_t quantity;            /* positive: what was sent */
};

/* Kinds of rows the world remembers; the first eight are the mutable
 * tables in record.c order. */
enum gen_kind {
	GEN_K_UNIT,
	GEN_K_USER,
	GEN_K_ITEM,
	GEN_K_DEPOT,
	GEN_K_STANDARD,
	GEN_K_VOLUNTEER,
	GEN_K_NOTICE,
	GEN_K_HAZARD,
	GEN_K_GRID,    /* units at level grid (also in GEN_K_UNIT) */
	GEN_K_REQUEST, /* replenishment requests */
	GEN_K_COUNT
};
#define GEN_MUTABLE_KINDS 8

struct gen_world {
	struct gk_testenv *t; /* borrowed: the PRNG and the true time */
	struct gk_policy policy;
	struct gk_actor actor; /* an admin: every change must pass for it */
	struct gen_rows rows[GEN_K_COUNT];
	struct gen_earn *earns;
	size_t nearns, earncap;
	struct gen_transfer *transfers;
	size_t ntransfers, transfercap;
	uint64_t serial;             /* numbers names, codes and activities */
	uint64_t made[GEN_OP_COUNT]; /* changes made, by operation */
};

struct gen_replica {
	struct gen_world *w;
	sqlite3 *db;            /* borrowed; NULL: generate only */
	struct gk_merge *merge; /* on db; owned */
	struct hlc hlc;
	uint64_t node;
	int64_t offset;    /* wall clock = world time + offset; set it freely */
	struct gk_env env; /* this replica's clock, the world's PRNG */
	char user[GK_ID_LEN + 1];     /* author of what is made here */
	sqlite3_stmt *status, *stock; /* this replica's view */
};

/* t must outlive the world. */
void gen_world_init(struct gen_world *w, struct gk_testenv *t);
void gen_world_free(struct gen_world *w);

/*
 * A replica in w; db may be NULL. r must not move while in use (its env
 * points at it). Returns GK_OK, or a code with err set if db cannot serve.
 */
int gen_replica_init(struct gen_replica *r, struct gen_world *w, sqlite3 *db,
                     int64_t offset, struct gk_error *err);
void gen_replica_free(struct gen_replica *r);
/* The replica's wall clock now, in ms. */
int64_t gen_replica_wall(const struct gen_replica *r);

/*
 * Make one change on r: an operation picked by mix, or the prerequisite it
 * lacks (a stock move before any depot makes a depot, and so on). The
 * change is stamped, validated, applied to r's database in its own
 * transaction (if r has one) and stored in *out; the caller owns it
 * (change_clear). Returns the operation made.
 */
enum gen_op gen_change(struct gen_replica *r, const struct gen_mix *mix,
                       struct gk_change *out);
/* The same for one operation. */
enum gen_op gen_op_change(struct gen_replica *r, enum gen_op op,
                          struct gk_change *out);

#endif
