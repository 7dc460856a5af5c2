/*
 * test-converge.c: replicas that have applied the same changes hold the
 * same records, whatever the order, the delays and the duplicates
 * (DESIGN.md, "Sync": convergence, tested with random schedules).
 *
 * Several in-memory replicas, each with its own skewed wall clock (some
 * step back now and then), make changes over every record kind through
 * tests/gen.c, from what each one sees; every change is delivered to the
 * others in random order, in random batch sizes through merge_apply_batch,
 * some twice, some held back for thousands of steps, with hlc_recv on the
 * receiver. At the end everything outstanding is delivered, then every
 * change once more to every replica in a shuffled order (idempotence), and
 * the dumps and the views must be identical everywhere.
 *
 * Seeded: GK_SEED=n replays a run exactly (the seed is printed always and
 * in every failure). GK_CONVERGE_OPS (default 10000) and
 * GK_CONVERGE_REPLICAS (default 5, at most 32) set the size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen.h"
#include "testutil.h"

#define DAY_MS       86400000LL
#define START_MS     1795161600000LL /* 2026-11-20T08:00:00Z */
#define MAX_REPLICAS 32

/* The run's parameters, from the environment; shared by the tests. */
struct config {
	uint64_t seed;
	size_t ops;
	int replicas;
};

/* A change waiting to reach one replica, not before step `due`. */
struct delivery {
	size_t change;
	size_t due;
};

struct replica {
	sqlite3 *db;
	struct gen_replica gen; /* its clock, node, HLC and merge */
	struct delivery *inbox;
	size_t ninbox, inboxcap;
};

struct run {
	uint64_t seed;
	struct gk_testenv t;
	struct gen_world w;
	struct replica *rep;
	int nrep;
	struct gk_change *log; /* every change made, in the order made */
	uint32_t *reached;     /* per change: bit i = replica i has it */
	size_t nlog, logcap;
	struct gk_change *batch;
	enum gk_applied *results;
	size_t batchcap;
	/* What happened, for the sanity checks. */
	size_t step, batches, duplicated, delayed, clock_steps_back;
	size_t lost_edits; /* updates that changed nothing on arrival:
	                      a concurrent edit with a later stamp won */
};

static uint64_t
below(struct run *run, uint64_t n)
{
	return gk_testenv_below(&run->t, n);
}

static void *
grow(void *p, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *np = realloc(p, ncap * size);

	if (np == NULL)
		fail_msg("out of memory");
	*cap = ncap;
	return np;
}

/* ---- set-up -------------------------------------------------------------- */

static void
run_init(struct run *run, uint64_t seed, int nrep)
{
	/* Clock offsets: right, a little fast, slow, fast, an hour slow;
	 * two replicas share one wall clock, so stamps can tie and only
	 * the node orders them. */
	static const int64_t offsets[] = {0, 120000, -300000, 0, -3600000};
	struct gk_error err = {0};

	memset(run, 0, sizeof *run);
	run->seed = seed;
	gk_testenv_init(&run->t, seed, START_MS);
	gen_world_init(&run->w, &run->t);
	run->nrep = nrep;
	run->rep = calloc((size_t)nrep, sizeof *run->rep);
	assert_non_null(run->rep);
	for (int i = 0; i < nrep; i++) {
		struct replica *r = &run->rep[i];
		int64_t off =
		    i < 5 ? offsets[i] : (int64_t)below(run, 1200001) - 600000;
		r->db = tu_replica();
		if (gen_replica_init(&r->gen, &run->w, r->db, off, &err) !=
		    GK_OK)
			fail_msg("seed %llu: gen_replica_init: %s",
			         (unsigned long long)seed, err.msg);
	}
}

static void
run_free(struct run *run)
{
	for (int i = 0; i < run->nrep; i++) {
		gen_replica_free(&run->rep[i].gen);
		db_close(run->rep[i].db);
		free(run->rep[i].inbox);
	}
	for (size_t i = 0; i < run->nlog; i++)
		change_clear(&run->log[i]);
	free(run->log);
	free(run->reached);
	free(run->rep);
	free(run->batch);
	free(run->results);
	gen_world_free(&run->w);
}

/* ---- delivery ------------------------------------------------------------ */

static void
schedule(struct run *run, int to, size_t change, size_t due)
{
	struct replica *r = &run->rep[to];

	if (r->ninbox == r->inboxcap)
		r->inbox = grow(r->inbox, &r->inboxcap, sizeof *r->inbox);
	r->inbox[r->ninbox].change = change;
	r->inbox[r->ninbox].due = due;
	r->ninbox++;
}

/* Hand one new change to every other replica: most soon, some twice, some
 * held back much longer. */
static void
post(struct run *run, int from, size_t change)
{
	for (int to = 0; to < run->nrep; to++) {
		size_t due = run->step + below(run, 40);
		if (to == from)
			continue;
		if (below(run, 100) < 5) {
			due = run->step + 2000 + below(run, 6000);
			run->delayed++;
		}
		schedule(run, to, change, due);
		if (below(run, 100) < 4) {
			schedule(run, to, change, run->step + below(run, 3000));
			run->duplicated++;
		}
	}
}

/*
 * Apply n changes (by log index) to replica `to` in one transaction, each
 * first seen by the receiver's HLC, as a pull does.
 */
static void
apply(struct run *run, int to, const size_t *idx, size_t n)
{
	struct replica *r = &run->rep[to];
	struct gk_error err = {0};
	int64_t wall = gen_replica_wall(&r->gen);

	if (n > run->batchcap) {
		run->batchcap = n < 256 ? 512 : 2 * n;
		run->batch =
		    realloc(run->batch, run->batchcap * sizeof *run->batch);
		run->results =
		    realloc(run->results, run->batchcap * sizeof *run->results);
		if (run->batch == NULL || run->results == NULL)
			fail_msg("out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		/* A shallow copy: the merge only reads a change. */
		run->batch[i] = run->log[idx[i]];
		if (hlc_recv(&r->gen.hlc, run->batch[i].hlc, wall, -1) != GK_OK)
			fail_msg(
			    "seed %llu: hlc_recv refused with no skew limit",
			    (unsigned long long)run->seed);
	}
	if (merge_apply_batch(r->gen.merge, run->batch, n, run->results,
	                      &err) != GK_OK)
		fail_msg("seed %llu: replica %d: merge_apply_batch: %s: %s",
		         (unsigned long long)run->seed, to,
		         gk_code_name(err.code), err.msg);
	for (size_t i = 0; i < n; i++) {
		uint32_t bit = 1u << to;
		if (!(run->reached[idx[i]] & bit) &&
		    run->batch[i].op == GK_OP_UPDATE &&
		    run->results[i] == GK_APPLY_NOOP)
			run->lost_edits++;
		run->reached[idx[i]] |= bit;
	}
	run->batches++;
}

/*
 * Deliver to replica `to` a batch of up to `max` changes that are due,
 * taken from its inbox in random order; all of them if every_one.
 */
static void
deliver(struct run *run, int to, size_t max, int every_one)
{
	struct replica *r = &run->rep[to];
	size_t *idx, n = 0;

	if (r->ninbox == 0)
		return;
	idx = malloc(r->ninbox * sizeof *idx);
	assert_non_null(idx);
	for (size_t k = 0; k < r->ninbox && n < max;) {
		/* Pick a random entry: swap-remove keeps the rest. */
		size_t i = k + below(run, r->ninbox - k);
		struct delivery d = r->inbox[i];
		r->inbox[i] = r->inbox[k];
		r->inbox[k] = d;
		if (every_one || d.due <= run->step) {
			idx[n++] = d.change;
			r->inbox[k] = r->inbox[--r->ninbox];
		} else {
			k++;
		}
	}
	if (n > 0)
		apply(run, to, idx, n);
	free(idx);
}

/* Everything still in the inboxes, in random batches. */
static void
drain(struct run *run)
{
	for (int to = 0; to < run->nrep; to++)
		while (run->rep[to].ninbox > 0)
			deliver(run, to, 1 + below(run, 200), 1);
}

/* Every change once more to every replica, shuffled, in random batches:
 * nothing may change. */
static void
redeliver_all(struct run *run)
{
	size_t *idx = malloc(run->nlog * sizeof *idx);

	assert_non_null(idx);
	for (int to = 0; to < run->nrep; to++) {
		for (size_t i = 0; i < run->nlog; i++)
			idx[i] = i;
		for (size_t i = run->nlog; i > 1; i--) {
			size_t j = below(run, i), tmp = idx[i - 1];
			idx[i - 1] = idx[j];
			idx[j] = tmp;
		}
		for (size_t i = 0; i < run->nlog;) {
			size_t n = 1 + below(run, 500);
			if (n > run->nlog - i)
				n = run->nlog - i;
			apply(run, to, idx + i, n);
			i += n;
		}
	}
	free(idx);
}

/* ---- the run ------------------------------------------------------------- */

/* Clocks drift and get corrected: now and then one steps back (an NTP fix,
 * a battery swap) or jumps ahead. */
static void
tick(struct run *run)
{
	run->t.now += (int64_t)below(run, 2000);
	if (below(run, 1000) < 5) {
		run->rep[below(run, (uint64_t)run->nrep)].gen.offset -=
		    1000 + (int64_t)below(run, 120000);
		run->clock_steps_back++;
	} else if (below(run, 1000) < 5) {
		run->rep[below(run, (uint64_t)run->nrep)].gen.offset +=
		    1000 + (int64_t)below(run, 60000);
	}
}

static void
make_change(struct run *run, int on)
{
	if (run->nlog == run->logcap) {
		size_t cap = run->logcap;
		run->log = grow(run->log, &run->logcap, sizeof *run->log);
		run->reached = grow(run->reached, &cap, sizeof *run->reached);
	}
	gen_change(&run->rep[on].gen, &gen_mix_converge, &run->log[run->nlog]);
	run->reached[run->nlog] = 1u << on;
	post(run, on, run->nlog);
	run->nlog++;
}

static void
run_ops(struct run *run, size_t ops)
{
	for (run->step = 0; run->step < ops; run->step++) {
		tick(run);
		make_change(run, (int)below(run, (uint64_t)run->nrep));
		if (below(run, 100) < 30)
			deliver(run, (int)below(run, (uint64_t)run->nrep),
			        1 + below(run, 64), 0);
	}
}

/* ---- comparing replicas -------------------------------------------------- */

static char *
dump(struct run *run, int i, size_t *len)
{
	struct gk_error err = {0};
	char *out;

	if (dump_records(run->rep[i].db, &out, len, &err) != GK_OK)
		fail_msg("seed %llu: dump_records: %s",
		         (unsigned long long)run->seed, err.msg);
	return out;
}

/* The end of the field of line text that holds position k: the next tab
 * or newline, or the end. */
static size_t
field_end(const char *s, size_t len, size_t k)
{
	while (k < len && s[k] != '\t' && s[k] != '\n')
		k++;
	return k;
}

/*
 * Fail with the first place where two texts differ: its line number, the
 * start of the line (table and row id in a dump) and the differing column
 * of each side.
 */
static void
assert_same_text(struct run *run, const char *what, int ia, const char *a,
                 size_t alen, int ib, const char *b, size_t blen)
{
	size_t k = 0, line = 1, start = 0, col = 0, head;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return;
	while (k < alen && k < blen && a[k] == b[k]) {
		if (a[k] == '\n') {
			line++;
			start = k + 1;
		}
		if (a[k] == '\t' || a[k] == '\n')
			col = k + 1;
		k++;
	}
	if (col < start)
		col = start;
	head = field_end(a, alen, start);
	if (head < alen && a[head] == '\t')
		head = field_end(a, alen, head + 1);
	if (head > col)
		head = col;
	int lh = (int)(head - start);
	int la = (int)(field_end(a, alen, k) - col);
	int lb = (int)(field_end(b, blen, k) - col);
	fail_msg("seed %llu: %s of replicas %d and %d differ at line %zu "
	         "(%.*s):\n  %d: %.*s\n  %d: %.*s",
	         (unsigned long long)run->seed, what, ia, ib, line,
	         lh > 200 ? 200 : lh, a + start, ia, la > 400 ? 400 : la,
	         a + col, ib, lb > 400 ? 400 : lb, b + col);
}

static int
stock_row(void *arg, const struct gk_stock_row *r)
{
	fprintf(arg, "%s %s %lld %lld %lld %lld %lld\n", r->depot, r->item,
	        (long long)r->on_hand, (long long)r->expired,
	        (long long)r->in_transit, (long long)r->minimum,
	        (long long)r->shortfall);
	return 0;
}

static int
points_row(void *arg, const struct gk_points_row *r)
{
	fprintf(arg, "%s %lld %lld\n", r->volunteer, (long long)r->points,
	        (long long)r->minutes);
	return 0;
}

static int
overdue_row(void *arg, const struct gk_overdue_row *r)
{
	fprintf(arg, "%s %d %d\n", r->hazard, r->past_deadline,
	        r->response_late);
	return 0;
}

/* The three views at a fixed now, as one text. */
static char *
views(struct run *run, int i, int64_t now, size_t *len)
{
	struct gk_policy pol;
	char *out = NULL;
	FILE *f = open_memstream(&out, len);
	sqlite3 *db = run->rep[i].db;

	assert_non_null(f);
	validate_policy_default(&pol);
	fputs("stock\n", f);
	assert_int_equal(views_stock(db, now / DAY_MS, stock_row, f), GK_OK);
	fputs("points\n", f);
	assert_int_equal(views_points(db, points_row, f), GK_OK);
	fputs("overdue\n", f);
	assert_int_equal(views_overdue(db, now, &pol, overdue_row, f), GK_OK);
	fclose(f);
	return out;
}

static void
assert_all_identical(struct run *run)
{
	size_t len0, vlen0, len, vlen;
	char *d0 = dump(run, 0, &len0);
	char *v0 = views(run, 0, run->t.now, &vlen0);

	for (int i = 1; i < run->nrep; i++) {
		char *d = dump(run, i, &len);
		char *v = views(run, i, run->t.now, &vlen);
		assert_same_text(run, "dump_records", 0, d0, len0, i, d, len);
		assert_same_text(run, "views", 0, v0, vlen0, i, v, vlen);
		free(d);
		free(v);
	}
	free(d0);
	free(v0);
}

struct stock_count {
	long long rows, negative;
};

static int
count_stock(void *arg, const struct gk_stock_row *r)
{
	struct stock_count *sc = arg;

	sc->rows++;
	sc->negative += r->on_hand < 0;
	return 0;
}

/* The data is not trivial: many rows, every workflow, real conflicts. */
static void
assert_not_trivial(struct run *run, size_t ops)
{
	sqlite3 *db = run->rep[0].db;
	struct stock_count sc = {0, 0};
	long long rows = 0, deleted = 0, statuses, conflicts;
	const struct gk_table *const *tables;
	char sql[160];
	int n;

	tables = record_tables(&n);
	for (int i = 0; i < n; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s",
		         tables[i]->name);
		rows += tu_int(db, sql);
		if (tables[i]->kind == GK_MUTABLE) {
			snprintf(sql, sizeof sql,
			         "SELECT count(*) FROM %s WHERE deleted = 1",
			         tables[i]->name);
			deleted += tu_int(db, sql);
		}
	}
	statuses = tu_int(db, "SELECT count(DISTINCT status) FROM hazards");
	conflicts = tu_int(db, "SELECT count(*) FROM hazard_events"
	                       " WHERE conflict = 1");
	assert_int_equal(views_stock(db, run->t.now / DAY_MS, count_stock, &sc),
	                 GK_OK);
	print_message(
	    "# seed %llu: %zu changes, %d replicas, %lld rows, "
	    "%lld deleted, %lld hazard statuses, %lld conflict events, "
	    "%lld stock rows (%lld negative), %zu batches, %zu "
	    "duplicated, %zu delayed, %zu clock steps back, %zu edits "
	    "lost to a later concurrent edit\n",
	    (unsigned long long)run->seed, run->nlog, run->nrep, rows, deleted,
	    statuses, conflicts, sc.rows, sc.negative, run->batches,
	    run->duplicated, run->delayed, run->clock_steps_back,
	    run->lost_edits);
	if (ops >= 5000) {
		if (rows < (long long)ops / 2 || deleted == 0 || statuses < 5 ||
		    conflicts == 0 || sc.negative == 0 ||
		    run->lost_edits == 0 || run->delayed == 0 ||
		    run->duplicated == 0)
			fail_msg("seed %llu: the run is too trivial to prove "
			         "anything (see the figures above)",
			         (unsigned long long)run->seed);
	}
}

/* ---- the tests ----------------------------------------------------------- */

static void
test_replicas_with_skewed_clocks_and_random_delivery_converge(void **state)
{
	const struct config *cfg = *state;
	struct run run;

	print_message("# seed %llu (GK_SEED=%llu replays this run)\n",
	              (unsigned long long)cfg->seed,
	              (unsigned long long)cfg->seed);
	run_init(&run, cfg->seed, cfg->replicas);
	run_ops(&run, cfg->ops);
	drain(&run);
	assert_all_identical(&run);
	redeliver_all(&run);
	assert_all_identical(&run);
	assert_not_trivial(&run, cfg->ops);
	run_free(&run);
}

static void
test_the_same_changes_forward_and_reversed_give_identical_dumps(void **state)
{
	const struct config *cfg = *state;
	struct run run;
	size_t idx[200], rev[200], len0, len1;
	char *d0, *d1;

	/* Made on replicas 0 and 1 in turn; replica 2 gets all 200 in the
	 * order made, in one batch, replica 3 backwards, one at a time. */
	run_init(&run, cfg->seed, 4);
	for (size_t i = 0; i < 200; i++) {
		run.t.now += (int64_t)below(&run, 5000);
		make_change(&run, (int)below(&run, 2));
	}
	for (size_t i = 0; i < 200; i++) {
		idx[i] = i;
		rev[i] = 199 - i;
	}
	apply(&run, 2, idx, 200);
	for (size_t i = 0; i < 200; i++)
		apply(&run, 3, &rev[i], 1);
	d0 = dump(&run, 2, &len0);
	d1 = dump(&run, 3, &len1);
	assert_same_text(&run, "dump_records", 2, d0, len0, 3, d1, len1);
	assert_true(len0 > 1000);
	free(d0);
	free(d1);
	run_free(&run);
}

static size_t
env_size(const char *name, size_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v == 0) {
		fprintf(stderr, "%s=%s: not a positive number\n", name, s);
		exit(2);
	}
	return (size_t)v;
}

int
main(void)
{
	struct config cfg;
	const char *seed = getenv("GK_SEED");

	cfg.seed = seed != NULL && *seed
	               ? strtoull(seed, NULL, 10)
	               : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	cfg.ops = env_size("GK_CONVERGE_OPS", 10000);
	cfg.replicas = (int)env_size("GK_CONVERGE_REPLICAS", 5);
	if (cfg.replicas < 2 || cfg.replicas > MAX_REPLICAS) {
		fprintf(stderr, "GK_CONVERGE_REPLICAS: 2 to %d\n",
		        MAX_REPLICAS);
		return 2;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate(
	        test_replicas_with_skewed_clocks_and_random_delivery_converge,
	        &cfg),
	    cmocka_unit_test_prestate(
	        test_the_same_changes_forward_and_reversed_give_identical_dumps,
	        &cfg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
