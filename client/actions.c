/*
 * actions.c: the actions staff take, as data, and the checks every form
 * and subcommand share.
 *
 * An action (struct gk_action) lists its inputs; the subcommands turn them
 * into options, the terminal UI into forms, and both call action_run. It
 * checks each input against its type (required, whole numbers in range,
 * words, records by id or name, local times) and then runs the action's
 * own function inside one write transaction, where it checks what needs
 * the records (stock on hand, a balance, a hazard's status) and writes its
 * changes through write.c. The rules of the records themselves are
 * validate.c's, applied by write_change_tx; nothing here repeats them.
 * The actions themselves are in actions_hazard.c, actions_stock.c and
 * actions_people.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions.h"

static const struct gk_action *const all_actions[] = {
    &act_report,  &act_edit,   &act_verify,   &act_plan,     &act_resolve,
    &act_close,   &act_reject, &act_reopen,   &act_note,     &act_patrol,
    &act_receive, &act_issue,  &act_transfer, &act_count,    &act_dispose,
    &act_request, &act_award,  &act_redeem,   &act_ack,      &act_volunteer,
    &act_depot,   &act_notice, &act_item,     &act_standard,
};

const struct gk_action *const *
action_all(int *n)
{
	*n = ACT_N(all_actions);
	return all_actions;
}

const struct gk_action *
action_find(const char *name)
{
	for (int i = 0; i < ACT_N(all_actions); i++)
		if (strcmp(all_actions[i]->name, name) == 0)
			return all_actions[i];
	return NULL;
}

/* ---- small helpers for the action files --------------------------------- */

int
act_refuse(struct act_result *res, const char *field, struct gk_error *err,
           int code, const char *fmt, ...)
{
	va_list ap;

	if (res != NULL)
		snprintf(res->field, sizeof res->field, "%s",
		         field != NULL ? field : "");
	if (err != NULL) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
act_str(json_t *v, const char *name)
{
	return json_string_value(json_object_get(v, name));
}

int64_t
act_int(json_t *v, const char *name, int64_t dflt)
{
	json_t *e = json_object_get(v, name);

	return json_is_integer(e) ? (int64_t)json_integer_value(e) : dflt;
}

int
act_bool(json_t *v, const char *name)
{
	return json_is_true(json_object_get(v, name));
}

int
act_has(json_t *v, const char *name)
{
	return json_object_get(v, name) != NULL;
}

void
act_copy(json_t *fields, json_t *v, const char *name, const char *key)
{
	json_t *e = json_object_get(v, name);

	if (e != NULL)
		json_object_set(fields, key, e);
}

const char *
act_time_or_now(struct gk_client *c, json_t *v, const char *name, char out[32])
{
	const char *s = act_str(v, name);

	if (s != NULL) {
		snprintf(out, 32, "%s", s);
		return out;
	}
	text_time_format(client_now_ms(c) / 1000 * 1000, out);
	return out;
}

int
act_real(json_t *v, const char *name, double lo, double hi, double *out,
         int *present, struct act_result *res, struct gk_error *err)
{
	const char *s = act_str(v, name);
	char *end;
	double d;

	*present = 0;
	if (s == NULL)
		return GK_OK;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || d != d)
		return act_refuse(res, name, err, GK_E_TYPE,
		                  _("\"%s\" is not a number"), s);
	if (d < lo || d > hi)
		return act_refuse(res, name, err, GK_E_RANGE,
		                  _("must be between %g and %g"), lo, hi);
	*out = d;
	*present = 1;
	return GK_OK;
}

/* A change field the validator names, and the input that feeds it. */
static const struct {
	const char *field, *input;
} field_inputs[] = {
    {"risk_level", "risk"},
    {"plan_measures", "measures"},
    {"plan_responsible", "responsible"},
    {"plan_deadline", "deadline"},
    {"plan_acceptor", "acceptor"},
    {"reject_reason", "reason"},
    {"dispose_reason", "reason"},
    {"households_told", "told"},
    {"households_total", "total"},
    {"minutes", "hours"},
    {"ended_at", "ended"},
    {"places_visited", "places"},
    {"hazards_found", "hazards"},
    {"min_qty", "minimum"},
    {"shelf_life_days", "shelf_life"},
    {"expires_at", "expires"},
    {"counterpart", "to"},
    {"occurred_at", "occurred_at"},
};

/* Where word last occurs in msg as a whole word, or -1. */
static long
word_at(const char *msg, const char *word)
{
	size_t n = strlen(word);
	long at = -1;

	for (const char *p = msg; (p = strstr(p, word)) != NULL; p++) {
		char b = p == msg ? ' ' : p[-1], a = p[n];
		int wb = b == '_' || (b >= 'a' && b <= 'z');
		int wa = a == '_' || (a >= 'a' && a <= 'z');
		if (!wb && !wa)
			at = (long)(p - msg);
	}
	return at;
}

static int
action_has_input(const struct gk_action *a, const char *name)
{
	for (int i = 0; i < a->ninputs; i++)
		if (strcmp(a->inputs[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Name the input at fault from a validator message, when we can: the
 * field named last ("a receive of this item needs expiry" is about the
 * expiry), by its input's name.
 */
static void
guess_field(const struct gk_action *a, const struct gk_error *err,
            struct act_result *res)
{
	const char *best = NULL;
	long at, best_at = -1;

	if (res->field[0] != '\0' || a == NULL)
		return;
	if (err->code == GK_E_PLAN_REQUIRED && action_has_input(a, "measures"))
		best = "measures";
	else if (err->code == GK_E_DUPLICATE_EARN &&
	         action_has_input(a, "activity"))
		best = "activity";
	if (best != NULL) {
		snprintf(res->field, sizeof res->field, "%s", best);
		return;
	}
	for (int i = 0; i < ACT_N(field_inputs); i++)
		if ((at = word_at(err->msg, field_inputs[i].field)) > best_at &&
		    action_has_input(a, field_inputs[i].input)) {
			best_at = at;
			best = field_inputs[i].input;
		}
	for (int i = 0; i < a->ninputs; i++)
		if ((at = word_at(err->msg, a->inputs[i].name)) > best_at) {
			best_at = at;
			best = a->inputs[i].name;
		}
	if (best != NULL)
		snprintf(res->field, sizeof res->field, "%s", best);
}

int
act_write(struct gk_client *c, const char *table, enum gk_op op,
          const char *row, json_t *fields, struct act_result *res,
          struct gk_error *err)
{
	int rc;

	(void)res; /* action_run names the field from err */
	if (fields == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	rc = write_change_tx(c, table, op, row, fields, NULL, err);
	json_decref(fields);
	return rc;
}

int
act_query_int(struct gk_client *c, const char *sql, const char *p1,
              const char *p2, int64_t *out, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	*out = 0;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	if (p1 != NULL)
		sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	if (p2 != NULL)
		sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	return r == SQLITE_ROW ? GK_OK : GK_E_NOT_FOUND;
}

int
act_query_text(struct gk_client *c, const char *sql, const char *p1, char *buf,
               size_t size, struct gk_error *err)
{
	sqlite3_stmt *st;
	int r;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		snprintf(buf, size, "%s",
		         (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	return r == SQLITE_ROW ? GK_OK : GK_E_NOT_FOUND;
}

int
act_on_hand(struct gk_client *c, const char *depot, const char *item,
            int64_t *out, struct gk_error *err)
{
	int rc = act_query_int(c,
	                       "SELECT coalesce(sum(quantity), 0) FROM "
	                       "stock_moves WHERE depot = ?1 AND item = ?2",
	                       depot, item, out, err);

	return rc == GK_E_NOT_FOUND ? GK_OK : rc;
}

int
act_hazard_status(struct gk_client *c, const char *hazard, enum gk_hstatus *out,
                  struct gk_error *err)
{
	char buf[32];
	int rc;

	rc = act_query_text(c,
	                    "SELECT status FROM hazards WHERE id = ?1 AND "
	                    "deleted IS NOT 1",
	                    hazard, buf, sizeof buf, err);
	if (rc == GK_E_NOT_FOUND)
		return gk_error_set(err, GK_E_NOT_FOUND, "%s",
		                    _("no such hazard"));
	if (rc != GK_OK)
		return rc;
	if (hazard_status_parse(buf, out) != GK_OK)
		return gk_error_set(err, GK_E_CORRUPT, "%s",
		                    _("the hazard's status is damaged"));
	return GK_OK;
}

/* ---- records by name ---------------------------------------------------- */

/* How a kind of record is found by name: ids of the rows that match ?1. */
static const struct {
	const char *ref;
	const char *sql;
} ref_sql[] = {
    {"grid", "SELECT id FROM units WHERE level = 'grid' AND deleted IS NOT 1"
             " AND (name = ?1 OR code = ?1) ORDER BY id"},
    {"unit", "SELECT id FROM units WHERE deleted IS NOT 1"
             " AND (name = ?1 OR code = ?1) ORDER BY id"},
    {"depot", "SELECT id FROM depots WHERE deleted IS NOT 1 AND name = ?1"
              " ORDER BY id"},
    /* A code wins over a name: codes are what is printed on the shelf. */
    {"item", "SELECT id FROM items WHERE deleted IS NOT 1 AND (code = ?1 OR"
             " (name = ?1 AND NOT EXISTS (SELECT 1 FROM items WHERE"
             " deleted IS NOT 1 AND code = ?1))) ORDER BY id"},
    {"volunteer", "SELECT id FROM volunteers WHERE deleted IS NOT 1 AND"
                  " name = ?1 ORDER BY id"},
    {"notice", "SELECT id FROM notices WHERE deleted IS NOT 1 AND"
               " title = ?1 ORDER BY id"},
    {"hazard", "SELECT id FROM hazards WHERE deleted IS NOT 1 AND"
               " title = ?1 ORDER BY id"},
};

/* The same kinds by id: the row exists and is not deleted. */
static const struct {
	const char *ref;
	const char *sql;
} ref_id_sql[] = {
    {"grid", "SELECT id FROM units WHERE id = ?1 AND level = 'grid' AND "
             "deleted IS NOT 1"},
    {"unit", "SELECT id FROM units WHERE id = ?1 AND deleted IS NOT 1"},
    {"depot", "SELECT id FROM depots WHERE id = ?1 AND deleted IS NOT 1"},
    {"item", "SELECT id FROM items WHERE id = ?1 AND deleted IS NOT 1"},
    {"volunteer",
     "SELECT id FROM volunteers WHERE id = ?1 AND deleted IS NOT 1"},
    {"notice", "SELECT id FROM notices WHERE id = ?1 AND deleted IS NOT 1"},
    {"hazard", "SELECT id FROM hazards WHERE id = ?1 AND deleted IS NOT 1"},
};

int
action_resolve_ref(struct gk_client *c, const char *ref, const char *text,
                   char id[GK_ID_LEN + 1], struct gk_error *err)
{
	const char *sql = NULL, *idsql = NULL;
	char list[160];
	sqlite3_stmt *st;
	size_t used = 0;
	int n = 0, r;

	id[0] = '\0';
	for (int i = 0; i < ACT_N(ref_sql); i++)
		if (strcmp(ref_sql[i].ref, ref) == 0) {
			sql = ref_sql[i].sql;
			idsql = ref_id_sql[i].sql;
		}
	if (sql == NULL)
		return gk_error_set(err, GK_E_USAGE,
		                    "unknown kind of record %s", ref);
	if (text == NULL || text[0] == '\0')
		return gk_error_set(err, GK_E_MISSING, "%s",
		                    _("no record named"));
	if (uuid_valid(text, strlen(text)))
		sql = idsql;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	list[0] = '\0';
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (v == NULL || strlen(v) != GK_ID_LEN)
			continue;
		if (n == 0)
			memcpy(id, v, GK_ID_LEN + 1);
		if (used + GK_ID_LEN + 3 < sizeof list) {
			used +=
			    (size_t)snprintf(list + used, sizeof list - used,
			                     "%s%s", n > 0 ? ", " : "", v);
		} else if (used + 5 < sizeof list) {
			used += (size_t)snprintf(list + used,
			                         sizeof list - used, ", ...");
		}
		n++;
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return gk_error_set(err, GK_E_DB, "%s", sqlite3_errmsg(c->db));
	if (n == 0)
		return gk_error_set(err, GK_E_NOT_FOUND, _("no %s \"%s\""), ref,
		                    text);
	if (n > 1) {
		id[0] = '\0';
		return gk_error_set(err, GK_E_INCONSISTENT,
		                    _("%d records of kind %s are named \"%s\": "
		                      "give the id of one: %s"),
		                    n, ref, text, list);
	}
	return GK_OK;
}

int
act_ref_list(struct gk_client *c, const char *ref, const char *field,
             const char *s, json_t *ids, struct act_result *res,
             struct gk_error *err)
{
	char buf[4096], id[GK_ID_LEN + 1];
	char *p, *q;
	int rc;

	snprintf(buf, sizeof buf, "%s", s);
	/* The full-width comma of Chinese input is a separator too. */
	while ((p = strstr(buf, "\xef\xbc\x8c")) != NULL) {
		*p = ',';
		memmove(p + 1, p + 3, strlen(p + 3) + 1);
	}
	for (p = buf; p != NULL; p = q) {
		if ((q = strchr(p, ',')) != NULL)
			*q++ = '\0';
		while (*p == ' ')
			p++;
		for (size_t n = strlen(p); n > 0 && p[n - 1] == ' '; n--)
			p[n - 1] = '\0';
		if (*p == '\0')
			continue;
		if ((rc = action_resolve_ref(c, ref, p, id, err)) != GK_OK)
			return act_refuse(res, field, NULL, rc, "%s", "");
		if (json_array_size(ids) >= 100)
			return act_refuse(res, field, err, GK_E_TOO_LONG, "%s",
			                  _("at most 100 records"));
		json_array_append_new(ids, json_string(id));
	}
	return GK_OK;
}

/*
 * 1 if the record (a depot or a grid) lies in the user's unit or under it,
 * the scope the server lets the user write in. A replica also holds
 * records above its scope (the street's depot, for requests), which can be
 * read but not written. Admins, and a session without a unit, pass.
 */
static int
in_scope(struct gk_client *c, const char *ref, const char *id,
         struct gk_error *err)
{
	static const char sql[] =
	    "WITH RECURSIVE up(id, parent, n) AS ("
	    " SELECT id, parent, 0 FROM units WHERE id = ?1"
	    " UNION ALL SELECT u.id, u.parent, up.n + 1 FROM units u"
	    " JOIN up ON u.id = up.parent WHERE up.n < 64)"
	    " SELECT count(*) FROM up WHERE id = ?2";
	char unit[GK_ID_LEN + 8];
	int64_t n = 0;

	if (c->sess.role == GK_ROLE_ADMIN || c->sess.unit[0] == '\0')
		return 1;
	if (strcmp(ref, "depot") == 0) {
		if (act_query_text(c, "SELECT unit FROM depots WHERE id = ?1",
		                   id, unit, sizeof unit, err) != GK_OK)
			return 0;
	} else {
		snprintf(unit, sizeof unit, "%s", id);
	}
	if (act_query_int(c, sql, unit, c->sess.unit, &n, err) == GK_E_DB)
		return 0;
	return n > 0;
}

/* ---- checking typed inputs ---------------------------------------------- */

/* Local "YYYY-MM-DD HH:MM[:SS]", a UTC time, or "now", as UTC text. */
static int
parse_time(struct gk_client *c, const char *s, char out[32])
{
	struct tm tm, chk;
	int y, mo, d, h, mi, sec = 0, n = 0;
	int64_t ms;
	time_t t;

	if (strcmp(s, "now") == 0) {
		text_time_format(client_now_ms(c) / 1000 * 1000, out);
		return GK_OK;
	}
	if (text_time_parse(s, strlen(s), &ms) == GK_OK) {
		text_time_format(ms, out);
		return GK_OK;
	}
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5)
		return GK_E_TIME;
	if (s[n] == ':') {
		int m = 0;
		if (sscanf(s + n, ":%2d%n", &sec, &m) != 1)
			return GK_E_TIME;
		n += m;
	}
	if (s[n] != '\0' || n != (int)strlen(s))
		return GK_E_TIME;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	chk = tm;
	if ((t = mktime(&tm)) == (time_t)-1 || tm.tm_mday != chk.tm_mday ||
	    tm.tm_mon != chk.tm_mon || tm.tm_year != chk.tm_year ||
	    tm.tm_min != chk.tm_min || sec > 59)
		return GK_E_TIME;
	text_time_format((int64_t)t * 1000, out);
	return GK_OK;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "y", "true", "1", "on", NULL};
	static const char *const no[] = {"no", "n", "false", "0", "off", NULL};

	for (int i = 0; yes[i] != NULL; i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = 1, GK_OK;
	for (int i = 0; no[i] != NULL; i++)
		if (strcmp(s, no[i]) == 0)
			return *out = 0, GK_OK;
	return GK_E_ENUM;
}

/* Check one input as typed; add its value to v (absent stays absent). */
static int
check_input(struct gk_client *c, const struct act_input *in, json_t *raw,
            json_t *v, struct act_result *res, struct gk_error *err)
{
	const char *s = json_string_value(raw);
	size_t len;
	char buf[32], id[GK_ID_LEN + 1];
	json_t *val = NULL;
	int rc, b;

	if (raw != NULL && !json_is_string(raw))
		return act_refuse(res, in->name, err, GK_E_TYPE, "%s",
		                  _("must be text"));
	if (s == NULL || s[0] == '\0') {
		if (in->flags & ACT_REQ)
			return act_refuse(res, in->name, err, GK_E_MISSING,
			                  "%s", _("is required"));
		return GK_OK;
	}
	len = strlen(s);
	if (len != json_string_length(raw))
		return act_refuse(res, in->name, err, GK_E_CONTROL, "%s",
		                  _("holds a NUL character"));
	if ((rc = text_check(s, len, in->type == ACT_LONGTEXT)) != GK_OK)
		return act_refuse(res, in->name, err, rc, "%s",
		                  rc == GK_E_UTF8
		                      ? _("is not valid UTF-8")
		                      : _("holds a control character"));
	switch (in->type) {
	case ACT_TEXT:
	case ACT_LONGTEXT:
		if (in->max > 0 && (int64_t)len > in->max)
			return act_refuse(res, in->name, err, GK_E_TOO_LONG,
			                  _("is longer than %lld bytes"),
			                  (long long)in->max);
		val = json_string(s);
		break;
	case ACT_INT: {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(s, &end, 10);
		if (end == s || *end != '\0' || errno != 0)
			return act_refuse(res, in->name, err, GK_E_TYPE,
			                  _("\"%s\" is not a whole number"), s);
		if (n < 0 && in->min >= 0)
			return act_refuse(res, in->name, err, GK_E_RANGE,
			                  _("%lld is negative"), n);
		if (n < in->min || n > in->max)
			return act_refuse(res, in->name, err, GK_E_RANGE,
			                  _("%lld is not in %lld..%lld"), n,
			                  (long long)in->min,
			                  (long long)in->max);
		val = json_integer(n);
		break;
	}
	case ACT_ENUM:
		for (int i = 0; in->words[i] != NULL; i++)
			if (strcmp(in->words[i], s) == 0)
				val = json_string(s);
		if (val == NULL) {
			char list[200];
			size_t u = 0;

			list[0] = '\0';
			for (int i = 0; in->words[i] != NULL && u < 180; i++)
				u += (size_t)snprintf(list + u, sizeof list - u,
				                      "%s%s", i ? ", " : "",
				                      in->words[i]);
			return act_refuse(res, in->name, err, GK_E_ENUM,
			                  _("\"%s\" is not one of: %s"), s,
			                  list);
		}
		break;
	case ACT_REF:
		if ((rc = action_resolve_ref(c, in->ref, s, id, err)) != GK_OK)
			return act_refuse(res, in->name, NULL, rc, "%s", "");
		if ((strcmp(in->ref, "depot") == 0 ||
		     strcmp(in->ref, "grid") == 0) &&
		    !in_scope(c, in->ref, id, err))
			return act_refuse(
			    res, in->name, err, GK_E_ROLE,
			    _("%s is outside your unit: it can be "
			      "read here, not written"),
			    s);
		val = json_string(id);
		break;
	case ACT_TIME:
		if (parse_time(c, s, buf) != GK_OK)
			return act_refuse(res, in->name, err, GK_E_TIME,
			                  _("\"%s\" is not a time YYYY-MM-DD "
			                    "HH:MM or now"),
			                  s);
		val = json_string(buf);
		break;
	case ACT_DATE:
		if (text_date_parse(s, len, NULL) != GK_OK)
			return act_refuse(res, in->name, err, GK_E_TIME,
			                  _("\"%s\" is not a date YYYY-MM-DD"),
			                  s);
		val = json_string(s);
		break;
	case ACT_BOOL:
		if (parse_bool(s, &b) != GK_OK)
			return act_refuse(res, in->name, err, GK_E_ENUM,
			                  _("\"%s\" is not yes or no"), s);
		val = json_boolean(b);
		break;
	}
	if (val == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	json_object_set_new(v, in->name, val);
	return GK_OK;
}

/* ---- who may act -------------------------------------------------------- */

int
action_allowed(struct gk_client *c, const struct gk_action *a,
               const char *target, struct gk_error *err)
{
	enum gk_hstatus from;
	const char *kind;
	int to;

	if (!c->sess.logged_in) {
		gk_error_set(err, GK_E_AUTH, "%s",
		             _("not logged in: gridkeep login SERVER USER"));
		return 0;
	}
	if ((unsigned)c->sess.role >= GK_ROLE_COUNT ||
	    !(a->roles & GK_ROLE_BIT(c->sess.role))) {
		gk_error_set(err, GK_E_ROLE, _("a %s user may not %s"),
		             record_role_name(c->sess.role), a->name);
		return 0;
	}
	if (a->target == NULL || strcmp(a->target, "hazard") != 0 ||
	    target == NULL)
		return 1;
	if (act_hazard_status(c, target, &from, err) != GK_OK)
		return 0;
	return act_hazard_move(c, a, from, &to, &kind, err) == GK_OK;
}

/* ---- running an action -------------------------------------------------- */

int
action_run(struct gk_client *c, const struct gk_action *a, const char *target,
           json_t *input, struct act_result *res, struct gk_error *err)
{
	char tid[GK_ID_LEN + 1];
	const char *key;
	json_t *v, *raw;
	int rc = GK_OK;

	memset(res, 0, sizeof *res);
	if (!json_is_object(input))
		return gk_error_set(err, GK_E_TYPE, "%s",
		                    _("the inputs are not an object"));
	if (!c->sess.logged_in)
		return gk_error_set(err, GK_E_AUTH, "%s",
		                    _("not logged in: gridkeep login SERVER "
		                      "USER"));
	json_object_foreach (input, key, raw) {
		if (!action_has_input(a, key))
			return act_refuse(res, key, err, GK_E_UNKNOWN_FIELD,
			                  _("%s has no input %s"), a->name,
			                  key);
	}
	if ((v = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	tid[0] = '\0';
	if (a->target != NULL) {
		if (target == NULL || target[0] == '\0')
			rc = act_refuse(res, a->target, err, GK_E_MISSING,
			                _("which %s?"), a->target);
		else if ((rc = action_resolve_ref(c, a->target, target, tid,
		                                  err)) != GK_OK)
			snprintf(res->field, sizeof res->field, "%s",
			         a->target);
	}
	/* Who may act comes first: no point naming a field otherwise. */
	if (rc == GK_OK && !action_allowed(c, a, tid[0] ? tid : NULL, err)) {
		snprintf(res->field, sizeof res->field, "%s",
		         a->target != NULL ? a->target : "");
		rc = err != NULL ? err->code : GK_E_ROLE;
	}
	for (int i = 0; rc == GK_OK && i < a->ninputs; i++)
		rc = check_input(c, &a->inputs[i],
		                 json_object_get(input, a->inputs[i].name), v,
		                 res, err);
	if (rc == GK_OK && (rc = write_begin(c, err)) == GK_OK) {
		rc = a->run(c, tid[0] ? tid : NULL, v, res, err);
		if (rc == GK_OK)
			rc = write_commit(c, err);
		else
			write_rollback(c);
		if (rc != GK_OK && err != NULL)
			guess_field(a, err, res);
	}
	if (rc == GK_OK && res->row[0] == '\0' && tid[0] != '\0')
		memcpy(res->row, tid, sizeof tid);
	if (rc != GK_OK)
		res->row[0] = '\0';
	json_decref(v);
	return rc;
}
