/*
 * config.c: the server's settings, from gridkeepd.conf(5) and then from
 * serve's flags.
 *
 * The file is "key = value" lines; '#' starts a comment, blank lines are
 * skipped. Keys are the names of struct gk_config's fields (timeout,
 * token_ttl, max_skew and checkpoint_interval drop their unit suffix).
 * Every number is a plain decimal integer in the unit the table gives;
 * an unknown key or a bad value is an error naming the file and line, so
 * a typo never starts a server with a setting silently left out.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridkeepd.h"

#define CONFIG_LINE_MAX 2048

enum config_kind {
	CONFIG_TEXT,
	CONFIG_INT,
	CONFIG_SIZE,
	CONFIG_I64,
	CONFIG_LEVEL
};

/* One setting: where it lives in struct gk_config and its range. */
static const struct config_key {
	const char *name;
	enum config_kind kind;
	size_t off;  /* offsetof in struct gk_config */
	size_t size; /* of a text buffer */
	long long min, max;
} config_keys[] = {
#define CK(n, k, f, lo, hi)                                                    \
	{                                                                      \
		n, k, offsetof(struct gk_config, f),                           \
		    sizeof(((struct gk_config *)0)->f), lo, hi                 \
	}
    CK("listen", CONFIG_TEXT, listen, 0, 0),
    CK("log_file", CONFIG_TEXT, log_file, 0, 0),
    CK("log_level", CONFIG_LEVEL, log_level, 0, 0),
    CK("max_body", CONFIG_SIZE, max_body, 1024, 1073741824LL),
    CK("max_headers", CONFIG_SIZE, max_headers, 1024, 1048576),
    CK("timeout", CONFIG_INT, timeout_s, 1, 3600),
    CK("max_connections", CONFIG_INT, max_connections, 1, 1000000),
    CK("max_batch", CONFIG_INT, max_batch, 1, 100000),
    CK("pull_page", CONFIG_INT, pull_page, 1, 100000),
    CK("token_ttl", CONFIG_I64, token_ttl_s, 60, 10LL * 366 * 86400),
    CK("hash_threads", CONFIG_INT, hash_threads, 1, 64),
    CK("hash_queue", CONFIG_INT, hash_queue, 1, 100000),
    CK("login_limit", CONFIG_INT, login_limit, 1, 1000000),
    CK("max_skew", CONFIG_I64, max_skew_ms, 0, 86400000LL),
    CK("checkpoint_interval", CONFIG_INT, checkpoint_ms, 10, 3600000),
#undef CK
};

static const char *const config_levels[] = {"error", "warn", "info", "debug"};

void
config_defaults(struct gk_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
	c->log_level = GK_LOG_INFO;
	c->max_body = 1048576;
	c->max_headers = 8192;
	c->timeout_s = 30;
	c->max_connections = 1000;
	c->max_batch = 1000;
	c->pull_page = 1000;
	c->token_ttl_s = 90LL * 86400;
	/* One core is the event loop's: two Argon2id threads on a 2-core
	 * machine starve it (sync p99 x6.8 in bench/README.md). */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	c->hash_threads = cores > 5 ? 4 : cores > 2 ? (int)cores - 1 : 1;
	c->hash_queue = 32;
	c->login_limit = 100;
	c->max_skew_ms = 300000;
	c->checkpoint_ms = 1000;
}

/* A plain decimal integer in [min, max]: no sign games, no suffix. */
static int
config_number(const char *v, long long min, long long max, long long *out)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

int
config_set(struct gk_config *c, const char *key, const char *value,
           struct gk_error *err)
{
	const struct config_key *k = NULL;
	char *field;
	long long n;
	size_t i;

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++)
		if (strcmp(config_keys[i].name, key) == 0)
			k = &config_keys[i];
	if (k == NULL)
		return gk_error_set(err, GK_E_USAGE, "unknown setting %.64s",
		                    key);
	field = (char *)c + k->off;
	switch (k->kind) {
	case CONFIG_TEXT:
		if (strlen(value) >= k->size)
			return gk_error_set(err, GK_E_USAGE, "%s is too long",
			                    k->name);
		memcpy(field, value, strlen(value) + 1);
		return GK_OK;
	case CONFIG_LEVEL:
		for (i = 0; i < 4; i++)
			if (strcmp(value, config_levels[i]) == 0) {
				*(int *)(void *)field = (int)i;
				return GK_OK;
			}
		return gk_error_set(err, GK_E_USAGE,
		                    "log_level must be error, warn, info or "
		                    "debug");
	default:
		break;
	}
	if (config_number(value, k->min, k->max, &n) != 0)
		return gk_error_set(err, GK_E_USAGE,
		                    "%s must be an integer from %lld to %lld",
		                    k->name, k->min, k->max);
	if (k->kind == CONFIG_INT)
		*(int *)(void *)field = (int)n;
	else if (k->kind == CONFIG_SIZE)
		*(size_t *)(void *)field = (size_t)n;
	else
		*(int64_t *)(void *)field = (int64_t)n;
	return GK_OK;
}

/* Trim spaces and tabs at both ends, in place. */
static char *
config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
config_load(struct gk_config *c, const char *path, struct gk_error *err)
{
	char line[CONFIG_LINE_MAX];
	char *key, *value, *eq, *hash;
	FILE *f;
	int lineno = 0, rc = GK_OK;
	struct gk_error e = {0};

	if ((f = fopen(path, "r")) == NULL)
		return gk_error_set(err, GK_E_IO, "%s: %s", path,
		                    strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = gk_error_set(err, GK_E_USAGE,
			                  "%s:%d: line too long", path, lineno);
			goto out;
		}
		line[strcspn(line, "\n")] = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = config_trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = gk_error_set(err, GK_E_USAGE,
			                  "%s:%d: expected key = value", path,
			                  lineno);
			goto out;
		}
		*eq = '\0';
		key = config_trim(key);
		value = config_trim(eq + 1);
		if (config_set(c, key, value, &e) != GK_OK) {
			rc = gk_error_set(err, GK_E_USAGE, "%s:%d: %s", path,
			                  lineno, e.msg);
			goto out;
		}
	}
	if (ferror(f))
		rc = gk_error_set(err, GK_E_IO, "%s: read error", path);
out:
	fclose(f);
	return rc;
}
