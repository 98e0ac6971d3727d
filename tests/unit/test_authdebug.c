/*
 * test_authdebug.c: the SSH_MSG_DEBUG lines of a login's key checks
 * (lib/authdebug.c) and authopts_log's words for them, as sshd 9.2 sends
 * them (tests/integration/test_debug_msgs.py compares with sshd itself).
 */
#include <stdio.h>
#include <string.h>

#include "authdebug.h"
#include "authopts.h"
#include "log.h"
#include "t.h"

static int
line_is(size_t i, const char *want)
{
	const char *got = authdebug_get(i);

	if (got == NULL || strcmp(got, want) != 0) {
		printf("# line %zu: got \"%s\", want \"%s\"\n", i,
		    got != NULL ? got : "(none)", want);
		return 0;
	}
	return 1;
}

static void
log_opts(const char *text, unsigned flags)
{
	struct authopts *o = NULL;

	if (authopts_parse(text, &o, NULL) != 0) {
		T_CHECK("parse options", 0);
		return;
	}
	authopts_log(o, "F:1", flags);
	authopts_free(o);
}

int
main(void)
{
	size_t i;

	log_set_level(LL_INFO);
	log_opts(NULL, AUTHOPTS_LOG_REMOTE);
	T_CHECK("defaults",
	    authdebug_count() == 1 &&
	        line_is(0,
	            "F:1: key options: agent-forwarding port-forwarding pty "
	            "user-rc x11-forwarding"));
	authdebug_clear();

	log_opts("restrict", AUTHOPTS_LOG_REMOTE);
	T_CHECK("restrict", line_is(0, "F:1: key options:"));
	authdebug_clear();

	/* sshd 9.2 has no blank before "expires"; from= is not named. */
	log_opts("restrict,command=\"x\",expiry-time=\"29990101\","
	         "from=\"10.0.0.1\",tunnel=\"3\"",
	    AUTHOPTS_LOG_REMOTE);
	T_CHECK("command, expires, tun",
	    line_is(0, "F:1: key options: commandexpires tun=3"));
	authdebug_clear();

	log_opts("environment=\"A=b\",permitopen=\"h:1\",permitlisten=\"2\"",
	    AUTHOPTS_LOG_REMOTE);
	T_CHECK("environment and permits hidden by the settings",
	    authdebug_count() == 1 &&
	        line_is(0,
	            "F:1: key options: agent-forwarding port-forwarding "
	            "pty user-rc x11-forwarding"));
	authdebug_clear();

	log_opts("environment=\"A=b\",permitopen=\"h:1\",permitlisten=\"2\"",
	    AUTHOPTS_LOG_REMOTE | AUTHOPTS_LOG_ENV | AUTHOPTS_LOG_OPEN |
	        AUTHOPTS_LOG_LISTEN);
	T_CHECK("environment and permits shown",
	    authdebug_count() == 2 &&
	        line_is(0,
	            "F:1: key options: agent-forwarding environment "
	            "permitopen permitlisten port-forwarding pty user-rc "
	            "x11-forwarding") &&
	        line_is(1, "F:1: environment: A=b"));
	authdebug_clear();

	log_opts("restrict", AUTHOPTS_LOG_ENV);
	T_CHECK("not for the client without AUTHOPTS_LOG_REMOTE",
	    authdebug_count() == 0);

	authdebug_add("a\tb\033[2Jc\x7f");
	T_CHECK("control characters replaced", line_is(0, "a?b?[2Jc?"));
	authdebug_clear();

	for (i = 0; i < AUTHDEBUG_MAX_LINES + 10; i++)
		authdebug_add("line %zu", i);
	T_CHECK("at most AUTHDEBUG_MAX_LINES kept",
	    authdebug_count() == AUTHDEBUG_MAX_LINES &&
	        authdebug_get(AUTHDEBUG_MAX_LINES) == NULL);
	authdebug_clear();
	T_CHECK("cleared", authdebug_count() == 0 && authdebug_get(0) == NULL);
	return T_DONE();
}
