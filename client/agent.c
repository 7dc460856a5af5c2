/*
 * agent.c: the sync agent.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

struct gk_agent *agent_new(struct gk_client *c, struct event_base *base) { (void)c; (void)base; return NULL; }
void agent_free(struct gk_agent *a) { (void)a; }
int agent_sync(struct gk_agent *a, agent_progress_cb progress, agent_done_cb done, void *arg) { (void)a; (void)progress; (void)done; (void)arg; return GK_E_USAGE; }
int agent_busy(const struct gk_agent *a) { (void)a; return 0; }
int agent_auto(struct gk_agent *a, int interval_s, int max_s, agent_progress_cb progress, agent_done_cb done, void *arg) { (void)a; (void)interval_s; (void)max_s; (void)progress; (void)done; (void)arg; return GK_E_USAGE; }
int agent_next_in(const struct gk_agent *a) { (void)a; return -1; }
int agent_login(struct gk_agent *a, const char *server, const char *username, const char *password, const char *device, agent_done_cb done, void *arg) { (void)a; (void)server; (void)username; (void)password; (void)device; (void)done; (void)arg; return GK_E_USAGE; }
int agent_sync_wait(struct gk_client *c, agent_progress_cb progress, void *arg, struct agent_result *r) { (void)c; (void)progress; (void)arg; (void)r; return GK_E_USAGE; }
int agent_login_wait(struct gk_client *c, const char *server, const char *username, const char *password, const char *device, struct agent_result *r) { (void)c; (void)server; (void)username; (void)password; (void)device; (void)r; return GK_E_USAGE; }
int agent_apply_page(struct gk_client *c, json_t *page, int64_t *applied, struct gk_error *err) { (void)c; (void)page; (void)applied; return gk_error_set(err, GK_E_USAGE, "not yet"); }
