/*
 * ui_list.c: the selection and scrolling of a list, shared by every
 * screen.
 *
 * A list here is only three numbers (rows, selected, first shown): the
 * screen keeps its rows however it likes (the hazard list reads only the
 * rows one window shows), so moving costs nothing however long the list.
 */
#include "gridkeep.h"
#include "ui.h"

void
ui_list_fit(struct ui_list *l, int rows)
{
	if (rows < 1)
		rows = 1;
	if (l->n <= 0) {
		l->n = 0;
		l->sel = l->top = 0;
		return;
	}
	if (l->sel >= l->n)
		l->sel = l->n - 1;
	if (l->sel < 0)
		l->sel = 0;
	if (l->top > l->sel)
		l->top = l->sel;
	if (l->sel >= l->top + rows)
		l->top = l->sel - rows + 1;
	/* Do not leave empty rows at the end when the list could fill them. */
	if (l->top > l->n - rows)
		l->top = l->n - rows;
	if (l->top < 0)
		l->top = 0;
}

int
ui_list_key(struct ui_list *l, wint_t ch, int is_key, int rows)
{
	int page = rows > 1 ? rows - 1 : 1;

	if (is_key) {
		switch (ch) {
		case KEY_DOWN:
			l->sel++;
			break;
		case KEY_UP:
			l->sel--;
			break;
		case KEY_NPAGE:
			l->sel += page;
			l->top += page;
			break;
		case KEY_PPAGE:
			l->sel -= page;
			l->top -= page;
			break;
		case KEY_HOME:
			l->sel = 0;
			break;
		case KEY_END:
			l->sel = l->n - 1;
			break;
		default:
			return 0;
		}
	} else {
		switch (ch) {
		case L'j':
			l->sel++;
			break;
		case L'k':
			l->sel--;
			break;
		case L'g':
			l->sel = 0;
			break;
		case L'G':
			l->sel = l->n - 1;
			break;
		case 6: /* Ctrl-F */
		case L' ':
			l->sel += page;
			l->top += page;
			break;
		case 2: /* Ctrl-B */
			l->sel -= page;
			l->top -= page;
			break;
		default:
			return 0;
		}
	}
	if (l->top < 0)
		l->top = 0;
	ui_list_fit(l, rows);
	return 1;
}
