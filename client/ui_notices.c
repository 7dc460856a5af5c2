/*
 * ui_notices.c: part of the terminal UI.
 * (Being written: this placeholder only lets the tree build.)
 */
#include "gridkeep.h"
#include "ui.h"
