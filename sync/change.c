/*
 * change.c: the change, as it travels between replicas, and its JSON form.
 *
 *   {"id": "<uuidv7>", "node": "<16 hex>", "hlc": "<16 hex>",
 *    "table": "hazards", "op": "insert|update|delete|append",
 *    "row": "<uuid>", "author": "<uuid>", "fields": {...}}
 *
 * Decoding checks the envelope only (size, nesting, key set, ids, stamps,
 * table and op); the field values are the validator's business. Encoding
 * is canonical (compact, keys sorted), so the server can store a change's
 * text once and send it as it is on every pull.
 */
#include <stdlib.h>
#include <string.h>

#include "sync.h"

static const char *const op_names[] = {"insert", "update", "delete", "append"};

const char *
change_op_name(enum gk_op op)
{
	return (unsigned)op < 4 ? op_names[op] : "unknown";
}

/* The nesting of v, counting containers only, if v is at level depth. */
static int
json_depth(json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;
	int max = depth;

	if (!json_is_object(v) && !json_is_array(v))
		return depth - 1;
	if (json_is_object(v)) {
		json_object_foreach (v, k, e) {
			int d = json_depth(e, depth + 1);
			if (d > max)
				max = d;
			if (max > GK_MAX_DEPTH)
				return max;
		}
	} else if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			int d = json_depth(e, depth + 1);
			if (d > max)
				max = d;
			if (max > GK_MAX_DEPTH)
				return max;
		}
	}
	return max;
}

int
change_decode(const char *buf, size_t len, struct gk_change *out,
              struct gk_error *err)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > GK_MAX_CHANGE_BYTES)
		return gk_error_set(err, GK_E_TOO_LONG,
		                    "change is %zu bytes, limit %d", len,
		                    GK_MAX_CHANGE_BYTES);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return gk_error_set(err, GK_E_JSON, "not valid JSON at byte %d",
		                    jerr.position);
	rc = change_from_json(root, out, err);
	json_decref(root);
	return rc;
}

/* The string at key in *s and *len; required keys only. err may be NULL,
 * so the code is returned, never read back from err. */
static int
get_str(json_t *obj, const char *key, const char **s, size_t *len,
        struct gk_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return gk_error_set(err, GK_E_MISSING, "change has no \"%s\"",
		                    key);
	if (!json_is_string(v))
		return gk_error_set(err, GK_E_TYPE, "\"%s\" must be a string",
		                    key);
	*len = json_string_length(v);
	*s = json_string_value(v);
	return GK_OK;
}

static int
get_id(json_t *obj, const char *key, char out[GK_ID_LEN + 1],
       struct gk_error *err)
{
	size_t len;
	const char *s;
	int rc;

	if ((rc = get_str(obj, key, &s, &len, err)) != GK_OK)
		return rc;
	if (!uuid_valid(s, len))
		return gk_error_set(err, GK_E_ID,
		                    "\"%s\" is not a lowercase UUID", key);
	memcpy(out, s, GK_ID_LEN + 1);
	return GK_OK;
}

int
change_from_json(json_t *obj, struct gk_change *out, struct gk_error *err)
{
	static const char *const keys[] = {"id", "node", "hlc",    "table",
	                                   "op", "row",  "author", "fields"};
	const char *k, *s;
	json_t *v, *fields;
	size_t len;
	int rc, opi;

	memset(out, 0, sizeof *out);
	if (!json_is_object(obj))
		return gk_error_set(err, GK_E_JSON,
		                    "a change is a JSON object");
	if (json_depth(obj, 1) > GK_MAX_DEPTH)
		return gk_error_set(err, GK_E_DEPTH, "nested deeper than %d",
		                    GK_MAX_DEPTH);
	json_object_foreach (obj, k, v) {
		size_t i;
		for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == sizeof keys / sizeof keys[0])
			return gk_error_set(err, GK_E_UNKNOWN_FIELD,
			                    "unknown key in change");
	}
	if ((rc = get_id(obj, "id", out->id, err)) != GK_OK)
		return rc;
	if ((rc = get_str(obj, "node", &s, &len, err)) != GK_OK)
		return rc;
	if (node_parse(s, len, &out->node) != GK_OK)
		return gk_error_set(err, GK_E_NODE,
		                    "\"node\" must be 16 lowercase hex digits");
	if ((rc = get_str(obj, "hlc", &s, &len, err)) != GK_OK)
		return rc;
	if (hlc_parse(s, len, &out->hlc) != GK_OK)
		return gk_error_set(err, GK_E_HLC,
		                    "\"hlc\" must be 16 lowercase hex digits");
	/* Stamps are stored as SQLite's signed integers: one past 2^63 would
	 * sort before every other (and lies some 4,000 years ahead anyway). */
	if (out->hlc > (uint64_t)INT64_MAX)
		return gk_error_set(err, GK_E_HLC, "\"hlc\" is out of range");
	if ((rc = get_str(obj, "table", &s, &len, err)) != GK_OK)
		return rc;
	if (strlen(s) != len || (out->table = record_table(s)) == NULL)
		return gk_error_set(err, GK_E_UNKNOWN_TABLE, "no such table");
	if ((rc = get_str(obj, "op", &s, &len, err)) != GK_OK)
		return rc;
	for (opi = 0; opi < 4; opi++)
		if (strcmp(s, op_names[opi]) == 0 && strlen(s) == len)
			break;
	if (opi == 4)
		return gk_error_set(err, GK_E_OP, "unknown op");
	out->op = (enum gk_op)opi;
	if ((out->table->kind == GK_APPEND) != (out->op == GK_OP_APPEND))
		return gk_error_set(err, GK_E_OP, "op \"%s\" is not for %s",
		                    op_names[opi], out->table->name);
	if ((rc = get_id(obj, "row", out->row, err)) != GK_OK)
		return rc;
	if ((v = json_object_get(obj, "author")) != NULL &&
	    (rc = get_id(obj, "author", out->author, err)) != GK_OK)
		return rc;

	fields = json_object_get(obj, "fields");
	if (fields == NULL && out->op != GK_OP_DELETE)
		return gk_error_set(err, GK_E_MISSING,
		                    "change has no \"fields\"");
	if (fields != NULL && !json_is_object(fields))
		return gk_error_set(err, GK_E_TYPE,
		                    "\"fields\" must be an object");
	if (out->op == GK_OP_DELETE && fields != NULL &&
	    json_object_size(fields))
		return gk_error_set(err, GK_E_OP, "a delete carries no fields");
	out->fields = fields != NULL ? json_incref(fields) : json_object();
	if (out->fields == NULL)
		return gk_error_set(err, GK_E_NOMEM, "out of memory");
	return GK_OK;
}

json_t *
change_to_json(const struct gk_change *c)
{
	char hlc[GK_HLC_LEN + 1], node[GK_NODE_LEN + 1];
	json_t *o;

	hlc_format(c->hlc, hlc);
	node_format(c->node, node);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "id", c->id,
	              "node", node, "hlc", hlc, "table", c->table->name, "op",
	              change_op_name(c->op), "row", c->row, "fields",
	              c->fields);
	if (o != NULL && c->author[0] != '\0')
		json_object_set_new(o, "author", json_string(c->author));
	return o;
}

char *
change_encode(const struct gk_change *c)
{
	json_t *o = change_to_json(c);
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

int
change_copy(struct gk_change *dst, const struct gk_change *src)
{
	*dst = *src;
	dst->fields = json_deep_copy(src->fields);
	return dst->fields != NULL ? GK_OK : GK_E_NOMEM;
}

void
change_clear(struct gk_change *c)
{
	json_decref(c->fields);
	c->fields = NULL;
}

int
change_cmp_stamp(uint64_t hlc_a, uint64_t node_a, uint64_t hlc_b,
                 uint64_t node_b)
{
	if (hlc_a != hlc_b)
		return hlc_a < hlc_b ? -1 : 1;
	if (node_a != node_b)
		return node_a < node_b ? -1 : 1;
	return 0;
}
