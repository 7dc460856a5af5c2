/*
 * session.c: the login.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

int session_load(struct gk_client *c, struct gk_error *err) { (void)c; (void)err; return GK_OK; }
int session_save(struct gk_client *c, const char *server, const char *device, const char *password, json_t *answer, struct gk_error *err) { (void)c; (void)server; (void)device; (void)password; (void)answer; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int session_unlock(struct gk_client *c, const char *password, struct gk_error *err) { (void)c; (void)password; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int session_forget_token(struct gk_client *c, struct gk_error *err) { (void)c; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int session_token_path(const struct gk_client *c, char *buf, size_t size, struct gk_error *err) { (void)c; (void)buf; (void)size; return gk_error_set(err, GK_E_USAGE, "not yet"); }
int session_read_password(const char *prompt, char *buf, size_t size, struct gk_error *err) { (void)prompt; (void)buf; (void)size; return gk_error_set(err, GK_E_USAGE, "not yet"); }
