/*
 * actions_people.c: volunteers and their points, notices and their
 * acknowledgements (叫应).
 *
 * An earn's points are computed here from the hours exactly as validate.c
 * checks them (capped per activity by the policy), so a form never offers
 * a number the server would refuse. A redeem larger than the balance is
 * refused here; the ledger itself would take it and show a negative
 * balance.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"

/* The words of record.c (tests/test-actions checks they agree). */
static const char *const award_kinds[] = {"earn", "bonus", "grant", NULL};
static const char *const notice_kinds[] = {"warning", "notice", NULL};

/* Hours typed as a decimal ("1.5") into whole minutes, 1..1440. */
static int
parse_hours(const char *s, int64_t *minutes, struct act_result *res,
            struct gk_error *err)
{
	char *end;
	double h;

	errno = 0;
	h = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || h != h)
		return act_refuse(res, "hours", err, GK_E_TYPE,
		                  _("\"%s\" is not a number of hours"), s);
	if (h <= 0 || h > 24)
		return act_refuse(res, "hours", err, GK_E_RANGE, "%s",
		                  _("must be above 0 and at most 24"));
	*minutes = (int64_t)(h * 60 + 0.5);
	if (*minutes < 1)
		*minutes = 1;
	return GK_OK;
}

static int
add_entry(struct gk_client *c, json_t *f, json_t *v, struct act_result *res,
          struct gk_error *err)
{
	char id[GK_ID_LEN + 1], when[32];
	int rc;

	act_copy(f, v, "volunteer", "volunteer");
	json_object_set_new(
	    f, "occurred_at",
	    json_string(act_time_or_now(c, v, "occurred_at", when)));
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "point_entries", GK_OP_APPEND, id, f, res,
	                    err)) != GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_award(struct gk_client *c, const char *target, json_t *v,
          struct act_result *res, struct gk_error *err)
{
	const char *kind = act_str(v, "kind");
	int64_t minutes = 0, capped, points;
	json_t *f;
	int rc;

	(void)target;
	if (kind == NULL)
		kind = "earn";
	if (strcmp(kind, "earn") != 0) {
		if (!act_has(v, "points"))
			return act_refuse(res, "points", err, GK_E_MISSING,
			                  _("a %s needs points"), kind);
		if (act_has(v, "hours"))
			return act_refuse(res, "hours", err, GK_E_INCONSISTENT,
			                  "%s", _("only an earn counts hours"));
		if ((f = json_object()) == NULL)
			return gk_error_set(err, GK_E_NOMEM, "%s",
			                    _("out of memory"));
		json_object_set_new(f, "kind", json_string(kind));
		act_copy(f, v, "points", "points");
		act_copy(f, v, "activity", "activity");
		act_copy(f, v, "reason", "reason");
		return add_entry(c, f, v, res, err);
	}
	if (!act_has(v, "activity"))
		return act_refuse(res, "activity", err, GK_E_MISSING, "%s",
		                  _("an earn names its activity"));
	if (!act_has(v, "hours"))
		return act_refuse(res, "hours", err, GK_E_MISSING, "%s",
		                  _("an earn needs the hours served"));
	if (act_has(v, "points"))
		return act_refuse(res, "points", err, GK_E_INCONSISTENT, "%s",
		                  _("an earn's points come from its hours"));
	if ((rc = parse_hours(act_str(v, "hours"), &minutes, res, err)) !=
	    GK_OK)
		return rc;
	capped = minutes < c->policy.earn_cap_minutes
	             ? minutes
	             : c->policy.earn_cap_minutes;
	points = capped * c->policy.earn_points_per_hour / 60;
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	json_object_set_new(f, "kind", json_string("earn"));
	json_object_set_new(f, "points", json_integer(points));
	json_object_set_new(f, "minutes", json_integer(minutes));
	act_copy(f, v, "activity", "activity");
	act_copy(f, v, "reason", "reason");
	return add_entry(c, f, v, res, err);
}

static int
run_redeem(struct gk_client *c, const char *target, json_t *v,
           struct act_result *res, struct gk_error *err)
{
	int64_t want = act_int(v, "points", 0), have;
	json_t *f;
	int rc;

	(void)target;
	rc = act_query_int(c,
	                   "SELECT coalesce(sum(points), 0) FROM point_entries "
	                   "WHERE volunteer = ?1",
	                   act_str(v, "volunteer"), NULL, &have, err);
	if (rc != GK_OK && rc != GK_E_NOT_FOUND)
		return rc;
	if (want > have)
		return act_refuse(res, "points", err, GK_E_RANGE,
		                  _("%lld is more than the %lld points held"),
		                  (long long)want, (long long)have);
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	json_object_set_new(f, "kind", json_string("redeem"));
	json_object_set_new(f, "points", json_integer(-want));
	act_copy(f, v, "reason", "reason");
	return add_entry(c, f, v, res, err);
}

/* The unit input, or the user's own unit. */
static int
put_unit(struct gk_client *c, json_t *f, json_t *v, struct act_result *res,
         struct gk_error *err)
{
	if (act_has(v, "unit")) {
		act_copy(f, v, "unit", "unit");
		return GK_OK;
	}
	if (!uuid_valid(c->sess.unit, strlen(c->sess.unit)))
		return act_refuse(res, "unit", err, GK_E_MISSING, "%s",
		                  _("is required"));
	json_object_set_new(f, "unit", json_string(c->sess.unit));
	return GK_OK;
}

static int
run_volunteer(struct gk_client *c, const char *target, json_t *v,
              struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1];
	json_t *f;
	int rc;

	(void)target;
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	if ((rc = put_unit(c, f, v, res, err)) != GK_OK) {
		json_decref(f);
		return rc;
	}
	act_copy(f, v, "name", "name");
	act_copy(f, v, "contact", "contact");
	act_copy(f, v, "skills", "skills");
	json_object_set_new(f, "active", json_true());
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "volunteers", GK_OP_INSERT, id, f, res, err)) !=
	    GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_ack(struct gk_client *c, const char *target, json_t *v,
        struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], when[32];
	json_t *f;
	int rc;

	if (act_has(v, "told") && act_has(v, "total") &&
	    act_int(v, "told", 0) > act_int(v, "total", 0))
		return act_refuse(res, "told", err, GK_E_INCONSISTENT,
		                  _("%lld households told is more than the "
		                    "%lld there are"),
		                  (long long)act_int(v, "told", 0),
		                  (long long)act_int(v, "total", 0));
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	json_object_set_new(f, "notice", json_string(target));
	act_copy(f, v, "told", "households_told");
	act_copy(f, v, "total", "households_total");
	act_copy(f, v, "note", "note");
	json_object_set_new(f, "occurred_at",
	                    json_string(act_time_or_now(c, NULL, "", when)));
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "notice_acks", GK_OP_APPEND, id, f, res, err)) !=
	    GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_notice(struct gk_client *c, const char *target, json_t *v,
           struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], when[32];
	json_t *f, *targets;
	int rc;

	(void)target;
	if ((targets = json_array()) == NULL || (f = json_object()) == NULL) {
		json_decref(targets);
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	}
	json_object_set_new(f, "targets", targets);
	if ((rc = act_ref_list(c, "unit", "targets", act_str(v, "targets"),
	                       targets, res, err)) != GK_OK ||
	    (rc = put_unit(c, f, v, res, err)) != GK_OK) {
		json_decref(f);
		return rc;
	}
	if (json_array_size(targets) == 0) {
		json_decref(f);
		return act_refuse(res, "targets", err, GK_E_MISSING, "%s",
		                  _("is required"));
	}
	act_copy(f, v, "kind", "kind");
	act_copy(f, v, "level", "level");
	act_copy(f, v, "title", "title");
	act_copy(f, v, "body", "body");
	act_copy(f, v, "expires", "expires_at");
	json_object_set_new(f, "occurred_at",
	                    json_string(act_time_or_now(c, NULL, "", when)));
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "notices", GK_OP_INSERT, id, f, res, err)) !=
	    GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

/* ---- the table ---------------------------------------------------------- */

#define IN_VOLUNTEER                                                           \
	{                                                                      \
		"volunteer", N_("Volunteer"), ACT_REF, ACT_REQ, NULL,          \
		    "volunteer", 0, 0, N_("the volunteer: name or id")         \
	}
#define IN_WHEN                                                                \
	{                                                                      \
		"occurred_at", N_("When"), ACT_TIME, 0, NULL, NULL, 0, 0,      \
		    N_("YYYY-MM-DD HH:MM local time (default now)")            \
	}

static const struct act_input award_in[] = {
    IN_VOLUNTEER,
    {"kind", N_("Kind"), ACT_ENUM, 0, award_kinds, NULL, 0, 0,
     N_("earn (for hours served, the default), bonus or grant")},
    {"activity", N_("Activity"), ACT_TEXT, 0, NULL, NULL, 0, 64,
     N_("the activity served: one earn per volunteer and activity")},
    {"hours", N_("Hours"), ACT_TEXT, 0, NULL, NULL, 0, 16,
     N_("hours served, e.g. 1.5; points are capped per activity")},
    {"points", N_("Points"), ACT_INT, 0, NULL, NULL, 1, 1000000,
     N_("points of a bonus or grant")},
    {"reason", N_("Reason"), ACT_TEXT, 0, NULL, NULL, 0, 500, N_("why")},
    IN_WHEN,
};

static const struct act_input redeem_in[] = {
    IN_VOLUNTEER,
    {"points", N_("Points"), ACT_INT, ACT_REQ, NULL, NULL, 1, 1000000,
     N_("points spent")},
    {"reason", N_("For"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 500,
     N_("what they were exchanged for")},
    IN_WHEN,
};

static const struct act_input volunteer_in[] = {
    {"name", N_("Name"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 100,
     N_("the volunteer's name")},
    {"unit", N_("Unit"), ACT_REF, 0, NULL, "unit", 0, 0,
     N_("the unit they serve (default: yours)")},
    {"contact", N_("Contact"), ACT_TEXT, 0, NULL, NULL, 0, 64, N_("phone")},
    {"skills", N_("Skills"), ACT_TEXT, 0, NULL, NULL, 0, 500,
     N_("what they can do")},
};

static const struct act_input ack_in[] = {
    {"told", N_("Households told"), ACT_INT, 0, NULL, NULL, 0, 1000000,
     N_("households told in person or by phone")},
    {"total", N_("Households"), ACT_INT, 0, NULL, NULL, 0, 1000000,
     N_("households there are to tell")},
    {"note", N_("Note"), ACT_TEXT, 0, NULL, NULL, 0, 500,
     N_("who could not be reached, and why")},
};

static const struct act_input notice_in[] = {
    {"kind", N_("Kind"), ACT_ENUM, ACT_REQ, notice_kinds, NULL, 0, 0,
     N_("warning (预警) or notice (通知)")},
    {"level", N_("Level"), ACT_INT, ACT_REQ, NULL, NULL, 1, 4,
     N_("1 (I, most severe) to 4 (IV)")},
    {"title", N_("Title"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 200,
     N_("the notice's title")},
    {"body", N_("Text"), ACT_LONGTEXT, 0, NULL, NULL, 0, 4000,
     N_("the notice's text")},
    {"expires", N_("Expires"), ACT_TIME, 0, NULL, NULL, 0, 0,
     N_("YYYY-MM-DD HH:MM local time")},
    {"targets", N_("To units"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 4000,
     N_("units told, by name, code or id, separated by commas")},
    {"unit", N_("From unit"), ACT_REF, 0, NULL, "unit", 0, 0,
     N_("the issuing unit (default: yours)")},
};

#define ACT(id, title, target, roles, in)                                      \
	const struct gk_action act_##id = {#id, title,     target,  roles,     \
	                                   in,  ACT_N(in), run_##id}

ACT(award, N_("Award a volunteer points"), NULL, R_STATION | R_ADMIN, award_in);
ACT(redeem, N_("Redeem a volunteer's points"), NULL, R_STATION | R_ADMIN,
    redeem_in);
ACT(ack, N_("Acknowledge a notice (叫应)"), "notice",
    R_STREET | R_STATION | R_WORKER | R_ADMIN, ack_in);
ACT(volunteer, N_("Add a volunteer"), NULL, R_STATION | R_ADMIN, volunteer_in);
ACT(notice, N_("Issue a notice or warning"), NULL, R_STREET | R_ADMIN,
    notice_in);
