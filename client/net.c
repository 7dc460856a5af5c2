/*
 * net.c: HTTP requests on libevent.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"

