/*
 * export.c: CSV, JSON and GeoJSON.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

int export_table(struct gk_client *c, const char *table, enum export_format fmt, FILE *out, struct gk_error *err) { (void)c; (void)table; (void)fmt; (void)out; return gk_error_set(err, GK_E_USAGE, "not yet"); }
