/*
 * gen.c: see gen.h. Valid changes over every record kind, made on a
 * replica from what that replica sees.
 *
 * Every operation makes exactly one change. An operation that needs rows
 * the world does not have yet makes the first missing one instead (a stock
 * move with no depot makes a depot, a depot with no unit makes a unit), so
 * a run may start from an empty world with any mix.
 *
 * The values follow the rules of DESIGN.md even where the stateless
 * validator cannot see them: ledger signs, a count adjustment of counted
 * minus seen, a transfer_in that mirrors its transfer_out (made later,
 * perhaps on another replica), one earn per activity, a revoke that
 * reverses one earn once, a transition from the status the replica sees
 * (so two replicas that have not synced make conflicting transitions, as
 * people do), a plan on verified -> rectifying, a note on resolving and
 * reopening, a reason on rejecting.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

#define DAY_MS  86400000LL
#define HOUR_MS 3600000LL

const struct gen_mix gen_mix_converge = {{
    [GEN_UNIT] = 3,
    [GEN_USER] = 2,
    [GEN_ITEM] = 2,
    [GEN_DEPOT] = 2,
    [GEN_STANDARD] = 2,
    [GEN_VOLUNTEER] = 2,
    [GEN_NOTICE] = 2,
    [GEN_HAZARD] = 5,
    [GEN_EDIT] = 10,
    [GEN_HOT_EDIT] = 6,
    [GEN_DELETE] = 2,
    [GEN_UNDELETE] = 2,
    [GEN_HAZARD_EVENT] = 18,
    [GEN_INSPECTION] = 6,
    [GEN_STOCK_MOVE] = 16,
    [GEN_POINT_ENTRY] = 12,
    [GEN_NOTICE_ACK] = 4,
    [GEN_REPLENISH] = 3,
}};

/* Out of 10,000: about 100 items, 500 depots, 25,000 hazards and 150,000
 * hazard events per million changes. */
const struct gen_mix gen_mix_bench = {{
    [GEN_UNIT] = 10,
    [GEN_USER] = 10,
    [GEN_ITEM] = 1,
    [GEN_DEPOT] = 5,
    [GEN_STANDARD] = 20,
    [GEN_VOLUNTEER] = 30,
    [GEN_NOTICE] = 20,
    [GEN_HAZARD] = 250,
    [GEN_EDIT] = 500,
    [GEN_HOT_EDIT] = 50,
    [GEN_DELETE] = 20,
    [GEN_UNDELETE] = 10,
    [GEN_HAZARD_EVENT] = 1500,
    [GEN_INSPECTION] = 1200,
    [GEN_STOCK_MOVE] = 3800,
    [GEN_POINT_ENTRY] = 2000,
    [GEN_NOTICE_ACK] = 300,
    [GEN_REPLENISH] = 274,
}};

static const char *const op_names[GEN_OP_COUNT] = {
    [GEN_UNIT] = "unit",
    [GEN_USER] = "user",
    [GEN_ITEM] = "item",
    [GEN_DEPOT] = "depot",
    [GEN_STANDARD] = "standard",
    [GEN_VOLUNTEER] = "volunteer",
    [GEN_NOTICE] = "notice",
    [GEN_HAZARD] = "hazard",
    [GEN_EDIT] = "edit",
    [GEN_HOT_EDIT] = "hot_edit",
    [GEN_DELETE] = "delete",
    [GEN_UNDELETE] = "undelete",
    [GEN_HAZARD_EVENT] = "hazard_event",
    [GEN_INSPECTION] = "inspection",
    [GEN_STOCK_MOVE] = "stock_move",
    [GEN_POINT_ENTRY] = "point_entry",
    [GEN_NOTICE_ACK] = "notice_ack",
    [GEN_REPLENISH] = "replenish",
};

/* Words for free text: Chinese and English, all valid UTF-8. */
static const char *const gen_words[] = {
    "消防通道", "堆放",      "杂物",    "电动车", "楼道",  "充电",
    "燃气",     "泄漏",      "裂缝",    "积水",   "排查",  "已整改",
    "井盖",     "松动",      "广告牌",  "老旧",   "线路",  "护栏",
    "破损",     "第三单元",  "二楼",    "check",  "ok",    "gas",
    "leak",     "stairwell", "blocked", "drain",  "loose", "wiring",
};
#define NWORDS (sizeof gen_words / sizeof gen_words[0])

static const char *const gen_item_names[] = {
    "饮用水", "方便面", "手电筒", "雨衣", "沙袋",   "急救包",
    "灭火器", "救生衣", "帐篷",   "棉被", "应急灯", "口罩",
};
static const char *const gen_uoms[] = {"瓶", "箱", "个", "件", "袋", "顶"};

__attribute__((noreturn, format(printf, 1, 2))) static void
gen_die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void *
gen_grow(void *p, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *np = realloc(p, ncap * size);

	if (np == NULL)
		gen_die("out of memory");
	*cap = ncap;
	return np;
}

const char *
gen_op_name(enum gen_op op)
{
	return (unsigned)op < GEN_OP_COUNT ? op_names[op] : "unknown";
}

/* ---- randomness ---------------------------------------------------------- */

static uint64_t
gen_below(struct gen_world *w, uint64_t n)
{
	return gk_testenv_below(w->t, n);
}

/* An integer in [lo, hi]. */
static int64_t
gen_range(struct gen_world *w, int64_t lo, int64_t hi)
{
	return lo + (int64_t)gen_below(w, (uint64_t)(hi - lo) + 1);
}

static int
gen_chance(struct gen_world *w, unsigned percent)
{
	return gen_below(w, 100) < percent;
}

/* ---- the world ----------------------------------------------------------- */

void
gen_world_init(struct gen_world *w, struct gk_testenv *t)
{
	memset(w, 0, sizeof *w);
	w->t = t;
	validate_policy_default(&w->policy);
	w->actor.role = GK_ROLE_ADMIN;
	w->actor.user_id = NULL;
}

void
gen_world_free(struct gen_world *w)
{
	for (int k = 0; k < GEN_K_COUNT; k++)
		free(w->rows[k].v);
	free(w->earns);
	free(w->transfers);
	memset(w, 0, sizeof *w);
}

static struct gen_row *
gen_remember(struct gen_world *w, enum gen_kind k, const char *id, int aux)
{
	struct gen_rows *rs = &w->rows[k];
	struct gen_row *row;

	if (rs->n == rs->cap)
		rs->v = gen_grow(rs->v, &rs->cap, sizeof *rs->v);
	row = &rs->v[rs->n++];
	memcpy(row->id, id, GK_ID_LEN + 1);
	row->aux = aux;
	return row;
}

/*
 * A known row of kind k, or NULL if there is none. With recent > 0, seven
 * times in ten one of the last `recent` rows: work clusters on what was
 * made lately, so a hazard's workflow moves on while it is fresh.
 */
static struct gen_row *
gen_pick(struct gen_world *w, enum gen_kind k, size_t recent)
{
	struct gen_rows *rs = &w->rows[k];

	if (rs->n == 0)
		return NULL;
	if (recent > 0 && rs->n > recent && gen_chance(w, 70))
		return &rs->v[rs->n - 1 - gen_below(w, recent)];
	return &rs->v[gen_below(w, rs->n)];
}

/* ---- replicas ------------------------------------------------------------ */

static int64_t
gen_env_now(void *arg)
{
	return gen_replica_wall(arg);
}

static void
gen_env_random(void *arg, void *buf, size_t len)
{
	struct gen_replica *r = arg;
	struct gk_env tenv = gk_testenv_env(r->w->t);

	tenv.random(tenv.arg, buf, len);
}

int64_t
gen_replica_wall(const struct gen_replica *r)
{
	return r->w->t->now + r->offset;
}

int
gen_replica_init(struct gen_replica *r, struct gen_world *w, sqlite3 *db,
                 int64_t offset, struct gk_error *err)
{
	static const char status_sql[] =
	    "SELECT status FROM hazards WHERE id=?1";
	static const char stock_sql[] =
	    "SELECT coalesce(sum(quantity), 0) FROM stock_moves"
	    " WHERE depot=?1 AND item=?2";

	memset(r, 0, sizeof *r);
	r->w = w;
	r->db = db;
	r->offset = offset;
	r->env.now_ms = gen_env_now;
	r->env.random = gen_env_random;
	r->env.arg = r;
	r->node = node_new(&r->env);
	uuid_v7(&r->env, r->user);
	if (db == NULL)
		return GK_OK;
	if ((r->merge = merge_new(db, err)) == NULL)
		return err != NULL ? err->code : GK_E_DB;
	if (sqlite3_prepare_v2(db, status_sql, -1, &r->status, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, stock_sql, -1, &r->stock, NULL) !=
	        SQLITE_OK) {
		gk_error_set(err, GK_E_DB, "gen: %s", sqlite3_errmsg(db));
		gen_replica_free(r);
		return GK_E_DB;
	}
	return GK_OK;
}

void
gen_replica_free(struct gen_replica *r)
{
	sqlite3_finalize(r->status);
	sqlite3_finalize(r->stock);
	merge_free(r->merge);
	r->status = r->stock = NULL;
	r->merge = NULL;
}

/* The status of hazard h as r sees it: its own database's, or the world's
 * when r has none or has not heard of the hazard yet. */
static enum gk_hstatus
gen_seen_status(struct gen_replica *r, const struct gen_row *h)
{
	enum gk_hstatus s = (enum gk_hstatus)h->aux;

	if (r->db == NULL)
		return s;
	sqlite3_bind_text(r->status, 1, h->id, -1, SQLITE_STATIC);
	if (sqlite3_step(r->status) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(r->status, 0);
		if (t == NULL || hazard_status_parse(t, &s) != GK_OK)
			gen_die("hazard %s has status %s", h->id,
			        t ? t : "NULL");
	}
	sqlite3_reset(r->status);
	return s;
}

/* The stock on hand that a counter at r sees. */
static int64_t
gen_seen_stock(struct gen_replica *r, const char *depot, const char *item)
{
	int64_t v;

	if (r->db == NULL)
		return gen_range(r->w, -20, 500);
	sqlite3_bind_text(r->stock, 1, depot, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->stock, 2, item, -1, SQLITE_STATIC);
	if (sqlite3_step(r->stock) != SQLITE_ROW)
		gen_die("stock view: %s", sqlite3_errmsg(r->db));
	v = sqlite3_column_int64(r->stock, 0);
	sqlite3_reset(r->stock);
	return v;
}

/* ---- building a change --------------------------------------------------- */

static void
gen_begin(struct gen_replica *r, struct gk_change *c, const char *table,
          enum gk_op op, const char *row)
{
	memset(c, 0, sizeof *c);
	uuid_v7(&r->env, c->id);
	c->node = r->node;
	if ((c->table = record_table(table)) == NULL)
		gen_die("no table %s", table);
	c->op = op;
	if (row != NULL)
		memcpy(c->row, row, GK_ID_LEN + 1);
	else
		uuid_v7(&r->env, c->row);
	memcpy(c->author, r->user, GK_ID_LEN + 1);
	if ((c->fields = json_object()) == NULL)
		gen_die("out of memory");
}

static void
set_new(struct gk_change *c, const char *name, json_t *v)
{
	if (v == NULL || json_object_set_new(c->fields, name, v) != 0)
		gen_die("out of memory setting %s", name);
}

static void
set_str(struct gk_change *c, const char *name, const char *s)
{
	set_new(c, name, json_string(s));
}

static void
set_int(struct gk_change *c, const char *name, int64_t v)
{
	set_new(c, name, json_integer((json_int_t)v));
}

static void
set_time(struct gk_change *c, const char *name, int64_t ms)
{
	char t[32];

	text_time_format(ms, t);
	set_str(c, name, t);
}

static void
set_date(struct gk_change *c, const char *name, int64_t ms)
{
	char t[32];

	text_time_format(ms, t);
	t[10] = '\0';
	set_str(c, name, t);
}

/* Free text of 1 to `words` words, at most max bytes. */
static void
gen_text(struct gen_world *w, char *out, size_t max, int words, int multiline)
{
	size_t n = 0;
	int want = (int)gen_range(w, 1, words);

	out[0] = '\0';
	for (int i = 0; i < want; i++) {
		const char *word = gen_words[gen_below(w, NWORDS)];
		size_t k = strlen(word);
		const char *sep = i == 0                           ? ""
		                  : multiline && gen_chance(w, 15) ? "\n"
		                                                   : " ";

		if (n + strlen(sep) + k > max)
			break;
		n += (size_t)snprintf(out + n, max + 1 - n, "%s%s", sep, word);
	}
	if (n == 0) /* max below every word: a short token instead */
		snprintf(out, max + 1, "x%u", (unsigned)gen_below(w, 100));
}

static void
set_text(struct gen_world *w, struct gk_change *c, const char *name, size_t max,
         int words, int multiline)
{
	char buf[512];

	if (max > sizeof buf - 1)
		max = sizeof buf - 1;
	gen_text(w, buf, max, words, multiline);
	set_str(c, name, buf);
}

/*
 * Stamp the change with r's clock, check it as the server would for an
 * admin, and apply it on r. A change the validator refuses, or the merge
 * cannot apply, is a bug in the generator or in sync/: stop there.
 */
static void
gen_finish(struct gen_replica *r, struct gk_change *c)
{
	struct gk_error err = {0};
	char *json;

	c->hlc = hlc_now(&r->hlc, gen_replica_wall(r));
	if (validate_change(c, &r->w->actor, &r->w->policy, &err) != GK_OK) {
		json = change_encode(c);
		gen_die(
		    "validate_change refused a generated change: %s: %s\n%s",
		    gk_code_name(err.code), err.msg, json ? json : "?");
	}
	if (r->db != NULL &&
	    merge_apply_batch(r->merge, c, 1, NULL, &err) != GK_OK) {
		json = change_encode(c);
		gen_die("merge refused a generated change: %s: %s\n%s",
		        gk_code_name(err.code), err.msg, json ? json : "?");
	}
}

/* ---- field values for mutable records ------------------------------------ */

/* Which kind of row an id field names. */
static int
gen_id_kind(const char *field)
{
	static const struct {
		const char *name;
		enum gen_kind kind;
	} map[] = {
	    {"parent", GEN_K_UNIT},   {"unit", GEN_K_UNIT},
	    {"upstream", GEN_K_UNIT}, {"grid", GEN_K_GRID},
	    {"depot", GEN_K_DEPOT},   {"item", GEN_K_ITEM},
	    {"hazard", GEN_K_HAZARD}, {"volunteer", GEN_K_VOLUNTEER},
	    {"notice", GEN_K_NOTICE}, {"counterpart", GEN_K_DEPOT},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(field, map[i].name) == 0)
			return (int)map[i].kind;
	return -1;
}

/* A row id for field: a known row of its kind other than `self` (a unit is
 * not its own parent), else a fresh id. */
static void
gen_ref(struct gen_replica *r, const char *field, const char *self,
        char out[GK_ID_LEN + 1])
{
	int k = gen_id_kind(field);
	struct gen_row *row = NULL;

	for (int tries = 0; k >= 0 && tries < 4; tries++) {
		row = gen_pick(r->w, (enum gen_kind)k, 0);
		if (row == NULL || strcmp(row->id, self) != 0)
			break;
		row = NULL;
	}
	if (row != NULL)
		memcpy(out, row->id, GK_ID_LEN + 1);
	else
		uuid_v7(&r->env, out);
}

/*
 * Set field f of a mutable record to a fresh value, any value its type
 * allows with a plausible meaning. Used for inserts and edits alike, so a
 * field added to record.c is generated without touching this file.
 */
static void
gen_field(struct gen_replica *r, struct gk_change *c, const struct gk_field *f)
{
	struct gen_world *w = r->w;
	int64_t wall = gen_replica_wall(r);
	char buf[64], id[GK_ID_LEN + 1];
	json_t *list;
	int n;

	switch (f->type) {
	case GK_F_TEXT:
		if (strcmp(f->name, "username") == 0 ||
		    strcmp(f->name, "code") == 0) {
			snprintf(buf, sizeof buf, "%c%llu", f->name[0],
			         (unsigned long long)++w->serial);
			set_str(c, f->name, buf);
		} else if (strcmp(f->name, "contact") == 0) {
			snprintf(buf, sizeof buf, "138%08u",
			         (unsigned)gen_below(w, 100000000));
			set_str(c, f->name, buf);
		} else if (strcmp(f->name, "uom") == 0) {
			set_str(c, f->name,
			        gen_uoms[gen_below(w, sizeof gen_uoms /
			                                  sizeof gen_uoms[0])]);
		} else {
			set_text(w, c, f->name, (size_t)f->max,
			         (f->flags & GK_MULTILINE) ? 24 : 6,
			         (f->flags & GK_MULTILINE) != 0);
		}
		break;
	case GK_F_INT: {
		int64_t hi = f->max - f->min > 1000 ? f->min + 1000 : f->max;
		set_int(c, f->name, gen_range(w, f->min, hi));
		break;
	}
	case GK_F_REAL: {
		double base = strcmp(f->name, "lon") == 0 ? 114.0 : 30.0;
		if (base > f->max || base + 1 < f->min)
			base = (double)f->min;
		set_new(c, f->name,
		        json_real(base + (double)gen_below(w, 1000000) / 1e6));
		break;
	}
	case GK_F_BOOL:
		set_new(c, f->name, json_boolean(!gen_chance(w, 20)));
		break;
	case GK_F_ID:
		gen_ref(r, f->name, c->row, id);
		set_str(c, f->name, id);
		break;
	case GK_F_ENUM:
		for (n = 0; f->words[n] != NULL; n++)
			;
		set_str(c, f->name, f->words[gen_below(w, (uint64_t)n)]);
		break;
	case GK_F_TIME:
		if (strcmp(f->name, "expires_at") == 0)
			set_time(c, f->name,
			         wall + gen_range(w, 1, 10) * DAY_MS);
		else
			set_time(c, f->name,
			         wall - gen_range(w, 0, 3 * DAY_MS));
		break;
	case GK_F_DATE:
		set_date(c, f->name, wall + gen_range(w, -30, 365) * DAY_MS);
		break;
	case GK_F_IDLIST:
		if ((list = json_array()) == NULL)
			gen_die("out of memory");
		n = (int)gen_range(w, 1, f->max < 4 ? f->max : 4);
		for (int i = 0; i < n; i++) {
			gen_ref(r,
			        strcmp(f->name, "targets") == 0 ? "unit"
			                                        : "hazard",
			        c->row, id);
			json_array_append_new(list, json_string(id));
		}
		set_new(c, f->name, list);
		break;
	}
}

/* ---- inserts of mutable records ------------------------------------------ */

static const char *const gen_unit_levels[] = {"district", "street", "community",
                                              "grid"};

/*
 * A unit under a known non-grid unit (a district when there is none).
 * want_grid: under the deepest level there is, so that grids appear within
 * four calls of an empty world.
 */
static void
gen_unit(struct gen_replica *r, struct gk_change *c, int want_grid)
{
	struct gen_world *w = r->w;
	struct gen_rows *units = &w->rows[GEN_K_UNIT];
	struct gen_row *parent = NULL;
	char name[64];
	int level = 0, deepest = -1;

	for (size_t i = 0; i < units->n; i++)
		if (units->v[i].aux < 3 && units->v[i].aux > deepest)
			deepest = units->v[i].aux;
	if (deepest >= 0) {
		for (int tries = 0; tries < 64; tries++) {
			struct gen_row *u = gen_pick(w, GEN_K_UNIT, 0);
			if (u->aux < 3 && (!want_grid || u->aux == deepest)) {
				parent = u;
				break;
			}
		}
		if (parent == NULL) /* unlucky: take the first that fits */
			for (size_t i = 0; parent == NULL && i < units->n; i++)
				if (units->v[i].aux == deepest)
					parent = &units->v[i];
		level = parent->aux + 1;
	}
	gen_begin(r, c, "units", GK_OP_INSERT, NULL);
	if (parent != NULL)
		set_str(c, "parent", parent->id);
	set_str(c, "level", gen_unit_levels[level]);
	snprintf(name, sizeof name, "%s %llu",
	         (const char *[]){"区", "街道", "社区", "网格"}[level],
	         (unsigned long long)++w->serial);
	set_str(c, "name", name);
	if (gen_chance(w, 60)) {
		snprintf(name, sizeof name, "U%llu",
		         (unsigned long long)w->serial);
		set_str(c, "code", name);
	}
	if (level == 3 || gen_chance(w, 30))
		set_int(c, "households", gen_range(w, 50, 3000));
	gen_finish(r, c);
	gen_remember(w, GEN_K_UNIT, c->row, level);
	if (level == 3)
		gen_remember(w, GEN_K_GRID, c->row, level);
}

/*
 * Insert a row of a mutable table from its model: every required field,
 * each optional one six times in ten, never "deleted". Ids come from known
 * rows, so the caller makes sure the kinds they name exist.
 */
static void
gen_insert(struct gen_replica *r, struct gk_change *c, enum gen_kind k)
{
	const struct gk_table *const *tables;
	const struct gk_table *t;
	int n, aux = 0;

	tables = record_tables(&n);
	t = tables[k];
	gen_begin(r, c, t->name, GK_OP_INSERT, NULL);
	for (int i = 0; i < t->nfields; i++) {
		const struct gk_field *f = &t->fields[i];
		if (strcmp(f->name, "deleted") == 0)
			continue;
		if ((f->flags & GK_REQ) || gen_chance(r->w, 60))
			gen_field(r, c, f);
	}
	if (k == GEN_K_ITEM) {
		char name[64];
		snprintf(name, sizeof name, "%s",
		         gen_item_names[gen_below(
		             r->w, sizeof gen_item_names /
		                       sizeof gen_item_names[0])]);
		set_str(c, "name", name);
		aux = json_object_get(c->fields, "shelf_life_days") != NULL;
	}
	gen_finish(r, c);
	gen_remember(r->w, k, c->row, k == GEN_K_HAZARD ? GK_HS_NEW : aux);
}

/* ---- edits, deletes ------------------------------------------------------ */

/* A known mutable row, its kind in *k; NULL if none at all. */
static struct gen_row *
gen_pick_mutable(struct gen_world *w, enum gen_kind *k)
{
	int have[GEN_MUTABLE_KINDS], n = 0;

	for (int i = 0; i < GEN_MUTABLE_KINDS; i++)
		if (w->rows[i].n > 0)
			have[n++] = i;
	if (n == 0)
		return NULL;
	*k = (enum gen_kind)have[gen_below(w, (uint64_t)n)];
	return gen_pick(w, *k, 0);
}

/* Update 1-3 random fields (never "deleted") of a known row. */
static enum gen_op
gen_edit(struct gen_replica *r, struct gk_change *c)
{
	const struct gk_table *const *tables;
	const struct gk_table *t;
	struct gen_row *row;
	enum gen_kind k;
	int n, want;

	if ((row = gen_pick_mutable(r->w, &k)) == NULL)
		return gen_op_change(r, GEN_UNIT, c);
	tables = record_tables(&n);
	t = tables[k];
	gen_begin(r, c, t->name, GK_OP_UPDATE, row->id);
	want = (int)gen_range(r->w, 1, 3);
	for (int i = 0; i < want; i++) {
		const struct gk_field *f =
		    &t->fields[gen_below(r->w, (uint64_t)t->nfields)];
		if (strcmp(f->name, "deleted") == 0)
			continue;
		if (!(f->flags & GK_REQ) && gen_chance(r->w, 10))
			set_new(c, f->name, json_null()); /* cleared */
		else
			gen_field(r, c, f);
	}
	if (json_object_size(c->fields) == 0)
		gen_field(r, c, &t->fields[0]);
	gen_finish(r, c);
	return GEN_EDIT;
}

/*
 * Edit one of the first two fields of one of the first three rows of a
 * kind: a handful of (row, field) pairs that every replica keeps changing,
 * so that edits of the same field cross in flight.
 */
static enum gen_op
gen_hot_edit(struct gen_replica *r, struct gk_change *c)
{
	static const enum gen_kind hot[] = {GEN_K_HAZARD, GEN_K_DEPOT,
	                                    GEN_K_VOLUNTEER, GEN_K_ITEM};
	const struct gk_table *const *tables;
	const struct gk_table *t;
	struct gen_rows *rs;
	enum gen_kind k = hot[gen_below(r->w, sizeof hot / sizeof hot[0])];
	int n;

	rs = &r->w->rows[k];
	if (rs->n == 0)
		return gen_edit(r, c);
	tables = record_tables(&n);
	t = tables[k];
	gen_begin(r, c, t->name, GK_OP_UPDATE,
	          rs->v[gen_below(r->w, rs->n < 3 ? rs->n : 3)].id);
	gen_field(r, c, &t->fields[gen_below(r->w, 2)]);
	gen_finish(r, c);
	return GEN_HOT_EDIT;
}

static enum gen_op
gen_delete(struct gen_replica *r, struct gk_change *c, int undelete)
{
	const struct gk_table *const *tables;
	struct gen_row *row;
	enum gen_kind k;
	int n;

	if ((row = gen_pick_mutable(r->w, &k)) == NULL)
		return gen_op_change(r, GEN_UNIT, c);
	tables = record_tables(&n);
	gen_begin(r, c, tables[k]->name, undelete ? GK_OP_UPDATE : GK_OP_DELETE,
	          row->id);
	if (undelete)
		set_new(c, "deleted", json_false());
	gen_finish(r, c);
	return undelete ? GEN_UNDELETE : GEN_DELETE;
}

/* ---- append-only records ------------------------------------------------- */

/* The next status a person would move a hazard to from s; -1 for none. */
static int
gen_next_status(struct gen_world *w, enum gk_hstatus s)
{
	unsigned p = (unsigned)gen_below(w, 100);

	switch (s) {
	case GK_HS_NEW:
		return p < 90 ? GK_HS_REPORTED : GK_HS_RESOLVED;
	case GK_HS_REPORTED:
		return p < 75 ? GK_HS_VERIFIED : GK_HS_REJECTED;
	case GK_HS_VERIFIED:
		return p < 85 ? GK_HS_RECTIFYING : GK_HS_REJECTED;
	case GK_HS_RECTIFYING:
		return GK_HS_RESOLVED;
	case GK_HS_RESOLVED:
		return p < 80 ? GK_HS_CLOSED : GK_HS_RECTIFYING;
	case GK_HS_CLOSED:
		return p < 15 ? GK_HS_RECTIFYING : -1;
	default:
		return -1;
	}
}

static void
gen_plan(struct gen_replica *r, struct gk_change *c)
{
	struct gen_world *w = r->w;
	char who[64];

	set_text(w, c, "plan_measures", 2000, 12, 1);
	snprintf(who, sizeof who, "负责人 %u", (unsigned)gen_below(w, 1000));
	set_str(c, "plan_responsible", who);
	/* Some deadlines already past: overdue hazards to show. */
	set_time(c, "plan_deadline",
	         gen_replica_wall(r) + gen_range(w, -3 * DAY_MS, 20 * DAY_MS));
	snprintf(who, sizeof who, "验收人 %u", (unsigned)gen_below(w, 1000));
	set_str(c, "plan_acceptor", who);
}

static enum gen_op
gen_hazard_event(struct gen_replica *r, struct gk_change *c)
{
	struct gen_world *w = r->w;
	struct gen_row *h = gen_pick(w, GEN_K_HAZARD, 64), *dup;
	enum gk_hstatus s;
	unsigned p;
	int to;

	if (h == NULL)
		return gen_op_change(r, GEN_HAZARD, c);
	s = gen_seen_status(r, h);
	p = (unsigned)gen_below(w, 100);
	to = gen_next_status(w, s);
	gen_begin(r, c, "hazard_events", GK_OP_APPEND, NULL);
	set_str(c, "hazard", h->id);
	set_time(c, "occurred_at",
	         gen_replica_wall(r) - gen_range(w, 0, 2 * HOUR_MS));
	if (p < 12 && (s == GK_HS_VERIFIED || s == GK_HS_RECTIFYING)) {
		set_str(c, "kind", "plan");
		gen_plan(r, c);
	} else if (p < 30 || to < 0) {
		set_str(c, "kind", "note");
		set_text(w, c, "note", 2000, 16, 1);
	} else {
		set_str(c, "kind", "transition");
		set_str(c, "from_status", hazard_status_name(s));
		set_str(c, "to_status",
		        hazard_status_name((enum gk_hstatus)to));
		if (to == GK_HS_RECTIFYING && s == GK_HS_VERIFIED)
			gen_plan(r, c);
		if (to == GK_HS_REJECTED) {
			dup = gen_pick(w, GEN_K_HAZARD, 0);
			if (dup != h && gen_chance(w, 50)) {
				set_str(c, "reject_reason", "duplicate");
				set_str(c, "duplicate_of", dup->id);
			} else {
				set_str(c, "reject_reason", "invalid");
			}
		}
		if (to == GK_HS_RESOLVED || to == GK_HS_REJECTED ||
		    (to == GK_HS_RECTIFYING && s != GK_HS_VERIFIED) ||
		    gen_chance(w, 50))
			set_text(w, c, "note", 2000, 16, 1);
		h->aux = to;
	}
	gen_finish(r, c);
	return GEN_HAZARD_EVENT;
}

static enum gen_op
gen_inspection(struct gen_replica *r, struct gk_change *c)
{
	static const char *const checks[] = {
	    "消防通道", "燃气管道", "电动车充电", "井盖", "广告牌", "排水沟"};
	struct gen_world *w = r->w;
	struct gen_row *grid = gen_pick(w, GEN_K_GRID, 0);
	int64_t start =
	    gen_replica_wall(r) - gen_range(w, HOUR_MS, 8 * HOUR_MS);
	char list[512];
	size_t n = 0;
	json_t *found;

	if (grid == NULL)
		return gen_op_change(r, GEN_UNIT, c);
	gen_begin(r, c, "inspections", GK_OP_APPEND, NULL);
	set_str(c, "grid", grid->id);
	set_time(c, "occurred_at", start);
	set_time(c, "ended_at", start + gen_range(w, 10 * 60000, 3 * HOUR_MS));
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		if (gen_chance(w, 60))
			n += (size_t)snprintf(
			    list + n, sizeof list - n, "%s%s: %s",
			    n ? "\n" : "", checks[i],
			    gen_chance(w, 85) ? "ok" : "问题");
	if (n > 0)
		set_str(c, "checklist", list);
	if (gen_chance(w, 50))
		set_text(w, c, "notes", 2000, 12, 1);
	set_int(c, "places_visited", gen_range(w, 0, 40));
	if (w->rows[GEN_K_HAZARD].n > 0 && gen_chance(w, 25)) {
		if ((found = json_array()) == NULL)
			gen_die("out of memory");
		for (int i = (int)gen_range(w, 1, 3); i > 0; i--)
			json_array_append_new(
			    found,
			    json_string(gen_pick(w, GEN_K_HAZARD, 64)->id));
		set_new(c, "hazards_found", found);
	}
	gen_finish(r, c);
	return GEN_INSPECTION;
}

static void
gen_forget_transfer(struct gen_world *w, size_t i)
{
	w->transfers[i] = w->transfers[--w->ntransfers];
}

static enum gen_op
gen_stock_move(struct gen_replica *r, struct gk_change *c)
{
	static const char *const sources[] = {"upstream", "donation",
	                                      "purchase", "opening"};
	static const char *const purposes[] = {"distribution", "incident",
	                                       "drill"};
	static const char *const reasons[] = {"expired", "damaged", "lost",
	                                      "stolen", "other"};
	struct gen_world *w = r->w;
	struct gen_row *depot = gen_pick(w, GEN_K_DEPOT, 0);
	struct gen_row *item = gen_pick(w, GEN_K_ITEM, 0), *other, *req;
	int64_t wall = gen_replica_wall(r), seen, counted;
	struct gen_transfer *tr;
	unsigned p = (unsigned)gen_below(w, 100);
	char lot[32];

	if (w->rows[GEN_K_DEPOT].n < 2)
		return gen_op_change(r, GEN_DEPOT, c);
	if (item == NULL)
		return gen_op_change(r, GEN_ITEM, c);
	gen_begin(r, c, "stock_moves", GK_OP_APPEND, NULL);
	set_time(c, "occurred_at", wall - gen_range(w, 0, 4 * HOUR_MS));
	if (p < 12 && w->ntransfers > 0) {
		/* The other half of a transfer, perhaps long after and
		 * perhaps on another replica than the one that sent it. */
		size_t i = gen_below(w, w->ntransfers);
		tr = &w->transfers[i];
		set_str(c, "depot", tr->to);
		set_str(c, "item", tr->item);
		set_str(c, "kind", "transfer_in");
		set_int(c, "quantity", tr->quantity);
		set_str(c, "transfer_id", tr->transfer);
		set_str(c, "counterpart", tr->from);
		if (tr->request[0] != '\0')
			set_str(c, "request_id", tr->request);
		gen_forget_transfer(w, i);
		gen_finish(r, c);
		return GEN_STOCK_MOVE;
	}
	set_str(c, "depot", depot->id);
	set_str(c, "item", item->id);
	if (p < 30) {
		set_str(c, "kind", "receive");
		set_int(c, "quantity", gen_range(w, 1, 500));
		set_str(c, "source", sources[gen_below(w, 4)]);
		if (item->aux || gen_chance(w, 20)) {
			snprintf(lot, sizeof lot, "L%llu",
			         (unsigned long long)++w->serial);
			set_str(c, "lot", lot);
			set_date(c, "expiry",
			         wall + gen_range(w, -10, 400) * DAY_MS);
		}
	} else if (p < 60) {
		set_str(c, "kind", "issue");
		set_int(c, "quantity", -gen_range(w, 1, 60));
		set_str(c, "purpose", purposes[gen_below(w, 3)]);
		if (gen_chance(w, 70))
			set_text(w, c, "recipient", 200, 4, 0);
	} else if (p < 75) {
		do
			other = gen_pick(w, GEN_K_DEPOT, 0);
		while (other == depot);
		if (w->ntransfers == w->transfercap)
			w->transfers = gen_grow(w->transfers, &w->transfercap,
			                        sizeof *w->transfers);
		tr = &w->transfers[w->ntransfers++];
		uuid_v7(&r->env, tr->transfer);
		memcpy(tr->from, depot->id, GK_ID_LEN + 1);
		memcpy(tr->to, other->id, GK_ID_LEN + 1);
		memcpy(tr->item, item->id, GK_ID_LEN + 1);
		tr->quantity = gen_range(w, 1, 100);
		tr->request[0] = '\0';
		req = gen_pick(w, GEN_K_REQUEST, 32);
		if (req != NULL && gen_chance(w, 30))
			memcpy(tr->request, req->id, GK_ID_LEN + 1);
		set_str(c, "kind", "transfer_out");
		set_int(c, "quantity", -tr->quantity);
		set_str(c, "transfer_id", tr->transfer);
		set_str(c, "counterpart", tr->to);
		if (tr->request[0] != '\0')
			set_str(c, "request_id", tr->request);
	} else if (p < 90) {
		/* A count: what was counted against what the counter's
		 * replica said was there; the difference is the move. */
		seen = gen_seen_stock(r, depot->id, item->id);
		counted = seen + gen_range(w, -12, 8);
		if (counted < 0)
			counted = gen_range(w, 0, 5);
		set_str(c, "kind", "count_adjust");
		set_int(c, "quantity", counted - seen);
		set_int(c, "counted", counted);
		set_int(c, "seen_on_hand", seen);
	} else {
		const char *why = reasons[gen_below(w, 5)];
		set_str(c, "kind", "dispose");
		set_int(c, "quantity", -gen_range(w, 1, 20));
		set_str(c, "dispose_reason", why);
		if (strcmp(why, "other") == 0 || gen_chance(w, 30))
			set_text(w, c, "note", 1000, 8, 1);
	}
	gen_finish(r, c);
	return GEN_STOCK_MOVE;
}

/* An earn entry not yet revoked, or NULL; a few tries are enough. */
static struct gen_earn *
gen_pick_earn(struct gen_world *w)
{
	for (int tries = 0; w->nearns > 0 && tries < 8; tries++) {
		struct gen_earn *e = &w->earns[gen_below(w, w->nearns)];
		if (!e->revoked)
			return e;
	}
	return NULL;
}

static enum gen_op
gen_point_entry(struct gen_replica *r, struct gk_change *c)
{
	struct gen_world *w = r->w;
	struct gen_row *vol = gen_pick(w, GEN_K_VOLUNTEER, 0);
	struct gen_earn *e = NULL;
	unsigned p = (unsigned)gen_below(w, 100);
	int minutes;

	if (vol == NULL)
		return gen_op_change(r, GEN_VOLUNTEER, c);
	if (p >= 85 && p < 90 && (e = gen_pick_earn(w)) == NULL)
		p = 30; /* nothing to revoke: an earn instead */
	gen_begin(r, c, "point_entries", GK_OP_APPEND, NULL);
	set_time(c, "occurred_at",
	         gen_replica_wall(r) - gen_range(w, 0, 6 * HOUR_MS));
	if (e != NULL) {
		/* A complaint sets the activity to 0: reverse it exactly. */
		set_str(c, "volunteer", e->volunteer);
		set_str(c, "kind", "revoke");
		set_int(c, "points", -e->points);
		set_int(c, "minutes", -e->minutes);
		set_str(c, "activity", e->activity);
		set_str(c, "ref_entry", e->id);
		set_text(w, c, "reason", 500, 6, 0);
		e->revoked = 1;
		gen_finish(r, c);
		return GEN_POINT_ENTRY;
	}
	set_str(c, "volunteer", vol->id);
	if (p < 10) {
		set_str(c, "kind", "grant");
		set_int(c, "points", gen_range(w, 10, 100));
		set_text(w, c, "reason", 500, 4, 0);
	} else if (p < 50) {
		/* Hours served, points by the policy's rate and cap: an
		 * activity over the cap earns the cap, one under an hour
		 * may earn nothing (and is then never revoked). */
		if (w->nearns == w->earncap)
			w->earns =
			    gen_grow(w->earns, &w->earncap, sizeof *w->earns);
		e = &w->earns[w->nearns++];
		memcpy(e->id, c->row, GK_ID_LEN + 1);
		memcpy(e->volunteer, vol->id, GK_ID_LEN + 1);
		snprintf(e->activity, sizeof e->activity, "act-%llu",
		         (unsigned long long)++w->serial);
		minutes = 15 * (int)gen_range(w, 2, 12);
		e->minutes = minutes;
		e->points = (minutes < w->policy.earn_cap_minutes
		                 ? minutes
		                 : w->policy.earn_cap_minutes) *
		            w->policy.earn_points_per_hour / 60;
		e->revoked = e->points == 0;
		set_str(c, "kind", "earn");
		set_int(c, "points", e->points);
		set_int(c, "minutes", e->minutes);
		set_str(c, "activity", e->activity);
	} else if (p < 60) {
		set_str(c, "kind", "bonus");
		set_int(c, "points", gen_range(w, 1, 10));
		set_text(w, c, "reason", 500, 4, 0);
	} else if (p < 85) {
		set_str(c, "kind", "redeem");
		set_int(c, "points", -gen_range(w, 1, 30));
		set_text(w, c, "reason", 500, 4, 0);
	} else if (p < 95) {
		set_str(c, "kind", "expire");
		set_int(c, "points", -gen_range(w, 1, 20));
	} else {
		set_str(c, "kind", "correction");
		set_int(c, "points",
		        gen_chance(w, 50) ? gen_range(w, 1, 10)
		                          : -gen_range(w, 1, 10));
		set_text(w, c, "reason", 500, 4, 0);
	}
	gen_finish(r, c);
	return GEN_POINT_ENTRY;
}

static enum gen_op
gen_notice_ack(struct gen_replica *r, struct gk_change *c)
{
	struct gen_world *w = r->w;
	struct gen_row *notice = gen_pick(w, GEN_K_NOTICE, 16);
	int64_t total;

	if (notice == NULL)
		return gen_op_change(r, GEN_NOTICE, c);
	gen_begin(r, c, "notice_acks", GK_OP_APPEND, NULL);
	set_str(c, "notice", notice->id);
	if (gen_chance(w, 40)) {
		total = gen_range(w, 20, 600);
		set_int(c, "households_told", gen_range(w, 0, total));
		set_int(c, "households_total", total);
	}
	if (gen_chance(w, 30))
		set_text(w, c, "note", 500, 6, 0);
	set_time(c, "occurred_at",
	         gen_replica_wall(r) - gen_range(w, 0, HOUR_MS));
	gen_finish(r, c);
	return GEN_NOTICE_ACK;
}

static enum gen_op
gen_replenish(struct gen_replica *r, struct gk_change *c)
{
	struct gen_world *w = r->w;
	struct gen_row *depot = gen_pick(w, GEN_K_DEPOT, 0);
	struct gen_row *item = gen_pick(w, GEN_K_ITEM, 0), *up = NULL, *parent;

	if (depot == NULL)
		return gen_op_change(r, GEN_DEPOT, c);
	if (item == NULL)
		return gen_op_change(r, GEN_ITEM, c);
	/* Up the chain: a street or the district. */
	for (int tries = 0; tries < 16 && up == NULL; tries++) {
		struct gen_row *u = gen_pick(w, GEN_K_UNIT, 0);
		if (u->aux <= 1)
			up = u;
	}
	if (up == NULL)
		up = &w->rows[GEN_K_UNIT].v[0];
	gen_begin(r, c, "replenishment_requests", GK_OP_APPEND, NULL);
	set_str(c, "depot", depot->id);
	set_str(c, "item", item->id);
	set_int(c, "quantity", gen_range(w, 1, 1000));
	set_str(c, "upstream", up->id);
	parent = gen_pick(w, GEN_K_REQUEST, 32);
	if (parent != NULL && gen_chance(w, 20))
		set_str(c, "parent", parent->id);
	if (gen_chance(w, 60))
		set_text(w, c, "reason", 500, 6, 0);
	set_time(c, "occurred_at",
	         gen_replica_wall(r) - gen_range(w, 0, HOUR_MS));
	gen_finish(r, c);
	gen_remember(w, GEN_K_REQUEST, c->row, 0);
	return GEN_REPLENISH;
}

/* ---- dispatch ------------------------------------------------------------ */

/*
 * Make the first row that an insert of kind k would name and the world
 * lacks; 1 if one was made (its operation in *made), 0 if none is missing.
 */
static int
gen_needs(struct gen_replica *r, enum gen_kind k, struct gk_change *c,
          enum gen_op *made)
{
	struct gen_world *w = r->w;

	if (w->rows[GEN_K_UNIT].n == 0 ||
	    (k == GEN_K_HAZARD && w->rows[GEN_K_GRID].n == 0))
		*made = gen_op_change(r, GEN_UNIT, c);
	else if (k == GEN_K_STANDARD && w->rows[GEN_K_DEPOT].n == 0)
		*made = gen_op_change(r, GEN_DEPOT, c);
	else if (k == GEN_K_STANDARD && w->rows[GEN_K_ITEM].n == 0)
		*made = gen_op_change(r, GEN_ITEM, c);
	else
		return 0;
	return 1;
}

enum gen_op
gen_op_change(struct gen_replica *r, enum gen_op op, struct gk_change *out)
{
	enum gen_op made = op;

	switch (op) {
	case GEN_UNIT:
		gen_unit(r, out, r->w->rows[GEN_K_GRID].n == 0);
		break;
	case GEN_USER:
	case GEN_ITEM:
	case GEN_DEPOT:
	case GEN_STANDARD:
	case GEN_VOLUNTEER:
	case GEN_NOTICE:
	case GEN_HAZARD: {
		enum gen_kind k = (enum gen_kind)(op - GEN_UNIT);
		if (gen_needs(r, k, out, &made))
			return made;
		gen_insert(r, out, k);
		break;
	}
	case GEN_EDIT:
		made = gen_edit(r, out);
		break;
	case GEN_HOT_EDIT:
		made = gen_hot_edit(r, out);
		break;
	case GEN_DELETE:
	case GEN_UNDELETE:
		made = gen_delete(r, out, op == GEN_UNDELETE);
		break;
	case GEN_HAZARD_EVENT:
		made = gen_hazard_event(r, out);
		break;
	case GEN_INSPECTION:
		made = gen_inspection(r, out);
		break;
	case GEN_STOCK_MOVE:
		made = gen_stock_move(r, out);
		break;
	case GEN_POINT_ENTRY:
		made = gen_point_entry(r, out);
		break;
	case GEN_NOTICE_ACK:
		made = gen_notice_ack(r, out);
		break;
	case GEN_REPLENISH:
		made = gen_replenish(r, out);
		break;
	default:
		gen_die("unknown operation %d", (int)op);
	}
	if (made == op)
		r->w->made[op]++;
	return made;
}

enum gen_op
gen_change(struct gen_replica *r, const struct gen_mix *mix,
           struct gk_change *out)
{
	uint64_t total = 0, p;
	int op;

	for (op = 0; op < GEN_OP_COUNT; op++)
		total += mix->weight[op];
	if (total == 0)
		gen_die("a mix with no weight");
	p = gen_below(r->w, total);
	for (op = 0; op < GEN_OP_COUNT - 1; op++) {
		if (p < mix->weight[op])
			break;
		p -= mix->weight[op];
	}
	return gen_op_change(r, (enum gen_op)op, out);
}
