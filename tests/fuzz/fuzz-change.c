/*
 * fuzz-change.c: libFuzzer target for the change decoder.
 *
 * The first byte picks the role of the actor (mod GK_ROLE_COUNT); the rest
 * is what a station or a phone could push as one change. Whatever the bytes,
 * decoding must either refuse them with a named code or give a change that
 * the validator can judge and that survives its own canonical encoding:
 * encode, decode that text again, encode again, byte for byte the same.
 *
 * One exception, and a real limit: the canonical text can be longer than
 * the bytes it came from ("1e5" is written "100000.0"), so a change near
 * GK_MAX_CHANGE_BYTES may not decode again. That is allowed only for a
 * change the validator refused; an accepted one must always round-trip,
 * or a replica could not read what the server stored.
 *
 * Times among the field values go through text_time_format and back.
 *
 * Bugs abort(), so libFuzzer (and tests/fuzz/replay.c under ASan and
 * UBSan) report them. No state lives between inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, const struct gk_error *err)
{
	fprintf(stderr, "fuzz-change: %s (%s: %s)\n", what,
	        err != NULL ? gk_code_name(err->code) : "-",
	        err != NULL ? err->msg : "");
	abort();
}

/* What any change_decode must leave behind, accepted or refused. */
static void
check_result(int rc, const struct gk_change *c, const struct gk_error *err)
{
	if (rc != GK_OK) {
		if (rc <= GK_OK || rc >= GK_CODE_COUNT || err->code != rc ||
		    err->msg[0] == '\0' || c->fields != NULL)
			fail("refusal without its code, message or cleanup",
			     err);
		return;
	}
	if (c->table == NULL || (unsigned)c->op > GK_OP_APPEND ||
	    !json_is_object(c->fields) || !uuid_valid(c->id, strlen(c->id)) ||
	    !uuid_valid(c->row, strlen(c->row)) ||
	    (c->author[0] != '\0' && !uuid_valid(c->author, strlen(c->author))))
		fail("accepted a change with a broken envelope", NULL);
	if ((c->table->kind == GK_APPEND) != (c->op == GK_OP_APPEND) ||
	    (c->op == GK_OP_DELETE && json_object_size(c->fields) != 0))
		fail("accepted an op the table does not take", NULL);
}

/*
 * The text checks on every string the change carries: no crash whatever
 * the bytes, and a time that parses formats to text that parses back to
 * the same millisecond.
 */
static void
check_strings(json_t *fields)
{
	const char *k;
	json_t *v;

	json_object_foreach (fields, k, v) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		int64_t ms, back, days;
		char buf[32];

		if (s == NULL)
			continue;
		(void)text_check(s, len, 1);
		if (text_date_parse(s, len, &days) == GK_OK && days < 0)
			fail("a date before the epoch", NULL);
		if (text_time_parse(s, len, &ms) != GK_OK)
			continue;
		text_time_format(ms, buf);
		if (text_time_parse(buf, strlen(buf), &back) != GK_OK ||
		    back != ms)
			fail("a time does not round-trip through format", NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gk_change c, again;
	struct gk_error err = {0}, verr = {0}, err2 = {0};
	struct gk_policy pol;
	struct gk_actor actor;
	char *enc, *enc2;
	int rc, valid;

	if (size < 1)
		return 0;
	actor.role = (enum gk_role)(data[0] % GK_ROLE_COUNT);
	actor.user_id = "0193a1b2-0000-7000-8000-0000000000ff";

	rc = change_decode((const char *)data + 1, size - 1, &c, &err);
	check_result(rc, &c, &err);
	if (rc != GK_OK)
		return 0;

	check_strings(c.fields);
	validate_policy_default(&pol);
	valid = validate_change(&c, &actor, &pol, &verr) == GK_OK;

	enc = change_encode(&c);
	if (enc == NULL)
		fail("change_encode gave NULL", NULL);
	rc = change_decode(enc, strlen(enc), &again, &err2);
	check_result(rc, &again, &err2);
	if (rc == GK_E_TOO_LONG && !valid) {
		free(enc);
		change_clear(&c);
		return 0;
	}
	if (rc != GK_OK)
		fail("the canonical text does not decode", &err2);
	enc2 = change_encode(&again);
	if (enc2 == NULL || strcmp(enc, enc2) != 0)
		fail("the canonical text is not stable", NULL);
	if (strcmp(c.id, again.id) != 0 || c.node != again.node ||
	    c.hlc != again.hlc || c.table != again.table || c.op != again.op ||
	    strcmp(c.row, again.row) != 0 ||
	    strcmp(c.author, again.author) != 0 ||
	    !json_equal(c.fields, again.fields))
		fail("the canonical text holds another change", NULL);

	free(enc);
	free(enc2);
	change_clear(&c);
	change_clear(&again);
	return 0;
}
