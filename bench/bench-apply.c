/*
 * bench-apply.c: how fast a replica takes in changes, as a pull or a push
 * applies them: merge_apply_batch on a file-backed replica opened the way
 * the client opens it (db_open, schema_migrate GK_SIDE_CLIENT: WAL,
 * synchronous=FULL, 64 MiB page cache), starting empty.
 *
 * The changes come from tests/gen.c with its realistic mix (mostly stock
 * moves, point entries, hazard events and inspections, with edits of the
 * mutable records), made on a few generating nodes with skewed clocks.
 * They are generated in memory a chunk at a time and only the apply is
 * timed; the generation time (which includes validate_change) is shown
 * apart. A line per 100,000 changes shows whether the rate falls as the
 * database grows.
 *
 *   bench-apply [-n COUNT] [-b BATCH] [-f FILE] [-s SEED] [-p SQL]...
 *
 * Defaults: 1,000,000 changes, 1,000 per transaction, a temporary file
 * (removed at the end; a named one, which must be new or empty, is kept),
 * seed 1. -p runs SQL after the schema is made, for experiments ("PRAGMA
 * wal_autocheckpoint=10000", "DROP INDEX ..."); the figures it gives are
 * not the product's. Besides the rate, each line shows the pages SQLite
 * wrote and read (cache misses) per change: commit cost is page volume.
 * See bench/README.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"

#define START_MS     1795161600000LL /* 2026-11-20T08:00:00Z */
#define NODES        4
#define REPORT_EVERY 100000
#define MAX_SQL      16

struct bench {
	size_t count, batch, chunk;
	uint64_t seed;
	char path[4096];
	int temporary;
	const char *sql[MAX_SQL]; /* -p, in order */
	int nsql;
};

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-apply [-n COUNT] [-b BATCH] [-f FILE] "
	                "[-s SEED] [-p SQL]...\n");
	exit(2);
}

static size_t
parse_count(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		usage();
	return (size_t)v;
}

static void
parse_args(struct bench *b, int argc, char **argv)
{
	int ch;

	b->count = 1000000;
	b->batch = 1000;
	b->seed = 1;
	b->path[0] = '\0';
	b->nsql = 0;
	while ((ch = getopt(argc, argv, "n:b:f:s:p:")) != -1) {
		switch (ch) {
		case 'n':
			b->count = parse_count(optarg);
			break;
		case 'b':
			b->batch = parse_count(optarg);
			break;
		case 'f':
			snprintf(b->path, sizeof b->path, "%s", optarg);
			break;
		case 's':
			b->seed = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			if (b->nsql == MAX_SQL)
				usage();
			b->sql[b->nsql++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* Whole batches per chunk, about 10,000 changes at a time. */
	b->chunk = b->batch * (b->batch < 10000 ? 10000 / b->batch : 1);
}

/* A fresh temporary file name beside the others in $TMPDIR. */
static void
temp_path(struct bench *b)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(b->path, sizeof b->path, "%s/gk-bench-XXXXXX",
	         dir && *dir ? dir : "/tmp");
	if ((fd = mkstemp(b->path)) < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd); /* SQLite takes an empty file as an empty database */
	b->temporary = 1;
}

static void
remove_db(const char *path)
{
	char aux[4200];

	unlink(path);
	snprintf(aux, sizeof aux, "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof aux, "%s-shm", path);
	unlink(aux);
}

static double
file_mib(const char *path, const char *suffix)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof p, "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (double)st.st_size / 1048576.0 : 0.0;
}

/* A cumulative page counter of the connection (SQLITE_DBSTATUS_*). */
static long long
db_pages(sqlite3 *db, int op)
{
	int cur = 0, hi = 0;

	sqlite3_db_status(db, op, &cur, &hi, 0);
	return cur;
}

int
main(int argc, char **argv)
{
	static const int64_t offsets[NODES] = {0, 30000, -90000, 5000};
	struct bench b;
	struct gk_testenv t;
	struct gen_world w;
	struct gen_replica nodes[NODES];
	struct gk_error err = {0};
	struct gk_change *cs;
	struct gk_merge *m;
	struct rusage ru;
	sqlite3 *db;
	size_t done = 0, newrows = 0, last_report = 0;
	long long written = 0, read = 0;
	double gen_s = 0, apply_s = 0, window_s = 0, t0;
	enum gk_applied *results;

	parse_args(&b, argc, argv);
	if (b.path[0] == '\0')
		temp_path(&b);
	else if (file_mib(b.path, "") > 0) {
		fprintf(stderr,
		        "bench-apply: %s is not empty: the benchmark "
		        "starts from an empty replica\n",
		        b.path);
		return 1;
	}
	if (db_open(b.path, GK_DB_CREATE, &db, &err) != GK_OK ||
	    schema_migrate(db, GK_SIDE_CLIENT, &err) != GK_OK ||
	    (m = merge_new(db, &err)) == NULL) {
		fprintf(stderr, "bench-apply: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < b.nsql; i++)
		if (db_exec(db, b.sql[i], &err) != GK_OK) {
			fprintf(stderr, "bench-apply: -p %s: %s\n", b.sql[i],
			        err.msg);
			return 1;
		}
	cs = calloc(b.chunk, sizeof *cs);
	results = calloc(b.batch, sizeof *results);
	if (cs == NULL || results == NULL) {
		fprintf(stderr, "bench-apply: out of memory\n");
		return 1;
	}
	gk_testenv_init(&t, b.seed, START_MS);
	gen_world_init(&w, &t);
	for (int i = 0; i < NODES; i++)
		if (gen_replica_init(&nodes[i], &w, NULL, offsets[i], &err) !=
		    GK_OK) {
			fprintf(stderr, "bench-apply: %s\n", err.msg);
			return 1;
		}

	printf("bench-apply: %zu changes, %zu per transaction, seed %llu, "
	       "SQLite %s\n  file %s\n",
	       b.count, b.batch, (unsigned long long)b.seed,
	       sqlite3_libversion(), b.path);
	for (int i = 0; i < b.nsql; i++)
		printf("  -p %s\n", b.sql[i]);
	printf("%-17s %10s %8s %14s %13s\n", "changes", "changes/s", "apply s",
	       "pages written", "pages read");
	printf("%-17s %10s %8s %14s %13s\n", "", "", "", "per change",
	       "per change");
	while (done < b.count) {
		size_t n = b.count - done < b.chunk ? b.count - done : b.chunk;

		/* Generate (untimed for the rate): people at work on a few
		 * stations, a change every 2.5 s on average. */
		t0 = seconds();
		for (size_t i = 0; i < n; i++) {
			t.now += (int64_t)gk_testenv_below(&t, 5000);
			gen_change(&nodes[gk_testenv_below(&t, NODES)],
			           &gen_mix_bench, &cs[i]);
		}
		gen_s += seconds() - t0;

		t0 = seconds();
		for (size_t i = 0; i < n; i += b.batch) {
			size_t k = n - i < b.batch ? n - i : b.batch;
			if (merge_apply_batch(m, cs + i, k, results, &err) !=
			    GK_OK) {
				fprintf(stderr, "bench-apply: %s: %s\n",
				        gk_code_name(err.code), err.msg);
				return 1;
			}
			for (size_t j = 0; j < k; j++)
				newrows += results[j] == GK_APPLY_NEW;
		}
		double dt = seconds() - t0;
		apply_s += dt;
		window_s += dt;
		for (size_t i = 0; i < n; i++)
			change_clear(&cs[i]);
		done += n;
		if (done - last_report >= REPORT_EVERY || done == b.count) {
			char label[32];
			snprintf(label, sizeof label, "%zu-%zu", last_report,
			         done);
			long long wr =
			    db_pages(db, SQLITE_DBSTATUS_CACHE_WRITE);
			long long rd = db_pages(db, SQLITE_DBSTATUS_CACHE_MISS);
			printf(
			    "%-17s %10.0f %8.2f %14.2f %13.2f\n", label,
			    (double)(done - last_report) / window_s, window_s,
			    (double)(wr - written) /
			        (double)(done - last_report),
			    (double)(rd - read) / (double)(done - last_report));
			written = wr;
			read = rd;
			fflush(stdout);
			last_report = done;
			window_s = 0;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	printf(
	    "%-17s %10.0f %8.2f %14.2f %13.2f\n", "overall",
	    (double)b.count / apply_s, apply_s,
	    (double)db_pages(db, SQLITE_DBSTATUS_CACHE_WRITE) / (double)b.count,
	    (double)db_pages(db, SQLITE_DBSTATUS_CACHE_MISS) / (double)b.count);
	printf("generating took %.2f s (not in the rate)\n", gen_s);
	printf("applied new: %zu of %zu; database %.1f MiB + WAL %.1f MiB; "
	       "peak RSS %ld MiB\n",
	       newrows, b.count, file_mib(b.path, ""), file_mib(b.path, "-wal"),
	       ru.ru_maxrss / 1024);
	printf("made:");
	for (int op = 0; op < GEN_OP_COUNT; op++)
		printf(" %s=%llu", gen_op_name((enum gen_op)op),
		       (unsigned long long)w.made[op]);
	printf("\n");

	for (int i = 0; i < NODES; i++)
		gen_replica_free(&nodes[i]);
	gen_world_free(&w);
	merge_free(m);
	db_close(db);
	free(cs);
	free(results);
	if (b.temporary)
		remove_db(b.path);
	return 0;
}
