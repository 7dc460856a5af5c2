/*
 * error.c: the names of the error codes in sync.h.
 *
 * The names cross the wire (push results, HTTP error bodies) and appear in
 * tests and man pages, so they are part of the protocol: never change one.
 */
#include <stdarg.h>
#include <stdio.h>

#include "sync.h"

static const char *const code_names[GK_CODE_COUNT] = {
    [GK_OK] = "ok",
    [GK_E_NOMEM] = "no_memory",
    [GK_E_JSON] = "bad_json",
    [GK_E_DEPTH] = "too_deep",
    [GK_E_TYPE] = "bad_type",
    [GK_E_UNKNOWN_TABLE] = "unknown_table",
    [GK_E_UNKNOWN_FIELD] = "unknown_field",
    [GK_E_TOO_LONG] = "too_long",
    [GK_E_UTF8] = "bad_utf8",
    [GK_E_CONTROL] = "control_char",
    [GK_E_MISSING] = "missing_field",
    [GK_E_RANGE] = "out_of_range",
    [GK_E_ENUM] = "bad_value",
    [GK_E_ID] = "bad_id",
    [GK_E_HLC] = "bad_hlc",
    [GK_E_NODE] = "bad_node",
    [GK_E_TIME] = "bad_time",
    [GK_E_OP] = "bad_op",
    [GK_E_SIGN] = "wrong_sign",
    [GK_E_TRANSITION] = "bad_transition",
    [GK_E_ROLE] = "forbidden_role",
    [GK_E_PLAN_REQUIRED] = "plan_required",
    [GK_E_TRANSFER] = "transfer_mismatch",
    [GK_E_DUPLICATE_EARN] = "duplicate_earn",
    [GK_E_INCONSISTENT] = "inconsistent",
    [GK_E_SKEW] = "clock_skew",
    [GK_E_DB] = "db_error",
    [GK_E_SCHEMA_NEWER] = "schema_newer",
    [GK_E_CORRUPT] = "corrupt",
    [GK_E_IO] = "io_error",
    [GK_E_USAGE] = "usage",
    [GK_E_NOT_FOUND] = "not_found",
    [GK_E_AUTH] = "unauthorized",
    [GK_E_CREDENTIALS] = "bad_credentials",
    [GK_E_THROTTLED] = "too_many_attempts",
    [GK_E_BUSY] = "busy",
    [GK_E_DB_CHANGED] = "db_changed",
    [GK_E_METHOD] = "method_not_allowed",
    [GK_E_TOO_LARGE] = "too_large",
    [GK_E_BATCH] = "too_many_changes",
    [GK_E_REQUEST] = "bad_request",
    [GK_E_CURSOR] = "bad_cursor",
    [GK_E_EXISTS] = "exists",
};

const char *
gk_code_name(int code)
{
	if (code < 0 || code >= GK_CODE_COUNT || code_names[code] == NULL)
		return "unknown";
	return code_names[code];
}

int
gk_error_set(struct gk_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}
