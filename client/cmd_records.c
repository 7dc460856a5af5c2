/*
 * cmd_records.c: the record subcommands and export.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

int cmd_export(struct gk_client *c, int argc, char **argv, struct gk_error *err) { (void)c; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int cmd_action(struct gk_client *c, const struct gk_action *a, int argc, char **argv, struct gk_error *err) { (void)c; (void)a; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
