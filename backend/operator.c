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
operator_init_exec(struct gk_server *s, int argc, char **argv,
                   struct gk_error *err)
{
	(void)argc;
	(void)argv;
	return operator_create(s, err);
}
