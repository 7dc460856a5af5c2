/* users.c: being written */
#include "gridkeepd.h"
int
users_user_exec(struct gk_server *s, int argc, char **argv,
                struct gk_error *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	return gk_error_set(err, GK_E_USAGE, "user: being written");
}
int
users_device_exec(struct gk_server *s, int argc, char **argv,
                  struct gk_error *err)
{
	(void)s;
	(void)argc;
	(void)argv;
	return gk_error_set(err, GK_E_USAGE, "device: being written");
}
