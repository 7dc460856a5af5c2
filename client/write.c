/*
 * write.c: the local write path.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

int write_begin(struct gk_client *c, struct gk_error *err) { (void)c; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int write_commit(struct gk_client *c, struct gk_error *err) { (void)c; return gk_error_set(err, GK_E_USAGE, "not yet"); }
void write_rollback(struct gk_client *c) { (void)c; }
int write_change_tx(struct gk_client *c, const char *table, enum gk_op op, const char *row, json_t *fields, char change_id[GK_ID_LEN + 1], struct gk_error *err) { (void)c; (void)table; (void)op; (void)row; (void)fields; (void)change_id; return gk_error_set(err, GK_E_USAGE, "not yet"); }
