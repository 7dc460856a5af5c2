/*
 * scope.c: the unit tree in memory, and who may touch which unit.
 *
 * A user's scope is their unit's subtree (DESIGN.md, "The people and the
 * places"). Push asks here, for every change, whether the unit a record
 * belongs to is inside the pusher's scope; pull asks whether a user's new
 * scope lies inside the one their cursor was made for. Both are walks up
 * the parent links, so the tree is kept in memory: a sorted array of
 * (id, parent) found by binary search, loaded by scope_load when serving
 * starts and again after a change to `units` is applied.
 *
 * Another process can change the units too (an operator command beside a
 * running server): scope_refresh compares SQLite's data_version, which
 * moves when another connection commits, and reloads the tree then.
 *
 * Which units may READ a change is not decided here but stored with the
 * change (change_scopes, written by store_log_change_tx in store.c), so a
 * pull is one index range and never walks the tree.
 */
#include <stdlib.h>
#include <string.h>

#include "gridkeepd.h"

/* The deepest tree walked: district, street, community, grid, with room. */
#define SCOPE_MAX_DEPTH 64

struct scope_unit {
	char id[GK_ID_LEN + 1];
	int parent; /* index in units[], -1 for a root or a missing parent */
};

struct gk_units {
	struct scope_unit *units; /* sorted by id */
	int n;
	int data_version; /* PRAGMA data_version when loaded */
};

static int
scope_cmp(const void *a, const void *b)
{
	return strcmp(((const struct scope_unit *)a)->id,
	              ((const struct scope_unit *)b)->id);
}

static int
scope_find(const struct gk_units *t, const char *id)
{
	struct scope_unit key, *hit;

	if (t == NULL || id == NULL || strlen(id) != GK_ID_LEN)
		return -1;
	memcpy(key.id, id, GK_ID_LEN + 1);
	hit =
	    bsearch(&key, t->units, (size_t)t->n, sizeof *t->units, scope_cmp);
	return hit != NULL ? (int)(hit - t->units) : -1;
}

static int
scope_data_version(struct gk_server *s, int *out, struct gk_error *err)
{
	sqlite3_stmt *st;

	if ((st = store_stmt(s, "PRAGMA data_version", err)) == NULL)
		return GK_E_DB;
	if (sqlite3_step(st) != SQLITE_ROW)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
	*out = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return GK_OK;
}

int
scope_load(struct gk_server *s, struct gk_error *err)
{
	struct gk_units *t = NULL;
	char(*parents)[GK_ID_LEN + 1] = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r, cap = 64, i;

	if ((rc = store_open_cache(s, err)) != GK_OK)
		return rc;
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->units = malloc((size_t)cap * sizeof *t->units)) == NULL ||
	    (parents = malloc((size_t)cap * sizeof *parents)) == NULL) {
		rc = gk_error_set(err, GK_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = scope_data_version(s, &t->data_version, err)) != GK_OK)
		goto out;
	if ((st = store_stmt(s, "SELECT id, parent FROM units ORDER BY id",
	                     err)) == NULL) {
		rc = GK_E_DB;
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *p = (const char *)sqlite3_column_text(st, 1);

		if (id == NULL || strlen(id) != GK_ID_LEN)
			continue;
		if (t->n == cap) {
			void *a, *b;
			cap *= 2;
			a = realloc(t->units, (size_t)cap * sizeof *t->units);
			if (a != NULL)
				t->units = a;
			b = realloc(parents, (size_t)cap * sizeof *parents);
			if (b != NULL)
				parents = b;
			if (a == NULL || b == NULL) {
				rc = gk_error_set(err, GK_E_NOMEM,
				                  "out of memory");
				goto out;
			}
		}
		memcpy(t->units[t->n].id, id, GK_ID_LEN + 1);
		if (p != NULL && strlen(p) == GK_ID_LEN)
			memcpy(parents[t->n], p, GK_ID_LEN + 1);
		else
			parents[t->n][0] = '\0';
		t->n++;
	}
	if (r != SQLITE_DONE) {
		rc = gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(s->db));
		goto out;
	}
	/* Rows came sorted by id, so the array is searchable already. */
	for (i = 0; i < t->n; i++)
		t->units[i].parent = scope_find(t, parents[i]);
	scope_free(s);
	s->units = t;
	t = NULL;
	rc = GK_OK;

out:
	if (st != NULL)
		sqlite3_reset(st);
	if (t != NULL)
		free(t->units);
	free(t);
	free(parents);
	return rc;
}

int
scope_refresh(struct gk_server *s, struct gk_error *err)
{
	int v, rc;

	if (s->units == NULL)
		return scope_load(s, err);
	if ((rc = scope_data_version(s, &v, err)) != GK_OK)
		return rc;
	return v == s->units->data_version ? GK_OK : scope_load(s, err);
}

void
scope_free(struct gk_server *s)
{
	if (s->units == NULL)
		return;
	free(s->units->units);
	free(s->units);
	s->units = NULL;
}

int
scope_contains(struct gk_server *s, const char *scope, const char *unit)
{
	const struct gk_units *t = s->units;
	int i = scope_find(t, unit), top = scope_find(t, scope);

	if (i < 0 || top < 0)
		return 0;
	/* Bounded: a cycle in a hand-edited file ends the walk too. */
	for (int d = 0; i >= 0 && d < SCOPE_MAX_DEPTH; d++) {
		if (i == top)
			return 1;
		i = t->units[i].parent;
	}
	return 0;
}
