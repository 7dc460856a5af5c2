/*
 * test-schema.c: the migrations in schema/ and the record model in
 * sync/record.c describe the same tables, and a database is migrated
 * forward, refused when newer, and never left half-migrated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static sqlite3 *
open_mem(void)
{
	sqlite3 *db;
	struct gk_error err = {0};

	assert_int_equal(db_open(":memory:", GK_DB_CREATE, &db, &err), GK_OK);
	return db;
}

static void
test_every_record_table_has_the_columns_of_its_model(void **state)
{
	const struct gk_table *const *tables;
	sqlite3 *db = tu_replica();
	int n;

	(void)state;
	tables = record_tables(&n);
	assert_true(n >= 14);
	for (int i = 0; i < n; i++) {
		const struct gk_table *t = tables[i];
		char sql[128];
		sqlite3_stmt *st;
		int col = 0;

		assert_int_equal(t->index, i);
		snprintf(sql, sizeof sql,
		         "SELECT name FROM pragma_table_info('%s')", t->name);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
		                 SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name =
			    (const char *)sqlite3_column_text(st, 0);
			const char *want;
			if (col == 0)
				want = "id";
			else if (col <= t->nfields)
				want = t->fields[col - 1].name;
			else if (t->kind == GK_MUTABLE && col == t->nfields + 1)
				want = "_stamps";
			else if (t->kind == GK_APPEND && col <= t->nfields + 3)
				want = (const char *[]){
				    "author", "hlc",
				    "node"}[col - t->nfields - 1];
			else
				want = NULL; /* derived columns may follow */
			if (want != NULL && strcmp(name, want) != 0)
				fail_msg("%s column %d is %s, model says %s",
				         t->name, col, name, want);
			col++;
		}
		sqlite3_finalize(st);
		if (col < t->nfields + (t->kind == GK_MUTABLE ? 2 : 4))
			fail_msg("%s has %d columns, model needs more", t->name,
			         col);
		assert_true(t->nfields <= GK_MAX_FIELDS);
	}
	db_close(db);
}

static void
test_a_new_database_holds_the_latest_versions(void **state)
{
	sqlite3 *db = tu_replica();

	(void)state;
	assert_true(schema_latest("records") >= 1);
	assert_int_equal(schema_version(db, "records"),
	                 schema_latest("records"));
	assert_int_equal(schema_version(db, "client"), schema_latest("client"));
	assert_int_equal(schema_version(db, "server"), 0);
	assert_int_equal(tu_int(db,
	                        "SELECT count(*) FROM sqlite_schema "
	                        "WHERE name IN ('outbox', 'rejected_changes', "
	                        "'client_meta')"),
	                 3);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema "
	                            "WHERE name IN ('changes', 'sessions')"),
	                 0);
	db_close(db);
}

static void
test_server_database_has_server_tables_and_no_client_ones(void **state)
{
	sqlite3 *db = open_mem();
	struct gk_error err = {0};

	(void)state;
	assert_int_equal(schema_migrate(db, GK_SIDE_SERVER, &err), GK_OK);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema WHERE "
	                            "name IN ('changes', 'change_scopes', "
	                            "'sessions', 'credentials', "
	                            "'login_failures', 'server_meta')"),
	                 6);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema "
	                            "WHERE name = 'outbox'"),
	                 0);
	/* and a server database is not opened as a replica */
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err), GK_E_USAGE);
	db_close(db);
}

static void
test_migrating_twice_changes_nothing(void **state)
{
	sqlite3 *db = tu_replica();
	struct gk_error err = {0};
	long long before = tu_int(db, "SELECT count(*) FROM sqlite_schema");

	(void)state;
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err), GK_OK);
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema"),
	                 before);
	db_close(db);
}

static void
test_a_newer_database_is_refused_and_left_untouched(void **state)
{
	sqlite3 *db = tu_replica();
	struct gk_error err = {0};
	char sql[128];
	int newer = schema_latest("records") + 1;

	(void)state;
	snprintf(sql, sizeof sql,
	         "UPDATE schema_version SET version=%d WHERE track='records'",
	         newer);
	assert_int_equal(db_exec(db, sql, &err), GK_OK);
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err),
	                 GK_E_SCHEMA_NEWER);
	assert_non_null(strstr(err.msg, "newer"));
	assert_int_equal(schema_version(db, "records"), newer);
	assert_true(sqlite3_get_autocommit(db)); /* no transaction left open */
	db_close(db);
}

static void
test_an_older_database_is_migrated_forward(void **state)
{
	sqlite3 *db = open_mem();
	struct gk_error err = {0};

	(void)state;
	/* A database holding only the shared records, as a replica made by an
	 * older binary that had no client tables would. */
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err), GK_OK);
	assert_int_equal(
	    db_exec(db,
	            "DROP TABLE outbox; DROP TABLE rejected_changes; "
	            "DROP TABLE client_meta; "
	            "DELETE FROM schema_version WHERE track='client'",
	            &err),
	    GK_OK);
	assert_int_equal(schema_version(db, "client"), 0);
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err), GK_OK);
	assert_int_equal(schema_version(db, "client"), schema_latest("client"));
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema "
	                            "WHERE name='outbox'"),
	                 1);
	db_close(db);
}

static void
test_a_failing_migration_leaves_the_old_schema_whole(void **state)
{
	sqlite3 *db = open_mem();
	struct gk_error err = {0};

	(void)state;
	/* A table in the way makes the client migration fail half-way, after
	 * the records migration ran in the same transaction. */
	assert_int_equal(db_exec(db, "CREATE TABLE rejected_changes(x)", &err),
	                 GK_OK);
	assert_int_equal(schema_migrate(db, GK_SIDE_CLIENT, &err), GK_E_DB);
	assert_non_null(strstr(err.msg, "0001-client.sql"));
	assert_int_equal(tu_int(db, "SELECT count(*) FROM sqlite_schema "
	                            "WHERE name IN ('hazards', 'outbox', "
	                            "'schema_version')"),
	                 0);
	assert_true(sqlite3_get_autocommit(db));
	db_close(db);
}

static void
test_the_version_survives_reopening_a_file(void **state)
{
	char path[] = "/tmp/gk-schema-XXXXXX";
	char file[64];
	sqlite3 *db;
	struct gk_error err = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(file, sizeof file, "%s.db", path);
	assert_int_equal(db_open(file, GK_DB_CREATE, &db, &err), GK_OK);
	assert_int_equal(schema_migrate(db, GK_SIDE_SERVER, &err), GK_OK);
	db_close(db);
	assert_int_equal(db_open(file, 0, &db, &err), GK_OK);
	assert_int_equal(schema_version(db, "server"), schema_latest("server"));
	{
		char mode[16];
		tu_text(db, "PRAGMA journal_mode", mode, sizeof mode);
		assert_string_equal(mode, "wal");
		assert_int_equal(tu_int(db, "PRAGMA synchronous"),
		                 2); /* FULL */
	}
	assert_int_equal(db_check(db, 1, &err), GK_OK);
	db_close(db);
	assert_int_equal(
	    db_open("/nonexistent/dir/x.db", 0, &db, &err) != GK_OK, 1);
	unlink(file);
	snprintf(file + strlen(file), 8, "-wal");
	unlink(file);
	file[strlen(file) - 4] = '\0';
	snprintf(file + strlen(file), 8, "-shm");
	unlink(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_every_record_table_has_the_columns_of_its_model),
	    cmocka_unit_test(test_a_new_database_holds_the_latest_versions),
	    cmocka_unit_test(
	        test_server_database_has_server_tables_and_no_client_ones),
	    cmocka_unit_test(test_migrating_twice_changes_nothing),
	    cmocka_unit_test(
	        test_a_newer_database_is_refused_and_left_untouched),
	    cmocka_unit_test(test_an_older_database_is_migrated_forward),
	    cmocka_unit_test(
	        test_a_failing_migration_leaves_the_old_schema_whole),
	    cmocka_unit_test(test_the_version_survives_reopening_a_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
