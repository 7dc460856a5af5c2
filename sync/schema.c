/*
 * schema.c: bringing a database to the schema this binary was built with.
 *
 * schema/ holds numbered migrations in three tracks: "records" (shared by
 * every replica), "server" and "client" (each side's own tables). A
 * database records, per track, the last migration it holds. Migrating runs
 * every missing migration of "records" and of one side, in order, in one
 * transaction: a crash leaves the old schema, never half of a new one. A
 * database with a track newer than this binary is refused untouched, since
 * an older binary cannot know what the newer schema means.
 */
#include <string.h>

#include "schema-migrations.h"
#include "sync.h"

int
schema_latest(const char *track)
{
	int v = 0;

	for (int i = 0; i < gk_nmigrations; i++)
		if (strcmp(gk_migrations[i].track, track) == 0 &&
		    gk_migrations[i].version > v)
			v = gk_migrations[i].version;
	return v;
}

int
schema_version(sqlite3 *db, const char *track)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(
	        db, "SELECT version FROM schema_version WHERE track=?", -1, &st,
	        NULL) != SQLITE_OK)
		return 0; /* no table yet: an empty database */
	sqlite3_bind_text(st, 1, track, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
set_version_tx(sqlite3 *db, const char *track, int version,
               struct gk_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO schema_version(track, version) "
	                       "VALUES(?, ?) ON CONFLICT(track) DO UPDATE "
	                       "SET version=excluded.version",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, track, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
	return GK_OK;
}

static int
migrate_track_tx(sqlite3 *db, const char *track, struct gk_error *err)
{
	int have = schema_version(db, track);
	int rc;

	for (int v = have + 1; v <= schema_latest(track); v++) {
		const struct gk_migration *m = NULL;
		for (int i = 0; i < gk_nmigrations; i++)
			if (strcmp(gk_migrations[i].track, track) == 0 &&
			    gk_migrations[i].version == v)
				m = &gk_migrations[i];
		if (m == NULL)
			return gk_error_set(err, GK_E_DB,
			                    "migration %s %d is missing", track,
			                    v);
		if (sqlite3_exec(db, m->sql, NULL, NULL, NULL) != SQLITE_OK)
			return gk_error_set(err, GK_E_DB, "migration %s/%s: %s",
			                    track, m->name, sqlite3_errmsg(db));
		if ((rc = set_version_tx(db, track, v, err)) != GK_OK)
			return rc;
	}
	return GK_OK;
}

int
schema_migrate(sqlite3 *db, enum gk_schema_side side, struct gk_error *err)
{
	const char *tracks[2] = {"records",
	                         side == GK_SIDE_SERVER ? "server" : "client"};
	const char *other = side == GK_SIDE_SERVER ? "client" : "server";
	int rc;

	if (db_begin(db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                    sqlite3_errmsg(db));
	rc = db_exec(db,
	             "CREATE TABLE IF NOT EXISTS schema_version ("
	             "track TEXT PRIMARY KEY, version INTEGER NOT NULL) "
	             "WITHOUT ROWID",
	             err);
	for (int i = 0; rc == GK_OK && i < 2; i++) {
		int have = schema_version(db, tracks[i]);
		int latest = schema_latest(tracks[i]);
		if (have > latest)
			rc = gk_error_set(
			    err, GK_E_SCHEMA_NEWER,
			    "database schema %s is version %d, "
			    "newer than this program's %d: upgrade "
			    "gridkeep first",
			    tracks[i], have, latest);
	}
	if (rc == GK_OK && schema_version(db, other) > 0)
		rc = gk_error_set(err, GK_E_USAGE,
		                  "this is a %s database, not a %s one", other,
		                  tracks[1]);
	for (int i = 0; rc == GK_OK && i < 2; i++)
		rc = migrate_track_tx(db, tracks[i], err);
	if (rc != GK_OK) {
		db_rollback(db);
		return rc;
	}
	if (db_commit(db) != GK_OK)
		return gk_error_set(err, GK_E_IO, "cannot commit migration: %s",
		                    sqlite3_errmsg(db));
	return GK_OK;
}
