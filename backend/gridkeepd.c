/*
 * gridkeepd.c: the entry point of the sync server.
 *
 * Reads the global options, finds the command in the table below and runs
 * it on a struct gk_server. The operator's commands live in operator.c and
 * demo.c; the HTTP server joins the table in a later issue. This is the one
 * place that prints an error: "gridkeepd: message" on stderr, exit status
 * 1; a bad command line prints the usage and exits with 2.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <event2/event.h>

#include "gridkeepd.h"

static int gkd_version_exec(struct gk_server *, int, char **,
                            struct gk_error *);
static int gkd_help_exec(struct gk_server *, int, char **, struct gk_error *);

static const struct gkd_command gkd_commands[] = {
    {"init", "create the database, or migrate it to this version", 4,
     operator_init_exec},
    {"check", "check the database and the records' invariants", 0,
     operator_check_exec},
    {"demo", "create the database and fill it with a demo street", 0,
     demo_exec},
    {"backup", "copy the database to FILE while it serves, and check it", 1,
     backup_exec},
    {"unit", "add or import units, or list the tree", 10, units_unit_exec},
    {"serve", "serve the sync API over HTTP", 4, server_serve_exec},
    {"user", "add, disable, list users or set a password", 8, users_user_exec},
    {"device", "list or revoke a user's devices", 3, users_device_exec},
    {"version", "print the versions of gridkeepd and its libraries", 0,
     gkd_version_exec},
    {"help", "print this help", 0, gkd_help_exec},
};
#define GKD_NCOMMANDS (sizeof gkd_commands / sizeof gkd_commands[0])

static void
gkd_usage(FILE *f)
{
	fprintf(f, "usage: gridkeepd [-d file] command\n"
	           "       gridkeepd --version | --help\n"
	           "\n"
	           "commands:\n");
	for (size_t i = 0; i < GKD_NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", gkd_commands[i].name,
		        gkd_commands[i].summary);
	fprintf(f,
	        "\n"
	        "The database is the -d file, else $GRIDKEEPD_DB, else %s\n"
	        "in the current directory.\n",
	        GKD_DEFAULT_DB);
}

static int
gkd_help_exec(struct gk_server *s, int argc, char **argv, struct gk_error *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	(void)err;
	gkd_usage(stdout);
	return GK_OK;
}

static int
gkd_version_exec(struct gk_server *s, int argc, char **argv,
                 struct gk_error *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	(void)err;
	printf("gridkeepd %s (schema records %d, server %d)\n", PACKAGE_VERSION,
	       schema_latest("records"), schema_latest("server"));
	printf("sqlite %s\n", sqlite3_libversion());
	printf("jansson %s\n", JANSSON_VERSION);
	printf("libevent %s\n", event_get_version());
	/* libargon2 has no version call; naming a type proves it is linked. */
	printf("libargon2 linked (%s)\n", argon2_type2string(Argon2_id, 0));
	return GK_OK;
}

static const struct gkd_command *
gkd_find(const char *name)
{
	for (size_t i = 0; i < GKD_NCOMMANDS; i++)
		if (strcmp(gkd_commands[i].name, name) == 0)
			return &gkd_commands[i];
	return NULL;
}

/* A bad command line: say what, show the usage, exit 2. */
static int
gkd_bad_usage(const char *what, const char *arg)
{
	fprintf(stderr, "gridkeepd: %s%s\n", what, arg);
	gkd_usage(stderr);
	return GKD_EXIT_USAGE;
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
	const struct gkd_command *cmd;
	struct gk_server s;
	struct gk_error err;
	const char *dflag = NULL, *env;
	int ch, rc, status = GKD_EXIT_OK;

	memset(&s, 0, sizeof s);
	memset(&err, 0, sizeof err);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dflag = optarg;
			break;
		case 'h':
			gkd_usage(stdout);
			return GKD_EXIT_OK;
		case OPT_VERSION:
			return gkd_version_exec(&s, 0, NULL, &err);
		default:
			if (optopt == 'd')
				return gkd_bad_usage("-d needs a file", "");
			if (optopt != 0) {
				char opt[3] = {'-', (char)optopt, '\0'};
				return gkd_bad_usage("unknown option ", opt);
			}
			return gkd_bad_usage("unknown option ",
			                     argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return gkd_bad_usage("no command", "");
	if ((cmd = gkd_find(argv[0])) == NULL)
		return gkd_bad_usage("unknown command: ", argv[0]);
	if (argc - 1 > cmd->maxargs)
		return gkd_bad_usage("too many arguments for ", cmd->name);

	if (dflag != NULL)
		s.db_path = dflag;
	else if ((env = getenv("GRIDKEEPD_DB")) != NULL && *env != '\0')
		s.db_path = env;
	else
		s.db_path = GKD_DEFAULT_DB;
	s.env = gk_env_system;
	validate_policy_default(&s.policy);

	rc = cmd->exec(&s, argc - 1, argv + 1, &err);
	operator_close(&s);
	if (rc != GK_OK) {
		fprintf(stderr, "gridkeepd: %s\n",
		        err.msg[0] != '\0' ? err.msg : gk_code_name(rc));
		status = GKD_EXIT_FAIL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gridkeepd: cannot write the output\n");
		status = GKD_EXIT_FAIL;
	}
	return status;
}
