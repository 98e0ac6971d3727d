/*
 * fuzz_quiet.h: a log handler that drops every line, for the targets whose
 * inputs make the code under test log on nearly every run
 * (log_set_handler(fuzz_quiet, NULL)).
 */
#ifndef POSTERN_FUZZ_QUIET_H
#define POSTERN_FUZZ_QUIET_H

#include "log.h"

static void
fuzz_quiet(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

#endif
