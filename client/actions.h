/*
 * actions.h: what the action files share, private to client/actions*.c.
 *
 * actions.c checks the typed inputs of every action (required, numbers,
 * words, records by name, local times) and hands its run function an
 * object of checked values: text as strings, ACT_INT as integers, ACT_BOOL
 * as booleans, ACT_REF as record ids, ACT_TIME as UTC time text. run is
 * called inside the write transaction (write_begin .. write_commit), so
 * what it reads to decide (stock on hand, a balance, a hazard's status)
 * is what it writes against; action_run rolls back on any error.
 */
#ifndef GK_ACTIONS_H
#define GK_ACTIONS_H

#include "gridkeep.h"

#define ACT_BIG 1000000000LL /* quantities, as record.c bounds them */

#define R_ADMIN   GK_ROLE_BIT(GK_ROLE_ADMIN)
#define R_STREET  GK_ROLE_BIT(GK_ROLE_STREET)
#define R_STATION GK_ROLE_BIT(GK_ROLE_STATION)
#define R_WORKER  GK_ROLE_BIT(GK_ROLE_GRID_WORKER)

#define ACT_N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The actions, defined in actions_hazard.c, actions_stock.c and
 * actions_people.c; action_all lists them. */
extern const struct gk_action act_report, act_edit, act_verify, act_plan,
    act_resolve, act_close, act_reject, act_reopen, act_note, act_patrol;
extern const struct gk_action act_receive, act_issue, act_transfer, act_count,
    act_dispose, act_request, act_depot, act_item, act_standard;
extern const struct gk_action act_award, act_redeem, act_volunteer, act_ack,
    act_notice;

/*
 * Refuse with field named (may be NULL): set res->field and err; returns
 * code. The message is shown after the field, so it need not name it.
 */
int act_refuse(struct act_result *res, const char *field, struct gk_error *err,
               int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Checked values (see above); NULL / 0 / dflt when absent. */
const char *act_str(json_t *v, const char *name);
int64_t act_int(json_t *v, const char *name, int64_t dflt);
int act_bool(json_t *v, const char *name);
int act_has(json_t *v, const char *name);
/* Copy v's name into fields as key (when present). */
void act_copy(json_t *fields, json_t *v, const char *name, const char *key);
/* A checked time, or now (UTC text) when absent; out holds 32 bytes. */
const char *act_time_or_now(struct gk_client *c, json_t *v, const char *name,
                            char out[32]);
/* A decimal number typed in input field name, in [lo, hi]. */
int act_real(json_t *v, const char *name, double lo, double hi, double *out,
             int *present, struct act_result *res, struct gk_error *err);

/*
 * write_change_tx, and on a refusal name the input at fault in res (from
 * the validator's message) when none is named yet. fields is consumed.
 */
int act_write(struct gk_client *c, const char *table, enum gk_op op,
              const char *row, json_t *fields, struct act_result *res,
              struct gk_error *err);

/* "a, b，c": records of kind ref by name or id, appended to ids. */
int act_ref_list(struct gk_client *c, const char *ref, const char *field,
                 const char *s, json_t *ids, struct act_result *res,
                 struct gk_error *err);
/* One integer from a query with up to two text parameters; 0 if no row. */
int act_query_int(struct gk_client *c, const char *sql, const char *p1,
                  const char *p2, int64_t *out, struct gk_error *err);
/* The same for text, into buf (empty for NULL / no row). */
int act_query_text(struct gk_client *c, const char *sql, const char *p1,
                   char *buf, size_t size, struct gk_error *err);
/* Stock on hand of item at depot: the sum of every move. */
int act_on_hand(struct gk_client *c, const char *depot, const char *item,
                int64_t *out, struct gk_error *err);
/* The hazard's derived status; GK_E_NOT_FOUND if there is no such row. */
int act_hazard_status(struct gk_client *c, const char *hazard,
                      enum gk_hstatus *out, struct gk_error *err);
/* A hazard action's move from status: *to (or -1 for no transition) and
 * *kind ("transition", "plan", "note"); refuses what cannot be done. */
int act_hazard_move(struct gk_client *c, const struct gk_action *a,
                    enum gk_hstatus from, int *to, const char **kind,
                    struct gk_error *err);

#endif
