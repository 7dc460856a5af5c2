/*
 * fuzz-pull.c: libFuzzer target for what the sync agent does with a
 * server's answer: a pull page (agent_apply_page) and a push answer
 * (agent_push_apply). The server is untrusted input.
 *
 * Each input is parsed the way net.c parses any answer (json_loadb with
 * duplicate keys refused, an object, at most NET_MAX_DEPTH deep; else the
 * agent refuses it as "not JSON" before any handler sees it) and handed
 * to both handlers, each on the same replica state: a replica in a
 * temporary file, made once per process, holding a few pulled records
 * and a batch of four local changes marked "sent", as if just pushed.
 *
 * What must hold, whatever the bytes (a broken rule abort()s):
 *  - a refused answer comes with its code and message, leaves no
 *    transaction open, and changes nothing: cursor, db_id, clock and the
 *    outbox stay as they were;
 *  - an applied page stores exactly its cursor and db_id;
 *  - an applied push answer leaves no row of the batch "sent", a
 *    rejected_changes row for each rejection, and every outbox row
 *    decodable (the next push must be able to send it);
 *  - the stored clock parses and the next local stamp is a valid one
 *    (top bit clear, above the last);
 *  - PRAGMA integrity_check says ok.
 * After an answer that committed, the replica is copied back from a
 * pristine snapshot (sqlite3_backup), so inputs never depend on each
 * other. tests/fuzz/replay.c replays the corpus (tests/fuzz/corpus-pull)
 * in `make check`.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NOW    INT64_C(1795132800000) /* 2026-11-20T00:00:00Z */
#define FZ_DEPTH  12                     /* net.c's NET_MAX_DEPTH */
#define FZ_USER   "0193a1b2-0000-7000-8000-0000000000aa"
#define FZ_STREET "0193a1b2-0000-7000-8000-000000000001"
#define FZ_COMM   "0193a1b2-0000-7000-8000-000000000002"
#define FZ_GRID   "0193a1b2-0000-7000-8000-000000000003"
#define FZ_HAZARD "0193a1b2-0000-7000-8000-000000000010"
#define FZ_EVENT  "0193a1b2-0000-7000-8000-000000000011"
#define FZ_DBID   "0193a1b2-0000-7000-8000-0000000000db"
#define FZ_NBATCH 4

/* What the replica holds before each input: a first page already pulled. */
static const char fz_page0[] =
    "{\"db_id\":\"" FZ_DBID "\",\"cursor\":\"v1.start\",\"more\":false,"
    "\"drop\":[],\"changes\":["
    "{\"id\":\"0193a1b2-0000-7000-8000-000000000101\",\"node\":"
    "\"00000000000000aa\",\"hlc\":\"018d000000000000\",\"table\":\"units\","
    "\"op\":\"insert\",\"row\":\"" FZ_STREET "\",\"author\":\"" FZ_USER
    "\",\"fields\":{\"code\":\"XF\",\"level\":\"street\",\"name\":\"X\"}},"
    "{\"id\":\"0193a1b2-0000-7000-8000-000000000102\",\"node\":"
    "\"00000000000000aa\",\"hlc\":\"018d000000000001\",\"table\":\"units\","
    "\"op\":\"insert\",\"row\":\"" FZ_COMM "\",\"author\":\"" FZ_USER
    "\",\"fields\":{\"code\":\"XF-HP\",\"level\":\"community\","
    "\"name\":\"H\",\"parent\":\"" FZ_STREET "\"}},"
    "{\"id\":\"0193a1b2-0000-7000-8000-000000000103\",\"node\":"
    "\"00000000000000aa\",\"hlc\":\"018d000000000002\",\"table\":\"units\","
    "\"op\":\"insert\",\"row\":\"" FZ_GRID "\",\"author\":\"" FZ_USER
    "\",\"fields\":{\"code\":\"XF-HP-01\",\"level\":\"grid\","
    "\"name\":\"G\",\"parent\":\"" FZ_COMM "\",\"households\":3}}]}";

struct fz {
	char dir[256], path[300];
	struct gk_testenv te;
	struct gk_client c;
	sqlite3 *pristine;
	uint64_t clock0;
	int64_t seqs[FZ_NBATCH];
	char ids[FZ_NBATCH][GK_ID_LEN + 1];
};

static struct fz *fz;

static void
fz_fail(const char *what, const struct gk_error *err)
{
	fprintf(stderr, "fuzz-pull: %s (%s: %s)\n", what,
	        err != NULL ? gk_code_name(err->code) : "-",
	        err != NULL ? err->msg : "");
	abort();
}

static void
fz_cleanup(void)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal",
	                                     ".token"};
	char p[400];

	if (fz == NULL)
		return;
	client_close(&fz->c);
	if (fz->pristine != NULL)
		sqlite3_close(fz->pristine);
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(p, sizeof p, "%s%s", fz->path, suffix[i]);
		unlink(p);
	}
	rmdir(fz->dir);
	free(fz);
	fz = NULL;
}

static void
fz_exec(const char *sql)
{
	struct gk_error err = {0};

	if (db_exec(fz->c.db, sql, &err) != GK_OK)
		fz_fail(sql, &err);
}

/* One local write as the station user, the way an action makes it. */
static void
fz_write(const char *table, enum gk_op op, const char *row, const char *json)
{
	struct gk_error err = {0};
	json_t *fields = json_loads(json, 0, NULL);

	if (fields == NULL || write_begin(&fz->c, &err) != GK_OK)
		fz_fail("write_begin", &err);
	if (write_change_tx(&fz->c, table, op, row, fields, NULL, &err) !=
	    GK_OK) {
		write_rollback(&fz->c);
		fz_fail(table, &err);
	}
	if (write_commit(&fz->c, &err) != GK_OK)
		fz_fail("write_commit", &err);
	json_decref(fields);
}

static void
fz_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct gk_error err = {0};
	sqlite3_backup *b;
	sqlite3_stmt *st;
	json_t *page;
	int64_t n;
	size_t i = 0;

	if ((fz = calloc(1, sizeof *fz)) == NULL)
		abort();
	/* A tmpfs keeps the commits' fsyncs cheap. */
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(fz->dir, sizeof fz->dir, "%s/gk-fuzz-pull.XXXXXX", tmp);
	if (mkdtemp(fz->dir) == NULL)
		fz_fail("mkdtemp", NULL);
	snprintf(fz->path, sizeof fz->path, "%s/replica.db", fz->dir);
	atexit(fz_cleanup);

	gk_testenv_init(&fz->te, 7, FZ_NOW);
	fz->c.env = gk_testenv_env(&fz->te);
	fz->c.db_path = fz->path;
	validate_policy_default(&fz->c.policy);
	if (replica_open(&fz->c, REPLICA_CREATE, NULL, &err) != GK_OK)
		fz_fail("replica_open", &err);
	fz->c.sess.logged_in = 1;
	snprintf(fz->c.sess.user_id, sizeof fz->c.sess.user_id, "%s", FZ_USER);
	snprintf(fz->c.sess.server, sizeof fz->c.sess.server, "%s",
	         "http://127.0.0.1:1");
	snprintf(fz->c.sess.unit, sizeof fz->c.sess.unit, "%s", FZ_COMM);
	fz->c.sess.role = GK_ROLE_STATION;

	if ((page = json_loads(fz_page0, JSON_REJECT_DUPLICATES, NULL)) ==
	        NULL ||
	    agent_apply_page(&fz->c, page, &n, &err) != GK_OK)
		fz_fail("the first page", &err);
	json_decref(page);

	/* The batch in flight: a report, its event, an edit, a note. */
	fz_write("hazards", GK_OP_INSERT, FZ_HAZARD,
	         "{\"grid\":\"" FZ_GRID "\",\"category\":\"fire\","
	         "\"title\":\"楼道堆物\",\"place\":\"3 号楼\","
	         "\"risk_level\":3,\"occurred_at\":\"2026-11-19T08:00:00Z\"}");
	fz_write("hazard_events", GK_OP_APPEND, FZ_EVENT,
	         "{\"hazard\":\"" FZ_HAZARD "\",\"kind\":\"transition\","
	         "\"from_status\":\"new\",\"to_status\":\"reported\","
	         "\"occurred_at\":\"2026-11-19T08:00:00Z\"}");
	fz->te.now += 60000;
	fz_write("hazards", GK_OP_UPDATE, FZ_HAZARD, "{\"risk_level\":4}");
	fz_write("hazard_events", GK_OP_APPEND,
	         "0193a1b2-0000-7000-8000-000000000012",
	         "{\"hazard\":\"" FZ_HAZARD "\",\"kind\":\"note\","
	         "\"note\":\"已通知物业\","
	         "\"occurred_at\":\"2026-11-19T08:01:00Z\"}");
	fz_exec("UPDATE outbox SET state = 'sent', sent_at = 1");

	if (sqlite3_prepare_v2(fz->c.db,
	                       "SELECT seq, id FROM outbox ORDER BY seq", -1,
	                       &st, NULL) != SQLITE_OK)
		fz_fail("outbox", NULL);
	while (sqlite3_step(st) == SQLITE_ROW && i < FZ_NBATCH) {
		fz->seqs[i] = sqlite3_column_int64(st, 0);
		snprintf(fz->ids[i], sizeof fz->ids[i], "%s",
		         (const char *)sqlite3_column_text(st, 1));
		i++;
	}
	sqlite3_finalize(st);
	if (i != FZ_NBATCH)
		fz_fail("the batch is not four changes", NULL);
	if (getenv("FUZZ_PULL_IDS") != NULL)
		for (i = 0; i < FZ_NBATCH; i++)
			fprintf(stderr, "batch %zu: %s\n", i, fz->ids[i]);
	fz->clock0 = fz->c.clock.last;

	/* The snapshot every input starts from. */
	if (sqlite3_open(":memory:", &fz->pristine) != SQLITE_OK ||
	    (b = sqlite3_backup_init(fz->pristine, "main", fz->c.db, "main")) ==
	        NULL ||
	    sqlite3_backup_step(b, -1) != SQLITE_DONE ||
	    sqlite3_backup_finish(b) != SQLITE_OK)
		fz_fail("snapshot", NULL);
}

/* Put the replica (and the client's memory of it) back as it was. */
static void
fz_restore(void)
{
	sqlite3_backup *b;

	if ((b = sqlite3_backup_init(fz->c.db, "main", fz->pristine, "main")) ==
	        NULL ||
	    sqlite3_backup_step(b, -1) != SQLITE_DONE ||
	    sqlite3_backup_finish(b) != SQLITE_OK)
		fz_fail("restore", NULL);
}

static void
fz_reset_memory(void)
{
	fz->c.clock.last = fz->clock0;
	fz->c.clock_offset_ms = 0;
	fz->te.now = FZ_NOW + 120000;
}

/* The stored value of a client_meta key, or "" (caller frees). */
static char *
fz_meta(const char *key)
{
	char buf[512];
	struct gk_error err = {0};

	if (replica_meta_get(&fz->c, key, buf, sizeof buf, &err) != GK_OK)
		buf[0] = '\0';
	return strdup(buf);
}

static int64_t
fz_count(const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(fz->c.db, sql, -1, &st, NULL) != SQLITE_OK)
		fz_fail(sql, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* What holds after every answer, refused or taken. */
static void
fz_check_common(int rc, const struct gk_error *err)
{
	struct hlc next = fz->c.clock;
	uint64_t stored, stamp;
	char *h = fz_meta("hlc");
	sqlite3_stmt *st;

	if (!sqlite3_get_autocommit(fz->c.db))
		fz_fail("a transaction was left open", err);
	if (rc != GK_OK && (rc <= GK_OK || rc >= GK_CODE_COUNT ||
	                    err->code != rc || err->msg[0] == '\0'))
		fz_fail("a refusal without its code or message", err);
	if (hlc_parse(h, strlen(h), &stored) != GK_OK ||
	    stored > (uint64_t)INT64_MAX)
		fz_fail("the stored clock does not parse", NULL);
	free(h);
	stamp = hlc_now(&next, client_now_ms(&fz->c));
	if (stamp > (uint64_t)INT64_MAX || stamp <= fz->c.clock.last)
		fz_fail("the next local stamp is not a valid one", NULL);
	if (rc != GK_OK)
		return;
	if (sqlite3_prepare_v2(fz->c.db, "PRAGMA integrity_check", -1, &st,
	                       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		fz_fail("integrity_check", NULL);
	sqlite3_finalize(st);
}

static void
fz_pull(json_t *page)
{
	char *cursor0 = fz_meta("cursor"), *dbid0 = fz_meta("db_id");
	char *hlc0 = fz_meta("hlc");
	struct gk_error err = {0};
	int64_t n = -1;
	char *cursor, *dbid, *hlc;
	int rc;

	fz_reset_memory();
	rc = agent_apply_page(&fz->c, page, &n, &err);
	fz_check_common(rc, &err);
	cursor = fz_meta("cursor");
	dbid = fz_meta("db_id");
	hlc = fz_meta("hlc");
	if (rc != GK_OK) {
		if (strcmp(cursor, cursor0) != 0)
			fz_fail("a refused page moved the cursor", &err);
		if (strcmp(dbid, dbid0) != 0 || strcmp(hlc, hlc0) != 0)
			fz_fail("a refused page changed db_id or the clock",
			        &err);
	} else {
		if (strcmp(cursor, json_string_value(
		                       json_object_get(page, "cursor"))) != 0 ||
		    strcmp(dbid, json_string_value(
		                     json_object_get(page, "db_id"))) != 0)
			fz_fail("an applied page stored another cursor", NULL);
		if (n !=
		    (int64_t)json_array_size(json_object_get(page, "changes")))
			fz_fail("an applied page miscounted its changes", NULL);
		fz_restore();
	}
	free(cursor0);
	free(dbid0);
	free(hlc0);
	free(cursor);
	free(dbid);
	free(hlc);
}

static void
fz_push(json_t *ans)
{
	char *cursor0 = fz_meta("cursor"), *hlc0 = fz_meta("hlc");
	struct gk_error err = {0};
	struct gk_agent a;
	sqlite3_stmt *st;
	uint64_t server_hlc;
	json_t *shlc;
	char *cursor, *hlc;
	int rc;

	memset(&a, 0, sizeof a);
	a.c = &fz->c;
	a.seqs = fz->seqs;
	a.ids = fz->ids;
	a.nbatch = a.cap = FZ_NBATCH;
	fz_reset_memory();
	rc = agent_push_apply(&a, ans, &err);
	fz_check_common(rc, &err);
	cursor = fz_meta("cursor");
	hlc = fz_meta("hlc");
	if (strcmp(cursor, cursor0) != 0)
		fz_fail("a push answer moved the cursor", &err);
	if (rc != GK_OK) {
		if (strcmp(hlc, hlc0) != 0)
			fz_fail("a refused push answer changed the clock",
			        &err);
		if (fz_count("SELECT count(*) FROM outbox WHERE state = "
		             "'sent'") != FZ_NBATCH ||
		    fz_count("SELECT count(*) FROM rejected_changes") != 0)
			fz_fail("a refused push answer changed the outbox",
			        &err);
	} else {
		if (fz_count("SELECT count(*) FROM outbox WHERE state = "
		             "'sent'") != 0)
			fz_fail("a push answer left a change 'sent'", NULL);
		if (fz_count("SELECT count(*) FROM outbox WHERE state = "
		             "'rejected'") != a.r.rejected ||
		    fz_count("SELECT count(*) FROM rejected_changes") !=
		        a.r.rejected)
			fz_fail("rejections miscounted", NULL);
		if (fz_count("SELECT count(*) FROM outbox WHERE state = "
		             "'accepted'") != a.r.accepted + a.r.duplicate)
			fz_fail("acceptances miscounted", NULL);
		/* A re-stamped change ("saved" again) sorts after the
		 * server's clock, which the answer carried. */
		shlc = json_object_get(ans, "server_hlc");
		if (hlc_parse(json_string_value(shlc), json_string_length(shlc),
		              &server_hlc) != GK_OK)
			fz_fail("an answer taken without its server_hlc", NULL);
		if (sqlite3_prepare_v2(fz->c.db,
		                       "SELECT json, state FROM outbox", -1,
		                       &st, NULL) != SQLITE_OK)
			fz_fail("outbox", NULL);
		while (sqlite3_step(st) == SQLITE_ROW) {
			struct gk_change ch;
			struct gk_error ce = {0};

			if (change_decode(
			        (const char *)sqlite3_column_text(st, 0),
			        (size_t)sqlite3_column_bytes(st, 0), &ch,
			        &ce) != GK_OK)
				fz_fail("an outbox change no longer decodes",
				        &ce);
			if (strcmp((const char *)sqlite3_column_text(st, 1),
			           "saved") == 0 &&
			    ch.hlc <= server_hlc)
				fz_fail("a re-stamped change is not after the "
				        "server's clock",
				        NULL);
			change_clear(&ch);
		}
		sqlite3_finalize(st);
		fz_restore();
	}
	free(cursor0);
	free(hlc0);
	free(cursor);
	free(hlc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *j;

	if (fz == NULL)
		fz_setup();
	/* net.c's net_parse: what it refuses never reaches a handler. */
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return 0;
	if (json_is_object(j) && net_json_depth(j, FZ_DEPTH + 1) <= FZ_DEPTH) {
		fz_pull(j);
		fz_push(j);
	}
	json_decref(j);
	return 0;
}
