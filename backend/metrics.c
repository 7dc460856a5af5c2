/* metrics.c: being written */
#include "gridkeepd.h"
