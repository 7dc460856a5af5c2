/* http.c: being written */
#include "gridkeepd.h"
