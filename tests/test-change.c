/*
 * test-change.c: the change envelope, as it travels, and its canonical text.
 *
 * change_decode is the first code that touches bytes pushed by a station or
 * a phone, so every way an envelope can be wrong has a case here, with the
 * exact code the client will be shown. Field values are the validator's
 * business (test-validate); here a field is only carried, never judged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"

#define ID     "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
#define ROW    "0193a1b2-0000-7000-8000-000000000001"
#define GRID   "0193a1b2-0000-7000-8000-0000000000a1"
#define DEPOT  "0193a1b2-0000-7000-8000-0000000000d1"
#define ITEM   "0193a1b2-0000-7000-8000-0000000000e1"
#define AUTHOR "0193a1b2-0000-7000-8000-0000000000ff"
#define NODE   "a1b2c3d4e5f60718"
#define HLC    "019cebab87480003" /* 2026-03-14T09:26:53Z, counter 3 */
#define NODE_N UINT64_C(0xa1b2c3d4e5f60718)
#define HLC_N  ((UINT64_C(1773480413000) << 16) | 3)

/* Everything but op, table and fields. */
#define ENV                                                                    \
	"\"id\":\"" ID "\",\"node\":\"" NODE "\",\"hlc\":\"" HLC               \
	"\",\"row\":\"" ROW "\""

static const char hazard_insert[] =
    "{" ENV ",\"table\":\"hazards\",\"op\":\"insert\",\"fields\":{"
    "\"grid\":\"" GRID "\",\"category\":\"gas\",\"risk_level\":2,"
    "\"title\":\"幸福街道 隐患\",\"lat\":31.25,"
    "\"occurred_at\":\"2026-03-14T09:26:53Z\"}}";
static const char hazard_update[] =
    "{" ENV ",\"table\":\"hazards\",\"op\":\"update\","
    "\"fields\":{\"risk_level\":1,"
    "\"description\":\"已设置警戒线\\n待整改\"}}";
static const char hazard_delete[] =
    "{" ENV ",\"table\":\"hazards\",\"op\":\"delete\"}";
static const char stock_append[] =
    "{" ENV ",\"table\":\"stock_moves\",\"op\":\"append\","
    "\"author\":\"" AUTHOR "\",\"fields\":{"
    "\"depot\":\"" DEPOT "\",\"item\":\"" ITEM "\",\"kind\":\"transfer_out\","
    "\"quantity\":-20,\"transfer_id\":\"" ROW "\","
    "\"occurred_at\":\"2026-03-14T09:26:53.250Z\"}}";

static const char *const valid_changes[] = {hazard_insert, hazard_update,
                                            hazard_delete, stock_append};

static void
decode_ok(struct gk_change *c, const char *json)
{
	struct gk_error err = {0};

	if (change_decode(json, strlen(json), c, &err) != GK_OK)
		fail_msg("change_decode: %s: %s\nin %s", gk_code_name(err.code),
		         err.msg, json);
}

/*
 * json[0..len) is refused with code, both with and without an error struct;
 * the struct then holds the code and a message, and nothing is left owned.
 */
static void
assert_refused_len(const char *json, size_t len, int code)
{
	struct gk_change c;
	struct gk_error err = {0};
	int rc;

	rc = change_decode(json, len, &c, &err);
	if (rc != code)
		fail_msg("gave %s (%s), want %s\nin %.*s", gk_code_name(rc),
		         err.msg, gk_code_name(code),
		         (int)(len > 300 ? 300 : len), json);
	assert_int_equal(err.code, code);
	assert_true(err.msg[0] != '\0');
	assert_null(c.fields);
	change_clear(&c);
	rc = change_decode(json, len, &c, NULL);
	if (rc != code)
		fail_msg("without err: gave %s, want %s\nin %.*s",
		         gk_code_name(rc), gk_code_name(code),
		         (int)(len > 300 ? 300 : len), json);
	change_clear(&c);
}

static void
assert_refused(const char *json, int code)
{
	assert_refused_len(json, strlen(json), code);
}

/*
 * base with key set to the JSON text value (or removed, if value is NULL),
 * refused with code.
 */
static void
assert_refused_with(const char *base, const char *key, const char *value,
                    int code)
{
	json_error_t jerr;
	json_t *o = json_loads(base, 0, &jerr);
	char *text;

	assert_non_null(o);
	if (value == NULL) {
		json_object_del(o, key);
	} else {
		json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
		if (v == NULL)
			fail_msg("bad test value %s: %s", value, jerr.text);
		json_object_set_new(o, key, v);
	}
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	assert_refused(text, code);
	free(text);
	json_decref(o);
}

/* ---- decoding what is right ---------------------------------------------- */

static void
test_change_decodes_an_insert_into_every_member(void **state)
{
	struct gk_change c;
	json_t *f;

	(void)state;
	decode_ok(&c, hazard_insert);
	assert_string_equal(c.id, ID);
	assert_int_equal(c.node, NODE_N);
	assert_int_equal(c.hlc, HLC_N);
	assert_ptr_equal(c.table, record_table("hazards"));
	assert_int_equal(c.op, GK_OP_INSERT);
	assert_string_equal(c.row, ROW);
	assert_string_equal(c.author, ""); /* not sent: unknown */
	f = c.fields;
	assert_true(json_is_object(f));
	assert_int_equal(json_object_size(f), 6);
	assert_string_equal(json_string_value(json_object_get(f, "grid")),
	                    GRID);
	assert_string_equal(json_string_value(json_object_get(f, "category")),
	                    "gas");
	assert_int_equal(json_integer_value(json_object_get(f, "risk_level")),
	                 2);
	assert_string_equal(json_string_value(json_object_get(f, "title")),
	                    "幸福街道 隐患");
	assert_true(json_real_value(json_object_get(f, "lat")) == 31.25);
	assert_string_equal(
	    json_string_value(json_object_get(f, "occurred_at")),
	    "2026-03-14T09:26:53Z");
	change_clear(&c);
	assert_null(c.fields);
}

static void
test_change_decodes_an_update_with_only_the_fields_it_sets(void **state)
{
	struct gk_change c;

	(void)state;
	decode_ok(&c, hazard_update);
	assert_string_equal(c.id, ID);
	assert_int_equal(c.node, NODE_N);
	assert_int_equal(c.hlc, HLC_N);
	assert_ptr_equal(c.table, record_table("hazards"));
	assert_int_equal(c.op, GK_OP_UPDATE);
	assert_string_equal(c.row, ROW);
	assert_string_equal(c.author, "");
	assert_int_equal(json_object_size(c.fields), 2);
	assert_int_equal(
	    json_integer_value(json_object_get(c.fields, "risk_level")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(c.fields, "description")),
	    "已设置警戒线\n待整改");
	change_clear(&c);
}

static void
test_change_decodes_a_delete_without_fields_as_an_empty_object(void **state)
{
	struct gk_change c;

	(void)state;
	decode_ok(&c, hazard_delete);
	assert_string_equal(c.id, ID);
	assert_int_equal(c.node, NODE_N);
	assert_int_equal(c.hlc, HLC_N);
	assert_ptr_equal(c.table, record_table("hazards"));
	assert_int_equal(c.op, GK_OP_DELETE);
	assert_string_equal(c.row, ROW);
	assert_string_equal(c.author, "");
	assert_true(json_is_object(c.fields));
	assert_int_equal(json_object_size(c.fields), 0);
	change_clear(&c);

	decode_ok(&c, "{" ENV ",\"table\":\"depots\",\"op\":\"delete\","
	              "\"fields\":{}}");
	assert_int_equal(c.op, GK_OP_DELETE);
	assert_int_equal(json_object_size(c.fields), 0);
	change_clear(&c);
}

static void
test_change_decodes_an_append_with_its_author(void **state)
{
	struct gk_change c;

	(void)state;
	decode_ok(&c, stock_append);
	assert_string_equal(c.id, ID);
	assert_int_equal(c.node, NODE_N);
	assert_int_equal(c.hlc, HLC_N);
	assert_ptr_equal(c.table, record_table("stock_moves"));
	assert_int_equal(c.op, GK_OP_APPEND);
	assert_string_equal(c.row, ROW);
	assert_string_equal(c.author, AUTHOR);
	assert_int_equal(json_object_size(c.fields), 6);
	assert_int_equal(
	    json_integer_value(json_object_get(c.fields, "quantity")), -20);
	assert_string_equal(
	    json_string_value(json_object_get(c.fields, "kind")),
	    "transfer_out");
	change_clear(&c);
}

static void
test_change_decodes_the_ops_of_each_table_kind(void **state)
{
	static const char *const ops[] = {"insert", "update", "delete",
	                                  "append"};
	const struct gk_table *const *tables;
	char buf[512];
	int n;

	(void)state;
	tables = record_tables(&n);
	assert_int_equal(n, 14);
	for (int i = 0; i < n; i++) {
		for (int op = 0; op < 4; op++) {
			int fits = (tables[i]->kind == GK_APPEND) ==
			           (op == GK_OP_APPEND);
			struct gk_change c;

			snprintf(buf, sizeof buf,
			         "{" ENV ",\"table\":\"%s\",\"op\":\"%s\","
			         "\"fields\":{}}",
			         tables[i]->name, ops[op]);
			if (!fits) {
				assert_refused(buf, GK_E_OP);
				continue;
			}
			decode_ok(&c, buf);
			assert_ptr_equal(c.table, tables[i]);
			assert_int_equal(c.op, op);
			change_clear(&c);
		}
	}
}

static void
test_change_decode_takes_whitespace_around_the_object(void **state)
{
	struct gk_change c;

	(void)state;
	decode_ok(&c, " \n\t{" ENV ",\"table\":\"hazards\","
	              "\"op\":\"delete\"}\r\n ");
	change_clear(&c);
}

/* ---- the canonical text -------------------------------------------------- */

static void
test_change_encode_is_canonical_sorted_and_compact(void **state)
{
	static const char pretty[] =
	    "{\n"
	    "  \"table\": \"hazards\", \"op\": \"insert\",\n"
	    "  \"row\": \"" ROW "\", \"id\": \"" ID "\",\n"
	    "  \"node\": \"" NODE "\", \"hlc\": \"" HLC "\",\n"
	    "  \"fields\": {\n"
	    "    \"title\": \"幸福街道 隐患\", \"risk_level\": 2,\n"
	    "    \"grid\": \"" GRID "\", \"lat\": 31.25,\n"
	    "    \"occurred_at\": \"2026-03-14T09:26:53Z\",\n"
	    "    \"category\": \"gas\"\n"
	    "  }\n"
	    "}\n";
	static const char canonical[] =
	    "{\"fields\":{\"category\":\"gas\",\"grid\":\"" GRID "\","
	    "\"lat\":31.25,\"occurred_at\":\"2026-03-14T09:26:53Z\","
	    "\"risk_level\":2,\"title\":\"幸福街道 隐患\"},"
	    "\"hlc\":\"" HLC "\",\"id\":\"" ID "\",\"node\":\"" NODE "\","
	    "\"op\":\"insert\",\"row\":\"" ROW "\",\"table\":\"hazards\"}";
	struct gk_change a, b;
	char *ea, *eb;

	(void)state;
	decode_ok(&a, pretty);
	decode_ok(&b, hazard_insert);
	ea = change_encode(&a);
	eb = change_encode(&b);
	assert_non_null(ea);
	assert_non_null(eb);
	assert_string_equal(ea, canonical);
	assert_string_equal(eb, canonical); /* key order in did not matter */
	free(ea);
	free(eb);
	change_clear(&a);
	change_clear(&b);
}

static void
test_change_encode_writes_the_author_only_when_known(void **state)
{
	struct gk_change c;
	char *s;

	(void)state;
	decode_ok(&c, stock_append);
	s = change_encode(&c);
	assert_non_null(strstr(s, "{\"author\":\"" AUTHOR "\",\"fields\":"));
	free(s);
	c.author[0] = '\0';
	s = change_encode(&c);
	assert_null(strstr(s, "author"));
	free(s);
	change_clear(&c);
}

static void
test_change_decode_of_encode_re_encodes_byte_identically(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof valid_changes / sizeof valid_changes[0];
	     i++) {
		struct gk_change a, b;
		char *ea, *eb;

		decode_ok(&a, valid_changes[i]);
		ea = change_encode(&a);
		assert_non_null(ea);
		decode_ok(&b, ea);
		eb = change_encode(&b);
		assert_non_null(eb);
		assert_string_equal(ea, eb);
		/* compact: no whitespace outside strings in these samples */
		assert_null(strchr(ea, '\n'));
		assert_null(strstr(ea, ", "));
		assert_null(strstr(ea, ": "));
		free(ea);
		free(eb);
		change_clear(&a);
		change_clear(&b);
	}
}

static void
test_change_to_json_holds_the_same_as_encode(void **state)
{
	struct gk_change c;
	json_t *o;
	char *a, *b;

	(void)state;
	decode_ok(&c, stock_append);
	o = change_to_json(&c);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 8);
	a = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	b = change_encode(&c);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(o);
	change_clear(&c);
}

/* ---- envelope errors, each with its code --------------------------------- */

static void
test_change_refuses_text_that_is_not_json(void **state)
{
	(void)state;
	assert_refused("", GK_E_JSON);
	assert_refused("not json", GK_E_JSON);
	assert_refused("{", GK_E_JSON);
	assert_refused("{\"id\":}", GK_E_JSON);
	assert_refused("{'id':'x'}", GK_E_JSON);
	assert_refused("{\"id\":NaN}", GK_E_JSON);
	assert_refused("{\"id\":\"\xff\"}", GK_E_JSON);    /* raw bad UTF-8 */
	assert_refused("{\"id\":\"\\ud800\"}", GK_E_JSON); /* lone surrogate */
	assert_refused("{\"id\":\"a\\u0000b\"}", GK_E_JSON); /* NUL */
	assert_refused("{\"id\":\"\x01\"}", GK_E_JSON);      /* raw control */
	assert_refused("{\"n\":1e400}", GK_E_JSON);
	assert_refused("{\"n\":123456789012345678901234567890}", GK_E_JSON);
	assert_refused_len("{}\0", 3, GK_E_JSON); /* a NUL after it */
}

static void
test_change_refuses_a_json_array_or_string_at_top_level(void **state)
{
	(void)state;
	assert_refused("[]", GK_E_JSON);
	assert_refused("[{" ENV ",\"table\":\"hazards\",\"op\":\"delete\"}]",
	               GK_E_JSON);
	assert_refused("\"hazards\"", GK_E_JSON);
	assert_refused("42", GK_E_JSON);
	assert_refused("null", GK_E_JSON);
	assert_refused("true", GK_E_JSON);
}

static void
test_change_refuses_trailing_garbage(void **state)
{
	char buf[512];

	(void)state;
	snprintf(buf, sizeof buf, "%sx", hazard_delete);
	assert_refused(buf, GK_E_JSON);
	snprintf(buf, sizeof buf, "%s%s", hazard_delete, hazard_delete);
	assert_refused(buf, GK_E_JSON);
	snprintf(buf, sizeof buf, "%s}", hazard_delete);
	assert_refused(buf, GK_E_JSON);
}

static void
test_change_refuses_duplicate_keys(void **state)
{
	(void)state;
	assert_refused("{" ENV ",\"table\":\"hazards\",\"op\":\"delete\","
	               "\"id\":\"" ID "\"}",
	               GK_E_JSON);
	assert_refused("{" ENV ",\"table\":\"hazards\",\"op\":\"update\","
	               "\"fields\":{\"title\":\"a\",\"title\":\"b\"}}",
	               GK_E_JSON);
}

/* An update whose "a" field nests arrays so that, counting the change and
 * its fields object, there are depth containers; the innermost holds 1. */
static void
nested_update(char *buf, size_t size, int depth, const char *open,
              const char *close, const char *inner)
{
	size_t n;

	n = (size_t)snprintf(buf, size,
	                     "{" ENV ",\"table\":\"hazards\",\"op\":\"update\","
	                     "\"fields\":{\"a\":");
	for (int i = 0; i < depth - 2; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s", open);
	n += (size_t)snprintf(buf + n, size - n, "%s", inner);
	for (int i = 0; i < depth - 2; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s", close);
	snprintf(buf + n, size - n, "}}");
}

static void
test_change_refuses_nesting_9_deep_while_8_is_fine(void **state)
{
	char buf[1024];
	struct gk_change c;

	(void)state;
	nested_update(buf, sizeof buf, 8, "[", "]", "1");
	decode_ok(&c, buf);
	change_clear(&c);
	nested_update(buf, sizeof buf, 8, "[", "]", "");
	decode_ok(&c, buf);
	change_clear(&c);
	nested_update(buf, sizeof buf, 8, "{\"b\":", "}", "\"x\"");
	decode_ok(&c, buf);
	change_clear(&c);

	nested_update(buf, sizeof buf, 9, "[", "]", "1");
	assert_refused(buf, GK_E_DEPTH);
	nested_update(buf, sizeof buf, 9, "[", "]", "");
	assert_refused(buf, GK_E_DEPTH);
	nested_update(buf, sizeof buf, 9, "{\"b\":", "}", "\"x\"");
	assert_refused(buf, GK_E_DEPTH);
	nested_update(buf, sizeof buf, 200, "[", "]", "");
	assert_refused(buf, GK_E_DEPTH);
}

static void
test_change_refuses_more_than_max_change_bytes(void **state)
{
	size_t n = GK_MAX_CHANGE_BYTES + 1;
	char *buf = malloc(n);
	struct gk_change c;
	struct gk_error err = {0};

	(void)state;
	assert_non_null(buf);
	/* exactly at the limit: a change padded with whitespace */
	memset(buf, ' ', n);
	memcpy(buf, hazard_delete, strlen(hazard_delete));
	assert_int_equal(change_decode(buf, GK_MAX_CHANGE_BYTES, &c, &err),
	                 GK_OK);
	change_clear(&c);
	/* one byte over, refused before it is parsed */
	assert_refused_len(buf, n, GK_E_TOO_LONG);
	memset(buf, 'x', n);
	assert_refused_len(buf, n, GK_E_TOO_LONG);
	free(buf);
}

static void
test_change_refuses_an_unknown_envelope_key(void **state)
{
	(void)state;
	assert_refused_with(hazard_update, "extra", "1", GK_E_UNKNOWN_FIELD);
	assert_refused_with(hazard_update, "seq", "17", GK_E_UNKNOWN_FIELD);
	assert_refused_with(hazard_update, "ID", "\"" ID "\"",
	                    GK_E_UNKNOWN_FIELD);
	assert_refused_with(hazard_update, "", "null", GK_E_UNKNOWN_FIELD);
	assert_refused_with(hazard_update, "fields ", "{}", GK_E_UNKNOWN_FIELD);
}

static void
test_change_refuses_a_missing_envelope_key(void **state)
{
	static const char *const keys[] = {"id",    "node", "hlc",
	                                   "table", "op",   "row"};

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		assert_refused_with(hazard_update, keys[i], NULL, GK_E_MISSING);
		assert_refused_with(stock_append, keys[i], NULL, GK_E_MISSING);
		assert_refused_with(hazard_delete, keys[i], NULL, GK_E_MISSING);
	}
	assert_refused("{}", GK_E_MISSING);
}

static void
test_change_refuses_missing_fields_except_on_a_delete(void **state)
{
	struct gk_change c;

	(void)state;
	assert_refused_with(hazard_insert, "fields", NULL, GK_E_MISSING);
	assert_refused_with(hazard_update, "fields", NULL, GK_E_MISSING);
	assert_refused_with(stock_append, "fields", NULL, GK_E_MISSING);
	decode_ok(&c, hazard_delete);
	change_clear(&c);
}

static void
test_change_refuses_envelope_values_of_the_wrong_type(void **state)
{
	static const char *const keys[] = {"id", "node", "hlc",   "table",
	                                   "op", "row",  "author"};
	static const char *const values[] = {"1",  "null", "true",        "[]",
	                                     "{}", "1.5",  "[\"" ID "\"]"};

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		for (size_t j = 0; j < sizeof values / sizeof values[0]; j++)
			assert_refused_with(stock_append, keys[i], values[j],
			                    GK_E_TYPE);
}

static void
test_change_refuses_fields_that_are_not_an_object(void **state)
{
	static const char *const values[] = {"[]", "\"x\"", "null",
	                                     "1",  "false", "[{}]"};

	(void)state;
	for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
		assert_refused_with(hazard_update, "fields", values[j],
		                    GK_E_TYPE);
		assert_refused_with(hazard_delete, "fields", values[j],
		                    GK_E_TYPE);
	}
}

static void
test_change_refuses_ids_that_are_not_canonical_uuids(void **state)
{
	static const char *const keys[] = {"id", "row", "author"};
	static const char *const values[] = {
	    "\"\"",
	    "\"0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B\"",
	    "\"0193a1b2c3d47e5f8a9b0c1d2e3f4a5b\"",
	    "\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5\"",
	    "\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5bb\"",
	    "\"{0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}\"",
	    "\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5z\"",
	    "\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5\\u00e9\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		for (size_t j = 0; j < sizeof values / sizeof values[0]; j++)
			assert_refused_with(stock_append, keys[i], values[j],
			                    GK_E_ID);
}

static void
test_change_refuses_a_bad_hlc_or_node(void **state)
{
	static const char *const values[] = {
	    "\"\"",
	    "\"019CEBAB87480003\"",
	    "\"019cebab8748000\"",
	    "\"019cebab874800030\"",
	    "\"019cebab8748000g\"",
	    "\"0x9cebab87480003\"",
	    "\" 19cebab87480003\"",
	};

	(void)state;
	for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
		assert_refused_with(hazard_update, "hlc", values[j], GK_E_HLC);
		assert_refused_with(hazard_update, "node", values[j],
		                    GK_E_NODE);
	}
}

static void
test_change_refuses_an_hlc_past_int64_max_but_not_such_a_node(void **state)
{
	struct gk_change c;

	(void)state;
	assert_refused_with(hazard_update, "hlc", "\"8000000000000000\"",
	                    GK_E_HLC);
	assert_refused_with(hazard_update, "hlc", "\"ffffffffffffffff\"",
	                    GK_E_HLC);
	decode_ok(&c, "{\"id\":\"" ID "\",\"node\":\"ffffffffffffffff\","
	              "\"hlc\":\"7fffffffffffffff\",\"row\":\"" ROW "\","
	              "\"table\":\"hazards\",\"op\":\"delete\"}");
	assert_int_equal(c.hlc, INT64_MAX);
	assert_int_equal(c.node, UINT64_MAX);
	change_clear(&c);
}

static void
test_change_refuses_an_unknown_table(void **state)
{
	static const char *const values[] = {
	    "\"hazard\"",   "\"Hazards\"",    "\"\"",    "\"sqlite_master\"",
	    "\"hazards \"", "\"change_log\"", "\"隐患\""};

	(void)state;
	for (size_t j = 0; j < sizeof values / sizeof values[0]; j++)
		assert_refused_with(hazard_update, "table", values[j],
		                    GK_E_UNKNOWN_TABLE);
}

static void
test_change_refuses_an_unknown_op(void **state)
{
	static const char *const values[] = {"\"Insert\"", "\"upsert\"", "\"\"",
	                                     "\"update \"", "\"del\""};

	(void)state;
	for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
		assert_refused_with(hazard_update, "op", values[j], GK_E_OP);
		assert_refused_with(stock_append, "op", values[j], GK_E_OP);
	}
}

static void
test_change_refuses_an_op_not_for_the_table_kind(void **state)
{
	(void)state;
	assert_refused_with(hazard_insert, "op", "\"append\"", GK_E_OP);
	assert_refused_with(stock_append, "op", "\"update\"", GK_E_OP);
	assert_refused_with(stock_append, "op", "\"insert\"", GK_E_OP);
	assert_refused_with(stock_append, "op", "\"delete\"", GK_E_OP);
}

static void
test_change_refuses_a_delete_that_carries_fields(void **state)
{
	(void)state;
	assert_refused_with(hazard_delete, "fields", "{\"deleted\":true}",
	                    GK_E_OP);
	assert_refused_with(hazard_delete, "fields", "{\"title\":\"x\"}",
	                    GK_E_OP);
}

static void
test_change_from_json_borrows_its_object(void **state)
{
	json_error_t jerr;
	json_t *o = json_loads(hazard_update, 0, &jerr);
	json_t *a = json_array();
	struct gk_change c;
	struct gk_error err = {0};

	(void)state;
	assert_non_null(o);
	assert_int_equal(change_from_json(o, &c, &err), GK_OK);
	change_clear(&c);
	assert_int_equal(o->refcount, 1);
	assert_int_equal(change_from_json(a, &c, &err), GK_E_JSON);
	assert_int_equal(a->refcount, 1);
	json_decref(o);
	json_decref(a);
}

/* ---- copies and order ---------------------------------------------------- */

static void
test_change_copy_is_deep(void **state)
{
	struct gk_change src, dst;
	char *before, *after;

	(void)state;
	decode_ok(&src, stock_append);
	assert_int_equal(change_copy(&dst, &src), GK_OK);
	assert_ptr_not_equal(dst.fields, src.fields);
	before = change_encode(&dst);
	json_object_set_new(src.fields, "quantity", json_integer(5));
	json_object_del(src.fields, "depot");
	change_clear(&src);
	after = change_encode(&dst);
	assert_string_equal(before, after);
	assert_string_equal(dst.id, ID);
	assert_string_equal(dst.author, AUTHOR);
	assert_int_equal(dst.hlc, HLC_N);
	assert_int_equal(dst.fields->refcount, 1);
	free(before);
	free(after);
	change_clear(&dst);
}

static void
test_change_cmp_stamp_orders_by_hlc_then_node(void **state)
{
	uint64_t top = UINT64_C(1) << 63;

	(void)state;
	assert_true(change_cmp_stamp(1, 9, 2, 1) < 0);
	assert_true(change_cmp_stamp(2, 1, 1, 9) > 0);
	assert_true(change_cmp_stamp(5, 1, 5, 2) < 0);
	assert_true(change_cmp_stamp(5, 2, 5, 1) > 0);
	assert_int_equal(change_cmp_stamp(5, 2, 5, 2), 0);
	/* unsigned: the high bit is large, not negative */
	assert_true(change_cmp_stamp(top, 0, top - 1, UINT64_MAX) > 0);
	assert_true(change_cmp_stamp(7, top, 7, 1) > 0);
	assert_true(change_cmp_stamp(UINT64_MAX, UINT64_MAX, 0, 0) > 0);
}

/* ---- names --------------------------------------------------------------- */

static void
test_change_op_names(void **state)
{
	(void)state;
	assert_string_equal(change_op_name(GK_OP_INSERT), "insert");
	assert_string_equal(change_op_name(GK_OP_UPDATE), "update");
	assert_string_equal(change_op_name(GK_OP_DELETE), "delete");
	assert_string_equal(change_op_name(GK_OP_APPEND), "append");
	assert_string_equal(change_op_name((enum gk_op)4), "unknown");
	assert_string_equal(change_op_name((enum gk_op) - 1), "unknown");
}

static void
test_code_names_are_the_stable_wire_names(void **state)
{
	static const struct {
		int code;
		const char *name;
	} wire[] = {
	    {GK_OK, "ok"},
	    {GK_E_NOMEM, "no_memory"},
	    {GK_E_JSON, "bad_json"},
	    {GK_E_DEPTH, "too_deep"},
	    {GK_E_TYPE, "bad_type"},
	    {GK_E_UNKNOWN_TABLE, "unknown_table"},
	    {GK_E_UNKNOWN_FIELD, "unknown_field"},
	    {GK_E_TOO_LONG, "too_long"},
	    {GK_E_UTF8, "bad_utf8"},
	    {GK_E_CONTROL, "control_char"},
	    {GK_E_MISSING, "missing_field"},
	    {GK_E_RANGE, "out_of_range"},
	    {GK_E_ENUM, "bad_value"},
	    {GK_E_ID, "bad_id"},
	    {GK_E_HLC, "bad_hlc"},
	    {GK_E_NODE, "bad_node"},
	    {GK_E_TIME, "bad_time"},
	    {GK_E_OP, "bad_op"},
	    {GK_E_SIGN, "wrong_sign"},
	    {GK_E_TRANSITION, "bad_transition"},
	    {GK_E_ROLE, "forbidden_role"},
	    {GK_E_PLAN_REQUIRED, "plan_required"},
	    {GK_E_TRANSFER, "transfer_mismatch"},
	    {GK_E_DUPLICATE_EARN, "duplicate_earn"},
	    {GK_E_INCONSISTENT, "inconsistent"},
	    {GK_E_SKEW, "clock_skew"},
	    {GK_E_DB, "db_error"},
	    {GK_E_SCHEMA_NEWER, "schema_newer"},
	    {GK_E_CORRUPT, "corrupt"},
	    {GK_E_IO, "io_error"},
	    {GK_E_USAGE, "usage"},
	    {GK_E_NOT_FOUND, "not_found"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++)
		assert_string_equal(gk_code_name(wire[i].code), wire[i].name);
}

static void
test_code_names_are_distinct_for_every_code(void **state)
{
	(void)state;
	for (int i = 0; i < GK_CODE_COUNT; i++) {
		const char *a = gk_code_name(i);

		assert_non_null(a);
		if (strcmp(a, "unknown") == 0)
			fail_msg("code %d has no name", i);
		assert_int_equal(
		    strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789_"),
		    strlen(a));
		for (int j = 0; j < i; j++)
			if (strcmp(a, gk_code_name(j)) == 0)
				fail_msg("codes %d and %d are both \"%s\"", j,
				         i, a);
	}
}

static void
test_code_name_outside_the_codes_is_unknown(void **state)
{
	(void)state;
	assert_string_equal(gk_code_name(GK_CODE_COUNT), "unknown");
	assert_string_equal(gk_code_name(GK_CODE_COUNT + 1), "unknown");
	assert_string_equal(gk_code_name(-1), "unknown");
	assert_string_equal(gk_code_name(INT32_MIN), "unknown");
	assert_string_equal(gk_code_name(INT32_MAX), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_change_decodes_an_insert_into_every_member),
	    cmocka_unit_test(
	        test_change_decodes_an_update_with_only_the_fields_it_sets),
	    cmocka_unit_test(
	        test_change_decodes_a_delete_without_fields_as_an_empty_object),
	    cmocka_unit_test(test_change_decodes_an_append_with_its_author),
	    cmocka_unit_test(test_change_decodes_the_ops_of_each_table_kind),
	    cmocka_unit_test(
	        test_change_decode_takes_whitespace_around_the_object),
	    cmocka_unit_test(
	        test_change_encode_is_canonical_sorted_and_compact),
	    cmocka_unit_test(
	        test_change_encode_writes_the_author_only_when_known),
	    cmocka_unit_test(
	        test_change_decode_of_encode_re_encodes_byte_identically),
	    cmocka_unit_test(test_change_to_json_holds_the_same_as_encode),
	    cmocka_unit_test(test_change_refuses_text_that_is_not_json),
	    cmocka_unit_test(
	        test_change_refuses_a_json_array_or_string_at_top_level),
	    cmocka_unit_test(test_change_refuses_trailing_garbage),
	    cmocka_unit_test(test_change_refuses_duplicate_keys),
	    cmocka_unit_test(
	        test_change_refuses_nesting_9_deep_while_8_is_fine),
	    cmocka_unit_test(test_change_refuses_more_than_max_change_bytes),
	    cmocka_unit_test(test_change_refuses_an_unknown_envelope_key),
	    cmocka_unit_test(test_change_refuses_a_missing_envelope_key),
	    cmocka_unit_test(
	        test_change_refuses_missing_fields_except_on_a_delete),
	    cmocka_unit_test(
	        test_change_refuses_envelope_values_of_the_wrong_type),
	    cmocka_unit_test(test_change_refuses_fields_that_are_not_an_object),
	    cmocka_unit_test(
	        test_change_refuses_ids_that_are_not_canonical_uuids),
	    cmocka_unit_test(test_change_refuses_a_bad_hlc_or_node),
	    cmocka_unit_test(
	        test_change_refuses_an_hlc_past_int64_max_but_not_such_a_node),
	    cmocka_unit_test(test_change_refuses_an_unknown_table),
	    cmocka_unit_test(test_change_refuses_an_unknown_op),
	    cmocka_unit_test(test_change_refuses_an_op_not_for_the_table_kind),
	    cmocka_unit_test(test_change_refuses_a_delete_that_carries_fields),
	    cmocka_unit_test(test_change_from_json_borrows_its_object),
	    cmocka_unit_test(test_change_copy_is_deep),
	    cmocka_unit_test(test_change_cmp_stamp_orders_by_hlc_then_node),
	    cmocka_unit_test(test_change_op_names),
	    cmocka_unit_test(test_code_names_are_the_stable_wire_names),
	    cmocka_unit_test(test_code_names_are_distinct_for_every_code),
	    cmocka_unit_test(test_code_name_outside_the_codes_is_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
