/*
 * abi1.so: a test-only module, fixed.so built as a module of ABI version
 * 1 (before struct pm_result gained origin): the monitor must still load
 * and run it. Never install it.
 */
#define FIXED_ABI 1
#include "fixed.c"
