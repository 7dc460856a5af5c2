/* config.c: being written */
#include "gridkeepd.h"
