/*
 * testutil.h: small helpers shared by the cmocka tests.
 *
 * Each helper fails the running test (cmocka's fail_msg) rather than
 * returning an error, so a test reads as the steps of its specification.
 */
#ifndef GK_TESTUTIL_H
#define GK_TESTUTIL_H

#include "sync.h"

/* A new in-memory replica with the records and client schema; caller owns. */
sqlite3 *tu_replica(void);
/* Decode a change from JSON text, failing the test if it does not decode. */
void tu_decode(struct gk_change *c, const char *json);
/* Decode and apply one change to db in its own transaction. */
enum gk_applied tu_apply(sqlite3 *db, const char *json);
/* The single integer a query returns (first column of the first row). */
long long tu_int(sqlite3 *db, const char *sql);
/* The single text a query returns, copied into buf (empty for NULL). */
const char *tu_text(sqlite3 *db, const char *sql, char *buf, size_t size);
/* Read a whole file; caller frees. NULL if it cannot be read. */
char *tu_slurp(const char *path, size_t *len);
/* $top_srcdir/rel, or rel when top_srcdir is unset; static buffer. */
const char *tu_srcpath(const char *rel);

#endif
