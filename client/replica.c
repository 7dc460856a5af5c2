/*
 * replica.c: the station's local replica, one SQLite file.
 *
 * It holds the records every replica shares (schema/records) and the
 * client's own tables (schema/client): client_meta with this install's
 * node id, and the outbox, where every local change waits with a visible
 * state until the server accepts or rejects it. Nothing here prints;
 * gridkeep.c does.
 *
 * The file lives under $XDG_DATA_HOME/gridkeep (or ~/.local/share/gridkeep)
 * in a directory of mode 0700: a replica holds the names and contacts of
 * residents and volunteers, and later a login token.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "gridkeep.h"

const char *const replica_state_names[REPLICA_NSTATES] = {
    [REPLICA_SAVED] = "saved",
    [REPLICA_SENT] = "sent",
    [REPLICA_ACCEPTED] = "accepted",
    [REPLICA_REJECTED] = "rejected",
};

int
replica_default_path(char *buf, size_t size, struct gk_error *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	/* The XDG spec says to ignore a relative XDG_DATA_HOME. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/gridkeep/replica.db", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, size, "%s/.local/share/gridkeep/replica.db",
		             home);
	else
		return gk_error_set(
		    err, GK_E_NOT_FOUND,
		    "HOME is not set: name the replica with -d");
	if (n < 0 || (size_t)n >= size)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "the replica's path is too long");
	return GK_OK;
}

int
replica_make_dir(const char *path, struct gk_error *err)
{
	char dir[GK_PATH_MAX];
	struct stat sb;
	char *slash, *p;

	if (strlen(path) >= sizeof dir)
		return gk_error_set(err, GK_E_TOO_LONG, "path too long: %s",
		                    path);
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return GK_OK; /* the current directory, or / */
	*slash = '\0';
	for (p = dir + 1;; p++) {
		char ch = *p;

		if (ch != '/' && ch != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return gk_error_set(err, GK_E_IO,
			                    "cannot make directory %s: %s", dir,
			                    strerror(errno));
		*p = ch;
		if (ch == '\0')
			break;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return gk_error_set(err, GK_E_IO, "%s is not a directory", dir);
	return GK_OK;
}

/* Migrate, and give a new replica its node id, in one transaction. */
static int
replica_setup(struct gk_client *c, struct gk_error *err)
{
	char node[GK_NODE_LEN + 2];
	int rc;

	if ((rc = schema_migrate(c->db, GK_SIDE_CLIENT, err)) != GK_OK)
		return rc;
	if (db_begin(c->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                    sqlite3_errmsg(c->db));
	rc = db_meta_get(c->db, GK_SIDE_CLIENT, "node", node, sizeof node, err);
	if (rc == GK_E_NOT_FOUND) {
		node_format(node_new(&c->env), node);
		rc = db_meta_put_tx(c->db, GK_SIDE_CLIENT, "node", node, err);
	}
	if (rc != GK_OK) {
		db_rollback(c->db);
		return rc;
	}
	if (db_commit(c->db) != GK_OK)
		return gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                    sqlite3_errmsg(c->db));
	return GK_OK;
}

int
replica_verify(struct gk_client *c, struct gk_error *err)
{
	int rec = schema_version(c->db, "records");
	int cli = schema_version(c->db, "client");
	int lrec = schema_latest("records"), lcli = schema_latest("client");
	char node[GK_NODE_LEN + 2];
	int rc;

	if (schema_version(c->db, "server") > 0)
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "%s is a gridkeepd database, not a replica",
		                    c->db_path);
	if (rec == 0 && cli == 0)
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "%s is not a gridkeep replica (gridkeep "
		                    "init creates one)",
		                    c->db_path);
	if (rec > lrec || cli > lcli)
		return gk_error_set(err, GK_E_SCHEMA_NEWER,
		                    "replica schema is records %d, client %d, "
		                    "newer than this program's %d, %d: use a "
		                    "newer gridkeep",
		                    rec, cli, lrec, lcli);
	if (rec < lrec || cli < lcli)
		return gk_error_set(err, GK_E_CORRUPT,
		                    "replica schema is records %d, client %d, "
		                    "older than this program's %d, %d: "
		                    "gridkeep init migrates it",
		                    rec, cli, lrec, lcli);
	rc = db_meta_get(c->db, GK_SIDE_CLIENT, "node", node, sizeof node, err);
	if (rc == GK_E_NOT_FOUND)
		return gk_error_set(err, GK_E_CORRUPT,
		                    "the replica has no node id");
	if (rc != GK_OK)
		return rc;
	if (node_parse(node, strlen(node), &c->node) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT,
		                    "the replica's node id is damaged");
	return GK_OK;
}

int
replica_open(struct gk_client *c, int flags, int *created, struct gk_error *err)
{
	struct stat sb;
	int rc, exists;

	if (c->db_path == NULL) {
		if ((rc = replica_default_path(c->default_path,
		                               sizeof c->default_path, err)) !=
		    GK_OK)
			return rc;
		c->db_path = c->default_path;
		c->is_default = 1;
	}
	exists = stat(c->db_path, &sb) == 0;
	if (!exists && errno == ENOENT && !(flags & REPLICA_CREATE))
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "no replica at %s (gridkeep init creates "
		                    "one)",
		                    c->db_path);
	if (created != NULL)
		*created = !exists;
	if ((flags & REPLICA_CREATE) && !exists && c->is_default &&
	    (rc = replica_make_dir(c->db_path, err)) != GK_OK)
		return rc;
	if ((rc = db_open(c->db_path,
	                  (flags & REPLICA_CREATE) ? GK_DB_CREATE : 0, &c->db,
	                  err)) != GK_OK)
		return rc;
	if ((flags & REPLICA_CREATE) && (rc = replica_setup(c, err)) != GK_OK)
		return rc;
	/* A replica made by an older gridkeep is brought up to date on
	 * open: a station that upgrades must not have to know about init.
	 * The migration is one transaction (schema.c). */
	if (!(flags & (REPLICA_CREATE | REPLICA_RAW)) &&
	    schema_version(c->db, "server") == 0 &&
	    schema_version(c->db, "records") > 0 &&
	    (schema_version(c->db, "records") < schema_latest("records") ||
	     schema_version(c->db, "client") < schema_latest("client")) &&
	    schema_version(c->db, "records") <= schema_latest("records") &&
	    schema_version(c->db, "client") <= schema_latest("client") &&
	    (rc = schema_migrate(c->db, GK_SIDE_CLIENT, err)) != GK_OK)
		return rc;
	if (flags & REPLICA_RAW)
		return GK_OK;
	return replica_verify(c, err);
}

void
replica_close(struct gk_client *c)
{
	if (c->merge != NULL)
		merge_free(c->merge);
	c->merge = NULL;
	if (c->db != NULL)
		db_close(c->db);
	c->db = NULL;
}

void
client_close(struct gk_client *c)
{
	replica_close(c);
}

int64_t
client_now_ms(const struct gk_client *c)
{
	return c->env.now_ms(c->env.arg) + c->clock_offset_ms;
}

int
replica_meta_get(struct gk_client *c, const char *key, char *buf, size_t size,
                 struct gk_error *err)
{
	return db_meta_get(c->db, GK_SIDE_CLIENT, key, buf, size, err);
}

int
replica_meta_put_tx(struct gk_client *c, const char *key, const char *value,
                    struct gk_error *err)
{
	return db_meta_put_tx(c->db, GK_SIDE_CLIENT, key, value, err);
}

void
replica_schema(struct gk_client *c, int *records, int *client)
{
	*records = schema_version(c->db, "records");
	*client = schema_version(c->db, "client");
}

int
replica_outbox_counts(struct gk_client *c, int64_t counts[REPLICA_NSTATES],
                      struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	memset(counts, 0, REPLICA_NSTATES * sizeof counts[0]);
	if (sqlite3_prepare_v2(
	        c->db, "SELECT state, count(*) FROM outbox GROUP BY state", -1,
	        &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(st, 0);
		for (int i = 0; state != NULL && i < REPLICA_NSTATES; i++)
			if (strcmp(state, replica_state_names[i]) == 0)
				counts[i] = sqlite3_column_int64(st, 1);
	}
	if (r != SQLITE_DONE)
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? GK_OK : GK_E_DB;
}
