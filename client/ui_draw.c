/*
 * ui_draw.c: drawing text safely, and the colours of risk and warning
 * levels.
 *
 * Everything the UI shows from the replica came from someone else's
 * device, so it is untrusted: ui_text decodes UTF-8 itself (strictly: no
 * overlong forms, no surrogates), turns every C0/C1 control, DEL, ESC,
 * bidirectional override and invalid byte into "?", and measures columns
 * with wcwidth, so a wide character is never cut in half and no escape
 * sequence ever reaches the terminal. ncursesw does the output.
 *
 * Colour is never the only signal: every level is drawn with its word.
 * With NO_COLOR set (to anything but "") or on a monochrome terminal, levels
 * get bold, reverse and underline instead.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gridkeep.h"
#include "ui.h"

/* Colour pairs: 1-4 risk and warning levels, 5 alerts, 6 the tab bar. */
enum { PAIR_RED = 1, PAIR_ORANGE, PAIR_YELLOW, PAIR_BLUE, PAIR_ALERT };

/*
 * Decode one UTF-8 character of s[0..len). Returns its length and sets
 * *cp, or returns 1 with *cp = -1 for a byte that starts no valid one.
 */
static int
utf8_decode(const unsigned char *s, size_t len, long *cp)
{
	unsigned char c = s[0];
	long v;
	int n;

	*cp = -1;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
	} else
		return 1;
	if ((size_t)n > len)
		return 1;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 1;
	*cp = v;
	return n;
}

/*
 * What to draw for code point cp: the character itself, '?' for anything
 * that could act on the terminal or on the text's direction, or 0 to drop
 * it (zero-width characters). *cols gets its width.
 */
static wchar_t
safe_char(long cp, int *cols)
{
	int w;

	*cols = 1;
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return L'?';
	/* Bidirectional embeddings, overrides and isolates reorder text. */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x2028 || cp == 0x2029)
		return L'?';
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return L'?';
	if (w == 0) {
		*cols = 0;
		return 0;
	}
	*cols = w;
	return (wchar_t)cp;
}

int
ui_width(const char *s)
{
	size_t len, i = 0;
	int cols = 0;

	if (s == NULL)
		return 0;
	len = strlen(s);
	while (i < len) {
		long cp;
		int w;

		i += utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (cp < 0)
			cols++;
		else {
			safe_char(cp, &w);
			cols += w;
		}
	}
	return cols;
}

size_t
ui_fit(const char *s, int width)
{
	size_t len, i = 0;
	int used = 0;

	if (s == NULL)
		return 0;
	len = strlen(s);
	while (i < len) {
		long cp;
		int cw = 1, n;

		n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (cp >= 0)
			safe_char(cp, &cw);
		/* Always take one character, so a caller never loops. */
		if (used + cw > width && i > 0)
			break;
		used += cw;
		i += (size_t)n;
	}
	return i;
}

size_t
ui_wrap_next(const char *s, int width, const char **next)
{
	size_t i = 0, space = 0;
	int cols = 0;

	while (s[i] != '\0' && s[i] != '\n') {
		long cp;
		int cw = 1, n;

		/* At most 4 bytes are looked at: a line costs its length. */
		n = utf8_decode((const unsigned char *)s + i, strnlen(s + i, 4),
		                &cp);
		if (cp >= 0)
			safe_char(cp, &cw);
		if (cols + cw > width && i > 0) {
			/* After the last space, unless that leaves the line
			 * less than half full. */
			if (space > i / 2) {
				*next = s + space;
				return space;
			}
			*next = s + i;
			return i;
		}
		cols += cw;
		i += (size_t)n;
		if (cp == ' ')
			space = i;
	}
	*next = s[i] == '\n' ? s + i + 1 : s + i;
	return i;
}

int
ui_text(WINDOW *w, int y, int x, int width, const char *s, int pad)
{
	size_t len, i = 0;
	int used = 0, total;

	if (width <= 0)
		return 0;
	if (s == NULL)
		s = "";
	total = ui_width(s);
	len = strlen(s);
	if (wmove(w, y, x) == ERR)
		return 0;
	while (i < len) {
		long cp;
		int cw = 1;
		wchar_t wc;

		i += utf8_decode((const unsigned char *)s + i, len - i, &cp);
		wc = cp < 0 ? L'?' : safe_char(cp, &cw);
		if (wc == 0)
			continue;
		/* Keep a column for "~" when the text does not fit. */
		if (used + cw > width ||
		    (total > width && used + cw > width - 1))
			break;
		if (waddnwstr(w, &wc, 1) == ERR)
			break;
		used += cw;
	}
	if (total > width && used < width) {
		waddch(w, '~');
		used++;
	}
	while (pad && used < width) {
		waddch(w, ' ');
		used++;
	}
	return used;
}

int
ui_colors_start(void)
{
	const char *nc = getenv("NO_COLOR");

	if ((nc != NULL && nc[0] != '\0') || !has_colors() ||
	    start_color() == ERR)
		return 0;
	use_default_colors();
	init_pair(PAIR_RED, COLOR_RED, -1);
	/* Orange exists as colour 208 on a 256-colour terminal. */
	init_pair(PAIR_ORANGE, COLORS >= 256 ? 208 : COLOR_YELLOW, -1);
	init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
	init_pair(PAIR_BLUE, COLOR_BLUE, -1);
	init_pair(PAIR_ALERT, COLOR_RED, -1);
	return 1;
}

/* Levels 1-4 share the colours red, orange, yellow, blue. */
static int
level_attr(struct ui *u, int level)
{
	static const int mono[5] = {A_NORMAL, A_BOLD | A_REVERSE, A_BOLD,
	                            A_UNDERLINE, A_NORMAL};

	if (level < 1 || level > 4)
		return A_NORMAL;
	if (!ui_color(u))
		return mono[level];
	/* Orange without 256 colours is bold yellow, told from yellow. */
	if (level == 2 && COLORS < 256)
		return COLOR_PAIR(PAIR_ORANGE) | A_BOLD;
	return COLOR_PAIR(level) | (level == 1 ? A_BOLD : 0);
}

int
ui_risk_attr(struct ui *u, int level)
{
	return level_attr(u, level);
}

int
ui_warn_attr(struct ui *u, int level)
{
	return level_attr(u, level);
}

int
ui_alert_attr(struct ui *u)
{
	return ui_color(u) ? (int)(COLOR_PAIR(PAIR_ALERT) | A_BOLD)
	                   : (int)(A_BOLD | A_UNDERLINE);
}

const char *
ui_risk_word(int level)
{
	static const char *const words[5] = {
	    N_("unknown"), N_("major (red)"), N_("serious (orange)"),
	    N_("general (yellow)"), N_("low (blue)")};

	return _(words[level >= 1 && level <= 4 ? level : 0]);
}

const char *
ui_risk_short(int level)
{
	static const char *const words[5] = {
	    N_("?"), N_("major"), N_("serious"), N_("general"), N_("low")};

	return _(words[level >= 1 && level <= 4 ? level : 0]);
}

const char *
ui_warn_word(int level)
{
	static const char *const words[5] = {
	    N_("unknown"), N_("I red (very severe)"), N_("II orange (severe)"),
	    N_("III yellow (serious)"), N_("IV blue (general)")};

	return _(words[level >= 1 && level <= 4 ? level : 0]);
}

void
ui_local_time(const char *utc, char out[32])
{
	int64_t ms;
	time_t t;
	struct tm tm;

	out[0] = '\0';
	if (utc == NULL || *utc == '\0')
		return;
	if (text_time_parse(utc, strlen(utc), &ms) != GK_OK) {
		int64_t days;

		/* A date stays a date; anything else is not shown raw. */
		if (text_date_parse(utc, strlen(utc), &days) == GK_OK &&
		    strlen(utc) < 32)
			strcpy(out, utc);
		else
			strcpy(out, "?");
		return;
	}
	t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
		strcpy(out, "?");
}

void
ui_cell(WINDOW *w, int y, int x, int width, const char *s, int attr)
{
	if (width <= 0)
		return;
	wattron(w, attr);
	ui_text(w, y, x, width, s != NULL ? s : "", 1);
	wattroff(w, attr);
}

void
ui_head_right(WINDOW *w, int y, int x, int width, const char *s)
{
	int sw = ui_width(s);

	if (width <= 0)
		return;
	mvwprintw(w, y, x, "%*s", width, "");
	ui_text(w, y, sw < width ? x + width - sw : x, width, s, 0);
}

int
ui_lines_draw(WINDOW *w, const struct ui_lines *l, int top, int rows, int cols)
{
	int y = 0, line = 0;
	char buf[1024];

	for (int i = 0; i < l->n; i++) {
		const char *s = l->v[i].text, *next;

		do {
			size_t n = ui_wrap_next(s, cols, &next);

			if (line >= top && y < rows) {
				if (n >= sizeof buf)
					n = sizeof buf - 1;
				memcpy(buf, s, n);
				buf[n] = '\0';
				ui_cell(w, y++, 0, cols, buf, l->v[i].attr);
			}
			line++;
			s = next;
		} while (*s != '\0');
	}
	return line;
}

void
ui_right(WINDOW *w, int y, int x, int width, const char *s, int attr)
{
	int len = (int)strlen(s);

	if (width <= 0)
		return;
	if (len > width) {
		ui_cell(w, y, x, width, "#", attr);
		return;
	}
	wattron(w, attr);
	mvwprintw(w, y, x, "%*s", width, s);
	wattroff(w, attr);
}
