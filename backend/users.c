/*
 * users.c: the operator's `gridkeepd user ...` and `gridkeepd device ...`.
 *
 *   user add NAME --role ROLE --unit UNIT [--display-name TEXT]
 *   user passwd NAME | disable NAME | enable NAME | list
 *   device list NAME | revoke NAME DEVICE_ID
 *
 * Users are records: the users table is synced to replicas (without any
 * password), so adding, disabling or enabling a user is a change written
 * as the admin through store_write_change_tx, and goes into the change
 * log like any other; the password hash goes into credentials, which
 * never leaves the server, in the same transaction. Disabling also
 * revokes the user's sessions, so re-enabling revives no old token.
 *
 * A password never comes from the command line (it would show in ps and
 * in shell history): it is read from the terminal with echo off, twice,
 * or, when standard input is not a terminal, as one line of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "gridkeepd.h"

#define USERS_PWBUF (AUTH_PASSWORD_MAX + 3) /* + "\r\n" + NUL */

/* ---- reading a password ---------------------------------------------------
 */

/* Read one line from f into buf without its line end; -1 on EOF. */
static int
users_getline(FILE *f, char *buf, size_t size, size_t *len)
{
	size_t n;

	if (fgets(buf, (int)size, f) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == size - 1)
		return -2; /* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	*len = n;
	return 0;
}

/* Ask on the terminal, echo off; 0 or -1 (-2: too long). */
static int
users_ask(FILE *tty, const char *prompt, char *buf, size_t size, size_t *len)
{
	struct termios old, quiet;
	int fd = fileno(tty), rc, restore = 0;

	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	rc = users_getline(tty, buf, size, len);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	return rc;
}

/* The new password into buf (USERS_PWBUF bytes); *len its length. */
int
users_read_password(char *buf, size_t *len, struct gk_error *err)
{
	char again[USERS_PWBUF];
	size_t len2 = 0;
	FILE *tty = NULL;
	int rc = GK_OK, r;

	if (!isatty(STDIN_FILENO)) {
		r = users_getline(stdin, buf, USERS_PWBUF, len);
		if (r == -1)
			rc = gk_error_set(err, GK_E_MISSING,
			                  "no password on standard input");
		goto check;
	}
	if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		rc = gk_error_set(err, GK_E_IO, "cannot open /dev/tty: %s",
		                  strerror(errno));
		goto out;
	}
	r = users_ask(tty, "new password: ", buf, USERS_PWBUF, len);
	if (r == 0)
		r = users_ask(tty, "again: ", again, sizeof again, &len2);
	if (r == -1) {
		rc = gk_error_set(err, GK_E_MISSING, "no password given");
		goto out;
	}
	if (r == 0 && (len2 != *len || memcmp(buf, again, *len) != 0)) {
		rc = gk_error_set(err, GK_E_INCONSISTENT,
		                  "the two passwords differ");
		goto out;
	}
check:
	if (rc == GK_OK && (r == -2 || *len > AUTH_PASSWORD_MAX))
		rc = gk_error_set(err, GK_E_TOO_LONG,
		                  "the password is over %d bytes",
		                  AUTH_PASSWORD_MAX);
	else if (rc == GK_OK && *len == 0)
		rc = gk_error_set(err, GK_E_MISSING, "the password is empty");
out:
	explicit_bzero(again, sizeof again);
	if (rc != GK_OK)
		explicit_bzero(buf, USERS_PWBUF);
	if (tty != NULL)
		fclose(tty);
	return rc;
}

/* The user called name, not deleted; GK_E_NOT_FOUND with a message. */
static int
users_find(struct gk_server *s, const char *name, struct gk_userinfo *ui,
           struct gk_error *err)
{
	int rc = store_auth_user_by_name(s, name, ui, err);

	if (rc == GK_E_NOT_FOUND)
		return gk_error_set(err, rc, "no user %s", name);
	return rc;
}

/* ---- changes to users ---------------------------------------------------
 */

/* Write one change to the users records, as the admin. fields is stolen. */
static int
users_change_tx(struct gk_server *s, enum gk_op op, const char *row,
                json_t *fields, struct gk_error *err)
{
	struct gk_actor actor = {GK_ROLE_ADMIN, NULL};
	struct gk_change c;
	struct gk_merge *m = NULL;
	int rc;

	memset(&c, 0, sizeof c);
	c.table = record_table("users");
	c.op = op;
	c.fields = fields;
	snprintf(c.row, sizeof c.row, "%s", row);
	if (fields == NULL) {
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	if ((m = merge_new(s->db, err)) == NULL) {
		rc = GK_E_DB;
		goto out;
	}
	rc = store_write_change_tx(s, m, &c, &actor, err);
out:
	merge_free(m);
	json_decref(fields);
	return rc;
}

/* Check a username: 1..64 bytes of text, no spaces or controls. */
static int
users_name_ok(const char *name, struct gk_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "a username is 1 to 64 bytes");
	if (text_check(name, len, 0) != GK_OK || strpbrk(name, " \t") != NULL)
		return gk_error_set(err, GK_E_CONTROL,
		                    "a username is text without spaces or "
		                    "control characters");
	return GK_OK;
}

/* Hash (blocking) and store a password; in the caller's transaction. */
static int
users_put_password_tx(struct gk_server *s, const char *user_id,
                      const char *password, size_t len, struct gk_error *err)
{
	char hash[AUTH_HASH_MAX];
	int rc;

	if ((rc = auth_hash_password(&s->env, password, len, hash, sizeof hash,
	                             err)) != GK_OK)
		return rc;
	return store_auth_credentials_put_tx(s, user_id, hash, err);
}

int
users_set_password_tx(struct gk_server *s, const char *user_id,
                      const char *password, struct gk_error *err)
{
	return users_put_password_tx(s, user_id, password, strlen(password),
	                             err);
}

int
users_add_tx(struct gk_server *s, const char *username, enum gk_role role,
             const char *unit, const char *display_name, const char *password,
             char id[GK_ID_LEN + 1], struct gk_error *err)
{
	struct gk_userinfo ui;
	int rc;

	if ((rc = users_name_ok(username, err)) != GK_OK)
		return rc;
	rc = store_auth_user_by_name(s, username, &ui, err);
	if (rc == GK_OK)
		return gk_error_set(err, GK_E_EXISTS, "user %s exists",
		                    username);
	if (rc != GK_E_NOT_FOUND)
		return rc;
	uuid_v7(&s->env, id);
	if ((rc = users_change_tx(
	         s, GK_OP_INSERT, id,
	         json_pack("{s:s, s:s, s:s, s:s, s:b}", "username", username,
	                   "display_name",
	                   display_name != NULL ? display_name : username,
	                   "role", record_role_name(role), "unit", unit,
	                   "active", 1),
	         err)) != GK_OK)
		return rc;
	return users_set_password_tx(s, id, password, err);
}

/* ---- the commands ---------------------------------------------------------
 */

static int
users_add_cmd(struct gk_server *s, int argc, char **argv, struct gk_error *err)
{
	const char *name, *role_s = NULL, *unit_s = NULL, *display = NULL;
	char pw[USERS_PWBUF], unit[GK_ID_LEN + 1], id[GK_ID_LEN + 1];
	size_t pwlen = 0;
	enum gk_role role;
	int rc;

	memset(pw, 0, sizeof pw);
	if (argc < 2)
		return gk_error_set(err, GK_E_USAGE,
		                    "usage: user add NAME --role ROLE --unit "
		                    "UNIT [--display-name TEXT]");
	name = argv[1];
	for (int i = 2; i < argc; i += 2) {
		const char **to = strcmp(argv[i], "--role") == 0   ? &role_s
		                  : strcmp(argv[i], "--unit") == 0 ? &unit_s
		                  : strcmp(argv[i], "--display-name") == 0
		                      ? &display
		                      : NULL;

		if (to == NULL || i + 1 >= argc)
			return gk_error_set(err, GK_E_USAGE,
			                    "user add: bad option %s", argv[i]);
		*to = argv[i + 1];
	}
	if (role_s == NULL || unit_s == NULL)
		return gk_error_set(err, GK_E_USAGE,
		                    "user add: --role and --unit are needed");
	if (record_role_parse(role_s, &role) != GK_OK)
		return gk_error_set(err, GK_E_ENUM,
		                    "no role %s (admin, street, station, "
		                    "grid_worker)",
		                    role_s);
	if ((rc = users_name_ok(name, err)) != GK_OK ||
	    (rc = operator_open_ready(s, err)) != GK_OK ||
	    (rc = store_auth_unit_find(s, unit_s, unit, err)) != GK_OK)
		goto out;
	if ((rc = users_read_password(pw, &pwlen, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = users_add_tx(s, name, role, unit, display, pw, id, err)) !=
	    GK_OK) {
		db_rollback(s->db);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	printf("added user %s (%s, %s): %s\n", name, role_s, unit, id);
out:
	explicit_bzero(pw, sizeof pw);
	operator_close_ready(s);
	return rc;
}

static int
users_passwd_cmd(struct gk_server *s, const char *name, struct gk_error *err)
{
	struct gk_userinfo ui;
	char pw[USERS_PWBUF];
	size_t pwlen = 0;
	int rc;

	memset(pw, 0, sizeof pw);
	if ((rc = operator_open_ready(s, err)) != GK_OK ||
	    (rc = users_find(s, name, &ui, err)) != GK_OK ||
	    (rc = users_read_password(pw, &pwlen, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = users_put_password_tx(s, ui.u.id, pw, pwlen, err)) != GK_OK) {
		db_rollback(s->db);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	printf("password of %s set\n", name);
out:
	explicit_bzero(pw, sizeof pw);
	operator_close_ready(s);
	return rc;
}

static int
users_active_cmd(struct gk_server *s, const char *name, int active,
                 struct gk_error *err)
{
	struct gk_userinfo ui;
	int rc;

	if ((rc = operator_open_ready(s, err)) != GK_OK ||
	    (rc = users_find(s, name, &ui, err)) != GK_OK)
		goto out;
	if (db_begin(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	if ((rc = users_change_tx(s, GK_OP_UPDATE, ui.u.id,
	                          json_pack("{s:b}", "active", active), err)) !=
	        GK_OK ||
	    (!active &&
	     (rc = store_auth_sessions_revoke_all_tx(
	          s, ui.u.id, s->env.now_ms(s->env.arg), err)) != GK_OK)) {
		db_rollback(s->db);
		goto out;
	}
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	printf("user %s %s\n", name, active ? "enabled" : "disabled");
out:
	operator_close_ready(s);
	return rc;
}

static int
users_list_row(void *arg, const struct gk_userinfo *u, int has_password,
               int sessions)
{
	(void)arg;
	printf("%-20s %-11s %-36s %-8s %-11s %2d  %s\n", u->u.username,
	       record_role_name(u->u.role), u->u.unit,
	       u->active ? "active" : "disabled",
	       has_password ? "password" : "no-password", sessions,
	       u->display_name);
	return 0;
}

static int
users_list_cmd(struct gk_server *s, struct gk_error *err)
{
	int rc;

	if ((rc = operator_open_ready(s, err)) != GK_OK)
		goto out;
	printf("%-20s %-11s %-36s %-8s %-11s %2s  %s\n", "USERNAME", "ROLE",
	       "UNIT", "STATE", "PASSWORD", "DV", "DISPLAY NAME");
	rc = store_auth_users(s, users_list_row, NULL, err);
out:
	operator_close_ready(s);
	return rc;
}

int
users_user_exec(struct gk_server *s, int argc, char **argv,
                struct gk_error *err)
{
	const char *sub = argc > 0 ? argv[0] : "";

	if (strcmp(sub, "add") == 0)
		return users_add_cmd(s, argc, argv, err);
	if (strcmp(sub, "list") == 0 && argc == 1)
		return users_list_cmd(s, err);
	if (argc == 2 && strcmp(sub, "passwd") == 0)
		return users_passwd_cmd(s, argv[1], err);
	if (argc == 2 && strcmp(sub, "disable") == 0)
		return users_active_cmd(s, argv[1], 0, err);
	if (argc == 2 && strcmp(sub, "enable") == 0)
		return users_active_cmd(s, argv[1], 1, err);
	return gk_error_set(err, GK_E_USAGE,
	                    "usage: user add NAME --role ROLE --unit UNIT "
	                    "[--display-name TEXT] | user passwd|disable|"
	                    "enable NAME | user list");
}

/* ---- devices ------------------------------------------------------------- */

static int
users_device_row(void *arg, const struct gk_session *ses)
{
	char id[17], created[32], used[32], expires[32];
	int64_t now = *(const int64_t *)arg;

	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", ses->token_hash[i]);
	text_time_format(ses->created_at, created);
	text_time_format(ses->last_used_at, used);
	text_time_format(ses->expires_at, expires);
	printf("%-16s %-20s %-20s %-20s %-8s %s\n", id, created, used, expires,
	       ses->revoked_at != 0     ? "revoked"
	       : ses->expires_at <= now ? "expired"
	                                : "active",
	       ses->device);
	return 0;
}

int
users_device_exec(struct gk_server *s, int argc, char **argv,
                  struct gk_error *err)
{
	struct gk_userinfo ui;
	unsigned char prefix[8];
	int64_t now;
	int rc;

	if (!(argc == 2 && strcmp(argv[0], "list") == 0) &&
	    !(argc == 3 && strcmp(argv[0], "revoke") == 0))
		return gk_error_set(err, GK_E_USAGE,
		                    "usage: device list NAME | device revoke "
		                    "NAME DEVICE_ID");
	if ((rc = operator_open_ready(s, err)) != GK_OK ||
	    (rc = users_find(s, argv[1], &ui, err)) != GK_OK)
		goto out;
	now = s->env.now_ms(s->env.arg);
	if (argc == 2) {
		printf("%-16s %-20s %-20s %-20s %-8s %s\n", "DEVICE_ID",
		       "CREATED", "LAST USED", "EXPIRES", "STATE", "DEVICE");
		rc = store_auth_sessions(s, ui.u.id, users_device_row, &now,
		                         err);
		goto out;
	}
	if (strspn(argv[2], "0123456789abcdef") != 16 || argv[2][16] != '\0') {
		rc = gk_error_set(err, GK_E_ID,
		                  "a device id is 16 lowercase hex digits (see "
		                  "device list)");
		goto out;
	}
	for (int i = 0; i < 8; i++) {
		unsigned v = 0;

		sscanf(argv[2] + 2 * i, "%2x", &v);
		prefix[i] = (unsigned char)v;
	}
	if ((rc = store_auth_device_revoke(s, ui.u.id, prefix, now, err)) ==
	    GK_OK)
		printf("device %s of %s revoked\n", argv[2], argv[1]);
	else if (rc == GK_E_NOT_FOUND)
		gk_error_set(err, rc, "%s has no device %s", argv[1], argv[2]);
out:
	operator_close_ready(s);
	return rc;
}
