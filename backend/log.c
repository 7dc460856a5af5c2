/* log.c: being written */
#include "gridkeepd.h"
