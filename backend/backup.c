/*
 * backup.c: `gridkeepd backup FILE`, an online copy of the database.
 *
 * The copy is taken with VACUUM INTO, in one read transaction: under WAL
 * it sees one committed state and never blocks the server's writers, so a
 * backup can run while stations push. It is written to a temporary file
 * beside FILE, given a database id of its own (see backup_new_id), checked
 * (integrity_check), fsync'ed, renamed over FILE and the directory
 * fsync'ed: FILE is either the old backup or a whole new one, never half of
 * one. A plain copy of a live WAL database is not a backup.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridkeepd.h"

static int
backup_fsync_path(const char *path, int dir, struct gk_error *err)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return gk_error_set(err, GK_E_IO, "cannot open %s: %s", path,
		                    strerror(errno));
	if (fsync(fd) != 0) {
		close(fd);
		return gk_error_set(err, GK_E_IO, "cannot fsync %s: %s", path,
		                    strerror(errno));
	}
	close(fd);
	return GK_OK;
}

/*
 * Give the copy a database id of its own. A server restored from it has
 * lost the changes made after the backup, and will hand out sequence
 * numbers that its clients' cursors already passed; with a new id every
 * client's cursor is refused (db_changed), so each re-pulls from the start
 * and re-pushes its whole outbox, and nothing typed since is lost.
 */
static int
backup_new_id(struct gk_server *s, sqlite3 *copy, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], old[GK_ID_LEN + 1];
	int rc;

	if ((rc = store_meta_get(copy, "db_id", old, sizeof old, err)) != GK_OK)
		return rc;
	uuid_v7(&s->env, id);
	if (db_begin(copy) != GK_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(copy));
	if ((rc = store_meta_put_tx(copy, "db_id", id, err)) != GK_OK ||
	    (rc = store_meta_put_tx(copy, "backup_of", old, err)) != GK_OK) {
		db_rollback(copy);
		return rc;
	}
	return db_commit(copy) == GK_OK
	           ? GK_OK
	           : gk_error_set(err, GK_E_IO, "%s", sqlite3_errmsg(copy));
}

/* Copy s->db into tmp with VACUUM INTO, give it its own id, check it. */
static int
backup_copy(struct gk_server *s, const char *tmp, struct gk_error *err)
{
	sqlite3_stmt *st;
	sqlite3 *copy;
	int rc;

	if ((rc = store_prepare(s->db, "VACUUM INTO ?1", &st, err)) != GK_OK)
		return rc;
	sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gk_error_set(err, GK_E_IO,
		                    "cannot copy the database: %s",
		                    sqlite3_errmsg(s->db));
	if ((rc = db_open(tmp, 0, &copy, err)) != GK_OK)
		return rc;
	if ((rc = backup_new_id(s, copy, err)) == GK_OK)
		rc = db_check(copy, 1, err);
	/* Leave one file: fold the WAL back before it is renamed. */
	if (rc == GK_OK && sqlite3_exec(copy, "PRAGMA journal_mode=DELETE",
	                                NULL, NULL, NULL) != SQLITE_OK)
		rc = gk_error_set(err, GK_E_IO, "%s", sqlite3_errmsg(copy));
	db_close(copy);
	return rc;
}

int
backup_exec(struct gk_server *s, int argc, char **argv, struct gk_error *err)
{
	char *tmp = NULL, *dircopy = NULL;
	const char *target;
	size_t n;
	int rc;

	if (argc != 1)
		return gk_error_set(err, GK_E_USAGE, "usage: backup FILE");
	target = argv[0];
	if ((rc = operator_open(s, 0, err)) != GK_OK)
		return rc;
	n = strlen(target) + 32;
	if ((tmp = malloc(n)) == NULL || (dircopy = strdup(target)) == NULL) {
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	snprintf(tmp, n, "%s.tmp-%ld", target, (long)getpid());
	unlink(tmp); /* VACUUM INTO refuses an existing file */
	if ((rc = backup_copy(s, tmp, err)) != GK_OK ||
	    (rc = backup_fsync_path(tmp, 0, err)) != GK_OK)
		goto out;
	if (rename(tmp, target) != 0) {
		rc = gk_error_set(err, GK_E_IO, "cannot rename to %s: %s",
		                  target, strerror(errno));
		goto out;
	}
	if ((rc = backup_fsync_path(dirname(dircopy), 1, err)) != GK_OK)
		goto out;
	printf("backup: %s written and checked\n", target);
out:
	if (rc != GK_OK && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dircopy);
	return rc;
}
