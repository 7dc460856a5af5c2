/* scope.c: being written */
#include "gridkeepd.h"
