/*
 * log.c: the server's log, one line per event:
 *
 *	2026-11-23T04:30:00.123Z info listening on 127.0.0.1:8080
 *
 * UTC with milliseconds, the level, the message. Lines are written whole
 * and flushed at once, so a line is never split and a crash loses none.
 * Callers log routes, statuses, user ids and latencies, never a password,
 * a token or a request body. SIGHUP calls log_reopen after logrotate has
 * moved the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gridkeepd.h"

static const char *const log_names[] = {"error", "warn", "info", "debug"};

static FILE *
log_fopen(const char *path, struct gk_error *err)
{
	FILE *f;

	if ((f = fopen(path, "ae")) == NULL) {
		gk_error_set(err, GK_E_IO, "log %s: %s", path, strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int
log_open(struct gk_log *l, const char *path, int level, struct gk_error *err)
{
	memset(l, 0, sizeof *l);
	l->level = level;
	l->f = stderr;
	if (path == NULL || path[0] == '\0')
		return GK_OK;
	if (strlen(path) >= sizeof l->path)
		return gk_error_set(err, GK_E_USAGE, "log_file is too long");
	if ((l->f = log_fopen(path, err)) == NULL) {
		l->f = stderr;
		return err != NULL ? err->code : GK_E_IO;
	}
	memcpy(l->path, path, strlen(path) + 1);
	return GK_OK;
}

/* Reopen the file by its name; on failure keep writing to the old one. */
int
log_reopen(struct gk_log *l)
{
	struct gk_error err = {0};
	FILE *f;

	if (l->path[0] == '\0')
		return GK_OK;
	if ((f = log_fopen(l->path, &err)) == NULL) {
		log_msg(l, GK_LOG_ERROR, "cannot reopen the log: %s", err.msg);
		return err.code;
	}
	fclose(l->f);
	l->f = f;
	log_msg(l, GK_LOG_INFO, "log reopened");
	return GK_OK;
}

void
log_close(struct gk_log *l)
{
	if (l->f != NULL && l->f != stderr)
		fclose(l->f);
	l->f = NULL;
}

void
log_msg(struct gk_log *l, enum gk_log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	int m;

	if (l->f == NULL || (int)level > l->level || (int)level < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s ",
	                      ts.tv_nsec / 1000000, log_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
	/* One line, whatever the message held. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	fwrite(line, 1, n, l->f);
	fflush(l->f);
}
