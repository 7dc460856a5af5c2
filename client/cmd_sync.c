/*
 * cmd_sync.c: login, logout, sync, status.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

int cmd_login(struct gk_client *c, int argc, char **argv, struct gk_error *err) { (void)c; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int cmd_logout(struct gk_client *c, int argc, char **argv, struct gk_error *err) { (void)c; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int cmd_sync(struct gk_client *c, int argc, char **argv, struct gk_error *err) { (void)c; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int cmd_status(struct gk_client *c, int argc, char **argv, struct gk_error *err) { (void)c; (void)argc; (void)argv; return gk_error_set(err, GK_E_USAGE, "not yet"); }
