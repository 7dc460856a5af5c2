/*
 * hazard.c: the hazard workflow of DESIGN.md, and the status derived from
 * a hazard's events.
 *
 * (derivation: being written)
 */
#include <string.h>

#include "sync.h"

#define ADMIN GK_ROLE_BIT(GK_ROLE_ADMIN)
#define STREET GK_ROLE_BIT(GK_ROLE_STREET)
#define STATION GK_ROLE_BIT(GK_ROLE_STATION)
#define WORKER GK_ROLE_BIT(GK_ROLE_GRID_WORKER)

/* Who may make each transition; 0 = never allowed. The admin may make
 * every allowed transition. */
static const unsigned transitions[GK_HS_COUNT][GK_HS_COUNT] = {
    [GK_HS_NEW][GK_HS_REPORTED] = WORKER | STATION | ADMIN,
    [GK_HS_NEW][GK_HS_RESOLVED] = WORKER | STATION | ADMIN, /* 立查立改 */
    [GK_HS_REPORTED][GK_HS_VERIFIED] = STATION | STREET | ADMIN,
    [GK_HS_VERIFIED][GK_HS_RECTIFYING] = STATION | STREET | ADMIN,
    [GK_HS_RECTIFYING][GK_HS_RESOLVED] = STATION | STREET | ADMIN,
    [GK_HS_RESOLVED][GK_HS_CLOSED] = STREET | ADMIN,
    [GK_HS_REPORTED][GK_HS_REJECTED] = STREET | ADMIN,
    [GK_HS_VERIFIED][GK_HS_REJECTED] = STREET | ADMIN,
    [GK_HS_RESOLVED][GK_HS_RECTIFYING] = STREET | ADMIN, /* reopened */
    [GK_HS_CLOSED][GK_HS_RECTIFYING] = STREET | ADMIN,
};

int
hazard_status_parse(const char *s, enum gk_hstatus *out)
{
	for (int i = 0; i < GK_HS_COUNT; i++)
		if (strcmp(s, gk_hazard_status_words[i]) == 0) {
			*out = (enum gk_hstatus)i;
			return GK_OK;
		}
	return GK_E_ENUM;
}

const char *
hazard_status_name(enum gk_hstatus s)
{
	return (unsigned)s < GK_HS_COUNT ? gk_hazard_status_words[s] : "unknown";
}

unsigned
hazard_transition_roles(enum gk_hstatus from, enum gk_hstatus to)
{
	if ((unsigned)from >= GK_HS_COUNT || (unsigned)to >= GK_HS_COUNT)
		return 0;
	return transitions[from][to];
}
