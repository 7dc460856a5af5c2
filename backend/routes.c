/* routes.c: being written */
#include "gridkeepd.h"
