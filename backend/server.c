/* server.c: being written */
#include "gridkeepd.h"
int
server_serve_exec(struct gk_server *s, int argc, char **argv,
                  struct gk_error *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	return gk_error_set(err, GK_E_USAGE, "serve: being written");
}
