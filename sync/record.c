/*
 * record.c: the record kinds of DESIGN.md as data.
 *
 * Each table lists the fields a change may carry, with type, limits and
 * flags, and the roles that may write it. The validator, the merge, the
 * dump and the tests all read these tables, so a new field is added here
 * and in a schema migration (tests/test-schema checks the two agree).
 * Order of fields = order of the table's columns after "id".
 */
#include <string.h>

#include "sync.h"

#define ADMIN   GK_ROLE_BIT(GK_ROLE_ADMIN)
#define STREET  GK_ROLE_BIT(GK_ROLE_STREET)
#define STATION GK_ROLE_BIT(GK_ROLE_STATION)
#define WORKER  GK_ROLE_BIT(GK_ROLE_GRID_WORKER)

#define BIG 1000000000LL /* 1e9: the bound on quantities */

static const char *const role_words[] = {"admin", "street", "station",
                                         "grid_worker", NULL};

const char *
record_role_name(enum gk_role r)
{
	return (r >= 0 && r < GK_ROLE_COUNT) ? role_words[r] : "unknown";
}

int
record_role_parse(const char *s, enum gk_role *out)
{
	for (int i = 0; role_words[i] != NULL; i++) {
		if (strcmp(s, role_words[i]) == 0) {
			*out = (enum gk_role)i;
			return GK_OK;
		}
	}
	return GK_E_ENUM;
}

static const char *const unit_levels[] = {"district", "street", "community",
                                          "grid", NULL};
static const char *const hazard_categories[] = {
    "fire",  "gas",     "electrical",    "structure",         "geological",
    "flood", "traffic", "public_health", "special_equipment", "dispute",
    "other", NULL};
const char *const gk_hazard_status_words[] = {
    "new",      "reported", "verified", "rectifying",
    "resolved", "closed",   "rejected", NULL};
static const char *const hazard_event_kinds[] = {"transition", "note", "plan",
                                                 NULL};
static const char *const reject_reasons[] = {"duplicate", "invalid", NULL};
const char *const gk_stock_kind_words[] = {
    "receive", "issue", "transfer_out", "transfer_in", "count_adjust",
    "dispose", NULL};
static const char *const stock_sources[] = {"upstream", "donation", "purchase",
                                            "opening", NULL};
static const char *const stock_purposes[] = {"distribution", "incident",
                                             "drill", NULL};
static const char *const dispose_reasons[] = {"expired", "damaged", "lost",
                                              "stolen",  "other",   NULL};
const char *const gk_point_kind_words[] = {
    "grant", "earn", "bonus", "redeem", "revoke", "expire", "correction", NULL};
static const char *const notice_kinds[] = {"warning", "notice", NULL};

#define TEXT(n, fl, max)                                                       \
	{                                                                      \
		n, GK_F_TEXT, fl, 0, max, NULL                                 \
	}
#define INT(n, fl, lo, hi)                                                     \
	{                                                                      \
		n, GK_F_INT, fl, lo, hi, NULL                                  \
	}
#define REAL(n, fl, lo, hi)                                                    \
	{                                                                      \
		n, GK_F_REAL, fl, lo, hi, NULL                                 \
	}
#define BOOL(n, fl)                                                            \
	{                                                                      \
		n, GK_F_BOOL, fl, 0, 1, NULL                                   \
	}
#define ID(n, fl)                                                              \
	{                                                                      \
		n, GK_F_ID, fl, 0, 0, NULL                                     \
	}
#define ENUM(n, fl, w)                                                         \
	{                                                                      \
		n, GK_F_ENUM, fl, 0, 0, w                                      \
	}
#define TIME(n, fl)                                                            \
	{                                                                      \
		n, GK_F_TIME, fl, 0, 0, NULL                                   \
	}
#define DATE(n, fl)                                                            \
	{                                                                      \
		n, GK_F_DATE, fl, 0, 0, NULL                                   \
	}
#define IDLIST(n, fl, max)                                                     \
	{                                                                      \
		n, GK_F_IDLIST, fl, 1, max, NULL                               \
	}
#define ML GK_MULTILINE

static const struct gk_field units_f[] = {
    ID("parent", 0),
    ENUM("level", GK_REQ, unit_levels),
    TEXT("name", GK_REQ, 100),
    TEXT("code", 0, 32),
    INT("households", 0, 0, 1000000),
    BOOL("deleted", 0),
};
static const struct gk_field users_f[] = {
    TEXT("username", GK_REQ, 64),
    TEXT("display_name", GK_REQ, 100),
    ENUM("role", GK_REQ, role_words),
    ID("unit", GK_REQ),
    BOOL("active", 0),
    BOOL("deleted", 0),
};
static const struct gk_field hazards_f[] = {
    ID("grid", GK_REQ),
    ENUM("category", GK_REQ, hazard_categories),
    INT("risk_level", GK_REQ, 1, 4),
    TEXT("title", GK_REQ, 200),
    TEXT("description", ML, 4000),
    TEXT("place", 0, 200),
    REAL("lat", 0, -90, 90),
    REAL("lon", 0, -180, 180),
    TIME("occurred_at", GK_REQ),
    BOOL("deleted", 0),
};
static const struct gk_field hazard_events_f[] = {
    ID("hazard", GK_REQ),
    ENUM("kind", GK_REQ, hazard_event_kinds),
    ENUM("from_status", 0, gk_hazard_status_words),
    ENUM("to_status", 0, gk_hazard_status_words),
    TEXT("note", ML, 2000),
    TEXT("plan_measures", ML, 2000),
    TEXT("plan_responsible", 0, 100),
    TIME("plan_deadline", 0),
    TEXT("plan_acceptor", 0, 100),
    ENUM("reject_reason", 0, reject_reasons),
    ID("duplicate_of", 0),
    TIME("occurred_at", GK_REQ),
};
static const struct gk_field inspections_f[] = {
    ID("grid", GK_REQ),
    TIME("occurred_at", GK_REQ), /* the patrol's start */
    TIME("ended_at", GK_REQ),
    TEXT("checklist", ML, 4000), /* "item: ok" lines */
    TEXT("notes", ML, 2000),
    INT("places_visited", 0, 0, 10000),
    IDLIST("hazards_found", 0, 100),
};
static const struct gk_field depots_f[] = {
    ID("unit", GK_REQ),        TEXT("name", GK_REQ, 100),
    TEXT("place", 0, 200),     REAL("lat", 0, -90, 90),
    REAL("lon", 0, -180, 180), TEXT("custodian", 0, 100),
    TEXT("contact", 0, 64),    BOOL("agreement", 0),
    BOOL("deleted", 0),
};
static const struct gk_field items_f[] = {
    TEXT("code", GK_REQ, 32), TEXT("name", GK_REQ, 100),
    TEXT("uom", GK_REQ, 16),  INT("shelf_life_days", 0, 1, 36500),
    BOOL("deleted", 0),
};
static const struct gk_field standards_f[] = {
    ID("depot", GK_REQ),
    ID("item", GK_REQ),
    INT("min_qty", GK_REQ, 0, BIG),
    BOOL("deleted", 0),
};
static const struct gk_field volunteers_f[] = {
    ID("unit", GK_REQ),     TEXT("name", GK_REQ, 100), TEXT("contact", 0, 64),
    TEXT("skills", 0, 500), BOOL("active", 0),         BOOL("deleted", 0),
};
static const struct gk_field notices_f[] = {
    ID("unit", GK_REQ), /* the issuing unit */
    ENUM("kind", GK_REQ, notice_kinds),
    INT("level", GK_REQ, 1, 4), /* warning level I..IV */
    TEXT("title", GK_REQ, 200),
    TEXT("body", ML, 4000),
    TIME("expires_at", 0),
    IDLIST("targets", GK_REQ, 100),
    TIME("occurred_at", GK_REQ),
    BOOL("deleted", 0),
};
static const struct gk_field stock_moves_f[] = {
    ID("depot", GK_REQ),
    ID("item", GK_REQ),
    ENUM("kind", GK_REQ, gk_stock_kind_words),
    INT("quantity", GK_REQ, -BIG, BIG),
    TEXT("lot", 0, 64),
    DATE("expiry", 0),
    ENUM("source", 0, stock_sources),
    ENUM("purpose", 0, stock_purposes),
    TEXT("recipient", 0, 200),
    ID("transfer_id", 0),
    ID("counterpart", 0),
    ID("request_id", 0),
    INT("counted", 0, 0, BIG),
    INT("seen_on_hand", 0, -BIG, BIG),
    ENUM("dispose_reason", 0, dispose_reasons),
    TEXT("note", ML, 1000),
    TIME("occurred_at", GK_REQ),
};
static const struct gk_field point_entries_f[] = {
    ID("volunteer", GK_REQ),
    ENUM("kind", GK_REQ, gk_point_kind_words),
    INT("points", GK_REQ, -1000000, 1000000),
    INT("minutes", 0, -1440, 1440),
    TEXT("activity", 0, 64),
    ID("ref_entry", 0),
    TEXT("reason", 0, 500),
    TIME("occurred_at", GK_REQ),
};
static const struct gk_field notice_acks_f[] = {
    ID("notice", GK_REQ),
    INT("households_told", 0, 0, 1000000),
    INT("households_total", 0, 0, 1000000),
    TEXT("note", 0, 500),
    TIME("occurred_at", GK_REQ),
};
static const struct gk_field replenishment_requests_f[] = {
    ID("depot", GK_REQ),
    ID("item", GK_REQ),
    INT("quantity", GK_REQ | GK_NONZERO, 1, BIG),
    ID("upstream", GK_REQ), /* the unit asked: street or district */
    ID("parent", 0),        /* the request this one forwards */
    TEXT("reason", 0, 500),
    TIME("occurred_at", GK_REQ),
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define T(name, kind, writers, idx)                                            \
	{                                                                      \
#name, kind, name##_f, N(name##_f), (writers) | ADMIN, idx     \
	}

static const struct gk_table tables[] = {
    T(units, GK_MUTABLE, 0, 0),
    T(users, GK_MUTABLE, 0, 1),
    T(items, GK_MUTABLE, STREET, 2),
    T(depots, GK_MUTABLE, STREET | STATION, 3),
    T(standards, GK_MUTABLE, STREET, 4),
    T(volunteers, GK_MUTABLE, STATION, 5),
    T(notices, GK_MUTABLE, STREET, 6),
    T(hazards, GK_MUTABLE, STREET | STATION | WORKER, 7),
    T(hazard_events, GK_APPEND, STREET | STATION | WORKER, 8),
    T(inspections, GK_APPEND, STATION | WORKER, 9),
    T(stock_moves, GK_APPEND, STREET | STATION, 10),
    T(point_entries, GK_APPEND, STATION, 11),
    T(notice_acks, GK_APPEND, STREET | STATION | WORKER, 12),
    T(replenishment_requests, GK_APPEND, STREET | STATION, 13),
};

static const struct gk_table *const table_list[] = {
    &tables[0],  &tables[1],  &tables[2],  &tables[3],  &tables[4],
    &tables[5],  &tables[6],  &tables[7],  &tables[8],  &tables[9],
    &tables[10], &tables[11], &tables[12], &tables[13],
};

_Static_assert(N(tables) == N(table_list), "table list out of step");

const struct gk_table *const *
record_tables(int *n)
{
	*n = N(table_list);
	return table_list;
}

const struct gk_table *
record_table(const char *name)
{
	for (int i = 0; i < N(tables); i++)
		if (strcmp(tables[i].name, name) == 0)
			return &tables[i];
	return NULL;
}

int
record_field(const struct gk_table *t, const char *name)
{
	for (int i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return i;
	return -1;
}
