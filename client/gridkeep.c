/*
 * gridkeep.c: the entry point of the station client, and its commands.
 *
 * Reads the global options, finds the command in the table below and runs
 * it on a struct gk_client. Today the commands look after the local
 * replica (init, check, dump, status); logging in, syncing and the
 * terminal UI come in later issues. This is the one place that prints an
 * error: "gridkeep: message" on stderr, exit status 1; a bad command line
 * prints the usage and exits with 2.
 */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curses.h>
#include <event2/event.h>

#include "gridkeep.h"

static int cmd_init(struct gk_client *, int, char **, struct gk_error *);
static int cmd_check(struct gk_client *, int, char **, struct gk_error *);
static int cmd_dump(struct gk_client *, int, char **, struct gk_error *);
static int cmd_version(struct gk_client *, int, char **, struct gk_error *);
static int cmd_help(struct gk_client *, int, char **, struct gk_error *);

static const struct gk_client_command commands[] = {
    {"init", N_("create the local replica, or migrate it to this version"), 0,
     cmd_init},
    {"check", N_("check the replica's integrity and schema"), 0, cmd_check},
    {"dump", N_("print the replica's records in canonical form"), 0, cmd_dump},
    {"login", N_("log in to a server: login SERVER USER"), 2, cmd_login},
    {"logout", N_("forget the device token (the replica stays)"), 0,
     cmd_logout},
    {"sync", N_("push the outbox and pull the changes of our scope"), 0,
     cmd_sync},
    {"status", N_("show the server, the last sync and the outbox"), 0,
     cmd_status},
    {"export", N_("write a table as CSV, JSON or GeoJSON"), 8, cmd_export},
    {"version", N_("print the versions of gridkeep and its libraries"), 0,
     cmd_version},
    {"help", N_("print this help"), 0, cmd_help},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	const struct gk_action *const *acts;
	int nacts;

	fprintf(f, "%s",
	        _("usage: gridkeep [-d file]            (the terminal UI)\n"
	          "       gridkeep [-d file] command [args]\n"
	          "       gridkeep --version | --help\n"
	          "\n"
	          "commands:\n"));
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		        _(commands[i].summary));
	fprintf(f, "\n%s\n",
	        _("records (gridkeep ACTION --help lists its options):"));
	acts = action_all(&nacts);
	for (int i = 0; i < nacts; i++)
		fprintf(f, "  %-10s %s\n", acts[i]->name, _(acts[i]->title));
	fprintf(f, "\n%s",
	        _("The replica is the -d file, else "
	          "$XDG_DATA_HOME/gridkeep/replica.db,\n"
	          "else ~/.local/share/gridkeep/replica.db.\n"));
}

static int
cmd_init(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	char node[GK_NODE_LEN + 1];
	int created, rec, cli, rc;

	(void)argc;
	(void)argv;
	if ((rc = replica_open(c, REPLICA_CREATE, &created, err)) != GK_OK)
		return rc;
	replica_schema(c, &rec, &cli);
	node_format(c->node, node);
	printf("%s %s%s (schema records %d, client %d)\nnode: %s\n",
	       created ? "created replica" : "replica", c->db_path,
	       created ? "" : " is up to date", rec, cli, node);
	return GK_OK;
}

static int
cmd_check(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	struct gk_error e = {0};
	int rec, cli, rc;

	(void)argc;
	(void)argv;
	if ((rc = replica_open(c, REPLICA_RAW, NULL, err)) != GK_OK)
		return rc;
	if (db_check(c->db, 1, &e) != GK_OK) {
		printf("integrity: FAILED (%s)\n", e.msg);
		return gk_error_set(err, GK_E_CORRUPT, "check: %s is damaged",
		                    c->db_path);
	}
	printf("integrity: ok (integrity_check)\n");
	if ((rc = replica_verify(c, err)) != GK_OK) {
		printf("schema: FAILED\n");
		return rc;
	}
	replica_schema(c, &rec, &cli);
	printf("schema: ok (records %d, client %d)\ncheck: ok\n", rec, cli);
	return GK_OK;
}

static int
cmd_dump(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = replica_open(c, 0, NULL, err)) != GK_OK ||
	    (rc = dump_records(c->db, &text, &len, err)) != GK_OK)
		return rc;
	if (len > 0 && fwrite(text, 1, len, stdout) != len)
		rc = gk_error_set(err, GK_E_IO, "cannot write the dump");
	free(text);
	return rc;
}

static int
cmd_version(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	(void)c;
	(void)argc;
	(void)argv;
	(void)err;
	printf("gridkeep %s (schema records %d, client %d)\n", PACKAGE_VERSION,
	       schema_latest("records"), schema_latest("client"));
	printf("sqlite %s\n", sqlite3_libversion());
	printf("jansson %s\n", JANSSON_VERSION);
	printf("libevent %s\n", event_get_version());
	printf("%s\n", curses_version());
	return GK_OK;
}

static int
cmd_help(struct gk_client *c, int argc, char **argv, struct gk_error *err)
{
	(void)c;
	(void)argc;
	(void)argv;
	(void)err;
	usage(stdout);
	return GK_OK;
}

/*
 * Messages follow the locale (LANG, LC_ALL, LC_MESSAGES, LANGUAGE). A
 * station whose zh_CN.UTF-8 locale is not generated still gets UTF-8
 * and Chinese messages: fall back to C.UTF-8 and keep the language.
 * GRIDKEEP_LOCALEDIR points at uninstalled catalogues (the tests).
 */
static void
client_locale(void)
{
	const char *dir = getenv("GRIDKEEP_LOCALEDIR");

	if (setlocale(LC_ALL, "") == NULL) {
		const char *lang = getenv("LC_ALL");
		char buf[64];

		if (lang == NULL || *lang == '\0')
			lang = getenv("LC_MESSAGES");
		if (lang == NULL || *lang == '\0')
			lang = getenv("LANG");
		if (lang != NULL && getenv("LANGUAGE") == NULL &&
		    strlen(lang) < sizeof buf) {
			strcpy(buf, lang);
			buf[strcspn(buf, ".@")] = '\0';
			setenv("LANGUAGE", buf, 0);
		}
		setlocale(LC_ALL, "C.UTF-8");
	}
	bindtextdomain(PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
}

static const struct gk_client_command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * "gridkeep: message" on stderr. A message may quote what was typed or
 * what a server sent, so C0 and C1 controls (ESC above all) are shown as
 * "?": an error never drives the terminal.
 */
static void
print_error(const char *msg)
{
	const unsigned char *p = (const unsigned char *)msg;

	fputs("gridkeep: ", stderr);
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fputc('?', stderr);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fputc('?', stderr), p++;
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

/* A bad command line: say what, show the usage, exit 2. */
static int
bad_usage(const char *what, const char *arg)
{
	char msg[GK_ERRMSG_MAX];

	snprintf(msg, sizeof msg, "%s%s", what, arg);
	print_error(msg);
	usage(stderr);
	return GK_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	enum { OPT_VERSION = 256 };
	static const struct option longopts[] = {
	    {"database", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0}};
	const struct gk_client_command *cmd;
	const struct gk_action *act;
	struct gk_client c;
	struct gk_error err;
	const char *dflag = NULL;
	int ch, rc, status = GK_EXIT_OK;

	memset(&c, 0, sizeof c);
	memset(&err, 0, sizeof err);
	/* A replica and its token hold people's names and a credential. */
	umask(077);
	client_locale();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			usage(stdout);
			return GK_EXIT_OK;
		case OPT_VERSION:
			return cmd_version(&c, 0, NULL, &err);
		default:
			if (optopt == 'd')
				return bad_usage("-d needs a file", "");
			if (optopt != 0) {
				char opt[3] = {'-', (char)optopt, '\0'};
				return bad_usage("unknown option ", opt);
			}
			return bad_usage("unknown option ", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	cmd = NULL;
	act = NULL;
	if (argc > 0 && (cmd = find_command(argv[0])) == NULL &&
	    (act = action_find(argv[0])) == NULL)
		return bad_usage("unknown command: ", argv[0]);
	if (cmd != NULL && argc - 1 > cmd->maxargs)
		return bad_usage("too many arguments for ", cmd->name);

	c.env = gk_env_system;
	c.db_path = dflag; /* NULL: replica_open finds the default */
	validate_policy_default(&c.policy);
	if (argc == 0)
		rc = ui_main(&c, &err);
	else if (act != NULL)
		rc = cmd_action(&c, act, argc, argv, &err);
	else
		rc = cmd->exec(&c, argc - 1, argv + 1, &err);
	client_close(&c);
	if (rc != GK_OK) {
		print_error(err.msg[0] != '\0' ? err.msg : gk_code_name(rc));
		status = rc == GK_E_USAGE ? GK_EXIT_USAGE : GK_EXIT_FAIL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gridkeep: cannot write the output\n");
		status = GK_EXIT_FAIL;
	}
	return status;
}
