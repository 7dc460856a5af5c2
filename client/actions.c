/*
 * actions.c: the actions staff take.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

const struct gk_action *const *action_all(int *n) { static const struct gk_action *const none[1] = {NULL}; *n = 0; return none; }
const struct gk_action *action_find(const char *name) { (void)name; return NULL; }
int action_allowed(struct gk_client *c, const struct gk_action *a, const char *target, struct gk_error *err) { (void)c; (void)a; (void)target; (void)err; return 0; }
int action_run(struct gk_client *c, const struct gk_action *a, const char *target, json_t *input, struct act_result *res, struct gk_error *err) { (void)c; (void)a; (void)target; (void)input; (void)res; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int action_resolve_ref(struct gk_client *c, const char *ref, const char *text, char id[GK_ID_LEN + 1], struct gk_error *err) { (void)c; (void)ref; (void)text; (void)id; return gk_error_set(err, GK_E_USAGE, "not yet"); }
