/* store-auth.c: being written */
#include "gridkeepd.h"
