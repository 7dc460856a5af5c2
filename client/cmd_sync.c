/*
 * cmd_sync.c: the commands login, logout, sync and status.
 *
 * They are thin: the work is in session.c (the stored login) and agent.c
 * (the sync), run here through their blocking forms. What they add is
 * what a person at a terminal or a cron job reads: a progress bar on a
 * terminal or plain lines otherwise, a summary, each newly rejected change
 * with its reason, and the state of the replica.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "gridkeep.h"
#include "net.h"

static int
cmd_open(struct gk_client *c, struct gk_error *err)
{
	int rc;

	if ((rc = replica_open(c, 0, NULL, err)) != GK_OK)
		return rc;
	return session_load(c, err);
}

/* ---- login, logout ------------------------------------------------------- */

/* The login proper; *created says whether it made the replica. */
static int
cmd_login_run(struct gk_client *c, char **argv, int *created,
              struct gk_error *err)
{
	struct agent_result r;
	char password[1100], prompt[400], host[256];
	int64_t n[REPLICA_NSTATES];
	int port, rc;

	if ((rc = net_url_parse(argv[0], host, sizeof host, &port, err)) !=
	        GK_OK ||
	    (rc = replica_open(c, REPLICA_CREATE, created, err)) != GK_OK ||
	    (rc = session_load(c, err)) != GK_OK)
		return rc;
	/* Refused before asking for a password; session_save checks again
	 * by user id once the server has said who this is. */
	if (c->sess.logged_in && strcmp(c->sess.username, argv[1]) != 0 &&
	    replica_outbox_counts(c, n, err) == GK_OK &&
	    n[REPLICA_SAVED] + n[REPLICA_SENT] > 0)
		return gk_error_set(
		    err, GK_E_INCONSISTENT,
		    _("this replica holds changes by %s that the server has "
		      "not accepted yet (%" PRId64 "); log in as %s and "
		      "sync first, or use another replica (-d FILE) for %s"),
		    c->sess.username, n[REPLICA_SAVED] + n[REPLICA_SENT],
		    c->sess.username, argv[1]);
	snprintf(prompt, sizeof prompt, _("Password for %s at %s: "), argv[1],
	         argv[0]);
	if ((rc = session_read_password(prompt, password, sizeof password,
	                                err)) != GK_OK)
		return rc;
	rc = agent_login_wait(c, argv[0], argv[1], password, NULL, &r);
	explicit_bzero(password, sizeof password);
	if (rc != GK_OK) {
		*err = r.err;
		return rc;
	}
	if (*created)
		printf(_("created replica %s\n"), c->db_path);
	printf(_("logged in to %s as %s (%s, %s)\n"), c->sess.server,
	       c->sess.username, c->sess.display_name,
	       record_role_name(c->sess.role));
	printf(_("replica: %s\n"), c->db_path);
	printf("%s\n", _("next: gridkeep sync"));
	return GK_OK;
}

/*
 * A login that made the replica and then failed takes it away again, so
 * a mistyped server or password leaves nothing behind to confuse the
 * next try (the file held only a node id).
 */
static void
login_undo_create(struct gk_client *c)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char path[GK_PATH_MAX + 16];

	replica_close(c);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(path, sizeof path, "%s%s", c->db_path, suffixes[i]);
		unlink(path);
	}
}

int
cmd_login(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	int created = 0, rc;

	if (argc != 2)
		return gk_error_set(err, GK_E_USAGE, "%s",
		                    _("usage: gridkeep login SERVER USER (for "
		                      "example: gridkeep login "
		                      "http://127.0.0.1:8080 hp.chenjing)"));
	rc = cmd_login_run(c, argv, &created, err);
	if (rc != GK_OK && created && c->db_path != NULL)
		login_undo_create(c);
	return rc;
}

struct logout_wait {
	struct event_base *base;
	int status;
};

static void
logout_done(void *arg, const struct net_answer *ans)
{
	struct logout_wait *w = arg;

	w->status = ans->status;
	event_base_loopbreak(w->base);
}

/* POST /api/v1/logout, best effort: the token is forgotten anyway. */
static int
logout_server(struct gk_client *c)
{
	struct logout_wait w = {NULL, -1};
	struct gk_error ignored;
	struct net_conn *n;

	if ((w.base = event_base_new()) == NULL)
		return -1;
	if ((n = net_new(w.base, c->sess.server, &ignored)) != NULL &&
	    net_request(n, NET_POST, "/api/v1/logout", c->sess.token, "{}", 2,
	                logout_done, &w, &ignored) == GK_OK)
		event_base_dispatch(w.base);
	net_free(n);
	event_base_free(w.base);
	return w.status;
}

int
cmd_logout(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	int64_t n[REPLICA_NSTATES];
	int rc, status;

	(void)argc;
	(void)argv;
	if ((rc = cmd_open(c, err)) != GK_OK)
		return rc;
	if (!c->sess.logged_in || c->sess.token[0] == '\0') {
		printf("%s\n", _("not logged in"));
		return session_forget_token(c, err);
	}
	status = logout_server(c);
	if ((rc = session_forget_token(c, err)) != GK_OK)
		return rc;
	if (status == 200)
		printf(_("logged out of %s\n"), c->sess.server);
	else
		printf(_("logged out here; %s could not be told, its token "
		         "for this device stays valid until it expires\n"),
		       c->sess.server);
	if (replica_outbox_counts(c, n, err) == GK_OK &&
	    n[REPLICA_SAVED] + n[REPLICA_SENT] > 0)
		printf(_("%" PRId64 " changes wait in %s for the next login\n"),
		       n[REPLICA_SAVED] + n[REPLICA_SENT], c->db_path);
	return GK_OK;
}

/* ---- sync ------------------------------------------------------------------
 */

struct sync_view {
	int tty;
	int drawn; /* a bar is on the line */
	int width; /* of the longest line drawn */
	const char *last_phase;
	int64_t last_done;
};

static void
sync_progress(void *arg, const struct agent_progress *p)
{
	struct sync_view *v = arg;
	const char *what =
	    strcmp(p->phase, "push") == 0 ? _("pushed") : _("pulled");

	if (v->tty) {
		char bar[31], line[128];
		int fill = 0, len;

		if (p->total > 0) {
			fill = (int)(p->done * 30 / p->total);
			if (fill > 30)
				fill = 30;
		}
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(30 - fill));
		bar[30] = '\0';
		if (p->total > 0)
			len = snprintf(line, sizeof line,
			               "%s [%s] %" PRId64 "/%" PRId64, what,
			               bar, p->done, p->total);
		else
			len = snprintf(line, sizeof line, "%s %" PRId64, what,
			               p->done);
		/* Redrawn in place: spaces wipe what a longer line left. */
		fprintf(stderr, "\r%s%*s", line,
		        v->width > len ? v->width - len : 0, "");
		if (len > v->width)
			v->width = len;
		v->drawn = 1;
	} else if (p->total >= 0) {
		fprintf(stderr, "%s %" PRId64 "/%" PRId64 "\n", what, p->done,
		        p->total);
	} else {
		fprintf(stderr, "%s %" PRId64 "\n", what, p->done);
	}
	fflush(stderr);
	v->last_phase = p->phase;
	v->last_done = p->done;
}

/*
 * printf to stdout with C0/C1 controls (ESC above all) shown as "?":
 * rejection messages and errors come from the server, and must never
 * drive the terminal. A newline at the end is kept.
 */
static void print_clean(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void
print_clean(const char *fmt, ...)
{
	char buf[4096];
	unsigned char *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (p = (unsigned char *)buf; *p != '\0'; p++) {
		if ((*p < 0x20 && !(*p == '\n' && p[1] == '\0')) || *p == 0x7f)
			*p = '?';
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = '?';
	}
	fputs(buf, stdout);
}

/* Print the changes rejected since since_ms, with their reasons. */
static void
sync_print_rejected(struct gk_client *c, int64_t since_ms)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(
	        c->db,
	        "SELECT o.tbl, o.row_id, r.code, r.message FROM "
	        "rejected_changes r JOIN outbox o ON o.id = r.change_id "
	        "WHERE r.rejected_at >= ?1 AND o.state = 'rejected' "
	        "ORDER BY o.seq",
	        -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, since_ms);
	while (sqlite3_step(st) == SQLITE_ROW)
		print_clean(_("rejected: %s %s: %s: %s\n"),
		            (const char *)sqlite3_column_text(st, 0),
		            (const char *)sqlite3_column_text(st, 1),
		            (const char *)sqlite3_column_text(st, 2),
		            (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

int
cmd_sync(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	struct sync_view v = {0, 0, 0, NULL, 0};
	struct agent_result r;
	int64_t start;
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = cmd_open(c, err)) != GK_OK)
		return rc;
	v.tty = isatty(STDERR_FILENO);
	start = c->env.now_ms(c->env.arg);
	rc = agent_sync_wait(c, sync_progress, &v, &r);
	if (v.drawn)
		fputc('\n', stderr);
	if (rc != GK_OK && !r.online) {
		*err = r.err;
		if (err->code == GK_OK)
			err->code = rc;
		return rc;
	}
	printf(_("pushed %" PRId64 ": %" PRId64 " accepted, %" PRId64
	         " already there, %" PRId64 " rejected"),
	       r.pushed, r.accepted, r.duplicate, r.rejected);
	if (r.restamped > 0)
		printf(_(", %" PRId64 " stamped again (clock)"), r.restamped);
	printf(_("; pulled %" PRId64 ", dropped %" PRId64 "\n"), r.pulled,
	       r.dropped);
	sync_print_rejected(c, start);
	if (rc != GK_OK) {
		*err = r.err;
		if (err->code == GK_OK)
			err->code = rc;
		return rc;
	}
	return GK_OK;
}

/* ---- status -----------------------------------------------------------------
 */

static int64_t
meta_int(struct gk_client *c, const char *key)
{
	struct gk_error ignored;
	char buf[32];

	if (replica_meta_get(c, key, buf, sizeof buf, &ignored) != GK_OK)
		return 0;
	return strtoll(buf, NULL, 10);
}

/* "2026-11-23 14:05 (3 minutes ago)", in local time. */
static void
status_when(struct gk_client *c, int64_t ms, char *buf, size_t size)
{
	int64_t ago = (c->env.now_ms(c->env.arg) - ms) / 1000;
	time_t t = (time_t)(ms / 1000);
	char when[64], rel[64];
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "?");
	if (ago < 0)
		snprintf(rel, sizeof rel, "%s", _("in the future"));
	else if (ago < 60)
		snprintf(rel, sizeof rel,
		         ngettext("%d second ago", "%d seconds ago",
		                  (unsigned long)ago),
		         (int)ago);
	else if (ago < 3600)
		snprintf(rel, sizeof rel,
		         ngettext("%d minute ago", "%d minutes ago",
		                  (unsigned long)(ago / 60)),
		         (int)(ago / 60));
	else if (ago < 48 * 3600)
		snprintf(rel, sizeof rel,
		         ngettext("%d hour ago", "%d hours ago",
		                  (unsigned long)(ago / 3600)),
		         (int)(ago / 3600));
	else
		snprintf(rel, sizeof rel,
		         ngettext("%d day ago", "%d days ago",
		                  (unsigned long)(ago / 86400)),
		         (int)(ago / 86400));
	snprintf(buf, size, "%s (%s)", when, rel);
}

int
cmd_status(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	int64_t n[REPLICA_NSTATES], last_sync, last_attempt;
	char node[GK_NODE_LEN + 1], when[160], lerr[GK_ERRMSG_MAX + 64];
	struct gk_error ignored;
	int rc;

	struct gk_error serr = {0};

	(void)argc;
	(void)argv;
	/* status is what one runs when something is wrong: a damaged token
	 * file is reported among the rest, not instead of it. */
	if ((rc = replica_open(c, 0, NULL, err)) != GK_OK ||
	    (rc = replica_outbox_counts(c, n, err)) != GK_OK)
		return rc;
	if (session_load(c, &serr) != GK_OK)
		c->sess.token[0] = '\0';
	else
		serr.code = GK_OK;
	node_format(c->node, node);
	printf(_("replica: %s\n"), c->db_path);
	printf(_("node: %s\n"), node);
	if (serr.code != GK_OK)
		print_clean(_("login: %s\n"), serr.msg);
	if (!c->sess.logged_in) {
		printf("%s\n", _("server: not logged in (gridkeep login "
		                 "SERVER USER)"));
	} else {
		printf(_("server: %s%s\n"), c->sess.server,
		       c->sess.token[0] == '\0' ? _(" (logged out)") : "");
		printf(_("user: %s (%s, %s)\n"), c->sess.username,
		       c->sess.display_name, record_role_name(c->sess.role));
		printf(_("unit: %s\n"), c->sess.unit_name[0] != '\0'
		                            ? c->sess.unit_name
		                            : c->sess.unit);
	}
	last_sync = meta_int(c, "last_sync");
	last_attempt = meta_int(c, "last_attempt");
	if (last_sync > 0) {
		status_when(c, last_sync, when, sizeof when);
		printf(_("last sync: %s\n"), when);
	} else {
		printf("%s\n", _("last sync: never"));
	}
	if (last_attempt > last_sync &&
	    replica_meta_get(c, "last_error", lerr, sizeof lerr, &ignored) ==
	        GK_OK &&
	    lerr[0] != '\0') {
		status_when(c, last_attempt, when, sizeof when);
		print_clean(_("last error: %s: %s\n"), when, lerr);
	}
	printf(_("outbox: saved %" PRId64 ", sent %" PRId64
	         ", accepted %" PRId64 ", rejected %" PRId64 "\n"),
	       n[REPLICA_SAVED], n[REPLICA_SENT], n[REPLICA_ACCEPTED],
	       n[REPLICA_REJECTED]);
	return GK_OK;
}
