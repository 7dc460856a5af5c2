/*
 * test-validate.c: the validator, driven by the data files in
 * tests/validate/ and by a few cases that JSON text cannot express.
 *
 * Each *.test file holds cases separated by blank lines (like jq's
 * tests/jq.test); lines starting with # are comments, and the first
 * comment of a case names it:
 *
 *   # an issue must lower stock
 *   role: station
 *   setup: {a change applied to a fresh replica first; any number}
 *   stateful: yes        (run validate_change_tx even without setup)
 *   change: {"id": ..., "table": "stock_moves", ...}
 *   expect: wrong_sign   (ok, or the name of a code, see error.c)
 *
 * The change is decoded with change_decode, so envelope errors are cases
 * too; then validate_change runs, and validate_change_tx on a replica made
 * from the setup when the case has setup or is stateful. Every case is one
 * cmocka test, named "file:line description".
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define CHG_ID "\"id\":\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""
#define ENVELOPE                                                               \
	"{" CHG_ID                                                             \
	",\"node\":\"8f3a2c1d4e5b6a70\",\"hlc\":\"0193a1b2c3d40001\","
#define ROW "\"row\":\"0193a1b2-c3d4-7e5f-8a9b-0000000000b1\""

/* One case of a data file; see the top of this file. */
struct vcase {
	char name[200];
	char where[80]; /* "file:line" of the change */
	enum gk_role role;
	int stateful;
	char *change;
	char **setup;
	size_t nsetup;
	char expect[32];
	int nkeys;
	char *bad; /* the file itself is wrong: why */
};

struct suite {
	struct vcase *cases;
	size_t n, cap;
	int nfiles;
};

/* ---- reading the data files --------------------------------------------- */

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static struct vcase *
case_new(struct suite *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->cases = realloc(s->cases, s->cap * sizeof *s->cases);
		if (s->cases == NULL)
			abort();
	}
	memset(&s->cases[s->n], 0, sizeof s->cases[0]);
	s->cases[s->n].role = GK_ROLE_COUNT;
	return &s->cases[s->n++];
}

static int
code_known(const char *name)
{
	for (int i = 0; i < GK_CODE_COUNT; i++)
		if (strcmp(gk_code_name(i), name) == 0)
			return 1;
	return 0;
}

/* Mark a case (or a new one) as a mistake of the data file. */
static void
case_bad(struct suite *s, struct vcase *vc, const char *file, int line,
         const char *why)
{
	char buf[256];

	if (vc == NULL) {
		vc = case_new(s);
		snprintf(vc->name, sizeof vc->name, "%s:%d data file", file,
		         line);
	}
	snprintf(buf, sizeof buf, "%s:%d: %s", file, line, why);
	free(vc->bad);
	vc->bad = xstrdup(buf);
}

/* The block being read is complete: a case says everything; a block of
 * comments only is no case. */
static void
case_end(struct suite *s, struct vcase *vc, const char *file, int line)
{
	if (vc == NULL || vc->bad != NULL)
		return;
	if (vc->nkeys == 0) {
		s->n--; /* vc is the last case */
		return;
	}
	if (vc->change == NULL)
		case_bad(s, vc, file, line, "case has no change:");
	else if (vc->role == GK_ROLE_COUNT)
		case_bad(s, vc, file, line, "case has no role:");
	else if (vc->expect[0] == '\0')
		case_bad(s, vc, file, line, "case has no expect:");
	else if (!code_known(vc->expect))
		case_bad(s, vc, file, line, "expect: names no code");
}

static void
case_key(struct suite *s, struct vcase *vc, const char *file, int line,
         char *text)
{
	char *val = strchr(text, ':');

	vc->nkeys++;
	if (val == NULL) {
		case_bad(s, vc, file, line, "not a key: value line");
		return;
	}
	*val++ = '\0';
	while (*val == ' ')
		val++;
	if (strcmp(text, "role") == 0) {
		if (record_role_parse(val, &vc->role) != GK_OK)
			case_bad(s, vc, file, line, "unknown role");
	} else if (strcmp(text, "change") == 0) {
		free(vc->change);
		vc->change = xstrdup(val);
		snprintf(vc->where, sizeof vc->where, "%s:%d", file, line);
	} else if (strcmp(text, "setup") == 0) {
		vc->setup =
		    realloc(vc->setup, (vc->nsetup + 1) * sizeof(char *));
		if (vc->setup == NULL)
			abort();
		vc->setup[vc->nsetup++] = xstrdup(val);
	} else if (strcmp(text, "stateful") == 0) {
		vc->stateful = strcmp(val, "yes") == 0;
	} else if (strcmp(text, "expect") == 0) {
		snprintf(vc->expect, sizeof vc->expect, "%s", val);
	} else {
		case_bad(s, vc, file, line, "unknown key");
	}
}

static void
load_file(struct suite *s, const char *dir, const char *file)
{
	char path[4096], *buf, *p, *nl;
	struct vcase *vc = NULL;
	int line = 0;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((buf = tu_slurp(path, NULL)) == NULL) {
		case_bad(s, NULL, file, 0, "cannot be read");
		return;
	}
	s->nfiles++;
	for (p = buf; p != NULL && *p != '\0'; p = nl) {
		line++;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (*p == '\0') {
			case_end(s, vc, file, line);
			vc = NULL;
			continue;
		}
		if (vc == NULL) {
			vc = case_new(s);
			snprintf(vc->name, sizeof vc->name, "%s:%d", file,
			         line);
		}
		if (*p == '#') {
			/* The first comment names the case; TAP knows no '#'.
			 */
			size_t n = strlen(vc->name);
			if (vc->change == NULL && strchr(vc->name, ' ') == NULL)
				snprintf(vc->name + n, sizeof vc->name - n,
				         " %s", p + 1 + strspn(p + 1, "# "));
			continue;
		}
		case_key(s, vc, file, line, p);
	}
	case_end(s, vc, file, line);
	free(buf);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.test file of dir, in name order. */
static void
load_dir(struct suite *s, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (d == NULL) {
		case_bad(s, NULL, dir, 0, "cannot open the directory");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".test") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		if (names == NULL)
			abort();
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		load_file(s, dir, names[i]);
		free(names[i]);
	}
	free(names);
}

static void
suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct vcase *vc = &s->cases[i];
		for (size_t j = 0; j < vc->nsetup; j++)
			free(vc->setup[j]);
		free(vc->setup);
		free(vc->change);
		free(vc->bad);
	}
	free(s->cases);
}

/* ---- running one case ------------------------------------------------- */

/*
 * A refusal must not echo what came in: no unknown key, and no string
 * value other than our own words, may appear in the message.
 */
static const char *
echoed(const struct gk_change *c, const char *msg)
{
	const char *k;
	json_t *v;

	json_object_foreach (c->fields, k, v) {
		int i = record_field(c->table, k);
		const char *s = json_string_value(v);

		if (i < 0 && strstr(msg, k) != NULL)
			return k;
		if (i >= 0 && c->table->fields[i].type != GK_F_ENUM &&
		    s != NULL && strlen(s) >= 4 && strstr(msg, s) != NULL)
			return k;
	}
	return NULL;
}

/* Apply the setup to a fresh replica and run validate_change_tx on it. */
static int
run_tx(const struct vcase *vc, const struct gk_change *c,
       const struct gk_policy *pol, struct gk_error *err)
{
	struct gk_actor admin = {GK_ROLE_ADMIN, NULL};
	sqlite3 *db = tu_replica();
	int rc;

	for (size_t i = 0; i < vc->nsetup; i++) {
		struct gk_change sc;
		struct gk_error serr = {0};

		tu_decode(&sc, vc->setup[i]);
		rc = validate_change(&sc, &admin, pol, &serr);
		change_clear(&sc);
		if (rc != GK_OK)
			fail_msg("%s: setup %zu is not valid: %s: %s",
			         vc->where, i + 1, gk_code_name(rc), serr.msg);
		tu_apply(db, vc->setup[i]);
	}
	assert_int_equal(db_begin(db), GK_OK);
	rc = validate_change_tx(db, c, pol, err);
	db_rollback(db);
	db_close(db);
	return rc;
}

static void
run_case(void **state)
{
	const struct vcase *vc = *state;
	struct gk_actor actor = {vc->role, NULL};
	struct gk_error err = {0};
	struct gk_policy pol;
	struct gk_change c;
	const char *echo = NULL;
	int rc;

	if (vc->bad != NULL)
		fail_msg("%s", vc->bad);
	validate_policy_default(&pol);
	rc = change_decode(vc->change, strlen(vc->change), &c, &err);
	if (rc == GK_OK) {
		rc = validate_change(&c, &actor, &pol, &err);
		if (rc == GK_OK && (vc->nsetup > 0 || vc->stateful))
			rc = run_tx(vc, &c, &pol, &err);
		if (rc != GK_OK)
			echo = echoed(&c, err.msg);
		change_clear(&c);
	}
	if (strcmp(gk_code_name(rc), vc->expect) != 0)
		fail_msg("%s: expected %s, got %s%s%s", vc->where, vc->expect,
		         gk_code_name(rc), rc ? ": " : "", rc ? err.msg : "");
	if (rc != GK_OK && err.msg[0] == '\0')
		fail_msg("%s: %s without a message", vc->where,
		         gk_code_name(rc));
	if (echo != NULL)
		fail_msg("%s: the message echoes the value of a field: %s",
		         vc->where, err.msg);
}

/* ---- cases written in C ------------------------------------------------- */

static void
test_default_policy_is_the_design(void **state)
{
	struct gk_policy p;

	(void)state;
	memset(&p, 0xff, sizeof p);
	validate_policy_default(&p);
	assert_int_equal(p.earn_points_per_hour, 1);
	assert_int_equal(p.earn_cap_minutes, 120);
	assert_int_equal(p.max_skew_ms, 300000);
	assert_int_equal(p.response_hours[1], 2);
	assert_int_equal(p.response_hours[2], 24);
	assert_int_equal(p.response_hours[3], 72);
	assert_int_equal(p.response_hours[4], 72);
}

/* Validate a hazard insert whose title is set to title[0..len). */
static int
validate_title(const char *title, size_t len, struct gk_error *err)
{
	struct gk_actor actor = {GK_ROLE_STATION, NULL};
	struct gk_policy pol;
	struct gk_change c;
	int rc;

	validate_policy_default(&pol);
	tu_decode(&c, ENVELOPE "\"table\":\"hazards\",\"op\":\"insert\"," ROW
	                       ",\"fields\":{\"grid\":\"0193a1b2-c3d4-7e5f-"
	                       "8a9b-0000000000a1\",\"category\":\"gas\","
	                       "\"risk_level\":3,\"title\":\"x\","
	                       "\"occurred_at\":\"2026-11-23T03:27:37Z\"}}");
	json_object_set_new(c.fields, "title",
	                    json_stringn_nocheck(title, len));
	rc = validate_change(&c, &actor, &pol, err);
	change_clear(&c);
	return rc;
}

/* JSON text cannot carry these (jansson refuses them), but a change built
 * in C can, so the validator checks again. */
static void
test_invalid_utf8_built_in_c_is_bad_utf8(void **state)
{
	static const char *const bad[] = {
	    "\xc0\xaf",         /* overlong '/' */
	    "\xe0\x80\xaf",     /* overlong, 3 bytes */
	    "\xed\xa0\x80",     /* a surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "ab\x80",           /* a lone continuation byte */
	    "\xe4\xb8",         /* cut short */
	    "\xff",
	};
	struct gk_error err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		assert_int_equal(validate_title(bad[i], strlen(bad[i]), &err),
		                 GK_E_UTF8);
		assert_string_equal(err.msg,
		                    "hazards.title is not valid UTF-8");
	}
	assert_int_equal(validate_title("\xe9\x9a\x90\xe6\x82\xa3", 6, &err),
	                 GK_OK);
}

static void
test_embedded_nul_is_control_char(void **state)
{
	struct gk_error err = {0};

	(void)state;
	assert_int_equal(validate_title("gas\0leak", 8, &err), GK_E_CONTROL);
	assert_int_equal(validate_title("\0", 1, &err), GK_E_CONTROL);
}

/* No record table has a zero-forbidding field that its range allows, so
 * one is made here: the flag is data in record.c, and honoured as data. */
static void
test_nonzero_field_refuses_zero(void **state)
{
	static const struct gk_field fields[] = {
	    {"delta", GK_F_INT, GK_NONZERO, -5, 5, NULL},
	};
	static const struct gk_table t = {
	    "scratch", GK_MUTABLE, fields, 1, GK_ROLE_BIT(GK_ROLE_STATION), 99};
	struct gk_actor actor = {GK_ROLE_STATION, NULL};
	struct gk_change c = {.table = &t, .op = GK_OP_UPDATE};
	struct gk_policy pol;
	struct gk_error err = {0};

	(void)state;
	validate_policy_default(&pol);
	c.fields = json_pack("{s:i}", "delta", 0);
	assert_int_equal(validate_change(&c, &actor, &pol, &err), GK_E_RANGE);
	assert_string_equal(err.msg, "scratch.delta must be in -5..5, not 0");
	json_object_set_new(c.fields, "delta", json_integer(-5));
	assert_int_equal(validate_change(&c, &actor, &pol, &err), GK_OK);
	change_clear(&c);
}

static void
test_null_error_struct_still_returns_the_code(void **state)
{
	struct gk_actor actor = {GK_ROLE_GRID_WORKER, NULL};
	struct gk_policy pol;
	struct gk_change c;

	(void)state;
	validate_policy_default(&pol);
	tu_decode(&c, ENVELOPE "\"table\":\"items\",\"op\":\"insert\"," ROW
	                       ",\"fields\":{}}");
	assert_int_equal(validate_change(&c, &actor, &pol, NULL), GK_E_ROLE);
	change_clear(&c);
}

/* Two faults in one change: the code is the same whatever the key order. */
static void
test_first_failure_does_not_depend_on_key_order(void **state)
{
	static const char *const fields[] = {
	    "{\"risk_level\":9,\"category\":\"volcano\"}",
	    "{\"category\":\"volcano\",\"risk_level\":9}",
	};
	struct gk_actor actor = {GK_ROLE_STATION, NULL};
	struct gk_policy pol;

	(void)state;
	validate_policy_default(&pol);
	for (int i = 0; i < 2; i++) {
		struct gk_change c;
		struct gk_error err = {0};
		char buf[512];

		snprintf(buf, sizeof buf,
		         ENVELOPE "\"table\":\"hazards\",\"op\":\"update\"," ROW
		                  ",\"fields\":%s}",
		         fields[i]);
		tu_decode(&c, buf);
		assert_int_equal(validate_change(&c, &actor, &pol, &err),
		                 GK_E_ENUM); /* category comes first */
		change_clear(&c);
	}
}

/* Points of an earn follow the policy, not a constant. */
static void
test_earn_points_follow_the_policy(void **state)
{
	struct gk_actor actor = {GK_ROLE_STATION, NULL};
	struct gk_policy pol;
	struct gk_change c;
	struct gk_error err = {0};

	(void)state;
	validate_policy_default(&pol);
	pol.earn_points_per_hour = 10;
	pol.earn_cap_minutes = 180;
	tu_decode(&c,
	          ENVELOPE "\"table\":\"point_entries\",\"op\":\"append\"," ROW
	                   ",\"fields\":{\"volunteer\":\"0193a1b2-c3d4-"
	                   "7e5f-8a9b-0000000000a7\",\"kind\":\"earn\","
	                   "\"points\":30,\"minutes\":200,\"activity\":"
	                   "\"drill-1123\",\"occurred_at\":"
	                   "\"2026-11-23T03:27:37Z\"}}");
	assert_int_equal(validate_change(&c, &actor, &pol, &err), GK_OK);
	pol.earn_cap_minutes = 120;
	assert_int_equal(validate_change(&c, &actor, &pol, &err),
	                 GK_E_INCONSISTENT);
	change_clear(&c);
}

static void
test_database_failure_is_db_error(void **state)
{
	struct gk_policy pol;
	struct gk_change c;
	struct gk_error err = {0};
	sqlite3 *db;

	(void)state;
	validate_policy_default(&pol);
	assert_int_equal(sqlite3_open(":memory:", &db),
	                 SQLITE_OK); /* no schema */
	tu_decode(&c,
	          ENVELOPE "\"table\":\"point_entries\",\"op\":\"append\"," ROW
	                   ",\"fields\":{\"volunteer\":\"0193a1b2-c3d4-"
	                   "7e5f-8a9b-0000000000a7\",\"kind\":\"earn\","
	                   "\"points\":1,\"minutes\":60,\"activity\":"
	                   "\"drill-1123\",\"occurred_at\":"
	                   "\"2026-11-23T03:27:37Z\"}}");
	assert_int_equal(validate_change_tx(db, &c, &pol, &err), GK_E_DB);
	assert_int_equal(err.code, GK_E_DB);
	change_clear(&c);
	sqlite3_close(db);
}

/* Collects the SQL of each statement validate_change_tx runs. */
struct trace {
	char sql[8][512];
	int n;
};

static int
trace_stmt(unsigned type, void *arg, void *p, void *x)
{
	struct trace *t = arg;

	(void)type;
	(void)x;
	if (t->n < 8)
		snprintf(t->sql[t->n++], sizeof t->sql[0], "%s",
		         sqlite3_sql((sqlite3_stmt *)p));
	return 0;
}

/* Every step of the plan of sql searches by an index; none scans. */
static void
assert_plan_searches(sqlite3 *db, const char *sql)
{
	char eqp[600];
	sqlite3_stmt *st;

	/* Unbound parameters are NULL: the plan is the same. */
	snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, eqp, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);
		if (detail == NULL || strncmp(detail, "SEARCH", 6) != 0) {
			char copy[256];
			snprintf(copy, sizeof copy, "%s", detail ? detail : "");
			sqlite3_finalize(st);
			fail_msg("%s: %s", sql, copy);
		}
	}
	sqlite3_finalize(st);
}

/* Each query of validate_change_tx searches an index, never scans. */
static void
test_every_query_uses_an_index(void **state)
{
	static const char *const changes[] = {
	    ENVELOPE "\"table\":\"hazard_events\",\"op\":\"append\"," ROW
	             ",\"fields\":{\"hazard\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000b2\",\"kind\":\"transition\",\"from_status\":"
	             "\"verified\",\"to_status\":\"rectifying\","
	             "\"occurred_at\":\"2026-11-23T03:27:37Z\"}}",
	    ENVELOPE "\"table\":\"stock_moves\",\"op\":\"append\"," ROW
	             ",\"fields\":{\"depot\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000d1\",\"item\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000c1\",\"kind\":\"receive\",\"quantity\":5,"
	             "\"source\":\"donation\",\"occurred_at\":"
	             "\"2026-11-23T03:27:37Z\"}}",
	    ENVELOPE "\"table\":\"stock_moves\",\"op\":\"append\"," ROW
	             ",\"fields\":{\"depot\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000d1\",\"item\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000c1\",\"kind\":\"transfer_out\",\"quantity\":-5,"
	             "\"transfer_id\":\"0193a1b2-c3d4-7e5f-8a9b-0000000000f1\","
	             "\"counterpart\":\"0193a1b2-c3d4-7e5f-8a9b-0000000000d2\","
	             "\"occurred_at\":\"2026-11-23T03:27:37Z\"}}",
	    ENVELOPE "\"table\":\"point_entries\",\"op\":\"append\"," ROW
	             ",\"fields\":{\"volunteer\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000a7\",\"kind\":\"earn\",\"points\":1,"
	             "\"minutes\":60,\"activity\":\"drill\",\"occurred_at\":"
	             "\"2026-11-23T03:27:37Z\"}}",
	    ENVELOPE "\"table\":\"point_entries\",\"op\":\"append\"," ROW
	             ",\"fields\":{\"volunteer\":\"0193a1b2-c3d4-7e5f-8a9b-"
	             "0000000000a7\",\"kind\":\"revoke\",\"points\":-1,"
	             "\"ref_entry\":\"0193a1b2-c3d4-7e5f-8a9b-0000000000e1\","
	             "\"activity\":\"drill\",\"occurred_at\":"
	             "\"2026-11-23T03:27:37Z\"}}",
	};
	struct gk_policy pol;
	sqlite3 *db = tu_replica();
	int nqueries = 0;

	(void)state;
	validate_policy_default(&pol);
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		struct trace t = {.n = 0};
		struct gk_change c;
		struct gk_error err = {0};

		tu_decode(&c, changes[i]);
		sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_stmt, &t);
		assert_int_equal(validate_change_tx(db, &c, &pol, &err), GK_OK);
		sqlite3_trace_v2(db, 0, NULL, NULL);
		change_clear(&c);
		assert_true(t.n >= 2); /* "is it re-sent?", then the check */
		for (int q = 0; q < t.n; q++) {
			assert_plan_searches(db, t.sql[q]);
			nqueries++;
		}
	}
	assert_true(nqueries >= 10);
	db_close(db);
}

/* The data files name each code a bad change can earn at least once. */
static void
test_data_files_cover_every_refusal(void **state)
{
	static const int codes[] = {
	    GK_E_JSON,
	    GK_E_DEPTH,
	    GK_E_TYPE,
	    GK_E_UNKNOWN_TABLE,
	    GK_E_UNKNOWN_FIELD,
	    GK_E_TOO_LONG,
	    GK_E_CONTROL,
	    GK_E_MISSING,
	    GK_E_RANGE,
	    GK_E_ENUM,
	    GK_E_ID,
	    GK_E_HLC,
	    GK_E_NODE,
	    GK_E_TIME,
	    GK_E_OP,
	    GK_E_SIGN,
	    GK_E_TRANSITION,
	    GK_E_ROLE,
	    GK_E_PLAN_REQUIRED,
	    GK_E_TRANSFER,
	    GK_E_DUPLICATE_EARN,
	    GK_E_INCONSISTENT,
	    GK_OK,
	};
	const struct suite *s = *state;

	assert_true(s->nfiles >= 8);
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		size_t j;
		for (j = 0; j < s->n; j++)
			if (strcmp(s->cases[j].expect,
			           gk_code_name(codes[i])) == 0)
				break;
		if (j == s->n)
			fail_msg("no case expects %s", gk_code_name(codes[i]));
	}
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_default_policy_is_the_design),
	    cmocka_unit_test(test_invalid_utf8_built_in_c_is_bad_utf8),
	    cmocka_unit_test(test_embedded_nul_is_control_char),
	    cmocka_unit_test(test_nonzero_field_refuses_zero),
	    cmocka_unit_test(test_null_error_struct_still_returns_the_code),
	    cmocka_unit_test(test_first_failure_does_not_depend_on_key_order),
	    cmocka_unit_test(test_earn_points_follow_the_policy),
	    cmocka_unit_test(test_database_failure_is_db_error),
	    cmocka_unit_test(test_every_query_uses_an_index),
	};
	const size_t nfixed = sizeof fixed / sizeof fixed[0];
	struct suite s = {0};
	struct CMUnitTest *tests;
	size_t n = 0;
	int rc;

	load_dir(&s, tu_srcpath("tests/validate"));
	tests = calloc(nfixed + 1 + s.n, sizeof *tests);
	if (tests == NULL)
		abort();
	memcpy(tests, fixed, sizeof fixed);
	n = nfixed;
	tests[n++] = (struct CMUnitTest){"test_data_files_cover_every_refusal",
	                                 test_data_files_cover_every_refusal,
	                                 NULL, NULL, &s};
	for (size_t i = 0; i < s.n; i++)
		tests[n++] = (struct CMUnitTest){s.cases[i].name, run_case,
		                                 NULL, NULL, &s.cases[i]};
	printf("# %zu cases from %d files in tests/validate\n", s.n, s.nfiles);
	fflush(stdout);
	/* The macro form needs an array of fixed size; this is the same call.
	 */
	rc = _cmocka_run_group_tests("validate", tests, n, NULL, NULL);
	free(tests);
	suite_free(&s);
	return rc;
}
