/*
 * ui.c: the terminal UI.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

#include "ui.h"
int ui_main(struct gk_client *c, struct gk_error *err) { (void)c; return gk_error_set(err, GK_E_USAGE, "not yet"); }
