/* store-sync.c: being written */
#include "gridkeepd.h"
