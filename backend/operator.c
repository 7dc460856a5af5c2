/*
 * operator.c: the operator's commands that create and open the server's
 * database (init). check is in check.c, the storage in store.c.
 *
 * init creates or migrates the database and gives a new one its two
 * identities: the database id (a new database never shares it, nor does a
 * backup: a client that sees it change re-pulls from the start and re-
 * sends its outbox) and the node id that stamps the server's own changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gridkeepd.h"

/* ---- opening and creating -------------------------------------------------
 */

int
operator_open(struct gk_server *s, int create, struct gk_error *err)
{
	struct stat sb;

	if (!create && stat(s->db_path, &sb) != 0 && errno == ENOENT)
		return gk_error_set(err, GK_E_NOT_FOUND,
		                    "no database at %s (gridkeepd init "
		                    "creates one)",
		                    s->db_path);
	return db_open(s->db_path, create ? GK_DB_CREATE : 0, &s->db, err);
}

void
operator_close(struct gk_server *s)
{
	if (s->db != NULL)
		db_close(s->db);
	s->db = NULL;
}

/* Read the ids of server_meta into s, making those that are missing. */
static int
operator_ids_tx(struct gk_server *s, int *made, struct gk_error *err)
{
	char node[GK_NODE_LEN + 2];
	int rc;

	*made = 0;
	rc = store_meta_get(s->db, "db_id", s->db_id, sizeof s->db_id, err);
	if (rc == GK_E_NOT_FOUND) {
		uuid_v7(&s->env, s->db_id);
		rc = store_meta_put_tx(s->db, "db_id", s->db_id, err);
		*made = 1;
	}
	if (rc != GK_OK)
		return rc;
	if (!uuid_valid(s->db_id, strlen(s->db_id)))
		return gk_error_set(err, GK_E_CORRUPT,
		                    "server_meta db_id is not an id");

	rc = store_meta_get(s->db, "node", node, sizeof node, err);
	if (rc == GK_E_NOT_FOUND) {
		s->node = node_new(&s->env);
		node_format(s->node, node);
		rc = store_meta_put_tx(s->db, "node", node, err);
		*made = 1;
	} else if (rc == GK_OK &&
	           node_parse(node, strlen(node), &s->node) != GK_OK) {
		rc = gk_error_set(err, GK_E_CORRUPT,
		                  "server_meta node is not a node id");
	}
	return rc;
}

int
operator_create(struct gk_server *s, struct gk_error *err)
{
	int rec, srv, made, rc;
	char node[GK_NODE_LEN + 1];

	if ((rc = operator_open(s, 1, err)) != GK_OK)
		return rc;
	rec = schema_version(s->db, "records");
	srv = schema_version(s->db, "server");
	if ((rc = schema_migrate(s->db, GK_SIDE_SERVER, err)) != GK_OK)
		return rc;
	if (db_begin(s->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                    sqlite3_errmsg(s->db));
	if ((rc = operator_ids_tx(s, &made, err)) != GK_OK) {
		db_rollback(s->db);
		return rc;
	}
	if (db_commit(s->db) != GK_OK)
		return gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                    sqlite3_errmsg(s->db));

	if (rec == 0 && srv == 0)
		printf("created database %s", s->db_path);
	else if (rec < schema_latest("records") ||
	         srv < schema_latest("server"))
		printf("migrated database %s from schema records %d, server "
		       "%d to",
		       s->db_path, rec, srv);
	else
		printf("database %s is up to date", s->db_path);
	printf(" (schema records %d, server %d)\n", schema_latest("records"),
	       schema_latest("server"));
	node_format(s->node, node);
	printf("database id: %s%s\nnode: %s\n", s->db_id, made ? " (new)" : "",
	       node);
	return GK_OK;
}

int
operator_open_ready(struct gk_server *s, struct gk_error *err)
{
	char node[GK_NODE_LEN + 2];
	int rc;

	if ((rc = operator_open(s, 0, err)) != GK_OK)
		return rc;
	if (schema_version(s->db, "records") != schema_latest("records") ||
	    schema_version(s->db, "server") != schema_latest("server"))
		return gk_error_set(err, GK_E_SCHEMA_NEWER,
		                    "%s is not at this version's schema: run "
		                    "gridkeepd init first",
		                    s->db_path);
	if ((rc = store_meta_get(s->db, "db_id", s->db_id, sizeof s->db_id,
	                         err)) != GK_OK ||
	    (rc = store_meta_get(s->db, "node", node, sizeof node, err)) !=
	        GK_OK)
		return rc;
	if (node_parse(node, strlen(node), &s->node) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT,
		                    "server_meta node is not a node id");
	if ((rc = store_open_cache(s, err)) != GK_OK)
		return rc;
	return store_auth_recent_hlc(s, &s->hlc.last, err);
}

void
operator_close_ready(struct gk_server *s)
{
	store_close_cache(s);
}

/* The root unit (a district) into root, or "" if there is none yet. */
static int
operator_root_unit(struct gk_server *s, char root[GK_ID_LEN + 1],
                   struct gk_error *err)
{
	static const char sql[] = "SELECT id FROM units WHERE parent IS NULL "
	                          "AND deleted IS NOT 1 ORDER BY id LIMIT 1";
	sqlite3_stmt *st = store_stmt(s, sql, err);
	int rc;

	root[0] = '\0';
	if (st == NULL)
		return GK_E_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(root, GK_ID_LEN + 1, "%s", sqlite3_column_text(st, 0));
	return rc == SQLITE_ROW || rc == SQLITE_DONE
	           ? GK_OK
	           : gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
}

/*
 * init --admin NAME: the first admin, with a password read as `user add`
 * reads one, scoped to the root district (made, named --district, when
 * the database has no unit yet). An admin that exists is kept.
 */
static int
operator_first_admin(struct gk_server *s, const char *admin,
                     const char *district, struct gk_error *err)
{
	char pw[AUTH_PASSWORD_MAX + 3], root[GK_ID_LEN + 1], id[GK_ID_LEN + 1];
	struct gk_userinfo ui;
	size_t len = 0;
	int rc;

	memset(pw, 0, sizeof pw);
	operator_close(s);
	if ((rc = operator_open_ready(s, err)) != GK_OK)
		goto out;
	if ((rc = store_auth_user_by_name(s, admin, &ui, err)) == GK_OK) {
		printf("user %s exists: kept\n", admin);
		goto out;
	}
	if (rc != GK_E_NOT_FOUND ||
	    (rc = users_read_password(pw, &len, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = operator_root_unit(s, root, err)) == GK_OK &&
	    root[0] == '\0') {
		rc = units_add_tx(s, district, "district", NULL, NULL, -1, root,
		                  err);
		if (rc == GK_OK)
			printf("added district %s: %s\n", district, root);
	}
	if (rc == GK_OK)
		rc = users_add_tx(s, admin, GK_ROLE_ADMIN, root, NULL, pw, id,
		                  err);
	if (rc != GK_OK) {
		db_rollback(s->db);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	printf("added user %s (admin): %s\n", admin, id);
out:
	explicit_bzero(pw, sizeof pw);
	operator_close_ready(s);
	return rc;
}

int
operator_init_exec(struct gk_server *s, int argc, char **argv,
                   struct gk_error *err)
{
	const char *admin = NULL, *district = "District";
	int rc;

	for (int i = 0; i < argc; i += 2) {
		const char **to = strcmp(argv[i], "--admin") == 0 ? &admin
		                  : strcmp(argv[i], "--district") == 0
		                      ? &district
		                      : NULL;
		if (to == NULL || i + 1 >= argc)
			return gk_error_set(err, GK_E_USAGE,
			                    "usage: init [--admin NAME "
			                    "[--district NAME]]");
		*to = argv[i + 1];
	}
	if ((rc = operator_create(s, err)) != GK_OK || admin == NULL)
		return rc;
	return operator_first_admin(s, admin, district, err);
}
