/*
 * session.c: the login this replica holds, the token file and the
 * offline unlock.
 *
 * A login (agent.c posts it) ends here in session_save: the user, unit,
 * server and the server's database id go into client_meta together with
 * an Argon2id hash of the password, in one transaction, so that the
 * terminal UI can be unlocked with no network at all (session_unlock).
 * The device token never enters the database: it lives in a file beside
 * the replica ("<replica>.token", mode 0600), written to a temporary file,
 * fsync'ed and renamed, so a crash leaves the old token or the new one.
 *
 * A replica belongs to one user of one server: its outbox holds changes
 * authored by that user. Logging in as someone else while that user's
 * changes are unsent, or into another server's database, is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <argon2.h>

#include "gridkeep.h"
#include "net.h"

#define PW_T       2
#define PW_M       19456 /* KiB: OWASP's minimum for Argon2id */
#define PW_P       1
#define PW_SALT    16
#define PW_HASH    32
#define PW_MAX     1024 /* bytes of a password we accept */
#define PW_ENCODED 160
#define TOKEN_MAX  127

/* ---- the test clock ----------------------------------------------------- */

static int64_t
session_shifted_now(void *arg)
{
	const struct gk_client *c = arg;

	return gk_env_system.now_ms(gk_env_system.arg) + c->test_shift_ms;
}

void
session_test_clock(struct gk_client *c)
{
	const char *v = getenv("GRIDKEEP_CLOCK_OFFSET_MS");
	char *end;
	long long ms;

	if (v == NULL || *v == '\0' || c->env.now_ms != gk_env_system.now_ms)
		return;
	errno = 0;
	ms = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || ms < -(1LL << 40) || ms > (1LL << 40))
		return;
	c->test_shift_ms = ms;
	c->env.now_ms = session_shifted_now;
	c->env.arg = c;
}

/* ---- loading ------------------------------------------------------------- */

int
session_token_path(const struct gk_client *c, char *buf, size_t size,
                   struct gk_error *err)
{
	int n;

	if (c->db_path == NULL)
		return gk_error_set(err, GK_E_USAGE, "%s",
		                    _("no replica is open"));
	n = snprintf(buf, size, "%s.token", c->db_path);
	if (n < 0 || (size_t)n >= size)
		return gk_error_set(err, GK_E_TOO_LONG, "%s",
		                    _("the replica's path is too long"));
	return GK_OK;
}

/* A token as the server makes them: base64url, no controls or spaces. */
static int
token_valid(const char *t, size_t len)
{
	if (len == 0 || len > TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return 0;
	}
	return 1;
}

/* Read the token file into c->sess.token ("" if there is none). */
static int
session_load_token(struct gk_client *c, struct gk_error *err)
{
	char path[GK_PATH_MAX], buf[TOKEN_MAX + 3];
	struct stat sb;
	size_t n;
	FILE *f;
	int rc, fd;

	c->sess.token[0] = '\0';
	if ((rc = session_token_path(c, path, sizeof path, err)) != GK_OK)
		return rc;
	/* O_NONBLOCK: a FIFO in its place must not hang every command. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno == ENOENT)
			return GK_OK;
		return gk_error_set(err, GK_E_IO, _("cannot read %s: %s"), path,
		                    strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return gk_error_set(err, GK_E_CORRUPT,
		                    _("%s is damaged: log in again"), path);
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!token_valid(buf, n))
		return gk_error_set(err, GK_E_CORRUPT,
		                    _("%s is damaged: log in again"), path);
	memcpy(c->sess.token, buf, n + 1);
	explicit_bzero(buf, sizeof buf);
	return GK_OK;
}

/* One client_meta value into buf, "" when it is absent. */
static int
meta_or_empty(struct gk_client *c, const char *key, char *buf, size_t size,
              struct gk_error *err)
{
	int rc = replica_meta_get(c, key, buf, size, err);

	if (rc == GK_E_NOT_FOUND) {
		buf[0] = '\0';
		return GK_OK;
	}
	return rc;
}

/* The name of a unit, from the records this replica holds. */
static void
unit_name_lookup(struct gk_client *c, const char *unit, char *buf, size_t size)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(c->db, "SELECT name FROM units WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, unit, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int
session_load(struct gk_client *c, struct gk_error *err)
{
	struct gk_session *s = &c->sess;
	char role[32], offset[32];
	int rc;

	session_test_clock(c);
	memset(s, 0, sizeof *s);
	if ((rc = meta_or_empty(c, "server", s->server, sizeof s->server,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "user_id", s->user_id, sizeof s->user_id,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "username", s->username, sizeof s->username,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "display_name", s->display_name,
	                        sizeof s->display_name, err)) != GK_OK ||
	    (rc = meta_or_empty(c, "role", role, sizeof role, err)) != GK_OK ||
	    (rc = meta_or_empty(c, "unit", s->unit, sizeof s->unit, err)) !=
	        GK_OK ||
	    (rc = meta_or_empty(c, "unit_name", s->unit_name,
	                        sizeof s->unit_name, err)) != GK_OK ||
	    (rc = meta_or_empty(c, "device", s->device, sizeof s->device,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "clock_offset", offset, sizeof offset,
	                        err)) != GK_OK)
		return rc;
	c->clock_offset_ms = strtoll(offset, NULL, 10);
	if (s->user_id[0] == '\0')
		return GK_OK;
	if (record_role_parse(role, &s->role) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT, "%s",
		                    _("the replica's stored role is damaged: "
		                      "log in again"));
	if (s->unit_name[0] == '\0')
		unit_name_lookup(c, s->unit, s->unit_name, sizeof s->unit_name);
	s->logged_in = 1;
	return session_load_token(c, err);
}

/* ---- saving a login ----------------------------------------------------- */

/* fsync the directory that holds path, so a rename or unlink lasts. */
static void
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[GK_PATH_MAX];
	int dfd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

/* Write path's content atomically with mode 0600 and fsync it and its dir. */
static int
write_file_atomic(const char *path, const char *data, size_t len,
                  struct gk_error *err)
{
	char tmp[GK_PATH_MAX + 16];
	int fd, ok;

	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
		return gk_error_set(err, GK_E_TOO_LONG, "%s",
		                    _("the replica's path is too long"));
	if ((fd = mkstemp(tmp)) < 0)
		return gk_error_set(err, GK_E_IO, _("cannot write %s: %s"),
		                    path, strerror(errno));
	ok = fchmod(fd, 0600) == 0 && write(fd, data, len) == (ssize_t)len &&
	     fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return gk_error_set(err, GK_E_IO, _("cannot write %s: %s"),
		                    path, strerror(e));
	}
	sync_dir(path);
	return GK_OK;
}

/* A string member of obj of 1..max bytes of clean UTF-8, or NULL. */
static const char *
answer_text(json_t *obj, const char *key, size_t max)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	if (!json_is_string(v))
		return NULL;
	len = json_string_length(v);
	if (len == 0 || len > max ||
	    text_check(json_string_value(v), len, 0) != GK_OK)
		return NULL;
	return json_string_value(v);
}

static const char *
answer_id(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v) ||
	    !uuid_valid(json_string_value(v), json_string_length(v)))
		return NULL;
	return json_string_value(v);
}

/* Outbox rows of this replica's user that are not yet with the server. */
static int64_t
unsent_count(struct gk_client *c)
{
	int64_t n[REPLICA_NSTATES];
	struct gk_error ignored;

	if (replica_outbox_counts(c, n, &ignored) != GK_OK)
		return -1;
	return n[REPLICA_SAVED] + n[REPLICA_SENT];
}

int
session_db_changed_tx(struct gk_client *c, const char *db_id,
                      struct gk_error *err)
{
	int rc;

	if ((rc = db_exec(c->db,
	                  "DELETE FROM client_meta WHERE key = 'cursor';"
	                  "UPDATE outbox SET state = 'saved', sent_at = NULL "
	                  "WHERE state IN ('sent', 'accepted');",
	                  err)) != GK_OK)
		return rc;
	return replica_meta_put_tx(c, "db_id", db_id, err);
}

/* Hash password with Argon2id into out (an encoded string). */
static int
session_hash(struct gk_client *c, const char *password, char *out, size_t size,
             struct gk_error *err)
{
	unsigned char salt[PW_SALT];
	size_t len = strlen(password);
	int rc;

	if (len > PW_MAX)
		return gk_error_set(err, GK_E_TOO_LONG, "%s",
		                    _("the password is too long"));
	if (argon2_encodedlen(PW_T, PW_M, PW_P, PW_SALT, PW_HASH, Argon2_id) >
	    size)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	c->env.random(c->env.arg, salt, sizeof salt);
	rc = argon2id_hash_encoded(PW_T, PW_M, PW_P, password, len, salt,
	                           sizeof salt, PW_HASH, out, size);
	if (rc != ARGON2_OK)
		return gk_error_set(err, GK_E_NOMEM, _("cannot hash: %s"),
		                    argon2_error_message(rc));
	return GK_OK;
}

/*
 * The checks before a login is stored: the replica's unsent changes are
 * its user's; a replica that has synced with one server's database is not
 * moved to another's. *changed is set when the same server now has another
 * database id (restored from a backup).
 */
static int
session_check_owner(struct gk_client *c, const char *server,
                    const char *user_id, const char *username,
                    const char *db_id, int *changed, struct gk_error *err)
{
	char old_user[GK_ID_LEN + 2], old_name[80], old_server[256];
	char old_db[GK_ID_LEN + 2];
	int64_t unsent;
	int rc;

	*changed = 0;
	if ((rc = meta_or_empty(c, "user_id", old_user, sizeof old_user,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "username", old_name, sizeof old_name,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "server", old_server, sizeof old_server,
	                        err)) != GK_OK ||
	    (rc = meta_or_empty(c, "db_id", old_db, sizeof old_db, err)) !=
	        GK_OK)
		return rc;
	if (old_db[0] != '\0' && strcmp(old_db, db_id) != 0) {
		if (strcmp(old_server, server) != 0)
			return gk_error_set(
			    err, GK_E_INCONSISTENT,
			    _("this replica belongs to %s, another server's "
			      "database: use another replica (-d FILE) for %s"),
			    old_server, server);
		*changed = 1;
	}
	if (old_user[0] != '\0' && strcmp(old_user, user_id) != 0 &&
	    (unsent = unsent_count(c)) != 0)
		return gk_error_set(
		    err, GK_E_INCONSISTENT,
		    _("this replica holds changes by %s that the server has "
		      "not accepted yet (%" PRId64 "); log in as %s and "
		      "sync first, or use another replica (-d FILE) for %s"),
		    old_name, unsent, old_name, username);
	return GK_OK;
}

int
session_save(struct gk_client *c, const char *server, const char *device,
             const char *password, json_t *answer, struct gk_error *err)
{
	const char *token, *uid, *username, *display, *role_s, *unit, *db_id;
	char hash[PW_ENCODED], path[GK_PATH_MAX], line[TOKEN_MAX + 2];
	char old_user[GK_ID_LEN + 2];
	enum gk_role role;
	json_t *user;
	int rc, changed;

	user = json_object_get(answer, "user");
	token = answer_text(answer, "token", TOKEN_MAX);
	db_id = answer_id(answer, "db_id");
	uid = answer_id(user, "id");
	username = answer_text(user, "username", 64);
	display = answer_text(user, "display_name", 100);
	role_s = answer_text(user, "role", 16);
	unit = answer_id(user, "unit");
	if (!json_is_object(answer) || token == NULL ||
	    !token_valid(token, strlen(token)) || db_id == NULL ||
	    uid == NULL || username == NULL || display == NULL ||
	    role_s == NULL || record_role_parse(role_s, &role) != GK_OK ||
	    unit == NULL)
		return gk_error_set(err, GK_E_JSON, _("%s: not a login answer"),
		                    server);
	if (strlen(server) >= sizeof c->sess.server ||
	    strlen(device) >= sizeof c->sess.device)
		return gk_error_set(err, GK_E_TOO_LONG, "%s",
		                    _("the server's address or the device name "
		                      "is too long"));
	if ((rc = session_check_owner(c, server, uid, username, db_id, &changed,
	                              err)) != GK_OK)
		return rc;
	if ((rc = session_hash(c, password, hash, sizeof hash, err)) != GK_OK)
		return rc;
	if ((rc = meta_or_empty(c, "user_id", old_user, sizeof old_user,
	                        err)) != GK_OK)
		return rc;

	/* The old token goes first and the new one comes after the commit:
	 * a crash in between leaves no token ("log in again"), never one
	 * user's token beside another user's login. */
	if ((rc = session_token_path(c, path, sizeof path, err)) != GK_OK ||
	    (rc = session_forget_token(c, err)) != GK_OK)
		return rc;
	if (db_begin(c->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, _("cannot begin: %s"),
		                    sqlite3_errmsg(c->db));
	/* Another user's cursor is signed for them: start over. */
	if (old_user[0] != '\0' && strcmp(old_user, uid) != 0)
		rc = db_exec(
		    c->db, "DELETE FROM client_meta WHERE key = 'cursor'", err);
	if (rc == GK_OK && changed)
		rc = session_db_changed_tx(c, db_id, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "server", server, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "db_id", db_id, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "user_id", uid, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "username", username, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "display_name", display, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "role", role_s, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "unit", unit, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "unit_name", "", err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "device", device, err);
	if (rc == GK_OK)
		rc = replica_meta_put_tx(c, "pw_hash", hash, err);
	if (rc != GK_OK) {
		db_rollback(c->db);
		return rc;
	}
	if (db_commit(c->db) != GK_OK)
		return gk_error_set(err, GK_E_IO, _("cannot commit: %s"),
		                    sqlite3_errmsg(c->db));
	snprintf(line, sizeof line, "%s\n", token);
	rc = write_file_atomic(path, line, strlen(line), err);
	explicit_bzero(line, sizeof line);
	if (rc != GK_OK)
		return rc;
	return session_load(c, err);
}

/* ---- unlock, logout, the password prompt -------------------------------- */

int
session_unlock(struct gk_client *c, const char *password, struct gk_error *err)
{
	char hash[PW_ENCODED + 64];
	size_t len = strlen(password);
	int rc;

	rc = replica_meta_get(c, "pw_hash", hash, sizeof hash, err);
	if (rc == GK_E_NOT_FOUND)
		return gk_error_set(err, GK_E_AUTH, "%s",
		                    _("nobody has logged in on this replica: "
		                      "gridkeep login SERVER USER"));
	if (rc != GK_OK)
		return rc;
	if (len > PW_MAX)
		return gk_error_set(err, GK_E_CREDENTIALS, "%s",
		                    _("wrong password"));
	rc = argon2id_verify(hash, password, len);
	if (rc == ARGON2_OK)
		return GK_OK;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return gk_error_set(err, GK_E_CREDENTIALS, "%s",
		                    _("wrong password"));
	return gk_error_set(err, GK_E_CREDENTIALS,
	                    _("cannot check the password: %s"),
	                    argon2_error_message(rc));
}

int
session_forget_token(struct gk_client *c, struct gk_error *err)
{
	char path[GK_PATH_MAX];
	int rc;

	explicit_bzero(c->sess.token, sizeof c->sess.token);
	if ((rc = session_token_path(c, path, sizeof path, err)) != GK_OK)
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return GK_OK;
		return gk_error_set(err, GK_E_IO, _("cannot remove %s: %s"),
		                    path, strerror(errno));
	}
	sync_dir(path);
	return GK_OK;
}

int
session_read_password(const char *prompt, char *buf, size_t size,
                      struct gk_error *err)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), echo_off = 0;
	size_t len;
	char *ok;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			quiet.c_lflag |= ICANON;
			echo_off =
			    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	ok = fgets(buf, (int)size, stdin);
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (ok == NULL) {
		buf[0] = '\0';
		return gk_error_set(err, GK_E_MISSING, "%s",
		                    _("no password was given"));
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (len + 1 >= size) {
		explicit_bzero(buf, size);
		return gk_error_set(err, GK_E_TOO_LONG, "%s",
		                    _("the password is too long"));
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0)
		return gk_error_set(err, GK_E_MISSING, "%s",
		                    _("no password was given"));
	return GK_OK;
}
