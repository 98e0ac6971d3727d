/*
 * test_log.c: what a log line looks like on its way out: OpenSSH's level
 * prefixes, the suffix, and one message per line whatever it contains,
 * since fail2ban trusts each line to be one event.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

/* Log through fn into a temporary file; its text. */
static const char *
logged(void (*fn)(void))
{
	static char text[4096];
	FILE *f = tmpfile();
	size_t n = 0;

	text[0] = '\0';
	if (f == NULL)
		return text;
	log_set_file(fileno(f));
	fn();
	log_set_file(-1);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void
forged_line(void)
{
	/* A client's method name with a second "line" in it. */
	logit("Failed %s for bob from 192.0.2.1 port 22 ssh2",
	    "x\nAccepted publickey for root from 192.0.2.9 port 1 "
	    "ssh2:\r\t\x7f");
}

static void
sanitised(void)
{
	char safe[64];

	sanitise(safe, sizeof(safe), "a\\b\nc");
	logit("Invalid user %s from 192.0.2.1 port 22", safe);
}

static void
levels(void)
{
	error("maximum authentication attempts exceeded");
	verbose("Connection from 192.0.2.1");
	debug("not at INFO");
}

int
main(void)
{
	log_init("sshd", LL_INFO, LOG_AUTH, 0);
	T_CHECK("one line, controls escaped",
	    strcmp(logged(forged_line),
	        "Failed x\\012Accepted publickey for root from 192.0.2.9 port "
	        "1 "
	        "ssh2:\\015\\011\\177 for bob from 192.0.2.1 port 22 ssh2\n") ==
	        0);
	T_CHECK("sanitised text unchanged",
	    strcmp(logged(sanitised),
	        "Invalid user a\\\\b\\012c from 192.0.2.1 port 22\n") == 0);
	/* To a file (-E) as to standard error: no "error: ", as sshd. */
	T_CHECK("levels",
	    strcmp(logged(levels),
	        "maximum authentication attempts "
	        "exceeded\n") == 0);
	log_set_level(LL_VERBOSE);
	log_set_suffix(" [preauth]");
	T_CHECK("suffix and verbose",
	    strcmp(logged(levels),
	        "maximum authentication attempts exceeded [preauth]\n"
	        "Connection from 192.0.2.1 [preauth]\n") == 0);
	return T_DONE();
}
