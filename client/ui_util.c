/*
 * ui_util.c: what every screen of the terminal UI needs that is not
 * drawing: the line of keys at the bottom (only the actions the user's
 * role may take), opening an action's form (the checks and the message
 * when it may not), what a form shows for a record, a record's name,
 * preparing a screen's statements, memory that aborts when it runs out,
 * and the lines of a detail view.
 *
 * The screens (ui_<screen>.c) were written side by side; what they shared
 * lives here once, so a fix to one is a fix to all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridkeep.h"
#include "ui.h"

void *
ui_xrealloc(void *ptr, size_t size)
{
	if ((ptr = realloc(ptr, size != 0 ? size : 1)) == NULL)
		abort();
	return ptr;
}

char *
ui_xstrdup(const char *s)
{
	const char *t = s != NULL ? s : "";
	size_t n = strlen(t) + 1;

	return memcpy(ui_xrealloc(NULL, n), t, n);
}

void
ui_hints_make(struct ui *u, const struct ui_hint *h, size_t n, char *buf,
              size_t size)
{
	struct gk_client *c = ui_client(u);
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct gk_action *a = NULL;
		struct gk_error err;

		if (h[i].action != NULL &&
		    ((a = action_find(h[i].action)) == NULL ||
		     !action_allowed(c, a, NULL, &err)))
			continue;
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len,
			                        "%s%s %s", len > 0 ? "  " : "",
			                        h[i].key, _(h[i].what));
	}
}

const struct gk_action *
ui_action_get(struct ui *u, const char *name)
{
	const struct gk_action *a = action_find(name);

	if (a == NULL)
		ui_flash(u, _("%s: not available in this build"), name);
	return a;
}

int
ui_action_may(struct ui *u, const struct gk_action *a, const char *target)
{
	struct gk_error err;

	memset(&err, 0, sizeof err);
	if (action_allowed(ui_client(u), a, target, &err))
		return 1;
	ui_flash(u, "%s",
	         err.msg[0] ? err.msg : _("your role may not do this"));
	return 0;
}

int
ui_key_back(wint_t ch, int is_key)
{
	return (!is_key && (ch == 27 || ch == L'q')) ||
	       (is_key && (ch == KEY_LEFT || ch == KEY_BACKSPACE));
}

const char *
ui_ref_text(struct gk_client *c, const char *ref, const char *name,
            const char *id)
{
	char found[GK_ID_LEN + 1];
	struct gk_error err;

	if (name != NULL && name[0] != '\0' &&
	    action_resolve_ref(c, ref, name, found, &err) == GK_OK &&
	    strcmp(found, id) == 0)
		return name;
	return id;
}

char *
ui_name_of(sqlite3_stmt *q, const char *id)
{
	char *s = NULL;

	if (id == NULL || *id == '\0')
		return ui_xstrdup("");
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		s = ui_xstrdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_reset(q);
	return s != NULL ? s : ui_xstrdup(id);
}

int
ui_prepare(sqlite3 *db, const char *const *sql, sqlite3_stmt **const *q,
           size_t n, char *broken, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (db == NULL || sqlite3_prepare_v3(db, sql[i], -1,
		                                     SQLITE_PREPARE_PERSISTENT,
		                                     q[i], NULL) != SQLITE_OK) {
			snprintf(broken, size, _("cannot read the replica: %s"),
			         db != NULL ? sqlite3_errmsg(db) : "-");
			return -1;
		}
	return 0;
}

void
ui_lines_add(struct ui_lines *l, int attr, const char *text)
{
	l->v = ui_xrealloc(l->v, (size_t)(l->n + 1) * sizeof *l->v);
	l->v[l->n].text = ui_xstrdup(text);
	l->v[l->n].attr = attr;
	l->n++;
}

void
ui_lines_clear(struct ui_lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
