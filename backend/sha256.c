/* sha256.c: being written */
#include "gridkeepd.h"
