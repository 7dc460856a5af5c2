/*
 * actions_stock.c: the depot actions: receive, issue, transfer, count,
 * dispose, a replenishment request, and the catalogue (depots, items,
 * reserve standards).
 *
 * Stock on hand is the sum of a depot's moves of an item, read inside the
 * write transaction; an issue, transfer or disposal larger than that is
 * refused here, because the ledger itself accepts it (offline replicas
 * can each take the last bottles, and the view then shows the shortfall).
 * Quantities are typed positive; the sign of each kind is record.c's.
 */
#include <stdio.h>
#include <string.h>

#include "actions.h"

/* The words of record.c (tests/test-actions checks they agree). */
static const char *const sources[] = {"upstream", "donation", "purchase",
                                      "opening", NULL};
static const char *const purposes[] = {"distribution", "incident", "drill",
                                       NULL};
static const char *const dispose_reasons[] = {"expired", "damaged", "lost",
                                              "stolen",  "other",   NULL};

#define STOCK_WRITERS (R_STREET | R_STATION | R_ADMIN)

static json_t *
new_fields(struct gk_error *err)
{
	json_t *f = json_object();

	if (f == NULL)
		gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	return f;
}

/* A move's common fields: depot, item, kind, quantity, lot, note, time. */
static json_t *
move_fields(struct gk_client *c, json_t *v, const char *kind, int64_t qty,
            struct gk_error *err)
{
	char when[32];
	json_t *f = new_fields(err);

	if (f == NULL)
		return NULL;
	act_copy(f, v, "depot", "depot");
	act_copy(f, v, "item", "item");
	json_object_set_new(f, "kind", json_string(kind));
	json_object_set_new(f, "quantity", json_integer(qty));
	act_copy(f, v, "lot", "lot");
	act_copy(f, v, "note", "note");
	json_object_set_new(
	    f, "occurred_at",
	    json_string(act_time_or_now(c, v, "occurred_at", when)));
	return f;
}

/* Refuse taking qty out of a depot that holds less. */
static int
check_on_hand(struct gk_client *c, json_t *v, int64_t qty,
              struct act_result *res, struct gk_error *err)
{
	int64_t have;
	int rc;

	if ((rc = act_on_hand(c, act_str(v, "depot"), act_str(v, "item"), &have,
	                      err)) != GK_OK)
		return rc;
	if (qty > have)
		return act_refuse(res, "quantity", err, GK_E_RANGE,
		                  _("%lld is more than the %lld on hand"),
		                  (long long)qty, (long long)have);
	return GK_OK;
}

/* Append one move made by move_fields (consumed); its id into res. */
static int
add_move(struct gk_client *c, json_t *f, struct act_result *res,
         struct gk_error *err)
{
	char id[GK_ID_LEN + 1];
	int rc;

	if (f == NULL)
		return GK_E_NOMEM;
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "stock_moves", GK_OP_APPEND, id, f, res, err)) !=
	    GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_receive(struct gk_client *c, const char *target, json_t *v,
            struct act_result *res, struct gk_error *err)
{
	json_t *f;

	(void)target;
	if ((f = move_fields(c, v, "receive", act_int(v, "quantity", 0),
	                     err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "source", "source");
	act_copy(f, v, "expiry", "expiry");
	return add_move(c, f, res, err);
}

static int
run_issue(struct gk_client *c, const char *target, json_t *v,
          struct act_result *res, struct gk_error *err)
{
	int64_t q = act_int(v, "quantity", 0);
	json_t *f;
	int rc;

	(void)target;
	if ((rc = check_on_hand(c, v, q, res, err)) != GK_OK)
		return rc;
	if ((f = move_fields(c, v, "issue", -q, err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "purpose", "purpose");
	act_copy(f, v, "recipient", "recipient");
	return add_move(c, f, res, err);
}

static int
run_dispose(struct gk_client *c, const char *target, json_t *v,
            struct act_result *res, struct gk_error *err)
{
	int64_t q = act_int(v, "quantity", 0);
	json_t *f;
	int rc;

	(void)target;
	if ((rc = check_on_hand(c, v, q, res, err)) != GK_OK)
		return rc;
	if (strcmp(act_str(v, "reason"), "other") == 0 && !act_has(v, "note"))
		return act_refuse(res, "note", err, GK_E_MISSING, "%s",
		                  _("say why, when the reason is other"));
	if ((f = move_fields(c, v, "dispose", -q, err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "reason", "dispose_reason");
	return add_move(c, f, res, err);
}

/* A count records counted - on hand as seen, read in this transaction. */
static int
run_count(struct gk_client *c, const char *target, json_t *v,
          struct act_result *res, struct gk_error *err)
{
	int64_t counted = act_int(v, "counted", 0), seen;
	json_t *f;
	int rc;

	(void)target;
	if ((rc = act_on_hand(c, act_str(v, "depot"), act_str(v, "item"), &seen,
	                      err)) != GK_OK)
		return rc;
	if ((f = move_fields(c, v, "count_adjust", counted - seen, err)) ==
	    NULL)
		return GK_E_NOMEM;
	json_object_set_new(f, "counted", json_integer(counted));
	json_object_set_new(f, "seen_on_hand", json_integer(seen));
	return add_move(c, f, res, err);
}

/* Two moves sharing one transfer id, in this one transaction. */
static int
run_transfer(struct gk_client *c, const char *target, json_t *v,
             struct act_result *res, struct gk_error *err)
{
	int64_t q = act_int(v, "quantity", 0);
	const char *from = act_str(v, "depot"), *to = act_str(v, "to");
	const char *req = act_str(v, "request");
	char tid[GK_ID_LEN + 1], out_id[GK_ID_LEN + 1];
	json_t *out, *in;
	int rc;

	(void)target;
	if (strcmp(from, to) == 0)
		return act_refuse(res, "to", err, GK_E_INCONSISTENT, "%s",
		                  _("a transfer goes to another depot"));
	if (req != NULL && !uuid_valid(req, strlen(req)))
		return act_refuse(res, "request", err, GK_E_ID, "%s",
		                  _("is not the id of a request"));
	if ((rc = check_on_hand(c, v, q, res, err)) != GK_OK)
		return rc;
	uuid_v7(&c->env, tid);
	if ((out = move_fields(c, v, "transfer_out", -q, err)) == NULL)
		return GK_E_NOMEM;
	json_object_set_new(out, "transfer_id", json_string(tid));
	json_object_set_new(out, "counterpart", json_string(to));
	act_copy(out, v, "request", "request_id");
	if ((in = json_deep_copy(out)) == NULL) {
		json_decref(out);
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	}
	if ((rc = add_move(c, out, res, err)) != GK_OK) {
		json_decref(in);
		return rc;
	}
	memcpy(out_id, res->row, sizeof out_id);
	json_object_set_new(in, "kind", json_string("transfer_in"));
	json_object_set_new(in, "quantity", json_integer(q));
	json_object_set_new(in, "depot", json_string(to));
	json_object_set_new(in, "counterpart", json_string(from));
	if ((rc = add_move(c, in, res, err)) != GK_OK)
		return rc;
	memcpy(res->row, out_id, sizeof out_id);
	return GK_OK;
}

/* A request goes to the depot's unit's parent unless upstream is named. */
static int
run_request(struct gk_client *c, const char *target, json_t *v,
            struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], when[32], up[GK_ID_LEN + 8];
	json_t *f;
	int rc;

	(void)target;
	up[0] = '\0';
	if (act_has(v, "upstream"))
		snprintf(up, sizeof up, "%s", act_str(v, "upstream"));
	else if ((rc = act_query_text(c,
	                              "SELECT u.parent FROM depots d JOIN "
	                              "units u ON u.id = d.unit WHERE d.id "
	                              "= ?1",
	                              act_str(v, "depot"), up, sizeof up,
	                              err)) != GK_OK &&
	         rc != GK_E_NOT_FOUND)
		return rc;
	if (!uuid_valid(up, strlen(up)))
		return act_refuse(res, "upstream", err, GK_E_MISSING, "%s",
		                  _("name the unit asked (the depot's unit has "
		                    "no parent)"));
	if ((f = new_fields(err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "depot", "depot");
	act_copy(f, v, "item", "item");
	act_copy(f, v, "quantity", "quantity");
	json_object_set_new(f, "upstream", json_string(up));
	act_copy(f, v, "reason", "reason");
	json_object_set_new(
	    f, "occurred_at",
	    json_string(act_time_or_now(c, v, "occurred_at", when)));
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "replenishment_requests", GK_OP_APPEND, id, f,
	                    res, err)) != GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

/* ---- the catalogue ------------------------------------------------------ */

/* Insert a new mutable record; its id into res. */
static int
add_record(struct gk_client *c, const char *table, json_t *f,
           struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1];
	int rc;

	uuid_v7(&c->env, id);
	if ((rc = act_write(c, table, GK_OP_INSERT, id, f, res, err)) != GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_depot(struct gk_client *c, const char *target, json_t *v,
          struct act_result *res, struct gk_error *err)
{
	double lat = 0, lon = 0;
	int has_lat, has_lon, rc;
	json_t *f;

	(void)target;
	if ((rc = act_real(v, "lat", -90, 90, &lat, &has_lat, res, err)) !=
	        GK_OK ||
	    (rc = act_real(v, "lon", -180, 180, &lon, &has_lon, res, err)) !=
	        GK_OK)
		return rc;
	if (has_lat != has_lon)
		return act_refuse(res, has_lat ? "lon" : "lat", err,
		                  GK_E_MISSING, "%s",
		                  _("latitude and longitude go together"));
	if (!act_has(v, "unit") &&
	    !uuid_valid(c->sess.unit, strlen(c->sess.unit)))
		return act_refuse(res, "unit", err, GK_E_MISSING, "%s",
		                  _("is required"));
	if ((f = new_fields(err)) == NULL)
		return GK_E_NOMEM;
	if (act_has(v, "unit"))
		act_copy(f, v, "unit", "unit");
	else
		json_object_set_new(f, "unit", json_string(c->sess.unit));
	act_copy(f, v, "name", "name");
	act_copy(f, v, "place", "place");
	if (has_lat) {
		json_object_set_new(f, "lat", json_real(lat));
		json_object_set_new(f, "lon", json_real(lon));
	}
	act_copy(f, v, "custodian", "custodian");
	act_copy(f, v, "contact", "contact");
	act_copy(f, v, "agreement", "agreement");
	return add_record(c, "depots", f, res, err);
}

static int
run_item(struct gk_client *c, const char *target, json_t *v,
         struct act_result *res, struct gk_error *err)
{
	int64_t n;
	json_t *f;
	int rc;

	(void)target;
	rc = act_query_int(c,
	                   "SELECT count(*) FROM items WHERE code = ?1 AND "
	                   "deleted IS NOT 1",
	                   act_str(v, "code"), NULL, &n, err);
	if (rc != GK_OK)
		return rc;
	if (n > 0)
		return act_refuse(res, "code", err, GK_E_EXISTS,
		                  _("an item with code %s exists"),
		                  act_str(v, "code"));
	if ((f = new_fields(err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "code", "code");
	act_copy(f, v, "name", "name");
	act_copy(f, v, "uom", "uom");
	act_copy(f, v, "shelf_life", "shelf_life_days");
	return add_record(c, "items", f, res, err);
}

/* One standard per (depot, item): setting it again updates it. */
static int
run_standard(struct gk_client *c, const char *target, json_t *v,
             struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 8];
	sqlite3_stmt *st;
	json_t *f;
	int r, rc;

	(void)target;
	id[0] = '\0';
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT id FROM standards WHERE depot = ?1 AND "
	                       "item = ?2 AND deleted IS NOT 1 ORDER BY id "
	                       "LIMIT 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_text(st, 1, act_str(v, "depot"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, act_str(v, "item"), -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(id, sizeof id, "%s",
		         (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	if ((f = new_fields(err)) == NULL)
		return GK_E_NOMEM;
	act_copy(f, v, "minimum", "min_qty");
	if (id[0] != '\0' && uuid_valid(id, strlen(id))) {
		if ((rc = act_write(c, "standards", GK_OP_UPDATE, id, f, res,
		                    err)) != GK_OK)
			return rc;
		memcpy(res->row, id, GK_ID_LEN + 1);
		return GK_OK;
	}
	act_copy(f, v, "depot", "depot");
	act_copy(f, v, "item", "item");
	return add_record(c, "standards", f, res, err);
}

/* ---- the table ---------------------------------------------------------- */

#define IN_DEPOT                                                               \
	{                                                                      \
		"depot", N_("Depot"), ACT_REF, ACT_REQ, NULL, "depot", 0, 0,   \
		    N_("the depot: its name or id")                            \
	}
#define IN_ITEM                                                                \
	{                                                                      \
		"item", N_("Item"), ACT_REF, ACT_REQ, NULL, "item", 0, 0,      \
		    N_("the item: its code, name or id")                       \
	}
#define IN_QTY(help)                                                           \
	{                                                                      \
		"quantity", N_("Quantity"), ACT_INT, ACT_REQ, NULL, NULL, 1,   \
		    ACT_BIG, help                                              \
	}
#define IN_LOT                                                                 \
	{                                                                      \
		"lot", N_("Lot"), ACT_TEXT, 0, NULL, NULL, 0, 64,              \
		    N_("the lot or batch number")                              \
	}
#define IN_NOTE                                                                \
	{                                                                      \
		"note", N_("Note"), ACT_LONGTEXT, 0, NULL, NULL, 0, 1000,      \
		    N_("a note kept with the move")                            \
	}
#define IN_WHEN                                                                \
	{                                                                      \
		"occurred_at", N_("When"), ACT_TIME, 0, NULL, NULL, 0, 0,      \
		    N_("YYYY-MM-DD HH:MM local time (default now)")            \
	}

static const struct act_input receive_in[] = {
    IN_DEPOT,
    IN_ITEM,
    IN_QTY(N_("how many came in")),
    {"source", N_("Source"), ACT_ENUM, ACT_REQ, sources, NULL, 0, 0,
     N_("where it came from")},
    IN_LOT,
    {"expiry", N_("Expiry"), ACT_DATE, 0, NULL, NULL, 0, 0,
     N_("YYYY-MM-DD; needed for items with a shelf life")},
    IN_NOTE,
    IN_WHEN,
};

static const struct act_input issue_in[] = {
    IN_DEPOT,
    IN_ITEM,
    IN_QTY(N_("how many go out")),
    {"purpose", N_("Purpose"), ACT_ENUM, ACT_REQ, purposes, NULL, 0, 0,
     N_("what it is for")},
    {"recipient", N_("Recipient"), ACT_TEXT, 0, NULL, NULL, 0, 200,
     N_("who received it")},
    IN_LOT,
    IN_NOTE,
    IN_WHEN,
};

static const struct act_input transfer_in[] = {
    IN_DEPOT,
    {"to", N_("To depot"), ACT_REF, ACT_REQ, NULL, "depot", 0, 0,
     N_("the depot receiving it: its name or id")},
    IN_ITEM,
    IN_QTY(N_("how many move")),
    {"request", N_("Request"), ACT_TEXT, 0, NULL, NULL, 0, GK_ID_LEN,
     N_("the id of the replenishment request this fulfils")},
    IN_LOT,
    IN_NOTE,
    IN_WHEN,
};

static const struct act_input count_in[] = {
    IN_DEPOT,
    IN_ITEM,
    {"counted", N_("Counted"), ACT_INT, ACT_REQ, NULL, NULL, 0, ACT_BIG,
     N_("how many are on the shelf")},
    IN_NOTE,
    IN_WHEN,
};

static const struct act_input dispose_in[] = {
    IN_DEPOT,
    IN_ITEM,
    IN_QTY(N_("how many are written off")),
    {"reason", N_("Reason"), ACT_ENUM, ACT_REQ, dispose_reasons, NULL, 0, 0,
     N_("why they are written off")},
    IN_LOT,
    IN_NOTE,
    IN_WHEN,
};

static const struct act_input request_in[] = {
    IN_DEPOT,
    IN_ITEM,
    IN_QTY(N_("how many are asked for")),
    {"upstream", N_("Asked of"), ACT_REF, 0, NULL, "unit", 0, 0,
     N_("the unit asked (default: the depot's parent unit)")},
    {"reason", N_("Reason"), ACT_TEXT, 0, NULL, NULL, 0, 500,
     N_("why it is needed")},
    IN_WHEN,
};

static const struct act_input depot_in[] = {
    {"name", N_("Name"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 100,
     N_("the depot's name")},
    {"unit", N_("Unit"), ACT_REF, 0, NULL, "unit", 0, 0,
     N_("the unit it belongs to (default: yours)")},
    {"place", N_("Place"), ACT_TEXT, 0, NULL, NULL, 0, 200,
     N_("address or landmark")},
    {"lat", N_("Latitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -90 to 90")},
    {"lon", N_("Longitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -180 to 180")},
    {"custodian", N_("Custodian"), ACT_TEXT, 0, NULL, NULL, 0, 100,
     N_("who keeps it")},
    {"contact", N_("Contact"), ACT_TEXT, 0, NULL, NULL, 0, 64,
     N_("the custodian's phone")},
    {"agreement", N_("Agreement"), ACT_BOOL, 0, NULL, NULL, 0, 0,
     N_("held under an agreement with a shop or firm (协议储备)")},
};

static const struct act_input item_in[] = {
    {"code", N_("Code"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 32,
     N_("the catalogue code")},
    {"name", N_("Name"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 100,
     N_("the item's name")},
    {"uom", N_("Unit of measure"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 16,
     N_("what one counts: 箱, 件, bottle")},
    {"shelf_life", N_("Shelf life"), ACT_INT, 0, NULL, NULL, 1, 36500,
     N_("days; receipts then need an expiry")},
};

static const struct act_input standard_in[] = {
    IN_DEPOT,
    IN_ITEM,
    {"minimum", N_("Minimum"), ACT_INT, ACT_REQ, NULL, NULL, 0, ACT_BIG,
     N_("the least the depot should hold")},
};

#define ACT(id, title, roles, in)                                              \
	const struct gk_action act_##id = {#id, title,     NULL,    roles,     \
	                                   in,  ACT_N(in), run_##id}

ACT(receive, N_("Receive stock"), STOCK_WRITERS, receive_in);
ACT(issue, N_("Issue stock"), STOCK_WRITERS, issue_in);
ACT(transfer, N_("Transfer stock to another depot"), STOCK_WRITERS,
    transfer_in);
ACT(count, N_("Count stock (盘点)"), STOCK_WRITERS, count_in);
ACT(dispose, N_("Write off stock"), STOCK_WRITERS, dispose_in);
ACT(request, N_("Ask for replenishment"), STOCK_WRITERS, request_in);
ACT(depot, N_("Add a depot"), STOCK_WRITERS, depot_in);
ACT(item, N_("Add an item to the catalogue"), R_STREET | R_ADMIN, item_in);
ACT(standard, N_("Set a depot's reserve standard"), R_STREET | R_ADMIN,
    standard_in);
