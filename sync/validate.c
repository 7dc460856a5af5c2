/*
 * validate.c: the domain rules of DESIGN.md, applied to untrusted changes.
 *
 * Every change that comes from elsewhere (a push to the server, a form
 * filled in at a station) passes here before the merge sees it. The checks
 * run in a fixed order and the first failure is returned, so one bad
 * change always earns the same code whatever order its JSON keys came in:
 *
 *   1. the actor's role may write the table at all;
 *   2. every key is a field of the table (server-owned columns are not);
 *   3. every value has its field's type, size and range, and text is
 *      valid UTF-8 without control characters (record.c holds the limits);
 *   4. what the op needs: insert and append carry every required field,
 *      an update sets something;
 *   5. the table's own rules: the hazard workflow, ledger signs, fields
 *      that belong to another kind of entry, fields that contradict.
 *
 * validate_change_tx then checks what needs the records (the plan of a
 * risk 1-2 hazard, the other half of a transfer, a second earn entry).
 * Neither keeps state nor reads the clock.
 *
 * Messages name our own fields and words, never the values that came in,
 * so a message can be shown and logged without echoing untrusted text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"

#define ADMIN   GK_ROLE_BIT(GK_ROLE_ADMIN)
#define STREET  GK_ROLE_BIT(GK_ROLE_STREET)
#define STATION GK_ROLE_BIT(GK_ROLE_STATION)

#define DAY_MS (24 * 3600 * 1000LL)

void
validate_policy_default(struct gk_policy *p)
{
	static const int hours[5] = {0, 2, 24, 72, 72};

	p->earn_points_per_hour = 1;
	p->earn_cap_minutes = 120;
	p->max_skew_ms = 5 * 60 * 1000;
	memcpy(p->response_hours, hours, sizeof hours);
}

/* ---- reading the fields of a change (already typed by step 3) ---------- */

/* A field's value, or NULL when it is absent or null (no value). */
static json_t *
val(const struct gk_change *c, const char *name)
{
	json_t *v = json_object_get(c->fields, name);

	return json_is_null(v) ? NULL : v;
}

static int
has(const struct gk_change *c, const char *name)
{
	return val(c, name) != NULL;
}

static const char *
str(const struct gk_change *c, const char *name)
{
	return json_string_value(val(c, name));
}

static json_int_t
num(const struct gk_change *c, const char *name)
{
	return json_integer_value(val(c, name));
}

/* 1 if the field holds the text s. */
static int
is(const struct gk_change *c, const char *name, const char *s)
{
	const char *v = str(c, name);

	return v != NULL && s != NULL && strcmp(v, s) == 0;
}

/* The first of the NULL-terminated names present, or NULL. */
static const char *
first_of(const struct gk_change *c, const char *const *names)
{
	for (; *names != NULL; names++)
		if (has(c, *names))
			return *names;
	return NULL;
}

/* GK_OK if the field is present, else GK_E_MISSING saying who needs it. */
static int
need(const struct gk_change *c, const char *name, const char *who,
     struct gk_error *err)
{
	if (has(c, name))
		return GK_OK;
	return gk_error_set(err, GK_E_MISSING, "%s needs %s", who, name);
}

/* Index of the word s[0..len) in a NULL-terminated list, or -1. */
static int
word_index(const char *const *words, const char *s, size_t len)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
			return i;
	return -1;
}

/* ---- step 3: one value against its field ---------------------------- */

/* Set err to code with "table.field what"; returns code. */
static int
ferr(struct gk_error *err, int code, const struct gk_table *t,
     const struct gk_field *f, const char *what)
{
	return gk_error_set(err, code, "%s.%s %s", t->name, f->name, what);
}

static int
check_text(const struct gk_table *t, const struct gk_field *f, json_t *v,
           struct gk_error *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (len > (size_t)f->max)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "%s.%s is longer than %lld bytes", t->name,
		                    f->name, (long long)f->max);
	if (strlen(s) != len)
		return ferr(err, GK_E_CONTROL, t, f, "holds a NUL character");
	switch (text_check(s, len, (f->flags & GK_MULTILINE) != 0)) {
	case GK_OK:
		break;
	case GK_E_CONTROL:
		return ferr(err, GK_E_CONTROL, t, f,
		            "holds a control character");
	default:
		return ferr(err, GK_E_UTF8, t, f, "is not valid UTF-8");
	}
	if (len == 0 && (f->flags & GK_REQ))
		return ferr(err, GK_E_MISSING, t, f, "is empty");
	return GK_OK;
}

static int
check_idlist(const struct gk_table *t, const struct gk_field *f, json_t *v,
             struct gk_error *err)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v))
		return ferr(err, GK_E_TYPE, t, f, "must be a list");
	if (json_array_size(v) == 0)
		return ferr(err, GK_E_MISSING, t, f, "is empty");
	if (json_array_size(v) > (size_t)f->max)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "%s.%s holds more than %lld ids", t->name,
		                    f->name, (long long)f->max);
	json_array_foreach (v, i, e) {
		if (!json_is_string(e))
			return ferr(err, GK_E_TYPE, t, f, "must hold strings");
		if (!uuid_valid(json_string_value(e), json_string_length(e)))
			return ferr(err, GK_E_ID, t, f, "holds an invalid id");
	}
	return GK_OK;
}

/* A string field that is not free text: id, enum, time or date. */
static int
check_word(const struct gk_table *t, const struct gk_field *f, json_t *v,
           struct gk_error *err)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	switch (f->type) {
	case GK_F_ID:
		if (!uuid_valid(s, len))
			return ferr(err, GK_E_ID, t, f,
			            "is not a lowercase UUID");
		return GK_OK;
	case GK_F_ENUM:
		if (word_index(f->words, s, len) < 0)
			return ferr(err, GK_E_ENUM, t, f,
			            "is not one of its words");
		return GK_OK;
	case GK_F_TIME:
		if (text_time_parse(s, len, NULL) != GK_OK)
			return ferr(err, GK_E_TIME, t, f,
			            "is not a time YYYY-MM-DDTHH:MM:SSZ");
		return GK_OK;
	default: /* GK_F_DATE */
		if (text_date_parse(s, len, NULL) != GK_OK)
			return ferr(err, GK_E_TIME, t, f,
			            "is not a date YYYY-MM-DD");
		return GK_OK;
	}
}

static int
check_number(const struct gk_table *t, const struct gk_field *f, json_t *v,
             struct gk_error *err)
{
	int bad;

	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		bad = n < f->min || n > f->max ||
		      (n == 0 && (f->flags & GK_NONZERO));
	} else {
		double d = json_real_value(v); /* limits are exact doubles */
		bad = d < (double)f->min || d > (double)f->max;
	}
	if (bad)
		return gk_error_set(
		    err, GK_E_RANGE, "%s.%s must be in %lld..%lld%s", t->name,
		    f->name, (long long)f->min, (long long)f->max,
		    (f->flags & GK_NONZERO) ? ", not 0" : "");
	return GK_OK;
}

static int
check_value(const struct gk_table *t, const struct gk_field *f, json_t *v,
            struct gk_error *err)
{
	if (json_is_null(v)) {
		if (f->flags & GK_REQ)
			return ferr(err, GK_E_MISSING, t, f, "may not be null");
		return GK_OK;
	}
	switch (f->type) {
	case GK_F_TEXT:
		if (!json_is_string(v))
			return ferr(err, GK_E_TYPE, t, f, "must be a string");
		return check_text(t, f, v, err);
	case GK_F_INT:
		if (!json_is_integer(v))
			return ferr(err, GK_E_TYPE, t, f, "must be an integer");
		return check_number(t, f, v, err);
	case GK_F_REAL:
		if (!json_is_number(v))
			return ferr(err, GK_E_TYPE, t, f, "must be a number");
		return check_number(t, f, v, err);
	case GK_F_BOOL:
		if (!json_is_boolean(v))
			return ferr(err, GK_E_TYPE, t, f,
			            "must be true or false");
		return GK_OK;
	case GK_F_IDLIST:
		return check_idlist(t, f, v, err);
	default:
		if (!json_is_string(v))
			return ferr(err, GK_E_TYPE, t, f, "must be a string");
		return check_word(t, f, v, err);
	}
}

/* Steps 2 and 3: every key known, then every value in field order. */
static int
check_fields(const struct gk_change *c, struct gk_error *err)
{
	const struct gk_table *t = c->table;
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach (c->fields, k, v) {
		if (record_field(t, k) < 0)
			return gk_error_set(err, GK_E_UNKNOWN_FIELD,
			                    "%s has no such field", t->name);
	}
	for (int i = 0; i < t->nfields; i++) {
		v = json_object_get(c->fields, t->fields[i].name);
		if (v != NULL &&
		    (rc = check_value(t, &t->fields[i], v, err)) != GK_OK)
			return rc;
	}
	return GK_OK;
}

/* Step 4: what each op must carry. */
static int
check_op(const struct gk_change *c, struct gk_error *err)
{
	const struct gk_table *t = c->table;

	switch (c->op) {
	case GK_OP_INSERT:
	case GK_OP_APPEND:
		for (int i = 0; i < t->nfields; i++)
			if ((t->fields[i].flags & GK_REQ) &&
			    !has(c, t->fields[i].name))
				return gk_error_set(err, GK_E_MISSING,
				                    "%s of %s needs %s",
				                    change_op_name(c->op),
				                    t->name, t->fields[i].name);
		return GK_OK;
	case GK_OP_UPDATE:
		if (json_object_size(c->fields) == 0)
			return gk_error_set(
			    err, GK_E_MISSING,
			    "an update sets at least one field");
		return GK_OK;
	default:
		return GK_OK;
	}
}

/* ---- step 5: the rules of each table ------------------------------------ */

static const char *const plan_fields[] = {"plan_measures", "plan_responsible",
                                          "plan_deadline", "plan_acceptor",
                                          NULL};
static const char *const reject_fields[] = {"reject_reason", "duplicate_of",
                                            NULL};

/* The three parts of a plan (一点一案); the acceptor is optional. */
static int
need_plan(const struct gk_change *c, const char *who, struct gk_error *err)
{
	int rc;

	for (int i = 0; i < 3; i++)
		if ((rc = need(c, plan_fields[i], who, err)) != GK_OK)
			return rc;
	return GK_OK;
}

/* Who may move a hazard from where to where, and what each move records. */
static int
hazard_transition(const struct gk_change *c, const struct gk_actor *a,
                  struct gk_error *err)
{
	enum gk_hstatus from, to;
	unsigned who;
	const char *f;
	int rc;

	if ((rc = need(c, "from_status", "a transition", err)) != GK_OK ||
	    (rc = need(c, "to_status", "a transition", err)) != GK_OK)
		return rc;
	if (hazard_status_parse(str(c, "from_status"), &from) != GK_OK ||
	    hazard_status_parse(str(c, "to_status"), &to) != GK_OK)
		return gk_error_set(err, GK_E_ENUM, "unknown hazard status");
	who = hazard_transition_roles(from, to);
	if (to == GK_HS_NEW || who == 0)
		return gk_error_set(
		    err, GK_E_TRANSITION, "a hazard never goes from %s to %s",
		    hazard_status_name(from), hazard_status_name(to));
	if (!(who & GK_ROLE_BIT(a->role)))
		return gk_error_set(
		    err, GK_E_ROLE,
		    "role %s may not move a hazard from %s to %s",
		    record_role_name(a->role), hazard_status_name(from),
		    hazard_status_name(to));

	if (to == GK_HS_REJECTED) {
		if ((rc = need(c, "reject_reason", "a rejection", err)) !=
		    GK_OK)
			return rc;
		if (is(c, "reject_reason", "duplicate")) {
			if ((rc = need(c, "duplicate_of", "a duplicate",
			               err)) != GK_OK)
				return rc;
			if (is(c, "duplicate_of", str(c, "hazard")))
				return gk_error_set(err, GK_E_INCONSISTENT,
				                    "a hazard cannot duplicate "
				                    "itself");
		} else if (has(c, "duplicate_of")) {
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "duplicate_of goes with "
			                    "reject_reason duplicate");
		}
	} else if ((f = first_of(c, reject_fields)) != NULL) {
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "%s goes with a rejection only", f);
	}

	if ((f = first_of(c, plan_fields)) != NULL) {
		if (from != GK_HS_VERIFIED || to != GK_HS_RECTIFYING)
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "%s goes with verified to "
			                    "rectifying only",
			                    f);
		if ((rc = need_plan(c, "a plan", err)) != GK_OK)
			return rc;
	}
	if (from == GK_HS_RECTIFYING && to == GK_HS_RESOLVED)
		return need(c, "note", "resolving a hazard", err);
	if (to == GK_HS_RECTIFYING &&
	    (from == GK_HS_RESOLVED || from == GK_HS_CLOSED))
		return need(c, "note", "reopening a hazard", err);
	return GK_OK;
}

static int
rule_hazard_event(const struct gk_change *c, const struct gk_actor *a,
                  struct gk_error *err)
{
	const char *f;

	if (is(c, "kind", "transition"))
		return hazard_transition(c, a, err);
	if (is(c, "kind", "plan") &&
	    !(GK_ROLE_BIT(a->role) & (ADMIN | STREET | STATION)))
		return gk_error_set(err, GK_E_ROLE,
		                    "only a station or street office sets "
		                    "a plan");
	if (has(c, "from_status") || has(c, "to_status"))
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "only a transition has a from_status "
		                    "or to_status");
	if ((f = first_of(c, reject_fields)) != NULL)
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "%s goes with a rejection only", f);
	if (is(c, "kind", "note")) {
		if ((f = first_of(c, plan_fields)) != NULL)
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "%s goes with a plan, not a note",
			                    f);
		return need(c, "note", "a note event", err);
	}
	return need_plan(c, "a plan event", err);
}

enum { SIGN_POS, SIGN_NONNEG, SIGN_NEG, SIGN_NONPOS, SIGN_NONZERO, SIGN_ANY };
static const char *const sign_words[] = {"above 0",   "0 or more", "below 0",
                                         "0 or less", "not 0",     "any"};

/* Stock kinds, in gk_stock_kind_words order. */
enum { RECEIVE, ISSUE, TRANSFER_OUT, TRANSFER_IN, COUNT_ADJUST, DISPOSE };
#define KIND(i)   (1u << (i))
#define TRANSFERS (KIND(TRANSFER_OUT) | KIND(TRANSFER_IN))

/* The sign of each kind's quantity and the fields it requires. */
static const struct {
	int sign;
	const char *needs[3];
} stock_kinds[] = {
    [RECEIVE] = {SIGN_POS, {"source", NULL}},
    [ISSUE] = {SIGN_NEG, {"purpose", NULL}},
    [TRANSFER_OUT] = {SIGN_NEG, {"transfer_id", "counterpart", NULL}},
    [TRANSFER_IN] = {SIGN_POS, {"transfer_id", "counterpart", NULL}},
    [COUNT_ADJUST] = {SIGN_ANY, {"counted", "seen_on_hand", NULL}},
    [DISPOSE] = {SIGN_NEG, {"dispose_reason", NULL}},
};

/* The fields that belong to some kinds only. */
static const struct {
	const char *field;
	unsigned kinds;
} stock_only[] = {
    {"source", KIND(RECEIVE)},         {"purpose", KIND(ISSUE)},
    {"recipient", KIND(ISSUE)},        {"transfer_id", TRANSFERS},
    {"counterpart", TRANSFERS},        {"request_id", TRANSFERS},
    {"counted", KIND(COUNT_ADJUST)},   {"seen_on_hand", KIND(COUNT_ADJUST)},
    {"dispose_reason", KIND(DISPOSE)},
};

static int
sign_ok(int sign, json_int_t n)
{
	switch (sign) {
	case SIGN_POS:
		return n > 0;
	case SIGN_NONNEG:
		return n >= 0;
	case SIGN_NEG:
		return n < 0;
	case SIGN_NONPOS:
		return n <= 0;
	case SIGN_NONZERO:
		return n != 0;
	default:
		return 1;
	}
}

static int
rule_stock_move(const struct gk_change *c, struct gk_error *err)
{
	const char *kind = str(c, "kind");
	json_int_t q = num(c, "quantity");
	char who[48];
	int k, rc;

	if ((k = word_index(gk_stock_kind_words, kind, strlen(kind))) < 0)
		return gk_error_set(err, GK_E_ENUM, "unknown stock kind");
	snprintf(who, sizeof who, "a move of kind %s", kind);
	if (!sign_ok(stock_kinds[k].sign, q))
		return gk_error_set(err, GK_E_SIGN, "%s needs a quantity %s",
		                    who, sign_words[stock_kinds[k].sign]);
	for (size_t i = 0; i < sizeof stock_only / sizeof stock_only[0]; i++)
		if (!(stock_only[i].kinds & KIND(k)) &&
		    has(c, stock_only[i].field))
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "%s has no %s", who,
			                    stock_only[i].field);
	for (int i = 0; stock_kinds[k].needs[i] != NULL; i++)
		if ((rc = need(c, stock_kinds[k].needs[i], who, err)) != GK_OK)
			return rc;

	if ((KIND(k) & TRANSFERS) && is(c, "counterpart", str(c, "depot")))
		return gk_error_set(
		    err, GK_E_INCONSISTENT,
		    "a transfer's counterpart is another depot");
	if (k == COUNT_ADJUST &&
	    q != num(c, "counted") - num(c, "seen_on_hand"))
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "a count_adjust's quantity is counted "
		                    "minus seen_on_hand");
	if (k == DISPOSE && is(c, "dispose_reason", "other"))
		return need(c, "note", "disposing for another reason", err);
	return GK_OK;
}

/* Point kinds in gk_point_kind_words order: the sign of the points. */
static const int point_signs[] = {
    SIGN_POS,    /* grant */
    SIGN_NONNEG, /* earn */
    SIGN_POS,    /* bonus */
    SIGN_NEG,    /* redeem */
    SIGN_NONPOS, /* revoke: an earn of 0 points still has minutes */
    SIGN_NEG,    /* expire */
    SIGN_NONZERO /* correction */
};

static int
rule_point_entry(const struct gk_change *c, const struct gk_policy *pol,
                 struct gk_error *err)
{
	const char *kind = str(c, "kind");
	json_int_t pts = num(c, "points"), min = num(c, "minutes");
	int k, rc;

	if ((k = word_index(gk_point_kind_words, kind, strlen(kind))) < 0)
		return gk_error_set(err, GK_E_ENUM, "unknown point kind");
	if (!sign_ok(point_signs[k], pts))
		return gk_error_set(err, GK_E_SIGN,
		                    "an entry of kind %s needs points %s", kind,
		                    sign_words[point_signs[k]]);
	if (has(c, "minutes") && strcmp(kind, "earn") != 0 &&
	    strcmp(kind, "revoke") != 0)
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "only earn and revoke entries count "
		                    "minutes");

	if (strcmp(kind, "earn") == 0) {
		json_int_t capped, want;

		if ((rc = need(c, "minutes", "an earn", err)) != GK_OK)
			return rc;
		if (min <= 0)
			return gk_error_set(
			    err, GK_E_RANGE,
			    "an earn's minutes must be above 0");
		if ((rc = need(c, "activity", "an earn", err)) != GK_OK)
			return rc;
		capped =
		    min < pol->earn_cap_minutes ? min : pol->earn_cap_minutes;
		want = capped * pol->earn_points_per_hour / 60;
		if (pts != want)
			return gk_error_set(err, GK_E_INCONSISTENT,
			                    "points must be %lld for these "
			                    "minutes",
			                    (long long)want);
	} else if (strcmp(kind, "revoke") == 0) {
		if ((rc = need(c, "ref_entry", "a revoke", err)) != GK_OK ||
		    (rc = need(c, "activity", "a revoke", err)) != GK_OK)
			return rc;
		if (min > 0)
			return gk_error_set(err, GK_E_SIGN,
			                    "a revoke's minutes must not be "
			                    "above 0");
		if (pts == 0 && min == 0)
			return gk_error_set(err, GK_E_SIGN,
			                    "a revoke takes back points or "
			                    "minutes");
	}
	return GK_OK;
}

static int
rule_notice_ack(const struct gk_change *c, struct gk_error *err)
{
	if (has(c, "households_told") && has(c, "households_total") &&
	    num(c, "households_told") > num(c, "households_total"))
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "households_told is more than "
		                    "households_total");
	return GK_OK;
}

static int
rule_inspection(const struct gk_change *c, struct gk_error *err)
{
	const char *s = str(c, "occurred_at"), *e = str(c, "ended_at");
	int64_t start, end;

	if (s == NULL || e == NULL ||
	    text_time_parse(s, strlen(s), &start) != GK_OK ||
	    text_time_parse(e, strlen(e), &end) != GK_OK)
		return GK_OK;
	if (end < start)
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "a patrol ends before it starts");
	if (end - start > DAY_MS)
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "a patrol lasts at most 24 hours");
	return GK_OK;
}

/* units and replenishment_requests: a row is not its own parent. */
static int
rule_parent(const struct gk_change *c, struct gk_error *err)
{
	if (is(c, "parent", c->row))
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    "a row of %s is not its own parent",
		                    c->table->name);
	return GK_OK;
}

/* Step 5 for the tables that have rules of their own. */
static int
check_table(const struct gk_change *c, const struct gk_actor *actor,
            const struct gk_policy *pol, struct gk_error *err)
{
	const char *name = c->table->name;

	if (strcmp(name, "hazard_events") == 0)
		return rule_hazard_event(c, actor, err);
	if (strcmp(name, "stock_moves") == 0)
		return rule_stock_move(c, err);
	if (strcmp(name, "point_entries") == 0)
		return rule_point_entry(c, pol, err);
	if (strcmp(name, "inspections") == 0)
		return rule_inspection(c, err);
	if (strcmp(name, "notice_acks") == 0)
		return rule_notice_ack(c, err);
	if (strcmp(name, "units") == 0 ||
	    strcmp(name, "replenishment_requests") == 0)
		return rule_parent(c, err);
	return GK_OK;
}

int
validate_change(const struct gk_change *c, const struct gk_actor *actor,
                const struct gk_policy *pol, struct gk_error *err)
{
	const struct gk_table *t = c->table;
	int rc;

	if (t == NULL)
		return gk_error_set(err, GK_E_UNKNOWN_TABLE, "no such table");
	if ((t->kind == GK_APPEND) != (c->op == GK_OP_APPEND))
		return gk_error_set(err, GK_E_OP, "op %s is not for %s",
		                    change_op_name(c->op), t->name);
	if (!json_is_object(c->fields))
		return gk_error_set(err, GK_E_TYPE, "fields must be an object");
	if (c->op == GK_OP_DELETE && json_object_size(c->fields) != 0)
		return gk_error_set(err, GK_E_OP, "a delete carries no fields");
	if ((unsigned)actor->role >= GK_ROLE_COUNT ||
	    !(t->writers & GK_ROLE_BIT(actor->role)))
		return gk_error_set(err, GK_E_ROLE, "role %s may not write %s",
		                    record_role_name(actor->role), t->name);
	if ((rc = check_fields(c, err)) != GK_OK ||
	    (rc = check_op(c, err)) != GK_OK)
		return rc;
	return c->op == GK_OP_DELETE ? GK_OK : check_table(c, actor, pol, err);
}

/* ---- checks against the records ----------------------------------------- */

/* Step once: 1 for a row, 0 when done, -1 on error with err set. */
static int
step(sqlite3 *db, sqlite3_stmt *st, struct gk_error *err)
{
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		return 0;
	default:
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		return -1;
	}
}

/*
 * Prepare sql, bind n texts (NULL binds NULL) and step once, as step()
 * answers. *st is the statement, or NULL; the caller finalizes it.
 */
static int
first_row(sqlite3 *db, sqlite3_stmt **st, struct gk_error *err, const char *sql,
          int n, ...)
{
	va_list ap;

	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(db));
		return -1;
	}
	va_start(ap, n);
	for (int i = 1; i <= n; i++)
		sqlite3_bind_text(*st, i, va_arg(ap, const char *), -1,
		                  SQLITE_STATIC);
	va_end(ap);
	return step(db, *st, err);
}

/* 1 if column i holds the text s (NULL matches nothing). */
static int
col_is(sqlite3_stmt *st, int i, const char *s)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v != NULL && s != NULL && strcmp(v, s) == 0;
}

typedef int (*tx_fn)(sqlite3 *db, const struct gk_change *c,
                     struct gk_error *err);

/* A risk 1-2 hazard is not rectified without a plan (一点一案). */
static int
tx_hazard_event(sqlite3 *db, const struct gk_change *c, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, risk = 0;

	if (!is(c, "kind", "transition") || !is(c, "from_status", "verified") ||
	    !is(c, "to_status", "rectifying") ||
	    (has(c, "plan_measures") && has(c, "plan_responsible") &&
	     has(c, "plan_deadline")))
		return GK_OK;
	if ((r = first_row(db, &st, err,
	                   "SELECT risk_level FROM hazards WHERE id = ?1", 1,
	                   str(c, "hazard"))) > 0)
		risk = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (r < 0)
		return GK_E_DB;
	if (risk == 1 || risk == 2)
		return gk_error_set(err, GK_E_PLAN_REQUIRED,
		                    "a risk %d hazard needs plan_measures, "
		                    "plan_responsible and plan_deadline",
		                    risk);
	return GK_OK;
}

/* A receive of an item with a shelf life names the lot's expiry. */
static int
tx_receive(sqlite3 *db, const struct gk_change *c, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, shelf = 0;

	if (has(c, "expiry"))
		return GK_OK;
	if ((r = first_row(db, &st, err,
	                   "SELECT shelf_life_days FROM items WHERE id = ?1", 1,
	                   str(c, "item"))) > 0)
		shelf = sqlite3_column_type(st, 0) != SQLITE_NULL;
	sqlite3_finalize(st);
	if (r < 0)
		return GK_E_DB;
	if (shelf)
		return gk_error_set(err, GK_E_MISSING,
		                    "this item has a shelf life: a receive "
		                    "needs expiry");
	return GK_OK;
}

/*
 * A transfer has one transfer_out and one transfer_in; when the other half
 * is here, the two mirror each other.
 */
static int
tx_transfer(sqlite3 *db, const struct gk_change *c, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r, rc = GK_OK;

	r = first_row(db, &st, err,
	              "SELECT kind, item, quantity, depot, counterpart "
	              "FROM stock_moves WHERE transfer_id = ?1 AND id <> ?2",
	              2, str(c, "transfer_id"), c->row);
	for (; r > 0; r = step(db, st, err)) {
		if (col_is(st, 0, str(c, "kind"))) {
			rc = gk_error_set(err, GK_E_TRANSFER,
			                  "this transfer already has its %s",
			                  str(c, "kind"));
			break;
		}
		if (!col_is(st, 1, str(c, "item")) ||
		    sqlite3_column_int64(st, 2) != -num(c, "quantity") ||
		    !col_is(st, 3, str(c, "counterpart")) ||
		    !col_is(st, 4, str(c, "depot"))) {
			rc = gk_error_set(err, GK_E_TRANSFER,
			                  "the other half of this transfer "
			                  "does not match");
			break;
		}
	}
	sqlite3_finalize(st);
	return rc != GK_OK ? rc : r < 0 ? GK_E_DB : GK_OK;
}

static int
tx_stock_move(sqlite3 *db, const struct gk_change *c, struct gk_error *err)
{
	if (is(c, "kind", "receive"))
		return tx_receive(db, c, err);
	if (is(c, "kind", "transfer_out") || is(c, "kind", "transfer_in"))
		return tx_transfer(db, c, err);
	return GK_OK;
}

/*
 * One earn per (volunteer, activity); a revoke reverses exactly the earn
 * it names, when that earn is here.
 */
static int
tx_point_entry(sqlite3 *db, const struct gk_change *c, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r = 0, rc = GK_OK;

	if (is(c, "kind", "earn")) {
		if ((r = first_row(db, &st, err,
		                   "SELECT 1 FROM point_entries "
		                   "WHERE volunteer = ?1 AND activity = ?2 "
		                   "AND kind = 'earn' AND id <> ?3",
		                   3, str(c, "volunteer"), str(c, "activity"),
		                   c->row)) > 0)
			rc = gk_error_set(err, GK_E_DUPLICATE_EARN,
			                  "this volunteer already earned for "
			                  "this activity");
	} else if (is(c, "kind", "revoke") && has(c, "ref_entry")) {
		if ((r = first_row(db, &st, err,
		                   "SELECT kind, volunteer, points "
		                   "FROM point_entries WHERE id = ?1",
		                   1, str(c, "ref_entry"))) > 0 &&
		    (!col_is(st, 0, "earn") ||
		     !col_is(st, 1, str(c, "volunteer")) ||
		     sqlite3_column_int64(st, 2) != -num(c, "points")))
			rc = gk_error_set(err, GK_E_INCONSISTENT,
			                  "a revoke reverses an earn of the "
			                  "same volunteer, point for point");
	} else {
		return GK_OK;
	}
	sqlite3_finalize(st);
	return r < 0 ? GK_E_DB : rc;
}

static const struct {
	const char *table;
	const char *exists; /* a re-sent change is checked no further */
	tx_fn check;
} tx_rules[] = {
    {"hazard_events", "SELECT 1 FROM hazard_events WHERE id = ?1",
     tx_hazard_event},
    {"stock_moves", "SELECT 1 FROM stock_moves WHERE id = ?1", tx_stock_move},
    {"point_entries", "SELECT 1 FROM point_entries WHERE id = ?1",
     tx_point_entry},
};

int
validate_change_tx(sqlite3 *db, const struct gk_change *c,
                   const struct gk_policy *pol, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	(void)pol;
	if (c->table == NULL || c->op != GK_OP_APPEND)
		return GK_OK;
	for (size_t i = 0; i < sizeof tx_rules / sizeof tx_rules[0]; i++) {
		if (strcmp(tx_rules[i].table, c->table->name) != 0)
			continue;
		r = first_row(db, &st, err, tx_rules[i].exists, 1, c->row);
		sqlite3_finalize(st);
		if (r != 0)
			return r < 0 ? GK_E_DB : GK_OK;
		return tx_rules[i].check(db, c, err);
	}
	return GK_OK;
}
