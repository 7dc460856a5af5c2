/*
 * cmd_records.c: the record subcommands (one per action) and export.
 *
 * `gridkeep ACTION --input value ... [RECORD]` turns the inputs of an
 * action (actions.c) into long options, so the command line and the
 * terminal UI's forms are the same action checked the same way. On
 * success the id of the record made or acted on is printed, alone on its
 * line, for scripts; a refusal names the option at fault:
 *
 *   gridkeep: issue: --quantity: 7 is more than the 5 on hand
 *
 * `gridkeep export [--format csv|json|geojson] [--output FILE] TABLE`
 * writes one table (export.c); with --output, into a temporary file that
 * is renamed over FILE only once it is complete and on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gridkeep.h"

/* How an input's value is shown in --help. */
static const char *
input_metavar(const struct act_input *in)
{
	switch (in->type) {
	case ACT_INT:
		return "N";
	case ACT_ENUM:
		return "WORD";
	case ACT_REF:
		return "NAME";
	case ACT_TIME:
		return "TIME";
	case ACT_DATE:
		return "YYYY-MM-DD";
	case ACT_BOOL:
		return "";
	default:
		return "TEXT";
	}
}

static void
action_help(const struct gk_action *a, FILE *f)
{
	char upper[32];
	size_t i;

	for (i = 0;
	     a->target != NULL && a->target[i] != '\0' && i + 1 < sizeof upper;
	     i++)
		upper[i] = (char)(a->target[i] >= 'a' && a->target[i] <= 'z'
		                      ? a->target[i] - 'a' + 'A'
		                      : a->target[i]);
	upper[i] = '\0';
	fprintf(f, _("usage: gridkeep %s [options]%s%s\n"), a->name,
	        a->target != NULL ? " " : "", upper);
	fprintf(f, "%s\n", _(a->title));
	if (a->target != NULL)
		fprintf(f, _("%s is a %s: its id, or its name or title\n"),
		        upper, a->target);
	fprintf(f, "\n%s\n", _("options:"));
	for (int k = 0; k < a->ninputs; k++) {
		const struct act_input *in = &a->inputs[k];
		char opt[64];

		snprintf(opt, sizeof opt, "--%s %s", in->name,
		         input_metavar(in));
		fprintf(f, "  %-30s %s%s\n", opt, _(in->help),
		        (in->flags & ACT_REQ) ? _(" (required)") : "");
		if (in->type == ACT_ENUM) {
			fprintf(f, "  %-30s ", "");
			for (int w = 0; in->words[w] != NULL; w++)
				fprintf(f, "%s%s", w ? "|" : "", in->words[w]);
			fputc('\n', f);
		}
	}
	fprintf(f, "  %-30s %s\n", "--help", _("print this help"));
}

/* Prefix the message with the action and the option at fault. */
static void
name_field(const struct gk_action *a, const struct act_result *res,
           struct gk_error *err)
{
	char msg[2 * GK_ERRMSG_MAX];
	size_t n;

	if (err == NULL)
		return;
	if (res->field[0] != '\0' &&
	    (a->target == NULL || strcmp(res->field, a->target) != 0))
		snprintf(msg, sizeof msg, "%s: --%s: %s", a->name, res->field,
		         err->msg);
	else
		snprintf(msg, sizeof msg, "%s: %s", a->name, err->msg);
	/* Cut a long message at a character boundary. */
	if ((n = strlen(msg)) >= sizeof err->msg) {
		n = sizeof err->msg - 1;
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(err->msg, msg, n);
	err->msg[n] = '\0';
}

int
cmd_action(struct gk_client *c, const struct gk_action *a, int argc,
           char **argv, struct gk_error *err)
{
	enum { OPT_HELP = 1, OPT_INPUT = 256 };
	struct option *opts;
	struct act_result res;
	const char *target = NULL;
	json_t *input;
	int ch, rc, idx;

	if ((opts = calloc((size_t)a->ninputs + 2, sizeof *opts)) == NULL ||
	    (input = json_object()) == NULL) {
		free(opts);
		return gk_error_set(err, GK_E_NOMEM, "%s", _("out of memory"));
	}
	for (int i = 0; i < a->ninputs; i++) {
		opts[i].name = a->inputs[i].name;
		opts[i].has_arg = a->inputs[i].type == ACT_BOOL
		                      ? no_argument
		                      : required_argument;
		opts[i].val = OPT_INPUT + i;
	}
	opts[a->ninputs].name = "help";
	opts[a->ninputs].val = OPT_HELP;

	optind = 0; /* GNU: start afresh, main parsed its own options */
	opterr = 0;
	rc = GK_OK;
	while (rc == GK_OK &&
	       (ch = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		if (ch == OPT_HELP || ch == 'h') {
			action_help(a, stdout);
			free(opts);
			json_decref(input);
			return GK_OK;
		}
		if (ch >= OPT_INPUT && ch < OPT_INPUT + a->ninputs) {
			const struct act_input *in = &a->inputs[ch - OPT_INPUT];
			json_object_set_new(
			    input, in->name,
			    json_string(in->type == ACT_BOOL ? "yes" : optarg));
			if (json_object_get(input, in->name) == NULL ||
			    !json_is_string(json_object_get(input, in->name)))
				rc = gk_error_set(err, GK_E_UTF8,
				                  _("%s: --%s: is not valid "
				                    "UTF-8"),
				                  a->name, in->name);
			continue;
		}
		if (ch == ':')
			rc = gk_error_set(err, GK_E_USAGE,
			                  _("%s: %s needs a value"), a->name,
			                  argv[optind - 1]);
		else
			rc =
			    gk_error_set(err, GK_E_USAGE,
			                 _("%s: unknown option %s (gridkeep %s "
			                   "--help lists them)"),
			                 a->name, argv[optind - 1], a->name);
	}
	free(opts);
	if (rc == GK_OK) {
		int npos = argc - optind;

		if (a->target != NULL && npos == 1)
			target = argv[optind];
		else if (a->target != NULL)
			rc = gk_error_set(err, GK_E_USAGE,
			                  _("%s: name one %s (its id, name or "
			                    "title)"),
			                  a->name, a->target);
		else if (npos > 0)
			rc = gk_error_set(err, GK_E_USAGE,
			                  _("%s: unexpected argument %s"),
			                  a->name, argv[optind]);
	}
	if (rc == GK_OK && (rc = replica_open(c, 0, NULL, err)) == GK_OK &&
	    (rc = session_load(c, err)) == GK_OK) {
		rc = action_run(c, a, target, input, &res, err);
		if (rc == GK_OK)
			printf("%s\n", res.row);
		else
			name_field(a, &res, err);
	}
	json_decref(input);
	return rc;
}

/* ---- export ------------------------------------------------------------- */

/* fsync the directory holding path, so the rename survives a crash. */
static void
sync_dir(const char *path)
{
	char dir[GK_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Write into a temporary file beside path, then rename it into place. */
static int
export_to_file(struct gk_client *c, const char *table, enum export_format fmt,
               const char *path, struct gk_error *err)
{
	char tmp[GK_PATH_MAX];
	FILE *f;
	int fd, rc;

	if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= (int)sizeof tmp)
		return gk_error_set(err, GK_E_TOO_LONG, _("path too long: %s"),
		                    path);
	if ((fd = mkstemp(tmp)) < 0)
		return gk_error_set(err, GK_E_IO, _("cannot create %s: %s"),
		                    tmp, strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		rc = gk_error_set(err, GK_E_IO, _("cannot write %s: %s"), tmp,
		                  strerror(errno));
		close(fd);
		unlink(tmp);
		return rc;
	}
	rc = export_table(c, table, fmt, f, err);
	if (rc == GK_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		rc = gk_error_set(err, GK_E_IO, _("cannot write %s: %s"), tmp,
		                  strerror(errno));
	if (fclose(f) != 0 && rc == GK_OK)
		rc = gk_error_set(err, GK_E_IO, _("cannot write %s: %s"), tmp,
		                  strerror(errno));
	if (rc == GK_OK && rename(tmp, path) != 0)
		rc = gk_error_set(err, GK_E_IO, _("cannot rename %s to %s: %s"),
		                  tmp, path, strerror(errno));
	if (rc == GK_OK)
		sync_dir(path);
	if (rc != GK_OK)
		unlink(tmp);
	return rc;
}

int
cmd_export(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	enum export_format fmt = EXPORT_CSV;
	const char *output = NULL;
	char *args[16];
	int n = 0, ch;

	/* main passes the words after "export": give getopt its argv[0]. */
	if (argc + 2 > (int)(sizeof args / sizeof args[0]))
		return gk_error_set(err, GK_E_USAGE, "%s",
		                    _("export: too many arguments"));
	args[n++] = (char *)"export";
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(n, args, ":f:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				fmt = EXPORT_CSV;
			else if (strcmp(optarg, "json") == 0)
				fmt = EXPORT_JSON;
			else if (strcmp(optarg, "geojson") == 0)
				fmt = EXPORT_GEOJSON;
			else
				return gk_error_set(
				    err, GK_E_USAGE,
				    _("export: --format is csv, json or "
				      "geojson"));
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			printf("%s\n", _("usage: gridkeep export [--format "
			                 "csv|json|geojson] [--output FILE] "
			                 "TABLE"));
			return GK_OK;
		case ':':
			return gk_error_set(err, GK_E_USAGE,
			                    _("export: %s needs a value"),
			                    args[optind - 1]);
		default:
			return gk_error_set(err, GK_E_USAGE,
			                    _("export: unknown option %s"),
			                    args[optind - 1]);
		}
	}
	if (n - optind != 1)
		return gk_error_set(err, GK_E_USAGE, "%s",
		                    _("usage: gridkeep export [--format "
		                      "csv|json|geojson] [--output FILE] "
		                      "TABLE"));
	if (record_table(args[optind]) == NULL)
		return export_table(c, args[optind], fmt, stdout, err);
	if (replica_open(c, 0, NULL, err) != GK_OK)
		return err->code;
	if (output != NULL)
		return export_to_file(c, args[optind], fmt, output, err);
	return export_table(c, args[optind], fmt, stdout, err);
}
