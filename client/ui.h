/*
 * ui.h: the terminal UI's shared parts, for ui.c (the loop, the status
 * line, help), ui_draw.c (safe wide-character text, colours), ui_list.c
 * (scrolling lists), ui_form.c (forms and prompts) and one ui_<screen>.c
 * per screen.
 *
 * There is one event loop (libevent): the keyboard, the background sync,
 * timers and HTTP all run on it, so nothing may block. Forms and prompts
 * are therefore not modal loops: they are overlays that receive the keys
 * while open and call back when done.
 */
#ifndef GK_UI_H
#define GK_UI_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <wchar.h>

#include "gridkeep.h"

struct ui; /* the UI's context; ui.c owns it */

/* The client the UI runs on (borrowed). */
struct gk_client *ui_client(struct ui *u);

/* One line of the ? help: the key as shown, and what it does. */
struct ui_keyhelp {
	const char *key;  /* "j, Down" (not translated) */
	const char *what; /* N_("next line") */
};

/*
 * A screen. open makes its state (caller of close owns it); reload is
 * called when the replica changed (a local write, a sync); draw paints
 * the body window; key gets a key the frame did not take, ch a character
 * (is_key 0) or a KEY_ code (is_key 1), and returns 1 if it used it.
 */
struct ui_screen {
	const char *name; /* N_("Hazards"): the tab */
	void *(*open)(struct ui *u);
	void (*close)(void *st);
	void (*reload)(struct ui *u, void *st);
	void (*draw)(struct ui *u, void *st, WINDOW *w, int rows, int cols);
	int (*key)(struct ui *u, void *st, wint_t ch, int is_key);
	const struct ui_keyhelp *help; /* ends with {NULL, NULL} */
};

extern const struct ui_screen ui_screen_hazards;    /* ui_hazards.c */
extern const struct ui_screen ui_screen_patrols;    /* ui_patrols.c */
extern const struct ui_screen ui_screen_depots;     /* ui_depots.c */
extern const struct ui_screen ui_screen_volunteers; /* ui_volunteers.c */
extern const struct ui_screen ui_screen_notices;    /* ui_notices.c */
extern const struct ui_screen ui_screen_sync;       /* ui_sync.c */

/*
 * The figures the Depots and Volunteers screens show, read per row from
 * the ledgers' indexes; the tests check them against views_stock and
 * views_points. today is "YYYY-MM-DD".
 */
int ui_depots_figures(sqlite3 *db, const char *depot, const char *item,
                      const char *today, struct gk_stock_row *out);
int ui_volunteers_points(sqlite3 *db, const char *volunteer,
                         struct gk_points_row *out);

/* ---- ui.c: the frame ---------------------------------------------------- */

/* Show a one-line message under the body until the next key. */
void ui_flash(struct ui *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The replica changed: reload every screen and the status line. */
void ui_changed(struct ui *u);
/* Start a sync now (the status line shows it running). */
void ui_sync_now(struct ui *u);
/* Redraw everything at the next turn of the loop. */
void ui_dirty(struct ui *u);

/* ---- ui_draw.c: text and colours ------------------------------------------
 */

/*
 * Columns s takes on a terminal (wide characters count 2). s is untrusted
 * UTF-8; invalid bytes and control characters count as one "?" each.
 */
int ui_width(const char *s);
/*
 * Draw untrusted text at (y, x) in at most width columns: control
 * characters, escapes and invalid UTF-8 become "?", a wide character is
 * never cut in half, and text that does not fit ends in "~". With pad,
 * fill the rest of width with spaces. Returns the columns drawn.
 */
int ui_text(WINDOW *w, int y, int x, int width, const char *s, int pad);
/* The attribute for a risk level (1-4) or a warning level (1-4, I-IV):
 * a colour pair, or bold/reverse/underline with NO_COLOR or on a
 * monochrome terminal. */
int ui_risk_attr(struct ui *u, int level);
int ui_warn_attr(struct ui *u, int level);
/* The word drawn beside the colour: _("red"), ... and the level names. */
const char *ui_risk_word(int level); /* 1 -> "重大/major (red)" per locale */
const char *ui_warn_word(int level); /* 1 -> "I red" */
int ui_alert_attr(struct ui *u);     /* a discrepancy: negative, overdue */
/* A UTC time text from a record as local "YYYY-MM-DD HH:MM" into out. */
void ui_local_time(const char *utc, char out[32]);

/* ---- ui_list.c: a scrolling list ----------------------------------------- */

struct ui_list {
	int n;   /* rows */
	int sel; /* selected row, 0..n-1 (0 when empty) */
	int top; /* first row shown */
};
/*
 * Move the selection for j/k, arrows, PgUp/PgDn, Home/End, g/G; keep it on
 * screen for a window of rows lines. 1 if the key was a movement.
 */
int ui_list_key(struct ui_list *l, wint_t ch, int is_key, int rows);
/* Fix sel and top after n changed or the window was resized. */
void ui_list_fit(struct ui_list *l, int rows);

/* ---- ui_form.c: forms and prompts ------------------------------------------
 */

typedef void (*ui_form_done)(struct ui *u, void *arg,
                             const struct act_result *res);
/*
 * Open the form of action a on target (NULL for a new record), with
 * prefill (an object of input -> string, borrowed; may be NULL). The form
 * takes the keys until it is saved or cancelled. Saving runs action_run:
 * a refusal is shown on the form with the field at fault focused and
 * nothing typed is lost; success closes it, calls ui_changed and then
 * done (may be NULL).
 */
void ui_form_open(struct ui *u, const struct gk_action *a, const char *target,
                  json_t *prefill, ui_form_done done, void *arg);
/*
 * Ask for one line at the bottom (search). done gets the text, or NULL
 * when cancelled with Esc.
 */
void ui_prompt_open(struct ui *u, const char *label, const char *initial,
                    void (*done)(struct ui *u, void *arg, const char *text),
                    void *arg);
/* 1 while a form or prompt has the keyboard (ui.c routes keys to it). */
int ui_overlay_active(struct ui *u);
int ui_overlay_key(struct ui *u, wint_t ch, int is_key);
void ui_overlay_draw(struct ui *u);

/* ---- added for the frame, the forms and the Sync screen ------------------ */

/*
 * Keys: the frame takes Tab, Shift-Tab, 1-6, ?, s, S, Ctrl-L and Ctrl-C
 * before a screen sees them; q and Esc go to the screen first (back from
 * a detail) and quit when the screen does not use them. Enter reaches a
 * screen as '\n' (is_key 0) whatever the terminal sends.
 */

/* The body window (the screen's draw gets it too); overlays draw into it. */
WINDOW *ui_body(struct ui *u);
/* Show the terminal cursor at (y, x) of the whole screen (stdscr, not the
 * body: add the body's getbegyx) after this redraw; hidden otherwise. */
void ui_cursor(struct ui *u, int y, int x);
/* 1 when colours are in use (not NO_COLOR, and the terminal has them). */
int ui_color(struct ui *u);
/* The overlay (form or prompt) that has the keyboard, kept by ui.c. */
struct ui_overlay; /* ui_form.c */
struct ui_overlay *ui_overlay_get(struct ui *u);
void ui_overlay_set(struct ui *u, struct ui_overlay *o);
void ui_overlay_free(struct ui_overlay *o);

/* What the background sync is doing, for the status line and Sync screen. */
struct ui_syncinfo {
	int online;        /* 1, 0, or -1 before the first attempt */
	int busy;          /* a sync is running */
	char progress[64]; /* "sending 40%" while busy, else "" */
	int next_in;       /* seconds to the next background sync, -1 */
	char last_error[GK_ERRMSG_MAX]; /* of the last attempt, or "" */
};
void ui_sync_info(struct ui *u, struct ui_syncinfo *out);

/*
 * Bytes of the longest start of s that fits in width columns, never
 * cutting a character (at least one character when s is not empty): for
 * wrapping long text over several lines.
 */
size_t ui_fit(const char *s, int width);
/*
 * Bytes of the first line of s when wrapped to width columns: up to a
 * newline, cut after a space when one is in the second half of the line,
 * else between characters (at least one character, so a loop always
 * moves on). *next gets where the next line begins (past the newline).
 */
size_t ui_wrap_next(const char *s, int width, const char **next);
/* ui_text of s (NULL: "") in a padded cell of width columns with attr. */
void ui_cell(WINDOW *w, int y, int x, int width, const char *s, int attr);
/* A heading right-aligned in width columns by its display width. */
void ui_head_right(WINDOW *w, int y, int x, int width, const char *s);
/* ASCII s (a number) right-aligned in width columns with attr; "#" (then
 * padded) when it does not fit. */
void ui_right(WINDOW *w, int y, int x, int width, const char *s, int attr);

/* Set up the colour pairs; 1 if colours are used (ui.c, after initscr). */
int ui_colors_start(void);
/* The short word of a risk level for lists: _("major"), ... */
const char *ui_risk_short(int level);

/* ---- ui_util.c: what the screens share ---------------------------------- */

/* A key of the line at the bottom; action NULL: always shown. */
struct ui_hint {
	const char *key;    /* "Enter" (not translated) */
	const char *action; /* the action it opens, shown only if allowed */
	const char *what;   /* N_("full text") */
};
/* The keys of h[0..n) the user's role may use, "a ack  Enter text", in buf. */
void ui_hints_make(struct ui *u, const struct ui_hint *h, size_t n, char *buf,
                   size_t size);
/*
 * What a form shows for a record of kind ref: name when it names that
 * record alone (as the form's chooser would put it), else id. Borrowed.
 */
const char *ui_ref_text(struct gk_client *c, const char *ref, const char *name,
                        const char *id);
/*
 * Prepare sql[i] into *q[i] (persistent) for i < n. On failure, or with
 * no db, puts "cannot read the replica: ..." in broken and returns -1.
 */
int ui_prepare(sqlite3 *db, const char *const *sql, sqlite3_stmt **const *q,
               size_t n, char *broken, size_t size);

/*
 * Memory, or the end: running out is not something a screen can work
 * around, so the screens' rows and names are allocated by these, which
 * abort. ui_xstrdup copies s, "" for NULL; the caller frees.
 */
void *ui_xrealloc(void *ptr, size_t size);
char *ui_xstrdup(const char *s);
/*
 * The name q (one parameter, the id; one column) gives for id, else id
 * itself: a record outside this replica shows as its id. "" for no id.
 * The caller frees it.
 */
char *ui_name_of(sqlite3_stmt *q, const char *id);
/* The action name, or NULL after flashing that this build lacks it. */
const struct gk_action *ui_action_get(struct ui *u, const char *name);
/* 1 if the user may take a on target (NULL: a new record), else 0 after
 * flashing why not. */
int ui_action_may(struct ui *u, const struct gk_action *a, const char *target);
/* 1 for the keys that go back from a detail: Esc, q, Left, Backspace. */
int ui_key_back(wint_t ch, int is_key);

/* Lines of text, each with an attribute the screen gives meaning to. */
struct ui_line {
	char *text; /* owned */
	int attr;
};
struct ui_lines {
	struct ui_line *v;
	int n;
};
/* Append a copy of text (NULL: ""); aborts when out of memory. */
void ui_lines_add(struct ui_lines *l, int attr, const char *text);
/* Free every line; l is then empty and may be reused. */
void ui_lines_clear(struct ui_lines *l);
/*
 * (ui_draw.c) Draw l wrapped by ui_wrap_next, skipping the first top wrapped
 * lines, in rows lines with each line's attr as a curses attribute. Returns the
 * wrapped lines there are in all.
 */
int ui_lines_draw(WINDOW *w, const struct ui_lines *l, int top, int rows,
                  int cols);

#endif
