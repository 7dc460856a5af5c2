/* placeholder: being written */
#include "sync.h"
