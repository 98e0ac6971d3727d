/*
 * test_log.c: what a log line looks like on its way out: OpenSSH's level
 * prefixes, sshd 9.2's escaping and cuts (the expected bytes are what
 * /usr/sbin/sshd 9.2 wrote for the same text, see docs/logging.md), and
 * one message per line whatever it contains, since fail2ban trusts each
 * line to be one event.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

/* Log through fn into a temporary file (as -E FILE); its bytes. */
static const char *
logged(void (*fn)(void))
{
	static char text[8192];
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

/* 1 if log_vis(src) for that destination is want. */
static int
vis_is(const char *src, int to_stderr, const char *want)
{
	char out[256];

	log_vis(out, sizeof(out), src, to_stderr);
	if (strcmp(out, want) != 0)
		printf("# got: %s\n", out);
	return strcmp(out, want) == 0;
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
field(void)
{
	/* A field goes in as it is: the line is escaped once. */
	logit("Invalid user %s from 192.0.2.1 port 22", "a\\b\xc3\xa9");
}

static void
long_line(void)
{
	char m[1400];

	/* Cut raw at 1023 bytes, escaped within 1023, written as %.1021s. */
	memset(m, 0xff, sizeof(m) - 1);
	m[0] = 'a';
	m[1] = 'b';
	m[sizeof(m) - 1] = '\0';
	logit("%s", m);
}

static void
preauth(void)
{
	char id[LOG_CONN_ID_MAX];

	log_conn_id(
	    id, sizeof(id), "invalid user", "a\\b\xc3\xa9\t", "192.0.2.1", 22);
	logit_preauth("Connection closed by %s", id);
}

static void
preauth_long(void)
{
	char user[400], id[LOG_CONN_ID_MAX];

	memset(user, 'L', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	log_conn_id(id, sizeof(id), "invalid user", user, "192.0.2.1", 22);
	logit_preauth("Connection closed by %s", id);
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
	char small[8], want[1100];
	const char *got;
	size_t n;

	/* syslog: VIS_CSTYLE|VIS_NL|VIS_TAB|VIS_OCTAL, as sshd 9.2. */
	T_CHECK("syslog: backslash doubled", vis_is("a\\b", 0, "a\\\\b"));
	T_CHECK("syslog: tab", vis_is("a\tb", 0, "a\\tb"));
	T_CHECK("syslog: newline", vis_is("a\nb", 0, "a\\nb"));
	T_CHECK("syslog: CR", vis_is("a\rb", 0, "a\\rb"));
	T_CHECK("syslog: DEL",
	    vis_is("a\x7f"
	           "b",
	        0, "a\\177b"));
	T_CHECK("syslog: UTF-8", vis_is("\xc3\xa9", 0, "\\303\\251"));
	T_CHECK("syslog: emoji",
	    vis_is("\xf0\x9f\x98\x80", 0, "\\360\\237\\230\\200"));
	T_CHECK("syslog: not UTF-8",
	    vis_is("a\x80\xff"
	           "b",
	        0, "a\\200\\377b"));
	T_CHECK("syslog: other controls",
	    vis_is("a\ab\bc\vd\fe\x1b"
	           "f\x01g h \"'",
	        0, "a\\ab\\bc\\vd\\fe\\033f\\001g h \"'"));
	/* stderr and -E: VIS_SAFE|VIS_OCTAL, and a newline escaped. */
	T_CHECK("stderr: backslash doubled", vis_is("a\\b", 1, "a\\\\b"));
	T_CHECK("stderr: tab and CR pass", vis_is("a\tb\rc", 1, "a\tb\rc"));
	T_CHECK("stderr: newline escaped", vis_is("a\nb", 1, "a\\012b"));
	T_CHECK("stderr: DEL",
	    vis_is("a\x7f"
	           "b",
	        1, "a\\177b"));
	T_CHECK("stderr: UTF-8", vis_is("\xc3\xa9", 1, "\\303\\251"));
	T_CHECK("stderr: not UTF-8",
	    vis_is("a\x80\xff"
	           "b",
	        1, "a\\200\\377b"));
	T_CHECK("stderr: other controls",
	    vis_is("a\ab\bc\vd\fe\x1b"
	           "f\x01g h",
	        1, "a\ab\bc\\013d\\014e\\033f\\001g h"));
	/* Whole escapes only. */
	n = log_vis(small, 6, "ab\xff", 0);
	T_CHECK("cut: an escape that does not fit is left out",
	    n == 2 && strcmp(small, "ab") == 0);
	n = log_vis(small, 7, "ab\xff", 0);
	T_CHECK("cut: an escape that fits",
	    n == 6 && strcmp(small, "ab\\377") == 0);
	n = log_vis(small, 4, "ab\\", 0);
	T_CHECK("cut: a doubled backslash is whole or absent",
	    n == 2 && strcmp(small, "ab") == 0);

	log_init("sshd", LL_INFO, LOG_AUTH, 0);
	T_CHECK("one line, newline escaped, CR and tab pass",
	    strcmp(logged(forged_line),
	        "Failed x\\012Accepted publickey for root from 192.0.2.9 port "
	        "1 ssh2:\r\t\\177 for bob from 192.0.2.1 port 22 ssh2\r\n") ==
	        0);
	T_CHECK("a field is escaped once",
	    strcmp(logged(field),
	        "Invalid user a\\\\b\\303\\251 from "
	        "192.0.2.1 port 22\r\n") == 0);
	got = logged(long_line);
	memcpy(want, "ab", 2);
	for (n = 0; n < 254; n++)
		memcpy(want + 2 + 4 * n, "\\377", 4);
	memcpy(want + 2 + 4 * 254, "\\37\r\n", 6);
	T_CHECK("long line: sshd's cuts", strcmp(got, want) == 0);
	T_CHECK("preauth: escaped twice, tab passes",
	    strcmp(logged(preauth),
	        "Connection closed by invalid user a\\\\\\\\b\\\\303\\\\251\t "
	        "192.0.2.1 port 22 [preauth]\r\n") == 0);
	got = logged(preauth_long);
	T_CHECK("preauth: the user part cut at 200 bytes",
	    strncmp(got, "Connection closed by invalid user ", 34) == 0 &&
	        strspn(got + 34, "L") == 187 &&
	        strcmp(got + 34 + 187, " 192.0.2.1 port 22 [preauth]\r\n") ==
	            0);
	/* To a file (-E) as to standard error: no "error: ", as sshd. */
	T_CHECK("levels",
	    strcmp(logged(levels),
	        "maximum authentication attempts "
	        "exceeded\r\n") == 0);
	log_set_level(LL_VERBOSE);
	log_set_suffix(" [preauth]");
	T_CHECK("suffix and verbose",
	    strcmp(logged(levels),
	        "maximum authentication attempts exceeded [preauth]\r\n"
	        "Connection from 192.0.2.1 [preauth]\r\n") == 0);
	return T_DONE();
}
