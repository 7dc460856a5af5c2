/*
 * ui_form.c: forms made from an action's inputs, the record chooser, and
 * the one-line prompt (search).
 *
 * A form is an overlay on the body: one line per input of the struct
 * gk_action (actions.c), so the UI can never ask for something the
 * command line does not, nor check it differently: saving hands what was
 * typed to action_run, and a refusal is shown on the form with the field
 * at fault focused and every value kept. The event loop keeps running
 * while a form is open (ui.c routes the keys here).
 *
 * Text is edited as wide characters: the cursor moves by characters and
 * is placed by columns (wcwidth), so Chinese edits like ASCII. Values
 * typed here are turned back into UTF-8 only when saving.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gridkeep.h"
#include "ui.h"

#define CHOOSER_MAX 200

/* A line of text being edited. */
struct edit {
	wchar_t *s;
	int len, cap;
	int cur;  /* cursor: index into s */
	int left; /* first character shown */
};

struct choice {
	char id[GK_ID_LEN + 1];
	char *name;  /* what is typed into the field */
	char *extra; /* shown beside it */
};

enum ov_kind { OV_FORM, OV_PROMPT };

struct ui_overlay {
	enum ov_kind kind;

	/* OV_FORM */
	const struct gk_action *a;
	char target[GK_ID_LEN + 1];
	int has_target;
	struct edit *val; /* one per input */
	int *word;        /* ACT_ENUM: index in words, -1 empty; ACT_BOOL 0/1 */
	int focus, top;
	int typed;   /* something was changed: Esc asks first */
	int confirm; /* waiting for y/n to discard */
	int bad;     /* the input at fault, -1 */
	char msg[GK_ERRMSG_MAX + 128];
	ui_form_done done;
	void *arg;

	/* the chooser of an ACT_REF input, when open */
	struct choice *ch;
	int nch;
	struct ui_list chl;

	/* OV_PROMPT */
	char label[128];
	void (*pdone)(struct ui *u, void *arg, const char *text);
	struct edit line;
};

/* ---- editing one line ---------------------------------------------------- */

static void
edit_free(struct edit *e)
{
	free(e->s);
	memset(e, 0, sizeof *e);
}

static int
edit_reserve(struct edit *e, int n)
{
	wchar_t *p;
	int cap;

	if (e->len + n < e->cap)
		return 0;
	cap = e->cap ? e->cap * 2 : 32;
	while (cap <= e->len + n)
		cap *= 2;
	if ((p = realloc(e->s, (size_t)cap * sizeof *p)) == NULL)
		return -1;
	e->s = p;
	e->cap = cap;
	return 0;
}

static void
edit_insert(struct edit *e, wchar_t wc)
{
	if (e->len >= 4000 || edit_reserve(e, 1) != 0)
		return;
	memmove(e->s + e->cur + 1, e->s + e->cur,
	        (size_t)(e->len - e->cur) * sizeof *e->s);
	e->s[e->cur++] = wc;
	e->len++;
}

static void
edit_delete(struct edit *e, int at)
{
	if (at < 0 || at >= e->len)
		return;
	memmove(e->s + at, e->s + at + 1,
	        (size_t)(e->len - at - 1) * sizeof *e->s);
	e->len--;
	if (e->cur > at)
		e->cur--;
}

/* Replace the text with UTF-8 s (untrusted: bad bytes become U+FFFD). */
static void
edit_set(struct edit *e, const char *s)
{
	mbstate_t ms;
	size_t len = s != NULL ? strlen(s) : 0, i = 0;

	e->len = e->cur = e->left = 0;
	memset(&ms, 0, sizeof ms);
	while (i < len) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s + i, len - i, &ms);

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&ms, 0, sizeof ms);
			wc = 0xfffd;
			n = 1;
		}
		edit_insert(e, wc);
		i += n;
	}
	e->cur = e->len;
}

/* The text as UTF-8; caller frees. */
static char *
edit_get(const struct edit *e)
{
	size_t size = (size_t)e->len * MB_LEN_MAX + 1, used = 0;
	char *out = malloc(size);
	mbstate_t ms;

	if (out == NULL)
		return NULL;
	memset(&ms, 0, sizeof ms);
	for (int i = 0; i < e->len; i++) {
		size_t n = wcrtomb(out + used, e->s[i], &ms);

		if (n == (size_t)-1) {
			memset(&ms, 0, sizeof ms);
			out[used] = '?';
			n = 1;
		}
		used += n;
	}
	out[used] = '\0';
	return out;
}

/* Columns of one character as drawn here (controls show as one "?"). */
static int
edit_cw(wchar_t wc)
{
	int w = wc < 0x20 || (wc >= 0x7f && wc < 0xa0) ? 1 : wcwidth(wc);

	return w < 1 ? 1 : w;
}

/*
 * Draw e in width columns at (y, x) and keep the cursor visible; returns
 * the cursor's column (relative to x).
 */
static int
edit_draw(WINDOW *w, int y, int x, int width, struct edit *e)
{
	int col = 0, curcol = 0;

	if (width < 2)
		return 0;
	if (e->left > e->cur)
		e->left = e->cur;
	/* Move the window right until the cursor fits. */
	for (;;) {
		int c = 0;

		for (int i = e->left; i < e->cur; i++)
			c += edit_cw(e->s[i]);
		if (c < width || e->left >= e->cur)
			break;
		e->left++;
	}
	wmove(w, y, x);
	for (int i = e->left; i < e->len; i++) {
		wchar_t wc = e->s[i];
		int cw = edit_cw(wc);

		if (col + cw > width)
			break;
		if (i == e->cur)
			curcol = col;
		if (wc == L'\n')
			wc = 0x21b5; /* a newline shows as a return arrow */
		else if (wc < 0x20 || (wc >= 0x7f && wc < 0xa0) ||
		         wcwidth(wc) < 1)
			wc = L'?';
		waddnwstr(w, &wc, 1);
		col += cw;
	}
	if (e->cur >= e->len)
		curcol = col;
	while (col++ < width)
		waddch(w, ' ');
	return curcol;
}

/* Keys every text field shares. 1 if used; *changed when the text did. */
static int
edit_key(struct edit *e, wint_t ch, int is_key, int *changed)
{
	if (is_key) {
		switch (ch) {
		case KEY_LEFT:
			if (e->cur > 0)
				e->cur--;
			return 1;
		case KEY_RIGHT:
			if (e->cur < e->len)
				e->cur++;
			return 1;
		case KEY_HOME:
			e->cur = 0;
			return 1;
		case KEY_END:
			e->cur = e->len;
			return 1;
		case KEY_BACKSPACE:
			if (e->cur > 0) {
				edit_delete(e, e->cur - 1);
				*changed = 1;
			}
			return 1;
		case KEY_DC:
			edit_delete(e, e->cur);
			*changed = 1;
			return 1;
		}
		return 0;
	}
	switch (ch) {
	case 1: /* Ctrl-A */
		e->cur = 0;
		return 1;
	case 5: /* Ctrl-E */
		e->cur = e->len;
		return 1;
	case 8:
	case 127:
		if (e->cur > 0) {
			edit_delete(e, e->cur - 1);
			*changed = 1;
		}
		return 1;
	case 4: /* Ctrl-D */
		edit_delete(e, e->cur);
		*changed = 1;
		return 1;
	case 21: /* Ctrl-U */
		e->len = e->cur = e->left = 0;
		*changed = 1;
		return 1;
	}
	/* Printable characters only: no controls, nothing zero-width. */
	if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || wcwidth((wchar_t)ch) < 1)
		return 0;
	edit_insert(e, (wchar_t)ch);
	*changed = 1;
	return 1;
}

/* ---- the record chooser -------------------------------------------------- */

/* Candidates of a kind of record whose name holds ?1: id, name, extra. */
static const struct {
	const char *ref;
	const char *sql;
} chooser_sql[] = {
    {"grid", "SELECT id, name, code FROM units WHERE level = 'grid' AND "
             "deleted IS NOT 1 AND (instr(name, ?1) > 0 OR instr(code, ?1) "
             "> 0) ORDER BY name, id LIMIT 200"},
    {"unit", "SELECT id, name, level FROM units WHERE deleted IS NOT 1 AND "
             "(instr(name, ?1) > 0 OR instr(code, ?1) > 0) "
             "ORDER BY name, id LIMIT 200"},
    {"depot", "SELECT id, name, place FROM depots WHERE deleted IS NOT 1 "
              "AND instr(name, ?1) > 0 ORDER BY name, id LIMIT 200"},
    {"item", "SELECT id, code, name FROM items WHERE deleted IS NOT 1 AND "
             "(instr(name, ?1) > 0 OR instr(code, ?1) > 0) "
             "ORDER BY code, id LIMIT 200"},
    {"volunteer", "SELECT id, name, skills FROM volunteers WHERE deleted IS "
                  "NOT 1 AND instr(name, ?1) > 0 ORDER BY name, id LIMIT 200"},
    {"notice", "SELECT id, title, expires_at FROM notices WHERE deleted IS "
               "NOT 1 AND instr(title, ?1) > 0 ORDER BY occurred_at DESC, id "
               "LIMIT 200"},
    {"hazard", "SELECT id, title, status FROM hazards WHERE deleted IS NOT 1 "
               "AND instr(title, ?1) > 0 ORDER BY occurred_at DESC, id "
               "LIMIT 200"},
};

static void
chooser_free(struct ui_overlay *o)
{
	for (int i = 0; i < o->nch; i++) {
		free(o->ch[i].name);
		free(o->ch[i].extra);
	}
	free(o->ch);
	o->ch = NULL;
	o->nch = 0;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return strdup(s != NULL ? s : "");
}

/* Open the chooser of input i, filtered by what is typed there. */
static void
chooser_open(struct ui *u, struct ui_overlay *o, int i)
{
	const struct act_input *in = &o->a->inputs[i];
	const char *sql = NULL;
	sqlite3_stmt *st;
	char *filter;

	for (size_t k = 0; k < sizeof chooser_sql / sizeof chooser_sql[0]; k++)
		if (in->ref != NULL && strcmp(chooser_sql[k].ref, in->ref) == 0)
			sql = chooser_sql[k].sql;
	if (sql == NULL || (filter = edit_get(&o->val[i])) == NULL)
		return;
	chooser_free(o);
	if (sqlite3_prepare_v2(ui_client(u)->db, sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		free(filter);
		return;
	}
	sqlite3_bind_text(st, 1, filter, -1, SQLITE_TRANSIENT);
	free(filter);
	o->ch = calloc(CHOOSER_MAX, sizeof *o->ch);
	while (o->ch != NULL && o->nch < CHOOSER_MAX &&
	       sqlite3_step(st) == SQLITE_ROW) {
		struct choice *c = &o->ch[o->nch];
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (id == NULL || strlen(id) > GK_ID_LEN)
			continue;
		strcpy(c->id, id);
		c->name = col_dup(st, 1);
		c->extra = col_dup(st, 2);
		if (c->name == NULL || c->extra == NULL) {
			free(c->name);
			free(c->extra);
			break;
		}
		o->nch++;
	}
	sqlite3_finalize(st);
	if (o->nch == 0) {
		chooser_free(o);
		snprintf(o->msg, sizeof o->msg, "%s",
		         _("nothing matches what is typed"));
		return;
	}
	memset(&o->chl, 0, sizeof o->chl);
	o->chl.n = o->nch;
}

/* Put the chosen record in the field: its name, or its id if the name
 * is not unique among the candidates. */
static void
chooser_pick(struct ui_overlay *o)
{
	struct choice *c = &o->ch[o->chl.sel];
	int same = 0;

	for (int i = 0; i < o->nch; i++)
		same += strcmp(o->ch[i].name, c->name) == 0;
	edit_set(&o->val[o->focus],
	         same == 1 && c->name[0] != '\0' ? c->name : c->id);
	o->typed = 1;
	chooser_free(o);
}

static void
chooser_draw(struct ui *u, struct ui_overlay *o, WINDOW *w, int rows, int cols)
{
	int h = o->nch + 2, top, width = cols > 60 ? 60 : cols, x;

	(void)u;
	if (h > rows - 2)
		h = rows - 2;
	if (h < 3)
		return;
	top = rows - h;
	x = cols - width;
	ui_list_fit(&o->chl, h - 2);
	for (int y = 0; y < h; y++) {
		wmove(w, top + y, x);
		for (int k = 0; k < width; k++)
			waddch(w, ' ');
	}
	wattrset(w, A_BOLD);
	ui_text(w, top, x + 1, width - 2,
	        _("Choose (Enter picks, Esc closes):"), 1);
	wattrset(w, A_NORMAL);
	for (int r = 0; r < h - 2 && o->chl.top + r < o->nch; r++) {
		struct choice *c = &o->ch[o->chl.top + r];
		int nw = (width - 3) * 2 / 3;

		wattrset(w,
		         o->chl.top + r == o->chl.sel ? A_REVERSE : A_NORMAL);
		ui_text(w, top + 1 + r, x + 1, nw, c->name, 1);
		ui_text(w, top + 1 + r, x + 1 + nw, width - 2 - nw, c->extra,
		        1);
	}
	wattrset(w, A_NORMAL);
}

static void
chooser_key(struct ui_overlay *o, wint_t ch, int is_key, int rows)
{
	if (!is_key && (ch == 27 || ch == 3)) {
		chooser_free(o);
		return;
	}
	if (!is_key && (ch == L'\n' || ch == L' ')) {
		chooser_pick(o);
		return;
	}
	ui_list_key(&o->chl, ch, is_key, rows);
}

/* ---- the form ------------------------------------------------------------ */

void
ui_overlay_free(struct ui_overlay *o)
{
	if (o == NULL)
		return;
	if (o->kind == OV_FORM) {
		for (int i = 0; i < o->a->ninputs; i++)
			edit_free(&o->val[i]);
		free(o->val);
		free(o->word);
		chooser_free(o);
	}
	edit_free(&o->line);
	free(o);
}

int
ui_overlay_active(struct ui *u)
{
	return ui_overlay_get(u) != NULL;
}

void
ui_form_open(struct ui *u, const struct gk_action *a, const char *target,
             json_t *prefill, ui_form_done done, void *arg)
{
	struct ui_overlay *o;

	if ((o = calloc(1, sizeof *o)) == NULL ||
	    (o->val = calloc((size_t)a->ninputs + 1, sizeof *o->val)) == NULL ||
	    (o->word = calloc((size_t)a->ninputs + 1, sizeof *o->word)) ==
	        NULL) {
		if (o != NULL) {
			free(o->val);
			free(o);
		}
		ui_flash(u, "%s", _("out of memory"));
		return;
	}
	o->kind = OV_FORM;
	o->a = a;
	o->bad = -1;
	if (target != NULL && strlen(target) <= GK_ID_LEN) {
		strcpy(o->target, target);
		o->has_target = 1;
	}
	o->done = done;
	o->arg = arg;
	for (int i = 0; i < a->ninputs; i++) {
		const struct act_input *in = &a->inputs[i];
		const char *pre = json_string_value(
		    prefill != NULL ? json_object_get(prefill, in->name)
		                    : NULL);

		o->word[i] = -1;
		if (in->type == ACT_ENUM) {
			for (int k = 0; in->words[k] != NULL; k++)
				if (pre != NULL &&
				    strcmp(pre, in->words[k]) == 0)
					o->word[i] = k;
			/* A required choice starts on its first word. */
			if (o->word[i] < 0 && (in->flags & ACT_REQ))
				o->word[i] = 0;
		} else if (in->type == ACT_BOOL)
			o->word[i] = pre != NULL && (strcmp(pre, "yes") == 0 ||
			                             strcmp(pre, "true") == 0 ||
			                             strcmp(pre, "1") == 0);
		else if (pre != NULL)
			edit_set(&o->val[i], pre);
		else if (in->type == ACT_TIME && (in->flags & ACT_REQ))
			edit_set(&o->val[i], "now");
	}
	ui_overlay_set(u, o);
}

static int
form_find(struct ui_overlay *o, const char *name)
{
	for (int i = 0; i < o->a->ninputs; i++)
		if (strcmp(o->a->inputs[i].name, name) == 0)
			return i;
	return -1;
}

/* Save: run the action on what was typed. */
static void
form_save(struct ui *u, struct ui_overlay *o)
{
	struct act_result res;
	struct gk_error err = {0};
	json_t *input = json_object();
	ui_form_done done = o->done;
	void *arg = o->arg;
	const char *title;
	int rc;

	memset(&res, 0, sizeof res);
	if (input == NULL)
		return;
	for (int i = 0; i < o->a->ninputs; i++) {
		const struct act_input *in = &o->a->inputs[i];
		char *s;

		if (in->type == ACT_ENUM) {
			if (o->word[i] >= 0)
				json_object_set_new(
				    input, in->name,
				    json_string(in->words[o->word[i]]));
			continue;
		}
		if (in->type == ACT_BOOL) {
			json_object_set_new(
			    input, in->name,
			    json_string(o->word[i] ? "yes" : "no"));
			continue;
		}
		if ((s = edit_get(&o->val[i])) == NULL)
			continue;
		if (s[0] != '\0')
			json_object_set_new(input, in->name, json_string(s));
		free(s);
	}
	rc = action_run(ui_client(u), o->a, o->has_target ? o->target : NULL,
	                input, &res, &err);
	json_decref(input);
	if (rc != GK_OK) {
		int f = res.field[0] != '\0' ? form_find(o, res.field) : -1;

		o->bad = f;
		if (f >= 0) {
			o->focus = f;
			snprintf(o->msg, sizeof o->msg, "%s: %s",
			         _(o->a->inputs[f].label),
			         err.msg[0] != '\0' ? err.msg
			                            : gk_code_name(rc));
		} else
			snprintf(o->msg, sizeof o->msg, "%s",
			         err.msg[0] != '\0' ? err.msg
			                            : gk_code_name(rc));
		beep();
		return;
	}
	title = o->a->title;
	ui_overlay_set(u, NULL);
	ui_overlay_free(o);
	ui_flash(u, _("saved: %s"), _(title));
	ui_changed(u);
	if (done != NULL)
		done(u, arg, &res);
}

static void
form_close(struct ui *u, struct ui_overlay *o)
{
	ui_overlay_set(u, NULL);
	ui_overlay_free(o);
	ui_flash(u, "%s", _("cancelled: nothing was saved"));
}

static void
form_move(struct ui_overlay *o, int by)
{
	int n = o->a->ninputs;

	if (n > 0)
		o->focus = (o->focus + by + n) % n;
}

/* 1 if input i's text names exactly one record. */
static int
ref_resolves(struct ui *u, struct ui_overlay *o, int i)
{
	char id[GK_ID_LEN + 1], *text = edit_get(&o->val[i]);
	struct gk_error e = {0};
	int ok;

	if (text == NULL)
		return 0;
	ok = text[0] != '\0' &&
	     action_resolve_ref(ui_client(u), o->a->inputs[i].ref, text, id,
	                        &e) == GK_OK;
	free(text);
	return ok;
}

static int
form_key(struct ui *u, struct ui_overlay *o, wint_t ch, int is_key)
{
	const struct act_input *in;
	int changed = 0, rows, cols, last;

	getmaxyx(ui_body(u), rows, cols);
	(void)cols;
	if (o->a->ninputs == 0) {
		if (!is_key && (ch == L'\n' || ch == 19))
			form_save(u, o);
		else if (!is_key && (ch == 27 || ch == 3 || ch == L'q'))
			form_close(u, o);
		return 1;
	}
	in = &o->a->inputs[o->focus];
	last = o->focus == o->a->ninputs - 1;
	if (o->confirm) {
		o->confirm = 0;
		o->msg[0] = '\0';
		if (!is_key && (ch == L'y' || ch == L'Y'))
			form_close(u, o);
		return 1;
	}
	if (o->ch != NULL) {
		chooser_key(o, ch, is_key, rows - 4);
		return 1;
	}
	if ((!is_key && ch == 19) || (is_key && ch == KEY_F(2))) {
		form_save(u, o);
		return 1;
	}
	if (!is_key && (ch == 27 || ch == 3)) {
		if (o->typed) {
			o->confirm = 1;
			snprintf(o->msg, sizeof o->msg, "%s",
			         _("Discard what you typed? y discards, any "
			           "other key goes back to the form"));
		} else
			form_close(u, o);
		return 1;
	}
	if ((is_key && ch == KEY_DOWN) || (!is_key && ch == L'\t')) {
		form_move(o, 1);
		return 1;
	}
	if (is_key && (ch == KEY_UP || ch == KEY_BTAB)) {
		form_move(o, -1);
		return 1;
	}
	if (in->type == ACT_ENUM || in->type == ACT_BOOL) {
		int n = 0, step = 0;

		if (in->type == ACT_ENUM)
			while (in->words[n] != NULL)
				n++;
		if ((is_key && ch == KEY_RIGHT) || (!is_key && ch == L' '))
			step = 1;
		else if (is_key && ch == KEY_LEFT)
			step = -1;
		else if (!is_key && ch == L'\n') {
			if (last)
				form_save(u, o);
			else
				form_move(o, 1);
			return 1;
		} else if (in->type == ACT_BOOL && !is_key &&
		           (ch == L'y' || ch == L'n')) {
			o->word[o->focus] = ch == L'y';
			o->typed = 1;
			return 1;
		}
		if (step == 0)
			return 0;
		if (in->type == ACT_BOOL)
			o->word[o->focus] = !o->word[o->focus];
		else {
			/* An optional choice may also be left empty (-1). */
			int lo = (in->flags & ACT_REQ) ? 0 : -1;
			int v = o->word[o->focus] + step;

			if (v >= n)
				v = lo;
			if (v < lo)
				v = n - 1;
			o->word[o->focus] = v;
		}
		o->typed = 1;
		return 1;
	}
	/* A record: Space on an empty field, or Enter on text that names
	 * no single record, opens the chooser (filtered by the text). */
	if (in->type == ACT_REF && !is_key &&
	    ((ch == L' ' && o->val[o->focus].len == 0) ||
	     (ch == L'\n' && !ref_resolves(u, o, o->focus)))) {
		chooser_open(u, o, o->focus);
		if (o->ch == NULL && o->val[o->focus].len > 0) {
			/* Nothing matches the text: offer them all. */
			struct edit keep = o->val[o->focus];

			memset(&o->val[o->focus], 0, sizeof keep);
			chooser_open(u, o, o->focus);
			edit_free(&o->val[o->focus]);
			o->val[o->focus] = keep;
			if (o->ch != NULL)
				o->msg[0] = '\0';
		}
		return 1;
	}
	if (!is_key && ch == L'\n') {
		if (last)
			form_save(u, o);
		else
			form_move(o, 1);
		return 1;
	}
	if (edit_key(&o->val[o->focus], ch, is_key, &changed)) {
		if (changed) {
			o->typed = 1;
			/* The refusal was about this field: it is being fixed.
			 */
			if (o->bad == o->focus) {
				o->bad = -1;
				o->msg[0] = '\0';
			}
		}
		return 1;
	}
	return 0;
}

static void
form_draw(struct ui *u, struct ui_overlay *o)
{
	WINDOW *w = ui_body(u);
	int rows, cols, lw = 0, vis, fx, by, bx;

	getmaxyx(w, rows, cols);
	getbegyx(w, by, bx);
	werase(w);
	wattrset(w, A_BOLD);
	ui_text(w, 0, 0, cols, _(o->a->title), 1);
	wattrset(w, A_NORMAL);
	for (int i = 0; i < o->a->ninputs; i++) {
		int lwi = ui_width(_(o->a->inputs[i].label)) + 2;

		if (lwi > lw)
			lw = lwi;
	}
	if (lw > cols / 3)
		lw = cols / 3;
	fx = lw + 1;
	vis = rows - 5;
	if (vis < 1)
		vis = 1;
	if (o->focus < o->top)
		o->top = o->focus;
	if (o->focus >= o->top + vis)
		o->top = o->focus - vis + 1;
	for (int r = 0; r < vis && o->top + r < o->a->ninputs; r++) {
		int i = o->top + r, y = 2 + r;
		const struct act_input *in = &o->a->inputs[i];
		char label[160], buf[256];

		snprintf(label, sizeof label, "%s%s", _(in->label),
		         (in->flags & ACT_REQ) ? "*" : "");
		wattrset(w, i == o->bad     ? ui_alert_attr(u)
		            : i == o->focus ? (int)A_BOLD
		                            : (int)A_NORMAL);
		ui_text(w, y, 0, lw, label, 1);
		wattrset(w, i == o->focus ? A_UNDERLINE : A_NORMAL);
		switch (in->type) {
		case ACT_ENUM:
			snprintf(buf, sizeof buf, "< %s >",
			         o->word[i] >= 0 ? _(in->words[o->word[i]])
			                         : "-");
			ui_text(w, y, fx, cols - fx, buf, 1);
			break;
		case ACT_BOOL:
			snprintf(buf, sizeof buf, "[%s] %s",
			         o->word[i] ? "x" : " ",
			         o->word[i] ? _("yes") : _("no"));
			ui_text(w, y, fx, cols - fx, buf, 1);
			break;
		default: {
			int cx = edit_draw(w, y, fx, cols - fx - 1, &o->val[i]);

			if (i == o->focus && o->ch == NULL && !o->confirm)
				ui_cursor(u, by + y, bx + fx + cx);
			break;
		}
		}
		wattrset(w, A_NORMAL);
	}
	if (o->a->ninputs > 0) {
		const struct act_input *in = &o->a->inputs[o->focus];
		char help[512];

		snprintf(help, sizeof help, "%s%s", in->help ? _(in->help) : "",
		         in->type == ACT_REF
		             ? _(" (Enter or Space on an empty field: choose)")
		         : in->type == ACT_ENUM || in->type == ACT_BOOL
		             ? _(" (Left/Right or Space: change)")
		             : "");
		ui_text(w, rows - 3, 0, cols, help, 1);
	}
	if (o->msg[0] != '\0') {
		wattrset(w, ui_alert_attr(u));
		ui_text(w, rows - 2, 0, cols, o->msg, 1);
		wattrset(w, A_NORMAL);
	}
	wattrset(w, A_REVERSE);
	ui_text(w, rows - 1, 0, cols,
	        _("Ctrl-S or F2 saves, Esc cancels, Tab/Up/Down move"), 1);
	wattrset(w, A_NORMAL);
	if (o->ch != NULL)
		chooser_draw(u, o, w, rows - 1, cols);
}

/* ---- the prompt ------------------------------------------------------------
 */

void
ui_prompt_open(struct ui *u, const char *label, const char *initial,
               void (*done)(struct ui *u, void *arg, const char *text),
               void *arg)
{
	struct ui_overlay *o;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return;
	o->kind = OV_PROMPT;
	snprintf(o->label, sizeof o->label, "%s", label);
	o->pdone = done;
	o->arg = arg;
	edit_set(&o->line, initial);
	ui_overlay_set(u, o);
}

static int
prompt_key(struct ui *u, struct ui_overlay *o, wint_t ch, int is_key)
{
	int changed = 0;
	void (*done)(struct ui *, void *, const char *) = o->pdone;
	void *arg = o->arg;

	if (!is_key && (ch == L'\n' || ch == 27 || ch == 3)) {
		char *text = ch == L'\n' ? edit_get(&o->line) : NULL;

		ui_overlay_set(u, NULL);
		ui_overlay_free(o);
		if (done != NULL)
			done(u, arg, text);
		free(text);
		return 1;
	}
	return edit_key(&o->line, ch, is_key, &changed);
}

static void
prompt_draw(struct ui *u, struct ui_overlay *o)
{
	int lw = ui_width(o->label) + 1, cx;

	if (lw > COLS / 2)
		lw = COLS / 2;
	wattrset(stdscr, A_BOLD);
	ui_text(stdscr, LINES - 2, 0, lw, o->label, 1);
	wattrset(stdscr, A_NORMAL);
	cx = edit_draw(stdscr, LINES - 2, lw, COLS - lw - 1, &o->line);
	ui_cursor(u, LINES - 2, lw + cx);
}

/* ---- routing ------------------------------------------------------------- */

int
ui_overlay_key(struct ui *u, wint_t ch, int is_key)
{
	struct ui_overlay *o = ui_overlay_get(u);

	if (o == NULL)
		return 0;
	if (o->kind == OV_PROMPT)
		return prompt_key(u, o, ch, is_key);
	form_key(u, o, ch, is_key);
	return 1; /* a form keeps every key */
}

void
ui_overlay_draw(struct ui *u)
{
	struct ui_overlay *o = ui_overlay_get(u);

	if (o == NULL)
		return;
	if (o->kind == OV_PROMPT)
		prompt_draw(u, o);
	else
		form_draw(u, o);
}
