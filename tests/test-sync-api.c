/*
 * test-sync-api.c: push and pull (backend/api-sync.c), the cores first,
 * in process, then over HTTP against the real server.
 *
 * The in-process fixture is a small tree written as real changes by
 * store_write_change_tx, so every record has the scope rows a real one
 * would: district D > street S > communities C1 (grids G1, G2) and C2
 * (grid G3), a user of each role, the catalogue, a depot at C1 and one at
 * S, and a hazard in each grid. Users are struct gk_user made by hand,
 * as auth_session would fill them. The clock is a test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gridkeepd.h"
#include "httpc.h"
#include "testutil.h"

#define NOW0  1790000000000LL    /* 2026-09-21, the test clock's start */
#define CNODE "00000000000000c1" /* the client's node */

struct fx {
	struct gk_server s;
	struct gk_testenv te;
	char d[GK_ID_LEN + 1], st[GK_ID_LEN + 1], c1[GK_ID_LEN + 1],
	    c2[GK_ID_LEN + 1], g1[GK_ID_LEN + 1], g2[GK_ID_LEN + 1],
	    g3[GK_ID_LEN + 1];
	struct gk_user admin, street, station1, station2, worker1, worker2,
	    worker3;
	char item[GK_ID_LEN + 1], depot_c1[GK_ID_LEN + 1],
	    depot_s[GK_ID_LEN + 1], volunteer[GK_ID_LEN + 1];
	char hz1[GK_ID_LEN + 1], hz2[GK_ID_LEN + 1], hz3[GK_ID_LEN + 1];
	char notice[GK_ID_LEN + 1];
};

/* ---- helpers ---------------------------------------------------------- */

/* A change made on the server by user u (fields as JSON text). */
static void
fx_write(struct fx *f, const struct gk_user *u, const char *table,
         enum gk_op op, char *row, const char *fields)
{
	struct gk_actor actor = {u->role, u->id};
	struct gk_error err = {0};
	struct gk_change c;

	memset(&c, 0, sizeof c);
	c.table = record_table(table);
	c.op = op;
	if (row[0] == '\0')
		uuid_v7(&f->s.env, row);
	memcpy(c.row, row, GK_ID_LEN + 1);
	c.fields = json_loads(fields, 0, NULL);
	assert_non_null(c.fields);
	assert_int_equal(db_begin(f->s.db), GK_OK);
	if (store_write_change_tx(&f->s, f->s.merge, &c, &actor, &err) != GK_OK)
		fail_msg("write %s %s: %s", table, fields, err.msg);
	assert_int_equal(db_commit(f->s.db), GK_OK);
	change_clear(&c);
	f->te.now += 1000;
}

static void
fx_user(struct fx *f, struct gk_user *u, const char *name, enum gk_role role,
        const char *unit)
{
	char fields[512];

	memset(u, 0, sizeof *u);
	snprintf(u->username, sizeof u->username, "%s", name);
	u->role = role;
	memcpy(u->unit, unit, GK_ID_LEN + 1);
	snprintf(fields, sizeof fields,
	         "{\"username\":\"%s\",\"display_name\":\"%s\",\"role\":\"%s\","
	         "\"unit\":\"%s\",\"active\":true}",
	         name, name, record_role_name(role), unit);
	fx_write(f, &f->admin, "users", GK_OP_INSERT, u->id, fields);
}

static void
fx_unit(struct fx *f, char *id, const char *parent, const char *level,
        const char *name)
{
	char fields[256];

	if (parent == NULL)
		snprintf(fields, sizeof fields,
		         "{\"level\":\"%s\",\"name\":\"%s\"}", level, name);
	else
		snprintf(fields, sizeof fields,
		         "{\"parent\":\"%s\",\"level\":\"%s\",\"name\":\"%s\"}",
		         parent, level, name);
	fx_write(f, &f->admin, "units", GK_OP_INSERT, id, fields);
}

static void
fx_hazard(struct fx *f, const struct gk_user *u, char *id, const char *grid,
          const char *title)
{
	char fields[1024];

	snprintf(fields, sizeof fields,
	         "{\"grid\":\"%s\",\"category\":\"fire\",\"risk_level\":3,"
	         "\"title\":\"%s\",\"occurred_at\":\"2026-09-20T08:00:00Z\"}",
	         grid, title);
	fx_write(f, u, "hazards", GK_OP_INSERT, id, fields);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct gk_error err = {0};
	char fields[512];

	assert_non_null(f);
	gk_testenv_init(&f->te, 42, NOW0);
	f->s.env = gk_testenv_env(&f->te);
	f->s.db_path = ":memory:";
	validate_policy_default(&f->s.policy);
	config_defaults(&f->s.cfg);
	if (db_open(":memory:", GK_DB_CREATE, &f->s.db, &err) != GK_OK ||
	    schema_migrate(f->s.db, GK_SIDE_SERVER, &err) != GK_OK ||
	    store_open_cache(&f->s, &err) != GK_OK ||
	    (f->s.merge = merge_new(f->s.db, &err)) == NULL)
		fail_msg("fixture: %s", err.msg);
	uuid_v7(&f->s.env, f->s.db_id);
	f->s.node = node_new(&f->s.env);

	/* The admin writes the tree before their own users row exists. */
	uuid_v7(&f->s.env, f->admin.id);
	f->admin.role = GK_ROLE_ADMIN;
	fx_unit(f, f->d, NULL, "district", "D");
	fx_unit(f, f->st, f->d, "street", "S");
	fx_unit(f, f->c1, f->st, "community", "C1");
	fx_unit(f, f->c2, f->st, "community", "C2");
	fx_unit(f, f->g1, f->c1, "grid", "G1");
	fx_unit(f, f->g2, f->c1, "grid", "G2");
	fx_unit(f, f->g3, f->c2, "grid", "G3");
	memcpy(f->admin.unit, f->d, GK_ID_LEN + 1);
	snprintf(fields, sizeof fields,
	         "{\"username\":\"admin\",\"display_name\":\"A\","
	         "\"role\":\"admin\",\"unit\":\"%s\"}",
	         f->d);
	fx_write(f, &f->admin, "users", GK_OP_INSERT, f->admin.id, fields);
	fx_user(f, &f->street, "street", GK_ROLE_STREET, f->st);
	fx_user(f, &f->station1, "station1", GK_ROLE_STATION, f->c1);
	fx_user(f, &f->station2, "station2", GK_ROLE_STATION, f->c2);
	fx_user(f, &f->worker1, "worker1", GK_ROLE_GRID_WORKER, f->g1);
	fx_user(f, &f->worker2, "worker2", GK_ROLE_GRID_WORKER, f->g2);
	fx_user(f, &f->worker3, "worker3", GK_ROLE_GRID_WORKER, f->g3);

	fx_write(f, &f->street, "items", GK_OP_INSERT, f->item,
	         "{\"code\":\"W01\",\"name\":\"water\",\"uom\":\"box\"}");
	snprintf(fields, sizeof fields,
	         "{\"unit\":\"%s\",\"name\":\"C1 depot\"}", f->c1);
	fx_write(f, &f->station1, "depots", GK_OP_INSERT, f->depot_c1, fields);
	snprintf(fields, sizeof fields,
	         "{\"unit\":\"%s\",\"name\":\"street depot\"}", f->st);
	fx_write(f, &f->street, "depots", GK_OP_INSERT, f->depot_s, fields);
	snprintf(fields, sizeof fields,
	         "{\"unit\":\"%s\",\"name\":\"V\",\"active\":true}", f->c1);
	fx_write(f, &f->station1, "volunteers", GK_OP_INSERT, f->volunteer,
	         fields);
	fx_hazard(f, &f->worker1, f->hz1, f->g1, "G1 hazard");
	fx_hazard(f, &f->worker2, f->hz2, f->g2, "G2 hazard");
	fx_hazard(f, &f->worker3, f->hz3, f->g3, "G3 hazard");
	snprintf(fields, sizeof fields,
	         "{\"unit\":\"%s\",\"kind\":\"warning\",\"level\":2,"
	         "\"title\":\"rain\",\"targets\":[\"%s\"],"
	         "\"occurred_at\":\"2026-09-20T08:00:00Z\"}",
	         f->st, f->c1);
	fx_write(f, &f->street, "notices", GK_OP_INSERT, f->notice, fields);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	scope_free(&f->s);
	merge_free(f->s.merge);
	store_close_cache(&f->s);
	db_close(f->s.db);
	free(f);
	return 0;
}

/* A client's change: a new id, our client node, an HLC of the test clock. */
static char *
mk_change(struct fx *f, const char *table, const char *op, const char *row,
          const char *fields, char id_out[GK_ID_LEN + 1])
{
	char id[GK_ID_LEN + 1], hlc[GK_HLC_LEN + 1], *out;
	size_t size = 512 + strlen(fields);

	uuid_v7(&f->s.env, id);
	if (id_out != NULL)
		memcpy(id_out, id, GK_ID_LEN + 1);
	hlc_format((uint64_t)f->te.now << 16, hlc);
	f->te.now += 10;
	if ((out = malloc(size)) == NULL)
		fail_msg("out of memory");
	snprintf(out, size,
	         "{\"id\":\"%s\",\"node\":\"" CNODE "\",\"hlc\":\"%s\","
	         "\"table\":\"%s\",\"op\":\"%s\",\"row\":\"%s\","
	         "\"fields\":%s}",
	         id, hlc, table, op, row, fields);
	return out;
}

/* Push the changes (JSON texts, freed here); the whole answer. */
static json_t *
push(struct fx *f, const struct gk_user *u, int n, ...)
{
	struct gk_error err = {0};
	json_t *body = json_pack("{s:[]}", "changes"), *answer = NULL;
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		char *text = va_arg(ap, char *);
		json_t *c = json_loads(text, 0, NULL);
		assert_non_null(c);
		json_array_append_new(json_object_get(body, "changes"), c);
		free(text);
	}
	va_end(ap);
	if (sync_push(&f->s, u, body, &answer, &err) != GK_OK)
		fail_msg("push: %s: %s", gk_code_name(err.code), err.msg);
	json_decref(body);
	return answer;
}

/* The status of result i, and its code (or "") in code. */
static const char *
result(json_t *answer, size_t i, const char **code)
{
	json_t *r = json_array_get(json_object_get(answer, "results"), i);
	json_t *c = json_object_get(r, "code");

	assert_non_null(r);
	if (code != NULL)
		*code = json_is_string(c) ? json_string_value(c) : "";
	return json_string_value(json_object_get(r, "status"));
}

static const char *
result_message(json_t *answer, size_t i)
{
	json_t *r = json_array_get(json_object_get(answer, "results"), i);

	return json_string_value(json_object_get(r, "message"));
}

/* Push one change and return the status of its result ("code" too). */
static void
push_one(struct fx *f, const struct gk_user *u, char *change,
         const char *status, const char *code)
{
	json_t *a = push(f, u, 1, change);
	const char *got_code, *got = result(a, 0, &got_code);

	if (strcmp(got, status) != 0 ||
	    (code != NULL && strcmp(got_code, code) != 0))
		fail_msg("push: %s %s (%s), wanted %s %s", got, got_code,
		         result_message(a, 0) ? result_message(a, 0) : "",
		         status, code ? code : "");
	json_decref(a);
}

/* One pull page as text (caller frees) and parsed (*page). */
static char *
pull_text(struct fx *f, const struct gk_user *u, const char *cursor, int limit,
          json_t **page)
{
	struct gk_error err = {0};
	json_error_t jerr;
	char *out = NULL;
	size_t len = 0;

	if (sync_pull(&f->s, u, cursor, limit, &out, &len, &err) != GK_OK)
		fail_msg("pull: %s: %s", gk_code_name(err.code), err.msg);
	assert_int_equal(strlen(out), len);
	*page = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	if (*page == NULL)
		fail_msg("pull answer is not JSON: %s: %s", jerr.text, out);
	return out;
}

/*
 * Pull everything from cursor (NULL: the start) to the end; the last
 * cursor goes to cursor_out, every change and drop into the arrays.
 */
static void
pull_all(struct fx *f, const struct gk_user *u, const char *cursor,
         char cursor_out[256], json_t *changes, json_t *drops)
{
	char cur[256];
	int pages = 0;

	snprintf(cur, sizeof cur, "%s", cursor != NULL ? cursor : "");
	for (;;) {
		json_t *page;
		free(pull_text(f, u, cur, 7, &page));
		json_array_extend(changes, json_object_get(page, "changes"));
		if (drops != NULL)
			json_array_extend(drops, json_object_get(page, "drop"));
		snprintf(cur, sizeof cur, "%s",
		         json_string_value(json_object_get(page, "cursor")));
		if (!json_is_true(json_object_get(page, "more"))) {
			json_decref(page);
			break;
		}
		json_decref(page);
		if (++pages > 1000)
			fail_msg("pull never ends");
	}
	snprintf(cursor_out, 256, "%s", cur);
}

/* 1 if the changes name row (as "row") in table. */
static int
has_row(json_t *changes, const char *table, const char *row)
{
	size_t i;
	json_t *c;

	json_array_foreach (changes, i, c) {
		const char *t = json_string_value(json_object_get(c, "table"));
		const char *r = json_string_value(json_object_get(c, "row"));
		if (t != NULL && r != NULL && strcmp(t, table) == 0 &&
		    strcmp(r, row) == 0)
			return 1;
	}
	return 0;
}

/* What user u's pull from the start delivers. */
static json_t *
visible(struct fx *f, const struct gk_user *u)
{
	json_t *changes = json_array();
	char cur[256];

	pull_all(f, u, NULL, cur, changes, NULL);
	return changes;
}

static long long
sql_int(struct fx *f, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return tu_int(f->s.db, sql);
}

/* ---- push and pull ---------------------------------------------------- */

static void
test_pushed_change_is_pulled_as_stored_text(void **state)
{
	struct fx *f = *state;
	char row[GK_ID_LEN + 1], id[GK_ID_LEN + 1], fields[512], *text;
	char stored[4096];
	json_t *a, *page;
	const char *code;

	uuid_v7(&f->s.env, row);
	snprintf(
	    fields, sizeof fields,
	    "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	    "\"title\":\"pushed\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	    f->g1);
	a = push(f, &f->worker1, 1,
	         mk_change(f, "hazards", "insert", row, fields, id));
	assert_string_equal(result(a, 0, &code), "accepted");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(a, "results"), 0), "id")),
	    id);
	assert_true(json_is_string(json_object_get(a, "server_time")));
	assert_int_equal(
	    strlen(json_string_value(json_object_get(a, "server_hlc"))),
	    GK_HLC_LEN);
	json_decref(a);

	/* The author is the pusher, and the page holds the stored text. */
	snprintf(
	    stored, sizeof stored,
	    "SELECT count(*) FROM changes WHERE id = '%s' AND author = '%s'",
	    id, f->worker1.id);
	assert_int_equal(tu_int(f->s.db, stored), 1);
	tu_text(f->s.db, "SELECT json FROM changes ORDER BY seq DESC LIMIT 1",
	        stored, sizeof stored);
	text = pull_text(f, &f->worker1, NULL, 0, &page);
	assert_non_null(strstr(text, stored));
	assert_true(json_is_false(json_object_get(page, "more")));
	assert_string_equal(json_string_value(json_object_get(page, "db_id")),
	                    f->s.db_id);
	assert_int_equal(json_array_size(json_object_get(page, "drop")), 0);
	assert_true(has_row(json_object_get(page, "changes"), "hazards", row));
	free(text);
	json_decref(page);
}

static void
test_known_change_answers_duplicate(void **state)
{
	struct fx *f = *state;
	char row[GK_ID_LEN + 1], fields[512], *c;
	json_t *a;

	uuid_v7(&f->s.env, row);
	snprintf(
	    fields, sizeof fields,
	    "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	    "\"title\":\"twice\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	    f->g1);
	c = mk_change(f, "hazards", "insert", row, fields, NULL);
	a = push(f, &f->worker1, 2, strdup(c), c);
	assert_string_equal(result(a, 0, NULL), "accepted");
	assert_string_equal(result(a, 1, NULL), "duplicate");
	json_decref(a);
	assert_int_equal(
	    sql_int(f, "SELECT count(*) FROM changes WHERE row_id = '%s'", row),
	    1);
}

static void
test_resent_batch_after_lost_answer_applies_nothing_twice(void **state)
{
	struct fx *f = *state;
	char fields[3][512], rows[3][GK_ID_LEN + 1], *c[3];
	json_t *a;
	long long changes;

	snprintf(fields[0], sizeof fields[0],
	         "{\"depot\":\"%s\",\"item\":\"%s\",\"kind\":\"receive\","
	         "\"quantity\":10,\"source\":\"donation\","
	         "\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->depot_c1, f->item);
	snprintf(fields[1], sizeof fields[1],
	         "{\"depot\":\"%s\",\"item\":\"%s\",\"kind\":\"issue\","
	         "\"quantity\":-3,\"purpose\":\"drill\","
	         "\"occurred_at\":\"2026-09-20T10:00:00Z\"}",
	         f->depot_c1, f->item);
	snprintf(fields[2], sizeof fields[2],
	         "{\"volunteer\":\"%s\",\"kind\":\"grant\",\"points\":5,"
	         "\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->volunteer);
	for (int i = 0; i < 3; i++) {
		uuid_v7(&f->s.env, rows[i]);
		c[i] = mk_change(f, i < 2 ? "stock_moves" : "point_entries",
		                 "append", rows[i], fields[i], NULL);
	}
	a = push(f, &f->station1, 3, strdup(c[0]), strdup(c[1]), strdup(c[2]));
	for (int i = 0; i < 3; i++)
		assert_string_equal(result(a, (size_t)i, NULL), "accepted");
	json_decref(a);
	changes = sql_int(f, "SELECT count(*) FROM changes");

	/* The answer was lost: the station sends the same batch again. */
	a = push(f, &f->station1, 3, c[0], c[1], c[2]);
	for (int i = 0; i < 3; i++)
		assert_string_equal(result(a, (size_t)i, NULL), "duplicate");
	json_decref(a);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM changes"), changes);
	assert_int_equal(sql_int(f,
	                         "SELECT sum(quantity) FROM stock_moves "
	                         "WHERE depot = '%s'",
	                         f->depot_c1),
	                 7);
	assert_int_equal(sql_int(f,
	                         "SELECT sum(points) FROM point_entries "
	                         "WHERE volunteer = '%s'",
	                         f->volunteer),
	                 5);
}

static void
test_rejected_change_stops_no_other(void **state)
{
	struct fx *f = *state;
	char r1[GK_ID_LEN + 1], r2[GK_ID_LEN + 1], ok[512], bad[512];
	const char *code;
	json_t *a;

	uuid_v7(&f->s.env, r1);
	uuid_v7(&f->s.env, r2);
	snprintf(ok, sizeof ok,
	         "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	         "\"title\":\"fine\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->g1);
	snprintf(bad, sizeof bad,
	         "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":9,"
	         "\"title\":\"bad\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->g1);
	a = push(f, &f->worker1, 3,
	         mk_change(f, "hazards", "insert", r1, bad, NULL),
	         strdup("{\"id\":\"not an id\"}"),
	         mk_change(f, "hazards", "insert", r2, ok, NULL));
	assert_string_equal(result(a, 0, &code), "rejected");
	assert_string_equal(code, "out_of_range");
	assert_string_equal(result(a, 1, &code), "rejected");
	assert_string_equal(code, "bad_id");
	assert_true(json_is_null(json_object_get(
	    json_array_get(json_object_get(a, "results"), 1), "id")));
	assert_string_equal(result(a, 2, NULL), "accepted");
	json_decref(a);
	assert_int_equal(
	    sql_int(f, "SELECT count(*) FROM hazards WHERE id = '%s'", r1), 0);
}

/* ---- scopes ----------------------------------------------------------- */

static void
test_grid_worker_reads_only_their_grid(void **state)
{
	struct fx *f = *state;
	json_t *v = visible(f, &f->worker1);

	assert_true(has_row(v, "hazards", f->hz1));
	assert_false(has_row(v, "hazards", f->hz2));
	assert_false(has_row(v, "hazards", f->hz3));
	/* Names of their grid, community and street; not of other grids. */
	assert_true(has_row(v, "units", f->g1));
	assert_true(has_row(v, "units", f->c1));
	assert_true(has_row(v, "units", f->st));
	assert_false(has_row(v, "units", f->g2));
	assert_false(has_row(v, "units", f->c2));
	assert_true(has_row(v, "items", f->item));
	assert_true(has_row(v, "notices", f->notice));
	assert_false(has_row(v, "users", f->worker3.id));
	json_decref(v);
}

static void
test_station_sees_its_whole_community(void **state)
{
	struct fx *f = *state;
	json_t *v = visible(f, &f->station1);

	assert_true(has_row(v, "hazards", f->hz1));
	assert_true(has_row(v, "hazards", f->hz2));
	assert_false(has_row(v, "hazards", f->hz3));
	assert_true(has_row(v, "users", f->worker2.id));
	assert_false(has_row(v, "users", f->station2.id));
	assert_true(has_row(v, "volunteers", f->volunteer));
	json_decref(v);
}

static void
test_street_sees_everything_in_its_street(void **state)
{
	struct fx *f = *state;
	json_t *v = visible(f, &f->street);

	assert_true(has_row(v, "hazards", f->hz1));
	assert_true(has_row(v, "hazards", f->hz2));
	assert_true(has_row(v, "hazards", f->hz3));
	assert_true(has_row(v, "users", f->worker3.id));
	assert_true(has_row(v, "depots", f->depot_c1));
	assert_true(has_row(v, "units", f->d));
	json_decref(v);
}

static void
test_other_grid_is_refused_like_a_missing_row(void **state)
{
	struct fx *f = *state;
	char missing[GK_ID_LEN + 1], row[GK_ID_LEN + 1], fields[512];
	char want[256];
	const char *code;
	json_t *a;

	/* An update of another grid's hazard, and of one that is not. */
	uuid_v7(&f->s.env, missing);
	a = push(f, &f->worker2, 2,
	         mk_change(f, "hazards", "update", f->hz1,
	                   "{\"title\":\"mine now\"}", NULL),
	         mk_change(f, "hazards", "update", missing,
	                   "{\"title\":\"mine now\"}", NULL));
	assert_string_equal(result(a, 0, &code), "rejected");
	assert_string_equal(code, "not_found");
	snprintf(want, sizeof want, "hazards %s not found", f->hz1);
	assert_string_equal(result_message(a, 0), want);
	assert_string_equal(result(a, 1, &code), "rejected");
	assert_string_equal(code, "not_found");
	snprintf(want, sizeof want, "hazards %s not found", missing);
	assert_string_equal(result_message(a, 1), want);
	json_decref(a);

	/* A new hazard in another grid, and in a grid that is not. */
	uuid_v7(&f->s.env, row);
	snprintf(fields, sizeof fields,
	         "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	         "\"title\":\"x\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->g1);
	a = push(f, &f->worker2, 1,
	         mk_change(f, "hazards", "insert", row, fields, NULL));
	assert_string_equal(result(a, 0, &code), "rejected");
	assert_string_equal(code, "not_found");
	snprintf(want, sizeof want, "units %s not found", f->g1);
	assert_string_equal(result_message(a, 0), want);
	json_decref(a);
	assert_int_equal(
	    sql_int(f, "SELECT count(*) FROM hazards WHERE title = 'mine now'"),
	    0);

	/* An event on another grid's hazard. */
	snprintf(fields, sizeof fields,
	         "{\"hazard\":\"%s\",\"kind\":\"note\",\"note\":\"x\","
	         "\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->hz1);
	push_one(f, &f->worker2,
	         mk_change(f, "hazard_events", "append", row, fields, NULL),
	         "rejected", "not_found");
}

static void
test_grid_worker_reads_but_cannot_write_community_depots(void **state)
{
	struct fx *f = *state;
	char row[GK_ID_LEN + 1], fields[512];
	json_t *v = visible(f, &f->worker1);

	assert_true(has_row(v, "depots", f->depot_c1));
	assert_true(has_row(v, "depots", f->depot_s));
	json_decref(v);
	push_one(f, &f->worker1,
	         mk_change(f, "depots", "update", f->depot_c1,
	                   "{\"name\":\"taken\"}", NULL),
	         "rejected", "forbidden_role");
	uuid_v7(&f->s.env, row);
	snprintf(fields, sizeof fields,
	         "{\"depot\":\"%s\",\"item\":\"%s\",\"kind\":\"issue\","
	         "\"quantity\":-1,\"purpose\":\"drill\","
	         "\"occurred_at\":\"2026-09-20T10:00:00Z\"}",
	         f->depot_c1, f->item);
	push_one(f, &f->worker1,
	         mk_change(f, "stock_moves", "append", row, fields, NULL),
	         "rejected", "forbidden_role");
	/* And the station of the other community cannot either. */
	push_one(f, &f->station2,
	         mk_change(f, "depots", "update", f->depot_c1,
	                   "{\"name\":\"taken\"}", NULL),
	         "rejected", "not_found");
}

static void
test_moving_a_record_to_another_unit_is_refused(void **state)
{
	struct fx *f = *state;
	char fields[128];

	snprintf(fields, sizeof fields, "{\"grid\":\"%s\"}", f->g2);
	push_one(f, &f->station1,
	         mk_change(f, "hazards", "update", f->hz1, fields, NULL),
	         "rejected", "inconsistent");
	snprintf(fields, sizeof fields, "{\"grid\":\"%s\",\"title\":\"t\"}",
	         f->g1);
	push_one(f, &f->station1,
	         mk_change(f, "hazards", "update", f->hz1, fields, NULL),
	         "accepted", NULL);
}

static void
test_grid_worker_acknowledges_a_notice_to_their_community(void **state)
{
	struct fx *f = *state;
	char row[GK_ID_LEN + 1], fields[512];

	snprintf(fields, sizeof fields,
	         "{\"notice\":\"%s\",\"occurred_at\":\"2026-09-20T10:00:00Z\"}",
	         f->notice);
	uuid_v7(&f->s.env, row);
	push_one(f, &f->worker1,
	         mk_change(f, "notice_acks", "append", row, fields, NULL),
	         "accepted", NULL);
	/* C2 was not told: for its worker the notice does not exist. */
	uuid_v7(&f->s.env, row);
	push_one(f, &f->worker3,
	         mk_change(f, "notice_acks", "append", row, fields, NULL),
	         "rejected", "not_found");
}

static void
test_new_grid_receives_what_reaches_down_to_it(void **state)
{
	struct fx *f = *state;
	char g4[GK_ID_LEN + 1] = "", fields[256];
	struct gk_user w4;
	json_t *v;

	snprintf(fields, sizeof fields,
	         "{\"parent\":\"%s\",\"level\":\"grid\",\"name\":\"G4\"}",
	         f->c1);
	uuid_v7(&f->s.env, g4);
	push_one(f, &f->admin,
	         mk_change(f, "units", "insert", g4, fields, NULL), "accepted",
	         NULL);
	memset(&w4, 0, sizeof w4);
	uuid_v7(&f->s.env, w4.id);
	w4.role = GK_ROLE_GRID_WORKER;
	memcpy(w4.unit, g4, GK_ID_LEN + 1);
	v = visible(f, &w4);
	assert_true(has_row(v, "units", g4));
	assert_true(has_row(v, "units", f->c1));
	assert_true(has_row(v, "items", f->item));
	assert_true(has_row(v, "depots", f->depot_c1));
	assert_true(has_row(v, "notices", f->notice));
	assert_true(has_row(v, "users", f->station1.id));
	assert_false(has_row(v, "hazards", f->hz1));
	json_decref(v);
}

static void
test_unit_added_in_a_batch_takes_records_in_that_batch(void **state)
{
	struct fx *f = *state;
	char g5[GK_ID_LEN + 1], row[GK_ID_LEN + 1], unit[256], hz[512];
	json_t *a;

	uuid_v7(&f->s.env, g5);
	uuid_v7(&f->s.env, row);
	snprintf(unit, sizeof unit,
	         "{\"parent\":\"%s\",\"level\":\"grid\",\"name\":\"G5\"}",
	         f->c2);
	snprintf(
	    hz, sizeof hz,
	    "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	    "\"title\":\"new grid\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	    g5);
	a = push(f, &f->admin, 2,
	         mk_change(f, "units", "insert", g5, unit, NULL),
	         mk_change(f, "hazards", "insert", row, hz, NULL));
	assert_string_equal(result(a, 0, NULL), "accepted");
	assert_string_equal(result(a, 1, NULL), "accepted");
	json_decref(a);
	/* The station of C2 now reads it; the station of C1 does not. */
	a = visible(f, &f->station2);
	assert_true(has_row(a, "hazards", row));
	json_decref(a);
	a = visible(f, &f->station1);
	assert_false(has_row(a, "hazards", row));
	json_decref(a);
}

/* The admin moves a user: a change of their users row. */
static void
move_user(struct fx *f, struct gk_user *u, const char *unit)
{
	char fields[128];

	snprintf(fields, sizeof fields, "{\"unit\":\"%s\"}", unit);
	fx_write(f, &f->admin, "users", GK_OP_UPDATE, u->id, fields);
	memcpy(u->unit, unit, GK_ID_LEN + 1);
}

static void
test_grown_scope_delivers_the_rows_of_the_new_scope(void **state)
{
	struct fx *f = *state;
	json_t *changes = json_array(), *drops = json_array();
	char cur[256];

	pull_all(f, &f->worker1, NULL, cur, changes, drops);
	assert_false(has_row(changes, "hazards", f->hz2));
	json_array_clear(changes);

	/* Promoted to the community's station: G2's hazard, logged long
	 * before the cursor, must come too. */
	move_user(f, &f->worker1, f->c1);
	f->worker1.role = GK_ROLE_STATION;
	pull_all(f, &f->worker1, cur, cur, changes, drops);
	assert_true(has_row(changes, "hazards", f->hz2));
	assert_false(has_row(changes, "hazards", f->hz3));
	assert_int_equal(json_array_size(drops), 0);
	json_decref(changes);
	json_decref(drops);
}

static void
test_admin_moves_a_user_by_push_and_the_history_follows(void **state)
{
	struct fx *f = *state;
	char fields[128];
	json_t *v;

	snprintf(fields, sizeof fields, "{\"unit\":\"%s\"}", f->g3);
	push_one(f, &f->admin,
	         mk_change(f, "users", "update", f->worker2.id, fields, NULL),
	         "accepted", NULL);
	/* G3's people see worker2's row whole, its insert included. */
	v = visible(f, &f->worker3);
	assert_true(has_row(v, "users", f->worker2.id));
	assert_int_equal(sql_int(f,
	                         "SELECT count(*) FROM changes c JOIN "
	                         "change_scopes s ON s.seq = c.seq WHERE "
	                         "c.row_id = '%s' AND s.unit = '%s'",
	                         f->worker2.id, f->g3),
	                 2);
	json_decref(v);
	/* Nobody else moves a users row. */
	push_one(f, &f->station2,
	         mk_change(f, "users", "update", f->worker3.id, fields, NULL),
	         "rejected", "forbidden_role");
}

/* 1 if drops name row of table. */
static int
has_drop(json_t *drops, const char *table, const char *row)
{
	size_t i;
	json_t *d;

	json_array_foreach (drops, i, d)
		if (strcmp(json_string_value(json_object_get(d, "table")),
		           table) == 0 &&
		    strcmp(json_string_value(json_object_get(d, "row")), row) ==
		        0)
			return 1;
	return 0;
}

static void
test_shrunk_scope_drops_rows_no_longer_in_it(void **state)
{
	struct fx *f = *state;
	json_t *changes = json_array(), *drops = json_array();
	char cur[256], fields[64];

	/* Enough G1 rows that the drop list takes several pages. */
	for (int i = 0; i < 20; i++) {
		char row[GK_ID_LEN + 1] = "";
		snprintf(fields, sizeof fields, "G1 hazard %d", i);
		fx_hazard(f, &f->worker1, row, f->g1, fields);
	}
	pull_all(f, &f->worker1, NULL, cur, changes, drops);
	json_array_clear(changes);

	/* Moved to G3, in the other community. */
	move_user(f, &f->worker1, f->g3);
	pull_all(f, &f->worker1, cur, cur, changes, drops);
	assert_true(has_drop(drops, "hazards", f->hz1));
	/* 21 hazards, units G1 and C1, station1's users row, the C1 depot
	 * and the notice to C1; each named once. */
	assert_int_equal(json_array_size(drops), 21 + 2 + 1 + 1 + 1);
	assert_true(has_drop(drops, "units", f->g1));
	assert_true(has_drop(drops, "units", f->c1));
	assert_true(has_drop(drops, "depots", f->depot_c1));
	assert_true(has_drop(drops, "notices", f->notice));
	/* Shared with the new scope: kept. */
	assert_false(has_drop(drops, "units", f->st));
	assert_false(has_drop(drops, "items", f->item));
	assert_false(has_drop(drops, "depots", f->depot_s));
	assert_false(has_drop(drops, "users", f->worker1.id));
	/* And the new grid's rows arrive. */
	assert_true(has_row(changes, "hazards", f->hz3));
	assert_true(has_row(changes, "units", f->g3));
	json_decref(changes);
	json_decref(drops);
}

/* ---- cursors, clocks, limits ------------------------------------------ */

static void
pull_fails(struct fx *f, const struct gk_user *u, const char *cursor, int code)
{
	struct gk_error err = {0};
	char *out = NULL;
	size_t len;

	assert_int_equal(sync_pull(&f->s, u, cursor, 0, &out, &len, &err),
	                 code);
	assert_int_equal(err.code, code);
	assert_null(out);
}

static void
test_cursor_of_another_database_answers_db_changed(void **state)
{
	struct fx *f = *state;
	char cur[256], other[256];
	json_t *changes = json_array();

	pull_all(f, &f->worker1, NULL, cur, changes, NULL);
	json_decref(changes);
	memcpy(other, cur, sizeof other);
	memcpy(other + 3, "01900000-0000-7000-8000-000000000000", GK_ID_LEN);
	pull_fails(f, &f->worker1, other, GK_E_DB_CHANGED);
	pull_fails(f, &f->worker1, "v1.nonsense", GK_E_CURSOR);
	memcpy(other, cur, sizeof other);
	other[strlen(other) - 1] = 'x';
	pull_fails(f, &f->worker1, other, GK_E_CURSOR);
	memcpy(other, cur, sizeof other);
	strcat(other, "0000000000000000000");
	pull_fails(f, &f->worker1, other, GK_E_CURSOR);

	/* Signed and bound to its user: not forged for another scope, not
	 * usable by someone else. */
	memcpy(other, cur, sizeof other);
	memcpy(other + 4 + GK_ID_LEN, f->g3, GK_ID_LEN);
	pull_fails(f, &f->worker1, other, GK_E_CURSOR);
	pull_fails(f, &f->worker2, cur, GK_E_CURSOR);
}

static void
test_hlc_far_ahead_is_refused_with_clock_skew(void **state)
{
	struct fx *f = *state;
	char row[GK_ID_LEN + 1], fields[512], *c;
	char ahead[GK_HLC_LEN + 1], *p;

	uuid_v7(&f->s.env, row);
	snprintf(fields, sizeof fields,
	         "{\"grid\":\"%s\",\"category\":\"gas\",\"risk_level\":4,"
	         "\"title\":\"late\",\"occurred_at\":\"2026-09-20T09:00:00Z\"}",
	         f->g1);
	c = mk_change(f, "hazards", "insert", row, fields, NULL);
	hlc_format((uint64_t)(f->te.now + 3600000) << 16, ahead);
	p = strstr(c, "\"hlc\":\"") + 7;
	memcpy(p, ahead, GK_HLC_LEN);
	push_one(f, &f->worker1, strdup(c), "rejected", "clock_skew");
	/* Re-stamped, it goes in. */
	hlc_format((uint64_t)f->te.now << 16, ahead);
	memcpy(p, ahead, GK_HLC_LEN);
	push_one(f, &f->worker1, c, "accepted", NULL);
}

static void
test_push_over_the_batch_limit_is_refused_whole(void **state)
{
	struct fx *f = *state;
	struct gk_error err = {0};
	json_t *body, *answer = NULL;

	f->s.cfg.max_batch = 2;
	body = json_pack("{s:[{},{},{}]}", "changes");
	assert_int_equal(sync_push(&f->s, &f->worker1, body, &answer, &err),
	                 GK_E_BATCH);
	assert_string_equal(gk_code_name(err.code), "too_many_changes");
	assert_null(answer);
	json_decref(body);
	body = json_pack("{s:{}}", "changes");
	assert_int_equal(sync_push(&f->s, &f->worker1, body, &answer, &err),
	                 GK_E_TYPE);
	json_decref(body);
	body = json_object();
	assert_int_equal(sync_push(&f->s, &f->worker1, body, &answer, &err),
	                 GK_E_MISSING);
	json_decref(body);
}

/* ---- cost ------------------------------------------------------------- */

/* The query plan of sql, one line per step. */
static void
plan_of(struct fx *f, const char *sql, char *plan, size_t size)
{
	char text[2048];
	sqlite3_stmt *st;

	snprintf(text, sizeof text, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(f->s.db, text, -1, &st, NULL),
	                 SQLITE_OK);
	plan[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW &&
	       strlen(plan) + 2 +
	               strlen((const char *)sqlite3_column_text(st, 3)) <
	           size) {
		strcat(plan, (const char *)sqlite3_column_text(st, 3));
		strcat(plan, "\n");
	}
	sqlite3_finalize(st);
}

static void
test_drop_walk_uses_indexes_only(void **state)
{
	struct fx *f = *state;
	char plan[4096];

	plan_of(f, store_sync_drop_sql, plan, sizeof plan);
	if (strstr(plan, "SEARCH s USING PRIMARY KEY (unit=? AND seq>? AND "
	                 "seq<?)") == NULL ||
	    strstr(plan, "USING INDEX changes_row") == NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL || strstr(plan, "SCAN") != NULL)
		fail_msg("drop plan:\n%s", plan);
}

static void
test_pull_is_one_range_of_the_scope_key(void **state)
{
	struct fx *f = *state;
	char plan[4096];

	plan_of(f, store_sync_pull_sql, plan, sizeof plan);
	if (strstr(plan, "SEARCH s USING PRIMARY KEY (unit=? AND seq>?)") ==
	        NULL ||
	    strstr(plan, "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)") ==
	        NULL ||
	    strstr(plan, "TEMP B-TREE") != NULL || strstr(plan, "SCAN") != NULL)
		fail_msg("pull plan:\n%s", plan);
}

/* The VM steps of one whole pull of u from the start. */
static long long
pull_steps(struct fx *f, const struct gk_user *u, int *n)
{
	struct gk_error err = {0};
	sqlite3_stmt *st = store_stmt(&f->s, store_sync_pull_sql, &err);
	json_t *v;

	sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
	v = visible(f, u);
	*n = (int)json_array_size(v);
	json_decref(v);
	assert_int_equal(
	    sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0), 0);
	assert_int_equal(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_SORT, 0), 0);
	return sqlite3_stmt_status(st, SQLITE_STMTSTATUS_VM_STEP, 1);
}

static void
test_pull_costs_the_scope_not_the_log(void **state)
{
	struct fx *f = *state;
	long long before, after;
	int n1, n2;

	before = pull_steps(f, &f->worker1, &n1);
	/* 500 more changes in another grid: G1's pull reads no more. */
	for (int i = 0; i < 500; i++) {
		char row[GK_ID_LEN + 1] = "";
		fx_hazard(f, &f->worker3, row, f->g3, "elsewhere");
	}
	after = pull_steps(f, &f->worker1, &n2);
	assert_int_equal(n1, n2);
	assert_int_equal(before, after);
	assert_true(sql_int(f, "SELECT count(*) FROM changes") > 500);
}

/* ---- over HTTP, against the real server ------------------------------- */

#define PW_WORKER "sync-test-worker-pw"
#define PW_OTHER  "sync-test-other-pw"

struct hfx {
	char dir[256], db[512];
	struct httpc_server srv;
	char grid1[GK_ID_LEN + 1], db_id[GK_ID_LEN + 1];
};

/* Set a demo user's password in process, as `user passwd` would. */
static void
h_passwd(struct hfx *h, const char *username, const char *pw)
{
	struct gk_server s;
	struct gk_error err = {0};
	char sql[256], id[GK_ID_LEN + 1];

	memset(&s, 0, sizeof s);
	s.env = gk_env_system;
	s.db_path = h->db;
	if (db_open(h->db, 0, &s.db, &err) != GK_OK ||
	    store_open_cache(&s, &err) != GK_OK)
		fail_msg("open %s: %s", h->db, err.msg);
	snprintf(sql, sizeof sql, "SELECT id FROM users WHERE username = '%s'",
	         username);
	tu_text(s.db, sql, id, sizeof id);
	assert_int_equal(db_begin(s.db), GK_OK);
	if (users_set_password_tx(&s, id, pw, &err) != GK_OK)
		fail_msg("password of %s: %s", username, err.msg);
	assert_int_equal(db_commit(s.db), GK_OK);
	tu_text(s.db, "SELECT id FROM units WHERE code = 'XF-HP-01'", h->grid1,
	        sizeof h->grid1);
	tu_text(s.db, "SELECT value FROM server_meta WHERE key = 'db_id'",
	        h->db_id, sizeof h->db_id);
	store_close_cache(&s);
	db_close(s.db);
}

static int
h_setup(void **state)
{
	struct hfx *h = calloc(1, sizeof *h);

	if (h == NULL || httpc_tmpdir(h->dir, sizeof h->dir) != 0 ||
	    httpc_make_db(h->dir, "demo", h->db, sizeof h->db) != 0)
		return -1;
	h_passwd(h, "hp.sunli", PW_WORKER);
	h_passwd(h, "gm.zhenghong", PW_OTHER);
	if (httpc_start(&h->srv, h->db, NULL) != 0)
		return -1;
	*state = h;
	return 0;
}

static int
h_teardown(void **state)
{
	struct hfx *h = *state;

	if (h == NULL)
		return 0;
	httpc_free(&h->srv);
	httpc_rmdir(h->dir);
	free(h);
	return 0;
}

static void
h_login(struct hfx *h, const char *user, const char *pw, char *token)
{
	struct httpc_response r = {0};
	char body[256];
	json_t *j;

	snprintf(body, sizeof body,
	         "{\"username\":\"%s\",\"password\":\"%s\",\"device\":\"t\"}",
	         user, pw);
	assert_int_equal(
	    httpc_request(&h->srv, "POST", "/api/v1/login", NULL, body, &r),
	    200);
	assert_non_null((j = httpc_json(&r)));
	snprintf(token, AUTH_TOKEN_LEN + 1, "%s",
	         json_string_value(json_object_get(j, "token")));
	json_decref(j);
	httpc_response_free(&r);
}

/* GET a pull page; its status, and its JSON (caller decrefs) in *page. */
static int
h_pull(struct hfx *h, const char *token, const char *cursor, json_t **page)
{
	struct httpc_response r = {0};
	char path[512];
	int st;

	snprintf(path, sizeof path, "/api/v1/sync/pull%s%s",
	         cursor != NULL ? "?cursor=" : "",
	         cursor != NULL ? cursor : "");
	st = httpc_request(&h->srv, "GET", path, token, NULL, &r);
	*page = httpc_json(&r);
	httpc_response_free(&r);
	return st;
}

/* Pull everything; the changes, and the last cursor in cur. */
static json_t *
h_pull_all(struct hfx *h, const char *token, char cur[256])
{
	json_t *all = json_array(), *page;
	int pages = 0;

	cur[0] = '\0';
	do {
		assert_int_equal(h_pull(h, token, cur[0] ? cur : NULL, &page),
		                 200);
		json_array_extend(all, json_object_get(page, "changes"));
		snprintf(cur, 256, "%s",
		         json_string_value(json_object_get(page, "cursor")));
		if (!json_is_true(json_object_get(page, "more")))
			pages = -1;
		json_decref(page);
	} while (pages >= 0 && ++pages < 100);
	return all;
}

static void
test_http_push_then_pull_round_trip(void **state)
{
	struct hfx *h = *state;
	struct httpc_response r = {0};
	char token[AUTH_TOKEN_LEN + 1], other[AUTH_TOKEN_LEN + 1];
	char cur[256], id[GK_ID_LEN + 1], row[GK_ID_LEN + 1];
	char hlc[GK_HLC_LEN + 1], body[1024];
	json_t *all, *j, *c;
	size_t i;

	h_login(h, "hp.sunli", PW_WORKER, token);
	h_login(h, "gm.zhenghong", PW_OTHER, other);

	/* Everything this worker may see: hazards of their grid only. */
	all = h_pull_all(h, token, cur);
	assert_true(json_array_size(all) > 0);
	json_array_foreach (all, i, c)
		if (strcmp(json_string_value(json_object_get(c, "table")),
		           "hazards") == 0 &&
		    json_object_get(json_object_get(c, "fields"), "grid"))
			assert_string_equal(
			    json_string_value(json_object_get(
			        json_object_get(c, "fields"), "grid")),
			    h->grid1);
	json_decref(all);

	uuid_v7(&gk_env_system, id);
	uuid_v7(&gk_env_system, row);
	hlc_format((uint64_t)gk_env_system.now_ms(NULL) << 16, hlc);
	snprintf(body, sizeof body,
	         "{\"changes\":[{\"id\":\"%s\",\"node\":\"" CNODE "\","
	         "\"hlc\":\"%s\",\"table\":\"hazards\",\"op\":\"insert\","
	         "\"row\":\"%s\",\"fields\":{\"grid\":\"%s\","
	         "\"category\":\"fire\",\"risk_level\":3,\"title\":\"over "
	         "http\",\"occurred_at\":\"2026-09-20T08:00:00Z\"}}]}",
	         id, hlc, row, h->grid1);
	assert_int_equal(httpc_request(&h->srv, "POST", "/api/v1/sync/push",
	                               token, body, &r),
	                 200);
	assert_non_null((j = httpc_json(&r)));
	assert_string_equal(result(j, 0, NULL), "accepted");
	json_decref(j);
	httpc_response_free(&r);

	/* Sent again: a duplicate. */
	assert_int_equal(httpc_request(&h->srv, "POST", "/api/v1/sync/push",
	                               token, body, &r),
	                 200);
	assert_non_null((j = httpc_json(&r)));
	assert_string_equal(result(j, 0, NULL), "duplicate");
	json_decref(j);
	httpc_response_free(&r);

	/* The next page from the cursor holds it; the other grid's not. */
	assert_int_equal(h_pull(h, token, cur, &j), 200);
	assert_true(has_row(json_object_get(j, "changes"), "hazards", row));
	assert_string_equal(json_string_value(json_object_get(j, "db_id")),
	                    h->db_id);
	json_decref(j);
	all = h_pull_all(h, other, cur);
	assert_false(has_row(all, "hazards", row));
	json_decref(all);
}

static void
test_http_errors_have_their_status(void **state)
{
	struct hfx *h = *state;
	struct httpc_response r = {0};
	char token[AUTH_TOKEN_LEN + 1], cur[256], big[4096];
	json_t *j;

	/* No token: 401, on both. */
	assert_int_equal(
	    httpc_request(&h->srv, "GET", "/api/v1/sync/pull", NULL, NULL, &r),
	    401);
	assert_string_equal(httpc_error_code(&r), "unauthorized");
	httpc_response_free(&r);
	assert_int_equal(httpc_request(&h->srv, "POST", "/api/v1/sync/push",
	                               NULL, "{\"changes\":[]}", &r),
	                 401);
	httpc_response_free(&r);

	h_login(h, "hp.sunli", PW_WORKER, token);
	/* A cursor of another database: 409 db_changed. */
	snprintf(cur, sizeof cur,
	         "v1.01900000-0000-7000-8000-000000000000.%s.5", h->grid1);
	assert_int_equal(h_pull(h, token, cur, &j), 409);
	json_decref(j);
	assert_int_equal(h_pull(h, token, "garbage", &j), 400);
	json_decref(j);
	memset(big, 'a', 1000);
	big[1000] = '\0';
	assert_int_equal(h_pull(h, token, big, &j), 400);
	json_decref(j);
	assert_int_equal(httpc_request(&h->srv, "GET",
	                               "/api/v1/sync/pull?limit=0", token, NULL,
	                               &r),
	                 400);
	httpc_response_free(&r);
	/* Not a push body: 400 with the code. */
	assert_int_equal(httpc_request(&h->srv, "POST", "/api/v1/sync/push",
	                               token, "{\"changes\":5}", &r),
	                 400);
	assert_string_equal(httpc_error_code(&r), "bad_type");
	httpc_response_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_pushed_change_is_pulled_as_stored_text),
	    T(test_known_change_answers_duplicate),
	    T(test_resent_batch_after_lost_answer_applies_nothing_twice),
	    T(test_rejected_change_stops_no_other),
	    T(test_grid_worker_reads_only_their_grid),
	    T(test_station_sees_its_whole_community),
	    T(test_street_sees_everything_in_its_street),
	    T(test_other_grid_is_refused_like_a_missing_row),
	    T(test_grid_worker_reads_but_cannot_write_community_depots),
	    T(test_moving_a_record_to_another_unit_is_refused),
	    T(test_grid_worker_acknowledges_a_notice_to_their_community),
	    T(test_new_grid_receives_what_reaches_down_to_it),
	    T(test_unit_added_in_a_batch_takes_records_in_that_batch),
	    T(test_grown_scope_delivers_the_rows_of_the_new_scope),
	    T(test_shrunk_scope_drops_rows_no_longer_in_it),
	    T(test_admin_moves_a_user_by_push_and_the_history_follows),
	    T(test_cursor_of_another_database_answers_db_changed),
	    T(test_hlc_far_ahead_is_refused_with_clock_skew),
	    T(test_push_over_the_batch_limit_is_refused_whole),
	    T(test_pull_is_one_range_of_the_scope_key),
	    T(test_drop_walk_uses_indexes_only),
	    T(test_pull_costs_the_scope_not_the_log),
#undef T
	    cmocka_unit_test_setup_teardown(test_http_push_then_pull_round_trip,
	                                    h_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_http_errors_have_their_status,
	                                    h_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
