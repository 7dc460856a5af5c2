/* hashpool.c: being written */
#include "gridkeepd.h"
