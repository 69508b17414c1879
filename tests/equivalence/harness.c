/*
 * One shared object per fixture file and variant (original or rewritten):
 * the fixture's own source (EQUIV_SOURCE), so its static functions can be
 * called too, then the harness runtime, then the file's call spec
 * (EQUIV_CALLS). Both are given as quoted paths on the command line.
 */
#include EQUIV_SOURCE

#include "runtime.h"

#include EQUIV_CALLS
