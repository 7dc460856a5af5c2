/*
 * demo.c: a demo street to try gridkeep on, written the way real work is.
 *
 * Every row here is a change made by one of the demo users: a struct
 * gk_change with its own id and HLC stamp, checked for that user's role by
 * validate_change and validate_change_tx as a push would be, applied by the
 * merge, and appended to the change log with the unit it belongs to. So
 * the demo takes the same path as a station's push, and a replica that
 * pulls it later receives exactly these changes. It is one transaction: a
 * demo is there whole or not at all, and server_meta "demo" marks it done,
 * so a second run changes nothing. A database that already holds records
 * is refused: the demo is for a new file, never for live data.
 *
 * What it holds: a district, 幸福街道 with two communities of two grids
 * each, a user of every role, the reserve catalogue, three depots (one an
 * agreement reserve at a shop), reserve standards, stock moves of every
 * kind (a lot expiring within 30 days, one already expired, a transfer
 * received and one still in transit), volunteers and their points, a
 * hazard in every status (one fixed on the spot, one past its deadline), a
 * warning with acknowledgements, and patrols. Two figures go below zero on
 * purpose, as offline work makes them: flashlights issued twice from two
 * terminals, and points redeemed twice. `gridkeepd check` shows them as
 * discrepancies. Times are relative to now.
 */
#include <stdio.h>
#include <string.h>

#include "gridkeepd.h"

/* The password of every demo user, printed by demo and in gridkeepd(8). */
#define DEMO_PASSWORD "gridkeep-demo"

#define ID          (GK_ID_LEN + 1)
#define DEMO_TABLES 16 /* >= the number of record tables */

enum {
	WATER,
	NOODLES,
	FLASHLIGHT,
	BLANKET,
	FIRSTAID,
	LIFEJACKET,
	SANDBAG,
	NITEMS
};

struct demo_user {
	char id[ID];
	enum gk_role role;
	const char *username; /* for the summary */
};

struct demo {
	struct gk_server *s;
	struct gk_merge *merge;
	int64_t now; /* ms, rounded down to the minute */
	int count[DEMO_TABLES];
	char when[8][32]; /* a ring of time texts for demo_ago */
	int nwhen;

	char district[ID], street[ID], community[2][ID], grid[4][ID];
	struct demo_user admin, street_user, station[2], worker[4];
	char item[NITEMS][ID];
	char street_depot[ID], depot[2][ID];
	char volunteer[4][ID];
	char notice[ID];
	char hazard[8][ID];
};

/* ---- times
 * ------------------------------------------------------------------- */

/* The time days and hours before now (negative: after), as record text. */
static const char *
demo_ago(struct demo *d, int days, int hours)
{
	char *out = d->when[d->nwhen++ % 8];

	text_time_format(d->now - ((int64_t)days * 24 + hours) * 3600000, out);
	return out;
}

/* The date days from today (negative: before), YYYY-MM-DD. */
static const char *
demo_date(struct demo *d, int days)
{
	char *out = d->when[d->nwhen++ % 8];

	text_time_format(d->now + (int64_t)days * 86400000, out);
	out[10] = '\0';
	return out;
}

/* ---- the one way a demo row is written ------------------------------------
 */

/*
 * Write one change as user who, on row (a new id when row is NULL, copied
 * to row_out if not NULL). Steals fields, which may be NULL if building
 * them failed for lack of memory.
 */
static int
demo_write(struct demo *d, const struct demo_user *who, const char *table,
           enum gk_op op, const char *row, json_t *fields, char *row_out,
           struct gk_error *err)
{
	struct gk_server *s = d->s;
	struct gk_actor actor = {who->role, who->id};
	struct gk_change c;
	char msg[GK_ERRMSG_MAX];
	int rc;

	memset(&c, 0, sizeof c);
	c.fields = fields;
	if (fields == NULL)
		return gk_error_set(err, GK_E_NOMEM,
		                    "demo: out of memory building %s", table);
	if ((c.table = record_table(table)) == NULL ||
	    c.table->index >= DEMO_TABLES) {
		rc = gk_error_set(err, GK_E_UNKNOWN_TABLE, "demo: no table %s",
		                  table);
		goto out;
	}
	c.op = op;
	if (row != NULL)
		memcpy(c.row, row, ID);
	else
		uuid_v7(&s->env, c.row);
	if ((rc = store_write_change_tx(s, d->merge, &c, &actor, err)) !=
	    GK_OK) {
		/* Name the change that failed: the demo is a bug then. */
		if (err != NULL) {
			memcpy(msg, err->msg, sizeof msg);
			gk_error_set(err, rc, "demo: %s %s as %s: %s: %s",
			             change_op_name(op), table,
			             record_role_name(who->role),
			             gk_code_name(rc), msg);
		}
		goto out;
	}
	if (row_out != NULL)
		memcpy(row_out, c.row, ID);
	d->count[c.table->index]++;

out:
	change_clear(&c);
	return rc;
}

/* Add extra's fields to f (both may be NULL); steals extra. */
static json_t *
demo_merge(json_t *f, json_t *extra)
{
	if (f != NULL && extra != NULL && json_object_update(f, extra) != 0) {
		json_decref(f);
		f = NULL;
	}
	json_decref(extra);
	return f;
}

/* ---- the tree and its people ------------------------------------------------
 */

static int
demo_unit(struct demo *d, const char *parent, const char *level,
          const char *name, const char *code, int households, char *out,
          struct gk_error *err)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "level", level, "name", name,
	                      "code", code);

	if (parent != NULL)
		f = demo_merge(f, json_pack("{s:s}", "parent", parent));
	if (households > 0)
		f = demo_merge(f, json_pack("{s:i}", "households", households));
	return demo_write(d, &d->admin, "units", GK_OP_INSERT, NULL, f, out,
	                  err);
}

/* Users are written by the admin; passwords come with the HTTP server. */
static int
demo_add_user(struct demo *d, const struct demo_user *u, const char *name,
              const char *unit, struct gk_error *err)
{
	json_t *f =
	    json_pack("{s:s, s:s, s:s, s:s, s:b}", "username", u->username,
	              "display_name", name, "role", record_role_name(u->role),
	              "unit", unit, "active", 1);

	return demo_write(d, &d->admin, "users", GK_OP_INSERT, u->id, f, NULL,
	                  err);
}

static int
demo_tree(struct demo *d, struct gk_error *err)
{
	static const char *const communities[2][2] = {{"和平社区", "XF-HP"},
	                                              {"光明社区", "XF-GM"}};
	static const char *const grids[4][2] = {
	    {"和平社区第一网格", "XF-HP-01"},
	    {"和平社区第二网格", "XF-HP-02"},
	    {"光明社区第一网格", "XF-GM-01"},
	    {"光明社区第二网格", "XF-GM-02"}};
	static const int households[4] = {320, 280, 410, 360};
	static const char *const workers[4] = {"孙丽", "吴涛", "郑红", "冯伟"};
	int rc, i;

	if ((rc = demo_unit(d, NULL, "district", "安宁区", "AN", 0, d->district,
	                    err)) != GK_OK ||
	    (rc = demo_unit(d, d->district, "street", "幸福街道", "XF", 0,
	                    d->street, err)) != GK_OK)
		return rc;
	for (i = 0; i < 2; i++)
		if ((rc = demo_unit(d, d->street, "community",
		                    communities[i][0], communities[i][1], 0,
		                    d->community[i], err)) != GK_OK)
			return rc;
	for (i = 0; i < 4; i++)
		if ((rc = demo_unit(d, d->community[i / 2], "grid", grids[i][0],
		                    grids[i][1], households[i], d->grid[i],
		                    err)) != GK_OK)
			return rc;

	if ((rc = demo_add_user(d, &d->admin, "系统管理员", d->district,
	                        err)) != GK_OK ||
	    (rc = demo_add_user(d, &d->street_user, "刘芳（幸福街道办）",
	                        d->street, err)) != GK_OK ||
	    (rc = demo_add_user(d, &d->station[0], "陈静（和平社区工作站）",
	                        d->community[0], err)) != GK_OK ||
	    (rc = demo_add_user(d, &d->station[1], "周强（光明社区工作站）",
	                        d->community[1], err)) != GK_OK)
		return rc;
	for (i = 0; i < 4; i++)
		if ((rc = demo_add_user(d, &d->worker[i], workers[i],
		                        d->grid[i], err)) != GK_OK)
			return rc;
	return GK_OK;
}

/* ---- depots and stock
 * -------------------------------------------------------- */

static int
demo_catalogue(struct demo *d, struct gk_error *err)
{
	static const struct {
		const char *code, *name, *uom;
		int shelf_days; /* 0: none */
	} items[NITEMS] = {
	    [WATER] = {"W01", "瓶装饮用水（550ml×24）", "箱", 365},
	    [NOODLES] = {"F01", "方便面", "箱", 180},
	    [FLASHLIGHT] = {"L01", "强光手电筒", "只", 0},
	    [BLANKET] = {"B01", "棉被", "床", 0},
	    [FIRSTAID] = {"K01", "家庭急救包", "个", 1095},
	    [LIFEJACKET] = {"J01", "救生衣", "件", 0},
	    [SANDBAG] = {"S01", "防汛沙袋", "条", 0},
	};
	int rc;

	for (int i = 0; i < NITEMS; i++) {
		json_t *f =
		    json_pack("{s:s, s:s, s:s}", "code", items[i].code, "name",
		              items[i].name, "uom", items[i].uom);
		if (items[i].shelf_days > 0)
			f = demo_merge(f, json_pack("{s:i}", "shelf_life_days",
			                            items[i].shelf_days));
		if ((rc = demo_write(d, &d->street_user, "items", GK_OP_INSERT,
		                     NULL, f, d->item[i], err)) != GK_OK)
			return rc;
	}
	return GK_OK;
}

static int
demo_depot(struct demo *d, const struct demo_user *who, const char *unit,
           const char *name, const char *place, double lat, double lon,
           const char *custodian, const char *contact, int agreement, char *out,
           struct gk_error *err)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:b}",
	                      "unit", unit, "name", name, "place", place, "lat",
	                      lat, "lon", lon, "custodian", custodian,
	                      "contact", contact, "agreement", agreement);

	return demo_write(d, who, "depots", GK_OP_INSERT, NULL, f, out, err);
}

static int
demo_standard(struct demo *d, const char *depot, int item, int min,
              struct gk_error *err)
{
	json_t *f = json_pack("{s:s, s:s, s:i}", "depot", depot, "item",
	                      d->item[item], "min_qty", min);

	return demo_write(d, &d->street_user, "standards", GK_OP_INSERT, NULL,
	                  f, NULL, err);
}

/* One stock move; extra holds what its kind needs, and must be there. */
static int
demo_move(struct demo *d, const struct demo_user *who, const char *depot,
          int item, const char *kind, json_int_t qty, const char *when,
          json_t *extra, struct gk_error *err)
{
	json_t *f = NULL;

	if (extra != NULL)
		f = json_pack("{s:s, s:s, s:s, s:I, s:s}", "depot", depot,
		              "item", d->item[item], "kind", kind, "quantity",
		              qty, "occurred_at", when);
	f = demo_merge(f, extra);
	return demo_write(d, who, "stock_moves", GK_OP_APPEND, NULL, f, NULL,
	                  err);
}

/* A receive: lot and expiry for items with a shelf life (lot NULL: none). */
static int
demo_receive(struct demo *d, const struct demo_user *who, const char *depot,
             int item, json_int_t qty, const char *source, const char *lot,
             int expiry_days, int ago_days, struct gk_error *err)
{
	json_t *extra = json_pack("{s:s}", "source", source);

	if (lot != NULL)
		extra = demo_merge(extra,
		                   json_pack("{s:s, s:s}", "lot", lot, "expiry",
		                             demo_date(d, expiry_days)));
	return demo_move(d, who, depot, item, "receive", qty,
	                 demo_ago(d, ago_days, 0), extra, err);
}

/* A transfer's out half, and its in half when in_ago_days >= 0. */
static int
demo_transfer(struct demo *d, const struct demo_user *from_user,
              const char *from, const struct demo_user *to_user, const char *to,
              int item, json_int_t qty, const char *lot, int expiry_days,
              int out_ago_days, int in_ago_days, struct gk_error *err)
{
	struct gk_env *env = &d->s->env;
	char tid[ID];
	json_t *out, *in;
	int rc;

	uuid_v7(env, tid);
	out = json_pack("{s:s, s:s}", "transfer_id", tid, "counterpart", to);
	in = json_pack("{s:s, s:s}", "transfer_id", tid, "counterpart", from);
	if (lot != NULL) {
		const char *expiry = demo_date(d, expiry_days);
		out = demo_merge(
		    out, json_pack("{s:s, s:s}", "lot", lot, "expiry", expiry));
		in = demo_merge(
		    in, json_pack("{s:s, s:s}", "lot", lot, "expiry", expiry));
	}
	rc = demo_move(d, from_user, from, item, "transfer_out", -qty,
	               demo_ago(d, out_ago_days, 0), out, err);
	if (rc == GK_OK && in_ago_days >= 0) {
		rc = demo_move(d, to_user, to, item, "transfer_in", qty,
		               demo_ago(d, in_ago_days, 0), in, err);
		in = NULL;
	}
	json_decref(in);
	return rc;
}

static int
demo_stock(struct demo *d, struct gk_error *err)
{
	struct demo_user *st = &d->street_user, *hp = &d->station[0],
	                 *gm = &d->station[1];
	const char *sd = d->street_depot, *d1 = d->depot[0], *d2 = d->depot[1];
	/* Reserve standards: (item, minimum) for the station's depot and
	 * for the shop, which holds water, noodles and first aid. */
	static const int minimum[5][2] = {{WATER, 20},
	                                  {NOODLES, 10},
	                                  {FLASHLIGHT, 10},
	                                  {FIRSTAID, 5},
	                                  {BLANKET, 10}};
	static const int shop[3][2] = {
	    {WATER, 20}, {NOODLES, 10}, {FIRSTAID, 5}};
	int rc, i;

	if ((rc = demo_depot(d, st, d->street, "幸福街道应急物资储备库",
	                     "幸福路 88 号街道办地下一层", 30.2741, 120.1551,
	                     "刘芳", "0571-8700 0001", 0, d->street_depot,
	                     err)) != GK_OK ||
	    (rc = demo_depot(
	         d, hp, d->community[0], "和平社区微型应急物资储备点",
	         "和平社区党群服务中心一楼", 30.2768, 120.1502, "陈静",
	         "0571-8700 0102", 0, d->depot[0], err)) != GK_OK ||
	    (rc = demo_depot(
	         d, gm, d->community[1], "光明社区协议储备点（惠民超市）",
	         "光明路 12 号惠民超市", 30.2712, 120.1598, "王海（超市店长）",
	         "0571-8700 0203", 1, d->depot[1], err)) != GK_OK)
		return rc;

	for (i = 0; i < 5; i++)
		if ((rc = demo_standard(d, d1, minimum[i][0], minimum[i][1],
		                        err)) != GK_OK)
			return rc;
	for (i = 0; i < 3; i++)
		if ((rc = demo_standard(d, d2, shop[i][0], shop[i][1], err)) !=
		    GK_OK)
			return rc;

	/* The street's store, bought and donated. */
	if ((rc = demo_receive(d, st, sd, WATER, 200, "purchase", "W2405A", 300,
	                       40, err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, NOODLES, 100, "purchase", "F2405A",
	                       150, 40, err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, BLANKET, 60, "donation", NULL, 0, 38,
	                       err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, FLASHLIGHT, 50, "purchase", NULL, 0,
	                       38, err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, FIRSTAID, 30, "purchase", "K2403",
	                       900, 38, err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, LIFEJACKET, 20, "opening", NULL, 0,
	                       45, err)) != GK_OK ||
	    (rc = demo_receive(d, st, sd, SANDBAG, 500, "opening", NULL, 0, 45,
	                       err)) != GK_OK)
		return rc;

	/* 和平社区: opening balances, one lot near expiry, one expired. */
	if ((rc = demo_receive(d, hp, d1, WATER, 24, "opening", "W2311B", 20,
	                       45, err)) != GK_OK ||
	    (rc = demo_receive(d, hp, d1, NOODLES, 20, "opening", "F2311A", -10,
	                       45, err)) != GK_OK ||
	    (rc = demo_receive(d, hp, d1, FLASHLIGHT, 3, "opening", NULL, 0, 45,
	                       err)) != GK_OK ||
	    (rc = demo_receive(d, hp, d1, FIRSTAID, 6, "opening", "K2310", 400,
	                       45, err)) != GK_OK)
		return rc;

	/* 光明社区's shop holds stock for the community (协议储备). */
	if ((rc = demo_receive(d, gm, d2, WATER, 40, "opening", "W2404C", 250,
	                       44, err)) != GK_OK ||
	    (rc = demo_receive(d, gm, d2, NOODLES, 30, "opening", "F2404C", 100,
	                       44, err)) != GK_OK ||
	    (rc = demo_receive(d, gm, d2, FIRSTAID, 8, "opening", "K2402", 600,
	                       44, err)) != GK_OK)
		return rc;

	/* A transfer received, and one still on its way. */
	if ((rc = demo_transfer(d, st, sd, hp, d1, WATER, 20, "W2405A", 300, 10,
	                        9, err)) != GK_OK ||
	    (rc = demo_transfer(d, st, sd, gm, d2, BLANKET, 10, NULL, 0, 1, -1,
	                        err)) != GK_OK)
		return rc;

	/* Issues; the two flashlight issues were made offline on two
	 * terminals at once, and together take more than the depot held. */
	if ((rc = demo_move(d, hp, d1, WATER, "issue", -6, demo_ago(d, 5, 0),
	                    json_pack("{s:s, s:s}", "purpose", "distribution",
	                              "recipient", "独居老人 6 户"),
	                    err)) != GK_OK ||
	    (rc = demo_move(d, hp, d1, FLASHLIGHT, "issue", -3,
	                    demo_ago(d, 4, 2),
	                    json_pack("{s:s, s:s}", "purpose", "drill",
	                              "recipient", "防汛演练（终端 A）"),
	                    err)) != GK_OK ||
	    (rc = demo_move(
	         d, hp, d1, FLASHLIGHT, "issue", -2, demo_ago(d, 4, 1),
	         json_pack("{s:s, s:s, s:s}", "purpose", "distribution",
	                   "recipient", "楼道长（终端 B）", "note",
	                   "离线出库，待盘点核对"),
	         err)) != GK_OK ||
	    (rc = demo_move(d, gm, d2, FIRSTAID, "issue", -1, demo_ago(d, 4, 0),
	                    json_pack("{s:s, s:s}", "purpose", "incident",
	                              "recipient", "居民摔伤现场处置"),
	                    err)) != GK_OK)
		return rc;

	/* A count: 38 on the books, 36 on the shelf. Expired noodles out. */
	if ((rc = demo_move(
	         d, hp, d1, WATER, "count_adjust", -2, demo_ago(d, 3, 0),
	         json_pack("{s:i, s:i, s:s}", "counted", 36, "seen_on_hand", 38,
	                   "note", "盘点：破损 2 箱"),
	         err)) != GK_OK ||
	    (rc = demo_move(
	         d, hp, d1, NOODLES, "dispose", -8, demo_ago(d, 2, 0),
	         json_pack("{s:s, s:s, s:s, s:s}", "dispose_reason", "expired",
	                   "lot", "F2311A", "expiry", demo_date(d, -10), "note",
	                   "过期报废，其余待处理"),
	         err)) != GK_OK)
		return rc;
	return GK_OK;
}

/* ---- volunteers and points ------------------------------------------------
 */

static int
demo_points(struct demo *d, int v, const char *kind, int points, int minutes,
            const char *activity, const char *reason, int ago_days,
            struct gk_error *err)
{
	json_t *f =
	    json_pack("{s:s, s:s, s:i, s:s, s:s}", "volunteer", d->volunteer[v],
	              "kind", kind, "points", points, "reason", reason,
	              "occurred_at", demo_ago(d, ago_days, 0));

	if (minutes > 0)
		f = demo_merge(f, json_pack("{s:i}", "minutes", minutes));
	if (activity != NULL)
		f = demo_merge(f, json_pack("{s:s}", "activity", activity));
	return demo_write(d, &d->station[v / 2], "point_entries", GK_OP_APPEND,
	                  NULL, f, NULL, err);
}

static int
demo_volunteers(struct demo *d, struct gk_error *err)
{
	static const char *const people[4][3] = {
	    {"张建国", "139 0000 1001", "急救员证，电工"},
	    {"李秀英", "139 0000 1002", "心理疏导，老人照护"},
	    {"王磊", "139 0000 2001", "水电维修，驾驶"},
	    {"赵敏", "139 0000 2002", "应急广播，方言"}};
	int rc, i;

	for (i = 0; i < 4; i++) {
		json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:b}", "unit",
		                      d->community[i / 2], "name", people[i][0],
		                      "contact", people[i][1], "skills",
		                      people[i][2], "active", 1);
		if ((rc = demo_write(d, &d->station[i / 2], "volunteers",
		                     GK_OP_INSERT, NULL, f, d->volunteer[i],
		                     err)) != GK_OK)
			return rc;
		if ((rc = demo_points(d, i, "grant", 5, 0, NULL,
		                      "注册志愿者起始积分", 30, err)) != GK_OK)
			return rc;
	}
	/* Earned at 1 point an hour, capped at 2 hours per activity. */
	if ((rc = demo_points(d, 0, "earn", 2, 120, "防汛演练-1", "防汛演练",
	                      12, err)) != GK_OK ||
	    (rc = demo_points(d, 1, "earn", 1, 60, "防汛演练-1", "防汛演练", 12,
	                      err)) != GK_OK ||
	    (rc = demo_points(d, 2, "earn", 2, 180, "燃气安全宣传-1",
	                      "入户燃气安全宣传", 8, err)) != GK_OK ||
	    (rc = demo_points(d, 1, "bonus", 2, 0, NULL, "台风期间值守表彰", 7,
	                      err)) != GK_OK ||
	    (rc = demo_points(d, 0, "redeem", -3, 0, NULL, "兑换强光手电筒", 3,
	                      err)) != GK_OK)
		return rc;
	/* Redeemed at two stations while both were offline. */
	if ((rc = demo_points(d, 3, "redeem", -4, 0, NULL,
	                      "兑换生活用品（终端 A）", 2, err)) != GK_OK ||
	    (rc = demo_points(d, 3, "redeem", -4, 0, NULL,
	                      "兑换生活用品（终端 B）", 2, err)) != GK_OK)
		return rc;
	return GK_OK;
}

/* ---- hazards
 * ------------------------------------------------------------------ */

static int
demo_event(struct demo *d, const struct demo_user *who, int h, const char *from,
           const char *to, int ago_days, int ago_hours, json_t *extra,
           struct gk_error *err)
{
	json_t *f = json_pack("{s:s, s:s, s:s}", "hazard", d->hazard[h],
	                      "occurred_at", demo_ago(d, ago_days, ago_hours),
	                      "kind", from != NULL ? "transition" : "note");

	if (from != NULL)
		f = demo_merge(f, json_pack("{s:s, s:s}", "from_status", from,
		                            "to_status", to));
	f = demo_merge(f, extra);
	return demo_write(d, who, "hazard_events", GK_OP_APPEND, NULL, f, NULL,
	                  err);
}

/* The plan (一点一案) that moves a hazard from verified to rectifying. */
static json_t *
demo_plan(struct demo *d, const char *measures, const char *responsible,
          int deadline_days)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "plan_measures", measures,
	                 "plan_responsible", responsible, "plan_deadline",
	                 demo_ago(d, -deadline_days, 0), "plan_acceptor",
	                 "刘芳（幸福街道办）");
}

static json_t *
demo_text(const char *key, const char *value)
{
	return json_pack("{s:s}", key, value);
}

static int
demo_hazards(struct demo *d, struct gk_error *err)
{
	static const struct {
		int grid;
		const char *category;
		int risk;
		const char *title, *description, *place;
		int ago_days; /* when it was found */
	} hz[8] = {
	    {0, "fire", 3, "楼道堆放杂物堵塞消防通道",
	     "3 号楼 2 单元一至三楼楼道堆放纸箱、旧家具，影响疏散。",
	     "和平社区 3 号楼 2 单元", 1},
	    {1, "gas", 2, "燃气立管接口锈蚀",
	     "5 号楼东侧外墙燃气立管接口处锈蚀明显，有轻微异味。",
	     "和平社区 5 号楼东侧外墙", 5},
	    {2, "electrical", 2, "电动自行车楼道内充电",
	     "12 号楼 1 单元多户在楼道内私拉电线为电动自行车充电。",
	     "光明社区 12 号楼 1 单元", 8},
	    {3, "structure", 3, "小区围墙局部开裂",
	     "北侧围墙约 6 米出现贯穿裂缝，向外倾斜。", "光明社区北侧围墙", 20},
	    {0, "flood", 3, "雨水井盖缺失", "和平路与幸福路口雨水井盖缺失。",
	     "和平路与幸福路交叉口", 25},
	    {1, "other", 4, "路灯不亮", "反映 7 号楼前路灯夜间不亮。",
	     "和平社区 7 号楼前", 3},
	    {2, "fire", 4, "消防栓被车辆遮挡", "一辆私家车停放遮挡室外消防栓。",
	     "光明社区 2 号门内", 2},
	    {3, "flood", 1, "地下车库排涝泵故障",
	     "地下车库两台排涝泵均无法启动，汛期有倒灌风险。",
	     "光明社区地下车库", 15},
	};
	const struct demo_user *hp = &d->station[0], *gm = &d->station[1],
	                       *st = &d->street_user;
	int rc;

	for (int i = 0; i < 8; i++) {
		json_t *f = json_pack(
		    "{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "grid",
		    d->grid[hz[i].grid], "category", hz[i].category,
		    "risk_level", hz[i].risk, "title", hz[i].title,
		    "description", hz[i].description, "place", hz[i].place,
		    "occurred_at", demo_ago(d, hz[i].ago_days, 0));
		if ((rc = demo_write(d, &d->worker[hz[i].grid], "hazards",
		                     GK_OP_INSERT, NULL, f, d->hazard[i],
		                     err)) != GK_OK)
			return rc;
		/* Reported, except the one fixed on the spot (立查立改). */
		if (i != 6 &&
		    (rc = demo_event(d, &d->worker[hz[i].grid], i, "new",
		                     "reported", hz[i].ago_days, 0, NULL,
		                     err)) != GK_OK)
			return rc;
	}

	/* 1: verified, with a note after. */
	if ((rc = demo_event(d, hp, 1, "reported", "verified", 4, 0,
	                     demo_text("note", "现场核实属实，已通知燃气公司"),
	                     err)) != GK_OK ||
	    (rc = demo_event(d, hp, 1, NULL, NULL, 3, 0,
	                     demo_text("note", "燃气公司已预约上门检修"),
	                     err)) != GK_OK)
		return rc;

	/* 2: rectifying under its plan. */
	if ((rc = demo_event(d, gm, 2, "reported", "verified", 7, 0, NULL,
	                     err)) != GK_OK ||
	    (rc = demo_event(d, gm, 2, "verified", "rectifying", 6, 0,
	                     demo_plan(d,
	                               "清理楼道电动车，增设集中充电桩 2 处，"
	                               "入户宣传",
	                               "周强", 10),
	                     err)) != GK_OK)
		return rc;

	/* 3: resolved, waiting for the street's re-inspection. */
	if ((rc = demo_event(d, gm, 3, "reported", "verified", 19, 0, NULL,
	                     err)) != GK_OK ||
	    (rc = demo_event(d, gm, 3, "verified", "rectifying", 18, 0,
	                     demo_plan(d, "设置警示带，物业修补围墙",
	                               "光明物业 李经理", -8),
	                     err)) != GK_OK ||
	    (rc = demo_event(d, gm, 3, "rectifying", "resolved", 10, 0,
	                     demo_text("note", "围墙已修补，警示带撤除"),
	                     err)) != GK_OK)
		return rc;

	/* 4: the whole way to closed (销号). */
	if ((rc = demo_event(d, hp, 4, "reported", "verified", 25, -2, NULL,
	                     err)) != GK_OK ||
	    (rc =
	         demo_event(d, hp, 4, "verified", "rectifying", 24, 0,
	                    demo_plan(d, "临时围挡，市政补装井盖", "陈静", -20),
	                    err)) != GK_OK ||
	    (rc = demo_event(d, hp, 4, "rectifying", "resolved", 22, 0,
	                     demo_text("note", "已补装井盖"), err)) != GK_OK ||
	    (rc = demo_event(d, st, 4, "resolved", "closed", 21, 0,
	                     demo_text("note", "复查合格，销号"), err)) !=
	        GK_OK)
		return rc;

	/* 5: rejected by the street: not so (不属实). */
	if ((rc = demo_event(d, st, 5, "reported", "rejected", 2, 0,
	                     json_pack("{s:s, s:s}", "reject_reason", "invalid",
	                               "note", "经核实路灯正常，不属实"),
	                     err)) != GK_OK)
		return rc;

	/* 6: fixed on the spot by the grid worker; the street closes it. */
	if ((rc = demo_event(d, &d->worker[2], 6, "new", "resolved", 2, 0,
	                     demo_text("note", "已联系车主挪车，现场整改完毕"),
	                     err)) != GK_OK)
		return rc;

	/* 7: red risk, rectifying past its deadline: overdue. */
	if ((rc = demo_event(d, gm, 7, "reported", "verified", 15, -1, NULL,
	                     err)) != GK_OK ||
	    (rc = demo_event(d, gm, 7, "verified", "rectifying", 14, 0,
	                     demo_plan(d, "更换排涝泵，汛期前配备移动泵一台",
	                               "光明物业 李经理", -3),
	                     err)) != GK_OK)
		return rc;
	return GK_OK;
}

/* ---- a warning, and patrols -------------------------------------------------
 */

static int
demo_notice(struct demo *d, struct gk_error *err)
{
	static const struct {
		int who; /* a worker 0..3, or -1: the 和平社区 station */
		int told, total;
	} acks[3] = {{0, 280, 320}, {2, 300, 410}, {-1, 0, 0}};
	json_t *f;
	int rc;

	f = json_pack(
	    "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:[s, s]}", "unit", d->street,
	    "kind", "warning", "level", 2, "title", "暴雨橙色预警", "body",
	    "预计未来 24 小时有大到暴雨，局部大暴雨。请各社区检查排涝"
	    "设施，做好低洼地带群众转移准备，值班人员在岗。",
	    "occurred_at", demo_ago(d, 1, 0), "expires_at", demo_ago(d, -1, 0),
	    "targets", d->community[0], d->community[1]);
	if ((rc = demo_write(d, &d->street_user, "notices", GK_OP_INSERT, NULL,
	                     f, d->notice, err)) != GK_OK)
		return rc;
	for (int i = 0; i < 3; i++) {
		const struct demo_user *who =
		    acks[i].who >= 0 ? &d->worker[acks[i].who] : &d->station[0];
		f = json_pack("{s:s, s:s}", "notice", d->notice, "occurred_at",
		              demo_ago(d, 0, 20 - i));
		if (acks[i].total > 0)
			f = demo_merge(
			    f, json_pack("{s:i, s:i}", "households_told",
			                 acks[i].told, "households_total",
			                 acks[i].total));
		if ((rc = demo_write(d, who, "notice_acks", GK_OP_APPEND, NULL,
		                     f, NULL, err)) != GK_OK)
			return rc;
	}
	return GK_OK;
}

static int
demo_patrols(struct demo *d, struct gk_error *err)
{
	static const struct {
		int ago_days, places, found; /* found: a hazard, or -1 */
		const char *notes;
	} p[4] = {
	    {1, 14, 0, "3 号楼楼道杂物已拍照上报"},
	    {2, 11, -1, "无异常"},
	    {2, 16, 6, "消防栓遮挡已现场处理"},
	    {3, 9, -1, "排涝泵维修进度已询问物业"},
	};
	static const char checklist[] = "消防通道: 正常\n燃气设施: 正常\n"
	                                "排水设施: 正常\n电动车充电: 正常";
	int rc;

	for (int i = 0; i < 4; i++) {
		json_t *f = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:i}", "grid", d->grid[i],
		    "occurred_at", demo_ago(d, p[i].ago_days, 0), "ended_at",
		    demo_ago(d, p[i].ago_days, -1), "checklist", checklist,
		    "notes", p[i].notes, "places_visited", p[i].places);
		if (p[i].found >= 0)
			f = demo_merge(f, json_pack("{s:[s]}", "hazards_found",
			                            d->hazard[p[i].found]));
		if ((rc = demo_write(d, &d->worker[i], "inspections",
		                     GK_OP_APPEND, NULL, f, NULL, err)) !=
		    GK_OK)
			return rc;
	}
	return GK_OK;
}

/* ---- the command ----------------------------------------------------------
 */

/* 1 if the database already holds units, 0 if not, -1 on error. */
static int
demo_has_records(sqlite3 *db, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM units LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK) {
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		return -1;
	}
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		return -1;
	}
	return r == SQLITE_ROW;
}

static void
demo_users_init(struct demo *d)
{
	struct gk_env *env = &d->s->env;
	struct demo_user *all[8] = {
	    &d->admin,     &d->street_user, &d->station[0], &d->station[1],
	    &d->worker[0], &d->worker[1],   &d->worker[2],  &d->worker[3]};
	static const enum gk_role roles[8] = {
	    GK_ROLE_ADMIN,       GK_ROLE_STREET,      GK_ROLE_STATION,
	    GK_ROLE_STATION,     GK_ROLE_GRID_WORKER, GK_ROLE_GRID_WORKER,
	    GK_ROLE_GRID_WORKER, GK_ROLE_GRID_WORKER};

	for (int i = 0; i < 8; i++) {
		uuid_v7(env, all[i]->id);
		all[i]->role = roles[i];
	}
	d->admin.username = "admin";
	d->street_user.username = "xf.liufang";
	d->station[0].username = "hp.chenjing";
	d->station[1].username = "gm.zhouqiang";
	d->worker[0].username = "hp.sunli";
	d->worker[1].username = "hp.wutao";
	d->worker[2].username = "gm.zhenghong";
	d->worker[3].username = "gm.fengwei";
}

/* Every demo user gets the one known password: the demo is for trying. */
static int
demo_passwords(struct demo *d, struct gk_error *err)
{
	const struct demo_user *all[8] = {
	    &d->admin,     &d->street_user, &d->station[0], &d->station[1],
	    &d->worker[0], &d->worker[1],   &d->worker[2],  &d->worker[3]};
	int rc;

	for (int i = 0; i < 8; i++)
		if ((rc = users_set_password_tx(d->s, all[i]->id, DEMO_PASSWORD,
		                                err)) != GK_OK)
			return rc;
	return GK_OK;
}

static void
demo_summary(const struct demo *d)
{
	const struct gk_table *const *tables;
	int n, total = 0, col = 0;

	tables = record_tables(&n);
	for (int i = 0; i < n; i++)
		if (tables[i]->index < DEMO_TABLES)
			total += d->count[tables[i]->index];
	printf("demo: wrote 幸福街道 into %s as %d changes:\n", d->s->db_path,
	       total);
	for (int i = 0; i < n; i++) {
		const char *name = tables[i]->name;
		int k = tables[i]->index < DEMO_TABLES
		            ? d->count[tables[i]->index]
		            : 0;

		if (k == 0)
			continue;
		if (col == 0) {
			col = printf("  %s %d", name, k);
		} else if (col > 56) {
			printf(",\n");
			col = printf("  %s %d", name, k);
		} else {
			col += printf(", %s %d", name, k);
		}
	}
	if (col > 0)
		printf("\n");
	printf("users, each with the password %s:\n"
	       "  %s (admin), %s (street), %s and %s (station),\n"
	       "  %s, %s, %s and %s (grid_worker)\n",
	       DEMO_PASSWORD, d->admin.username, d->street_user.username,
	       d->station[0].username, d->station[1].username,
	       d->worker[0].username, d->worker[1].username,
	       d->worker[2].username, d->worker[3].username);
	printf("look at it with: gridkeepd -d %s check\n", d->s->db_path);
}

int
demo_exec(struct gk_server *s, int argc, char **argv, struct gk_error *err)
{
	struct demo d;
	char made[32];
	int rc, has;

	(void)argc;
	(void)argv;
	memset(&d, 0, sizeof d);
	d.s = s;
	if ((rc = operator_create(s, err)) != GK_OK)
		return rc;
	if (db_begin(s->db) != GK_OK)
		return gk_error_set(err, GK_E_DB, "cannot begin: %s",
		                    sqlite3_errmsg(s->db));

	rc = store_meta_get(s->db, "demo", made, sizeof made, err);
	if (rc == GK_OK) {
		printf("demo: %s already holds the demo (made %s): nothing "
		       "to do\n",
		       s->db_path, made);
		goto out;
	}
	if (rc != GK_E_NOT_FOUND)
		goto out;
	if ((has = demo_has_records(s->db, err)) != 0) {
		rc = has < 0 ? GK_E_DB
		             : gk_error_set(err, GK_E_USAGE,
		                            "demo: %s already holds records; "
		                            "the demo goes into a new database",
		                            s->db_path);
		goto out;
	}

	d.now = s->env.now_ms(s->env.arg) / 60000 * 60000;
	demo_users_init(&d);
	if ((d.merge = merge_new(s->db, err)) == NULL) {
		rc = err != NULL ? err->code : GK_E_DB;
		goto out;
	}
	text_time_format(d.now, made);
	if ((rc = demo_tree(&d, err)) != GK_OK ||
	    (rc = demo_catalogue(&d, err)) != GK_OK ||
	    (rc = demo_stock(&d, err)) != GK_OK ||
	    (rc = demo_volunteers(&d, err)) != GK_OK ||
	    (rc = demo_hazards(&d, err)) != GK_OK ||
	    (rc = demo_notice(&d, err)) != GK_OK ||
	    (rc = demo_patrols(&d, err)) != GK_OK ||
	    (rc = demo_passwords(&d, err)) != GK_OK ||
	    (rc = store_meta_put_tx(s->db, "demo", made, err)) != GK_OK)
		goto out;
	merge_free(d.merge);
	d.merge = NULL;
	if (db_commit(s->db) != GK_OK) {
		rc = gk_error_set(err, GK_E_IO, "demo: cannot commit: %s",
		                  sqlite3_errmsg(s->db));
		goto out;
	}
	demo_summary(&d);

out:
	merge_free(d.merge);
	db_rollback(s->db); /* a no-op after the commit */
	return rc;
}
