/*
 * actions_hazard.c: the hazard actions (report, edit, the workflow moves,
 * notes) and patrols.
 *
 * A hazard's status is derived from its events (sync/hazard.c), so every
 * move is an append of a hazard_events row from the status the replica
 * shows now; a report is the hazards insert and its first event in one
 * transaction. Who may make which move is hazard_transition_roles; this
 * file only picks the move an action means from the current status and
 * refuses one that cannot be made, so the form says so before the
 * validator would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"

/* The words of record.c (tests/test-actions checks they agree). */
static const char *const categories[] = {
    "fire",  "gas",     "electrical",    "structure",         "geological",
    "flood", "traffic", "public_health", "special_equipment", "dispute",
    "other", NULL};
static const char *const reject_reasons[] = {"duplicate", "invalid", NULL};

#define HAZARD_WRITERS (R_STREET | R_STATION | R_WORKER | R_ADMIN)

/* ---- the move an action means ------------------------------------------- */

static const struct {
	const char *action;
	enum gk_hstatus to;
} moves[] = {
    {"verify", GK_HS_VERIFIED},   {"resolve", GK_HS_RESOLVED},
    {"close", GK_HS_CLOSED},      {"reject", GK_HS_REJECTED},
    {"reopen", GK_HS_RECTIFYING},
};

int
act_hazard_move(struct gk_client *c, const struct gk_action *a,
                enum gk_hstatus from, int *to, const char **kind,
                struct gk_error *err)
{
	unsigned who;

	*to = -1;
	*kind = "note";
	if (strcmp(a->name, "note") == 0 || strcmp(a->name, "edit") == 0)
		return GK_OK;
	if (strcmp(a->name, "plan") == 0) {
		if (from == GK_HS_RECTIFYING) {
			*kind = "plan";
			return GK_OK;
		}
		*to = GK_HS_RECTIFYING;
		if (from != GK_HS_VERIFIED)
			return gk_error_set(
			    err, GK_E_TRANSITION,
			    _("a hazard that is %s cannot get a "
			      "plan: it must be verified or "
			      "rectifying"),
			    hazard_status_name(from));
	} else {
		for (int i = 0; i < ACT_N(moves); i++)
			if (strcmp(moves[i].action, a->name) == 0)
				*to = (int)moves[i].to;
		if (*to < 0)
			return gk_error_set(err, GK_E_USAGE,
			                    "%s is not a hazard action",
			                    a->name);
		if (strcmp(a->name, "reopen") == 0 && from != GK_HS_RESOLVED &&
		    from != GK_HS_CLOSED)
			return gk_error_set(
			    err, GK_E_TRANSITION,
			    _("only a resolved or closed hazard "
			      "can be reopened; this one is %s"),
			    hazard_status_name(from));
	}
	*kind = "transition";
	who = hazard_transition_roles(from, (enum gk_hstatus) * to);
	if (who == 0)
		return gk_error_set(err, GK_E_TRANSITION,
		                    _("a hazard that is %s cannot be %s"),
		                    hazard_status_name(from),
		                    hazard_status_name((enum gk_hstatus) * to));
	if (!(who & GK_ROLE_BIT(c->sess.role)))
		return gk_error_set(err, GK_E_ROLE,
		                    _("a %s user may not move a hazard from %s "
		                      "to %s"),
		                    record_role_name(c->sess.role),
		                    hazard_status_name(from),
		                    hazard_status_name((enum gk_hstatus) * to));
	return GK_OK;
}

/* ---- report and edit -------------------------------------------------- */

/* lat and lon, checked, into fields. */
static int
put_place(json_t *fields, json_t *v, struct act_result *res,
          struct gk_error *err)
{
	double lat = 0, lon = 0;
	int has_lat, has_lon, rc;

	if ((rc = act_real(v, "lat", -90, 90, &lat, &has_lat, res, err)) !=
	        GK_OK ||
	    (rc = act_real(v, "lon", -180, 180, &lon, &has_lon, res, err)) !=
	        GK_OK)
		return rc;
	if (has_lat != has_lon)
		return act_refuse(res, has_lat ? "lon" : "lat", err,
		                  GK_E_MISSING, "%s",
		                  _("latitude and longitude go together"));
	if (has_lat) {
		json_object_set_new(fields, "lat", json_real(lat));
		json_object_set_new(fields, "lon", json_real(lon));
	}
	act_copy(fields, v, "place", "place");
	return GK_OK;
}

/* Append one hazard event; fields consumed. */
static int
add_event(struct gk_client *c, const char *hazard, const char *kind, int from,
          int to, json_t *fields, struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], now[32];

	uuid_v7(&c->env, id);
	json_object_set_new(fields, "hazard", json_string(hazard));
	json_object_set_new(fields, "kind", json_string(kind));
	if (from >= 0)
		json_object_set_new(
		    fields, "from_status",
		    json_string(hazard_status_name((enum gk_hstatus)from)));
	if (to >= 0)
		json_object_set_new(
		    fields, "to_status",
		    json_string(hazard_status_name((enum gk_hstatus)to)));
	json_object_set_new(fields, "occurred_at",
	                    json_string(act_time_or_now(c, NULL, "", now)));
	return act_write(c, "hazard_events", GK_OP_APPEND, id, fields, res,
	                 err);
}

static int
run_report(struct gk_client *c, const char *target, json_t *v,
           struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], when[32];
	int fixed = act_bool(v, "fixed"), rc;
	json_t *f, *ev;

	(void)target;
	if (fixed && !act_has(v, "note"))
		return act_refuse(res, "note", err, GK_E_MISSING, "%s",
		                  _("say what was done when it was fixed on "
		                    "the spot"));
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	act_copy(f, v, "grid", "grid");
	act_copy(f, v, "category", "category");
	act_copy(f, v, "risk", "risk_level");
	act_copy(f, v, "title", "title");
	act_copy(f, v, "description", "description");
	json_object_set_new(
	    f, "occurred_at",
	    json_string(act_time_or_now(c, v, "occurred_at", when)));
	if ((rc = put_place(f, v, res, err)) != GK_OK) {
		json_decref(f);
		return rc;
	}
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "hazards", GK_OP_INSERT, id, f, res, err)) !=
	    GK_OK)
		return rc;
	if ((ev = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	act_copy(ev, v, "note", "note");
	if ((rc = add_event(c, id, "transition", GK_HS_NEW,
	                    fixed ? GK_HS_RESOLVED : GK_HS_REPORTED, ev, res,
	                    err)) != GK_OK)
		return rc;
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

static int
run_edit(struct gk_client *c, const char *target, json_t *v,
         struct act_result *res, struct gk_error *err)
{
	json_t *f;
	int rc;

	if (json_object_size(v) == 0)
		return act_refuse(res, "title", err, GK_E_MISSING, "%s",
		                  _("nothing to change"));
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	act_copy(f, v, "title", "title");
	act_copy(f, v, "category", "category");
	act_copy(f, v, "risk", "risk_level");
	act_copy(f, v, "description", "description");
	if ((rc = put_place(f, v, res, err)) != GK_OK) {
		json_decref(f);
		return rc;
	}
	return act_write(c, "hazards", GK_OP_UPDATE, target, f, res, err);
}

/* ---- the workflow ------------------------------------------------------- */

/* The move of a: the status is read inside the transaction. */
static int
run_move(struct gk_client *c, const char *name, const char *target, json_t *v,
         struct act_result *res, struct gk_error *err)
{
	const struct gk_action *a = action_find(name);
	enum gk_hstatus from;
	const char *kind;
	int to, rc;
	json_t *f;

	if ((rc = act_hazard_status(c, target, &from, err)) != GK_OK ||
	    (rc = act_hazard_move(c, a, from, &to, &kind, err)) != GK_OK)
		return act_refuse(res, "hazard", NULL, rc, "%s", "");
	if (strcmp(kind, "plan") == 0 ||
	    (to == GK_HS_RECTIFYING && strcmp(name, "plan") == 0 &&
	     (act_has(v, "measures") || act_has(v, "responsible") ||
	      act_has(v, "deadline")))) {
		/* A plan has its three parts (validate.c says so too, but a
		 * form names the one missing). */
		static const char *const parts[] = {"measures", "responsible",
		                                    "deadline"};
		for (int i = 0; i < 3; i++)
			if (!act_has(v, parts[i]))
				return act_refuse(
				    res, parts[i], err, GK_E_MISSING, "%s",
				    _("a plan needs its measures, "
				      "responsible and deadline"));
	}
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	act_copy(f, v, "note", "note");
	act_copy(f, v, "reason", "note"); /* reopen's reason */
	if (strcmp(name, "reject") == 0) {
		json_object_del(f, "note");
		act_copy(f, v, "note", "note");
		act_copy(f, v, "reason", "reject_reason");
		act_copy(f, v, "duplicate_of", "duplicate_of");
	}
	act_copy(f, v, "measures", "plan_measures");
	act_copy(f, v, "responsible", "plan_responsible");
	act_copy(f, v, "deadline", "plan_deadline");
	act_copy(f, v, "acceptor", "plan_acceptor");
	return add_event(c, target, kind, to >= 0 ? (int)from : -1, to, f, res,
	                 err);
}

#define MOVE_RUN(name)                                                         \
	static int run_##name(struct gk_client *c, const char *target,         \
	                      json_t *v, struct act_result *res,               \
	                      struct gk_error *err)                            \
	{                                                                      \
		return run_move(c, #name, target, v, res, err);                \
	}
MOVE_RUN(verify)
MOVE_RUN(plan)
MOVE_RUN(resolve)
MOVE_RUN(close)
MOVE_RUN(reject)
MOVE_RUN(reopen)
MOVE_RUN(note)

/* ---- patrols ------------------------------------------------------------ */

static int
run_patrol(struct gk_client *c, const char *target, json_t *v,
           struct act_result *res, struct gk_error *err)
{
	char id[GK_ID_LEN + 1], end[32];
	json_t *f, *ids;
	int rc;

	(void)target;
	if ((f = json_object()) == NULL)
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	act_copy(f, v, "grid", "grid");
	act_copy(f, v, "started", "occurred_at");
	json_object_set_new(f, "ended_at",
	                    json_string(act_time_or_now(c, v, "ended", end)));
	act_copy(f, v, "checklist", "checklist");
	act_copy(f, v, "notes", "notes");
	act_copy(f, v, "places", "places_visited");
	if (act_has(v, "hazards")) {
		ids = json_array();
		if ((rc = act_ref_list(c, "hazard", "hazards",
		                       act_str(v, "hazards"), ids, res, err)) !=
		    GK_OK) {
			json_decref(ids);
			json_decref(f);
			return rc;
		}
		if (json_array_size(ids) > 0)
			json_object_set_new(f, "hazards_found", ids);
		else
			json_decref(ids);
	}
	uuid_v7(&c->env, id);
	if ((rc = act_write(c, "inspections", GK_OP_APPEND, id, f, res, err)) !=
	    GK_OK) {
		if (rc == GK_E_INCONSISTENT && res->field[0] == '\0')
			snprintf(res->field, sizeof res->field, "ended");
		return rc;
	}
	memcpy(res->row, id, sizeof id);
	return GK_OK;
}

/* ---- the table ---------------------------------------------------------- */

#define IN_GRID                                                                \
	{                                                                      \
		"grid", N_("Grid"), ACT_REF, ACT_REQ, NULL, "grid", 0, 0,      \
		    N_("the grid: its name, code or id")                       \
	}
#define IN_NOTE(req, help)                                                     \
	{                                                                      \
		"note", N_("Note"), ACT_LONGTEXT, req, NULL, NULL, 0, 2000,    \
		    help                                                       \
	}

static const struct act_input report_in[] = {
    IN_GRID,
    {"category", N_("Category"), ACT_ENUM, ACT_REQ, categories, NULL, 0, 0,
     N_("what kind of hazard")},
    {"risk", N_("Risk level"), ACT_INT, ACT_REQ, NULL, NULL, 1, 4,
     N_("1 (major) to 4 (low); 1 and 2 need a plan")},
    {"title", N_("Title"), ACT_TEXT, ACT_REQ, NULL, NULL, 0, 200,
     N_("a short name for the hazard")},
    {"description", N_("Description"), ACT_LONGTEXT, 0, NULL, NULL, 0, 4000,
     N_("what was seen")},
    {"place", N_("Place"), ACT_TEXT, 0, NULL, NULL, 0, 200,
     N_("address or landmark")},
    {"lat", N_("Latitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -90 to 90")},
    {"lon", N_("Longitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -180 to 180")},
    {"occurred_at", N_("Found at"), ACT_TIME, 0, NULL, NULL, 0, 0,
     N_("when it was found, YYYY-MM-DD HH:MM local time (default now)")},
    {"fixed", N_("Fixed on the spot"), ACT_BOOL, 0, NULL, NULL, 0, 0,
     N_("fixed at once (立查立改): recorded as resolved")},
    IN_NOTE(0, N_("what was done (needed when fixed on the spot)")),
};

static const struct act_input edit_in[] = {
    {"title", N_("Title"), ACT_TEXT, 0, NULL, NULL, 0, 200,
     N_("a short name for the hazard")},
    {"category", N_("Category"), ACT_ENUM, 0, categories, NULL, 0, 0,
     N_("what kind of hazard")},
    {"risk", N_("Risk level"), ACT_INT, 0, NULL, NULL, 1, 4,
     N_("1 (major) to 4 (low)")},
    {"description", N_("Description"), ACT_LONGTEXT, 0, NULL, NULL, 0, 4000,
     N_("what was seen")},
    {"place", N_("Place"), ACT_TEXT, 0, NULL, NULL, 0, 200,
     N_("address or landmark")},
    {"lat", N_("Latitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -90 to 90")},
    {"lon", N_("Longitude"), ACT_TEXT, 0, NULL, NULL, 0, 32,
     N_("decimal degrees, -180 to 180")},
};

static const struct act_input note_opt_in[] = {
    IN_NOTE(0, N_("a note kept with the hazard")),
};
static const struct act_input note_req_in[] = {
    IN_NOTE(ACT_REQ, N_("the note")),
};
static const struct act_input resolve_in[] = {
    IN_NOTE(ACT_REQ, N_("how it was put right")),
};

static const struct act_input plan_in[] = {
    {"measures", N_("Measures"), ACT_LONGTEXT, 0, NULL, NULL, 0, 2000,
     N_("what will be done (一点一案)")},
    {"responsible", N_("Responsible"), ACT_TEXT, 0, NULL, NULL, 0, 100,
     N_("who is responsible")},
    {"deadline", N_("Deadline"), ACT_TIME, 0, NULL, NULL, 0, 0,
     N_("by when, YYYY-MM-DD HH:MM local time")},
    {"acceptor", N_("Acceptor"), ACT_TEXT, 0, NULL, NULL, 0, 100,
     N_("who accepts the work when done")},
    IN_NOTE(0, N_("a note kept with the hazard")),
};

static const struct act_input reject_in[] = {
    {"reason", N_("Reason"), ACT_ENUM, ACT_REQ, reject_reasons, NULL, 0, 0,
     N_("duplicate or invalid")},
    {"duplicate_of", N_("Duplicate of"), ACT_REF, 0, NULL, "hazard", 0, 0,
     N_("the hazard this one repeats (title or id)")},
    IN_NOTE(0, N_("a note kept with the hazard")),
};

static const struct act_input reopen_in[] = {
    {"reason", N_("Reason"), ACT_LONGTEXT, ACT_REQ, NULL, NULL, 0, 2000,
     N_("why it is opened again")},
};

static const struct act_input patrol_in[] = {
    IN_GRID,
    {"started", N_("Started"), ACT_TIME, ACT_REQ, NULL, NULL, 0, 0,
     N_("when the patrol began, YYYY-MM-DD HH:MM local time")},
    {"ended", N_("Ended"), ACT_TIME, 0, NULL, NULL, 0, 0,
     N_("when it ended (default now)")},
    {"checklist", N_("Checklist"), ACT_LONGTEXT, 0, NULL, NULL, 0, 4000,
     N_("one \"item: ok\" line per check")},
    {"notes", N_("Notes"), ACT_LONGTEXT, 0, NULL, NULL, 0, 2000,
     N_("anything else seen")},
    {"places", N_("Places visited"), ACT_INT, 0, NULL, NULL, 0, 10000,
     N_("how many places were visited")},
    {"hazards", N_("Hazards found"), ACT_TEXT, 0, NULL, NULL, 0, 4000,
     N_("hazards found, by title or id, separated by commas")},
};

#define ACT(id, title, target, roles, in)                                      \
	const struct gk_action act_##id = {#id, title,     target,  roles,     \
	                                   in,  ACT_N(in), run_##id}

ACT(report, N_("Report a hazard"), NULL, R_WORKER | R_STATION | R_ADMIN,
    report_in);
ACT(edit, N_("Correct a hazard's details"), "hazard", HAZARD_WRITERS, edit_in);
ACT(verify, N_("Verify a reported hazard"), "hazard",
    R_STATION | R_STREET | R_ADMIN, note_opt_in);
ACT(plan, N_("Set a hazard's rectification plan"), "hazard",
    R_STATION | R_STREET | R_ADMIN, plan_in);
ACT(resolve, N_("Mark a hazard resolved"), "hazard",
    R_STATION | R_STREET | R_ADMIN, resolve_in);
ACT(close, N_("Close a resolved hazard"), "hazard", R_STREET | R_ADMIN,
    note_opt_in);
ACT(reject, N_("Reject a hazard report"), "hazard", R_STREET | R_ADMIN,
    reject_in);
ACT(reopen, N_("Reopen a resolved or closed hazard"), "hazard",
    R_STREET | R_ADMIN, reopen_in);
ACT(note, N_("Add a note to a hazard"), "hazard", HAZARD_WRITERS, note_req_in);
ACT(patrol, N_("Record a patrol"), NULL, R_STATION | R_WORKER | R_ADMIN,
    patrol_in);
